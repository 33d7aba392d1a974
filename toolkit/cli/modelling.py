"""Modelling: ``toolkit weak-label``, ``stats``, ``register``, ``train``, ``evaluate`` and ``tag``.

scikit-learn (``toolkit.training``, ``toolkit.evaluation``) is imported by the commands that use
it, so that ``toolkit tag`` starts without it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from toolkit import evalreport, store
from toolkit.cli.common import (DEFAULT_CORPUS, DEFAULT_HELDOUT, DEFAULT_LABELS, DEFAULT_MODEL, SEED, STORE_AND_CORPUS,
                                _command, _corpus_in_project, _err, _in_project, _labelled, _model, _model_file, _name_model,
                                _number, _optional_project,
                                _output_file, _output_folder, _Progress)
from toolkit.cli.quality import cmd_evaluate_active
from toolkit.corpus import load_labels, load_manifests, load_reports
from toolkit.errors import ToolkitError
from toolkit.fileio import atomic_write_text
from toolkit.model import load_model, save_model
from toolkit.register import COPY_WINDOW, format_register, measure_corpus
from toolkit.segment_eval import load_cases, score_cases
from toolkit.stats import corpus_stats, format_stats
from toolkit.tagging import tag_files
from toolkit.weak import apply_rules, combine, label_counts, rule_report, weak_labels


def cmd_weak_label(args: argparse.Namespace) -> int:
    _corpus_in_project(args, "paths")
    if args.data is None and (project := _optional_project(args)) is not None:
        args.data = str(project.labels)
    reports = load_reports(args.paths)
    votes = apply_rules(reports)
    gold = {k: a.label for k, a in store.load(args.data).items() if a.source == "manual"} if args.data else {}
    print(f"{'rule':<18}{'coverage':>9}{'covered':>9}{'conflicts':>10}{'accuracy':>10}{'checked':>9}")
    for s in rule_report(votes, gold):
        acc = f"{s.accuracy:.3f}" if s.accuracy is not None else "-"
        print(f"{s.name:<18}{s.coverage:>9.3f}{s.covered:>9}{s.conflicts:>10}{acc:>10}{s.checked:>9}")
    combined = {sid: combine(v) for sid, v in votes.items()}
    print("combined labels: " + ", ".join(f"{k} {v}" for k, v in label_counts(combined.values()).most_common()))
    if args.out:
        text_of = {s.id: s.text for r in reports for s in r.sentences}
        lines = [json.dumps({"id": sid, "text": text_of[sid], "label": lab, "source": "weak"}, ensure_ascii=False)
                 for sid, lab in sorted(combined.items()) if lab]
        atomic_write_text(args.out, "\n".join(lines) + "\n")
        _err(f"wrote {len(lines)} weak labels to {args.out}")
    return 0


def cmd_register(args: argparse.Namespace) -> int:
    _corpus_in_project(args)
    project = _optional_project(args)
    if args.data is None and project is not None and project.labels.is_file():
        args.data = str(project.labels)
    labels = {k: a.label for k, a in store.load(args.data).items()} if args.data else {}
    result = measure_corpus(load_reports(args.corpus), load_manifests(args.corpus), labels,
                            {Path(p).name: load_reports([p]) for p in args.paths})
    print(format_register(result.columns))
    print(f"\nsentences sharing {COPY_WINDOW} characters with the seed: {len(result.copied)}"
          + "".join(f"\n  {hit}: {text[:60]}" for text, hit in result.copied[:20]))
    misses = result.training.misses()
    print("targets of the training corpus: " + ("all met" if not misses else "missed: " + "; ".join(misses)))
    return 1 if args.check and (misses or result.copied) else 0


def cmd_stats(args: argparse.Namespace) -> int:
    _corpus_in_project(args)
    _in_project(args)
    reports = load_reports(args.corpus)
    records = load_labels(args.data, reports, args.corpus)
    print(format_stats(corpus_stats(reports, records)))
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from toolkit.training import load_params, train_from_store

    _corpus_in_project(args)
    _in_project(args)
    _in_project(args, "out", "model")
    params = load_params(args.config)
    model = train_from_store(args.data, args.corpus, params, folds=args.folds, seed=args.seed, progress=_err,
                             command=args.command_line)
    card = save_model(model, args.out)
    cv = card["cross_validation"]
    _err(f"wrote {args.out} ({card['model_bytes'] / 1e6:.2f} MB) and its card; "
         f"grouped CV macro-F1 {cv.get('macro_f1', '-')}, micro-F1 {cv.get('micro_f1', '-')}")
    return 0


DEFAULT_REPORTS = "reports"


def cmd_evaluate(args: argparse.Namespace) -> int:
    printed_only = next((f"--{m.replace('_', '-')}" for m in ("test_corpus", "segmentation", "no_cv") if getattr(args, m)), None)
    if printed_only and not args.active and args.out is not None:
        raise ToolkitError(f"--out: evaluate {printed_only} prints its figures and writes no reports; leave --out off")
    args.out = args.out or DEFAULT_REPORTS
    if args.active:
        return cmd_evaluate_active(args)
    if args.test_corpus:
        return cmd_evaluate_test(args)
    if args.segmentation:
        return cmd_evaluate_segmentation(args)
    from toolkit.evaluation import GRIDS, evaluate

    models = [m.strip() for m in args.models.split(",") if m.strip()]
    if not models or set(models) - set(GRIDS):
        raise ToolkitError(f"--models {args.models!r}: choose from {', '.join(GRIDS)}")
    project = _optional_project(args)
    if args.heldout is None and project is not None:
        args.heldout = [str(p) for p in (project.annotations / "heldout2", project.heldout) if (p / "labels.jsonl").is_file()]
    heldout = [] if args.heldout in (None, ["none"]) else [Path(h) for h in args.heldout]
    for h in heldout:
        if not (h / "labels.jsonl").is_file() or not (h / "reports").is_dir():
            raise ToolkitError(f"{h}: an untouched test set needs reports/ and labels.jsonl")
    if args.realdev is not None and not args.excerpts:
        raise ToolkitError(f"{args.realdev}: --realdev scores pages fetched into --excerpts FILE; give it too")
    real_pages, excerpts = _real_page_inputs(args, project) if args.excerpts else ([], {})
    if args.no_cv:
        result: dict = {}
    else:
        _corpus_in_project(args)
        _in_project(args)
        reports, examples = _labelled(args.corpus, args.data)
        result = evaluate(examples, weak_labels(reports), folds=args.folds, seed=args.seed, models=models,
                          tokenizers=args.tokenizers, quick=args.quick, progress=_err)
    if heldout or real_pages:
        from toolkit.evaluation import score_model

        choice = _model(args)
        model = load_model(choice.path)
        name = f"{choice.path.name} ({model.version})"
        for h in heldout:
            _err(f"scoring {choice.path} on the untouched test set {h}")
            _, test = _labelled([h / "reports"], str(h / "labels.jsonl"), hint=f"; it is in no report of {h / 'reports'}")
            result.setdefault("untouched", {})[h.name] = {"model": name, **score_model(model, test)}
        if real_pages:
            from toolkit.realdev import REAL_PAGE_SETS, score_pages

            for key, path, rows in real_pages:
                _err(f"scoring {choice.path} on the {REAL_PAGE_SETS[key]} {path}")
                scored = score_pages(model, rows, excerpts)
                for problem in scored["problems"]:
                    _err(problem)
                result[key] = {"model": name, **{k: scored[k] for k in ("pages", "sentences", "problems", "in_context", "alone")}}
        _name_model(choice)
    if args.no_cv:
        print(evalreport.real_text_markdown(result))
        return 0
    for path in evalreport.write(result, args.out):
        _err(f"wrote {path}")
    for name, s in result["comparison"].items():
        print(f"{name:<12} macro-F1 {s['macro_f1']:.3f}  micro-F1 {s['micro_f1']:.3f}")
    return 0


def _real_page_inputs(args: argparse.Namespace, project) -> tuple[list[tuple[str, str, list[dict]]], dict[str, str]]:
    """``(set, rows file, rows)`` for each set of real pages to score, and the pages of the
    excerpts files: ``--realdev`` alone when given, else each of the project's sets
    (:data:`~toolkit.realdev.REAL_PAGE_SETS`) that the excerpts hold pages of. Every file is read
    and checked before any scoring."""
    from toolkit.realdev import REAL_PAGE_SETS, read_all_excerpts, read_rows

    excerpts = read_all_excerpts(args.excerpts)
    if args.realdev is not None:
        return [("realdev", args.realdev, read_rows(args.realdev))], excerpts
    if project is None:
        raise ToolkitError("--excerpts needs --realdev ROWS.jsonl outside an annotation project")
    sets, unscored = [], []
    for key in REAL_PAGE_SETS:
        path = project.annotations / key / "rows.jsonl"
        if path.is_file():
            rows = read_rows(path)
            if {r["url"] for r in rows} & set(excerpts):
                sets.append((key, str(path), rows))
            else:
                unscored.append(path)
    if not sets:
        raise ToolkitError(f"{', '.join(args.excerpts)}: holds no page of the project's real page sets")
    for path in unscored:
        _err(f"{path}: none of its pages is in {', '.join(args.excerpts)}; not scored")
    return sets, excerpts


def cmd_evaluate_test(args: argparse.Namespace) -> int:
    from toolkit.evaluation import score_model

    if not args.test_data:
        raise ToolkitError("--test-corpus needs --test-data LABELS.jsonl (the test set's labels)")
    choice = _model(args)
    model = load_model(choice.path)
    _, examples = _labelled(args.test_corpus, args.test_data, hint="; it is in no report of --test-corpus")
    result = score_model(model, examples)
    c, a = result["confidence"], result["alone"]
    print(f"{result['sentences']} sentences in {result['reports']} reports: accuracy {result['accuracy']:.3f}  "
          f"macro-F1 {result['macro_f1']:.3f}  micro-F1 {result['micro_f1']:.3f}")
    print(f"sentences alone: accuracy {a['accuracy']:.3f}  macro-F1 {a['macro_f1']:.3f}")
    print(f"confidence >= 0.9: {c['high_confidence_share']} of sentences, precision {c['high_confidence_precision']}; "
          f"flagged low: {c['flagged_share']} of sentences, {c['errors_flagged']} of errors")
    print("| label | precision | recall | F1 | support |\n|---|---|---|---|---|")
    for label, row in result["per_label"].items():
        print(f"| {label} | {row['precision']:.3f} | {row['recall']:.3f} | {row['f1']:.3f} | {row['support']} |")
    _name_model(choice)
    return 0


def cmd_evaluate_segmentation(args: argparse.Namespace) -> int:
    result = score_cases(load_cases(args.segmentation))
    print(f"{result['cases']} cases")
    print("| structure | precision | recall | F1 | gold | predicted |\n|---|---|---|---|---|---|")
    for key, name in (("reports", "report starts"), ("headings", "headings"), ("parts", "part starts (problems, plans, closing)")):
        r = result[key]
        print(f"| {name} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} | {r['gold']} | {r['predicted']} |")
    return 0


def cmd_tag(args: argparse.Namespace) -> int:
    progress = _Progress(sys.stderr)
    choice = _model(args)
    run = tag_files(args.paths, sys.stdout, model_path=choice.path, fmt=args.format, output=args.output,
                    min_confidence=args.min_confidence, sentences=args.sentences, jobs=args.jobs, backend=args.backend,
                    scheduler=args.scheduler, dask_timeout=args.dask_timeout, progress=progress.update)
    progress.close()
    _err(run.summary())
    _name_model(choice)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = _command(sub, "weak-label", "Apply the weak-labelling rules; report coverage, conflicts and accuracy per rule.",
                 f"toolkit weak-label {DEFAULT_CORPUS} --out weak.jsonl")
    p.add_argument("paths", nargs="*", metavar="PATH", help=f"report files or directories (default: the project's {DEFAULT_CORPUS})")
    p.add_argument("--data", help=f"manual labels to measure accuracy against (default: the project's {DEFAULT_LABELS}, if any)")
    p.add_argument("--out", type=_output_file, help="write the combined weak labels as jsonl (never into the store)")
    p.set_defaults(func=cmd_weak_label)

    p = _command(sub, "stats", "Counts per label, per report and per source; sentences still unlabelled.",
                 f"toolkit stats --data {DEFAULT_LABELS}",
                 parents=[STORE_AND_CORPUS])
    p.set_defaults(func=cmd_stats)

    p = _command(sub, "register", "Does the corpus read like real reports? Register figures of each corpus beside the seed's.",
                 "toolkit register extra/reports/ --check", parents=[STORE_AND_CORPUS])
    p.add_argument("paths", nargs="*", metavar="PATH", help="more report files or folders to measure beside the project's corpora")
    p.add_argument("--check", action="store_true", help="exit 1 if the training corpus misses a register target "
                   "or a written sentence shares a 12-character stretch with the seed")
    p.set_defaults(func=cmd_register)

    p = _command(sub, "train", "Train on all labelled data; write the model and its card.",
                 f"toolkit train --data {DEFAULT_LABELS} --out {DEFAULT_MODEL}",
                 parents=[STORE_AND_CORPUS])
    p.add_argument("--out", type=_model_file, help=f"model file, ending in .npz, its folder made if missing (default: the project's {DEFAULT_MODEL})")
    p.add_argument("--config", help="JSON file of parameters (see toolkit.params.DEFAULT_PARAMS)")
    p.add_argument("--folds", type=_number(int, 0), default=5, help="grouped CV folds for the card's scores (0 or 1 to skip)")
    p.add_argument("--seed", type=SEED, default=0)
    p.set_defaults(func=cmd_train)

    p = _command(sub, "evaluate", "Grouped K-fold evaluation: model comparison, ablation, learning curve, plots.",
                 "toolkit evaluate --folds 5 --out reports",
                 parents=[STORE_AND_CORPUS])
    p.add_argument("--folds", type=_number(int, 2), default=5)
    p.add_argument("--seed", type=SEED, default=0)
    p.add_argument("--models", default="cnb,logreg", help="learned models to compare (baselines always run; svm too)")
    p.add_argument("--tokenizers", action="store_true", help="also compare the tokenizer backends installed")
    p.add_argument("--heldout", metavar="DIR", nargs="+",
                   help="untouched test sets (reports/ and labels.jsonl) to score --model on (default: the project's "
                        f"annotations/heldout2, in the register of real reports, and {DEFAULT_HELDOUT}; 'none' to skip)")
    p.add_argument("--quick", action="store_true", help="the shipped settings only: one grouped cross-validation, "
                   "without the model comparison, the ablation or the learning curve")
    p.add_argument("--no-cv", action="store_true", help="skip the cross-validation: score --model on the untouched "
                   "sets and, with --excerpts, the real development set, and print the table")
    p.add_argument("--out", type=_output_folder, metavar="DIR",
                   help=f"directory for evaluation.md/.json and PNG plots (default {DEFAULT_REPORTS}; not with --no-cv, "
                        "--test-corpus or --segmentation, which print their figures)")
    p.add_argument("--active", action="store_true", help="instead: the active-learning simulation (shipped model "
                   "settings, 3-4 minutes; --folds sets the hold-out) -> active_learning.md/.json/.png in --out")
    p.add_argument("--active-seeds", type=_number(int, 1), metavar="N", help="runs of the simulation, one per seed (default 8)")
    p.add_argument("--test-corpus", nargs="+", metavar="PATH", help="instead: score a trained model on this labelled "
                   "test set (reports it was not trained on), with --test-data and --model")
    p.add_argument("--test-data", metavar="LABELS.jsonl", help="labels of --test-corpus, in the annotation store's format")
    p.add_argument("--excerpts", metavar="FILE", nargs="+", help="also score --model on the project's sets of real pages "
                   "(annotations/realdev, annotations/realtest) whose pages FILE holds: {url: excerpt} JSON, fetched "
                   "at evaluation time and kept outside the repository; several files are read as one")
    p.add_argument("--realdev", metavar="ROWS.jsonl", help="score these rows instead of the project's sets of real pages")
    p.add_argument("--segmentation", metavar="DIR", help="instead: score the structure reading (report starts, headings, "
                   "part starts) on hand-checked cases (caseNN.txt + caseNN.json), e.g. annotations/segmentation")
    p.add_argument("--model", help=f"model to score on the untouched test set or --test-corpus (default: $TOOLKIT_MODEL, "
                   f"else the project's {DEFAULT_MODEL} if it exists, else the shipped model)")
    p.set_defaults(func=cmd_evaluate)

    p = _command(sub, "tag", "Label every sentence of new reports with a standard section and a confidence.",
                 "toolkit tag report.txt --format md\n  toolkit tag reports/ --format html --output tagged.html\n"
                 "  toolkit tag reports/ --jobs 2 --output tagged.jsonl")
    p.add_argument("paths", nargs="+", metavar="PATH", help="files, directories (*.txt) or - for stdin")
    p.add_argument("--model", help=f"model file (default: $TOOLKIT_MODEL, else the project's {DEFAULT_MODEL} if there is "
                   "a project and it has one, else the shipped model)")
    p.add_argument("--format", choices=("jsonl", "json", "csv", "md", "html"), default="jsonl",
                   help="jsonl, json, csv: one record per sentence; md: one rebuilt report after another; "
                   "html: one self-contained page for the run")
    p.add_argument("--output", type=_output_file, help="write to this file instead of stdout")
    p.add_argument("--min-confidence", type=_number(float, 0.0, 1.0), default=None,
                   help="mark sentences below this as low confidence (default: the threshold fitted with the model)")
    p.add_argument("--sentences", action="store_true",
                   help="each input line is one sentence, classified by its text alone (no report around it)")
    p.add_argument("--jobs", type=_number(int, 1, 1024), default=1, help="worker processes; output is identical to --jobs 1")
    p.add_argument("--backend", choices=("fork", "loky", "dask"), default=None,
                   help="fork (default where available): workers inherit the loaded model; loky: joblib's fresh "
                        "workers; dask: run on a Dask cluster (pip install 'toolkit[dask]')")
    p.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 (default: a local cluster)")
    p.add_argument("--dask-timeout", type=_number(float, 0.1), default=None, metavar="SECONDS",
                   help="with --backend dask: how long to wait for the scheduler, and for a worker when the cluster has "
                        "none, before stopping with an error (default 30)")
    p.set_defaults(func=cmd_tag)
