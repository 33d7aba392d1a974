"""The section model: prediction with confidence, the part rule, and persistence.

A model is a fitted scikit-learn pipeline over sentence records (:mod:`toolkit.pipeline`), its
compiled form for fast tagging (:mod:`toolkit.compiled`) and a JSON model card. The model file is
a NumPy ``.npz`` holding the compiled form of both models (in context and alone) and their
calibration as plain arrays and JSON; it is read with ``allow_pickle=False``, so loading a model
for tagging can run no code and imports no scikit-learn. The fitted pipeline, needed only to
inspect or refit the model, is a joblib file beside it (:func:`pipeline_path`), unpickled only
when asked for. A model whose classifier has no compiled form (the calibrated SVM, the majority
baseline) predicts through pickled scikit-learn objects, so loading it needs ``trust_pickle``.
The card records the SHA-256 of every file, checked before anything is read. This module imports
no scikit-learn.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import warnings
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path

import numpy as np

from toolkit.calibration import Calibration, apply_parts, temper
from toolkit.compiled import CompiledModel, from_arrays, to_arrays
from toolkit.errors import ModelError, ModelWarning
from toolkit.fileio import atomic_write_bytes, atomic_write_text, locked
from toolkit.segment import segment_text
from toolkit.tags import Tagged, tag_reports, tag_sentences
from toolkit.taxonomy import BY_SLUG, PARTS, TAXONOMY_VERSION

FORMAT = "toolkit-section-model/4"
BATCH_CHARS_PER_RECORD = 60
"""A prediction batch of ``batch`` records holds at most ``batch`` times this many characters of
sentence text (about a real sentence's mean length): a file of 300-character pieces with no
sentence end would otherwise build features five times the size of an ordinary batch's."""


def _batch_bounds(records: Sequence[dict], size: int) -> list[int]:
    """Where batches of at most ``size`` records and ``size * BATCH_CHARS_PER_RECORD`` characters begin and end."""
    budget = size * BATCH_CHARS_PER_RECORD
    bounds, count, chars = [0], 0, 0
    for i, record in enumerate(records):
        count += 1
        chars += len(record.get("text", ""))
        if count >= size or chars >= budget:
            bounds.append(i + 1)
            count, chars = 0, 0
    if bounds[-1] != len(records):
        bounds.append(len(records))
    return bounds


class SectionModel:
    """A fitted model and its card. ``predict`` gives labels and confidences.

    Predictions come from the compiled form (:mod:`toolkit.compiled`) when the pipeline has one,
    so tagging does not import scikit-learn; the scikit-learn pipeline itself is unpickled only
    when asked for (:attr:`pipeline`).
    """

    def __init__(self, pipeline=None, card: dict | None = None, *, compiled=None, alone=None,
                 calibration: Calibration | None = None, alone_calibration: Calibration | None = None,
                 pipeline_file: Path | None = None):
        if pipeline is None and compiled is None and pipeline_file is None:
            raise ValueError("a SectionModel needs a pipeline, its file or a compiled form")
        self._pipeline = pipeline
        self.pipeline_file = pipeline_file
        self.compiled = compiled
        self._alone = alone
        self._load_alone: Callable[[], object] | None = None
        self.calibration = calibration
        self.alone_calibration = alone_calibration
        self.card = dict(card or {})

    @property
    def pipeline(self):
        """The scikit-learn pipeline, unpickled on first use from :attr:`pipeline_file` after
        checking it against the card's SHA-256 (with a :class:`ModelWarning` for a file outside a
        ``models/`` folder: a pickle runs code when loaded)."""
        if self._pipeline is None:
            self._pipeline = unpickle(self.pipeline_file, self.card.get("pipeline_sha256"), f"model {self.version}")
        return self._pipeline

    @property
    def alone(self):
        """The text-only model for sentences without their report, or ``None``. Read on first use:
        tagging whole reports never needs it."""
        if self._alone is None and self._load_alone is not None:
            self._alone, self._load_alone = self._load_alone(), None
        return self._alone

    @alone.setter
    def alone(self, value) -> None:
        self._alone, self._load_alone = value, None

    @property
    def has_alone(self) -> bool:
        return self._alone is not None or self._load_alone is not None

    def warm(self) -> None:
        """Load what the first prediction would (the segmenter's dictionary…), e.g. before forking."""
        if self.compiled is not None:
            self.compiled.warm()

    @property
    def min_confidence(self) -> float:
        """Below this confidence a prediction in context is flagged (fitted, else 0.5)."""
        return self.calibration.min_confidence if self.calibration else 0.5

    @property
    def alone_min_confidence(self) -> float:
        """Below this confidence a prediction for a sentence alone is flagged (fitted, else 0.5)."""
        return self.alone_calibration.min_confidence if self.alone_calibration else self.min_confidence

    @property
    def classes(self) -> list[str]:
        if self.compiled is not None:
            return list(self.compiled.classes)
        return [str(c) for c in self.pipeline.classes_]

    @property
    def version(self) -> str:
        return str(self.card.get("model_version", "unversioned"))

    def _context_proba(self, records: Sequence[dict]) -> np.ndarray:
        if self.compiled is not None:
            return self.compiled.predict_proba(records)
        return self.pipeline.predict_proba(records)

    def _alone_rows(self, records: Sequence[dict]) -> np.ndarray:
        """Which records go to the text-only model: those marked ``alone``
        (:func:`toolkit.context.alone_record`), when the model has one."""
        return np.array([bool(r.get("alone")) and self.has_alone for r in records], dtype=bool)

    def raw_proba(self, records: Sequence[dict], alone: np.ndarray | None = None) -> np.ndarray:
        """Probabilities before calibration and the part rule; records marked ``alone`` go to the
        text-only model when there is one (``alone``: that mask, if already known)."""
        records = list(records)
        proba = np.zeros((len(records), len(self.classes)))
        alone = self._alone_rows(records) if alone is None else alone
        rows = np.flatnonzero(~alone)
        if len(rows):
            proba[rows] = self._context_proba([records[i] for i in rows])
        rows = np.flatnonzero(alone)
        if len(rows):
            proba[rows] = self.alone.predict_proba([records[i] for i in rows])
        return proba

    def predict_proba(self, records: Sequence[dict], *, batch: int | None = None) -> np.ndarray:
        """Class probabilities, columns in :attr:`classes` order: calibrated with the part
        evidence and the report's sequence weighed in (or the hard part rule, for a model trained
        without calibration). Records of one report are weighed together: give whole reports.
        ``batch``: build the features of at most that many records, and that many times
        :data:`BATCH_CHARS_PER_RECORD` characters of sentence text, at a time, so memory stays
        bounded on a huge report of long sentences too; its sequence is still weighed over all its
        sentences."""
        records = list(records)
        if not records:
            return np.zeros((0, len(self.classes)))
        bounds = _batch_bounds(records, batch) if batch else [0, len(records)]
        weighed = np.vstack([self._weighed_proba(records[a:b]) for a, b in zip(bounds, bounds[1:])])
        return self._finish_proba(records, weighed)

    def _weighed_proba(self, records: Sequence[dict]) -> np.ndarray:
        """Each sentence's probabilities with the part evidence weighed in: they depend on the
        sentence's own record only, so batches can be computed apart."""
        records = list(records)
        alone = self._alone_rows(records)
        proba = self.raw_proba(records, alone)
        context = np.flatnonzero(~alone)
        if len(context) and self.calibration is not None:
            proba[context] = apply_parts([records[i] for i in context], proba[context], self.classes,
                                         self.calibration.part_weights)
        elif len(context) and self.card.get("params", {}).get("part_rule", False):
            proba[context] = apply_part_rule([records[i] for i in context], proba[context], self.classes)
        return proba

    def _finish_proba(self, records: list[dict], weighed: np.ndarray) -> np.ndarray:
        """Over whole reports: the report's sequence, the temperature and the confidence cap
        (sentences alone: their temperature)."""
        proba = np.array(weighed, dtype=float)
        alone = self._alone_rows(records)
        context = np.flatnonzero(~alone)
        if len(context) and self.calibration is not None:
            proba[context] = self.calibration.finish([records[i] for i in context], proba[context], self.classes)
        if alone.any() and self.alone_calibration is not None:
            proba[alone] = temper(proba[alone], self.alone_calibration.temperature)
        return proba

    def tag(self, text: str, *, source: str = "") -> list[Tagged]:
        """Every sentence of raw report text (one or several reports, any of the accepted forms:
        full-width punctuation, odd spaces…) tagged in context: a list of
        :class:`toolkit.tags.Tagged`, in reading order, each with its text as written.

        >>> model = load_model()
        >>> [t.label for t in model.tag("一、加强组织建设。新发展会员45人。")]
        ['organization', 'organization']
        """
        reports = segment_text(text, source, group=False)
        return [t for tags in tag_reports(self, reports) for t in tags]

    def tag_sentences(self, sentences: Sequence[str]) -> list[Tagged]:
        """Sentences without their report, each classified by its text alone (see
        :func:`toolkit.tags.tag_sentences`)."""
        return tag_sentences(self, sentences)

    def min_confidences(self, records: Sequence[dict]) -> list[float]:
        """The low-confidence threshold that applies to each record (in context or alone)."""
        return [self.alone_min_confidence if a else self.min_confidence for a in self._alone_rows(records)]

    def predict(self, records: Sequence[dict], *, batch: int | None = None) -> tuple[list[str], list[float]]:
        """Most probable label and its probability for each record (``batch``: as for :meth:`predict_proba`)."""
        proba = self.predict_proba(records, batch=batch)
        if not len(proba):
            return [], []
        best = proba.argmax(axis=1)
        classes = self.classes
        return [classes[i] for i in best], [float(p) for p in proba[np.arange(len(best)), best]]


def apply_part_rule(records: Sequence[dict], proba: np.ndarray, classes: Sequence[str]) -> np.ndarray:
    """Taxonomy rule: some parts of a report decide over the topic words (:data:`~toolkit.taxonomy.PARTS`:
    the opening paragraphs, a problems section, the plans part, a charity section, the closing).

    For a record whose ``part`` names such a label, the probability of every topic section moves to
    that label, so the confidence stays a probability: :func:`toolkit.calibration.apply_parts` with
    every part at full weight (the rule of a model trained without calibration).
    """
    return apply_parts([{"evidence": r.get("part") or ""} for r in records], proba, classes, dict.fromkeys(PARTS, 1.0))


def card_path(model_path: str | os.PathLike) -> Path:
    """``models/default.npz`` → ``models/default.json``."""
    return Path(model_path).with_suffix(".json")


def pipeline_path(model_path: str | os.PathLike) -> Path:
    """``models/default.npz`` → ``models/default.pipeline.joblib`` (the fitted scikit-learn pipeline:
    needed to inspect or refit the model, never to tag)."""
    return Path(model_path).with_suffix(".pipeline.joblib")


def alone_path(model_path: str | os.PathLike) -> Path:
    """``models/x.npz`` → ``models/x.alone.joblib``: the text-only model of a model without a
    compiled form (pickled, so loading it needs ``trust_pickle``)."""
    return Path(model_path).with_suffix(".alone.joblib")


def _pickle_bytes(obj) -> bytes:
    import joblib

    buffer = io.BytesIO()
    joblib.dump(obj, buffer, compress=3)
    return buffer.getvalue()


def save_model(model: SectionModel, path: str | os.PathLike) -> dict:
    """Write the model (``.npz``), its pipeline (joblib, :func:`pipeline_path`) and its card
    atomically; return the card. A model without a compiled form also writes its text-only model
    with joblib (:func:`alone_path`) and records in the card and the file what is pickled."""
    path = Path(path)
    if path.suffix != ".npz":
        raise ModelError(f"{path}: a model file name ends in .npz")
    spec: dict = {"format": FORMAT, "taxonomy_version": TAXONOMY_VERSION,
                  "calibration": model.calibration.to_dict() if model.calibration else None,
                  "alone_calibration": model.alone_calibration.to_dict() if model.alone_calibration else None,
                  "context": None, "alone": None, "pickled": []}
    arrays: dict[str, np.ndarray] = {}
    if model.compiled is not None:
        spec["context"], found = to_arrays(model.compiled, "context.")
        arrays.update(found)
    else:
        spec["pickled"].append("context")
    files = {}
    alone = model.alone
    if isinstance(alone, CompiledModel):
        spec["alone"], found = to_arrays(alone, "alone.")
        arrays.update(found)
    elif alone is not None:
        spec["pickled"].append("alone")
        files["alone"] = (alone_path(path), _pickle_bytes(alone))
    files["pipeline"] = (pipeline_path(path), _pickle_bytes(model.pipeline))
    arrays["spec"] = np.frombuffer(json.dumps(spec, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    data = buffer.getvalue()
    dropped = ("pipeline_file", "pipeline_sha256", "alone_file", "alone_sha256", "pickled")
    card = {k: v for k, v in model.card.items() if k not in dropped}
    for kind, (side, side_data) in files.items():
        atomic_write_bytes(side, side_data)
        card.update({f"{kind}_file": side.name, f"{kind}_sha256": hashlib.sha256(side_data).hexdigest()})
    card.update({"format": FORMAT, "taxonomy_version": TAXONOMY_VERSION, "model_file": path.name,
                 "model_sha256": hashlib.sha256(data).hexdigest(), "model_bytes": len(data), "pickled": spec["pickled"]})
    atomic_write_bytes(path, data)
    atomic_write_text(card_path(path), json.dumps(card, ensure_ascii=False, indent=2) + "\n")
    model.card = card
    return card


def read_card(path: str | os.PathLike) -> dict:
    """The model card beside ``path``, validated; :class:`ModelError` if missing or malformed."""
    card_file = card_path(path)
    if not card_file.exists():
        if not _is_npz(path):
            raise ModelError(f"{path}: not a model file (a model is the .npz archive 'toolkit train' writes, "
                             "with its card NAME.json beside it)")
        raise ModelError(f"{path}: no model card {card_file.name} beside it; retrain with 'toolkit train'")
    try:
        card = json.loads(card_file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ModelError(f"{card_file}: model card is not valid JSON") from None
    if not isinstance(card, dict) or card.get("format") != FORMAT:
        raise ModelError(f"{card_file}: not a toolkit model card of format {FORMAT} "
                         f"(format {card.get('format') if isinstance(card, dict) else None!r}); retrain with 'toolkit train'")
    if card.get("taxonomy_version") != TAXONOMY_VERSION:
        raise ModelError(f"{path}: made for taxonomy {card.get('taxonomy_version')!r}, this toolkit uses {TAXONOMY_VERSION!r}; retrain")
    return card


def _is_npz(path: str | os.PathLike) -> bool:
    """Does the file at ``path`` begin as a zip archive (what an ``.npz`` file is)?"""
    try:
        with open(path, "rb") as handle:
            return handle.read(4) == b"PK\x03\x04"
    except OSError:
        return False


def read_model_bytes(path: str | os.PathLike) -> tuple[bytes, dict]:
    """The model file's bytes and its card, after checking that the SHA-256 matches."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: model file not found")
    card = read_card(path)
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != card.get("model_sha256"):
        raise ModelError(f"{path}: SHA-256 does not match its model card: the file is corrupt, truncated or replaced")
    return data, card


def trusts_pickle(trust_pickle: bool | None) -> bool:
    """``trust_pickle`` as given, or, when ``None``, whether ``$TOOLKIT_TRUST_PICKLE`` is ``1``."""
    return os.environ.get("TOOLKIT_TRUST_PICKLE") == "1" if trust_pickle is None else bool(trust_pickle)


def unpickle(path: Path | None, sha256: str | None, name: str):
    """The joblib file ``path`` unpickled after checking its SHA-256 against the card's; a
    :class:`ModelWarning` first if it lies outside a ``models/`` folder and the shipped model's."""
    import joblib

    if path is None or not path.is_file():
        raise ModelError(f"{name}: its scikit-learn file is missing ({path.name if path else 'none recorded'}); "
                         "retrain to inspect or refit it")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ModelError(f"{path}: SHA-256 does not match its model card: the file is corrupt, truncated or replaced")
    folder = path.resolve().parent
    if folder.name != "models" and folder != shipped_model_path().resolve().parent:
        warnings.warn(ModelWarning(f"{path} is outside models/; unpickling it runs any code it holds, "
                                   "so load only files you trust"), stacklevel=3)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return joblib.load(io.BytesIO(data))
    except Exception as exc:  # a pickle from other library versions fails in many ways
        raise ModelError(f"{path}: cannot be unpickled ({type(exc).__name__}); retrain") from None


def _why(exc: Exception) -> str:
    if isinstance(exc, ValueError) and ("pickled" in str(exc) or "Object arrays" in str(exc)):
        return "an array holds pickled objects, which could run code when loaded: refused"
    return f"{type(exc).__name__}: {str(exc).splitlines()[0][:80] if str(exc) else 'malformed'}"


def model_from_bytes(data: bytes, card: dict, name: str = "model", *, folder: Path | None = None,
                     trust_pickle: bool = False) -> SectionModel:
    """The model in verified ``.npz`` bytes (see :func:`read_model_bytes`), read without pickle;
    its side files (pipeline, pickled parts) are looked for in ``folder``. A model with pickled
    parts needs ``trust_pickle``."""
    if not data.startswith(b"PK\x03\x04"):
        raise ModelError(f"{name}: not a toolkit model file: not an .npz archive (a pickle or joblib file is never "
                         "loaded as a model: it could run code)")
    try:
        arrays = np.load(io.BytesIO(data), allow_pickle=False)
        spec = json.loads(arrays["spec"].tobytes().decode("utf-8"))
    except Exception as exc:  # NumPy and zipfile raise many kinds on a foreign or damaged file
        raise ModelError(f"{name}: not a toolkit model file ({_why(exc)})") from None
    if not isinstance(spec, dict) or spec.get("format") != FORMAT:
        raise ModelError(f"{name}: not a toolkit section model of format {FORMAT}")
    if spec.get("taxonomy_version") != TAXONOMY_VERSION:
        raise ModelError(f"{name}: made for taxonomy {spec.get('taxonomy_version')!r}, expected {TAXONOMY_VERSION!r}")
    pickled = list(spec.get("pickled") or [])
    if pickled and not trust_pickle:
        raise ModelError(f"{name}: its classifier has no compiled form, so its {' and '.join(pickled)} model is pickled "
                         "and would run code when loaded; pass trust_pickle=True (command line: TOOLKIT_TRUST_PICKLE=1) "
                         "only for a file you trust")

    def side(kind: str) -> Path | None:
        return folder / card[f"{kind}_file"] if folder is not None and card.get(f"{kind}_file") else None

    def compiled(kind: str):
        try:
            return from_arrays(spec[kind], arrays, f"{kind}.")
        except Exception as exc:  # a malformed spec or a member of the wrong shape or type
            raise ModelError(f"{name}: its {kind} model is malformed ({_why(exc)})") from None

    calibration, alone_calibration = spec.get("calibration"), spec.get("alone_calibration")
    model = SectionModel(card=card, compiled=None if "context" in pickled else compiled("context"),
                         pipeline_file=side("pipeline"),
                         calibration=Calibration.from_dict(calibration) if calibration else None,
                         alone_calibration=Calibration.from_dict(alone_calibration) if alone_calibration else None)
    if "context" in pickled:
        _ = model.pipeline
    if "alone" in pickled:
        model._load_alone = lambda: unpickle(side("alone"), card.get("alone_sha256"), name)
    elif spec.get("alone"):
        model._load_alone = lambda: compiled("alone")
    unknown = [c for c in model.classes if c not in BY_SLUG]
    if unknown:
        raise ModelError(f"{name}: predicts labels outside the taxonomy: {unknown}")
    return model


def shipped_model_path() -> Path:
    """The model that ships inside the package (package data ``toolkit/data/default.npz``)."""
    return Path(str(resources.files("toolkit.data").joinpath("default.npz")))


def default_model_path() -> Path:
    """``$TOOLKIT_MODEL`` if set, else the shipped model (:func:`shipped_model_path`)."""
    env = os.environ.get("TOOLKIT_MODEL")
    return Path(env) if env else shipped_model_path()


def load_model(path: str | os.PathLike | None = None, *, trust_pickle: bool | None = None) -> SectionModel:
    """Load a model (the shipped one by default) after checking its card, SHA-256 and taxonomy;
    one-line :class:`ModelError` otherwise. Nothing is unpickled unless the model has no compiled
    form and ``trust_pickle`` is true (``None``: ``$TOOLKIT_TRUST_PICKLE=1``)."""
    path = default_model_path() if path is None else Path(path)
    data, card = read_model_bytes(path)
    return model_from_bytes(data, card, str(path), folder=path.parent, trust_pickle=trusts_pickle(trust_pickle))


def model_files(path: str | os.PathLike) -> list[Path]:
    """The files that make up the model at ``path``: the model file, its card and every file the
    card names (``*_file``), those that exist."""
    path = Path(path)
    files = [path, card_path(path)]
    try:
        card = json.loads(card_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        card = {}
    if isinstance(card, dict):
        files += [path.with_name(v) for k, v in card.items() if k.endswith("_file") and isinstance(v, str)
                  and path.with_name(v) not in files]
    return [f for f in files if f.is_file()]


def previous_path(path: str | os.PathLike) -> Path:
    """Where the model that :func:`replace_model` replaced is kept: ``models/default.npz`` →
    ``models/default.previous/default.npz`` (its card and pipeline beside it, as loadable as any model)."""
    path = Path(path)
    return path.with_name(f"{path.stem}.previous") / path.name


def _keep_copy(files: Sequence[Path], folder: Path) -> None:
    """Copy ``files`` into ``folder``, replacing what it held, so that it never holds a mix of two models."""
    import shutil
    import tempfile

    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=folder.parent))
    try:
        for f in files:
            shutil.copy2(f, staging / f.name)
        if folder.exists():
            old = folder.with_name(f".{folder.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(folder, old)
            os.replace(staging, folder)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def replace_model(model: SectionModel, path: str | os.PathLike) -> dict:
    """Save ``model`` to ``path`` (as :func:`save_model`), first keeping the model it replaces in
    :func:`previous_path`, so that a bad retrain can be undone with :func:`rollback_model`. The
    model's lock (:func:`toolkit.fileio.locked` on ``path``) is held throughout, so two writers
    cannot mix their files. Returns the new card."""
    path = Path(path)
    with locked(path):
        if path.is_file():
            _keep_copy(model_files(path), previous_path(path).parent)
        return save_model(model, path)


def rollback_model(path: str | os.PathLike) -> dict:
    """Put back the model :func:`replace_model` kept, after checking it (card, SHA-256, taxonomy),
    and keep the one it replaces in its place, so a second rollback undoes the first. Returns the
    card of the model now at ``path``; :class:`ModelError` if no model was kept."""
    import shutil

    path = Path(path)
    kept = previous_path(path)
    if not kept.is_file():
        raise ModelError(f"{path}: no earlier model kept in {kept.parent}; nothing to roll back to")
    with locked(path):
        read_model_bytes(kept)
        current = model_files(path)
        earlier = model_files(kept)
        staging = kept.parent.with_name(f".{kept.parent.name}.swap")
        shutil.rmtree(staging, ignore_errors=True)
        _keep_copy(earlier, staging)
        try:
            if current:
                _keep_copy(current, kept.parent)
            names = {f.name for f in earlier}
            for f in current:
                if f.name not in names:
                    f.unlink()
            for f in sorted(staging.iterdir(), key=lambda f: f.name == card_path(path).name):
                atomic_write_bytes(path.with_name(f.name), f.read_bytes())
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return read_card(path)
