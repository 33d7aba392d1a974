"""Where an annotation project lives: its corpus, annotation store, untouched test set and models.

Commands that read or write a project's files (``train``, ``evaluate``, ``stats``, ``weak-label``,
``suggest``, ``audit``, ``serve``, ``ls …``) find its root folder as git finds a repository:
``--project DIR`` if given, else ``$TOOLKIT_PROJECT``, else the current folder or the nearest of
its parents that holds an ``annotations/`` folder. Inside, the layout is fixed (:class:`Project`),
so a command run anywhere in the project reads and writes the same files. Tagging needs no
project: the default model ships inside the package (:func:`toolkit.model.shipped_model_path`).

Which model a command uses is decided in one place, :func:`choose_model`: the model given
(``--model``), else ``$TOOLKIT_MODEL``, else the project's trained model (``models/default.npz``)
when there is a project and it has one, else the shipped model.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from toolkit.errors import ProjectError
from toolkit.model import card_path, shipped_model_path

ENV = "TOOLKIT_PROJECT"
MODEL_ENV = "TOOLKIT_MODEL"
MARKER = "annotations"
"""The folder whose presence makes a folder a project's root."""


@dataclass(frozen=True)
class Project:
    """A project's root folder and the fixed places of its files under it."""

    root: Path

    @property
    def annotations(self) -> Path:
        return self.root / MARKER

    @property
    def corpus(self) -> Path:
        """Reports to label and train on (``annotations/corpus``)."""
        return self.annotations / "corpus"

    @property
    def labels(self) -> Path:
        """The annotation store (``annotations/labels.jsonl``)."""
        return self.annotations / "labels.jsonl"

    @property
    def heldout(self) -> Path:
        """The untouched test set (``annotations/heldout``: ``reports/`` and ``labels.jsonl``)."""
        return self.annotations / "heldout"

    @property
    def models(self) -> Path:
        """Where trained models are written (``models/``)."""
        return self.root / "models"

    @property
    def model(self) -> Path:
        """The project's own model, written by ``toolkit train`` and ``toolkit serve`` (``models/default.npz``)."""
        return self.models / "default.npz"


def _checked(root: Path, source: str) -> Project:
    if not (root / MARKER).is_dir():
        raise ProjectError(f"{root}: not an annotation project ({source} names a folder without {MARKER}/)")
    return Project(root.resolve())


def find_project(explicit: str | os.PathLike | None = None, start: str | os.PathLike | None = None) -> Project:
    """The project at ``explicit``, else at ``$TOOLKIT_PROJECT``, else the nearest folder from
    ``start`` (default: the current folder) upwards that holds ``annotations/``; a one-line
    :class:`ProjectError` saying what is missing otherwise."""
    if explicit is not None:
        return _checked(Path(explicit), "--project")
    if os.environ.get(ENV):
        return _checked(Path(os.environ[ENV]), ENV)
    here = Path(start if start is not None else os.getcwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / MARKER).is_dir():
            return Project(folder)
    raise ProjectError(f"no annotation project in {here} or its parents (a folder holding {MARKER}/); "
                       f"pass --project DIR or set {ENV}")


def optional_project(explicit: str | os.PathLike | None = None) -> Project | None:
    """:func:`find_project`, or ``None`` when none is named and none is found (a named one must exist)."""
    if explicit is not None or os.environ.get(ENV):
        return find_project(explicit)
    try:
        return find_project()
    except ProjectError:
        return None


MODEL_SOURCES = {"given": "given with --model", "env": f"${MODEL_ENV}", "project": "the project's trained model",
                 "shipped": "the shipped model"}
"""Where a :class:`ModelChoice` comes from, as it is told on stderr."""


@dataclass(frozen=True)
class ModelChoice:
    """The model file a command uses and where the choice came from (a key of :data:`MODEL_SOURCES`)."""

    path: Path
    source: str

    def describe(self) -> str:
        """One line naming the file, why it was chosen and what its card says (version, taxonomy,
        training data), e.g. for a command's stderr."""
        card = _card_of(self.path)
        facts = [f"version {card['model_version']}" if card.get("model_version") else "",
                 f"taxonomy {card['taxonomy_version']}" if card.get("taxonomy_version") else "",
                 f"trained {card['trained_at']}" if card.get("trained_at") else ""]
        data = card.get("training_data")
        if isinstance(data, dict) and isinstance(data.get("sentences"), int):
            facts.append(f"{data['sentences']} training sentences")
        facts = [f for f in facts if f]
        return f"model {self.path} ({MODEL_SOURCES[self.source]}{'; ' + ', '.join(facts) if facts else ''})"


def _card_of(path: Path) -> dict:
    try:
        card = json.loads(card_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return card if isinstance(card, dict) else {}


def choose_model(given: str | os.PathLike | None = None, project: Project | None = None) -> ModelChoice:
    """The one rule for which model a command uses: ``given`` (``--model``) if set, else
    ``$TOOLKIT_MODEL`` if set, else ``project``'s trained model (``models/default.npz``) if it
    exists, else the shipped model. A given path is returned as it is; loading it says what is
    wrong with it."""
    if given is not None and str(given):
        return ModelChoice(Path(given), "given")
    if os.environ.get(MODEL_ENV):
        return ModelChoice(Path(os.environ[MODEL_ENV]), "env")
    if project is not None and project.model.is_file():
        return ModelChoice(project.model, "project")
    return ModelChoice(shipped_model_path(), "shipped")
