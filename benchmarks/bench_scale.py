"""Benchmark: how tagging cost grows with input size and jobs, against the jieba floor.

Prints a table (it is not a test). Run: ``python benchmarks/bench_scale.py [--sizes 1 5 50] [--fast]``.

For each input size (the corpus repeated, each copy made unique) it measures, each in a fresh
process: jieba tokenisation alone (the floor), ``toolkit tag`` with 1 and 2 jobs, and with
``--fast`` the same model trained with the rjieba tokenizer (1 and 2 jobs). Peak memory is the whole process
tree's (workers included), sampled from /proc.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from _measure import FLOOR, ROOT, make_input, run


def train_fast_model(directory: Path) -> Path:
    """The default model's parameters with the rjieba tokenizer, trained on the shipped labels."""
    config = directory / "fast.json"
    config.write_text(json.dumps({"tokenizer": "rjieba"}))
    out = directory / "fast.npz"
    run([sys.executable, "-m", "toolkit", "train", "--config", str(config), "--out", str(out), "--folds", "0",
         "--data", str(ROOT / "annotations" / "labels.jsonl"), "--corpus", str(ROOT / "annotations" / "corpus" / "reports.txt")])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=float, nargs="+", default=[1, 5, 50])
    parser.add_argument("--fast", action="store_true", help="also time a model using the rjieba tokenizer")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        fast = train_fast_model(tmp) if args.fast else None
        for mb in args.sizes:
            data = make_input(mb, tmp)
            size = data.stat().st_size / 1e6
            floor = json.loads(run([sys.executable, "-c", FLOOR, str(data)])[2])
            row = {"MB": size, "sentences": floor["sentences"], "jieba alone s": floor["seconds"]}
            variants = [("1 job", ["--jobs", "1"]), ("2 jobs", ["--jobs", "2"])]
            if fast:
                variants.append(("rjieba, 1 job", ["--jobs", "1", "--model", str(fast)]))
                variants.append(("rjieba, 2 jobs", ["--jobs", "2", "--model", str(fast)]))
            for name, extra in variants:
                wall, peak, _ = run([sys.executable, "-m", "toolkit", "tag", str(data), "--output", str(tmp / "o.jsonl"), *extra])
                row[name] = (wall, peak)
            rows.append(row)
            data.unlink()
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; times are whole processes, "
          "memory is the peak RSS of the process tree")
    header = ["MB", "sentences", "jieba alone s", "1 job s", "1 job MB/s", "2 jobs s", "speed-up", "efficiency",
              "tag/jieba (1 job)", "peak MB 1 job", "peak MB 2 jobs"]
    if args.fast:
        header += ["rjieba 1 job s", "rjieba/jieba", "rjieba 2 jobs s", "rjieba 2 jobs/jieba", "peak MB rjieba"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in rows:
        one, two = r["1 job"], r["2 jobs"]
        cells = [f"{r['MB']:.1f}", f"{r['sentences']}", f"{r['jieba alone s']:.2f}", f"{one[0]:.2f}",
                 f"{r['MB'] / one[0]:.2f}", f"{two[0]:.2f}", f"{one[0] / two[0]:.2f}x", f"{one[0] / two[0] / 2:.2f}",
                 f"{one[0] / r['jieba alone s']:.2f}x", f"{one[1]:.0f}", f"{two[1]:.0f}"]
        if args.fast:
            f, f2 = r["rjieba, 1 job"], r["rjieba, 2 jobs"]
            cells += [f"{f[0]:.2f}", f"{f[0] / r['jieba alone s']:.2f}x", f"{f2[0]:.2f}", f"{f2[0] / r['jieba alone s']:.2f}x",
                      f"{f[1]:.0f}"]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
