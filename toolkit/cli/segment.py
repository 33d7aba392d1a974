"""``toolkit segment``."""

from __future__ import annotations

import argparse
import sys

from toolkit.cli.common import DEFAULT_CORPUS, _command
from toolkit.corpus import load_reports, write_sentences


def cmd_segment(args: argparse.Namespace) -> int:
    reports = load_reports(args.paths)
    n = write_sentences(reports, sys.stdout, args.format)
    groups = len({r.group for r in reports})
    print(f"{len(reports)} reports, {groups} groups, {n} sentences", file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = _command(sub, "segment", "Cut reports into sentences with ids, headings and groups.",
                 f"toolkit segment {DEFAULT_CORPUS} --format tsv")
    p.add_argument("paths", nargs="+", metavar="PATH", help="files, directories (*.txt) or - for stdin")
    p.add_argument("--format", choices=("jsonl", "tsv"), default="jsonl")
    p.set_defaults(func=cmd_segment)
