"""Corpus and annotation statistics for ``toolkit stats``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from toolkit.segment import Report
from toolkit.store import Annotation
from toolkit.taxonomy import LABELS


def corpus_stats(reports: Sequence[Report], records: Mapping[str, Annotation]) -> dict:
    """Counts per label, per report and per source, and the sentences still unlabelled."""
    distinct = {s.id for r in reports for s in r.sentences}
    per_report = []
    for report in reports:
        labels = Counter(records[s.id].label for s in report.sentences if s.id in records)
        per_report.append({"report": report.id, "group": report.group, "sentences": len(report.sentences),
                           "labelled": sum(labels.values()), "labels": dict(labels)})
    labelled = [records[i] for i in distinct if i in records]
    return {
        "reports": len(reports),
        "groups": len({r.group for r in reports}),
        "sentences": sum(len(r.sentences) for r in reports),
        "distinct_sentences": len(distinct),
        "labelled": len(labelled),
        "unlabelled": len(distinct) - len(labelled),
        "per_label": {lab.slug: sum(1 for a in labelled if a.label == lab.slug) for lab in LABELS},
        "per_source": dict(Counter(a.source for a in labelled)),
        "per_report": per_report,
    }


def format_stats(stats: dict) -> str:
    """Plain-text tables of :func:`corpus_stats`."""
    total = max(stats["labelled"], 1)
    lines = [f"{stats['reports']} reports in {stats['groups']} groups, {stats['sentences']} sentences "
             f"({stats['distinct_sentences']} distinct): {stats['labelled']} labelled, {stats['unlabelled']} unlabelled",
             "", "label          count  share"]
    lines += [f"{slug:<14}{n:>6}  {n / total:>5.1%}" for slug, n in stats["per_label"].items()]
    lines += ["", "source         count  share"]
    lines += [f"{src:<14}{n:>6}  {n / total:>5.1%}" for src, n in sorted(stats["per_source"].items())]
    lines += ["", "report          group           sentences  labelled  top labels"]
    for r in stats["per_report"]:
        top = ", ".join(f"{k} {v}" for k, v in sorted(r["labels"].items(), key=lambda kv: -kv[1])[:3])
        lines.append(f"{r['report']:<16}{r['group']:<16}{r['sentences']:>9}{r['labelled']:>10}  {top}")
    return "\n".join(lines)
