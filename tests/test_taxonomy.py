import re
from pathlib import Path

import pytest

from toolkit.errors import UnknownLabelError
from toolkit.taxonomy import BY_SLUG, LABELS, ORDER, SLUGS, check_label, label_name

ROOT = Path(__file__).resolve().parents[1]


def test_fourteen_labels_in_canonical_order_with_unique_hotkeys():
    assert SLUGS == ("overview", "organization", "education", "democracy", "rights", "assistance", "competition",
                     "safety", "women", "culture", "problems", "plans", "closing", "other")
    assert len({label.hotkey for label in LABELS}) == 14
    assert [ORDER[s] for s in SLUGS] == list(range(14))
    assert label_name("women") == "女职工工作"


def test_check_label():
    assert check_label("plans") == "plans"
    with pytest.raises(UnknownLabelError, match="unknown label 'plan'"):
        check_label("plan")


@pytest.mark.parametrize("doc", ["annotations/GUIDELINES.md", "README.md"])
def test_docs_list_the_taxonomy_in_order(doc):
    text = (ROOT / doc).read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\d+) \| (\w+) \| ([^|]+?) \|", text, flags=re.M)
    assert [(int(n), slug, name) for n, slug, name in rows] == [
        (i + 1, label.slug, label.name) for i, label in enumerate(LABELS)]
    assert all(BY_SLUG[slug] for _, slug, _ in rows)
