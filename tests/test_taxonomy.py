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


# --- the HTML view's colours ---------------------------------------------------------------------

_SIMULATIONS = {  # Machado, Oliveira and Fernandes (2009), severity 1.0, on linear RGB
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]],
}


def _linear(hex_colour: str) -> list[float]:
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    return [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]


def _lab(rgb: list[float]) -> tuple[float, float, float]:
    x, y, z = (sum(m * c for m, c in zip(row, rgb)) / w for row, w in zip(
        [[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]], (0.95047, 1.0, 1.08883)))
    f = [t ** (1 / 3) if t > 216 / 24389 else (24389 / 27 * t + 16) / 116 for t in (x, y, z)]
    return 116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])


def _views(hex_colour: str) -> dict[str, tuple[float, float, float]]:
    rgb = _linear(hex_colour)
    out = {"normal": _lab(rgb)}
    for name, matrix in _SIMULATIONS.items():
        out[name] = _lab([min(1.0, max(0.0, sum(m * c for m, c in zip(row, rgb)))) for row in matrix])
    return out


def test_fourteen_colours_a_reader_tells_apart_also_with_colour_blindness():
    from itertools import combinations
    from math import dist

    from toolkit.taxonomy import COLOURS

    assert list(COLOURS) == list(SLUGS)
    assert len({c for c, _ in COLOURS.values()}) == len({n for _, n in COLOURS.values()}) == 14
    views = {slug: _views(colour) for slug, (colour, _) in COLOURS.items()}
    closest = min((dist(views[a][v], views[b][v]), a, b, v) for a, b in combinations(SLUGS, 2) for v in views[a])
    assert closest[0] >= 10, closest
    for a, b in (("democracy", "culture"), ("democracy", "problems"), ("culture", "problems")):
        assert min(dist(views[a][v], views[b][v]) for v in views[a]) >= 25, (a, b)
    greys = [s for s, (c, _) in COLOURS.items() if abs(_views(c)["normal"][1]) < 5 and abs(_views(c)["normal"][2]) < 5]
    assert greys == ["other"]
    text = sum(w * c for w, c in zip((0.2126, 0.7152, 0.0722), _linear("#1f2937")))
    for colour, _ in COLOURS.values():
        background = sum(w * c for w, c in zip((0.2126, 0.7152, 0.0722), _linear(colour)))
        assert (background + 0.05) / (text + 0.05) >= 5.5, colour
