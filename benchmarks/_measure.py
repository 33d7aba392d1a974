"""Helpers for the benchmarks: test inputs, and wall time plus peak memory of a process tree."""

from __future__ import annotations

import itertools
import os
import re
import resource
import subprocess
import threading
import time
from pathlib import Path
from typing import NamedTuple

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
c1 = time.process_time()
n = 0
for report in iter_reports([sys.argv[1]]):
    for s in report.sentences:
        cut(s.text)
        n += 1
print(json.dumps({"sentences": n, "seconds": time.perf_counter() - t1, "cpu_seconds": time.process_time() - c1,
                  "startup_s": t1 - t0}))
"""
"""The floor, run as ``python -c FLOOR FILE``: reading and segmenting the file, then jieba
tokenisation alone of every sentence (one ``jieba.Tokenizer`` with the toolkit's user dictionary).
``python -c FLOOR FILE accurate-cut`` tokenises with the toolkit's :class:`toolkit.tokenizer.AccurateCut`
instead (the same words, faster): the tagger's own tokenisation, to show what the rest costs."""


def corpus_text() -> str:
    """Every report of the training corpus (the seed and the written reports), one file after another."""
    return "".join(p.read_text(encoding="utf-8").rstrip("\n") + "\n" for p in sorted(CORPUS_DIR.rglob("*.txt")))


_ENDS = re.compile(r"([。!?;\uff01\uff1f\uff1b])|(?<=[^\n。!?;\uff01\uff1f\uff1b])(?=\n)")


def make_input(mb: float, directory: Path) -> Path:
    """The corpus repeated to about ``mb`` megabytes, every sentence made unique: a running number
    goes before each sentence end and each end of a non-empty line (headings and list items
    included), so no sentence repeats another, within a copy or across copies, and token memos
    help the tagger no more than on real text. Blank lines stay blank, so paragraphs stay."""
    seed = corpus_text()
    counter = itertools.count()
    path = directory / f"corpus_{mb:g}mb.txt"
    with path.open("w", encoding="utf-8") as handle:
        for _ in range(max(1, round(mb * 1e6 / len(seed.encode("utf-8"))))):
            handle.write(_ENDS.sub(lambda m: f"{next(counter)}{m.group(1) or ''}", seed))
    return path


def _field_kb(path: str, key: str) -> int:
    """The kB figure of the line starting with ``key`` in a /proc file, 0 when it has none or the
    kernel does not provide the file."""
    try:
        with open(path) as handle:
            return next((int(line.split()[1]) for line in handle if line.startswith(key)), 0)
    except FileNotFoundError:
        return 0


def _tree_memory_kb(pid: int) -> tuple[int, int]:
    """Resident memory (RSS, shared pages counted in every process) and proportional memory (PSS,
    pages shared after a fork counted once in all; 0 where the kernel has no smaps_rollup) of
    ``pid`` and all its descendants, from /proc, in one walk of the tree."""
    rss, pss, stack = 0, 0, [pid]
    while stack:
        p = stack.pop()
        try:
            rss += _field_kb(f"/proc/{p}/status", "VmRSS:")
            pss += _field_kb(f"/proc/{p}/smaps_rollup", "Pss:")
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as handle:
                    stack.extend(int(c) for c in handle.read().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return rss, pss


class Measured(NamedTuple):
    wall: float
    """Seconds from start to exit."""
    peak: float
    """Peak RSS of the whole process tree in MB (sampled every 20 ms)."""
    out: str
    cpu: float
    """User plus system CPU seconds of the process and its waited-for children: on a shared
    machine this moves less than wall time, because waiting for a core is not counted."""
    pss: float = 0.0
    """Peak proportional memory (PSS) of the process tree in MB: what forked workers really add."""


def run(argv: list[str], env: dict | None = None) -> tuple[float, float, str]:
    """Run ``argv``; return wall seconds, peak RSS of its whole process tree in MB, and its stdout."""
    return measure(argv, env)[:3]


def measure(argv: list[str], env: dict | None = None) -> Measured:
    """Run ``argv`` (alone: CPU time is read from this process's children); see :class:`Measured`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})
    peak = [0, 0]

    def sample() -> None:
        while proc.poll() is None:
            rss, pss = _tree_memory_kb(proc.pid)
            peak[0], peak[1] = max(peak[0], rss), max(peak[1], pss)
            time.sleep(0.02)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    thread.join()
    if proc.returncode:
        raise RuntimeError(f"{argv[:4]} failed ({proc.returncode}): {err.strip().splitlines()[-1:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Measured(wall, peak[0] / 1024, out, cpu, peak[1] / 1024)
