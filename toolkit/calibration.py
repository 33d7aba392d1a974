"""Confidence the user can trust, learned from out-of-fold predictions on the training data.

Three things are fitted, and applied, in this order, on probabilities the model gave to sentences it was not
trained on (grouped inner folds, see :class:`toolkit.estimator.SectionClassifier`):

1. **Part weights.** The parts of a report (:data:`toolkit.context.EVIDENCE`: the paragraphs before
   the first heading, a problems or plans part, the closing paragraph, a charity section, the
   page's own lines) speak for a label over a sentence's topic words, but each detector is right
   to a different degree. For each detector a weight ``w`` in [0, 1] says what share of the topic
   sections' probability moves to the part's label; it is the ``w`` that maximises the
   likelihood of the true labels of the sentences that detector fired on. A detector that is
   often wrong thus moves little, and none overrides the text at 1.00 unless the data say so.
2. **Temperature** (Guo et al., 2017): one scalar ``T`` that sharpens or softens every
   probability (``p ** (1/T)``, renormalised, the same as dividing the logits by ``T``), chosen
   to maximise the likelihood. It keeps the ranking and so the predicted label.
3. **Top-label confidence** (Gupta and Ramdas, 2021): the temperature is one number for every
   sentence, and on real reports the most confident predictions stayed more sure than they were
   right. An isotonic map (scikit-learn's :class:`~sklearn.isotonic.IsotonicRegression`, fitted
   at training time) from the predicted label's probability to how often that label was right on
   the real reports' out-of-fold rows replaces it; the other labels share the rest as before,
   and the predicted label never changes (:func:`map_confidence`).
4. **The low-confidence threshold**: the confidence below which the least sure
   ``flag_share`` of the out-of-fold predictions fall, so the flag marks a known share of
   sentences for review.

Only NumPy is used to apply a calibration, so tagging needs no scikit-learn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from toolkit.segment import names_a_report
from toolkit.taxonomy import TOPICS

WEIGHT_GRID = tuple(round(w, 2) for w in np.linspace(0.0, 1.0, 21))
TEMPERATURE_GRID = tuple(round(t, 3) for t in np.exp(np.linspace(np.log(0.25), np.log(4.0), 49)))
DEFAULT_FLAG_SHARE = 0.2
_EPS = 1e-12


@dataclass
class Calibration:
    """Fitted part weights, sequence weight, temperature and low-confidence threshold (see the
    module docstring). ``transitions`` is the label-to-next-label matrix of the training reports
    (columns and rows in the model's class order), empty when the sequence is not used."""

    part_weights: dict[str, float] = field(default_factory=dict)
    temperature: float = 1.0
    min_confidence: float = 0.5
    transitions: list[list[float]] = field(default_factory=list)
    sequence_weight: float = 0.0
    contradiction_cap: float = 1.0
    confidence_map: list[list[float]] = field(default_factory=list)
    title_cap: float = 1.0

    def apply(self, records: Sequence[dict], proba: np.ndarray, classes: Sequence[str]) -> np.ndarray:
        """Probabilities with the part evidence and the report's sequence weighed in, then tempered."""
        return self.finish(records, apply_parts(records, proba, classes, self.part_weights), classes)

    def finish(self, records: Sequence[dict], weighed: np.ndarray, classes: Sequence[str]) -> np.ndarray:
        """What follows the part weights: the report's sequence, the temperature and the cap. It
        needs every sentence of a report at once; the part weights do not, so a long report's
        batches can be weighed apart and finished together."""
        if self.sequence_weight > 0 and self.transitions:
            weighed = smooth_sequences(records, weighed, np.asarray(self.transitions), self.sequence_weight)
        capped = cap_contradicted(records, temper(weighed, self.temperature), classes, self.contradiction_cap)
        return cap_titles(records, map_confidence(capped, self.confidence_map), self.title_cap)

    def to_dict(self) -> dict:
        return {"part_weights": dict(self.part_weights), "temperature": self.temperature,
                "min_confidence": self.min_confidence, "transitions": [list(map(float, row)) for row in self.transitions],
                "sequence_weight": self.sequence_weight, "contradiction_cap": self.contradiction_cap,
                "confidence_map": [list(map(float, row)) for row in self.confidence_map], "title_cap": self.title_cap}

    @classmethod
    def from_dict(cls, data: dict) -> "Calibration":
        return cls({str(k): float(v) for k, v in data.get("part_weights", {}).items()},
                   float(data.get("temperature", 1.0)), float(data.get("min_confidence", 0.5)),
                   [[float(x) for x in row] for row in data.get("transitions", [])],
                   float(data.get("sequence_weight", 0.0)), float(data.get("contradiction_cap", 1.0)),
                   [[float(x) for x in row] for row in data.get("confidence_map", [])], float(data.get("title_cap", 1.0)))


MIN_MAP_ROWS = 100
"""Fewer real out-of-fold rows than this, and no confidence map is fitted (the temperature alone speaks)."""


def fit_confidence_map(proba: np.ndarray, y: np.ndarray) -> list[list[float]]:
    """``[confidences, accuracies]``: the isotonic map from the predicted label's probability to
    how often it was right, on out-of-fold rows (empty with fewer than :data:`MIN_MAP_ROWS`)."""
    if len(y) < MIN_MAP_ROWS:
        return []
    from sklearn.isotonic import IsotonicRegression

    confidence = proba.max(axis=1)
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(confidence, proba.argmax(axis=1) == y)
    return [list(map(float, iso.X_thresholds_)), list(map(float, iso.y_thresholds_))]


def map_confidence(proba: np.ndarray, confidence_map: Sequence[Sequence[float]]) -> np.ndarray:
    """Each row's top probability replaced by its mapped value (linear between the map's points),
    the other labels rescaled to share the rest in the same ratios; the top label stays on top (its
    new value is raised where needed to stay above the second)."""
    if not len(confidence_map) or not len(proba):
        return proba
    best = proba.argmax(axis=1)
    rows = np.arange(len(proba))
    top = proba[rows, best]
    second = np.partition(proba, -2, axis=1)[:, -2] if proba.shape[1] > 1 else np.zeros(len(proba))
    mapped = np.interp(top, confidence_map[0], confidence_map[1])
    rest = np.clip(1.0 - top, _EPS, None)
    floor = second / np.clip(rest + second, _EPS, None) + 1e-9  # the least value that keeps the top label first
    mapped = np.clip(np.maximum(mapped, floor), 0.0, 1.0)
    out = proba * ((1.0 - mapped) / rest)[:, None]
    out[rows, best] = mapped
    return out


CONTRADICTION_CAP = 0.85
"""The highest confidence a part label (problems, plans, closing) may have when the sentence's own
text speaks of a union topic and not of that part: context alone never makes such a label sure."""
_CAPPED_PARTS = ("problems", "plans", "closing")


def cap_contradicted(records: Sequence[dict], proba: np.ndarray, classes: Sequence[str], cap: float) -> np.ndarray:
    """Rows whose most probable label is a part (problems, plans, closing) above ``cap`` while the
    sentence's text names a topic's cue words and none of that part's: the part's probability is
    set to ``cap`` and the rest shared out as before, so the label stays and its confidence says
    that only the context speaks for it."""
    if cap >= 1.0 or not len(proba):
        return proba
    from toolkit.weak import CUE_NAMES, cue_matrix  # the cue lists; weak imports no model code

    classes = list(classes)
    best = proba.argmax(axis=1)
    parts = {classes.index(p): p for p in _CAPPED_PARTS if p in classes}
    rows = [i for i in range(len(proba)) if best[i] in parts and proba[i, best[i]] > cap]
    if not rows:
        return proba
    cues = cue_matrix([records[i].get("text", "") for i in rows])
    topics = [j for j, name in enumerate(CUE_NAMES) if name in TOPICS]
    out = proba.copy()
    for k, i in enumerate(rows):
        own = CUE_NAMES.index(parts[best[i]])
        if cues[k, topics].any() and not cues[k, own]:
            _cap_row(out, i, best[i], cap)
    return out


TITLE_CAP = 0.85
"""The highest confidence of a line that may be the report's own title: one the page rules took for
it (``overview:title``), or any line that names a report (:func:`toolkit.segment.names_a_report`).
Of the titles a web page stacks above a report (the site's, the collection's, the page's, the
report's), which one is the report's own is often unclear, to annotators as well (they agreed on 12
of 21 such lines in the development set), so such a line is likely ``overview`` or ``other``, not
sure of either: like a contradicted part label it stays below 0.9 (whether it is also flagged
depends on the fitted low-confidence threshold)."""


def cap_titles(records: Sequence[dict], proba: np.ndarray, cap: float) -> np.ndarray:
    """Rows of lines that may be the report's title (see :data:`TITLE_CAP`) whose top probability
    is above ``cap``: it is set to ``cap`` and the rest shared out as before; the label stays."""
    if cap >= 1.0 or not len(proba):
        return proba
    best = proba.argmax(axis=1)
    sure = np.flatnonzero(proba[np.arange(len(proba)), best] > cap)
    rows = [i for i in sure if records[i].get("evidence") == "overview:title" or names_a_report(records[i].get("text", ""))]
    if not rows:
        return proba
    out = proba.copy()
    for i in rows:
        _cap_row(out, i, best[i], cap)
    return out


def _cap_row(proba: np.ndarray, i: int, top: int, cap: float) -> None:
    """Row ``i``'s label ``top`` to probability ``cap``, the other labels rescaled to share the rest."""
    rest = 1.0 - proba[i, top]
    others = proba[i].copy()
    others[top] = 0.0
    proba[i] = others * ((1.0 - cap) / rest) if rest > _EPS else np.full(proba.shape[1], (1.0 - cap) / (proba.shape[1] - 1))
    proba[i, top] = cap


SEQUENCE_GRID = tuple(round(w, 2) for w in np.linspace(0.0, 1.0, 11))


def label_transitions(records: Sequence[dict], labels: Sequence[str], classes: Sequence[str]) -> np.ndarray:
    """How often a label follows another within a report (consecutive records of the same
    ``report``), add-one smoothed, each row a distribution over the next label."""
    index = {c: i for i, c in enumerate(classes)}
    counts = np.ones((len(classes), len(classes)))
    for a, b, la, lb in zip(records, records[1:], labels, labels[1:]):
        if a.get("report") and a.get("report") == b.get("report") and la in index and lb in index:
            counts[index[la], index[lb]] += 1
    return counts / counts.sum(axis=1, keepdims=True)


def _sequences(records: Sequence[dict]) -> list[tuple[int, int]]:
    """Runs of consecutive records of one report, as ``(start, stop)``; a record with no report
    (a sentence alone) is a run of its own."""
    runs, start = [], 0
    for i in range(1, len(records) + 1):
        if i == len(records) or not records[i].get("report") or records[i].get("report") != records[start].get("report"):
            runs.append((start, i))
            start = i
    return runs


def smooth_sequences(records: Sequence[dict], proba: np.ndarray, transitions: np.ndarray, weight: float) -> np.ndarray:
    """Each sentence's label distribution given its whole report: forward-backward over the
    report's sentences, with the classifier's probabilities as the evidence of each sentence and
    the label transitions raised to ``weight`` (0: no effect, 1: as counted in training) as the
    link between neighbours.

    Written here rather than taken from a CRF package: it decodes the calibrated probabilities of
    any classifier with one matrix, runs in NumPy on the tagging path (no scikit-learn, no
    compiled extension), and its one parameter is fitted by likelihood like the temperature.
    Marginals, not a Viterbi path, so the confidences stay probabilities. A sentence's own
    evidence always counts: the transitions only move probability between labels it leaves open.
    """
    if weight <= 0 or not len(proba):
        return proba
    a = np.power(transitions, weight)
    a = a / a.sum(axis=1, keepdims=True)
    out = proba.copy()
    p = np.clip(proba, _EPS, 1.0)
    runs = sorted((r for r in _sequences(records) if r[1] - r[0] >= 2), key=lambda r: r[1] - r[0])
    while runs:
        longest = runs[0][1] - runs[0][0]
        take = 0
        while take < len(runs) and runs[take][1] - runs[take][0] <= 2 * longest:
            take += 1
        _forward_backward(p, out, runs[:take], a)
        runs = runs[take:]
    return out


def _forward_backward(p: np.ndarray, out: np.ndarray, runs: Sequence[tuple[int, int]], a: np.ndarray) -> None:
    """Posterior marginals of several reports at once, padded to the longest (a padded step has
    evidence 1 for every label, so it changes nothing); reports of similar length go together so
    that padding stays under half the work."""
    n, k = len(runs), a.shape[0]
    length = max(stop - start for start, stop in runs)
    e = np.ones((n, length, k))
    for r, (start, stop) in enumerate(runs):
        e[r, :stop - start] = p[start:stop]
    fwd = np.empty((n, length, k))
    f = e[:, 0] / e[:, 0].sum(axis=1, keepdims=True)
    fwd[:, 0] = f
    for t in range(1, length):
        f = (f @ a) * e[:, t]
        f /= f.sum(axis=1, keepdims=True)
        fwd[:, t] = f
    post = fwd
    b = np.ones((n, k))
    for t in range(length - 2, -1, -1):
        b = (e[:, t + 1] * b) @ a.T
        b /= b.sum(axis=1, keepdims=True)
        post[:, t] *= b
    post /= post.sum(axis=2, keepdims=True)
    for r, (start, stop) in enumerate(runs):
        out[start:stop] = post[r, :stop - start]


def fit_sequence_weight(records: Sequence[dict], proba: np.ndarray, y: np.ndarray, transitions: np.ndarray) -> float:
    """The weight of :data:`SEQUENCE_GRID` with the highest likelihood of ``y`` (ties: the smaller)."""
    scores = [_log_likelihood(smooth_sequences(records, proba, transitions, w), y) for w in SEQUENCE_GRID]
    return float(SEQUENCE_GRID[int(np.argmax(scores))])


def temper(proba: np.ndarray, temperature: float) -> np.ndarray:
    """``proba ** (1 / temperature)``, each row renormalised (dividing the logits by ``temperature``)."""
    if temperature == 1.0 or not len(proba):
        return proba
    scaled = np.exp(np.log(np.clip(proba, _EPS, 1.0)) / temperature)
    return scaled / scaled.sum(axis=1, keepdims=True)


def apply_parts(records: Sequence[dict], proba: np.ndarray, classes: Sequence[str],
                weights: dict[str, float]) -> np.ndarray:
    """Move the share ``weights[evidence]`` of the topic sections' probability to the label of the
    part each record stands in; records without evidence, or whose detector has no weight, keep
    their probabilities. Rows still sum to one."""
    classes = list(classes)
    topics = [i for i, c in enumerate(classes) if c in TOPICS]
    evidence = [r.get("evidence") or "" for r in records]
    out = proba
    for kind in sorted(set(evidence) - {""}):
        w = weights.get(kind, 0.0)
        label = kind.split(":")[0]
        if w <= 0.0 or label not in classes:
            continue
        rows = np.array([e == kind for e in evidence])
        out = out.copy() if out is proba else out
        moved = out[np.ix_(rows, topics)] * w
        out[np.ix_(rows, topics)] -= moved
        out[rows, classes.index(label)] += moved.sum(axis=1)
    return out


def _log_likelihood(proba: np.ndarray, y: np.ndarray) -> float:
    return float(np.log(np.clip(proba[np.arange(len(y)), y], _EPS, 1.0)).sum())


def fit_temperature(proba: np.ndarray, y: np.ndarray) -> float:
    """The temperature of :data:`TEMPERATURE_GRID` with the highest likelihood of ``y``."""
    if not len(y):
        return 1.0
    scores = [_log_likelihood(temper(proba, t), y) for t in TEMPERATURE_GRID]
    return float(TEMPERATURE_GRID[int(np.argmax(scores))])


def fit_part_weights(records: Sequence[dict], proba: np.ndarray, y: np.ndarray,
                     classes: Sequence[str]) -> dict[str, float]:
    """For each detector, the weight of :data:`WEIGHT_GRID` with the highest likelihood of the true
    labels of the sentences it fired on (ties: the smaller weight)."""
    evidence = np.array([r.get("evidence") or "" for r in records])
    weights: dict[str, float] = {}
    for kind in sorted(set(evidence) - {""}):
        rows = np.flatnonzero(evidence == kind)
        sub = [records[i] for i in rows]
        scores = [_log_likelihood(apply_parts(sub, proba[rows], classes, {kind: w}), y[rows]) for w in WEIGHT_GRID]
        weights[kind] = float(WEIGHT_GRID[int(np.argmax(scores))])
    return weights


def fit_calibration(records: Sequence[dict], proba: np.ndarray, labels: Sequence[str], classes: Sequence[str], *,
                    part_rule: bool = True, flag_share: float = DEFAULT_FLAG_SHARE,
                    transitions: np.ndarray | None = None, temper_on: np.ndarray | None = None,
                    map_confidence_on: bool = False) -> Calibration:
    """Temperature, part weights (with ``part_rule``), the sequence weight (with ``transitions``,
    see :func:`smooth_sequences`), with ``map_confidence_on`` the top-label confidence map
    (:func:`fit_confidence_map`), and threshold from out-of-fold ``proba``; with ``temper_on`` (a
    mask over the records, e.g. the sentences of real reports) the temperature, the map and the
    threshold are fitted on those rows only."""
    if not 0.0 <= flag_share < 1.0:
        raise ValueError(f"flag_share must be in [0, 1), got {flag_share}")
    classes = list(classes)
    known = np.array([label in classes for label in labels])
    records = [r for r, k in zip(records, known) if k]
    proba = np.asarray(proba)[known]
    y = np.array([classes.index(label) for label in labels if label in classes], dtype=int)
    real = np.ones(len(y), dtype=bool) if temper_on is None else np.asarray(temper_on, dtype=bool)[known]
    weights = fit_part_weights(records, proba, y, classes) if part_rule else {}
    weighed = apply_parts(records, proba, classes, weights)
    sequence_weight = 0.0
    if transitions is not None and len(y):
        sequence_weight = fit_sequence_weight(records, weighed, y, transitions)
        weighed = smooth_sequences(records, weighed, transitions, sequence_weight)
    temperature = fit_temperature(weighed[real], y[real])
    capped = cap_contradicted(records, temper(weighed, temperature), classes, CONTRADICTION_CAP)[real]
    confidence_map = fit_confidence_map(capped, y[real]) if map_confidence_on else []
    final = cap_titles([r for r, k in zip(records, real) if k], map_confidence(capped, confidence_map), TITLE_CAP)
    threshold = float(np.quantile(final.max(axis=1), flag_share)) if len(final) and flag_share > 0 else 0.0
    kept = [list(map(float, row)) for row in transitions] if transitions is not None and sequence_weight > 0 else []
    return Calibration(weights, temperature, round(threshold, 4), kept, sequence_weight, CONTRADICTION_CAP, confidence_map,
                       TITLE_CAP)


def reliability(confidence: Sequence[float], correct: Sequence[bool], bins: int = 10) -> list[dict]:
    """Accuracy against confidence in ``bins`` equal-width bins (for a reliability diagram), and
    the expected calibration error as the last row's ``ece``."""
    confidence = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct, dtype=float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    out = []
    ece = 0.0
    for b in range(bins):
        mask = which == b
        n = int(mask.sum())
        if n:
            ece += n / len(confidence) * abs(correct[mask].mean() - confidence[mask].mean())
        out.append({"low": round(float(edges[b]), 2), "high": round(float(edges[b + 1]), 2), "n": n,
                    "confidence": round(float(confidence[mask].mean()), 4) if n else None,
                    "accuracy": round(float(correct[mask].mean()), 4) if n else None})
    return out + [{"ece": round(float(ece), 4)}]


HIGH_CONFIDENCE = 0.9
"""The confidence at and above which a prediction counts as sure in every report of precision."""


def confidence_report(confidence: Sequence[float], correct: Sequence[bool], flagged: Sequence[bool]) -> dict:
    """What a user of the confidences can rely on: the precision of the predictions made with
    confidence >= 0.9 (and their share), the share of sentences flagged ``low_confidence`` and the
    share of errors among them. ``flagged`` are the flags as given (each model's own threshold)."""
    confidence = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct, dtype=bool)
    flagged = np.asarray(flagged, dtype=bool)
    high = confidence >= HIGH_CONFIDENCE
    errors = ~correct
    return {
        "n": int(len(confidence)),
        "high_confidence_share": round(float(high.mean()), 4) if len(high) else None,
        "high_confidence_precision": round(float(correct[high].mean()), 4) if high.any() else None,
        "flagged_share": round(float(flagged.mean()), 4) if len(flagged) else None,
        "errors_flagged": round(float(flagged[errors].mean()), 4) if errors.any() else None,
    }
