"""Writing an evaluation (the dict from :func:`toolkit.evaluation.evaluate`) to
``reports/evaluation.md``, ``reports/evaluation.json`` and PNG plots."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from toolkit.fileio import atomic_write_text
from toolkit.taxonomy import label_name


def _table(header: list[str], rows: list[list]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return out


def to_markdown(result: dict) -> str:
    """A readable report of the evaluation."""
    d = result["data"]
    best = result["best"]
    lines = [
        "# Evaluation of the section classifier",
        "",
        f"Grouped {result['folds']}-fold cross-validation (seed {result['seed']}): {d['sentences']} labelled sentences, "
        f"{d['reports']} reports, {d['groups']} groups. A group is a kind of unit ({d.get('unit_kinds', 0)} kinds, from "
        "the corpus manifests: every report of a kind is on one side) or, for reports of no declared kind, a "
        "near-duplicate report group. "
        + ("The shipped settings (`--quick`); part weights, the sequence weight, temperature and the "
           "low-confidence threshold are fitted by inner grouped folds of each training side. "
           if not result["context_ablation"] else
           "Hyper-parameters are chosen by an inner grouped search on each outer training side, and part weights, the "
           "sequence weight, temperature and the low-confidence threshold by inner grouped folds of it. ")
        + f"Sentences per corpus: {', '.join(f'{k} {v}' for k, v in d.get('corpora', {}).items())}.",
        "",
    ]
    lines += real_text_markdown(result).splitlines() + ["", "## Model comparison", ""]
    rows = [[name, s["macro_f1"], s["micro_f1"], s["accuracy"], " ".join(map(str, s["per_fold_macro_f1"]))]
            for name, s in result["comparison"].items()]
    lines += _table(["model", "macro-F1", "micro-F1", "accuracy", "macro-F1 per fold"], rows)
    lines += ["", f"Best: **{best['name']}**, macro-F1 {best['macro_f1']}, micro-F1 {best['micro_f1']}; "
              f"parameters most often chosen: `{json.dumps({k: best['params'][k] for k in ('classifier', 'C', 'alpha')})}`.", ""]
    for name, h in result.get("untouched", {}).items():
        lines += heldout_markdown(h, name)
    if result.get("by_corpus"):
        lines += ["## By corpus (best model, out-of-fold)", ""]
        lines += _table(["corpus", "sentences", "accuracy", "macro-F1", "accuracy, sentences alone"],
                        [[k, v["n"], v["accuracy"], v["macro_f1"], v["alone_accuracy"]] for k, v in result["by_corpus"].items()])
        lines += [""]
    if result.get("alone"):
        a = result["alone"]
        lines += ["## Sentences alone (best model, out-of-fold)", "",
                  "Each sentence classified with no heading, neighbours or position, as `toolkit tag --sentences` and "
                  f"a Label Studio task without context are: accuracy **{a['accuracy']}**, macro-F1 {a['macro_f1']}.", ""]
    if result.get("calibration"):
        lines += ["## Confidence (best model, out-of-fold)", ""]
        lines += confidence_table(result["calibration"])
        lines += ["", "Reliability diagram: `reliability.png`.", ""]
    if result["context_ablation"]:
        lines += ["## What context adds (best model type, fixed parameters)", ""]
        lines += _table(["features", "macro-F1", "micro-F1", "accuracy on the seed (real)"],
                        [[k, v["macro_f1"], v["micro_f1"], v.get("seed_accuracy", "—")] for k, v in result["context_ablation"].items()])
    if result.get("tokenizers"):
        lines += ["", "## Tokenizer backends (best model type, fixed parameters)", ""]
        lines += _table(["backend", "macro-F1", "micro-F1"],
                        [[k, v["macro_f1"], v["micro_f1"]] for k, v in result["tokenizers"].items()])
    lines += ["", "## Per label (best model, out-of-fold)", ""]
    lines += _table(["label", "中文名", "precision", "recall", "F1", "support"],
                    [[k, label_name(k), v["precision"], v["recall"], v["f1"], v["support"]] for k, v in result["per_label"].items()])
    if result["learning_curve"]:
        lines += ["", "## Learning curve", "", "Macro-F1 on the outer test folds against the number of report groups trained on.", ""]
        lines += _table(["training groups", "macro-F1", "std"],
                        [[p["groups"], p["macro_f1"], p["macro_f1_std"]] for p in result["learning_curve"]])
    labels, matrix = result["confusion"]["labels"], result["confusion"]["matrix"]
    lines += ["", "## Confusion matrix (rows: gold, columns: predicted)", ""]
    lines += _table(["gold \\ pred"] + labels, [[labels[i]] + row for i, row in enumerate(matrix)])
    lines += ["", "## The 20 most confident errors", ""]
    lines += _table(["gold", "predicted", "conf.", "heading", "sentence"],
                    [[e["gold"], e["predicted"], e["confidence"], e["heading"][:24], e["text"][:60]]
                     for e in result["confident_errors"]])
    plots = ["confusion_matrix.png", "per_label_f1.png", *(["learning_curve.png"] if result["learning_curve"] else []), "reliability.png"]
    lines += ["", "Plots: " + ", ".join(f"`{p}`" for p in plots) + ".", ""]
    return "\n".join(lines)


def confidence_table(calibration: dict) -> list[str]:
    """Rows: in context / alone; columns: what a user of the confidences relies on."""
    rows = []
    for name, c in calibration.items():
        if not c:
            continue
        ece = next((b["ece"] for b in c["reliability"] if "ece" in b), None)
        rows.append([name.replace("_", " "), c["n"], c["high_confidence_share"], c["high_confidence_precision"],
                     c["flagged_share"], c["errors_flagged"], ece])
    return _table(["predictions", "n", "share with confidence >= 0.9", "precision there", "share flagged low",
                   "errors flagged", "ECE"], rows)


UNTOUCHED_NAMES = {"heldout2": "untouched set in the register of real reports (heldout2, written)",
                   "heldout": "untouched written set (heldout, the training writers' kind)"}


def real_text_markdown(result: dict) -> str:
    """The figures on real text first: the seed's grouped out-of-fold scores, the real development
    set and the untouched real pages, then the untouched written sets (the one in the real
    register before the other)."""
    from toolkit.realdev import REAL_PAGE_SETS  # not at import: the CLI, and so every tag run, imports this module

    rows = []
    seed = (result.get("by_corpus") or {}).get("seed")
    if seed:
        rows.append(["seed, grouped out-of-fold (real reports)", seed["n"],
                     _with_interval(seed["accuracy"], seed.get("accuracy_interval")), seed["macro_f1"],
                     _with_interval(seed.get("precision_at_0.9", "—"), seed.get("precision_at_0.9_interval")),
                     seed["alone_accuracy"]])
    for key, title in REAL_PAGE_SETS.items():
        r = result.get(key)
        if r:
            c = r["in_context"]
            rows.append([f"{title} ({r['pages']} pages, hash-only; `{r['model']}`)", r["sentences"],
                         _with_interval(c["accuracy"], c.get("accuracy_interval")), c["macro_f1"],
                         _with_interval(f"{c['precision_at_0.9']} ({c['share_at_0.9']:.0%})", c.get("precision_at_0.9_interval")),
                         r["alone"]["accuracy"]])
    for name, h in result.get("untouched", {}).items():
        rows.append([f"{UNTOUCHED_NAMES.get(name, name)}; `{h['model']}`", h["sentences"], h["accuracy"], h["macro_f1"],
                     h["confidence"]["high_confidence_precision"], h["alone"]["accuracy"]])
    if not rows:
        return ""
    bracketed = any("[" in str(cell) for row in rows for cell in row)
    note = ["In square brackets: the 95 % interval when whole reports (seed) or whole pages are resampled "
            "(`toolkit.intervals`): a page's sentences share its layout and writer, and errors come in runs.", ""]
    return "\n".join(["## Real text first", "",
                      *_table(["set", "sentences", "accuracy in context", "macro-F1", "precision at confidence >= 0.9",
                               "accuracy, sentences alone"], rows), "", *(note if bracketed else [])])


def _with_interval(value, interval: Sequence[float] | None) -> str:
    """``value`` followed by its interval in square brackets, where there is one."""
    return f"{value} [{interval[0]:.3f}–{interval[1]:.3f}]" if interval else f"{value}"


def heldout_markdown(h: dict, name: str = "heldout") -> list[str]:
    """An untouched test set's section of the report."""
    lines = [f"## {UNTOUCHED_NAMES.get(name, name)[0].upper() + UNTOUCHED_NAMES.get(name, name)[1:]}", "",
             f"`{h['model']}` on {h['sentences']} sentences of {h['reports']} reports that nothing was trained or tuned "
             f"on: accuracy **{h['accuracy']}**, macro-F1 **{h['macro_f1']}**; sentences alone: accuracy "
             f"**{h['alone']['accuracy']}**, macro-F1 {h['alone']['macro_f1']}.", ""]
    lines += confidence_table({"in context": h["confidence"], "alone": h["alone"]["confidence"]})
    lines += ["", "| label | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    lines += [f"| {k} | {v['precision']} | {v['recall']} | {v['f1']} | {v['support']} |" for k, v in h["per_label"].items()]
    return lines + [""]


def plot(result: dict, out_dir: Path) -> list[Path]:
    """Confusion matrix, per-label F1 and learning curve as PNGs (matplotlib, Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    paths = []
    labels, matrix = result["confusion"]["labels"], np.array(result["confusion"]["matrix"])
    fig, ax = plt.subplots(figsize=(8, 7))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    for i in range(len(labels)):
        for j in range(len(labels)):
            if matrix[i, j]:
                ax.text(j, i, matrix[i, j], ha="center", va="center", fontsize=7,
                        color="white" if matrix[i, j] > matrix.max() / 2 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(f"Confusion matrix ({result['best']['name']}, out-of-fold)")
    paths.append(save_figure(fig, out_dir / "confusion_matrix.png"))

    per = result["per_label"]
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.bar(list(per), [v["f1"] for v in per.values()], color="tab:blue")
    ax.set_ylim(0, 1)
    ax.set_ylabel("F1")
    ax.set_title("Per-label F1 (out-of-fold)")
    ax.tick_params(axis="x", rotation=60)
    paths.append(save_figure(fig, out_dir / "per_label_f1.png"))

    curve = result["learning_curve"]
    if curve:
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.errorbar([p["groups"] for p in curve], [p["macro_f1"] for p in curve], yerr=[p["macro_f1_std"] for p in curve],
                    marker="o", capsize=3)
        ax.set_xlabel("report groups in training")
        ax.set_ylabel("macro-F1 on held-out groups")
        ax.set_ylim(0, 1)
        ax.set_title("Learning curve")
        paths.append(save_figure(fig, out_dir / "learning_curve.png"))

    if result.get("calibration"):
        fig, ax = plt.subplots(figsize=(5, 5))
        ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="perfect")
        series = [("in context", result["calibration"].get("in_context"))]
        series.append(("alone", result["calibration"].get("alone")))
        for name, h in result.get("untouched", {}).items():
            series.append((f"untouched: {name}", h["confidence"]))
        for name, c in series:
            if not c:
                continue
            bins = [b for b in c["reliability"] if b.get("n")]
            ax.plot([b["confidence"] for b in bins], [b["accuracy"] for b in bins], marker="o", label=name)
        ax.set_xlabel("confidence")
        ax.set_ylabel("accuracy")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.legend(loc="upper left")
        ax.set_title("Reliability (out-of-fold)")
        paths.append(save_figure(fig, out_dir / "reliability.png"))
    plt.close("all")
    return paths


def save_figure(fig, path: Path) -> Path:
    """Save a matplotlib figure as PNG atomically (temporary file, then rename) and close it."""
    import matplotlib.pyplot as plt

    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.tight_layout()
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    os.replace(tmp, path)
    return path


def write(result: dict, out_dir: str | os.PathLike) -> list[Path]:
    """Write markdown, JSON and plots into ``out_dir``; return the paths written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "evaluation.json", json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    atomic_write_text(out / "evaluation.md", to_markdown(result))
    return [out / "evaluation.json", out / "evaluation.md", *plot(result, out)]
