"""docs/tutorial.ipynb runs top to bottom in a real Jupyter kernel, and `fit` shows its bar and curves there."""

from __future__ import annotations

import json

import pytest
from helpers import ROOT

TUTORIAL = ROOT / "docs" / "tutorial.ipynb"


def test_the_tutorial_is_committed_without_outputs() -> None:
    notebook = json.loads(TUTORIAL.read_text(encoding="utf-8"))
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert code and all(cell["outputs"] == [] and cell["execution_count"] is None for cell in code)


def test_the_tutorial_runs_top_to_bottom(tmp_path) -> None:
    nbformat = pytest.importorskip("nbformat", reason="the notebook test needs nbformat (the test extra)")
    nbclient = pytest.importorskip("nbclient", reason="the notebook test runs the tutorial with nbclient")
    pytest.importorskip("ipykernel", reason="the notebook test needs a Python kernel (ipykernel)")
    pytest.importorskip("onnxruntime", reason="the tutorial checks its ONNX export with onnxruntime")
    notebook = nbformat.read(TUTORIAL, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError, naming the cell, on any error
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    model_view = notebook.cells[2].outputs[0]["data"]
    assert "check table: 9 layers" in model_view["text/html"] and "image/svg+xml" in model_view["text/html"]
    fit = [o for o in notebook.cells[7].outputs if o.output_type == "display_data"]
    bar, curves = fit[0]["data"]["text/html"], fit[1]["data"]["image/png"]
    assert "epoch 8/8" in bar and 'value="1617"' in bar and bar.count("val_accuracy") == 8  # updated in place
    assert len(fit) == 2 and len(curves) > 10_000
    for written in ("digits.net", "digits.npz", "digits.onnx", "conv_1.png"):
        assert (tmp_path / written).is_file(), written
