"""Agreement between annotators: Cohen's kappa, per-label agreement and the pairs they differ on
(two label sets); and for Label Studio exports with several annotators per task, Cohen's kappa
per pair, Fleiss' kappa, Krippendorff's alpha, agreement per label, confusions and disagreements."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping, Sequence

from sklearn.metrics import cohen_kappa_score

from toolkit.errors import AnnotationError
from toolkit.labelstudio import collect_votes, latest_per_annotator, read_export
from toolkit.taxonomy import SLUGS


def cohen_kappa(a: Sequence[str], b: Sequence[str]) -> float:
    """Cohen's kappa of two equally long label sequences (scikit-learn's ``cohen_kappa_score``),
    and 1.0 when both give every item the same one label, where the kappa itself is undefined.

    >>> round(cohen_kappa(["x", "x", "y", "y"], ["x", "y", "y", "y"]), 3)
    0.5
    >>> cohen_kappa(["x", "x"], ["x", "x"])
    1.0
    """
    if len(a) != len(b):
        raise ValueError("label sequences differ in length")
    if len(a) == 0:
        raise ValueError("no items to compare")
    if len(set(a) | set(b)) == 1:
        return 1.0
    return float(cohen_kappa_score(a, b))


def per_label_agreement(a: Sequence[str], b: Sequence[str]) -> dict[str, dict]:
    """For each label: items either annotator gave it, items both gave it, and their ratio
    (positive specific agreement 2·both / (count_a + count_b))."""
    out = {}
    for label in sorted(set(a) | set(b)):
        in_a = sum(x == label for x in a)
        in_b = sum(y == label for y in b)
        both = sum(x == label and y == label for x, y in zip(a, b))
        out[label] = {"first": in_a, "second": in_b, "both": both,
                      "agreement": round(2 * both / (in_a + in_b), 4) if in_a + in_b else 1.0}
    return out


def compare(first: Mapping[str, str], second: Mapping[str, str]) -> dict:
    """Kappa, raw agreement, per-label agreement and disagreements over the ids both labelled."""
    ids = sorted(set(first) & set(second))
    a = [first[i] for i in ids]
    b = [second[i] for i in ids]
    return {
        "items": len(ids),
        "observed_agreement": round(sum(x == y for x, y in zip(a, b)) / len(ids), 4) if ids else 0.0,
        "cohen_kappa": round(cohen_kappa(a, b), 4) if ids else 0.0,
        "per_label": per_label_agreement(a, b),
        "disagreements": [{"id": i, "first": first[i], "second": second[i]} for i in ids if first[i] != second[i]],
    }


# --- several annotators: Label Studio exports ------------------------------------------------

Ratings = Mapping[str, Mapping[str, str]]
"""``{sentence id: {annotator: label}}``: each annotator's latest label of each sentence."""


def fleiss_kappa(table: Sequence[Sequence[int]]) -> float:
    """Fleiss' kappa of an items x categories table of rating counts (Fleiss 1971).

    Items may have different numbers of ratings (at least two each): an item's agreement is the
    share of agreeing ordered rater pairs, ``sum n_ij (n_ij - 1) / (n_i (n_i - 1))``, and chance
    agreement uses the pooled category shares; with equal ``n_i`` this is Fleiss' formula.
    1.0 when every rating falls in one category.
    """
    counts = [list(map(int, row)) for row in table]
    if not counts:
        raise ValueError("no items to compare")
    totals = [sum(row) for row in counts]
    if min(totals) < 2:
        raise ValueError("every item needs at least two ratings")
    agreement = [sum(c * (c - 1) for c in row) / (n * (n - 1)) for row, n in zip(counts, totals)]
    observed = sum(agreement) / len(agreement)
    shares = [sum(col) / sum(totals) for col in zip(*counts)]
    expected = sum(p * p for p in shares)
    return 1.0 if expected == 1 else (observed - expected) / (1 - expected)


def krippendorff_alpha_nominal(units: Sequence[Sequence[str]]) -> float:
    """Krippendorff's alpha for nominal data; each unit lists the values it was given (any number
    of coders, missing ones simply absent). Units with fewer than two values are not pairable
    and are left out. 1.0 when every pairable value is the same.

    >>> round(krippendorff_alpha_nominal([["a", "a"], ["b", "b"], ["a", "b"]]), 3)
    0.444
    """
    pairable = [list(u) for u in units if len(u) >= 2]
    if not pairable:
        raise ValueError("no unit has two or more values")
    coincidence: Counter = Counter()
    for unit in pairable:
        m = len(unit)
        for i, c in enumerate(unit):
            for j, k in enumerate(unit):
                if i != j:
                    coincidence[c, k] += 1 / (m - 1)
    totals: Counter = Counter()
    for (c, _), value in coincidence.items():
        totals[c] += value
    n = sum(totals.values())
    observed = sum(v for (c, k), v in coincidence.items() if c != k)
    expected = sum(totals[c] * totals[k] for c in totals for k in totals if c != k)
    return 1.0 if expected == 0 else 1 - (n - 1) * observed / expected


def category_table(ratings: Ratings, labels: Sequence[str]) -> list[list[int]]:
    """Items x labels counts of the sentences with two or more ratings (for :func:`fleiss_kappa`)."""
    return [[Counter(by.values())[label] for label in labels] for by in ratings.values() if len(by) >= 2]


def specific_agreement(ratings: Ratings, labels: Sequence[str]) -> dict[str, dict]:
    """Per label, over the sentences rated twice or more: how often it was given, and the share of
    the rater pairs involving it that agree on it, ``sum n_ij (n_ij - 1) / sum n_ij (n_i - 1)``
    (for two raters the positive specific agreement 2·both / (count_a + count_b))."""
    out = {}
    rated = [by for by in ratings.values() if len(by) >= 2]
    for label in labels:
        given = both = pairs = 0
        for by in rated:
            n_i, n_ij = len(by), sum(v == label for v in by.values())
            given += n_ij
            both += n_ij * (n_ij - 1)
            pairs += n_ij * (n_i - 1)
        if given:
            out[label] = {"ratings": given, "agreement": round(both / pairs, 4)}
    return out


def pairwise(ratings: Ratings) -> list[dict]:
    """Cohen's kappa, raw agreement and the confusion matrix for each pair of annotators over the
    sentences both labelled."""
    annotators = sorted({a for by in ratings.values() for a in by})
    out = []
    for x, first in enumerate(annotators):
        for second in annotators[x + 1:]:
            ids = sorted(sid for sid, by in ratings.items() if first in by and second in by)
            if not ids:
                continue
            a = [ratings[sid][first] for sid in ids]
            b = [ratings[sid][second] for sid in ids]
            confusion = Counter(zip(a, b))
            out.append({"first": first, "second": second, "items": len(ids),
                        "observed_agreement": round(sum(p == q for p, q in zip(a, b)) / len(ids), 4),
                        "cohen_kappa": round(cohen_kappa(a, b), 4),
                        "confusion": [{"first": p, "second": q, "count": n} for (p, q), n in sorted(confusion.items())]})
    return out


def label_confusion(ratings: Ratings) -> list[dict]:
    """Which labels annotators confuse: for every unordered pair of different labels, the number
    of annotator pairs that gave one and the other to the same sentence, most frequent first."""
    pairs: Counter = Counter()
    for by in ratings.values():
        values = list(by.values())
        for i, p in enumerate(values):
            for q in values[i + 1:]:
                if p != q:
                    pairs[tuple(sorted((p, q)))] += 1
    return [{"labels": list(k), "count": n} for k, n in sorted(pairs.items(), key=lambda kv: (-kv[1], kv[0]))]


def export_ratings(tasks: Sequence[dict], where: str, users: Mapping[int, str] | None = None
                   ) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """``{sentence id: {annotator: label}}`` (each annotator's latest label) and the sentences'
    texts, from exported Label Studio tasks; validated as ``toolkit ls import`` does. Annotators
    are named as ``toolkit ls pull`` names them: by the e-mail the export carries, else by the
    e-mail ``users`` gives for their id, else ``user-ID``."""
    ratings, texts = {}, {}
    for entry in collect_votes(tasks, where, users or {}):
        votes = latest_per_annotator(entry.votes)
        if votes:
            ratings[entry.id] = {v.annotator: v.label for v in votes}
            texts[entry.id] = entry.text
    return ratings, texts


def export_agreement(path: str | os.PathLike, users: Mapping[int, str] | None = None) -> dict:
    """Agreement between the annotators of a Label Studio JSON export (``toolkit agreement``):
    Cohen's kappa per pair, Fleiss' kappa and Krippendorff's alpha overall, agreement per label,
    the labels they confuse, and every sentence they disagree on. ``users`` (``{user id: e-mail}``,
    e.g. from :func:`toolkit.labelstudio.annotator_emails`) names annotators the export gives as ids."""
    ratings, texts = export_ratings(read_export(path), str(path), users)
    multi = {sid: by for sid, by in ratings.items() if len(by) >= 2}
    if not multi:
        annotators = sorted({a for by in ratings.values() for a in by})
        raise AnnotationError(f"{path}: no sentence is labelled by two or more annotators ({len(ratings)} labelled sentences, "
                              f"annotators: {', '.join(annotators) or 'none'}); agreement needs overlapping annotations")
    labels = [s for s in SLUGS if any(s in by.values() for by in multi.values())]
    annotators = sorted({a for by in multi.values() for a in by})
    disagreements = [{"id": sid, "text": texts[sid], "labels": dict(sorted(by.items()))}
                     for sid, by in multi.items() if len(set(by.values())) > 1]
    return {
        "export": str(path),
        "annotators": annotators,
        "tasks_labelled": len(ratings),
        "items": len(multi),
        "ratings": sum(len(by) for by in multi.values()),
        "observed_agreement": round(sum(len(set(by.values())) == 1 for by in multi.values()) / len(multi), 4),
        "fleiss_kappa": round(fleiss_kappa(category_table(multi, labels)), 4),
        "krippendorff_alpha": round(krippendorff_alpha_nominal([list(by.values()) for by in multi.values()]), 4),
        "pairs": pairwise(multi),
        "per_label": specific_agreement(multi, labels),
        "confused": label_confusion(multi),
        "disagreements": disagreements,
    }


def agreement_markdown(result: Mapping) -> str:
    """A readable report of :func:`export_agreement`."""
    lines = [f"# Annotator agreement: {result['export']}", "",
             f"{result['items']} sentences labelled by two or more of {len(result['annotators'])} annotators "
             f"({result['ratings']} labels; {result['tasks_labelled']} sentences labelled in all). "
             f"All agree on {result['observed_agreement']:.1%} of them.", "",
             f"- Fleiss' kappa: **{result['fleiss_kappa']}**",
             f"- Krippendorff's alpha (nominal): **{result['krippendorff_alpha']}**", "",
             "## Pairs of annotators (Cohen's kappa)", "",
             "| first | second | sentences | agreement | kappa |", "|---|---|---|---|---|"]
    lines += [f"| {p['first']} | {p['second']} | {p['items']} | {p['observed_agreement']:.3f} | {p['cohen_kappa']} |"
              for p in result["pairs"]]
    lines += ["", "## Agreement per label", "", "| label | labels given | specific agreement |", "|---|---|---|"]
    lines += [f"| {k} | {v['ratings']} | {v['agreement']:.3f} |" for k, v in result["per_label"].items()]
    lines += ["", "## Labels annotators confuse (annotator pairs)", ""]
    if result["confused"]:
        lines += ["| label | label | pairs |", "|---|---|---|"]
        lines += [f"| {c['labels'][0]} | {c['labels'][1]} | {c['count']} |" for c in result["confused"]]
    else:
        lines.append("None.")
    lines += ["", f"## Sentences they disagree on ({len(result['disagreements'])})", ""]
    if result["disagreements"]:
        lines += ["| id | labels | sentence |", "|---|---|---|"]
        lines += [f"| {d['id']} | {', '.join(f'{a}={b}' for a, b in d['labels'].items())} | "
                  f"{d['text'].replace('|', '｜')} |" for d in result["disagreements"]]
    else:
        lines.append("None.")
    return "\n".join(lines) + "\n"
