"""Label Studio integration: labelling config, tasks with pre-annotations, import of exports,
push/pull, and the ML backend of ``toolkit serve``.

* :mod:`~toolkit.labelstudio.config`: the labelling config, derived from :mod:`toolkit.taxonomy`;
* :mod:`~toolkit.labelstudio.tasks`: predictors (the model or the weak rules), tasks and pre-annotations;
* :mod:`~toolkit.labelstudio.reports`: report mode: one task per report, its config, pre-labels and reading;
* :mod:`~toolkit.labelstudio.exports`: reading exports, resolving votes, importing into the store;
* :mod:`~toolkit.labelstudio.client`: settings and credentials, push and pull with label-studio-sdk 2.x;
* :mod:`~toolkit.labelstudio.backend`: the ML backend's HTTP server and routes;
* :mod:`~toolkit.labelstudio.worker`: the backend's training queue and worker.
"""

from toolkit.labelstudio.backend import (DEFAULT_MAX_BODY, DEFAULT_PORT, Backend, BackendServer, auth_from_env,
                                         make_server, project_id_of, record_from_task, serve)
from toolkit.labelstudio.client import (CONFIG_ENV, annotator_emails, DEFAULT_TITLE, IMPORT_BATCH, ML_TITLE, REPORT_TITLE,
                                        PushReport, Settings, check_project_config, config_file, config_for, connect,
                                        connect_ml_backend, default_title, project_modes, task_key,
                                        download_export, ensure_project, existing_sentence_ids, find_project,
                                        get_project, load_settings, optional_settings, pull, push, talking_to,
                                        user_emails)
from toolkit.labelstudio.config import (FROM_NAME, TO_NAME, config_choices, guideline_html, guideline_lines,
                                        is_toolkit_config, label_config)
from toolkit.labelstudio.exports import (ImportReport, Resolution, SentenceVotes, Vote, annotator_name,
                                         collect_votes, import_export, import_tasks, latest_per_annotator,
                                         parse_export, read_export, resolve)
from toolkit.labelstudio.reports import (MODES, Actions, CorpusSentenceIds, count_actions, report_actions, REPORT_FROM, REPORT_TO, build_report_tasks, is_report_config,
                                         is_report_task, mixed_config, pad_for_mixed, region, report_config, report_prediction, report_title,
                                         run_region, sentence_labels)
from toolkit.labelstudio.tasks import (WEAK_VERSION, Guess, ModelPredictor, Predictor, WeakPredictor, build_tasks,
                                       choice_result, context_text, export_tasks, load_predictor,
                                       prediction, write_tasks)
from toolkit.labelstudio.worker import BackendOptions, TrainingJob, TrainingWorker

__all__ = [
    "DEFAULT_MAX_BODY", "DEFAULT_PORT", "Backend", "BackendServer", "auth_from_env", "make_server", "project_id_of",
    "record_from_task", "serve",
    "CONFIG_ENV", "annotator_emails", "DEFAULT_TITLE", "IMPORT_BATCH", "ML_TITLE", "REPORT_TITLE", "PushReport", "Settings",
    "check_project_config", "config_for", "default_title", "project_modes", "task_key",
    "config_file", "connect", "connect_ml_backend", "download_export", "ensure_project", "existing_sentence_ids",
    "find_project", "get_project", "load_settings", "optional_settings", "pull", "push", "talking_to", "user_emails",
    "FROM_NAME", "TO_NAME", "config_choices", "guideline_html", "guideline_lines", "is_toolkit_config", "label_config",
    "ImportReport", "Resolution", "SentenceVotes", "Vote", "annotator_name", "collect_votes", "import_export",
    "import_tasks", "latest_per_annotator", "parse_export", "read_export", "resolve",
    "MODES", "Actions", "CorpusSentenceIds", "count_actions", "report_actions", "REPORT_FROM", "REPORT_TO", "build_report_tasks", "is_report_config", "is_report_task", "mixed_config", "pad_for_mixed", "region",
    "report_config", "report_prediction", "report_title", "run_region", "sentence_labels",
    "WEAK_VERSION", "Guess", "ModelPredictor", "Predictor", "WeakPredictor", "build_tasks", "choice_result",
    "context_text", "export_tasks", "load_predictor", "prediction", "write_tasks",
    "BackendOptions", "TrainingJob", "TrainingWorker",
]
