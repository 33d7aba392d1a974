"""Capture the Label Studio exports in this folder from a real server (label-studio 1.23.2).

    python tests/data/capture_exports.py http://127.0.0.1:8080 TOKEN

Creates a toolkit project from the first eight sentences of the corpus, three annotators, and
annotations covering the import edge cases, then writes:

* ``ls_export_ids.json``: ``download_sync`` JSON export (``completed_by`` as an id, predictions
  as ids only);
* ``ls_export_objects.json``: snapshot export with ``completed_by`` objects and full predictions;
* ``ls_export_foreign.json``: an export of another (sentiment) project.

The scenario (sentence index in the project → annotations):

0: a1=organization, a2=organization               → organization (agreement)
1: a1=organization, a2=education                  → conflict (tie)
2: a1=overview, a2=organization, a3=organization  → organization (majority)
3: a1=overview (ground truth), a2=other, a3=other → overview (ground truth first)
4: a1 cancelled (skip button)                      → skipped
5: a1 empty result                                 → skipped
6: a2=culture, later a2=organization (2 annotations) → organization (latest per annotator)
7: no annotation                                   → not in the default export
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from label_studio_sdk import LabelStudio

from toolkit.corpus import load_reports
from toolkit.labelstudio import WeakPredictor, build_tasks, choice_result, label_config

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parents[1] / "annotations" / "corpus" / "reports.txt"


def user(ls: LabelStudio, email: str) -> int:
    for u in ls.users.list():
        if u.email == email:
            return u.id
    return ls.users.create(username=email.split("@")[0], email=email, password="annotator-pass-1").id


def annotators(ls: LabelStudio) -> tuple[int, int, int]:
    """The admin and two more annotators (created on first use)."""
    return ls.users.whoami().id, user(ls, "annotator2@example.com"), user(ls, "annotator3@example.com")


def first_report_tasks(n: int) -> list[dict]:
    """Tasks for the first ``n`` distinct sentences of the corpus's first report."""
    lines = CORPUS.read_text(encoding="utf-8").splitlines()[:17]
    tmp = HERE / "_first_report.txt"
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    try:
        return build_tasks(load_reports([tmp]), WeakPredictor())[:n]
    finally:
        tmp.unlink()


def main(url: str, token: str) -> None:
    ls = LabelStudio(base_url=url, api_key=token)
    a1, a2, a3 = annotators(ls)
    tasks = first_report_tasks(8)
    project = ls.projects.create(title=f"toolkit fixture {int(time.time())}", label_config=label_config())
    ls.projects.import_tasks(id=project.id, request=tasks)
    ids = [t.id for t in ls.tasks.list(project=project.id, fields="task_only")]

    def annotate(i: int, label: str | None, by: int, **kw) -> None:
        ls.annotations.create(id=ids[i], result=choice_result(label) if label else [], completed_by=by, **kw)

    annotate(0, "organization", a1); annotate(0, "organization", a2)
    annotate(1, "organization", a1); annotate(1, "education", a2)
    annotate(2, "overview", a1); annotate(2, "organization", a2); annotate(2, "organization", a3)
    annotate(3, "overview", a1, ground_truth=True); annotate(3, "other", a2); annotate(3, "other", a3)
    annotate(4, None, a1, was_cancelled=True)
    annotate(5, None, a1)
    annotate(6, "culture", a2); time.sleep(1.1); annotate(6, "organization", a2)

    raw = b"".join(ls.projects.exports.download_sync(id=project.id, export_type="JSON"))
    (HERE / "ls_export_ids.json").write_bytes(raw)
    snapshot = ls.projects.exports.create(id=project.id, title="fixture", serialization_options={
        "predictions": {"only_id": False}, "annotations__completed_by": {"only_id": False}})
    while ls.projects.exports.get(id=project.id, export_pk=snapshot.id).status != "completed":
        time.sleep(0.2)
    raw = b"".join(ls.projects.exports.download(id=project.id, export_pk=snapshot.id, export_type="JSON"))
    (HERE / "ls_export_objects.json").write_text(json.dumps(json.loads(raw), ensure_ascii=False, indent=1) + "\n",
                                                 encoding="utf-8")

    foreign = ls.projects.create(title=f"sentiment {int(time.time())}", label_config=(
        '<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text" choice="single">'
        '<Choice value="Positive"/><Choice value="Negative"/></Choices></View>'))
    ls.projects.import_tasks(id=foreign.id, request=[{"text": "工会工作很好。"}])
    task = next(iter(ls.tasks.list(project=foreign.id, fields="task_only")))
    ls.annotations.create(id=task.id, result=[{"from_name": "sentiment", "to_name": "text", "type": "choices",
                                               "value": {"choices": ["Positive"]}}])
    (HERE / "ls_export_foreign.json").write_bytes(
        b"".join(ls.projects.exports.download_sync(id=foreign.id, export_type="JSON")))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
