"""The simulation's report: ``active_learning.md``, ``.json`` and ``.png`` (:func:`write_report`)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from toolkit.active.simulation import _saved_text
from toolkit.evalreport import save_figure
from toolkit.fileio import atomic_write_text


def to_markdown(result: dict) -> str:
    """``active_learning.md``: the set-up, the curves, labels saved, and the conclusion."""
    s = result["settings"]
    lines = ["# Does active learning help?", "",
             f"Simulation on the annotated corpus ({result['data']['sentences']} labelled sentences, "
             f"{result['data']['groups']} report groups). For each of {len(s['seeds'])} seeds, {s['holdout']} is held "
             f"out (whole report groups; seed s holds out fold s mod {s['folds']}), {s['start_groups']} random report "
             f"groups of the rest are the starting labels, "
             f"and {s['rounds']} batches of {s['batch']} sentences are added from the remaining pool by each strategy "
             f"(diversity guard at cosine {s['diversity_threshold']}). Model: `{json.dumps(s['params'])}`. "
             "Score: macro-F1 on the held-out groups.", "", "## Conclusion", "", result["conclusion"], "",
             "## Macro-F1 against labelled sentences (mean ± std over seeds)", ""]
    names = list(result["curves"])
    first = result["curves"][names[0]]
    header = ["added", "labelled (mean)"] + names
    rows = [[a, lab] + [f"{result['curves'][n]['macro_f1_mean'][k]:.3f} ± {result['curves'][n]['macro_f1_std'][k]:.3f}" for n in names]
            for k, (a, lab) in enumerate(zip(first["added"], first["labelled_mean"]))]
    lines += _table(header, rows)
    others = [n for n in names if n != "random"]
    lines += ["", "Gain over random, paired by seed (mean ± standard error):", ""]
    lines += _table(["added"] + others, [[a] + [f"{result['curves'][n]['diff_vs_random'][k]:+.3f} ± {result['curves'][n]['diff_se'][k]:.3f}"
                                               for n in others] for k, a in enumerate(first["added"])])
    lines += ["", f"Whole pool labelled (ceiling): macro-F1 {result['ceiling']} (mean over seeds).", "",
              "## Labels needed to reach a score", "",
              "Added sentences (beyond the starting reports) at which the mean curve first reaches the score; "
              "saved = random's count minus the strategy's.", ""]
    rows = []
    for t in result["targets"]:
        for n in names:
            need = t["added_needed"][n]
            rows.append([f"{t['macro_f1']} ({t['fraction']:.0%})", n, need if need is not None else "not reached",
                         _saved_text(t, n) if n != "random" else "-"])
    lines += _table(["score", "strategy", "added needed", "saved vs random"], rows)
    lines += ["", "## Mean macro-F1 over the budget (area under the curve)", ""]
    lines += _table(["strategy", "mean macro-F1", "paired diff vs random", "std. error", "seeds beating random"],
                    [[n, a["mean_macro_f1"], f"{a['diff_vs_random']:+.4f}", a["diff_se"], a["wins_vs_random"] if n != "random" else "-"]
                     for n, a in result["area"].items()])
    lines += ["", "## Runs", ""]
    lines += _table(["seed", "starting", "pool", "held out", "held-out groups", "ceiling macro-F1"],
                    [[r["seed"], r["start"], r["pool"], r["test"], r["test_groups"], r["ceiling_macro_f1"]] for r in result["runs"]])
    lines += ["", "Plot: `active_learning.png`. Rerun: `toolkit evaluate --active`.", ""]
    return "\n".join(lines)


def _table(header: list[str], rows: list[list]) -> list[str]:
    out = ["| " + " | ".join(map(str, header)) + " |", "|" + "---|" * len(header)]
    return out + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]


def plot(result: dict, path: str | os.PathLike) -> Path:
    """Left: macro-F1 against labelled sentences per strategy (random with its ±std band across
    seeds). Right: each strategy minus random, paired by seed, mean ± standard error. Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    for name, curve in result["curves"].items():
        x = np.array(curve["labelled_mean"])
        y = np.array(curve["macro_f1_mean"])
        left.plot(x, y, marker="o", markersize=3, label=name, linestyle="--" if name == "random" else "-")
        if name == "random":
            sd = np.array(curve["macro_f1_std"])
            left.fill_between(x, y - sd, y + sd, alpha=0.12, color=left.lines[-1].get_color())
            continue
        d, se = np.array(curve["diff_vs_random"]), np.array(curve["diff_se"])
        right.plot(x, d, marker="o", markersize=3, label=name)
        right.fill_between(x, d - se, d + se, alpha=0.15)
    left.axhline(result["ceiling"], color="grey", linewidth=1, label=f"whole pool ({result['ceiling']:.3f})")
    left.set_xlabel("labelled sentences (mean over seeds)")
    left.set_ylabel("macro-F1 on held-out report groups")
    left.set_title(f"Learning curves ({len(result['runs'])} seeds; band: random ± std)", fontsize=10)
    left.legend(loc="lower right", fontsize=8)
    right.axhline(0, color="grey", linewidth=1)
    right.set_xlabel("labelled sentences (mean over seeds)")
    right.set_ylabel("macro-F1 minus random's (same seed)")
    right.set_title("Gain over random (mean ± standard error)", fontsize=10)
    right.legend(loc="upper right", fontsize=8)
    return save_figure(fig, Path(path))


def write_report(result: dict, out_dir: str | os.PathLike) -> list[Path]:
    """Write ``active_learning.json``, ``.md`` and ``.png`` into ``out_dir`` atomically."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "active_learning.json", json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    atomic_write_text(out / "active_learning.md", to_markdown(result))
    return [out / "active_learning.json", out / "active_learning.md", plot(result, out / "active_learning.png")]


