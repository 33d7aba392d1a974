"""The register of a corpus: does its text read like real reports?

A classifier trained on tidy written text (short sentences, one topic each, cue words that never
lie) fails on reports that union staff wrote. :func:`register_stats` measures what sets the two
apart, so any corpus can be put beside the real seed corpus (``toolkit register``): sentence
length, long sentences, sentences that touch several topics, digits, openings a report repeats,
placeholders for numbers and names, and the shares of labels. :func:`copied_sentences` is the
check that no sentence of a written corpus shares a 12-character stretch with the real one.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from toolkit.segment import Report
from toolkit.taxonomy import LABELS
from toolkit.weak import topic_cues

LONG = 100
"""A sentence of this many characters or more counts as long."""
COPY_WINDOW = 12
"""A written sentence that shares this many consecutive characters (punctuation and spaces
removed) with the real corpus counts as copied."""
PLACEHOLDER = re.compile(r"(?:19|20)[xX×]{2}|[xX×]{2}(?=[\u4e00-\u9fff])|[xX×某]月[xX×某]?日|[xX×]{1,3}(?=[人户名个家项次场元万届期])")
"""Numbers and names left blank (20xx年, xx社区, X月X日, xx人, 第x届)."""
STOCK_TERMS = re.compile(r"女?(教)?职工(特殊)?权益保护专项集体合同|涉及职工切身利益的重大事项|习近平新时代中国特色社会主义思想|"
                         r"中国特色社会主义|全心全意依靠工人阶级|职工代表大会|构建和谐劳动关系|工资集体协商|在总结成绩的同时|党的[\w]{1,3}大精神")
"""Fixed names of policies, institutions and formulas that every report uses: a stretch of them is
no copy, so they are masked before the copy check."""
_DIGIT = re.compile(r"\d")
_NOT_TEXT = re.compile(r"[^\w|]+|_")
TARGETS = {"mean_length": (">=", 50.0), "long_share": (">=", 0.06), "plans": ("<=", 0.11), "organization": (">=", 0.08)}
"""What a training corpus must reach in the register of real reports: mean length of
non-heading sentences, share of them with :data:`LONG`+ characters, and two label shares."""


@dataclass
class RegisterStats:
    """The register figures of one corpus (shares in [0, 1]; ``labels``: share of each slug among
    the labelled sentences, empty when no labels were given)."""

    name: str
    reports: int
    sentences: int
    body: int
    mean_length: float
    long_share: float
    multi_topic_share: float
    digits_per_100: float
    repeated_opening_share: float
    placeholder_share: float
    labels: dict[str, float]

    def misses(self, targets: Mapping[str, tuple[str, float]] = TARGETS) -> list[str]:
        """The targets this corpus misses, worded for a person."""
        out = []
        for key, (op, bound) in targets.items():
            value = getattr(self, key) if hasattr(self, key) else self.labels.get(key, 0.0)
            if (op == ">=" and value < bound) or (op == "<=" and value > bound):
                out.append(f"{key} {value:.3f} (target {op} {bound})")
        return out


def register_stats(reports: Sequence[Report], labels: Mapping[str, str] | None = None, name: str = "") -> RegisterStats:
    """The register figures of ``reports``; label shares from ``labels`` (sentence id → slug),
    counted once per sentence as it stands in the reports."""
    body = [(r, s) for r in reports for s in r.sentences if not s.is_heading]
    texts = [s.text for _, s in body]
    n = max(len(texts), 1)
    chars = sum(len(t) for t in texts)
    openings: Counter = Counter()
    for report in reports:
        openings.update((report.id, _opening(s.text)) for s in report.sentences if not s.is_heading)
    repeated = sum(1 for r, s in body if openings[(r.id, _opening(s.text))] > 1)
    counts = Counter(labels[s.id] for r in reports for s in r.sentences if labels and s.id in labels)
    total = max(sum(counts.values()), 1)
    return RegisterStats(
        name=name, reports=len(reports), sentences=sum(len(r.sentences) for r in reports), body=len(texts),
        mean_length=chars / n, long_share=sum(len(t) >= LONG for t in texts) / n,
        multi_topic_share=sum(len(topic_cues(t)) >= 2 for t in texts) / n,
        digits_per_100=100 * sum(len(_DIGIT.findall(t)) for t in texts) / max(chars, 1),
        repeated_opening_share=repeated / n,
        placeholder_share=sum(bool(PLACEHOLDER.search(t)) for t in texts) / n,
        labels={lab.slug: counts[lab.slug] / total for lab in LABELS} if counts else {},
    )


def _opening(text: str) -> str:
    """The first four characters of a sentence after its numbering and punctuation."""
    return _NOT_TEXT.sub("", re.sub(r"^[((]?[一二三四五六七八九十\d]+[)).、,,]?", "", text))[:4]


def copied_sentences(sentences: Iterable[str], real_text: str, window: int = COPY_WINDOW) -> list[tuple[str, str]]:
    """Sentences that share ``window`` consecutive characters (punctuation and spaces removed) with
    ``real_text``, each with the first shared stretch; :data:`STOCK_TERMS` do not count."""
    real = _NOT_TEXT.sub("", STOCK_TERMS.sub("|", real_text)).replace("|", "\n")
    grams = {real[i:i + window] for i in range(len(real) - window + 1)} - {""}
    grams = {g for g in grams if "\n" not in g}
    out = []
    for text in sentences:
        t = _NOT_TEXT.sub("", STOCK_TERMS.sub("|", text)).replace("|", "\n")
        hit = next((t[i:i + window] for i in range(len(t) - window + 1) if t[i:i + window] in grams), None)
        if hit:
            out.append((text, hit))
    return out


ROWS = (("reports", "reports", "{:d}"), ("sentences", "sentences", "{:d}"),
        ("mean length of non-heading sentences", "mean_length", "{:.1f}"),
        (f"sentences of {LONG}+ characters", "long_share", "{:.1%}"),
        ("sentences that touch two or more topics", "multi_topic_share", "{:.1%}"),
        ("digits per 100 characters", "digits_per_100", "{:.2f}"),
        ("sentences whose 4-character opening repeats within the report", "repeated_opening_share", "{:.1%}"),
        ("placeholders (20xx年, xx社区, X月X日)", "placeholder_share", "{:.1%}"))


def format_register(stats: Sequence[RegisterStats]) -> str:
    """A markdown table of the figures, one column per corpus."""
    lines = ["| statistic | " + " | ".join(s.name for s in stats) + " |", "|---|" + "---|" * len(stats)]
    for title, key, fmt in ROWS:
        lines.append(f"| {title} | " + " | ".join(fmt.format(getattr(s, key)) for s in stats) + " |")
    for lab in LABELS:
        lines.append(f"| label {lab.slug} | " + " | ".join(f"{s.labels[lab.slug]:.1%}" if s.labels else "—" for s in stats) + " |")
    return "\n".join(lines)


def by_corpus(reports: Sequence[Report], meta: Mapping[str, Mapping]) -> dict[str, list[Report]]:
    """Reports grouped by the corpus their manifest names (``seed``, ``written``, ``register``…;
    a file no manifest lists is ``unlisted``), the seed first."""
    from toolkit.corpus import source_key

    out: dict[str, list[Report]] = {}
    for report in reports:
        out.setdefault(str(meta.get(source_key(report.source), {}).get("corpus") or "unlisted"), []).append(report)
    return dict(sorted(out.items(), key=lambda kv: kv[0] != "seed"))


@dataclass
class CorpusRegister:
    """The register of a training corpus: a column per corpus (the seed first), the whole
    training corpus, a column per extra set of reports, and the written sentences that share
    :data:`COPY_WINDOW` characters with the seed (each with the shared stretch)."""

    columns: list[RegisterStats]
    training: RegisterStats
    copied: list[tuple[str, str]]


def measure_corpus(reports: Sequence[Report], meta: Mapping[str, Mapping], labels: Mapping[str, str],
                   extra: Mapping[str, Sequence[Report]] | None = None) -> CorpusRegister:
    """The register figures of each corpus of ``reports`` (``meta``: their manifests), of all of
    them, and of each ``extra`` set beside them; the copy check of everything but the seed against it."""
    extra = extra or {}
    groups = by_corpus(reports, meta)
    training = register_stats(reports, labels, "training corpus")
    columns = [*(register_stats(rs, labels, name) for name, rs in groups.items()), training,
               *(register_stats(rs, labels, name) for name, rs in extra.items())]
    seed = groups.get("seed", [])
    written = [s.text for rs in [*(rs for name, rs in groups.items() if name != "seed"), *extra.values()]
               for r in rs for s in r.sentences]
    copied = copied_sentences(written, "\n".join(r.text for r in seed)) if seed else []
    return CorpusRegister(columns, training, copied)

