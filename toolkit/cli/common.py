"""What every command module of the CLI shares: the parser class, argparse types, the project's
files, one-line messages, the progress display and the options several commands have in common.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from toolkit.errors import ToolkitError
from toolkit.examples import load_examples
from toolkit.fileio import atomic_write_text
from toolkit.project import ModelChoice, choose_model, find_project, optional_project
from toolkit.store import history_path
from toolkit.tokenizer import quiet_jieba_logging

EXIT_INPUT = 2
DEFAULT_CORPUS = "annotations/corpus"
DEFAULT_HELDOUT = "annotations/heldout"
DEFAULT_LABELS = "annotations/labels.jsonl"
DEFAULT_MODEL = "models/default.npz"
"""The project's files (:class:`toolkit.project.Project`): defaults, under the project's root."""


def _quiet_jieba() -> None:
    quiet_jieba_logging()


def _command(sub: argparse._SubParsersAction, name: str, help_: str, example: str,
             parents: Sequence[argparse.ArgumentParser] = ()) -> argparse.ArgumentParser:
    """A subcommand whose help shows an example; ``parents`` hold the options it shares with others."""
    return sub.add_parser(
        name,
        help=help_,
        description=help_,
        epilog=f"example:\n  {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=list(parents),
    )


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
        if value != value:  # NaN compares false with every bound
            raise argparse.ArgumentTypeError(f"{text!r} is not a number")
        if (low is not None and value < low) or (high is not None and value > high):
            bounds = f"from {low} to {high}" if high is not None else f"at least {low}"
            raise argparse.ArgumentTypeError(f"{text} is out of range ({bounds})")
        return value

    parse.low, parse.high = low, high  # type: ignore[attr-defined]
    return parse


SEED = _number(int, 0, 2**32 - 1)
"""An argparse type for a random seed: NumPy's and scikit-learn's range."""


def _project(args: argparse.Namespace):
    """The annotation project (``--project``, ``$TOOLKIT_PROJECT`` or the current folder's)."""
    return find_project(getattr(args, "project_dir", None))


def _optional_project(args: argparse.Namespace):
    return optional_project(getattr(args, "project_dir", None))


def _model(args: argparse.Namespace, given: str | Path | None = None) -> ModelChoice:
    """The model the command uses (:func:`toolkit.project.choose_model`: ``--model``, else
    ``$TOOLKIT_MODEL``, else the project's trained model, else the shipped one); the command names
    it on stderr with :func:`_name_model` once its work is done, so that an error stays one line."""
    if given is None:
        given = getattr(args, "model", None)
    return choose_model(given, _optional_project(args))


def _name_model(choice: ModelChoice) -> None:
    _err(choice.describe())


def _in_project(args: argparse.Namespace, what: str = "data", project_attr: str = "labels") -> None:
    """Fill ``args.<what>`` from the project when it was not given."""
    if getattr(args, what) is None:
        setattr(args, what, str(getattr(_project(args), project_attr)))


def _corpus_in_project(args: argparse.Namespace, what: str = "corpus") -> None:
    if not getattr(args, what):
        setattr(args, what, [str(_project(args).corpus)])


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


def flag(dest: str) -> str:
    """The command-line option of an argparse ``dest`` ("save_export" → "save-export")."""
    return dest.replace("_", "-")


STORES_READ = ("data", "test_data")
"""The options that name an annotation store a command reads (``ls import``'s and ``ls pull``'s
``--data``, which may start a store, is ``labels``)."""


def check_inputs(args: argparse.Namespace) -> None:
    """A store named on the command line must exist: a mistyped ``--data`` would otherwise read as
    a store with no labels and give figures about nothing."""
    for option in STORES_READ:
        given = getattr(args, option, None)
        if isinstance(given, str) and not Path(given).is_file():
            problem = "is a folder, not an annotation store" if Path(given).is_dir() else "no such file"
            raise ToolkitError(f"{given}: {problem} (--{flag(option)})")


OUTPUTS = ("out", "output", "save_export")
"""The options that name a file (or folder) a command writes."""


def check_outputs(args: argparse.Namespace) -> None:
    """Refuse an output that would replace what the command reads (an input file, ``--data``,
    ``--model``…), the history of a store it reads (which may not exist yet), or an existing file of
    the project's ``annotations/`` folder (the store, its history, the corpus, the test sets): those
    are written only by the commands that own them, under their lock. Checked before any work."""
    given_outputs = [(o, getattr(args, o)) for o in OUTPUTS if isinstance(getattr(args, o, None), str) and getattr(args, o) != "-"]
    if not given_outputs:
        return
    read = {Path(r).resolve() for name, value in vars(args).items() if name not in OUTPUTS
            for r in ([value] if isinstance(value, str) else value if isinstance(value, list) else [])
            if isinstance(r, str) and r != "-" and Path(r).is_file()}
    project = _optional_project(args)
    stores = [getattr(args, name) for name in (*STORES_READ, "labels") if isinstance(getattr(args, name, None), str)]
    stores += [str(project.labels)] if project is not None else []
    histories = {history_path(store).resolve() for store in stores}  # a history may not exist yet
    for option, given in given_outputs:
        target = Path(given).resolve()
        if target in read:
            raise ToolkitError(f"{given}: --{flag(option)} names a file this command reads; write elsewhere")
        if target in histories:
            raise ToolkitError(f"{given}: --{flag(option)} names the history of an annotation store; write elsewhere")
        if project is not None and target.is_file() and target.is_relative_to(project.annotations.resolve()):
            raise ToolkitError(f"{given}: --{flag(option)} would replace a file of the annotation project "
                               f"({project.annotations}/); write elsewhere")


def _output_folder(text: str) -> str:
    """An argparse type for a folder to write reports into (made if missing): not a file."""
    if Path(text).exists() and not Path(text).is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a file; give a folder for the reports")
    return text


def _err(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _labelled(corpus: Sequence[str], data: str, hint: str | None = None):
    """The corpus's reports and their labelled examples from the store at ``data``."""
    reports, examples, _ = load_examples(corpus, data, hint)
    return reports, examples


def _emit(text: str, out: str | None) -> None:
    """Write ``text`` to ``out`` atomically, or to stdout."""
    if out:
        atomic_write_text(out, text)
        _err(f"wrote {out}")
    else:
        sys.stdout.write(text)


class _Progress:
    """A one-line progress display (reports, sentences, rate) when stderr is a terminal; silent otherwise."""

    def __init__(self, stream, every: float = 0.5):
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


def _parent() -> argparse.ArgumentParser:
    return argparse.ArgumentParser(add_help=False)


STORE_AND_CORPUS = _parent()
"""``--data`` (the annotation store) and ``--corpus`` (its reports), both from the project by default."""
STORE_AND_CORPUS.add_argument("--data", help=f"annotation store (default: the project's {DEFAULT_LABELS})")
STORE_AND_CORPUS.add_argument("--corpus", nargs="+", help=f"reports (default: the project's {DEFAULT_CORPUS})")

LABELS = _parent()
"""``--data``/``--labels``: the annotation store Label Studio's annotations go to."""
LABELS.add_argument("--data", "--labels", dest="labels", type=_output_file,
                    help=f"annotation store (default: the project's {DEFAULT_LABELS})")
