"""Benchmark: tagging throughput against the jieba-alone floor, on the corpus repeated to ~5 MB.

Prints numbers; it is not a test. Run: ``python benchmarks/bench_tag.py [--mb 5]``.

Measured in one run, each in a fresh subprocess (so start-up and peak memory are real):
  * floor: read + segment the text, then jieba tokenisation alone of every sentence
    (one ``jieba.Tokenizer`` with the same user dictionary);
  * tag: the whole ``toolkit tag`` process on the same file (imports, model load, tagging, output);
  * model load time, and peak RSS of each process.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from _measure import CORPUS, FLOOR, ROOT, make_input, run

LOAD = r"""
import json, time
t0 = time.perf_counter()
from toolkit.model import load_model
from toolkit.tagging import default_model_path
t1 = time.perf_counter()
load_model(default_model_path())
print(json.dumps({"import_s": t1 - t0, "load_s": time.perf_counter() - t1}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=float, default=5.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = make_input(args.mb, Path(tmp))
        size = data.stat().st_size / 1e6
        floor_wall, floor_peak, floor_out = run([sys.executable, "-c", FLOOR, str(data)])
        floor = json.loads(floor_out)
        tag_wall, tag_peak, _ = run([sys.executable, "-m", "toolkit", "tag", str(data), "--output", str(Path(tmp) / "o.jsonl")])
        load = json.loads(run([sys.executable, "-c", LOAD])[2])
        one = Path(tmp) / "one.txt"
        one.write_text("\n".join(CORPUS.read_text(encoding="utf-8").splitlines()[:17]) + "\n", encoding="utf-8")
        cold_wall, _, _ = run([sys.executable, "-m", "toolkit", "tag", str(one), "--output", str(Path(tmp) / "one.jsonl")])
    n = floor["sentences"]
    model_mb = (ROOT / "models" / "default.joblib").stat().st_size / 1e6
    rows = [
        ("input", f"{size:.2f} MB, {n} sentences"),
        ("floor: jieba tokenisation alone (s)", f"{floor['seconds']:.2f}  ({size / floor['seconds']:.2f} MB/s)"),
        ("floor: whole process incl. start-up (s)", f"{floor_wall:.2f}  (peak RSS {floor_peak:.0f} MB)"),
        ("toolkit tag, whole process (s)", f"{tag_wall:.2f}  ({n / tag_wall:,.0f} sentences/s, {size / tag_wall:.2f} MB/s)"),
        ("ratio: tag process / jieba tokenisation", f"{tag_wall / floor['seconds']:.2f}x  (target <= 1.3x)"),
        ("ratio: tag process / floor process", f"{tag_wall / floor_wall:.2f}x"),
        ("cold start, one report (s)", f"{cold_wall:.2f}  (target <= 4 s)"),
        ("model load (s)", f"{load['load_s']:.3f}  (target < 0.1 s; imports {load['import_s']:.2f} s)"),
        ("peak RSS while tagging (MB)", f"{tag_peak:.0f}  (target < 300 MB)"),
        ("model file (MB)", f"{model_mb:.2f}  (target < 20 MB)"),
    ]
    width = max(len(k) for k, _ in rows)
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
