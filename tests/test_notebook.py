"""The researchers' notebook runs against the library as it is (so it cannot go stale) and is
committed without outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "explore.ipynb"

# jupyter_core warns (DeprecationWarning) about its future paths unless told which to use; the
# suite turns warnings into errors.
pytestmark = pytest.mark.filterwarnings("ignore:Jupyter is migrating its paths:DeprecationWarning")


def test_notebook_is_committed_without_outputs():
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert len(code) >= 8
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in code)
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    source = "\n".join("".join(c["source"]) for c in code)
    assert "from toolkit" in source and "def " not in source  # it calls the library, defines nothing


@pytest.mark.slow
def test_notebook_runs_from_its_folder(monkeypatch):
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOK, as_version=4)
    # Jupyter starts a notebook's kernel in the notebook's folder: run it there too.
    NotebookClient(nb, timeout=240, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "\n".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "17 reports in 13 groups" in text  # corpus at a glance
    assert "'macro_f1': 0." in text and "precision" in text  # grouped CV and per-label scores
    assert "flagged as likely label errors" in text  # the audit
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 2  # label distribution and confusion matrix
    tagged = [o["data"]["text/markdown"] for o in outputs if "text/markdown" in o.get("data", {})]
    assert tagged and tagged[0].startswith("# 20xx年,县人民医院工会") and "<sub>报告 r" in tagged[0] and "覆盖" in tagged[0]
