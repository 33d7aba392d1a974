"""Tagging runs: new reports read from files or standard input, tagged on one process or on
workers (:mod:`toolkit.parallel`), and written in one of the formats (:mod:`toolkit.formats`) to
standard output or to a file replaced only once the run is whole. The pieces are importable from
here too: :class:`~toolkit.tags.Tagged`, :func:`~toolkit.tags.tag_reports`, the writers.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from toolkit.errors import ToolkitError
from toolkit.fileio import replaced_file, temporary_beside
from toolkit.formats import (FORMATS, LOW_MARK, TITLE_MAX, Formatted, Writer, coverage, html_page_end, html_page_start,
                             html_report, input_order, is_reordered, jsonl_line, markdown, md_escape, render,
                             report_title, restructure)
from toolkit.model import default_model_path, load_model
from toolkit.parallel import default_backend, shared_model, tag_parallel
from toolkit.tags import (BATCH_SENTENCES, DEFAULT_MIN_CONFIDENCE, FIELDS, Tagged, assemble, iter_reports, report_batches,
                          tag_paths, tag_report, tag_reports, tag_sentences)
from toolkit.textio import expand_paths, iter_lines, source_name

__all__ = ["TagRun", "tag_files", "default_model_path",
           # re-exported: the pieces a run is made of
           "BATCH_SENTENCES", "DEFAULT_MIN_CONFIDENCE", "FIELDS", "FORMATS", "LOW_MARK", "TITLE_MAX", "Formatted",
           "Tagged", "Writer", "assemble", "coverage", "html_page_end", "html_page_start", "html_report", "input_order",
           "is_reordered", "iter_reports", "jsonl_line", "markdown", "md_escape", "render", "report_batches",
           "report_title", "restructure", "tag_paths", "tag_report", "tag_reports", "tag_sentences"]

@dataclass(frozen=True)
class TagRun:
    """What one :func:`tag_files` run tagged, and with which model."""

    reports: int
    sentences: int
    model: str
    model_version: str

    def summary(self) -> str:
        reports = f"{self.reports} report" + ("" if self.reports == 1 else "s")
        sentences = f"{self.sentences} sentence" + ("" if self.sentences == 1 else "s")
        return f"tagged {sentences} in {reports} with {self.model} ({self.model_version})"


def _close_quietly(handle) -> None:
    """Close ``handle``; a failure to flush what is left (a full disk) is already being reported."""
    try:
        handle.close()
    except OSError:
        pass


def tag_files(paths: Sequence[str | os.PathLike], out: TextIO, *, model_path: str | os.PathLike | None = None,
              fmt: str = "jsonl", output: str | os.PathLike | None = None,
              min_confidence: float | None = DEFAULT_MIN_CONFIDENCE, sentences: bool = False, jobs: int = 1,
              backend: str | None = None, scheduler: str | None = None, dask_timeout: float | None = None,
              progress: Callable[[int, int], None] | None = None) -> TagRun:
    """Tag the reports in ``paths`` (``sentences``: one sentence a line, each alone) and write them
    in ``fmt`` to ``out``, or to the file ``output``, which is replaced only once the whole run is
    written (a failed run leaves the old file and no temporary one). ``jobs`` > 1 or the dask
    ``backend`` tags on worker processes (:mod:`toolkit.parallel`), with the same output;
    ``dask_timeout`` is how long a Dask cluster may be without workers before the run stops (default
    :data:`toolkit.parallel.DASK_TIMEOUT`). ``progress(reports, sentences)`` is called after each report.

    The model file is a NumPy archive (nothing in it can run code), so no model is warned about
    here. The loaded model and jieba's dictionary live until the process ends, so they are moved
    out of the garbage collector's sight (``gc.freeze``)."""
    path = Path(model_path) if model_path else default_model_path()
    if model_path and not path.is_file():
        raise ToolkitError(f"{path}: model file not found")
    parallel = (jobs > 1 or backend == "dask") and not sentences
    if parallel:
        backend = backend or default_backend()
        ref, model = shared_model(path, backend)
    else:
        model = load_model(path)
    model.warm()
    gc.freeze()
    tmp = None
    if output:
        target = Path(output)
        tmp = temporary_beside(target)
        out = open(tmp or target, "w", encoding="utf-8-sig" if fmt == "csv" else "utf-8", newline="")
    if sentences:
        stream = (tag_sentences(model, list(iter_lines(p, as_written=True)), source=source_name(p),
                                 min_confidence=min_confidence)
                  for p in expand_paths(paths))
    elif parallel:
        stream = tag_parallel(ref, paths, jobs=jobs, backend=backend, scheduler=scheduler,
                              min_confidence=min_confidence, quiet=True, fmt=fmt,
                              **({"timeout": dask_timeout} if dask_timeout is not None else {}))
    else:
        stream = tag_paths(model, paths, min_confidence=min_confidence)
    try:
        with Writer(out, fmt, model_version=model.version) as writer:
            for tags in stream:
                writer.write(tags)
                if progress is not None:
                    progress(writer.reports, writer.sentences)
        if output:
            out.close()
            if tmp:
                os.replace(tmp, replaced_file(output))
    except BaseException as exc:
        if output:
            _close_quietly(out)
            if tmp:
                tmp.unlink(missing_ok=True)
            if isinstance(exc, OSError) and not exc.filename:  # a full disk: name the file, not the device
                raise ToolkitError(f"{output}: cannot write ({exc.strerror or exc}); nothing was written") from None
        raise
    return TagRun(writer.reports, writer.sentences, path.name, model.version)
