"""Small samples that ship inside the package, so that examples run from an installed wheel in
any folder: one report to tag, and the seed corpus with its labels to train and select models on.

>>> import toolkit
>>> toolkit.sample_report().splitlines()[1]
'一、加强工会自身建设,夯实组织基础'
>>> sorted(p.name for p in toolkit.sample_corpus())
['sample_corpus.txt', 'sample_labels.jsonl']
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import NamedTuple


def _data(name: str) -> Path:
    return Path(str(resources.files("toolkit.data").joinpath(name)))


def sample_report_path() -> Path:
    """A short report to try the tagger on (the same as ``examples/sample_report.txt`` in a clone)."""
    return _data("sample_report.txt")


def sample_report() -> str:
    """The text of :func:`sample_report_path`."""
    return sample_report_path().read_text(encoding="utf-8")


class SampleCorpus(NamedTuple):
    """Paths of a labelled sample: reports (one text file) and their labels (annotation store format)."""

    reports: Path
    labels: Path


def sample_corpus() -> SampleCorpus:
    """The seed corpus (real reports that came with the project, ``annotations/corpus/reports.txt``
    in a clone) and the labels of its sentences from ``annotations/labels.jsonl``."""
    return SampleCorpus(_data("sample_corpus.txt"), _data("sample_labels.jsonl"))
