"""Shared fixtures: small pieces of the real corpus, and paths."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "annotations" / "corpus" / "reports.txt"
"""The seed corpus: small fixtures come from it."""
CORPUS_DIR = ROOT / "annotations" / "corpus"
"""Everything the shipped model is trained on: the seed and the written corpus."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The examples of docs/*.md (doctests) load the corpus and fit small models, several seconds:
    they count as slow."""
    for item in items:
        if item.path.parent == ROOT / "docs":
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session", autouse=True)
def _cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep the tokenizer's dictionary cache out of the home directory (subprocesses inherit it)."""
    old = os.environ.get("TOOLKIT_CACHE_DIR")
    os.environ["TOOLKIT_CACHE_DIR"] = str(tmp_path_factory.mktemp("toolkit-cache"))
    yield
    if old is None:
        os.environ.pop("TOOLKIT_CACHE_DIR", None)
    else:
        os.environ["TOOLKIT_CACHE_DIR"] = old


@pytest.fixture()
def one_line_error(capsys):
    """Reads what the CLI wrote to stderr, checks it is one ``toolkit: error:`` line, returns it."""

    def read() -> str:
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("toolkit: error: "), err
        return err

    return read


@pytest.fixture(scope="session")
def corpus_path() -> Path:
    return CORPUS


@pytest.fixture(scope="session")
def all_corpus_reports():
    from toolkit.corpus import load_reports

    return load_reports([CORPUS_DIR])


@pytest.fixture(scope="session")
def corpus_lines() -> list[str]:
    return CORPUS.read_text(encoding="utf-8").splitlines()


@pytest.fixture()
def two_reports(tmp_path: Path, corpus_lines: list[str]) -> Path:
    """The first two reports of the corpus (lines 1-46), as a UTF-8 file."""
    path = tmp_path / "two.txt"
    path.write_text("\n".join(corpus_lines[:46]) + "\n", encoding="utf-8")
    return path


# --- a real Label Studio server, once per session, for tests marked "labelstudio" -------------

LABEL_STUDIO_START_TIMEOUT = 300.0
TRAINING_FLAG = "ff_back_dev_1417_start_training_mlbackend_webhooks_250122_long"


@dataclass(frozen=True)
class LabelStudioServer:
    """A running Label Studio: its URL, the admin's API token and the server log."""

    url: str
    token: str
    log: Path
    client: object
    """A label-studio-sdk 2.x ``LabelStudio`` logged in as the admin (closed at session end)."""
    binary: Path
    data_dir: Path
    """``LABEL_STUDIO_BASE_DATA_DIR`` and ``--data-dir`` of the server (``label-studio reset_password`` needs it)."""

    def env(self) -> dict[str, str]:
        """The variables the toolkit reads to reach this server."""
        return {"LABEL_STUDIO_URL": self.url, "LABEL_STUDIO_API_KEY": self.token}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def interruptible() -> None:
    """``preexec_fn`` for a command a test stops with SIGINT, as Ctrl+C does: a runner that starts
    the tests in the background (``nohup … &``) passes SIGINT on ignored, and Python then installs
    no KeyboardInterrupt for it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _label_studio_bin() -> tuple[Path | None, str]:
    explicit = os.environ.get("LABEL_STUDIO_BIN")
    candidate = Path(explicit) if explicit else ROOT / ".venv-ls" / "bin" / "label-studio"
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return candidate, ""
    where = f"LABEL_STUDIO_BIN={explicit}" if explicit else str(candidate)
    return None, f"no Label Studio server to test against ({where} is not an executable); set LABEL_STUDIO_BIN or install label-studio into .venv-ls as .ci/run does"


def _wait_for_health(url: str, proc: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
            pytest.fail(f"Label Studio exited with code {proc.returncode} before answering /health:\n{tail}", pytrace=False)
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail(f"Label Studio did not answer {url}/health within {timeout:.0f} s; log: {log}", pytrace=False)


@pytest.fixture(scope="session")
def label_studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabelStudioServer]:
    """Start ``label-studio`` on 127.0.0.1 with a temporary data dir and a generated token.

    ML backends and webhooks on loopback are allowed (``ML_BLOCK_LOCAL_IP``/``SSRF_PROTECTION_ENABLED``
    off) and "Start training" sends ``START_TRAINING`` to the backend's ``/webhook``. With
    ``CI=true`` a missing binary fails the session instead of skipping.
    """
    binary, reason = _label_studio_bin()
    if binary is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    data = tmp_path_factory.mktemp("label-studio")
    token, port = secrets.token_hex(20), free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY")}
    env.update({
        "LABEL_STUDIO_USERNAME": "admin@example.com",
        "LABEL_STUDIO_PASSWORD": secrets.token_urlsafe(16),
        "LABEL_STUDIO_USER_TOKEN": token,
        "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
        "LABEL_STUDIO_BASE_DATA_DIR": str(data),
        "ML_BLOCK_LOCAL_IP": "false",
        "SSRF_PROTECTION_ENABLED": "false",
        TRAINING_FLAG: "true",
        "COLLECT_ANALYTICS": "false",
        "LATEST_VERSION_CHECK": "false",
    })
    log = data / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(binary), "start", "--no-browser", "--port", str(port), "--internal-host", "127.0.0.1",
             "--data-dir", str(data)],
            env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        _wait_for_health(url, proc, log, LABEL_STUDIO_START_TIMEOUT)
        import httpx
        from label_studio_sdk import LabelStudio

        with httpx.Client(timeout=60) as http:
            yield LabelStudioServer(url, token, log, LabelStudio(base_url=url, api_key=token, httpx_client=http),
                                    binary, data)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


@pytest.fixture(scope="session")
def ls_corpus(tmp_path_factory: pytest.TempPathFactory, corpus_lines: list[str]) -> Path:
    """The first two reports (lines 1-46) as a session-wide file, for Label Studio and backend tests."""
    path = tmp_path_factory.mktemp("ls-corpus") / "two.txt"
    path.write_text("\n".join(corpus_lines[:46]) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def ls_labels(tmp_path_factory: pytest.TempPathFactory, ls_corpus: Path) -> Path:
    """The store's labels of the :func:`ls_corpus` sentences (read-only: copy it before writing)."""
    from toolkit import store
    from toolkit.corpus import load_sentences

    ids = {s.id for s in load_sentences([ls_corpus])}
    records = {k: a for k, a in store.load(ROOT / "annotations" / "labels.jsonl").items() if k in ids}
    path = tmp_path_factory.mktemp("ls-labels") / "labels.jsonl"
    store.save(path, records)
    return path


@pytest.fixture(scope="session")
def ls_model(tmp_path_factory: pytest.TempPathFactory, ls_corpus: Path, ls_labels: Path) -> Path:
    """A real section model trained on :func:`ls_labels` (no cross-validation, to stay fast)."""
    from toolkit.model import save_model
    from toolkit.training import train_from_store

    path = tmp_path_factory.mktemp("ls-model") / "model.npz"
    save_model(train_from_store(ls_labels, [ls_corpus], folds=1), path)
    return path


LABELS = ROOT / "annotations" / "labels.jsonl"


@pytest.fixture(scope="session")
def gold_labels() -> dict[str, str]:
    """The manual labels of the whole corpus, by sentence id."""
    return {r["id"]: r["label"] for r in map(json.loads, LABELS.read_text(encoding="utf-8").splitlines())}


@pytest.fixture(scope="session")
def corpus_reports(corpus_path):
    from toolkit.corpus import load_reports

    return load_reports([corpus_path])


@pytest.fixture()
def small_store(tmp_path: Path, corpus_lines: list[str]) -> tuple[Path, Path]:
    """The first ten real reports (lines 1-161: seven groups, three with near-duplicates) and their labels."""
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(corpus_lines[:161]) + "\n", encoding="utf-8")
    from toolkit.corpus import load_sentences

    ids = {s.id for s in load_sentences([corpus])}
    labels = tmp_path / "labels.jsonl"
    labels.write_text("".join(line + "\n" for line in LABELS.read_text(encoding="utf-8").splitlines()
                              if json.loads(line)["id"] in ids), encoding="utf-8")
    return corpus, labels
