"""The examples of docs/*.md run as doctests. They load the corpus and fit small models, which
takes several seconds: they count as slow (the day-to-day run skips them, CI runs them)."""

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.parent == HERE:
            item.add_marker(pytest.mark.slow)
