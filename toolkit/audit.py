"""Label audit: the sentences whose label is most likely wrong, for a reviewer to look at first.

Confident learning (Northcutt, Jiang & Chuang, JAIR 2021), as cleanlab's ``find_label_issues``
does it, in a small implementation of our own (cleanlab is AGPL-3.0):

1. Out-of-fold predicted probabilities from grouped K-fold (whole near-duplicate report groups per
   fold, as in :mod:`toolkit.evaluation`; never shuffled sentence folds, which would let a
   duplicated sentence vouch for its own label).
2. Per-class thresholds: the mean probability the model gives a class on the sentences labelled
   with it (its mean self-confidence).
3. The confident joint: a sentence counts under (given label, j) for the most probable class j
   whose probability reaches j's threshold; sentences off the diagonal are label-issue candidates,
   kept when the model's top class also differs from the given label.
4. Ranked by self-confidence (the probability of the given label) or by normalised margin
   (p(given) - the best other class, rescaled to [0, 1]); lowest first. The suggested label is
   the model's most probable one.

On real out-of-fold probabilities of the corpus, the flagged set and its order are the same as
cleanlab 2.9's ``find_label_issues(filter_by="confident_learning")`` (checked once; the test
repeats the check where cleanlab is installed). The calibrated confident joint also estimates how
many labels are wrong in all; the estimate is rough when a section has only a few examples, as
its threshold is then tiny.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from toolkit.active import ranked_tasks
from toolkit.errors import ToolkitError
from toolkit.examples import Examples, Progress
from toolkit.labelstudio import Guess, prediction
from toolkit.params import DEFAULT_PARAMS
from toolkit.segment import Report
from toolkit.taxonomy import SLUGS, label_name

RANKINGS = ("self_confidence", "normalized_margin")
FORMATS = ("md", "jsonl", "ls")
DEFAULT_TOP = 30
GIVEN_VERSION = "given-label"
SUGGESTION_VERSION = "audit-suggestion"


# --- out-of-fold probabilities ---------------------------------------------------------------


@dataclass
class OutOfFold:
    """Out-of-fold probabilities: ``proba[i, j]`` from a model that never saw example ``i``'s report
    group; ``seen[i, j]`` says whether class ``j`` was in that model's training data at all."""

    proba: np.ndarray
    classes: list[str]
    seen: np.ndarray


def out_of_fold_proba(examples: Examples, params: Mapping | None = None, *, folds: int = 5, seed: int = 0,
                      progress: Progress | None = None) -> OutOfFold:
    """Grouped K-fold probabilities of every class for every example; columns are the given
    labels' classes in taxonomy order (a class a fold's model did not see gets probability 0)."""
    from toolkit.selection import group_folds  # scikit-learn: loaded when an audit runs, not with the CLI
    from toolkit.training import fit

    say = progress or (lambda message: None)
    classes = [s for s in SLUGS if s in set(examples.labels)]
    column = {c: k for k, c in enumerate(classes)}
    proba = np.zeros((len(examples), len(classes)))
    seen = np.zeros((len(examples), len(classes)), dtype=bool)
    for k, (train, test) in enumerate(group_folds(examples.groups, folds)):
        say(f"fold {k + 1}/{folds}: fitting on {len(train)} sentences")
        model = fit(examples.subset(train), params, seed=seed)
        fold_proba = model.predict_proba([examples.records[i] for i in test])
        for j, c in enumerate(model.classes):
            if c in column:
                proba[test, column[c]] = fold_proba[:, j]
                seen[test, column[c]] = True
    return OutOfFold(proba, classes, seen)


# --- confident learning ----------------------------------------------------------------------


def class_thresholds(proba: np.ndarray, given: np.ndarray, judged: np.ndarray | None = None) -> np.ndarray:
    """Mean self-confidence per class: mean of ``proba[i, j]`` over the examples labelled ``j``
    (only the ``judged`` ones when given; ``inf`` for a class with none, so nothing can be
    confidently counted in it)."""
    k = proba.shape[1]
    out = np.full(k, np.inf)
    for j in range(k):
        members = (given == j) if judged is None else (given == j) & judged
        if members.any():
            out[j] = float(proba[members, j].mean())
    return out


def confident_labels(proba: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """For each example, the most probable class among those reaching their threshold (less a
    1e-6 tolerance for rounding, as cleanlab does), or -1."""
    above = proba >= thresholds[None, :] - 1e-6
    best = np.where(above, proba, -1.0).argmax(axis=1)
    return np.where(above.any(axis=1), best, -1)


def confident_joint(given: np.ndarray, confident: np.ndarray, k: int) -> np.ndarray:
    """Counts ``C[given, confident]`` over the examples with a confident label; the diagonal is
    at least 1 (as in cleanlab) so calibration never divides by an empty row."""
    joint = np.zeros((k, k), dtype=int)
    for g, c in zip(given, confident):
        if c >= 0:
            joint[g, c] += 1
    np.fill_diagonal(joint, joint.diagonal().clip(min=1))
    return joint


def estimated_issues(joint: np.ndarray, given: np.ndarray) -> int:
    """Off-diagonal mass of the calibrated confident joint: rows rescaled to the class counts,
    then the whole to the number of examples (cleanlab's ``calibrate_confident_joint``)."""
    counts = np.bincount(given, minlength=joint.shape[0]).astype(float)
    rows = joint.sum(axis=1).astype(float)
    scaled = np.divide(joint, rows[:, None], out=np.zeros(joint.shape), where=rows[:, None] > 0) * counts[:, None]
    if scaled.sum() > 0:
        scaled *= counts.sum() / scaled.sum()
    return int(round(float(scaled.sum() - np.trace(scaled))))


def rank_scores(proba: np.ndarray, given: np.ndarray, ranking: str = "self_confidence") -> np.ndarray:
    """Label quality per example (lower = more likely wrong): ``self_confidence`` is p(given);
    ``normalized_margin`` is (p(given) - max other p + 1) / 2."""
    rows = np.arange(len(given))
    self_conf = proba[rows, given]
    if ranking == "self_confidence":
        return self_conf
    if ranking == "normalized_margin":
        others = proba.copy()
        others[rows, given] = -np.inf
        return (self_conf - others.max(axis=1) + 1.0) / 2.0
    raise ToolkitError(f"unknown ranking {ranking!r}; choose from {', '.join(RANKINGS)}")


def find_label_issues(proba: np.ndarray, given: np.ndarray, ranking: str = "self_confidence",
                      judged: np.ndarray | None = None) -> tuple[list[int], np.ndarray]:
    """Indices of likely label errors, most likely first, and each example's confident label.

    An example is flagged when its confident label exists and differs from the given one and the
    model's top class differs from it too. Examples not ``judged`` (their model never saw their
    given class) are neither flagged nor used for the thresholds."""
    judged = np.ones(len(given), dtype=bool) if judged is None else judged
    thresholds = class_thresholds(proba, given, judged)
    confident = np.where(judged, confident_labels(proba, thresholds), -1)
    flagged = (confident >= 0) & (confident != given) & (proba.argmax(axis=1) != given)
    scores = rank_scores(proba, given, ranking)
    order = sorted(np.flatnonzero(flagged).tolist(), key=lambda i: (float(scores[i]), i))
    return order, confident


# --- the audit -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelIssue:
    """A sentence whose label is likely wrong, with what the model suggests and its context."""

    rank: int
    id: str
    text: str
    given: str
    suggested: str
    p_given: float
    p_suggested: float
    quality: float
    heading: str
    prev: str
    next: str
    report: str

    def to_dict(self) -> dict:
        return {**asdict(self), "given_name": label_name(self.given), "suggested_name": label_name(self.suggested)}


@dataclass
class AuditResult:
    """Every flagged sentence (ranked, one entry per distinct sentence) and the confident joint."""

    issues: list[LabelIssue]
    sentences: int
    classes: list[str]
    thresholds: dict[str, float]
    joint: list[list[int]]
    estimated_errors: int
    ranking: str
    folds: int
    params: dict = field(default_factory=dict)
    unjudged: int = 0
    """Sentences whose section the out-of-fold model never saw (all its examples in that fold)."""

    def summary(self) -> str:
        unjudged = f"; {self.unjudged} not judged (their section was missing from the training folds)" if self.unjudged else ""
        return (f"{self.sentences} labelled sentences, {len(self.issues)} flagged as likely label errors "
                f"(confident joint estimates {self.estimated_errors}); ranked by {self.ranking.replace('_', ' ')}{unjudged}")


def audit_proba(examples: Examples, oof: OutOfFold, *, ranking: str = "self_confidence", folds: int = 0,
                params: Mapping | None = None) -> AuditResult:
    """Confident learning on out-of-fold probabilities ``oof`` of ``examples``."""
    proba, classes = oof.proba, oof.classes
    column = {c: k for k, c in enumerate(classes)}
    unknown = sorted(set(examples.labels) - column.keys())
    if unknown:
        raise ToolkitError(f"labels {unknown} have no probability column")
    given = np.array([column[label] for label in examples.labels], dtype=int)
    judged = oof.seen[np.arange(len(given)), given]
    order, confident = find_label_issues(proba, given, ranking, judged)
    scores = rank_scores(proba, given, ranking)
    thresholds = class_thresholds(proba, given, judged)
    issues: list[LabelIssue] = []
    seen: set[str] = set()
    for i in order:
        record = examples.records[i]
        if record["id"] in seen:
            continue
        seen.add(record["id"])
        # The suggestion is the model's best guess, not the confident label: that can be a rare section
        # whose tiny threshold was passed at p = 0.02, no suggestion to show a reviewer.
        j = int(proba[i].argmax())
        issues.append(LabelIssue(len(issues) + 1, record["id"], record["text"], examples.labels[i], classes[j],
                                 round(float(proba[i, given[i]]), 4), round(float(proba[i, j]), 4), round(float(scores[i]), 4),
                                 record["heading"], record["prev"], record["next"], examples.reports[i]))
    joint = confident_joint(given, confident, len(classes))
    return AuditResult(issues, len(examples), list(classes),
                       {c: round(float(t), 4) for c, t in zip(classes, thresholds) if np.isfinite(t)},
                       joint.tolist(), estimated_issues(joint, given[judged]) if judged.any() else 0, ranking, folds,
                       dict(params or {}), int((~judged).sum()))


def audit(examples: Examples, params: Mapping | None = None, *, folds: int = 5, seed: int = 0, ranking: str = "self_confidence",
          progress: Progress | None = None) -> AuditResult:
    """Out-of-fold probabilities (grouped K-fold) and confident learning over ``examples``."""
    if ranking not in RANKINGS:
        raise ToolkitError(f"unknown ranking {ranking!r}; choose from {', '.join(RANKINGS)}")
    if len(set(examples.labels)) < 2:
        raise ToolkitError("the audit needs labelled sentences of at least two sections")
    params = {**DEFAULT_PARAMS, **(params or {})}
    oof = out_of_fold_proba(examples, params, folds=folds, seed=seed, progress=progress)
    return audit_proba(examples, oof, ranking=ranking, folds=folds, params=params)


# --- output ----------------------------------------------------------------------------------


def _cell(text: str, width: int) -> str:
    text = text.replace("|", "｜").replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


def to_markdown(result: AuditResult, top: int = DEFAULT_TOP) -> str:
    """The ranked issues as a markdown table with context, and the confident joint's off-diagonal."""
    shown = result.issues[:top] if top else result.issues
    lines = ["# Label audit", "", result.summary() + f"; grouped {result.folds}-fold out-of-fold probabilities, "
             f"model `{result.params.get('classifier', '?')}`.", "",
             f"## The {len(shown)} labels most likely wrong", "",
             "| # | id | given | suggested | p(given) | p(suggested) | heading | previous | sentence | next |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for issue in shown:
        lines.append(f"| {issue.rank} | {issue.id} | {issue.given} | {issue.suggested} | {issue.p_given:.3f} | "
                     f"{issue.p_suggested:.3f} | {_cell(issue.heading, 20)} | {_cell(issue.prev, 24)} | "
                     f"{_cell(issue.text, 80)} | {_cell(issue.next, 24)} |")
    pairs = [(result.classes[g], result.classes[c], n) for g, row in enumerate(result.joint)
             for c, n in enumerate(row) if g != c and n]
    pairs.sort(key=lambda p: -p[2])
    lines += ["", "## Given → confidently predicted (off-diagonal of the confident joint)", "",
              "| given | confident label | sentences |", "|---|---|---|"]
    lines += [f"| {g} | {c} | {n} |" for g, c, n in pairs[:15]]
    return "\n".join(lines) + "\n"


def to_jsonl(result: AuditResult, top: int = DEFAULT_TOP) -> str:
    """One JSON object per issue, most likely wrong first."""
    shown = result.issues[:top] if top else result.issues
    return "".join(json.dumps(issue.to_dict(), ensure_ascii=False) + "\n" for issue in shown)


def review_tasks(reports: Sequence[Report], result: AuditResult, top: int = DEFAULT_TOP, model_version: str = SUGGESTION_VERSION) -> list[dict]:
    """Label Studio review tasks (``toolkit ls export-tasks`` format), most likely wrong first.

    The pre-selected prediction is the label given now (so a reviewer who only clicks through
    changes nothing); a second prediction holds the audit's suggestion, and ``data`` carries
    ``given``, ``suggested``, their probabilities and the rank as sortable columns. Importing the
    reviewed export with ``toolkit ls import`` updates the store, keeping old labels in history."""
    shown = result.issues[:top] if top else result.issues
    ranked = [(i.id, i.given, i.p_given, {"given": i.given, "suggested": i.suggested,
                                          "suggested_name": label_name(i.suggested), "p_given": i.p_given,
                                          "p_suggested": i.p_suggested}) for i in shown]
    tasks = ranked_tasks(reports, ranked, GIVEN_VERSION)
    by_id = {i.id: i for i in shown}
    for task in tasks:
        issue = by_id[task["data"]["id"]]
        task.setdefault("predictions", []).append(prediction(Guess(issue.suggested, issue.p_suggested), model_version))
    return tasks
