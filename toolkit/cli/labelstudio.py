"""Label Studio: ``toolkit ls config | export-tasks | import | push | pull``, ``serve`` and ``rollback``."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from toolkit import labelstudio, store
from toolkit.cli.common import (DEFAULT_CORPUS, DEFAULT_LABELS, DEFAULT_MODEL, LABELS, _command, _corpus_in_project, _err,
                                _in_project, _model, _model_file, _name_model, _number, _optional_project, _output_file,
                                _project, _quiet_jieba)
from toolkit.corpus import read_additions
from toolkit.labelstudio import (DEFAULT_MAX_BODY, DEFAULT_PORT, DEFAULT_TITLE, MODES, REPORT_TITLE, Backend,
                                 BackendOptions, auth_from_env, config_for, default_title, import_export, load_settings,
                                 make_server, optional_settings, pull, push, serve, write_tasks)
from toolkit.model import previous_path, rollback_model
from toolkit.project import ModelChoice

TASKS = argparse.ArgumentParser(add_help=False)
"""What ``ls export-tasks`` and ``ls push`` share: the reports, the sentences to leave out, the predictor."""
TASKS.add_argument("paths", nargs="*", metavar="PATH", help=f"report files or directories (default: the project's {DEFAULT_CORPUS})")
TASKS.add_argument("--only-unlabelled", action="store_true", help="leave out sentences already in --data")
TASKS.add_argument("--data", "--labels", dest="data", help=f"annotation store (default: the project's {DEFAULT_LABELS})")
_which = TASKS.add_mutually_exclusive_group()
_which.add_argument("--model", help=f"model for pre-annotations (default: the project's {DEFAULT_MODEL} if it exists, else the shipped model)")
_which.add_argument("--weak-rules", action="store_true", help="pre-annotate with the weak rules even if a model exists")

BY = argparse.ArgumentParser(add_help=False)
"""The kind of task: one per sentence, or one per report."""
BY.add_argument("--by", choices=MODES, default="sentence",
                help="one task per sentence (default) or per report: the whole report, every sentence pre-labelled")


def cmd_ls_config(args: argparse.Namespace) -> int:
    print(config_for(args.by))
    return 0


def _ls_tasks(args: argparse.Namespace) -> tuple[list[dict], str, ModelChoice | None]:
    _corpus_in_project(args, "paths")
    choice = None if args.weak_rules else _model(args)
    predictor = labelstudio.load_predictor(choice.path if choice else None)
    if args.only_unlabelled:
        _in_project(args)
    labels = args.data if args.only_unlabelled else None
    return labelstudio.export_tasks(args.paths, predictor, labels_path=labels, by=args.by), predictor.version, choice


def cmd_ls_export_tasks(args: argparse.Namespace) -> int:
    tasks, version, choice = _ls_tasks(args)
    if args.out:
        write_tasks(tasks, args.out)
    else:
        print(json.dumps(tasks, ensure_ascii=False, indent=1))
    with_predictions = sum(1 for t in tasks if t.get("predictions"))
    print(f"{len(tasks)} tasks, {with_predictions} with predictions ({version})", file=sys.stderr)
    if choice is not None:
        _name_model(choice)
    return 0


def _corpus_ids(args: argparse.Namespace) -> labelstudio.CorpusSentenceIds | None:
    """Sentence ids of the project's corpus (``None`` outside a project): a label on a report
    sentence that is no longer among them is listed and not imported."""
    project = _optional_project(args)
    if project is None or not project.corpus.is_dir():
        return None
    return labelstudio.CorpusSentenceIds([project.corpus])


def cmd_ls_import(args: argparse.Namespace) -> int:
    _in_project(args, "labels")
    report = import_export(args.export, args.labels, project=args.project, corpus_ids=_corpus_ids(args))
    print("\n".join(report.lines()))
    return 0


def cmd_ls_push(args: argparse.Namespace) -> int:
    settings = load_settings()
    auth = auth_from_env()
    project = _optional_project(args) if args.corpus else _project(args)
    corpus = args.corpus or str(project.corpus)
    tasks, _, choice = _ls_tasks(args)
    additions = read_additions(args.paths, corpus, root=project.root if project is not None else None)
    report = push(settings, tasks, title=args.title or default_title(args.by), ml_backend=args.ml_backend, ml_auth=auth,
                  additions=additions, by=args.by)
    print("\n".join(report.lines()))
    if choice is not None:
        _name_model(choice)
    return 0


def cmd_ls_pull(args: argparse.Namespace) -> int:
    _in_project(args, "labels")
    report = pull(load_settings(), args.labels, title=args.title or default_title(args.by), project_id=args.project,
                  save_export=args.save_export, corpus_ids=_corpus_ids(args))
    print("\n".join(report.lines()))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    _quiet_jieba()
    _corpus_in_project(args)
    _in_project(args, "labels")
    store.load(args.labels)  # a malformed store is reported now, not at the first retrain
    given = args.model
    _in_project(args, "model", "model")
    serving = _model(args, given if given and Path(given).is_file() else "")
    options = BackendOptions(tuple(args.corpus), Path(args.labels), Path(args.model), args.folds, optional_settings(),
                             start_model=serving.path)
    server = make_server(Backend(options), args.host, args.port, auth=auth_from_env(), max_body=args.max_body)
    _name_model(serving)
    print(f"serving model {server.backend.version} on {server.url} (Ctrl+C stops)", file=sys.stderr)
    serve(server)
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    _in_project(args, "model", "model")
    card = rollback_model(args.model)
    _err(f"{args.model} is the earlier model again ({card.get('model_version', 'unversioned')}); the replaced one is kept in "
         f"{previous_path(args.model).parent} (a second rollback brings it back); restart 'toolkit serve' to serve it")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    ls = _command(sub, "ls", "Label Studio: labelling config, tasks, import of exports, push and pull.",
                  "toolkit ls push --ml-backend http://127.0.0.1:9090")
    ls_sub = ls.add_subparsers(dest="ls_command", metavar="SUBCOMMAND", required=True)

    p = _command(ls_sub, "config", "Print the labelling config XML generated from the taxonomy.",
                 "toolkit ls config > config.xml\n  toolkit ls config --by report > report-config.xml")
    p.add_argument("--by", choices=(*MODES, "mixed"), default="sentence",
                   help="the config of sentence tasks (default), of report tasks, or of a project holding both (mixed)")
    p.set_defaults(func=cmd_ls_config)

    p = _command(ls_sub, "export-tasks", "Write Label Studio import JSON: one task per sentence (or per report), with predictions.",
                 f"toolkit ls export-tasks {DEFAULT_CORPUS} --only-unlabelled --out tasks.json\n"
                 f"  toolkit ls export-tasks {DEFAULT_CORPUS} --by report --out reports.json",
                 parents=[TASKS, BY])
    p.add_argument("--out", type=_output_file, help="output file (default stdout)")
    p.set_defaults(func=cmd_ls_export_tasks)

    p = _command(ls_sub, "import", "Merge a Label Studio JSON export into the annotation store.",
                 f"toolkit ls import project-3-at-2026-11-25.json --data {DEFAULT_LABELS}",
                 parents=[LABELS])
    p.add_argument("export", metavar="EXPORT.json", help="Label Studio export in 'JSON' format")
    p.add_argument("--project", type=_number(int, 1), help="refuse tasks of any other project id")
    p.set_defaults(func=cmd_ls_import)

    p = _command(ls_sub, "push", "Create or find the project, set its config, import new tasks "
                 "(URL/key: LABEL_STUDIO_URL, LABEL_STUDIO_API_KEY or ~/.config/toolkit/labelstudio.json).",
                 "LABEL_STUDIO_URL=http://127.0.0.1:8080 LABEL_STUDIO_API_KEY=... toolkit ls push --only-unlabelled\n"
                 "  toolkit ls push incoming/2025/     # new reports: copied into annotations/corpus/new/, then pushed\n"
                 "  toolkit ls push --by report incoming/2025/   # one task per report, into the report project",
                 parents=[TASKS, BY])
    p.add_argument("--title", help=f"project title (default {DEFAULT_TITLE!r}; with --by report {REPORT_TITLE!r})")
    p.add_argument("--ml-backend", metavar="URL", help="connect this 'toolkit serve' backend to the project "
                   "(basic auth from TOOLKIT_ML_USER/TOOLKIT_ML_PASSWORD)")
    p.add_argument("--corpus", metavar="DIR",
                   help=f"the corpus that pushed reports not yet in it are copied into (DIR/new/), once their tasks "
                        f"are in Label Studio (default: the project's {DEFAULT_CORPUS})")
    p.set_defaults(func=cmd_ls_push)

    p = _command(ls_sub, "pull", "Export the project's annotations (sentence tasks, report tasks or both) and merge "
                 "them into the store, sentence by sentence.",
                 f"toolkit ls pull --data {DEFAULT_LABELS} --save-export exports/latest.json\n"
                 "  toolkit ls pull --by report        # the report project", parents=[BY])
    p.add_argument("--title", help=f"project title (default {DEFAULT_TITLE!r}; with --by report {REPORT_TITLE!r})")
    p.add_argument("--project", type=_number(int, 1), help="project id (instead of --title)")
    p.add_argument("--data", "--labels", dest="labels", type=_output_file,
                   help=f"annotation store (default: the project's {DEFAULT_LABELS})")
    p.add_argument("--save-export", type=_output_file, metavar="FILE", help="also keep the raw export here")
    p.set_defaults(func=cmd_ls_pull)

    p = _command(sub, "serve", "Run the ML backend Label Studio connects to (predict, retrain on START_TRAINING).",
                 f"toolkit serve --model {DEFAULT_MODEL} --port {DEFAULT_PORT}")
    p.add_argument("--model", type=_model_file, help=f"model to serve and retrain (default: the project's {DEFAULT_MODEL}); until it exists, "
                   "$TOOLKIT_MODEL or the shipped model is served")
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
