"""Capture ``ls_export_agreement.json`` from a real Label Studio server (label-studio 1.23.2).

    python tests/data/capture_agreement_export.py http://127.0.0.1:8080 TOKEN

Creates a toolkit project from the first report of the corpus (its first 20 distinct sentences)
and three annotators who label through the API, then writes the project's JSON export
(``completed_by`` as user ids). The scenario ``tests/test_agreement.py`` relies on, by task index:

* annotator 1 (the admin) labels all 20 tasks with the shipped manual label;
* annotator 2 labels all 20 the same, except tasks 2, 5, 9 and 14, where it takes the next
  section in taxonomy order (``overview`` → ``organization`` …, ``other`` → ``overview``);
* annotator 3 labels tasks 0-9 the same as annotator 1, except tasks 1 and 5, where it takes the
  previous section in taxonomy order;
* task 5 therefore has three different labels, tasks 0-9 three annotators and 10-19 two.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from label_studio_sdk import LabelStudio

from capture_exports import annotators, first_report_tasks
from toolkit import store
from toolkit.labelstudio import choice_result, label_config
from toolkit.taxonomy import SLUGS

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SECOND_DIFFERS = {2, 5, 9, 14}
THIRD_DIFFERS = {1, 5}


def shifted(label: str, step: int) -> str:
    return SLUGS[(SLUGS.index(label) + step) % len(SLUGS)]


def main(url: str, token: str) -> None:
    ls = LabelStudio(base_url=url, api_key=token)
    a1, a2, a3 = annotators(ls)
    tasks = first_report_tasks(20)
    gold = {k: a.label for k, a in store.load(ROOT / "annotations" / "labels.jsonl").items()}
    project = ls.projects.create(title=f"toolkit agreement fixture {int(time.time())}", label_config=label_config())
    ls.projects.import_tasks(id=project.id, request=tasks)
    created = {t.data["id"]: t.id for t in ls.tasks.list(project=project.id, fields="task_only")}
    for i, task in enumerate(tasks):
        sid = task["data"]["id"]
        label = gold[sid]
        ls.annotations.create(id=created[sid], result=choice_result(label), completed_by=a1)
        ls.annotations.create(id=created[sid], result=choice_result(shifted(label, 1) if i in SECOND_DIFFERS else label),
                              completed_by=a2)
        if i < 10:
            ls.annotations.create(id=created[sid], result=choice_result(shifted(label, -1) if i in THIRD_DIFFERS else label),
                                  completed_by=a3)
    raw = b"".join(ls.projects.exports.download_sync(id=project.id, export_type="JSON"))
    exported = json.loads(raw)
    order = {t["data"]["id"]: i for i, t in enumerate(tasks)}
    exported.sort(key=lambda t: order[t["data"]["id"]])
    (HERE / "ls_export_agreement.json").write_text(json.dumps(exported, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
