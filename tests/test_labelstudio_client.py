"""Settings and connection errors of :mod:`toolkit.labelstudio.client` (no server needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from toolkit.cli import main
from toolkit.errors import LabelStudioError
from toolkit.labelstudio import Settings, load_settings


def test_settings_from_env_or_config_file_never_show_the_key(tmp_path):
    config = tmp_path / "ls.json"
    config.write_text(json.dumps({"url": "http://127.0.0.1:8080/", "api_key": "file-secret"}), encoding="utf-8")
    settings = load_settings({"TOOLKIT_LS_CONFIG": str(config)})
    assert (settings.url, settings.api_key) == ("http://127.0.0.1:8080", "file-secret")
    assert "file-secret" not in repr(settings)
    settings = load_settings({"TOOLKIT_LS_CONFIG": str(config), "LABEL_STUDIO_API_KEY": "env-secret"})
    assert settings.api_key == "env-secret"
    with pytest.raises(LabelStudioError, match="no Label Studio URL"):
        load_settings({"XDG_CONFIG_HOME": str(tmp_path / "empty")})
    config.write_text("{not json", encoding="utf-8")
    with pytest.raises(LabelStudioError, match="not valid JSON") as info:
        load_settings({"TOOLKIT_LS_CONFIG": str(config)})
    assert "secret" not in str(info.value)
    assert Settings("http://u:pw@host:8080/x", "k").safe_url == "http://host:8080/x"


def test_server_down_is_one_line_without_the_key(tmp_path, monkeypatch, one_line_error):
    from conftest import free_port

    monkeypatch.setenv("LABEL_STUDIO_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "very-secret-key-123")
    assert main(["ls", "pull", "--data", str(tmp_path / "labels.jsonl")]) == 2
    err = one_line_error()
    assert "cannot reach Label Studio" in err and "very-secret-key-123" not in err




NEW_REPORT = Path(__file__).parent / "data" / "loop" / "batch1" / "jiedao.txt"


def test_a_push_that_fails_leaves_the_corpus_as_it_was(tmp_path, monkeypatch, one_line_error):
    from conftest import free_port

    project = tmp_path / "proj"
    (project / "annotations" / "corpus").mkdir(parents=True)
    (project / "notes").mkdir()
    monkeypatch.delenv("TOOLKIT_PROJECT", raising=False)
    monkeypatch.chdir(project / "notes")
    monkeypatch.setenv("LABEL_STUDIO_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "very-secret-key-123")
    assert main(["ls", "push", str(NEW_REPORT), "--weak-rules"]) == 2
    assert "cannot reach Label Studio" in one_line_error()
    assert not (project / "annotations" / "corpus" / "new").exists()
    assert not (project / "notes" / "annotations").exists()
    assert sorted(p.name for p in project.rglob("*")) == ["annotations", "corpus", "notes"]


def test_a_push_of_new_reports_outside_any_project_says_so_and_writes_nothing(tmp_path, monkeypatch, one_line_error):
    monkeypatch.delenv("TOOLKIT_PROJECT", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LABEL_STUDIO_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "k")
    assert main(["ls", "push", str(NEW_REPORT), "--weak-rules"]) == 2
    assert "no annotation project in" in one_line_error()
    assert list(tmp_path.iterdir()) == []
