"""Talking to a Label Studio server with label-studio-sdk 2.x: settings, push and pull.

URL and key come from ``LABEL_STUDIO_URL`` / ``LABEL_STUDIO_API_KEY`` or a JSON config file; the
key never appears in a message. The SDK and httpx are imported inside the functions that talk to
the server: they take about a second to import, which the commands that never connect do without.
"""

from __future__ import annotations

import base64
import json
import os
import re
import warnings
from collections.abc import Container, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from toolkit.corpus import AddedFile, PendingAdditions
from toolkit.errors import LabelStudioError, ToolkitError
from toolkit.fileio import atomic_write_bytes
from toolkit.labelstudio.config import FROM_NAME, TO_NAME, config_choices, config_controls, guideline_html, label_config
from toolkit.labelstudio.exports import ImportReport, import_tasks, parse_export
from toolkit.labelstudio.reports import (MODES, REPORT_FROM, REPORT_GUIDELINES, REPORT_TO, is_report_task,
                                         mixed_config, pad_for_mixed, report_config)
from toolkit.taxonomy import SLUGS, TAXONOMY_VERSION

DEFAULT_TITLE = "工会工作总结 sections"
REPORT_TITLE = "工会工作总结 reports"
"""The default project of report tasks (``--by report``): a project holds one labelling config."""
ML_TITLE = "toolkit section model"
"""Title of the ML backend in the project; the project's ``model_version`` names it."""
CONFIG_ENV = "TOOLKIT_LS_CONFIG"
IMPORT_BATCH = 500


@dataclass(frozen=True)
class Settings:
    """Where the server is and the key to use; ``repr`` never shows the key."""

    url: str
    api_key: str = field(repr=False)
    origin: str = "environment"

    @property
    def safe_url(self) -> str:
        """The URL without any user:password part, fit for messages."""
        parts = urlsplit(self.url)
        netloc = parts.hostname or ""
        if parts.port:
            netloc += f":{parts.port}"
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def config_file(env: Mapping[str, str] | None = None) -> Path:
    """The settings file: ``$TOOLKIT_LS_CONFIG`` or ``~/.config/toolkit/labelstudio.json``."""
    env = os.environ if env is None else env
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV]).expanduser()
    base = Path(env.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "toolkit" / "labelstudio.json"


def _read_config_file(path: Path, explicit: bool) -> dict:
    if not path.is_file():
        if explicit:
            raise LabelStudioError(f"{path}: config file named by {CONFIG_ENV} does not exist")
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise LabelStudioError(f"{path}: not valid JSON; expected {{\"url\": ..., \"api_key\": ...}}") from None
    if not isinstance(data, dict):
        raise LabelStudioError(f"{path}: expected a JSON object with 'url' and 'api_key'")
    return data


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """URL and key from ``LABEL_STUDIO_URL`` / ``LABEL_STUDIO_API_KEY``, else from the config file."""
    env = os.environ if env is None else env
    path = config_file(env)
    data = _read_config_file(path, explicit=bool(env.get(CONFIG_ENV)))
    url = env.get("LABEL_STUDIO_URL") or data.get("url")
    key = env.get("LABEL_STUDIO_API_KEY") or data.get("api_key")
    if not url:
        raise LabelStudioError(f"no Label Studio URL: set LABEL_STUDIO_URL or \"url\" in {path}")
    if not key:
        raise LabelStudioError(f"no Label Studio API key: set LABEL_STUDIO_API_KEY or \"api_key\" in {path}")
    url_from = "LABEL_STUDIO_URL" if env.get("LABEL_STUDIO_URL") else f"\"url\" in {path}"
    key_from = "LABEL_STUDIO_API_KEY" if env.get("LABEL_STUDIO_API_KEY") else f"\"api_key\" in {path}"
    if not isinstance(url, str) or not re.match(r"https?://[^/\s]", url.strip()):
        raise LabelStudioError(f"the Label Studio URL ({url_from}) must start with http:// or https://, "
                               "as in http://127.0.0.1:8080")
    if not isinstance(key, str) or not key.strip().isascii() or not key.strip().isprintable() or " " in key.strip():
        raise LabelStudioError(f"the Label Studio API key ({key_from}) is not a token: it must be one string "
                               "without spaces, as Label Studio's account page shows it")
    origin = "environment" if env.get("LABEL_STUDIO_URL") and env.get("LABEL_STUDIO_API_KEY") else str(path)
    return Settings(url.strip().rstrip("/"), key.strip(), origin)


def optional_settings(env: Mapping[str, str] | None = None) -> Settings | None:
    """:func:`load_settings`, or ``None`` when neither URL nor key is configured anywhere."""
    env = os.environ if env is None else env
    data = _read_config_file(config_file(env), explicit=bool(env.get(CONFIG_ENV)))
    if not (env.get("LABEL_STUDIO_URL") or env.get("LABEL_STUDIO_API_KEY") or data):
        return None
    return load_settings(env)


def _detail(body: Any, key: str) -> str:
    if isinstance(body, dict):
        errors = body.get("validation_errors")
        if isinstance(errors, dict):
            errors = "; ".join(f"{k}: {' '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in errors.items())
        body = errors or body.get("detail") or body.get("message") or body
    if isinstance(body, str) and _HTML.search(body):
        return ": a web page, not an answer of Label Studio's API (is the URL the server's address, with no path?)"
    text = " ".join(re.sub(r"<[^>]*>", "", str(body)).split())[:240] if body else ""
    return f": {text.replace(key, '***')}" if text else ""


_HTML = re.compile(r"<(!doctype|html|head|body|script)\b", re.IGNORECASE)
"""An answer that is a web page (a wrong path or a proxy's page), whose script would fill the line."""
_KEY_REFUSED = re.compile(r"credential|token|authenticat|api key", re.IGNORECASE)
"""What Label Studio says when a 403 is about the key, not about what was asked."""


@contextmanager
def talking_to(settings: Settings, doing: str) -> Iterator[None]:
    """Turn the SDK's and httpx's exceptions into one-line :class:`LabelStudioError`s without the key."""
    import httpx
    from label_studio_sdk.core.api_error import ApiError

    url = settings.safe_url
    try:
        yield
    except ApiError as exc:
        detail = _detail(exc.body, settings.api_key)
        if exc.status_code == 401 or (exc.status_code == 403 and (not detail or _KEY_REFUSED.search(detail))):
            raise LabelStudioError(f"Label Studio at {url} refused the API key (HTTP {exc.status_code}) while {doing}; "
                                   "check LABEL_STUDIO_API_KEY (and LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN on the server)") from None
        raise LabelStudioError(f"Label Studio at {url} answered HTTP {exc.status_code} while {doing}{detail}") from None
    except httpx.TimeoutException:
        raise LabelStudioError(f"Label Studio at {url} did not answer in time while {doing}") from None
    except httpx.HTTPError as exc:
        raise LabelStudioError(f"cannot reach Label Studio at {url} while {doing} ({type(exc).__name__}); "
                               "is the server running and the URL right?") from None
    except ToolkitError:
        raise
    except ValueError:
        raise LabelStudioError(f"{url} gave an unexpected answer while {doing}; is it a Label Studio server?") from None


@contextmanager
def connect(settings: Settings, timeout: float = 60.0) -> Iterator[Any]:
    """A label-studio-sdk 2.x client whose HTTP connections are closed on exit (no request made yet)."""
    import httpx
    from label_studio_sdk import LabelStudio

    with httpx.Client(timeout=timeout, follow_redirects=True) as http:
        yield LabelStudio(base_url=settings.url, api_key=settings.api_key, timeout=timeout, httpx_client=http)


def find_project(client: Any, settings: Settings, title: str) -> Any | None:
    """The project whose title is exactly ``title``, or ``None``."""
    with talking_to(settings, f"looking for project {title!r}"):
        for project in client.projects.list(title=title):
            if project.title == title:
                return project
    return None


def default_title(by: str = "sentence") -> str:
    """The default project title of a mode: sentence tasks or report tasks."""
    return REPORT_TITLE if by == "report" else DEFAULT_TITLE


def config_for(by: str = "sentence") -> str:
    """The labelling config of a mode: ``sentence``, ``report``, or ``mixed`` for a project that holds both."""
    if by == "mixed":
        return mixed_config()
    return report_config() if by == "report" else label_config()


def instructions_for(by: str = "sentence") -> str:
    """The instructions page of a mode: the report task's own guidelines first, then the taxonomy's."""
    if by != "report":
        return guideline_html()
    import html

    items = "".join(f"<li>{html.escape(zh)}<br>{html.escape(en)}</li>" for zh, en in REPORT_GUIDELINES)
    return f"<ul>{items}</ul>{guideline_html()}"


def get_project(client: Any, settings: Settings, *, title: str | None = None, project_id: int | None = None) -> Any:
    """A project by id or exact title, checked to be a toolkit project (of sentence tasks, report
    tasks or both); :class:`LabelStudioError` otherwise."""
    if project_id is not None:
        with talking_to(settings, f"reading project {project_id}"):
            project = client.projects.get(id=project_id)
    else:
        project = find_project(client, settings, title or DEFAULT_TITLE)
        if project is None:
            raise LabelStudioError(f"Label Studio at {settings.safe_url} has no project titled {title!r}; run 'toolkit ls push' first")
    check_project_config(project, settings)
    return project


def project_modes(xml: str) -> set[str]:
    """Which kinds of toolkit task a labelling config labels: ``sentence``, ``report``, both or none."""
    controls = config_controls(xml)
    modes = set()
    if controls.get(("Choices", FROM_NAME)) == (TO_NAME, SLUGS):
        modes.add("sentence")
    if controls.get(("ParagraphLabels", REPORT_FROM)) == (REPORT_TO, SLUGS):
        modes.add("report")
    return modes


def check_project_config(project: Any, settings: Settings, by: str | None = None) -> None:
    """Refuse a project whose labelling config is not the toolkit's, or (with ``by``) does not
    label that kind of task."""
    xml = project.label_config or "<View/>"
    modes = project_modes(xml)
    if not modes:
        found = config_choices(xml)
        what = "no toolkit choices" if found is None else f"choices {', '.join(found[2]) or '(none)'}"
        raise LabelStudioError(f"project {project.id} {project.title!r} at {settings.safe_url} has another labelling "
                               f"config ({what}); use another --title")
    if by is not None and by not in modes:
        other = "report" if by == "sentence" else "sentence"
        raise LabelStudioError(f"project {project.id} {project.title!r} at {settings.safe_url} holds {other} tasks "
                               f"(its labelling config is for {other} tasks), not {by} tasks; use another --title "
                               f"(default for --by {by}: {default_title(by)!r})")


def task_key(data: Any) -> str:
    """What makes a task the same task again: a sentence task's sentence id, a report task's ``report:`` id."""
    if not isinstance(data, dict):
        return ""
    if is_report_task(data):
        return f"report:{data.get('report')}" if data.get("report") else ""
    return str(data.get("id") or "")


def existing_sentence_ids(client: Any, settings: Settings, project_id: int) -> set[str]:
    """Keys (:func:`task_key`) of the tasks already in a project: sentence ids and ``report:`` ids."""
    with talking_to(settings, f"listing tasks of project {project_id}"):
        return {key for t in client.tasks.list(project=project_id, fields="task_only", page_size=1000)
                if (key := task_key(t.data))}


@dataclass
class PushReport:
    """What :func:`push` did."""

    project_id: int
    title: str
    created: bool = False
    config_updated: bool = False
    imported: int = 0
    already_there: int = 0
    ml_backend: str = ""
    added: list[AddedFile] = field(default_factory=list)

    def lines(self) -> list[str]:
        how = "created" if self.created else ("config updated" if self.config_updated else "found")
        out = [a.line() for a in self.added]
        out += [f"project {self.project_id} {self.title!r} ({how}): {self.imported} tasks imported, "
               f"{self.already_there} already there"]
        if self.ml_backend:
            out.append(self.ml_backend)
        return out


def ensure_project(client: Any, settings: Settings, title: str, by: str = "sentence") -> tuple[Any, bool, bool]:
    """Find the project by title or create it for sentence or report tasks (``by``);
    ``(project, created, config_updated)``."""
    config = config_for(by)
    project = find_project(client, settings, title)
    if project is None:
        with talking_to(settings, f"creating project {title!r}"):
            project = client.projects.create(title=title, label_config=config, description=f"toolkit, taxonomy {TAXONOMY_VERSION}, {by} tasks",
                                             expert_instruction=instructions_for(by), show_instruction=True,
                                             show_collab_predictions=True, show_skip_button=True)
        return project, True, False
    check_project_config(project, settings, by)
    if project.label_config != config and project_modes(project.label_config or "") == {by}:
        with talking_to(settings, f"updating the labelling config of project {project.id}"):
            client.projects.update(id=project.id, label_config=config, expert_instruction=instructions_for(by))
        return project, False, True
    return project, False, False


def connect_ml_backend(client: Any, settings: Settings, project_id: int, url: str,
                       auth: tuple[str, str] | None = None) -> str:
    """Connect the ML backend at ``url`` to the project (once) and let opened tasks fetch its predictions.

    Label Studio 1.23 asks a backend for a task's prediction when the task is opened in the
    labelling stream (``/api/projects/N/next``) only if the project's ``model_version`` is the
    *title* of a connected backend and ``show_collab_predictions`` is on; it then calls ``/predict``
    for the tasks that have no prediction of the backend's current model version (so after a
    retrain, not for tasks pushed with that very version). Both are set here. Label Studio also
    creates a webhook to ``<url>/webhook`` for annotation events; with basic auth its
    ``Authorization`` header is set too, since webhooks do not use the backend's credentials.
    """
    with talking_to(settings, f"listing ML backends of project {project_id}"):
        known = [b for b in client.ml.list(project=project_id) if (b.url or "").rstrip("/") == url.rstrip("/")]
    if known:
        backend = known[0]
        message = f"ML backend {url} already connected (id {backend.id})"
    else:
        kwargs: dict[str, Any] = {}
        if auth:
            kwargs = {"auth_method": "BASIC_AUTH", "basic_auth_user": auth[0], "basic_auth_pass": auth[1]}
        with talking_to(settings, f"connecting ML backend {url}"):
            backend = client.ml.create(project=project_id, url=url, title=ML_TITLE, is_interactive=False, **kwargs)
        message = f"ML backend {url} connected (id {backend.id})"
    with talking_to(settings, f"turning on predictions when a task is opened in project {project_id}"):
        client.projects.update(id=project_id, model_version=backend.title or ML_TITLE, show_collab_predictions=True,
                               evaluate_predictions_automatically=True)
    if auth:
        hooks = _authorize_webhooks(client, settings, project_id, url, auth)
        message += f"; {hooks} webhook(s) given its basic auth" if hooks else "; no webhook for annotation events"
    return message


def _authorize_webhooks(client: Any, settings: Settings, project_id: int, url: str, auth: tuple[str, str]) -> int:
    target = url.rstrip("/") + "/webhook"
    header = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    count = 0
    with talking_to(settings, f"setting the webhook's credentials in project {project_id}"):
        for hook in client.webhooks.list(project=project_id):
            if (hook.url or "").rstrip("/") == target:
                client.webhooks.update(id=hook.id, headers={**(hook.headers or {}), "Authorization": header})
                count += 1
    return count


def push(
    settings: Settings,
    tasks: Sequence[dict],
    *,
    title: str = DEFAULT_TITLE,
    ml_backend: str | None = None,
    ml_auth: tuple[str, str] | None = None,
    additions: PendingAdditions | None = None,
    by: str = "sentence",
) -> PushReport:
    """Create or find the project, set its config, import the tasks not already there, connect a backend.

    ``additions`` (new report files, read and checked by :func:`toolkit.corpus.read_additions`) are
    copied into the corpus only once their tasks are in Label Studio: a push that fails before
    (server down, wrong key) leaves the corpus as it was. ``by`` is the kind of task: one per
    sentence, or one per report (:mod:`toolkit.labelstudio.reports`), each kind in a project of its
    own unless the project's config labels both (:func:`~toolkit.labelstudio.reports.mixed_config`):
    then each task carries the other kind's keys, empty."""
    with connect(settings) as client:
        project, created, updated = ensure_project(client, settings, title, by)
        report = PushReport(project.id, project.title, created, updated)
        existing = set() if created else existing_sentence_ids(client, settings, project.id)
        new = [t for t in tasks if task_key(t["data"]) not in existing]
        if project_modes(project.label_config or "") == set(MODES):
            new = [pad_for_mixed(t) for t in new]
        report.already_there = len(tasks) - len(new)
        try:
            for start in range(0, len(new), IMPORT_BATCH):
                batch = new[start:start + IMPORT_BATCH]
                with talking_to(settings, f"importing tasks into project {project.id}"):
                    client.projects.import_tasks(id=project.id, request=batch)
                report.imported += len(batch)
        finally:
            if additions is not None and (report.imported or report.already_there or not new):
                report.added = additions.write()
        if ml_backend:
            try:
                report.ml_backend = connect_ml_backend(client, settings, project.id, ml_backend, ml_auth)
            except LabelStudioError as exc:  # the tasks and the corpus files are in; say so, not only what failed
                done = f"{report.imported} task(s) imported into project {project.id}"
                if report.added:
                    done += f" and {len(report.added)} report file(s) added to the corpus"
                raise LabelStudioError(f"{done}, then: {exc}") from None
    return report


def user_emails(client: Any, settings: Settings) -> dict[int, str]:
    """``{user id: email}`` so integer ``completed_by`` values name people; empty if not allowed."""
    try:
        with talking_to(settings, "listing users"):
            return {u.id: u.email for u in client.users.list() if getattr(u, "email", None)}
    except LabelStudioError:
        return {}


def annotator_emails(settings: Settings | None) -> dict[int, str]:
    """``{user id: e-mail}`` of the Label Studio server in ``settings``, to name the annotators of an
    export that gives them as ids (``toolkit agreement``), as ``toolkit ls pull`` does; empty when no
    server is configured, and empty with a :class:`UserWarning` saying why when it cannot be asked."""
    if settings is None:
        return {}
    try:
        with connect(settings, timeout=20.0) as client:
            with talking_to(settings, "listing users"):
                return {u.id: u.email for u in client.users.list() if getattr(u, "email", None)}
    except LabelStudioError as exc:
        warnings.warn(f"annotators are named by their Label Studio ids: {exc}", UserWarning, stacklevel=2)
        return {}


def download_export(client: Any, settings: Settings, project_id: int) -> bytes:
    """The project's JSON export (annotated tasks, skipped ones included) as bytes."""
    with talking_to(settings, f"exporting project {project_id}"):
        return b"".join(client.projects.exports.download_sync(id=project_id, export_type="JSON"))


def pull(
    settings: Settings,
    labels_path: str | os.PathLike,
    *,
    title: str | None = DEFAULT_TITLE,
    project_id: int | None = None,
    save_export: str | os.PathLike | None = None,
    corpus_ids: Container[str] | None = None,
) -> ImportReport:
    """Export the project's annotations and merge them into the store as :func:`import_export`
    does; sentence tasks, report tasks or both. ``corpus_ids``: the sentence ids of the corpus, so
    that a label on a report sentence that is no longer in it is listed and not imported.
    ``save_export``: also keep the raw export there, once the store has taken it."""
    with connect(settings) as client:
        project = get_project(client, settings, title=title, project_id=project_id)
        raw = download_export(client, settings, project.id)
        users = user_emails(client, settings)
    where = f"project {project.id} at {settings.safe_url}"
    report = import_tasks(parse_export(raw, where), labels_path, where=where, users=users, project=project.id,
                          corpus_ids=corpus_ids)
    if save_export is not None:  # once the store took it: a refused pull writes nothing
        atomic_write_bytes(save_export, raw)
    return report
