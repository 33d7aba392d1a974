"""Command-line interface: parses arguments and calls the library; nothing else lives here.

Every error the library raises as :class:`~toolkit.errors.ToolkitError` becomes one line on
stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from toolkit import __version__
from toolkit.errors import ToolkitError

EXIT_INPUT = 2
DEFAULT_CORPUS = "annotations/corpus/reports.txt"
DEFAULT_LABELS = "annotations/labels.jsonl"
DEFAULT_MODEL = "models/default.joblib"

Handler = Callable[[argparse.Namespace], int]


def _quiet_jieba() -> None:
    logging.getLogger("jieba").setLevel(logging.WARNING)


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="toolkit",
        description="Annotate, classify and restructure Chinese trade-union work reports (工会工作总结).",
    )
    parser.add_argument("--version", action="version", version=f"toolkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = _command(sub, "segment", "Cut reports into sentences with ids, headings and groups.",
                 f"toolkit segment {DEFAULT_CORPUS} --format tsv")
    p.add_argument("paths", nargs="+", metavar="PATH", help="files, directories (*.txt) or - for stdin")
    p.add_argument("--format", choices=("jsonl", "tsv"), default="jsonl")
    p.set_defaults(func=cmd_segment)

    for register in _REGISTRY:
        register(sub)
    return parser


_REGISTRY: list[Callable[[argparse._SubParsersAction], None]] = []


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``toolkit`` console script and ``python -m toolkit``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _quiet_jieba()
    try:
        return args.func(args)
    except ToolkitError as exc:
        print(f"toolkit: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        print("toolkit: interrupted", file=sys.stderr)
        return 130
