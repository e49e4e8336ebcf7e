"""Importing fastnn, drawing its figures or timing a backend changes nothing process-wide that
the rest of the user's program sees (issue 17, item 6): matplotlib's backend and pyplot, JAX's
64-bit mode, PyTorch's and Numba's thread counts, NumPy's error handling. (Numba's threading
layer is tested in test_threading.py.)"""

import ast
import importlib
import importlib.util
import os
import pathlib
import sys

import numpy as np
import pytest

import fastnn
from fastnn.backends import REGISTRY
from fastnn.plotting import save, subplots

PKG = pathlib.Path(fastnn.__file__).parent


def _matplotlib_misuse(path):
    """Lines of ``path`` that import pyplot or choose matplotlib's backend."""
    tree = ast.parse(path.read_text())
    mpl = {"matplotlib"}  # names bound to the matplotlib module
    bad = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name == "matplotlib.pyplot":
                    bad.append(node.lineno)
                elif a.name == "matplotlib":
                    mpl.add(a.asname or "matplotlib")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("matplotlib"):
            names = {a.name for a in node.names}
            if node.module == "matplotlib.pyplot" or (node.module == "matplotlib"
                                                       and names & {"pyplot", "use"}):
                bad.append(node.lineno)
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "use" and isinstance(node.func.value, ast.Name)
                and node.func.value.id in mpl):
            bad.append(node.lineno)
    return bad


def test_no_module_imports_pyplot_or_chooses_a_matplotlib_backend(tmp_path):
    found = {str(p.relative_to(PKG)): lines for p in sorted(PKG.rglob("*.py"))
             if (lines := _matplotlib_misuse(p))}
    assert found == {}
    # the check sees each way of doing it
    for i, code in enumerate(["import matplotlib.pyplot as plt",
                              "from matplotlib import pyplot",
                              "import matplotlib as mpl\ndef f():\n    mpl.use('Agg')"]):
        (tmp_path / f"m{i}.py").write_text(code)
        assert _matplotlib_misuse(tmp_path / f"m{i}.py"), code


def test_a_figure_is_drawn_and_saved_without_pyplot(tmp_path, matplotlib_untouched):
    fig, axes = subplots(1, 2, figsize=(4, 2), layout="constrained", sharey=True,
                         squeeze=False)
    axes[0][0].plot([1, 2], [3, 4])
    assert save(fig, str(tmp_path), "f.png") == "f.png"
    assert (tmp_path / "f.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert axes.shape == (1, 2) and fig.get_figwidth() == 4


#: what a package lets a program set process-wide, read here for the packages installed
SETTINGS = {
    "numpy": lambda np_: np_.geterr(),
    "numba": lambda numba: numba.get_num_threads(),
    "torch": lambda torch: torch.get_num_threads(),
    "jax": lambda jax: bool(jax.config.jax_enable_x64),
}


def _settings():
    return {pkg: read(importlib.import_module(pkg)) for pkg, read in SETTINGS.items()
            if importlib.util.find_spec(pkg)}


@pytest.fixture
def users_own_settings():
    """A program whose settings differ from anything a timing wants: torch at 3 threads (a
    timing asks for 1 or all cores), numba at 1; JAX's 64-bit mode left as it is (off by
    default). Put back afterwards."""
    import numba
    old_numba = numba.get_num_threads()
    numba.set_num_threads(1)
    torch = importlib.import_module("torch") if importlib.util.find_spec("torch") else None
    old_torch = torch.get_num_threads() if torch else None
    if torch:
        torch.set_num_threads(3)
    yield
    numba.set_num_threads(old_numba)
    if torch:
        torch.set_num_threads(old_torch)


@pytest.mark.parametrize("threads", [0, 1])
@pytest.mark.parametrize("name, op", [(n, op) for n, b in REGISTRY.items() for op in b.ops])
def test_a_timing_leaves_the_process_settings_as_they_were(name, op, threads,
                                                           users_own_settings):
    """Made and called as the harness does, every entry's every op: the settings are the
    user's before, in between and after, and float64 in still gives float64 out (JAX's
    64-bit mode is on inside the call)."""
    be = fastnn.get_backend(name)
    if be.missing():
        pytest.skip(be.missing())
    X, Y = fastnn.flower(40, seed=0)
    P = fastnn.init_params(2, 3, 1, method="xavier", seed=0)
    before = _settings()
    fn = be.make_call(op, P, X, Y, "tanh", "sigmoid", threads, steps=3)
    assert _settings() == before
    out = fn()
    assert _settings() == before
    arrays = [a for part in (out if isinstance(out, tuple) else (out,))
              for a in (part.values() if isinstance(part, dict) else [part])]
    assert all(np.asarray(a).dtype == np.float64 for a in arrays
               if not isinstance(a, float)), [np.asarray(a).dtype for a in arrays]


@pytest.mark.slow  # a fresh process
def test_import_leaves_numbas_threading_layer_and_a_users_choice_wins(monkeypatch):
    """``import fastnn`` does not set Numba's threading layer (the numba backend's kernels ask
    for one when first used), and a layer the program chose stays chosen."""
    import subprocess
    code = ("import numba, fastnn; a = numba.config.THREADING_LAYER; "
            "numba.config.THREADING_LAYER = 'workqueue'; "
            "fastnn.get_backend('numba').impl; print(a, numba.config.THREADING_LAYER)")
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_THREADING_LAYER"}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["default", "workqueue"]
    from fastnn.backends import _threading
    monkeypatch.delenv("NUMBA_THREADING_LAYER", raising=False)
    monkeypatch.setattr(_threading.numba.config, "THREADING_LAYER", "default")
    _threading.choose()
    assert _threading.numba.config.THREADING_LAYER == _threading.LAYER
