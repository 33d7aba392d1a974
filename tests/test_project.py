import json
from pathlib import Path

import pytest

from toolkit.cli import main
from toolkit.errors import ProjectError
from toolkit.project import ENV, find_project, optional_project


@pytest.fixture()
def project(tmp_path, monkeypatch):
    """An empty project (a folder holding annotations/) with a subfolder, and no TOOLKIT_PROJECT."""
    monkeypatch.delenv(ENV, raising=False)
    (tmp_path / "proj" / "annotations").mkdir(parents=True)
    (tmp_path / "proj" / "notes" / "deep").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    return tmp_path / "proj"


def test_found_from_the_folder_and_its_parents_as_git_finds_a_repository(project):
    for start in (project, project / "annotations", project / "notes" / "deep"):
        found = find_project(start=start)
        assert found.root == project.resolve()
    assert found.labels == project.resolve() / "annotations" / "labels.jsonl"
    assert found.corpus == project.resolve() / "annotations" / "corpus"
    assert found.model == project.resolve() / "models" / "default.npz"


def test_explicit_folder_then_environment_then_current_folder(project, monkeypatch):
    other = project.parent / "other"
    (other / "annotations").mkdir(parents=True)
    monkeypatch.chdir(project / "notes")
    assert find_project().root == project.resolve()
    monkeypatch.setenv(ENV, str(other))
    assert find_project().root == other.resolve()
    assert find_project(project).root == project.resolve()


def test_none_found_or_a_wrong_one_named_is_one_line_saying_what_is_missing(project, monkeypatch):
    outside = project.parent / "outside"
    with pytest.raises(ProjectError, match="no annotation project in .*outside or its parents") as info:
        find_project(start=outside)
    assert "\n" not in str(info.value) and "--project DIR" in str(info.value) and ENV in str(info.value)
    with pytest.raises(ProjectError, match="--project names a folder without annotations/"):
        find_project(outside)
    monkeypatch.setenv(ENV, str(outside))
    with pytest.raises(ProjectError, match=f"{ENV} names a folder without annotations/"):
        optional_project()
    monkeypatch.delenv(ENV)
    monkeypatch.chdir(outside)
    assert optional_project() is None


@pytest.mark.parametrize("argv", [["stats"], ["train"], ["audit"], ["weak-label", "--data", "../x.jsonl"],
                                  ["evaluate"], ["ls", "import", "export.json"], ["ls", "pull"], ["serve"]])
def test_commands_that_need_a_project_say_so_in_one_line_outside_one(project, monkeypatch, argv, one_line_error):
    monkeypatch.chdir(project.parent / "outside")
    (project.parent / "x.jsonl").touch()  # a store named on the command line exists; the corpus still needs a project
    assert main(argv) == 2
    assert "no annotation project in" in one_line_error()
    assert list((project.parent / "outside").iterdir()) == []


def test_project_option_before_or_after_the_command(project, monkeypatch, capsys):
    from toolkit import store
    from toolkit.store import Annotation

    corpus = project / "annotations" / "corpus"
    corpus.mkdir()
    (corpus / "r.txt").write_text("一、加强组织建设。新发展会员45人。\n", encoding="utf-8")
    from toolkit.corpus import load_reports

    sentence = load_reports([corpus])[0].sentences[1]
    store.save(project / "annotations" / "labels.jsonl", {sentence.id: Annotation(sentence.id, sentence.text, "organization", "manual")})
    monkeypatch.chdir(project.parent / "outside")
    for argv in (["--project", str(project), "stats"], ["stats", "--project", str(project)]):
        assert main(argv) == 0
        assert "1 labelled, 1 unlabelled" in capsys.readouterr().out


def test_train_and_serve_refuse_a_model_name_without_npz_before_any_work(project, monkeypatch, one_line_error):
    monkeypatch.chdir(project)
    for argv in (["train", "--out", "models/m.joblib"], ["serve", "--model", "models/m.joblib", "--port", "0"]):
        assert main(argv) == 2
        assert "ends in .npz" in one_line_error()
    assert not (project / "models").exists()


def test_tasks_are_pre_annotated_by_the_projects_model_else_the_shipped_one(project, monkeypatch, capsys):
    import json
    import shutil

    from toolkit.model import load_model, shipped_model_path

    report = project.parent / "outside" / "r.txt"
    report.write_text("一、加强组织建设。新发展会员45人。\n", encoding="utf-8")
    monkeypatch.chdir(project.parent / "outside")
    assert main(["ls", "export-tasks", str(report)]) == 0
    assert f"({load_model().version})" in capsys.readouterr().err
    models = project / "models"
    models.mkdir()
    for name in ("default.npz", "default.pipeline.joblib"):
        shutil.copy(shipped_model_path().with_name(name), models / name)
    card = json.loads(shipped_model_path().with_suffix(".json").read_text(encoding="utf-8"))
    (models / "default.json").write_text(json.dumps({**card, "model_version": "project-model"}), encoding="utf-8")
    monkeypatch.chdir(project / "notes")
    assert main(["ls", "export-tasks", str(report)]) == 0
    tasks, err = capsys.readouterr()
    assert "(project-model)" in err and json.loads(tasks)[0]["predictions"][0]["model_version"] == "project-model"


# --- which model: one rule for every command -----------------------------------------------------


def _trained_model(project, version="project-model"):
    """A model of the project's own (``models/default.*``): the shipped files with another version."""
    import json
    import shutil

    from toolkit.model import shipped_model_path

    models = project / "models"
    models.mkdir(exist_ok=True)
    for name in ("default.npz", "default.pipeline.joblib"):
        shutil.copy(shipped_model_path().with_name(name), models / name)
    card = json.loads(shipped_model_path().with_suffix(".json").read_text(encoding="utf-8"))
    (models / "default.json").write_text(json.dumps({**card, "model_version": version}), encoding="utf-8")
    return models / "default.npz"


def test_choose_model_given_then_environment_then_project_then_shipped(project, monkeypatch):
    from toolkit.model import shipped_model_path
    from toolkit.project import MODEL_ENV, Project, choose_model

    monkeypatch.delenv(MODEL_ENV, raising=False)
    found = Project(project.resolve())
    assert choose_model(None, None) == choose_model(None, found)
    assert (choose_model(None, found).path, choose_model(None, found).source) == (shipped_model_path(), "shipped")
    own = _trained_model(project)
    assert (choose_model(None, found).path, choose_model(None, found).source) == (found.model, "project")
    assert choose_model(None, None).source == "shipped"
    monkeypatch.setenv(MODEL_ENV, str(project / "elsewhere.npz"))
    assert (choose_model(None, found).path, choose_model(None, found).source) == (project / "elsewhere.npz", "env")
    assert (choose_model("mine.npz", found).path, choose_model("mine.npz", found).source) == (Path("mine.npz"), "given")
    assert own.is_file()


def test_the_choice_is_described_with_its_card(project, monkeypatch):
    from toolkit.project import MODEL_ENV, Project, choose_model

    monkeypatch.delenv(MODEL_ENV, raising=False)
    _trained_model(project, "v-own")
    line = choose_model(None, Project(project.resolve())).describe()
    assert line.startswith(f"model {project.resolve() / 'models' / 'default.npz'} (the project's trained model; version v-own, ")
    assert "taxonomy 2026.11-1" in line and "training sentences" in line
    assert "given with --model" in choose_model(project / "none.npz").describe()


@pytest.mark.parametrize("inside", [True, False])
def test_tag_and_evaluate_use_the_projects_model_inside_it_and_the_shipped_one_outside(project, monkeypatch, capsys, inside):
    from toolkit.model import load_model, shipped_model_path
    from toolkit.project import MODEL_ENV

    monkeypatch.delenv(MODEL_ENV, raising=False)
    own = _trained_model(project, "v-own")
    report = project.parent / "outside" / "r.txt"
    report.write_text("一、加强组织建设。新发展会员45人。\n二、帮扶困难职工。春节期间慰问困难职工20户。\n", encoding="utf-8")
    labels = project.parent / "outside" / "labels.jsonl"
    from toolkit.segment import text_id

    labels.write_text("".join(json.dumps({"id": text_id(s), "text": s, "label": lab, "source": "manual"}, ensure_ascii=False) + "\n"
                              for s, lab in (("新发展会员45人。", "organization"), ("春节期间慰问困难职工20户。", "assistance"))),
                      encoding="utf-8")
    monkeypatch.chdir(project / "notes" if inside else project.parent / "outside")
    expected = "v-own" if inside else load_model().version
    where = f"{own.resolve()} (the project's trained model" if inside else f"{shipped_model_path()} (the shipped model"
    assert main(["tag", str(report), "--format", "json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["model_version"] == expected and f"model {where}; version {expected}" in err
    assert main(["evaluate", "--test-corpus", str(report), "--test-data", str(labels)]) == 0
    assert f"model {where}; version {expected}" in capsys.readouterr().err
    assert main(["suggest", str(report), "--n", "1", "--data", str(labels)]) == 0
    assert f"model {where}; version {expected}" in capsys.readouterr().err
    assert main(["tag", str(report), "--format", "json", "--model", str(shipped_model_path())]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["model_version"] == load_model().version and "(given with --model; version" in err


def test_tag_with_toolkit_project_set_uses_that_projects_model(project, monkeypatch, capsys):
    from toolkit.project import MODEL_ENV

    monkeypatch.delenv(MODEL_ENV, raising=False)
    _trained_model(project, "v-env-project")
    report = project.parent / "outside" / "r.txt"
    report.write_text("一、加强组织建设。新发展会员45人。\n", encoding="utf-8")
    monkeypatch.chdir(project.parent / "outside")
    monkeypatch.setenv(ENV, str(project))
    assert main(["tag", str(report), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["model_version"] == "v-env-project"
    monkeypatch.delenv(ENV)
    assert main(["--project", str(project), "tag", str(report), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["model_version"] == "v-env-project"
