"""Benchmark: training time and peak memory as the labelled corpus grows (1x, 10x, 100x).

Prints a table (it is not a test). Run: ``python benchmarks/bench_train.py [--factors 1 10 100]``.
Each copy of the corpus is made unique (its number before every 。), and its labels are carried
over to the new sentence ids, so the training set really grows; ``toolkit train --folds 0`` runs
in a fresh process each time.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from _measure import CORPUS, ROOT, run


def make_labelled(factor: int, directory: Path) -> tuple[Path, Path]:
    """A corpus of ``factor`` unique copies and the labels of every copy's sentences."""
    from toolkit.segment import split_sentences, text_id

    labels = {json.loads(l)["id"]: json.loads(l)["label"] for l in (ROOT / "annotations" / "labels.jsonl").open(encoding="utf-8")}
    seed = CORPUS.read_text(encoding="utf-8")
    corpus, store = directory / f"corpus_x{factor}.txt", directory / f"labels_x{factor}.jsonl"
    with corpus.open("w", encoding="utf-8") as c, store.open("w", encoding="utf-8") as s:
        for i in range(factor):
            copy = seed.replace("。", f"{i}。")
            c.write(copy)
            for original, line in zip(seed.splitlines(), copy.splitlines()):
                for a, b in zip(split_sentences(original), split_sentences(line)):
                    if text_id(a) in labels:
                        s.write(json.dumps({"id": text_id(b), "text": b, "label": labels[text_id(a)],
                                            "source": "manual"}, ensure_ascii=False) + "\n")
    return corpus, store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--factors", type=int, nargs="+", default=[1, 10, 100])
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for factor in args.factors:
            corpus, store = make_labelled(factor, tmp)
            out = tmp / f"m{factor}.npz"
            wall, peak, _ = run([sys.executable, "-m", "toolkit", "train", "--data", str(store), "--corpus", str(corpus),
                                 "--out", str(out), "--folds", "0"])
            card = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
            rows.append((factor, corpus.stat().st_size / 1e6, card["training_data"]["sentences"], wall, peak,
                         out.stat().st_size / 1e6))
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print("| corpus | MB | training sentences | train s | s per 1k sentences | peak RSS MB | model MB |")
    print("|---|---|---|---|---|---|---|")
    for factor, mb, n, wall, peak, model_mb in rows:
        print(f"| {factor}x | {mb:.1f} | {n} | {wall:.1f} | {1000 * wall / n:.2f} | {peak:.0f} | {model_mb:.2f} |")


if __name__ == "__main__":
    main()
