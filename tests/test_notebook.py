"""The lecture notebook: it calls the page's own functions, and it runs, cell by cell, in time."""

import ast
import os
import shutil

import pytest

from fastnn import demo

NOTEBOOK = os.path.join(os.path.dirname(__file__), "..", "reports", "lecture", demo.NOTEBOOK)
#: The page's parts: every one has its cell in the notebook.
PARTS = ("activations", "flower_boundaries", "hidden_sizes", "inplace_sweep", "hidden_activations",
         "zero_init", "init_scale", "linear_hidden", "logistic_from_zero", "step_times",
         "training_times")
#: A cell's time limit. Its defaults take at most ~30 s on the 2-core reference machine (the
#: slowest, part 7's step timings, ~15 s quiet; the harness waits for quiet when the machine is
#: busy); 180 s leaves a 6× margin for a slow or shared CI runner, and still fails a cell that
#: runs the page's full sweep or hangs. Numba's compile is paid before (see the test), since a
#: cold compile of every activation can alone take a minute on a slow machine.
CELL_LIMIT_S = 180


def _cells():
    nbformat = pytest.importorskip("nbformat")
    return nbformat.read(NOTEBOOK, as_version=4).cells


def test_each_part_is_a_cell_calling_the_page_function():
    code = [c.source for c in _cells() if c.cell_type == "code"]
    called = {}
    for i, src in enumerate(code):
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and getattr(node.func.value, "id", None) == "demo":
                called.setdefault(node.func.attr, i)
    assert set(PARTS) <= set(called), set(PARTS) - set(called)
    for name in called:
        assert callable(getattr(demo, name, None)), name
    # one part per cell, and the knob that makes a cell bigger is named there, with a comment
    assert len(set(called.values())) == len(called)
    for name in ("flower_boundaries", "hidden_sizes", "inplace_sweep", "zero_init", "init_scale",
                 "step_times"):
        src = code[called[name]]
        assert any("=" in ln and "#" in ln for ln in src.splitlines()), src


def test_every_part_has_a_markdown_cell_saying_what_it_shows():
    cells = _cells()
    heads = [c.source.splitlines()[0] for c in cells if c.cell_type == "markdown"]
    for n in range(1, 8):
        assert any(h.startswith(f"## {n}. ") for h in heads), n
    assert any("ladder" in c.source for c in cells if c.cell_type == "markdown")


@pytest.mark.slow
def test_the_notebook_runs_in_a_fresh_kernel_within_its_time_limit(tmp_path):
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    nbformat = pytest.importorskip("nbformat")
    # fill Numba's on-disk cache (keyed by the package's source) with every kernel the notebook
    # trains with, so the limit measures the lesson's own work, not a first compile
    demo.hidden_activations(m=20, iters=2)
    demo.flower_boundaries(m=20, iters=2)
    path = tmp_path / demo.NOTEBOOK
    shutil.copy(NOTEBOOK, path)
    nb = nbformat.read(path, as_version=4)
    for c in nb.cells:
        if c.cell_type == "code":
            c.outputs, c.execution_count = [], None
    nbformat.write(nb, path)
    # a cell that raises or runs over its limit stops execution with nbclient's error
    demo.run_notebook(str(path), timeout=CELL_LIMIT_S)
    cells = nbformat.read(path, as_version=4).cells
    code = [c for c in cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code)
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, errors
    # each part's cell shows its figures (PNG) and text (markdown) inline
    shown = [c for c in code if "demo." in c.source]
    for c in shown:
        kinds = {k for o in c.outputs for k in o.get("data", {})}
        assert "text/markdown" in kinds, c.source
    # the page's eight figures, each shown once
    assert sum("image/png" in o.get("data", {}) for c in shown for o in c.outputs) == 8
