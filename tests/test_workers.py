"""Measurement in worker processes (issue 18): each cell's values come from fresh worker processes
apart from the parent and from every other backend, in a seeded shuffled order; a grid splits
into shards by shape."""

import os
import tracemalloc

import pytest

from fastnn.activations import ACTIVATIONS
from fastnn.backends import OPS
from fastnn.bench import grid as G
from fastnn.bench import run, spawn
from fastnn.bench.codes import error
from fastnn.bench.store import load
from fastnn.report import reasons
from conftest import QuietMachine


def _env(name):
    """A worker's task: a variable of the worker's environment."""
    return os.environ.get(name)


def test_every_cell_runs_in_its_own_worker_and_a_headline_cell_in_several(tmp_path):
    cells, _ = G.cells("quick", backends=["numpy", "numba"], ops=["cost_and_grads"],
                       m=[50, 100], n_h=[3])
    path = run.sweep(cells, 0.2, str(tmp_path), progress=False, fast_header=True,
                     detector=QuietMachine(), pairs=False, seed=3)
    recs = load(path)[1]
    pids = [r["worker_pid"] for r in recs]
    assert os.getpid() not in pids and len(set(pids)) == len(recs) == 4
    assert sorted(r["order"] for r in recs) == [0, 1, 2, 3]
    header = load(path)[0]
    assert header["order_seed"] == 3 and header["workers"]["isolated"]


def test_a_headline_cell_pools_the_values_of_its_workers(tmp_path):
    n_x, n_h, m = min(G.TARGETS, key=lambda s: s[0] * s[1] * s[2])  # workers know the grid's
    cells, _ = G.cells("quick", backends=["numba"], ops=["cost_and_grads"], m=[m], n_h=[n_h],
                       n_x=[n_x])
    path = run.sweep(cells, 0.2, str(tmp_path), progress=False, fast_header=True,
                     detector=QuietMachine(), pairs=False,
                     settings=dict(workers=2, samples=6, sample_s=0.2, memory_below_s=0.0))
    (rec,) = load(path)[1]
    assert rec["headline"] and len(rec["workers"]) == 2
    assert len({w["pid"] for w in rec["workers"]}) == 2
    assert len(rec["samples"]) == sum(w["values"] for w in rec["workers"])
    assert rec["workers_spread"] >= 0


def test_the_environment_reaches_every_worker(monkeypatch):
    spawn.call(os.getpid)  # the fork server now exists, started with the old environment
    monkeypatch.setenv("FASTNN_WORKER_TEST", "seen")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert spawn.call(_env, "FASTNN_WORKER_TEST") == "seen"
    assert spawn.call(_env, "OMP_NUM_THREADS") == "1"
    assert spawn.call(os.getpid) != os.getpid()


def test_a_worker_that_dies_is_a_failed_cell_not_a_hang():
    with pytest.raises(spawn.WorkerDied, match="exit code 3"):
        spawn.call(os._exit, 3)
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        spawn.call(divmod, 1, 0)


def _worker_rec(i, m):
    return dict(status="ok", samples=[m] * 3, median_s=m, iqr_s=0.01 * m, min_s=m,
                calls_per_round=1, worker_pid=10 + i, flops=1, bytes=1, compile_s=None)


def test_workers_that_disagree_beyond_their_own_spread_are_named():
    recs = [_worker_rec(i, m) for i, m in enumerate((0.6, 1.4, 0.7))]
    out = run._merge(recs)
    assert out["workers_apart"] is True and out["workers_spread"] == pytest.approx(1.4 / 0.6 - 1)
    assert out["workers_iqr"] == pytest.approx(0.01)
    words = reasons.workers_apart(out)
    assert "3 workers disagree" in words and "0.6, 1.4, 0.7" in words and "133 %" in words
    assert out["median_s"] == 0.7 and len(out["samples"]) == 9
    close = [_worker_rec(i, 1.0 + i / 100) for i in range(3)]
    assert run._merge(close)["workers_apart"] is False
    assert reasons.workers_apart(run._merge(close)) == ""
    # an older file's sentence shows as it is
    assert reasons.workers_apart({"workers_disagree": "old words"}) == "old words"


def test_the_order_is_seeded_shuffled_and_keeps_each_series_ascending():
    cells, _ = G.cells("first", peers=False)
    a, b = run.order(cells, 1), run.order(cells, 1)
    assert a == b and sorted(a, key=str) == sorted(cells, key=str)
    assert run.order(cells, 2) != a
    backends = [c.backend for c in a[:10]]
    assert len(set(backends)) > 1  # interleaved, not one backend's column after another
    for s in {(c.backend, c.op, c.n_h, c.n_x) for c in cells}:
        ms = [c.m for c in a if (c.backend, c.op, c.n_h, c.n_x) == s]
        assert ms == sorted(ms)


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_shards_split_a_grid_by_shape(n):
    cells, _ = G.cells("first", peers=False)
    parts = [run.shard(cells, k, n) for k in range(1, n + 1)]
    assert sorted((c for p in parts for c in p), key=str) == sorted(cells, key=str)
    owner = {}
    for k, p in enumerate(parts):
        for c in p:
            assert owner.setdefault(run.shape_of(c), k) == k  # a shape is on one machine
    with pytest.raises(ValueError, match="1 <= K <= N"):
        run.shard(cells, n + 1, n)


def test_cli_refuses_a_bad_shard(capsys):
    from fastnn.cli import main
    assert main(["bench", "--shard", "3/2"]) == 2
    assert "K/N" in capsys.readouterr().err


@pytest.fixture(scope="module")
def _facts():
    return run.header("tiny", 0.2, {}, True, None, QuietMachine(), isolate=False)


@pytest.fixture
def one_header(monkeypatch, _facts):
    """Every sweep of a test reuses one measured header (the machine facts are not the point)."""
    import copy
    monkeypatch.setattr(run, "header", lambda grid, *a, **kw: dict(copy.deepcopy(_facts),
                                                                   grid=grid))


def _tiny_run(out, cells, **kw):
    return run.sweep(cells, 0.2, str(out), progress=False, fast_header=True,
                     detector=QuietMachine(), pairs=False, isolate=False, grid="tiny", **kw)


def test_a_sharded_run_merges_into_the_report_of_the_unsharded_run(tmp_path, one_header):
    import pandas as pd

    from fastnn.report.build import build
    cells, _ = G.cells("quick", backends=["python", "numpy"], ops=["cost_and_grads"],
                       m=[10, 20, 30], n_h=[3])
    whole = _tiny_run(tmp_path / "whole", cells)
    parts = [_tiny_run(tmp_path / f"machine{k}", run.shard(cells, k, 2), shard_of=(k, 2))
             for k in (1, 2)]
    assert {h["shard"]["k"] for h in (load(p)[0] for p in parts)} == {1, 2}
    index = build(parts, str(tmp_path / "merged"))
    build([whole], str(tmp_path / "one"))
    cols = ["backend", "op", "m", "n_h", "status"]
    merged = pd.read_csv(tmp_path / "merged" / "results.csv")[cols]
    one = pd.read_csv(tmp_path / "one" / "results.csv")[cols]
    assert sorted(map(tuple, merged.values)) == sorted(map(tuple, one.values))
    text = open(index).read()
    assert "Where each shape ran" in text and "machine1" in text and "machine2" in text
    assert "Run to run" not in text


def test_two_runs_of_one_grid_get_a_run_to_run_table(tmp_path, one_header):
    from fastnn.report.build import build
    cells, _ = G.cells("quick", backends=["python", "numpy"], ops=["cost_and_grads"],
                       m=[10, 20], n_h=[3])
    a, b = (_tiny_run(tmp_path / n, cells) for n in ("a", "b"))
    text = open(build([a, b], str(tmp_path / "r"))).read()
    assert "### Run to run" in text and "python ÷ numpy" in text
    assert "unimodal cells' times" in text and "agree within ±10 %" in text
    assert "The machine itself" in text and "another speed" not in text  # one header, twice


def test_a_machine_that_changed_speed_between_runs_is_said():
    from fastnn.report.runs import machine_drift
    h = {"peaks": {"fma_gflops": 190.0, "gemm_gflops": 145.0}}
    text = machine_drift([("a", h), ("b", {"peaks": {"fma_gflops": 229.0, "gemm_gflops": 146.0}})])
    assert "another speed" in text and "FMA peak (GFLOP/s) 1.21×" in text and "GEMM" not in \
        text.split("another speed")[1]


def test_each_backend_has_its_own_working_set_model(monkeypatch):
    """The fused step needs X and Y only, so it runs at an m where NumPy's temporaries would
    not fit (issue 15: numba at (2, 64, 5e7) in 1.4 GB); every registry entry names a model."""
    from fastnn.backends import MEMORY_MODELS, REGISTRY
    assert all(b.memory in MEMORY_MODELS for b in REGISTRY.values())
    monkeypatch.setattr(G, "memory_limit", lambda: 8 * 2**30)
    big = dict(op="cost_and_grads", m=50_000_000, n_h=64)
    assert G.skip_reason(G.Cell("numba", **big)) is None
    assert G.working_set_bytes(G.Cell("numba", **big)) == 8 * 50_000_000 * 3
    why = G.skip_reason(G.Cell("numpy", **big))
    assert why["model"] == "temporaries" and why["limit_bytes"] == 8 * 2**30
    assert "temporaries model" in reasons.words(why) and "8.0 GiB here" in reasons.words(why)
    # an op that returns its cache holds it, fused or not
    fwd = G.Cell("numba", "forward", 50_000_000, 64)
    assert G.working_set_bytes(fwd) > 8 * 50_000_000 * 128
    assert G.working_set_bytes(G.Cell("numpy-inplace", **big)) < G.working_set_bytes(
        G.Cell("numpy", **big))


@pytest.mark.parametrize("backend", ["numpy", "numpy-inplace"])
@pytest.mark.parametrize("hidden", list(ACTIVATIONS))
@pytest.mark.parametrize("op", OPS)
def test_numpys_working_set_models_are_its_measured_peaks(op, hidden, backend):
    """The temporaries and buffers models count what NumPy holds at its peak: tracemalloc's
    peak of a first call (numpy-inplace's buffers released before it) plus what was made before
    it (X, Y; backward's cache) is the model within 10 % (the temporaries model was twice the
    measured peak before, the buffers model left out backward's two work arrays)."""
    from fastnn.backends import get_backend
    from fastnn.bench import worker
    c = G.Cell(backend, op, 20_000, 32, hidden=hidden)
    k = 2 if hidden == "maxout" else 1
    P, X, Y = worker.make_data(c)
    be = get_backend(backend)
    be.release()
    fn = worker.step_fn(c, P, X, Y)  # backward: its cache made here, before the call
    be.release()  # numpy-inplace: the call allocates its work arrays anew
    before = 8 * c.m * (c.n_x + c.n_y)
    if op == "backward":
        before += 8 * c.m * ((k + 1) * c.n_h + 2 * c.n_y)
    tracemalloc.start()
    fn()
    measured = before + tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert measured == pytest.approx(G.working_set_bytes(c), rel=0.1)


def test_the_memory_limit_follows_the_machine():
    from fastnn.bench import grid
    assert 0 < grid.memory_limit() <= os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def test_a_cell_numpy_cannot_hold_is_checked_on_a_prefix(monkeypatch):
    from fastnn.bench import cell
    limit = lambda: 2**20  # noqa: E731 - 1 MiB: numba's X and Y fit, numpy's temporaries not
    monkeypatch.setattr(G, "memory_limit", limit)
    monkeypatch.setattr(cell, "memory_limit", limit)
    rec = cell.run_cell(G.Cell("numba", "cost_and_grads", 20_000, 3), 0.3, {}, QuietMachine())
    assert rec["status"] == "ok", rec["why"]
    assert rec["notes"] == [{"code": "prefix_check", "m_check": 1_000, "m": 20_000,
                             "reference": "numpy"}]
    assert "checked against numpy on the first 1,000 examples" in reasons.message(rec)
    assert G.skip_reason(G.Cell("numpy", "cost_and_grads", 20_000, 3))


def test_a_further_worker_that_fails_is_said_and_its_values_left_out():
    recs = [_worker_rec(0, 1.0), _worker_rec(1, 1.01),
            dict(status="failed", why=error(RuntimeError("exit code -9")), median_s=None)]
    out = run._merge(recs)
    assert out["status"] == "ok" and len(out["samples"]) == 6 and len(out["workers"]) == 2
    assert out["notes"] == [{"code": "further_worker", "status": "failed",
                             "why": {"code": "error", "error": "RuntimeError",
                                     "text": "exit code -9"}}]
    assert "a further worker: failed (RuntimeError: exit code -9)" in reasons.message(out)
