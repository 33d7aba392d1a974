"""Helpers for the benchmarks: test inputs, and wall time plus peak memory of a process tree."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "annotations" / "corpus" / "reports.txt"

FLOOR = r"""
import json, sys, time
t0 = time.perf_counter()
from toolkit.tagging import iter_reports
from toolkit.tokenizer import load_jieba
tok = load_jieba()
t1 = time.perf_counter()
n = 0
for report in iter_reports([sys.argv[1]]):
    for s in report.sentences:
        tok.lcut(s.text)
        n += 1
print(json.dumps({"sentences": n, "seconds": time.perf_counter() - t1, "startup_s": t1 - t0}))
"""
"""The floor, run as ``python -c FLOOR FILE``: reading and segmenting the file, then jieba
tokenisation alone of every sentence (one ``jieba.Tokenizer`` with the toolkit's user dictionary)."""


def make_input(mb: float, directory: Path) -> Path:
    """The corpus repeated to about ``mb`` megabytes, each copy made unique (its number before every
    。) so that no copy repeats an earlier one: token memos then only help as on real text."""
    seed = CORPUS.read_text(encoding="utf-8")
    path = directory / f"corpus_{mb:g}mb.txt"
    with path.open("w", encoding="utf-8") as handle:
        for i in range(max(1, round(mb * 1e6 / len(seed.encode("utf-8"))))):
            handle.write(seed.replace("。", f"{i}。"))
    return path


def _tree_rss_kb(pid: int) -> int:
    """Resident memory of ``pid`` and all its descendants, from /proc."""
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/status") as handle:
                total += next((int(line.split()[1]) for line in handle if line.startswith("VmRSS:")), 0)
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as handle:
                    stack.extend(int(c) for c in handle.read().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def run(argv: list[str], env: dict | None = None) -> tuple[float, float, str]:
    """Run ``argv``; return wall seconds, peak RSS of its whole process tree in MB (sampled every
    20 ms), and its stdout."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})
    peak = [0]

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], _tree_rss_kb(proc.pid))
            time.sleep(0.02)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    thread.join()
    if proc.returncode:
        raise RuntimeError(f"{argv[:4]} failed ({proc.returncode}): {err.strip().splitlines()[-1:]}")
    return wall, peak[0] / 1024, out
