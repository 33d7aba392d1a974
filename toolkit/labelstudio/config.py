"""The labelling config, generated from :mod:`toolkit.taxonomy`.

:func:`label_config` shows the sentence, its heading and neighbours as context, one required
single-radio ``Choices`` whose values are the slugs and whose shown text is the Chinese name, the
taxonomy's hotkeys, and the guidelines. Data keys are Latin (``text``, ``heading``, ``context``):
Chinese keys break Label Studio's ``$variable``.
"""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET

from toolkit.errors import LabelStudioError
from toolkit.taxonomy import DESCRIPTIONS_ZH, HARD_CASES, HARD_CASES_ZH, LABELS, SLUGS, TAXONOMY_VERSION, hint

FROM_NAME = "section"
"""Name of the ``Choices`` control: every result and prediction uses it as ``from_name``."""
TO_NAME = "text"
"""Name of the ``Text`` object holding the sentence: ``to_name`` of every result."""


GUIDELINES: tuple[tuple[str, str], ...] = (
    ("为下面这句话选择它所属的一个板块（单选，必选）。标题和上下文只作参考，不需要标注。",
     "Pick the one section this sentence belongs to; heading and context are shown only to help."),
    ("鼠标停在选项上可看到它的说明；按选项旁的快捷键选择，Ctrl+Enter 提交。",
     "Hover a choice to see its description; press its hotkey to choose, Ctrl+Enter to submit."),
    ("无法判断的句子请跳过，不要猜。", "If the sentence cannot be judged, skip the task instead of guessing."),
    *zip(HARD_CASES_ZH, HARD_CASES),
)
"""The annotators' guidelines, each in Chinese and in English: the task, then the taxonomy's hard cases."""


def guideline_lines() -> list[str]:
    """The annotators' guidelines as short lines, each Chinese line followed by its English one."""
    return [line for pair in GUIDELINES for line in pair]


def label_config() -> str:
    """The labelling config XML generated from :data:`~toolkit.taxonomy.LABELS`."""
    view = ET.Element("View")
    ET.SubElement(view, "Header", value="所在标题 Heading", size="6")
    ET.SubElement(view, "Text", name="heading", value="$heading", selectionEnabled="false")
    ET.SubElement(view, "Header", value="上下文 Context", size="6")
    ET.SubElement(view, "Text", name="context", value="$context", selectionEnabled="false")
    ET.SubElement(view, "Header", value="请标注这句话 Sentence to label", size="4")
    ET.SubElement(view, "Text", name=TO_NAME, value="$text", selectionEnabled="false")
    choices = ET.SubElement(view, "Choices", name=FROM_NAME, toName=TO_NAME, choice="single-radio",
                            required="true", requiredMessage="请选择一个板块 Choose one section", showInline="false")
    for label in LABELS:
        ET.SubElement(choices, "Choice", value=label.slug, html=label.name, hotkey=label.hotkey, hint=hint(label.slug))
    panel = ET.SubElement(ET.SubElement(view, "Collapse"), "Panel", value="标注说明 Guidelines")
    for line in guideline_lines():
        ET.SubElement(panel, "Header", value=line, size="6")
    ET.indent(view)
    return ET.tostring(view, encoding="unicode")


def guideline_html() -> str:
    """The guidelines as HTML for the project's instructions page (shown before labelling)."""
    items = "".join(f"<li>{html.escape(zh)}<br>{html.escape(en)}</li>" for zh, en in GUIDELINES)
    rows = "".join(
        f"<tr><td>{html.escape(l.hotkey)}</td><td>{html.escape(l.name)}</td><td>{l.slug}</td>"
        f"<td>{html.escape(DESCRIPTIONS_ZH[l.slug])}<br>{html.escape(l.description)}</td></tr>"
        for l in LABELS
    )
    return (f"<p>分类版本 Taxonomy {TAXONOMY_VERSION}</p><ul>{items}</ul>"
            f"<table><tr><th>快捷键 key</th><th>板块 section</th><th>slug</th><th>说明 description</th></tr>{rows}</table>")


def config_controls(xml: str, *, strict: bool = True) -> dict[tuple[str, str], tuple[str, tuple[str, ...]]]:
    """Each control of a labelling config, by ``(tag, name)``: its ``toName`` and its values (the
    first control of a tag and name, as the server reads it).

    Read with the SDK's ``LabelInterface``, the parser Label Studio's own tools use, so a config
    is read as the server reads it. A config that does not parse is a :class:`LabelStudioError`,
    or with ``strict=False`` a config without controls.
    """
    from label_studio_sdk.label_interface import LabelInterface  # the SDK only where a config is read: it costs ~1 s to import

    try:
        interface = LabelInterface(xml)
    except Exception as exc:  # the SDK's exception types live in its private modules
        if not strict:
            return {}
        raise LabelStudioError(f"labelling config is not valid XML ({exc})") from None
    controls: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {}
    for control in interface.controls:
        controls.setdefault((control.tag, control.name), (",".join(control.to_name), tuple(control.labels)))
    return controls


def config_choices(xml: str) -> tuple[str, str, tuple[str, ...]] | None:
    """``(name, toName, values)`` of the config's toolkit ``Choices``, or ``None`` if it has none."""
    found = config_controls(xml).get(("Choices", FROM_NAME))
    return (FROM_NAME, *found) if found else None


def is_toolkit_config(xml: str) -> bool:
    """Does ``xml`` label the same sentence with the same slugs as :func:`label_config`?"""
    return config_choices(xml) == (FROM_NAME, TO_NAME, SLUGS)

