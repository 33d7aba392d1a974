"""Command-line interface: parses arguments and calls the library; nothing else lives here.

Every error the library raises as :class:`~toolkit.errors.ToolkitError` becomes one line on
stderr and exit code 2. Each group of commands registers its subcommands from its own module,
in the order of :data:`REGISTER`.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Sequence

from toolkit import __version__
from toolkit.cli import labelstudio, modelling, quality, segment
from toolkit.cli.common import EXIT_INPUT, _err, _Parser, _quiet_jieba, check_inputs, check_outputs
from toolkit.errors import ToolkitError

Handler = Callable[[argparse.Namespace], int]

REGISTER: tuple[Callable[[argparse._SubParsersAction], None], ...] = (
    segment.register,
    modelling.register,
    labelstudio.register,
    quality.register,
)
"""The command groups, in the order ``toolkit --help`` lists them."""

_PROJECT_HELP = "annotation project's root (default: $TOOLKIT_PROJECT, else the nearest folder holding annotations/)"
_PROJECT_COMMANDS = ("weak-label", "stats", "register", "train", "evaluate", "tag", "suggest", "audit", "serve", "rollback")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="toolkit",
        description="Annotate, classify and restructure Chinese trade-union work reports (工会工作总结).",
    )
    parser.add_argument("--version", action="version", version=f"toolkit {__version__}")
    parser.add_argument("--project", dest="project_dir", metavar="DIR", help=_PROJECT_HELP)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for register in REGISTER:
        register(sub)
    for name in _PROJECT_COMMANDS:  # ls has its own --project (a Label Studio id): there, 'toolkit --project DIR ls …'
        sub.choices[name].add_argument("--project", dest="project_dir", metavar="DIR", default=argparse.SUPPRESS,
                                       help=_PROJECT_HELP)
    return parser


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


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the command stands so that it cleans up as on Ctrl-C (a run's
    temporary output file is removed)."""


def _terminate(signum, frame) -> None:
    raise Terminated()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``toolkit`` console script and ``python -m toolkit``."""
    for threads in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(threads, "1")  # before NumPy loads: our products are small, idle BLAS threads only spin
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help, --version, or a bad argument (already reported in one line)
        return int(stop.code or 0)
    args.command_line = shlex.join(["toolkit", *(sys.argv[1:] if argv is None else argv)])
    _quiet_jieba()
    shown, warnings.showwarning = warnings.showwarning, _show_warning  # a warning is one line too
    in_main = threading.current_thread() is threading.main_thread()
    term = signal.signal(signal.SIGTERM, _terminate) if in_main else None
    try:
        check_inputs(args)
        check_outputs(args)
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
    except Terminated:
        print("toolkit: terminated", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("toolkit: interrupted", file=sys.stderr)
        return 130
    finally:
        warnings.showwarning = shown
        if in_main:
            signal.signal(signal.SIGTERM, term)
