"""Active learning and label quality: ``toolkit suggest``, ``evaluate --active``, ``audit`` and ``agreement``.

``toolkit.agreement`` and ``toolkit.training`` import scikit-learn: the commands that need them import
them, so that the other commands start without it.
"""

from __future__ import annotations

import argparse
import json

from toolkit import active, audit, store
from toolkit.active import DEFAULT_N, DIVERSITY_THRESHOLD, STRATEGIES, SimulationSettings, simulate, write_report
from toolkit.audit import DEFAULT_TOP, FORMATS, RANKINGS
from toolkit.cli.common import (DEFAULT_CORPUS, DEFAULT_LABELS, DEFAULT_MODEL, SEED, STORE_AND_CORPUS, _command,
                                _corpus_in_project, _emit, _err, _in_project, _labelled, _model, _name_model, _number, _optional_project, _project,
                                _output_file)
from toolkit.corpus import load_reports, read_additions
from toolkit.labelstudio import (DEFAULT_TITLE, MODES, REPORT_TITLE, annotator_emails, default_title, load_settings,
                                 optional_settings, push)
from toolkit.model import load_model


def cmd_suggest(args: argparse.Namespace) -> int:
    _corpus_in_project(args, "paths")
    project = _optional_project(args)
    if args.data is None and project is not None:
        args.data = str(project.labels)
    choice = _model(args)
    model = load_model(choice.path)
    reports = load_reports(args.paths)
    if args.by == "report":
        return _suggest_reports(args, project, choice, model, reports)
    args.n = args.n or DEFAULT_N
    suggestions = active.suggest(reports, model, store.load(args.data).keys() if args.data else (), n=args.n, strategy=args.strategy,
                                 seed=args.seed, threshold=args.diversity)
    tasks = active.suggestion_tasks(reports, suggestions, model.version)
    if args.out or not args.push:
        _emit(json.dumps(tasks, ensure_ascii=False, indent=1) + "\n", args.out)
    _err(active.suggestions_summary(suggestions))
    if args.push:
        settings = load_settings()
        chosen = {c.report for c in suggestions.chosen}
        sources = sorted({"-" if r.source == "<stdin>" else r.source for r in reports if r.id in chosen})
        corpus = args.corpus or str(_project(args).corpus)
        additions = read_additions(sources, corpus, root=project.root if project is not None else None)
        print("\n".join(push(settings, tasks, title=args.title or DEFAULT_TITLE, additions=additions).lines()))
    _name_model(choice)
    return 0


def _suggest_reports(args: argparse.Namespace, project, choice, model, reports) -> int:
    labelled = store.load(args.data).keys() if args.data else ()
    suggestions = active.suggest_reports(reports, model, labelled, n=args.n or active.DEFAULT_REPORTS,
                                         strategy=args.strategy, seed=args.seed)
    tasks = active.report_suggestion_tasks(reports, suggestions, model)
    if args.out or not args.push:
        _emit(json.dumps(tasks, ensure_ascii=False, indent=1) + "\n", args.out)
    _err(active.report_suggestions_summary(suggestions))
    if args.push:
        settings = load_settings()
        sources = sorted({"-" if c.report.source == "<stdin>" else c.report.source for c in suggestions.chosen})
        corpus = args.corpus or str(_project(args).corpus)
        additions = read_additions(sources, corpus, root=project.root if project is not None else None)
        print("\n".join(push(settings, tasks, title=args.title or default_title("report"), additions=additions,
                             by="report").lines()))
    _name_model(choice)
    return 0


def cmd_evaluate_active(args: argparse.Namespace) -> int:
    _corpus_in_project(args)
    _in_project(args)
    _, examples = _labelled(args.corpus, args.data)
    seeds = {} if args.active_seeds is None else {"seeds": args.active_seeds}
    result = simulate(examples, SimulationSettings(seed=args.seed, folds=args.folds, **seeds), progress=_err)
    for path in write_report(result, args.out):
        _err(f"wrote {path}")
    for name, curve in result["curves"].items():
        print(f"{name:<12} macro-F1 {curve['macro_f1_mean'][0]:.3f} -> {curve['macro_f1_mean'][-1]:.3f} "
              f"(+{curve['added'][-1]} sentences), mean over the budget {result['area'][name]['mean_macro_f1']:.3f}")
    print(result["conclusion"])
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    from toolkit.training import load_params

    _corpus_in_project(args)
    _in_project(args)
    reports, examples = _labelled(args.corpus, args.data)
    result = audit.audit(examples, load_params(args.config), folds=args.folds, seed=args.seed, ranking=args.ranking,
                         progress=_err)
    if args.format == "md":
        text = audit.to_markdown(result, args.top)
    elif args.format == "jsonl":
        text = audit.to_jsonl(result, args.top)
    else:
        text = json.dumps(audit.review_tasks(reports, result, args.top), ensure_ascii=False, indent=1) + "\n"
    _emit(text, args.out)
    _err(result.summary())
    return 0


def cmd_agreement(args: argparse.Namespace) -> int:
    from toolkit.agreement import agreement_markdown, export_agreement

    result = export_agreement(args.export, annotator_emails(optional_settings()))
    text = agreement_markdown(result) if args.format == "md" else json.dumps(result, ensure_ascii=False, indent=1) + "\n"
    _emit(text, args.out)
    return 0


def register(sub: argparse._SubParsersAction) -> None:

    p = _command(sub, "suggest", "Rank unlabelled sentences by what the model is least sure of (with a diversity "
                 "guard) and write them as Label Studio tasks with predictions, best first.",
                 "toolkit suggest examples/sample_report.txt --n 20 --strategy margin --out next.json")
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help=f"report files or directories (default: the project's {DEFAULT_CORPUS})")
    p.add_argument("--n", type=_number(int, 1), help=f"sentences to suggest (default {DEFAULT_N}); with --by report, "
                   f"reports (default {active.DEFAULT_REPORTS})")
    p.add_argument("--by", choices=MODES, default="sentence",
                   help="suggest sentences (default) or whole reports, ranked by their least sure sentences, as report tasks")
    p.add_argument("--strategy", choices=STRATEGIES, default="uncertainty",
                   help="uncertainty: lowest top probability; margin: closest top two; entropy; random (default uncertainty)")
    p.add_argument("--diversity", type=_number(float, 0.0, 1.0), default=DIVERSITY_THRESHOLD, metavar="COSINE",
                   help=f"skip a sentence this similar to one already chosen (character shingles; default {DIVERSITY_THRESHOLD}, 1 = off)")
    p.add_argument("--data", "--labels", dest="data",
                   help=f"annotation store: its sentences are never suggested (default: the project's {DEFAULT_LABELS}, if any)")
    p.add_argument("--model", help=f"model file (default: $TOOLKIT_MODEL, else the project's {DEFAULT_MODEL} where it exists, else the shipped model)")
    p.add_argument("--seed", type=SEED, default=0, help="seed of the random strategy")
    p.add_argument("--out", type=_output_file, help="write the tasks here (default stdout unless --push)")
    p.add_argument("--push", action="store_true", help="import the tasks into the Label Studio project (as 'toolkit ls push')")
    p.add_argument("--title", help=f"project title for --push (default {DEFAULT_TITLE!r}; with --by report {REPORT_TITLE!r})")
    p.add_argument("--corpus", metavar="DIR",
                   help="with --push: the reports of pushed sentences not yet in the corpus are copied into DIR/new/ once "
                        f"their tasks are in Label Studio (default: the project's {DEFAULT_CORPUS})")
    p.set_defaults(func=cmd_suggest)

    p = _command(sub, "audit", "Sentences whose label is likely wrong (confident learning on grouped out-of-fold "
                 "probabilities), with the suggested label and context.",
                 f"toolkit audit --data {DEFAULT_LABELS} --top 30 --format ls --out review.json",
                 parents=[STORE_AND_CORPUS])
    p.add_argument("--top", type=_number(int, 0), default=DEFAULT_TOP, help=f"how many to show (default {DEFAULT_TOP}; 0 = all flagged)")
    p.add_argument("--format", choices=FORMATS, default="md", help="md table, jsonl, or ls: Label Studio review tasks")
    p.add_argument("--out", type=_output_file, help="output file (default stdout)")
    p.add_argument("--ranking", choices=RANKINGS, default="self_confidence")
    p.add_argument("--folds", type=_number(int, 2), default=5, help="grouped folds for the out-of-fold probabilities")
    p.add_argument("--seed", type=SEED, default=0)
    p.add_argument("--config", help="JSON file of model parameters (see toolkit.params.DEFAULT_PARAMS)")
    p.set_defaults(func=cmd_audit)

    p = _command(sub, "agreement", "Agreement between annotators in a Label Studio JSON export (annotators named by "
                 "e-mail: the export's, else the server's when LABEL_STUDIO_URL/KEY are set, as ls pull does): Cohen's kappa per pair, "
                 "Fleiss' kappa, Krippendorff's alpha, per label, confusions, disagreements.",
                 "toolkit agreement project-3-at-2026-11-25.json --out agreement.md")
    p.add_argument("export", metavar="EXPORT.json", help="Label Studio export in 'JSON' format")
    p.add_argument("--format", choices=("md", "json"), default="md")
    p.add_argument("--out", type=_output_file, help="output file (default stdout)")
    p.set_defaults(func=cmd_agreement)
