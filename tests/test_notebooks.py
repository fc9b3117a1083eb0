"""The analyst notebooks: stored without outputs, and each one runs and draws its figures.

Every notebook is executed with nbclient in a fresh ``python3`` kernel (jupyter_client maps
``python`` in the kernel spec to the interpreter running the tests, so the kernel sees this
environment). Execution happens in memory with a temporary working directory: executed
copies are never written into the repository.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
EXPECTED = (
    "01_quickstart",
    "02_reproduce_paper",
    "03_safe_session_size",
    "04_stronger_attacks",
    "05_why_models_leak",
    "06_audit_your_model",
)
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
CELL_TIMEOUT_S = 300


def test_every_listed_notebook_exists():
    assert sorted(p.stem for p in NOTEBOOKS) == sorted(EXPECTED)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    code_cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code_cells, f"{path.name} has no code cell"
    dirty = [
        i
        for i, c in enumerate(code_cells)
        if c.get("outputs") or c.get("execution_count") is not None
    ]
    assert not dirty, f"{path.name}: code cells {dirty} carry outputs or execution counts"
    assert "SEED" in "".join(code_cells[0]["source"]), f"{path.name}: no seed in the first cell"


def _png_outputs(nb) -> int:
    return sum(
        "image/png" in out.get("data", {})
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
    )


@pytest.mark.slow
@pytest.mark.notebooks
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_and_renders_figures(path, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    errors = [
        out
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]
    assert not errors, f"{path.name}: error outputs {errors}"
    assert _png_outputs(nb) >= 1, f"{path.name}: no figure rendered as image/png"
