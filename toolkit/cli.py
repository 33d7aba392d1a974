"""Command-line interface: parses arguments and calls the library; nothing else lives here.

Every error the library raises as :class:`~toolkit.errors.ToolkitError` becomes one line on
stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import gc
import os
import json
import logging
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

from toolkit import __version__
from toolkit.errors import ToolkitError

EXIT_INPUT = 2
DEFAULT_CORPUS = "annotations/corpus"
DEFAULT_HELDOUT = "annotations/heldout"
DEFAULT_LABELS = "annotations/labels.jsonl"
DEFAULT_MODEL = "models/default.npz"
"""The project's files (:class:`toolkit.project.Project`): defaults, under the project's root."""

Handler = Callable[[argparse.Namespace], int]


def _quiet_jieba() -> None:
    from toolkit.tokenizer import quiet_jieba_logging

    quiet_jieba_logging()


def _command(sub: argparse._SubParsersAction, name: str, help_: str, example: str) -> argparse.ArgumentParser:
    return sub.add_parser(
        name,
        help=help_,
        description=help_,
        epilog=f"example:\n  {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


# --- segment ---------------------------------------------------------------------------------


def cmd_segment(args: argparse.Namespace) -> int:
    from toolkit.corpus import load_reports, write_sentences

    reports = load_reports(args.paths)
    n = write_sentences(reports, sys.stdout, args.format)
    groups = len({r.group for r in reports})
    print(f"{len(reports)} reports, {groups} groups, {n} sentences", file=sys.stderr)
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (``toolkit: error: …``, exit 2) instead of usage and message."""

    def error(self, message: str):  # noqa: D102 - argparse's hook
        sub = self.prog.removeprefix("toolkit").strip()
        self.exit(EXIT_INPUT, f"toolkit: error: {sub + ': ' if sub else ''}{message} (see --help)\n")


def _number(kind: type, low: float | None = None, high: float | None = None):
    """An argparse type: a ``kind`` number within [low, high], else a one-line error naming the range."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a{'n integer' if kind is int else ' number'}") from None
        if (low is not None and value < low) or (high is not None and value > high):
            bounds = f"from {low} to {high}" if high is not None else f"at least {low}"
            raise argparse.ArgumentTypeError(f"{text} is out of range ({bounds})")
        return value

    parse.low, parse.high = low, high  # type: ignore[attr-defined]
    return parse


def _project(args: argparse.Namespace):
    """The annotation project (``--project``, ``$TOOLKIT_PROJECT`` or the current folder's)."""
    from toolkit.project import find_project

    return find_project(getattr(args, "project_dir", None))


def _optional_project(args: argparse.Namespace):
    from toolkit.project import optional_project

    return optional_project(getattr(args, "project_dir", None))


def _in_project(args: argparse.Namespace, what: str = "data", project_attr: str = "labels") -> None:
    """Fill ``args.<what>`` from the project when it was not given."""
    if getattr(args, what) is None:
        setattr(args, what, str(getattr(_project(args), project_attr)))


def _corpus_in_project(args: argparse.Namespace, what: str = "corpus") -> None:
    if not getattr(args, what):
        setattr(args, what, [str(_project(args).corpus)])


_PROJECT_HELP = "annotation project's root (default: $TOOLKIT_PROJECT, else the nearest folder holding annotations/)"
_PROJECT_COMMANDS = ("weak-label", "stats", "train", "evaluate", "suggest", "audit", "serve", "rollback")


def _model_file(text: str) -> str:
    """An argparse type for a model file to write: ends in ``.npz`` and is not a folder (its folder
    is made when the model is saved)."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder; give a model file name ending in .npz")
    if path.suffix != ".npz":
        raise argparse.ArgumentTypeError(f"{text}: a model file name ends in .npz")
    return text


def _output_file(text: str) -> str:
    """An argparse type for a file to write: checked before any work, so a wrong name costs nothing
    and leaves nothing behind."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder; give a file name")
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: its folder {path.parent} does not exist")
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="toolkit",
        description="Annotate, classify and restructure Chinese trade-union work reports (工会工作总结).",
    )
    parser.add_argument("--version", action="version", version=f"toolkit {__version__}")
    parser.add_argument("--project", dest="project_dir", metavar="DIR", help=_PROJECT_HELP)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = _command(sub, "segment", "Cut reports into sentences with ids, headings and groups.",
                 f"toolkit segment {DEFAULT_CORPUS} --format tsv")
    p.add_argument("paths", nargs="+", metavar="PATH", help="files, directories (*.txt) or - for stdin")
    p.add_argument("--format", choices=("jsonl", "tsv"), default="jsonl")
    p.set_defaults(func=cmd_segment)

    for register in _REGISTRY:
        register(sub)
    for name in _PROJECT_COMMANDS:  # ls has its own --project (a Label Studio id): there, 'toolkit --project DIR ls …'
        sub.choices[name].add_argument("--project", dest="project_dir", metavar="DIR", default=argparse.SUPPRESS,
                                       help=_PROJECT_HELP)
    return parser


_REGISTRY: list[Callable[[argparse._SubParsersAction], None]] = []


# --- Label Studio: ls config/export-tasks/import/push/pull, serve ----------------------------


def cmd_ls_config(args: argparse.Namespace) -> int:
    from toolkit.labelstudio import label_config

    print(label_config())
    return 0


def _ls_tasks(args: argparse.Namespace) -> tuple[list[dict], str]:
    from toolkit import labelstudio

    _corpus_in_project(args, "paths")
    if args.weak_rules:
        predictor = labelstudio.load_predictor(None)
    else:
        from toolkit.model import default_model_path

        project = _optional_project(args)
        own = project.model if project is not None and project.model.is_file() else None
        predictor = labelstudio.choose_predictor(args.model or own, default_model_path())
    if args.only_unlabelled:
        _in_project(args, "labels")
    labels = args.labels if args.only_unlabelled else None
    return labelstudio.export_tasks(args.paths, predictor, labels_path=labels), predictor.version


def cmd_ls_export_tasks(args: argparse.Namespace) -> int:
    from toolkit.labelstudio import write_tasks

    tasks, version = _ls_tasks(args)
    if args.out:
        write_tasks(tasks, args.out)
    else:
        print(json.dumps(tasks, ensure_ascii=False, indent=1))
    with_predictions = sum(1 for t in tasks if t.get("predictions"))
    print(f"{len(tasks)} tasks, {with_predictions} with predictions ({version})", file=sys.stderr)
    return 0


def cmd_ls_import(args: argparse.Namespace) -> int:
    from toolkit.labelstudio import import_export

    _in_project(args, "labels")
    report = import_export(args.export, args.labels, project=args.project)
    print("\n".join(report.lines()))
    return 0


def cmd_ls_push(args: argparse.Namespace) -> int:
    from toolkit.corpus import add_to_corpus
    from toolkit.labelstudio import load_settings, push
    from toolkit.labelstudio import auth_from_env

    settings = load_settings()
    auth = auth_from_env()
    tasks, _ = _ls_tasks(args)
    for added in add_to_corpus(args.paths, args.corpus):
        print(added.line())
    report = push(settings, tasks, title=args.title, ml_backend=args.ml_backend, ml_auth=auth)
    print("\n".join(report.lines()))
    return 0


def cmd_ls_pull(args: argparse.Namespace) -> int:
    from toolkit.labelstudio import load_settings, pull

    _in_project(args, "labels")
    report = pull(load_settings(), args.labels, title=args.title, project_id=args.project, save_export=args.save_export)
    print("\n".join(report.lines()))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from toolkit.labelstudio import optional_settings
    from toolkit.labelstudio import Backend, BackendOptions, auth_from_env, make_server, serve

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    _quiet_jieba()
    _corpus_in_project(args)
    _in_project(args, "labels")
    _in_project(args, "model", "model")
    options = BackendOptions(tuple(args.corpus), Path(args.labels), Path(args.model), args.folds, optional_settings())
    server = make_server(Backend(options), args.host, args.port, auth=auth_from_env(), max_body=args.max_body)
    print(f"serving model {server.backend.version} on {server.url} (Ctrl+C stops)", file=sys.stderr)
    serve(server)
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    from toolkit.model import previous_path, rollback_model

    _in_project(args, "model", "model")
    card = rollback_model(args.model)
    _err(f"{args.model} is the earlier model again ({card.get('model_version', 'unversioned')}); the replaced one is kept in "
         f"{previous_path(args.model).parent} (a second rollback brings it back); restart 'toolkit serve' to serve it")
    return 0


def _register_labelstudio(sub: argparse._SubParsersAction) -> None:
    from toolkit.labelstudio import DEFAULT_TITLE
    from toolkit.labelstudio import DEFAULT_MAX_BODY, DEFAULT_PORT

    ls = _command(sub, "ls", "Label Studio: labelling config, tasks, import of exports, push and pull.",
                  "toolkit ls push --ml-backend http://127.0.0.1:9090")
    ls_sub = ls.add_subparsers(dest="ls_command", metavar="SUBCOMMAND", required=True)

    p = _command(ls_sub, "config", "Print the labelling config XML generated from the taxonomy.",
                 "toolkit ls config > config.xml")
    p.set_defaults(func=cmd_ls_config)

    def task_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("paths", nargs="*", metavar="PATH",
                       help=f"report files or directories (default: the project's {DEFAULT_CORPUS})")
        p.add_argument("--only-unlabelled", action="store_true", help="leave out sentences already in --data")
        p.add_argument("--data", "--labels", dest="labels", help=f"annotation store (default: the project's {DEFAULT_LABELS})")
        which = p.add_mutually_exclusive_group()
        which.add_argument("--model", help=f"model for pre-annotations (default: the project's {DEFAULT_MODEL} if it exists, else the shipped model)")
        which.add_argument("--weak-rules", action="store_true", help="pre-annotate with the weak rules even if a model exists")

    p = _command(ls_sub, "export-tasks", "Write Label Studio import JSON: one task per sentence, with predictions.",
                 f"toolkit ls export-tasks {DEFAULT_CORPUS} --only-unlabelled --out tasks.json")
    task_options(p)
    p.add_argument("--out", type=_output_file, help="output file (default stdout)")
    p.set_defaults(func=cmd_ls_export_tasks)

    p = _command(ls_sub, "import", "Merge a Label Studio JSON export into the annotation store.",
                 f"toolkit ls import project-3-at-2026-11-25.json --data {DEFAULT_LABELS}")
    p.add_argument("export", metavar="EXPORT.json", help="Label Studio export in 'JSON' format")
    p.add_argument("--data", "--labels", dest="labels", help=f"annotation store (default: the project's {DEFAULT_LABELS})")
    p.add_argument("--project", type=_number(int, 1), help="refuse tasks of any other project id")
    p.set_defaults(func=cmd_ls_import)

    p = _command(ls_sub, "push", "Create or find the project, set its config, import new tasks "
                 "(URL/key: LABEL_STUDIO_URL, LABEL_STUDIO_API_KEY or ~/.config/toolkit/labelstudio.json).",
                 "LABEL_STUDIO_URL=http://127.0.0.1:8080 LABEL_STUDIO_API_KEY=... toolkit ls push --only-unlabelled\n"
                 "  toolkit ls push incoming/2025/     # new reports: copied into annotations/corpus/new/, then pushed")
    task_options(p)
    p.add_argument("--title", default=DEFAULT_TITLE, help=f"project title (default {DEFAULT_TITLE!r})")
    p.add_argument("--ml-backend", metavar="URL", help="connect this 'toolkit serve' backend to the project "
                   "(basic auth from TOOLKIT_ML_USER/TOOLKIT_ML_PASSWORD)")
    p.add_argument("--corpus", default=DEFAULT_CORPUS, metavar="DIR",
                   help=f"the project's corpus: pushed reports not yet in it are copied into DIR/new/ (default {DEFAULT_CORPUS})")
    p.set_defaults(func=cmd_ls_push)

    p = _command(ls_sub, "pull", "Export the project's annotations and merge them into the store.",
                 f"toolkit ls pull --data {DEFAULT_LABELS} --save-export exports/latest.json")
    p.add_argument("--title", default=DEFAULT_TITLE, help=f"project title (default {DEFAULT_TITLE!r})")
    p.add_argument("--project", type=_number(int, 1), help="project id (instead of --title)")
    p.add_argument("--data", "--labels", dest="labels", help=f"annotation store (default: the project's {DEFAULT_LABELS})")
    p.add_argument("--save-export", type=_output_file, metavar="FILE", help="also keep the raw export here")
    p.set_defaults(func=cmd_ls_pull)

    p = _command(sub, "serve", "Run the ML backend Label Studio connects to (predict, retrain on START_TRAINING).",
                 f"toolkit serve --model {DEFAULT_MODEL} --port {DEFAULT_PORT}")
    p.add_argument("--model", type=_model_file, help=f"model to serve and retrain (default: the project's {DEFAULT_MODEL}; weak rules until it exists)")
    p.add_argument("--port", type=_number(int, 0, 65535), default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 picks a free one)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--corpus", nargs="+", metavar="PATH", help=f"reports (default: the project's {DEFAULT_CORPUS})")
    p.add_argument("--data", "--labels", dest="labels", help=f"annotation store to train on (default: the project's {DEFAULT_LABELS})")
    p.add_argument("--folds", type=_number(int, 0), default=1, help="cross-validation folds for the card when retraining (default 1: none)")
    p.add_argument("--max-body", type=_number(int, 1), default=DEFAULT_MAX_BODY, metavar="BYTES",
                   help=f"largest request body accepted (default {DEFAULT_MAX_BODY})")
    p.set_defaults(func=cmd_serve)

    p = _command(sub, "rollback", "Put back the model that the backend's last retrain replaced (kept in "
                 "NAME.previous/ beside it); the replaced one is kept in its place.",
                 f"toolkit rollback --model {DEFAULT_MODEL}")
    p.add_argument("--model", type=_model_file, help=f"model to roll back (default: the project's {DEFAULT_MODEL})")
    p.set_defaults(func=cmd_rollback)


_REGISTRY.append(_register_labelstudio)


# --- annotation: weak labels, stats ------------------------------------------------------------


def _err(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cmd_weak_label(args: argparse.Namespace) -> int:
    from toolkit import store
    from toolkit.corpus import load_reports
    from toolkit.weak import apply_rules, combine, label_counts, rule_report

    _corpus_in_project(args, "paths")
    if args.data is None and (project := _optional_project(args)) is not None:
        args.data = str(project.labels)
    if args.out and args.data and Path(args.out).resolve() in (Path(args.data).resolve(), store.history_path(args.data).resolve()):
        raise ToolkitError(f"{args.out}: --out names the annotation store or its history; weak labels never go there")
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
        store.atomic_write_text(args.out, "\n".join(lines) + "\n")
        _err(f"wrote {len(lines)} weak labels to {args.out}")
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    from toolkit.corpus import load_labels, load_reports
    from toolkit.stats import corpus_stats, format_stats

    _corpus_in_project(args)
    _in_project(args)
    reports = load_reports(args.corpus)
    records = load_labels(args.data, reports, args.corpus)
    print(format_stats(corpus_stats(reports, records)))
    return 0


# --- model: train, evaluate, tag ---------------------------------------------------------------


def cmd_train(args: argparse.Namespace) -> int:
    from toolkit.model import save_model
    from toolkit.training import load_params, train_from_store

    _corpus_in_project(args)
    _in_project(args)
    _in_project(args, "out", "model")
    params = load_params(args.config)
    model = train_from_store(args.data, args.corpus, params, folds=args.folds, seed=args.seed, progress=_err)
    card = save_model(model, args.out)
    cv = card["cross_validation"]
    _err(f"wrote {args.out} ({card['model_bytes'] / 1e6:.2f} MB) and its card; "
         f"grouped CV macro-F1 {cv.get('macro_f1', '-')}, micro-F1 {cv.get('micro_f1', '-')}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    if args.active:
        return cmd_evaluate_active(args)
    if args.test_corpus:
        return cmd_evaluate_test(args)
    if args.segmentation:
        return cmd_evaluate_segmentation(args)
    from toolkit import evalreport
    from toolkit.evaluation import GRIDS, evaluate
    from toolkit.weak import weak_labels

    models = [m.strip() for m in args.models.split(",") if m.strip()]
    if not models or set(models) - set(GRIDS):
        raise ToolkitError(f"--models {args.models!r}: choose from {', '.join(GRIDS)}")
    _corpus_in_project(args)
    _in_project(args)
    _in_project(args, "heldout", "heldout")
    reports, examples = _labelled(args.corpus, args.data)
    result = evaluate(examples, weak_labels(reports), folds=args.folds, seed=args.seed, models=models,
                      tokenizers=args.tokenizers, progress=_err)
    heldout = Path(args.heldout)
    if args.heldout != "none" and (heldout / "labels.jsonl").is_file():
        from toolkit.evaluation import score_model
        from toolkit.model import load_model
        from toolkit.tagging import default_model_path

        model_path = Path(args.model) if args.model else default_model_path()
        _err(f"scoring {model_path} on the untouched test set {heldout}")
        _, test = _labelled([heldout / "reports"], str(heldout / "labels.jsonl"), hint=f"; it is in no report of {heldout / 'reports'}")
        model = load_model(model_path)
        result["heldout"] = {"model": f"{model_path.name} ({model.version})", **score_model(model, test)}
    for path in evalreport.write(result, args.out):
        _err(f"wrote {path}")
    for name, s in result["comparison"].items():
        print(f"{name:<12} macro-F1 {s['macro_f1']:.3f}  micro-F1 {s['micro_f1']:.3f}")
    return 0


def cmd_tag(args: argparse.Namespace) -> int:
    from toolkit.model import load_model
    from toolkit.tagging import Writer, default_model_path, tag_paths

    path = Path(args.model) if args.model else default_model_path()
    if args.model and not path.is_file():
        raise ToolkitError(f"{path}: model file not found")
    parallel = (args.jobs > 1 or args.backend == "dask") and not args.sentences
    if parallel:
        from toolkit.parallel import default_backend, shared_model, tag_parallel

        backend = args.backend or default_backend()
        ref, model = shared_model(path, backend)
    else:
        model = load_model(path)
    if args.model and default_model_path().parent.resolve() not in Path(args.model).resolve().parents:
        _err(f"toolkit: warning: {args.model} is outside models/; joblib files run code when loaded, so load only models you trust")
    model.warm()
    gc.freeze()  # the model and jieba's dictionary live until exit: keep them out of every collection
    out, tmp = sys.stdout, None
    if args.output:
        from toolkit.store import temporary_beside

        target = Path(args.output)
        tmp = temporary_beside(target)
        out = open(tmp or target, "w", encoding="utf-8-sig" if args.format == "csv" else "utf-8", newline="")
    if args.sentences:
        from toolkit.tagging import tag_sentences
        from toolkit.textio import expand_paths, iter_lines

        stream = (tag_sentences(model, list(iter_lines(p, as_written=True)), source=p, min_confidence=args.min_confidence)
                  for p in expand_paths(args.paths))
    elif parallel:
        stream = tag_parallel(ref, args.paths, jobs=args.jobs, backend=backend, scheduler=args.scheduler,
                              min_confidence=args.min_confidence, quiet=True, fmt=args.format)
    else:
        stream = tag_paths(model, args.paths, min_confidence=args.min_confidence)
    progress = _Progress(sys.stderr)
    try:
        with Writer(out, args.format, model_version=model.version) as writer:
            for tags in stream:
                writer.write(tags)
                progress.update(writer.reports, writer.sentences)
        progress.close()
        if args.output:
            out.close()
            if tmp:
                os.replace(tmp, args.output)
    except BaseException as exc:
        if args.output:
            _close_quietly(out)
            if tmp:
                tmp.unlink(missing_ok=True)
            if isinstance(exc, OSError) and not exc.filename:  # a full disk: name the file, not the device
                raise ToolkitError(f"{args.output}: cannot write ({exc.strerror or exc}); nothing was written") from None
        raise
    reports = f"{writer.reports} report" + ("" if writer.reports == 1 else "s")
    sentences = f"{writer.sentences} sentence" + ("" if writer.sentences == 1 else "s")
    _err(f"tagged {sentences} in {reports} with {path.name} ({model.version})")
    return 0


def _close_quietly(handle) -> None:
    """Close ``handle``; a failure to flush what is left (a full disk) is already being reported."""
    try:
        handle.close()
    except OSError:
        pass


class _Progress:
    """A one-line progress display (reports, sentences, rate) when stderr is a terminal; silent otherwise."""

    def __init__(self, stream, every: float = 0.5):
        import time

        self.stream, self.every, self.clock = stream, every, time.monotonic
        self.start = self.last = self.clock()
        self.active = hasattr(stream, "isatty") and stream.isatty()

    def update(self, reports: int, sentences: int) -> None:
        now = self.clock()
        if self.active and now - self.last >= self.every:
            rate = sentences / max(now - self.start, 1e-9)
            self.stream.write(f"\r{reports} reports, {sentences} sentences, {rate:,.0f} sentences/s")
            self.stream.flush()
            self.last = now

    def close(self) -> None:
        if self.active:
            self.stream.write("\r\033[K")
            self.stream.flush()


def _register_modelling(sub: argparse._SubParsersAction) -> None:
    p = _command(sub, "weak-label", "Apply the weak-labelling rules; report coverage, conflicts and accuracy per rule.",
                 f"toolkit weak-label {DEFAULT_CORPUS} --out weak.jsonl")
    p.add_argument("paths", nargs="*", metavar="PATH", help=f"report files or directories (default: the project's {DEFAULT_CORPUS})")
    p.add_argument("--data", help=f"manual labels to measure accuracy against (default: the project's {DEFAULT_LABELS}, if any)")
    p.add_argument("--out", type=_output_file, help="write the combined weak labels as jsonl (never into the store)")
    p.set_defaults(func=cmd_weak_label)

    p = _command(sub, "stats", "Counts per label, per report and per source; sentences still unlabelled.",
                 f"toolkit stats --data {DEFAULT_LABELS}")
    p.add_argument("--data", help=f"annotation store (default: the project's {DEFAULT_LABELS})")
    p.add_argument("--corpus", nargs="+", help=f"reports (default: the project's {DEFAULT_CORPUS})")
    p.set_defaults(func=cmd_stats)

    p = _command(sub, "train", "Train on all labelled data; write the model and its card.",
                 f"toolkit train --data {DEFAULT_LABELS} --out {DEFAULT_MODEL}")
    p.add_argument("--data", help=f"annotation store (default: the project's {DEFAULT_LABELS})")
    p.add_argument("--corpus", nargs="+", help=f"reports (default: the project's {DEFAULT_CORPUS})")
    p.add_argument("--out", type=_model_file, help=f"model file, ending in .npz, its folder made if missing (default: the project's {DEFAULT_MODEL})")
    p.add_argument("--config", help="JSON file of parameters (see toolkit.model.DEFAULT_PARAMS)")
    p.add_argument("--folds", type=_number(int, 0), default=5, help="grouped CV folds for the card's scores (0 or 1 to skip)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_train)

    p = _command(sub, "evaluate", "Grouped K-fold evaluation: model comparison, ablation, learning curve, plots.",
                 "toolkit evaluate --folds 5 --out reports")
    p.add_argument("--data", help=f"annotation store (default: the project's {DEFAULT_LABELS})")
    p.add_argument("--corpus", nargs="+", help=f"reports (default: the project's {DEFAULT_CORPUS})")
    p.add_argument("--folds", type=_number(int, 2), default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--models", default="cnb,logreg", help="learned models to compare (baselines always run; svm too)")
    p.add_argument("--tokenizers", action="store_true", help="also compare the tokenizer backends installed")
    p.add_argument("--heldout", metavar="DIR",
                   help=f"untouched test set (reports/ and labels.jsonl) to score --model on (default: the project's {DEFAULT_HELDOUT}; "
                        "'none' to skip)")
    p.add_argument("--out", default="reports", metavar="DIR", help="directory for evaluation.md/.json and PNG plots")
    p.add_argument("--active", action="store_true", help="instead: the active-learning simulation (shipped model "
                   "settings, 3-4 minutes; --folds sets the hold-out) -> active_learning.md/.json/.png in --out")
    p.add_argument("--active-seeds", type=_number(int, 1), metavar="N", help="runs of the simulation, one per seed (default 8)")
    p.add_argument("--test-corpus", nargs="+", metavar="PATH", help="instead: score a trained model on this labelled "
                   "test set (reports it was not trained on), with --test-data and --model (default the shipped one)")
    p.add_argument("--test-data", metavar="LABELS.jsonl", help="labels of --test-corpus, in the annotation store's format")
    p.add_argument("--segmentation", metavar="DIR", help="instead: score the structure reading (report starts, headings, "
                   "part starts) on hand-checked cases (caseNN.txt + caseNN.json), e.g. annotations/segmentation")
    p.add_argument("--model", help="model to score with --test-corpus (default: the shipped model)")
    p.set_defaults(func=cmd_evaluate)

    p = _command(sub, "tag", "Label every sentence of new reports with a standard section and a confidence.",
                 "toolkit tag report.txt --format md\n  toolkit tag reports/ --format html --output tagged.html\n"
                 "  toolkit tag reports/ --jobs 2 --output tagged.jsonl")
    p.add_argument("paths", nargs="+", metavar="PATH", help="files, directories (*.txt) or - for stdin")
    p.add_argument("--model", help="model file (default: the shipped model)")
    p.add_argument("--format", choices=("jsonl", "json", "csv", "md", "html"), default="jsonl",
                   help="jsonl, json, csv: one record per sentence; md: one rebuilt report after another; "
                   "html: one self-contained page for the run")
    p.add_argument("--output", type=_output_file, help="write to this file instead of stdout")
    p.add_argument("--min-confidence", type=_number(float, 0.0, 1.0), default=None,
                   help="mark sentences below this as low confidence (default: the threshold fitted with the model)")
    p.add_argument("--sentences", action="store_true",
                   help="each input line is one sentence, classified by its text alone (no report around it)")
    p.add_argument("--jobs", type=_number(int, 1), default=1, help="worker processes; output is identical to --jobs 1")
    p.add_argument("--backend", choices=("fork", "loky", "dask"), default=None,
                   help="fork (default where available): workers inherit the loaded model; loky: joblib's fresh "
                        "workers; dask: run on a Dask cluster (pip install 'toolkit[dask]')")
    p.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 (default: a local cluster)")
    p.set_defaults(func=cmd_tag)


_REGISTRY.insert(0, _register_modelling)


# --- active learning and label quality: suggest, evaluate --active, audit, agreement ----------


def _labelled(corpus: Sequence[str], data: str, hint: str | None = None):
    """The corpus's reports and their labelled examples from the store at ``data``."""
    from toolkit.examples import load_examples

    reports, examples, _ = load_examples(corpus, data, hint)
    return reports, examples


def _emit(text: str, out: str | None) -> None:
    """Write ``text`` to ``out`` atomically, or to stdout."""
    if out:
        from toolkit.store import atomic_write_text

        atomic_write_text(out, text)
        _err(f"wrote {out}")
    else:
        sys.stdout.write(text)


def cmd_suggest(args: argparse.Namespace) -> int:
    from toolkit import active, store
    from toolkit.corpus import load_reports
    from toolkit.model import load_model
    from toolkit.tagging import default_model_path

    _corpus_in_project(args, "paths")
    project = _optional_project(args)
    if args.labels is None and project is not None:
        args.labels = str(project.labels)
    own = project.model if project is not None and project.model.is_file() else None
    model = load_model(args.model or own or default_model_path())
    reports = load_reports(args.paths)
    suggestions = active.suggest(reports, model, store.load(args.labels).keys() if args.labels else (), n=args.n, strategy=args.strategy,
                                 seed=args.seed, threshold=args.diversity)
    tasks = active.suggestion_tasks(reports, suggestions, model.version)
    if args.out or not args.push:
        _emit(json.dumps(tasks, ensure_ascii=False, indent=1) + "\n", args.out)
    _err(active.suggestions_summary(suggestions))
    if args.push:
        from toolkit.corpus import add_to_corpus
        from toolkit.labelstudio import load_settings, push

        settings = load_settings()
        chosen = {c.report for c in suggestions.chosen}
        sources = sorted({"-" if r.source == "<stdin>" else r.source for r in reports if r.id in chosen})
        for added in add_to_corpus(sources, args.corpus):
            print(added.line())
        print("\n".join(push(settings, tasks, title=args.title).lines()))
    return 0


def cmd_evaluate_test(args: argparse.Namespace) -> int:
    from toolkit.evaluation import score_model
    from toolkit.model import load_model
    from toolkit.tagging import default_model_path

    if not args.test_data:
        raise ToolkitError("--test-corpus needs --test-data LABELS.jsonl (the test set's labels)")
    model = load_model(args.model or default_model_path())
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
    return 0


def cmd_evaluate_segmentation(args: argparse.Namespace) -> int:
    from toolkit.segment_eval import load_cases, score_cases

    result = score_cases(load_cases(args.segmentation))
    print(f"{result['cases']} cases")
    print("| structure | precision | recall | F1 | gold | predicted |\n|---|---|---|---|---|---|")
    for key, name in (("reports", "report starts"), ("headings", "headings"), ("parts", "part starts (problems, plans, closing)")):
        r = result[key]
        print(f"| {name} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} | {r['gold']} | {r['predicted']} |")
    return 0


def cmd_evaluate_active(args: argparse.Namespace) -> int:
    from toolkit.active import SimulationSettings, simulate, write_report

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
    from toolkit import audit
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

    result = export_agreement(args.export)
    text = agreement_markdown(result) if args.format == "md" else json.dumps(result, ensure_ascii=False, indent=1) + "\n"
    _emit(text, args.out)
    return 0


def _register_quality(sub: argparse._SubParsersAction) -> None:
    from toolkit.active import DEFAULT_N, DIVERSITY_THRESHOLD, STRATEGIES
    from toolkit.audit import DEFAULT_TOP, FORMATS, RANKINGS
    from toolkit.labelstudio import DEFAULT_TITLE

    p = _command(sub, "suggest", "Rank unlabelled sentences by what the model is least sure of (with a diversity "
                 "guard) and write them as Label Studio tasks with predictions, best first.",
                 "toolkit suggest examples/sample_report.txt --n 20 --strategy margin --out next.json")
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help=f"report files or directories (default: the project's {DEFAULT_CORPUS})")
    p.add_argument("--n", type=_number(int, 1), default=DEFAULT_N, help=f"sentences to suggest (default {DEFAULT_N})")
    p.add_argument("--strategy", choices=STRATEGIES, default="uncertainty",
                   help="uncertainty: lowest top probability; margin: closest top two; entropy; random (default uncertainty)")
    p.add_argument("--diversity", type=_number(float, 0.0, 1.0), default=DIVERSITY_THRESHOLD, metavar="COSINE",
                   help=f"skip a sentence this similar to one already chosen (character shingles; default {DIVERSITY_THRESHOLD}, 1 = off)")
    p.add_argument("--data", "--labels", dest="labels",
                   help=f"annotation store: its sentences are never suggested (default: the project's {DEFAULT_LABELS}, if any)")
    p.add_argument("--model", help=f"model file (default: the project's {DEFAULT_MODEL} where it exists, else the shipped model)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random strategy")
    p.add_argument("--out", type=_output_file, help="write the tasks here (default stdout unless --push)")
    p.add_argument("--push", action="store_true", help="import the tasks into the Label Studio project (as 'toolkit ls push')")
    p.add_argument("--title", default=DEFAULT_TITLE, help=f"project title for --push (default {DEFAULT_TITLE!r})")
    p.add_argument("--corpus", default=DEFAULT_CORPUS, metavar="DIR",
                   help=f"with --push: the reports of pushed sentences not yet in the corpus are copied into DIR/new/ (default {DEFAULT_CORPUS})")
    p.set_defaults(func=cmd_suggest)

    p = _command(sub, "audit", "Sentences whose label is likely wrong (confident learning on grouped out-of-fold "
                 "probabilities), with the suggested label and context.",
                 f"toolkit audit --data {DEFAULT_LABELS} --top 30 --format ls --out review.json")
    p.add_argument("--data", help=f"annotation store (default: the project's {DEFAULT_LABELS})")
    p.add_argument("--corpus", nargs="+", help=f"reports (default: the project's {DEFAULT_CORPUS})")
    p.add_argument("--top", type=_number(int, 0), default=DEFAULT_TOP, help=f"how many to show (default {DEFAULT_TOP}; 0 = all flagged)")
    p.add_argument("--format", choices=FORMATS, default="md", help="md table, jsonl, or ls: Label Studio review tasks")
    p.add_argument("--out", type=_output_file, help="output file (default stdout)")
    p.add_argument("--ranking", choices=RANKINGS, default="self_confidence")
    p.add_argument("--folds", type=_number(int, 2), default=5, help="grouped folds for the out-of-fold probabilities")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--config", help="JSON file of model parameters (see toolkit.model.DEFAULT_PARAMS)")
    p.set_defaults(func=cmd_audit)

    p = _command(sub, "agreement", "Agreement between annotators in a Label Studio JSON export: Cohen's kappa per pair, "
                 "Fleiss' kappa, Krippendorff's alpha, per label, confusions, disagreements.",
                 "toolkit agreement project-3-at-2026-11-25.json --out agreement.md")
    p.add_argument("export", metavar="EXPORT.json", help="Label Studio export in 'JSON' format")
    p.add_argument("--format", choices=("md", "json"), default="md")
    p.add_argument("--out", type=_output_file, help="output file (default stdout)")
    p.set_defaults(func=cmd_agreement)


_REGISTRY.append(_register_quality)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    _err(f"toolkit: warning: {message}")


def _discard_stdout() -> None:
    """Point standard output at the null device, so that the interpreter's own flush at exit cannot
    fail again (with a multi-line message) on what is left in its buffer."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no real file behind stdout (a test's capture)
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``toolkit`` console script and ``python -m toolkit``."""
    for threads in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(threads, "1")  # before NumPy loads: our products are small, idle BLAS threads only spin
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help, --version, or a bad argument (already reported in one line)
        return int(stop.code or 0)
    _quiet_jieba()
    shown, warnings.showwarning = warnings.showwarning, _show_warning  # a warning is one line too
    try:
        code = args.func(args)
        try:
            sys.stdout.flush()  # here, so that a full disk behind stdout is reported like any other error
        except OSError as exc:
            raise OSError(exc.errno, exc.strerror, "<stdout>") from None
        return code
    except ToolkitError as exc:
        print(f"toolkit: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except BrokenPipeError:
        _discard_stdout()
        return 0
    except OSError as exc:  # a full disk, a folder without write permission…: the file and the reason
        where = f"{exc.filename}: " if exc.filename else ""
        _discard_stdout()
        print(f"toolkit: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("toolkit: interrupted", file=sys.stderr)
        return 130
    finally:
        warnings.showwarning = shown
