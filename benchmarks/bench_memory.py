"""Benchmark: peak memory and time of ``toolkit tag`` on inputs without line breaks.

Prints a table (it is not a test). Run: ``python benchmarks/bench_memory.py [--sizes 10 100]``.

For each size it writes three single-line files from the training corpus (every sentence of every
copy made unique, as in the other benchmarks): the text with its line breaks removed; the same with
its commas, colons, semicolons and brackets full-width, as typed in Chinese (so the text as written
differs from the normalised text the model reads); and the text with every stop, exclamation,
question mark and semicolon turned into a comma (no sentence end at all). Each is tagged in a
fresh process with one job; memory is the peak RSS of the process tree, sampled from /proc.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

from _measure import make_input, measure

_STOPS = re.compile(r"[。!?;;!?]")
_FULL_WIDTH = str.maketrans(",:;()", "，：；（）")
VARIANTS = {"one line": "line", "one line, full-width punctuation": "fullwidth", "one line, no sentence ends": "nostop"}


def single_line(mb: float, directory: Path, variant: str = "line") -> Path:
    """About ``mb`` megabytes on one line: the benchmark input without its line breaks, with
    ``variant`` "fullwidth" its punctuation full-width, with "nostop" without sentence ends."""
    source = make_input(mb, directory)
    path = directory / f"{variant}_{mb:g}mb.txt"
    with source.open(encoding="utf-8") as src, path.open("w", encoding="utf-8") as out:
        for line in src:
            line = line.rstrip("\n")
            if variant == "fullwidth":
                line = line.translate(_FULL_WIDTH)
            elif variant == "nostop":
                line = _STOPS.sub(",", line)
            out.write(line)
    source.unlink()
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=float, nargs="+", default=[10, 100])
    parser.add_argument("--jobs", type=int, nargs="+", default=[1], help="numbers of jobs to run each input with")
    parser.add_argument("--variants", nargs="+", choices=sorted(VARIANTS.values()), default=list(VARIANTS.values()))
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; `toolkit tag FILE --output OUT --jobs N`")
    print("| input | MB | jobs | seconds | peak RSS MB (summed over processes) | peak PSS MB |\n|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for mb in args.sizes:
            for name, variant in VARIANTS.items():
                if variant not in args.variants:
                    continue
                data = single_line(mb, tmp, variant)
                for jobs in args.jobs:
                    m = measure([sys.executable, "-m", "toolkit", "tag", str(data), "--output", str(tmp / "out.jsonl"),
                                 "--jobs", str(jobs)])
                    print(f"| {name} | {data.stat().st_size / 1e6:.1f} | {jobs} | {m.wall:.1f} | {m.peak:.0f} | {m.pss:.0f} |",
                          flush=True)
                    (tmp / "out.jsonl").unlink(missing_ok=True)
                data.unlink()


if __name__ == "__main__":
    main()
