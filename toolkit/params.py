"""The training parameters of the section model and their defaults: one place that the features,
the estimator, the model card and the command line read."""

from __future__ import annotations

DEFAULT_PARAMS = {"classifier": "logreg", "C": 10.0, "alpha": 0.3, "context": ["heading", "neighbours", "structure", "cues"],
                  "context_weight": 0.5, "cue_weight": 1.0, "char_ngrams": [1, 2], "word_ngrams": [1, 1],
                  "tokenizer": "jieba", "part_rule": True, "calibrate": True, "alone": True, "inner_folds": 3,
                  "flag_share": 0.2, "sequence": True, "calibrate_on": ["seed"], "real_weight": 1.0,
                  "confidence_map": False}
"""Training parameters. ``part_rule`` weighs in the report's parts (learned weights when
``calibrate``, else the hard rule of :func:`toolkit.model.apply_part_rule`); ``calibrate`` fits part weights,
temperature and the low-confidence threshold on ``inner_folds`` grouped folds
(:mod:`toolkit.calibration`), flagging the least sure ``flag_share`` of sentences; ``alone`` adds a
text-only model for sentences without their report; ``sequence`` weighs in the order of labels in a
report (:func:`toolkit.calibration.smooth_sequences`, its weight fitted with the calibration);
``calibrate_on`` names the corpora of real reports whose out-of-fold predictions alone fit the
temperature and the low-confidence threshold, so confidence is calibrated on real text;
``real_weight`` is the weight of each of their sentences in the classifier's loss (a written
sentence weighs 1); ``confidence_map`` maps the predicted label's probability to how often it was
right on their out-of-fold rows (:func:`toolkit.calibration.fit_confidence_map`)."""
