"""The labelling config generated from the taxonomy (:mod:`toolkit.labelstudio.config`)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from toolkit.cli import main
from toolkit.errors import LabelStudioError
from toolkit.labelstudio import FROM_NAME, TO_NAME, choice_result, config_choices, is_toolkit_config, label_config
from toolkit.taxonomy import DESCRIPTIONS_ZH, HARD_CASES, HARD_CASES_ZH, LABELS, SLUGS


def _chinese(text: str) -> bool:
    """Mostly Chinese: more CJK characters than Latin letters."""
    return sum("\u4e00" <= ch <= "\u9fff" for ch in text) > sum(ch.isascii() and ch.isalpha() for ch in text)


def test_config_is_valid_xml_generated_from_the_taxonomy():
    root = ET.fromstring(label_config())
    choices = root.find("Choices")
    assert choices.get("name") == FROM_NAME and choices.get("toName") == TO_NAME
    assert choices.get("choice") == "single-radio" and choices.get("required") == "true"
    items = choices.findall("Choice")
    assert [c.get("value") for c in items] == list(SLUGS)
    assert [c.get("hotkey") for c in items] == [label.hotkey for label in LABELS]
    assert [c.get("html") for c in items] == [label.name for label in LABELS]  # Label Studio shows the hotkey itself
    for c, label in zip(items, LABELS):
        zh, en = c.get("hint").split(" / ")
        assert zh == DESCRIPTIONS_ZH[label.slug] and en == label.description and _chinese(zh)
    texts = {t.get("name"): t.get("value") for t in root.iter("Text")}
    assert texts == {"heading": "$heading", "context": "$context", "text": "$text"}
    assert all(t.get("selectionEnabled") == "false" for t in root.iter("Text"))
    shown = [h.get("value") for h in root.iter("Header")]
    panel = [h.get("value") for h in root.find("Collapse").iter("Header")]
    assert all(case in shown for case in HARD_CASES) and all(case in shown for case in HARD_CASES_ZH)
    assert len(panel) % 2 == 0 and all(_chinese(zh) and not _chinese(en) for zh, en in zip(panel[::2], panel[1::2]))
    assert all(_chinese(h.split(" ")[0]) for h in shown if h not in panel)  # the headers: Chinese first
    assert is_toolkit_config(label_config())


def test_config_is_accepted_by_the_sdks_label_interface():
    from label_studio_sdk.label_interface import LabelInterface

    interface = LabelInterface(label_config())
    assert interface.get_control().labels == list(SLUGS)
    prediction = {"model_version": "x", "score": 0.5, "result": choice_result("safety")}
    assert interface.validate_prediction(prediction, return_errors=True) == []
    bad = {"model_version": "x", "score": 0.5, "result": choice_result("sports")}
    assert interface.validate_prediction(bad, return_errors=True)


def test_other_configs_are_told_apart():
    foreign = ('<View><Text name="text" value="$text"/><Choices name="section" toName="text">'
               '<Choice value="Positive"/></Choices></View>')
    assert config_choices(foreign) == (FROM_NAME, TO_NAME, ("Positive",)) and not is_toolkit_config(foreign)
    assert config_choices("<View/>") is None
    fewer = label_config().replace('<Choice value="other"', '<Choice value="others"')
    assert fewer != label_config() and not is_toolkit_config(fewer)
    with pytest.raises(LabelStudioError, match="not valid XML"):
        config_choices("<View>")


def test_the_instructions_page_gives_each_line_in_chinese_then_english():
    from toolkit.labelstudio import guideline_html

    page = guideline_html()
    items = page.split("<ul>")[1].split("</ul>")[0].removeprefix("<li>").removesuffix("</li>").split("</li><li>")
    assert len(items) == 3 + len(HARD_CASES)
    for item in items:
        zh, en = item.split("<br>")
        assert _chinese(zh) and not _chinese(en)
    assert all(DESCRIPTIONS_ZH[label.slug] in page for label in LABELS)


def test_cli_config_prints_the_config(capsys):
    assert main(["ls", "config"]) == 0
    assert capsys.readouterr().out == label_config() + "\n"


