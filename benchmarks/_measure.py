"""Helpers for the benchmarks: test inputs, and wall time plus peak memory of a process tree."""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "annotations" / "corpus" / "reports.txt"
CORPUS_DIR = ROOT / "annotations" / "corpus"

FLOOR = r"""
import json, sys, time
t0 = time.perf_counter()
from toolkit.tagging import iter_reports
from toolkit.tokenizer import AccurateCut, load_jieba
tok = load_jieba()
cut = AccurateCut(tok).__call__ if sys.argv[2:] == ["accurate-cut"] else tok.lcut
t1 = time.perf_counter()
n = 0
for report in iter_reports([sys.argv[1]]):
    for s in report.sentences:
        cut(s.text)
        n += 1
print(json.dumps({"sentences": n, "seconds": time.perf_counter() - t1, "startup_s": t1 - t0}))
"""
"""The floor, run as ``python -c FLOOR FILE``: reading and segmenting the file, then jieba
tokenisation alone of every sentence (one ``jieba.Tokenizer`` with the toolkit's user dictionary).
``python -c FLOOR FILE accurate-cut`` tokenises with the toolkit's :class:`toolkit.tokenizer.AccurateCut`
instead (the same words, faster): the tagger's own tokenisation, to show what the rest costs."""


def corpus_text() -> str:
    """Every report of the training corpus (the seed and the written reports), one file after another."""
    return "".join(p.read_text(encoding="utf-8").rstrip("\n") + "\n" for p in sorted(CORPUS_DIR.rglob("*.txt")))


_ENDS = re.compile(r"([。!?;;!?])|(?=\n)")


def make_input(mb: float, directory: Path) -> Path:
    """The corpus repeated to about ``mb`` megabytes, every sentence of every copy made unique (the
    copy's number before each sentence end and line end, headings and list items included), so that
    no sentence repeats an earlier one: token memos then help only as on real text."""
    seed = corpus_text()
    path = directory / f"corpus_{mb:g}mb.txt"
    with path.open("w", encoding="utf-8") as handle:
        for i in range(max(1, round(mb * 1e6 / len(seed.encode("utf-8"))))):
            handle.write(_ENDS.sub(lambda m, i=i: f"{i}{m.group(1) or ''}", seed))
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
