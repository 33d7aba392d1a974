"""Shared fixtures: small pieces of the real corpus, and paths."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "annotations" / "corpus" / "reports.txt"


@pytest.fixture(scope="session")
def corpus_path() -> Path:
    return CORPUS


@pytest.fixture(scope="session")
def corpus_lines() -> list[str]:
    return CORPUS.read_text(encoding="utf-8").splitlines()


@pytest.fixture()
def two_reports(tmp_path: Path, corpus_lines: list[str]) -> Path:
    """The first two reports of the corpus (lines 1-46), as a UTF-8 file."""
    path = tmp_path / "two.txt"
    path.write_text("\n".join(corpus_lines[:46]) + "\n", encoding="utf-8")
    return path
