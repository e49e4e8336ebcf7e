"""The package's shape: one installed package, layers that depend one way, no import cycle, and
a registry that the harness and the report follow (shown with a toy backend)."""

import ast
import pathlib

import pytest

import fastnn
from conftest import QuietMachine

PKG = pathlib.Path(fastnn.__file__).parent
#: Layer of each top-level part of the package: an import may only go to a lower layer (or
#: stay inside its own part). CLI -> harness / report / demo -> core.
LAYER = {"cli": 3, "demo": 2, "report": 2, "bench": 1, "plotting": 1}
CORE = 0


def _module(path):
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path):
    """Every fastnn module imported by ``path``, at any depth (function-level imports too)."""
    mod = _module(path)
    pkg = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.split(".")[0] == "fastnn"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "fastnn":
                continue
            out.add(target)
            for a in node.names:  # "from . import x" imports the module x
                if (PKG.parent / (target + "." + a.name).replace(".", "/")).with_suffix(
                        ".py").exists():
                    out.add(target + "." + a.name)
    return out


def _graph():
    return {_module(p): _imports(p) for p in PKG.rglob("*.py")}


def _part(mod):
    parts = mod.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYER else "core"


def test_no_import_cycle():
    g = _graph()
    # a package's __init__ re-exporting its own modules is not a cycle through them
    edges = {m: {t for t in ts if t in g and not (m != "fastnn" and t.startswith(m + "."))
                 and not m == "fastnn"} for m, ts in g.items()}
    state, stack = {}, []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for t in edges[m]:
            if state.get(t) == 1:
                pytest.fail("import cycle: " + " -> ".join(stack[stack.index(t):] + [t]))
            if t not in state:
                visit(t)
        stack.pop()
        state[m] = 2

    for m in sorted(edges):
        if m not in state:
            visit(m)


def test_layers_depend_one_way():
    bad = []
    for m, targets in _graph().items():
        if m == "fastnn":
            continue
        src = _part(m)
        for t in targets:
            dst = _part(t)
            if src != dst and LAYER.get(dst, CORE) >= LAYER.get(src, CORE):
                bad.append(f"{m} -> {t}")
    assert not bad, "imports against the layering: " + ", ".join(sorted(bad))


def test_the_checker_sees_a_core_to_harness_edge(tmp_path, monkeypatch):
    bad = PKG / "_layer_probe_tmp.py"
    bad.write_text("def f():\n    from .bench import grid\n")
    try:
        edges = _imports(bad)
        assert "fastnn.bench.grid" in edges
        assert LAYER[_part("fastnn.bench.grid")] > CORE == LAYER.get(_part(_module(bad)), CORE)
    finally:
        bad.unlink()


def test_one_installed_package():
    import tomllib
    cfg = tomllib.loads((PKG.parent / "pyproject.toml").read_text())
    assert cfg["tool"]["setuptools"]["packages"]["find"]["include"] == ["fastnn*"]
    for dep in ("pandas", "matplotlib", "rich", "threadpoolctl"):
        assert any(d.startswith(dep) for d in cfg["project"]["dependencies"]), dep


def test_a_registered_toy_backend_is_tested_benchmarked_and_reported(tmp_path, monkeypatch):
    """Adding a backend = one module + one registry entry: the API, the grid, the harness (with
    its check against the reference) and the report pick it up with no other change."""
    import numpy as np

    from fastnn.backends import REGISTRY, Backend
    from fastnn.bench import grid, run
    from fastnn.report import build

    monkeypatch.setitem(REGISTRY, "toy", Backend("toy", "toy_backend", "a toy",
                                                 compare_to=("numpy",)))
    P = fastnn.init_params(2, 3, 1, seed=0)
    X, Y = fastnn.flower(20, seed=0)
    J, g = fastnn.get_backend("toy").cost_and_grads(P, X, Y)
    J0, g0 = fastnn.get_backend("numpy").cost_and_grads(P, X, Y)
    assert J == J0 and all(np.array_equal(g[k], g0[k]) for k in g)
    cells, _ = grid.cells("quick", ops=["cost_and_grads"], m=[1, 50], n_h=[3], peers=False)
    assert {c.backend for c in cells} == set(fastnn.BACKENDS) | {"toy"}
    cells = [c for c in cells if c.backend in ("numpy", "toy")]
    path = run.sweep(cells, 0.3, str(tmp_path), progress=False, fast_header=True,
                     detector=QuietMachine())  # the registry's plumbing, not a busy machine
    index = (tmp_path / "index.md")
    build([path], str(tmp_path))
    text = index.read_text()
    assert "numpy ÷ toy" in text  # the comparison declared by the entry
