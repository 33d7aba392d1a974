"""Active learning: which unlabelled sentences to label next, and whether that pays off here.

* :mod:`~toolkit.active.strategies`: the scores (``uncertainty``, ``margin``, ``entropy``,
  ``random``) and the diversity guard;
* :mod:`~toolkit.active.suggest`: :func:`suggest` ranks the unlabelled sentences of new reports
  and :func:`ranked_tasks` writes them as Label Studio tasks; :func:`suggest_reports` ranks whole
  reports by their least sure sentences, for report tasks;
* :mod:`~toolkit.active.simulation`: :func:`simulate` answers "does it help?" on the annotated corpus;
* :mod:`~toolkit.active.report`: :func:`write_report` writes ``active_learning.md``, ``.json`` and ``.png``.
"""

from toolkit.active.report import plot, to_markdown, write_report
from toolkit.active.simulation import CHEAP_PARAMS, SimulationSettings, conclusion, run_strategy, shipped_params, simulate
from toolkit.active.strategies import (DEFAULT_N, DIVERSITY_THRESHOLD, STRATEGIES, Selection, diverse_top, entropy_score,
                                       informativeness, least_confidence, margin_score, random_score, shingle_vectors)
from toolkit.active.suggest import (DEFAULT_REPORTS, Candidate, ReportCandidate, ReportSuggestions, Suggestions,
                                    ranked_tasks, report_suggestion_tasks, report_suggestions_summary, suggest,
                                    suggest_reports, suggestion_tasks, suggestions_summary, unlabelled_records)

__all__ = [
    "STRATEGIES", "DEFAULT_N", "DIVERSITY_THRESHOLD", "CHEAP_PARAMS", "least_confidence", "margin_score",
    "entropy_score", "random_score", "informativeness", "shingle_vectors", "Selection", "diverse_top",
    "Candidate", "Suggestions", "unlabelled_records", "suggest", "ranked_tasks", "suggestion_tasks",
    "suggestions_summary", "DEFAULT_REPORTS", "ReportCandidate", "ReportSuggestions", "suggest_reports",
    "report_suggestion_tasks", "report_suggestions_summary", "shipped_params", "SimulationSettings", "run_strategy", "simulate", "conclusion",
    "to_markdown", "plot", "write_report",
]
