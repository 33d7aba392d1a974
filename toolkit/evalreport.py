"""Writing an evaluation (the dict from :func:`toolkit.evaluation.evaluate`) to
``reports/evaluation.md``, ``reports/evaluation.json`` and PNG plots."""

from __future__ import annotations

import json
import os
from pathlib import Path

from toolkit.store import atomic_write_text
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
        f"Grouped {result['folds']}-fold cross-validation by near-duplicate report group (seed {result['seed']}): "
        f"{d['sentences']} labelled sentences, {d['reports']} reports, {d['groups']} groups. No group is ever on "
        "both sides of a split; hyper-parameters are chosen by an inner grouped search on each outer training side.",
        "",
        "## Model comparison",
        "",
    ]
    rows = [[name, s["macro_f1"], s["micro_f1"], s["accuracy"], " ".join(map(str, s["per_fold_macro_f1"]))]
            for name, s in result["comparison"].items()]
    lines += _table(["model", "macro-F1", "micro-F1", "accuracy", "macro-F1 per fold"], rows)
    lines += ["", f"Best: **{best['name']}**, macro-F1 {best['macro_f1']}, micro-F1 {best['micro_f1']}; "
              f"parameters most often chosen: `{json.dumps({k: best['params'][k] for k in ('classifier', 'C', 'alpha')})}`.", ""]
    lines += ["## What context adds (best model type, fixed parameters)", ""]
    lines += _table(["features", "macro-F1", "micro-F1"],
                    [[k, v["macro_f1"], v["micro_f1"]] for k, v in result["context_ablation"].items()])
    if result.get("tokenizers"):
        lines += ["", "## Tokenizer backends (best model type, fixed parameters)", ""]
        lines += _table(["backend", "macro-F1", "micro-F1"],
                        [[k, v["macro_f1"], v["micro_f1"]] for k, v in result["tokenizers"].items()])
    lines += ["", "## Per label (best model, out-of-fold)", ""]
    lines += _table(["label", "中文名", "precision", "recall", "F1", "support"],
                    [[k, label_name(k), v["precision"], v["recall"], v["f1"], v["support"]] for k, v in result["per_label"].items()])
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
    lines += ["", "Plots: `confusion_matrix.png`, `per_label_f1.png`, `learning_curve.png`.", ""]
    return "\n".join(lines)


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
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.errorbar([p["groups"] for p in curve], [p["macro_f1"] for p in curve], yerr=[p["macro_f1_std"] for p in curve],
                marker="o", capsize=3)
    ax.set_xlabel("report groups in training")
    ax.set_ylabel("macro-F1 on held-out groups")
    ax.set_ylim(0, 1)
    ax.set_title("Learning curve")
    paths.append(save_figure(fig, out_dir / "learning_curve.png"))
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
