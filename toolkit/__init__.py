"""toolkit: annotate, classify and restructure Chinese trade-union work reports.

>>> import toolkit
>>> model = toolkit.load_model()
>>> tags = model.tag("一、加强组织建设。新发展会员45人。")
>>> tags[1].label, tags[1].label_name
('organization', '组织与自身建设')
>>> model.tag_sentences(["三八节期间组织女职工开展健康讲座。"])[0].label
'women'
>>> [s.text for s in toolkit.segment("一、帮扶。慰问职工20户。")[0].sentences]
['一、帮扶。', '慰问职工20户。']
"""

__version__ = "0.7.1"

from toolkit.model import SectionModel, load_model  # noqa: E402
from toolkit.samples import sample_corpus, sample_report, sample_report_path  # noqa: E402
from toolkit.segment import Report, Sentence, segment_text  # noqa: E402
from toolkit.tagging import Tagged  # noqa: E402


def segment(text: str, *, source: str = "") -> list[Report]:
    """Raw report text (one or several reports, in any of the accepted forms) cut into reports,
    paragraphs, headings and sentences."""
    return segment_text(text, source)


def __getattr__(name: str):
    """:class:`toolkit.estimator.SectionClassifier` on first use: it imports scikit-learn, which
    ``import toolkit`` and tagging do without (about 1.5 s)."""
    if name == "SectionClassifier":
        from toolkit.estimator import SectionClassifier

        return SectionClassifier
    raise AttributeError(f"module 'toolkit' has no attribute {name!r}")


__all__ = ["__version__", "load_model", "segment", "SectionClassifier", "SectionModel", "Report", "Sentence", "Tagged",
           "sample_corpus", "sample_report", "sample_report_path"]
