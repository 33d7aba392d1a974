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



@pytest.mark.parametrize("env, message", [
    ({"LABEL_STUDIO_URL": "127.0.0.1:8080"}, "URL (LABEL_STUDIO_URL) must start with http:// or https://"),
    ({"LABEL_STUDIO_API_KEY": "bad key ü"}, "API key (LABEL_STUDIO_API_KEY) is not a token"),
])
def test_a_url_without_scheme_or_a_key_that_is_no_token_is_said_plainly(env, message):
    with pytest.raises(LabelStudioError) as info:
        load_settings({"LABEL_STUDIO_URL": "http://127.0.0.1:8080", "LABEL_STUDIO_API_KEY": "abc123", **env})
    assert message in str(info.value) and "bad key" not in str(info.value)
    assert load_settings({"LABEL_STUDIO_URL": " http://h:8080/ ", "LABEL_STUDIO_API_KEY": " abc123\n"}).api_key == "abc123"


def test_a_key_in_the_config_file_must_be_a_string(tmp_path):
    config = tmp_path / "ls.json"
    config.write_text(json.dumps({"url": "http://127.0.0.1:8080", "api_key": ["file-secret"]}), encoding="utf-8")
    with pytest.raises(LabelStudioError, match=f'API key \\("api_key" in {config}\\) is not a token') as info:
        load_settings({"TOOLKIT_LS_CONFIG": str(config)})
    assert "file-secret" not in str(info.value)


@pytest.mark.parametrize("status, body, said", [
    (403, {"detail": "URL resolves to a reserved network address (block: 127.0.0.0/8)"},
     "answered HTTP 403 while connecting: URL resolves to a reserved network address"),
    (403, {"detail": "Authentication credentials were not provided."}, "refused the API key (HTTP 403)"),
    (401, {"detail": "Invalid token."}, "refused the API key (HTTP 401)"),
    (404, "<!DOCTYPE html><html><script>function handleThemeColor() {}</script></html>",
     "answered HTTP 404 while connecting: a web page, not an answer of Label Studio's API"),
])
def test_what_label_studio_answered_is_said_without_the_key_or_a_page_of_script(status, body, said):
    from label_studio_sdk.core.api_error import ApiError

    from toolkit.labelstudio.client import talking_to

    settings = Settings("http://127.0.0.1:8080", "secret-key-1")
    with pytest.raises(LabelStudioError) as info:
        with talking_to(settings, "connecting"):
            raise ApiError(status_code=status, body=body)
    assert said in str(info.value) and "secret-key-1" not in str(info.value) and "handleThemeColor" not in str(info.value)


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
