"""The labelling config generated from the taxonomy (:mod:`toolkit.labelstudio.config`)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from toolkit.cli import main
from toolkit.errors import LabelStudioError
from toolkit.labelstudio import FROM_NAME, TO_NAME, choice_result, config_choices, is_toolkit_config, label_config
from toolkit.taxonomy import HARD_CASES, LABELS, SLUGS


def test_config_is_valid_xml_generated_from_the_taxonomy():
    root = ET.fromstring(label_config())
    choices = root.find("Choices")
    assert choices.get("name") == FROM_NAME and choices.get("toName") == TO_NAME
    assert choices.get("choice") == "single-radio" and choices.get("required") == "true"
    items = choices.findall("Choice")
    assert [c.get("value") for c in items] == list(SLUGS)
    assert [c.get("hotkey") for c in items] == [label.hotkey for label in LABELS]
    assert all(c.get("html").startswith(label.name) and c.get("hint") == label.description for c, label in zip(items, LABELS))
    texts = {t.get("name"): t.get("value") for t in root.iter("Text")}
    assert texts == {"heading": "$heading", "context": "$context", "text": "$text"}
    assert all(t.get("selectionEnabled") == "false" for t in root.iter("Text"))
    shown = [h.get("value") for h in root.iter("Header")]
    assert all(case in shown for case in HARD_CASES)
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


def test_cli_config_prints_the_config(capsys):
    assert main(["ls", "config"]) == 0
    assert capsys.readouterr().out == label_config() + "\n"


