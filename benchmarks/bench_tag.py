"""Benchmark: tagging throughput against the jieba-alone floor, on the corpus repeated to ~5 MB.

Prints numbers; it is not a test. Run: ``python benchmarks/bench_tag.py [--mb 5] [--repeat 3]``.
The floor and the tagger run ``--repeat`` times, alternating, and the medians are reported with the
range of the per-run ratios and a 95 % bootstrap interval of the median ratio (a shared machine is
noisy: one run alone can be off by 10 %, so a target is met only if the interval is under it).

Measured in one run, each in a fresh subprocess (so start-up and peak memory are real):
  * floor: read + segment the text, then jieba tokenisation alone of every sentence
    (one ``jieba.Tokenizer`` with the same user dictionary);
  * the same with the toolkit's own exact re-implementation of jieba's accurate mode
    (:class:`toolkit.tokenizer.AccurateCut`, which the tagger uses): the ratio to it is what
    everything but tokenisation costs;
  * tag: the whole ``toolkit tag`` process on the same file (imports, model load, tagging, output);
  * model load time, and peak RSS of each process.

Every process runs with its bytecode cached (in a temporary ``PYTHONPYCACHEPREFIX``, written by a
warm-up run), as on any machine where the toolkit was installed from a wheel or has run once; a
shell with ``PYTHONDONTWRITEBYTECODE`` set would otherwise compile ~50 modules at each start.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

from _measure import CORPUS, FLOOR, make_input, measure, run

from toolkit.model import default_model_path

LOAD = r"""
import json, time
t0 = time.perf_counter()
from toolkit.model import load_model
from toolkit.tagging import default_model_path
t1 = time.perf_counter()
load_model(default_model_path())
print(json.dumps({"import_s": t1 - t0, "load_s": time.perf_counter() - t1}))
"""


def median_interval(values: list[float], level: float = 0.95, resamples: int = 4000) -> tuple[float, float]:
    """A percentile bootstrap interval of the median of ``values`` (fixed seed, so a run reprints
    its own interval)."""
    import numpy as np

    draws = np.random.default_rng(0).choice(values, size=(resamples, len(values)), replace=True)
    medians = np.median(draws, axis=1)
    return float(np.quantile(medians, (1 - level) / 2)), float(np.quantile(medians, (1 + level) / 2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=float, default=5.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = make_input(args.mb, Path(tmp))
        size = data.stat().st_size / 1e6
        floors, cuts, tags, loads, colds = [], [], [], [], []
        one = Path(tmp) / "one.txt"
        one.write_text("\n".join(CORPUS.read_text(encoding="utf-8").splitlines()[:17]) + "\n", encoding="utf-8")
        env = {"PYTHONDONTWRITEBYTECODE": "", "PYTHONPYCACHEPREFIX": str(Path(tmp) / "pycache")}
        tag_one = [sys.executable, "-m", "toolkit", "tag", str(one), "--output", str(Path(tmp) / "one.jsonl")]
        run(tag_one, env)
        for _ in range(max(1, args.repeat)):
            wall, peak, out = run([sys.executable, "-c", FLOOR, str(data)], env)
            floors.append((json.loads(out)["seconds"], wall, peak, json.loads(out)))
            cuts.append(json.loads(run([sys.executable, "-c", FLOOR, str(data), "accurate-cut"], env)[2])["seconds"])
            tagged = measure([sys.executable, "-m", "toolkit", "tag", str(data), "--output", str(Path(tmp) / "o.jsonl")], env)
            tags.append((tagged.wall, tagged.peak, tagged.cpu))
            loads.append(json.loads(run([sys.executable, "-c", LOAD], env)[2]))
            colds.append(run(tag_one, env)[0])
        ratios = sorted(t[0] / f[0] for t, f in zip(tags, floors))
        cut_ratios = sorted(t[0] / c for t, c in zip(tags, cuts))
        cpu_ratios = sorted(t[2] / f[3]["cpu_seconds"] for t, f in zip(tags, floors))
        floor_s, floor_wall, floor_peak, floor = sorted(floors, key=lambda f: f[0])[len(floors) // 2]
        tag_wall = statistics.median(t[0] for t in tags)
        tag_peak = max(t[1] for t in tags)
        load = {k: statistics.median(x[k] for x in loads) for k in ("import_s", "load_s")}
        cold_wall = statistics.median(colds)
    n = floor["sentences"]
    model_mb = default_model_path().stat().st_size / 1e6
    rows = [
        ("input", f"{size:.2f} MB, {n} sentences"),
        ("floor: jieba tokenisation alone (s)", f"{floor['seconds']:.2f}  ({size / floor['seconds']:.2f} MB/s)"),
        ("floor: whole process incl. start-up (s)", f"{floor_wall:.2f}  (peak RSS {floor_peak:.0f} MB)"),
        ("floor: toolkit's AccurateCut alone (s)", f"{statistics.median(cuts):.2f}  (same words as jieba)"),
        ("toolkit tag, whole process (s)", f"{tag_wall:.2f}  ({n / tag_wall:,.0f} sentences/s, {size / tag_wall:.2f} MB/s)"),
        ("ratio: tag process / jieba tokenisation", f"{statistics.median(ratios):.2f}x median of {len(ratios)} "
         f"(runs {', '.join(f'{r:.2f}x' for r in ratios)}; target <= 1.1x)"),
        ("  95 % interval of that median (bootstrap)", "{:.2f}x-{:.2f}x".format(*median_interval(ratios))),
        ("CPU-time ratio: tag process / jieba tokenisation", f"{statistics.median(cpu_ratios):.2f}x median "
         f"(runs {', '.join(f'{r:.2f}x' for r in cpu_ratios)}; steadier than wall time on a busy machine)"),
        ("ratio: tag process / AccurateCut tokenisation", f"{statistics.median(cut_ratios):.2f}x median "
         f"(runs {', '.join(f'{r:.2f}x' for r in cut_ratios)}: the cost of everything but tokenising)"),
        ("ratio: tag process / floor process", f"{tag_wall / floor_wall:.2f}x"),
        ("cold start, one report (s)", f"{cold_wall:.2f}  (target < 1 s)"),
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
