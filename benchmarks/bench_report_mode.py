"""Benchmark: what labelling the seed reports costs in sentence mode and in report mode, and how
long a real Label Studio takes to load and save a 60-sentence report task.

Prints numbers (and, with ``--json``, writes them); it is not a test. Run:

    python benchmarks/bench_report_mode.py                          # action counts only
    LABEL_STUDIO_URL=http://127.0.0.1:8080 LABEL_STUDIO_API_KEY=... \\
        python benchmarks/bench_report_mode.py --timing 5           # and timings against that server
    python benchmarks/bench_report_mode.py --timing 5 --screenshot docs/img/report_task.png \\
        --user admin@example.com --password ...                     # and a screenshot (Playwright + Chromium)

**Actions** (:func:`toolkit.labelstudio.count_actions`): from the current pre-labels (the model
every command uses, :func:`toolkit.project.choose_model`; it was trained on these very reports, so
also, ``unseen``, each report pre-labelled by a model trained the same way on everything but its
group of reports (grouped folds, :func:`unseen_guesses`), and the weak rules) to the stored labels
of ``annotations/labels.jsonl``, on the 17 reports of the seed corpus. Sentence
mode: one task per distinct sentence, a hotkey where the pre-label is wrong, a submit each. Report
mode: one task per report, one selection (a drag across the sentences, or a click on one) and one
hotkey per stretch of consecutive sentences with the same correct label that holds a wrong
pre-label, a submit each. In Label Studio 1.23.2 a drag across pre-labelled sentences selects their
regions and one hotkey relabels them all (checked in Chromium against the real server).

**Timings** (median of ``--timing`` runs, on the server at ``LABEL_STUDIO_URL``): a report task of
60 sentences (the first 60 of a report of the untouched test set), pre-labelled, in a new project: import (``POST
/api/projects/N/import``), load (``GET /api/tasks/ID``, what the labelling page fetches), save an
annotation of 60 regions (``POST /api/tasks/ID/annotations``), and ``toolkit ls pull`` of it into a
scratch store (export and import). With ``--screenshot``, also the time from opening the task in
Chromium until its 60th sentence is on the page.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _measure import CORPUS, ROOT

from toolkit import store
from toolkit.corpus import load_reports
from toolkit.labelstudio import (WeakPredictor, build_report_tasks, count_actions, load_predictor, load_settings, pull,
                                 report_config)
from toolkit.project import choose_model, optional_project

SENTENCES = 60
HELDOUT = ROOT / "annotations" / "heldout" / "reports"


def unseen_guesses(reports, folds: int = 5) -> dict:
    """Pre-labels of the seed reports from models that have not seen them: the seed's report
    groups in ``folds`` grouped folds (near-duplicate reports on one side), each fold pre-labelled by
    a model trained as the shipped one (same parameters and corpora) on everything else. This is
    what a new report gets from the shipped model."""
    import numpy as np
    from sklearn.model_selection import GroupKFold

    from toolkit.examples import load_examples
    from toolkit.labelstudio import ModelPredictor
    from toolkit.training import fit

    _, examples, _ = load_examples([ROOT / "annotations" / "corpus"], ROOT / "annotations" / "labels.jsonl")
    seed = np.array([i for i, corpus in enumerate(examples.corpora) if corpus == "seed"])
    rest = np.array([i for i, corpus in enumerate(examples.corpora) if corpus != "seed"])
    groups = np.array(examples.groups)
    by_report = {r.id: r for r in reports}
    guesses: dict = {}
    for train, test in GroupKFold(n_splits=folds).split(seed, groups=groups[seed]):
        model = fit(examples.subset(np.concatenate([rest, seed[train]]).tolist()))
        held = {by_report[examples.reports[i]].group for i in seed[test] if examples.reports[i] in by_report}
        fold_reports = [r for r in reports if r.group in held]
        guesses.update(ModelPredictor(model).guess(fold_reports))
    return guesses


def actions(unseen: bool = True) -> dict:
    """Action counts for the seed reports, with the model's pre-labels, those of a model that has
    not seen them (``unseen``) and the weak rules'."""
    reports = load_reports([CORPUS])
    gold = {k: a.label for k, a in store.load(ROOT / "annotations" / "labels.jsonl").items()}
    choice = choose_model(None, optional_project(ROOT))
    out = {"reports": len(reports), "model": str(choice.path.relative_to(ROOT) if choice.path.is_relative_to(ROOT) else choice.path)}
    predictions = [("model", load_predictor(choice.path).guess(reports))]
    if unseen:
        predictions.append(("unseen", unseen_guesses(reports)))
    predictions.append(("weak-rules", WeakPredictor().guess(reports)))
    out["variants"] = [name for name, _ in predictions]
    for name, guesses in predictions:
        counted = count_actions(reports, guesses, gold)
        out[name] = {mode: {**a.__dict__, "total": a.total} for mode, a in counted.items()}
        out[name]["ratio"] = round(counted["sentence"].total / counted["report"].total, 1)
    return out


def sixty_sentence_task() -> dict:
    """A report task of the first 60 sentences of the untouched test set's report with the most
    low-confidence sentences among those of 60 sentences or more, pre-labelled by the model (a
    report the model was not trained on, so that ``⚠`` marks show)."""
    reports = [r for r in load_reports([HELDOUT]) if len(r.sentences) >= SENTENCES]
    tasks = build_report_tasks(reports, load_predictor(choose_model(None, optional_project(ROOT)).path))
    task = max(tasks, key=lambda t: sum(s["low"] for s in t["data"]["sentences"][:SENTENCES]))
    data = task["data"]
    data["sentences"] = data["sentences"][:SENTENCES]
    data["n"] = SENTENCES
    data["score"] = min(s["score"] for s in data["sentences"])
    data["low"] = sum(s["low"] for s in data["sentences"])
    task["predictions"][0]["result"] = [r for r in task["predictions"][0]["result"] if int(r["value"]["start"]) < SENTENCES]
    task["predictions"][0]["score"] = data["score"]
    return task


def timings(runs: int, screenshot: Path | None, user: str, password: str) -> dict:
    """Median seconds to import, load, save and pull a 60-sentence report task (and to show it)."""
    import httpx

    settings = load_settings()
    task = sixty_sentence_task()
    head = {"Authorization": f"Token {settings.api_key}"}
    seen: dict[str, list[float]] = {"import": [], "load": [], "save": [], "pull": [], "show": []}
    with httpx.Client(base_url=settings.url, headers=head, timeout=120) as http:
        for run in range(runs):
            title = f"report timing {time.time_ns()}"
            project = http.post("/api/projects", json={"title": title, "label_config": report_config()}).json()["id"]
            start = time.perf_counter()
            http.post(f"/api/projects/{project}/import", json=[task]).raise_for_status()
            seen["import"].append(time.perf_counter() - start)
            (task_id,) = [t["id"] for t in http.get("/api/tasks", params={"project": project}).json()["tasks"]]
            start = time.perf_counter()
            loaded = http.get(f"/api/tasks/{task_id}")
            loaded.raise_for_status()
            seen["load"].append(time.perf_counter() - start)
            assert len(loaded.json()["data"]["sentences"]) == SENTENCES
            if screenshot is not None:
                shown = show(settings.url, project, task_id, user, password, screenshot if run == runs - 1 else None)
                if shown is not None:
                    seen["show"].append(shown)
            result = task["predictions"][0]["result"]
            start = time.perf_counter()
            http.post(f"/api/tasks/{task_id}/annotations", json={"result": result}).raise_for_status()
            seen["save"].append(time.perf_counter() - start)
            with tempfile.TemporaryDirectory() as scratch:
                start = time.perf_counter()
                report = pull(settings, Path(scratch) / "labels.jsonl", project_id=project)
                seen["pull"].append(time.perf_counter() - start)
                assert len(report.added) == len({s["id"] for s in task["data"]["sentences"]})
            http.delete(f"/api/projects/{project}")
    return {k: round(statistics.median(v), 3) for k, v in seen.items() if v} | {"runs": runs, "sentences": SENTENCES}


def show(url: str, project: int, task_id: int, user: str, password: str, path: Path | None) -> float | None:
    """Seconds from opening the task in headless Chromium until its last sentence is on the page;
    with ``path``, a screenshot of it. ``None`` (and a note on stderr) without Playwright or Chromium."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("no screenshot: Playwright is not installed (pip install playwright)", file=sys.stderr)
        return None
    chromium = next((p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if Path(p).exists()), None)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
        page.goto(f"{url}/user/login/")
        page.fill("input[name=email]", user)
        page.fill("input[name=password]", password)
        page.click("button[type=submit], input[type=submit]")
        page.wait_for_load_state("networkidle")
        start = time.perf_counter()
        page.goto(f"{url}/projects/{project}/data?task={task_id}")
        page.wait_for_selector(f'[data-testid="phrase:{SENTENCES - 1}"]', state="attached", timeout=60000)
        seconds = time.perf_counter() - start
        if path is not None:
            page.wait_for_timeout(1500)
            path.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(path))
        browser.close()
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timing", type=int, default=0, metavar="RUNS", help="time a 60-sentence task RUNS times")
    parser.add_argument("--screenshot", type=Path, help="with --timing: also open it in Chromium and save a screenshot")
    parser.add_argument("--user", default="admin@example.com", help="Label Studio login for the screenshot")
    parser.add_argument("--password", default="", help="its password")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--no-unseen", action="store_true", help="skip the models trained without each fold of seed reports (several minutes)")
    args = parser.parse_args()
    figures = {"actions": actions(not args.no_unseen)}
    for name in figures["actions"]["variants"]:
        counted = figures["actions"][name]
        for mode in ("sentence", "report"):
            a = counted[mode]
            print(f"{name:10} {mode:8} {a['tasks']:4} tasks {a['sentences']:4} sentences {a['wrong']:4} wrong: "
                  f"{a['selections']:4} selections {a['keys']:4} keys {a['submits']:4} submits = {a['total']:5} actions")
        print(f"{name:10} sentence mode / report mode: {counted['ratio']}x")
    if args.timing:
        figures["timing"] = timings(args.timing, args.screenshot, args.user, args.password)
        print(json.dumps(figures["timing"]))
    if args.json:
        args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
