"""The op ``fit``: a whole training run in the harness, timed per step, checked against numpy's
run first; its grids, records, paired headline ratios and CLI (the report: test_fit_report)."""

import importlib.util
import json
import statistics
import time

import numpy as np
import pandas as pd
import pytest
from conftest import QuietMachine

import fastnn
from fastnn.backends import HEADLINE, OPS, REFERENCE, REGISTRY, names
from fastnn.bench import grid as G
from fastnn.bench import cell, checks, run, worker
from fastnn.bench.store import COLUMNS, Store, check_record, load
from fastnn.report import reasons

FIT = G.FIT_OP
STEPS = 20


@pytest.fixture
def short_runs(monkeypatch):
    """Every fit cell runs STEPS steps (the targets' own step counts stay declared)."""
    monkeypatch.setattr(G, "FIT_MAX_STEPS", STEPS)
    monkeypatch.setattr(G, "FIT_MIN_STEPS", STEPS)


def _installed(name):
    return all(importlib.util.find_spec(p) for p in REGISTRY[name].requires)


TIMED = [REFERENCE, HEADLINE] + [p for p in names(peers=True) if FIT in REGISTRY[p].ops]


# --- the registry: one path per backend --------------------------------------------------------

def test_fit_is_an_op_every_backend_and_every_peer_declares():
    assert all(FIT in REGISTRY[b].ops for b in fastnn.BACKENDS)
    assert all(FIT in REGISTRY[p].ops for p in names(peers=True))


@pytest.mark.parametrize("name", fastnn.BACKENDS)
def test_an_own_backends_timed_run_is_what_fastnn_fit_runs(name):
    c = G.Cell(name, FIT, 30, 3)
    P, X, Y = worker.make_data(c)
    params, costs = worker.step_fn(c, P, X, Y, steps=25)()
    r = fastnn.fit(X, Y, params=P, backend=name, lr=1.2, iterations=25)
    np.testing.assert_array_equal(costs, r.costs)
    for k in params:
        np.testing.assert_array_equal(params[k], r.params[k])


# --- steps and grids ---------------------------------------------------------------------------

def test_fit_steps_declared_at_the_targets_and_by_work_elsewhere():
    for nx, nh, m, steps in G.FIT_TARGETS:
        assert G.fit_steps(G.Cell("numpy", FIT, m, nh, nx)) == steps
    assert G.fit_steps(G.Cell("numpy", "cost_and_grads", 400, 4)) == 1
    small = G.fit_steps(G.Cell("numpy", FIT, 1, 4))
    big = G.fit_steps(G.Cell("numpy", FIT, 10**7, 1024))
    assert small == G.FIT_MAX_STEPS and big == G.FIT_MIN_STEPS
    mid = G.fit_steps(G.Cell("numpy", FIT, 10_000, 64))
    assert G.FIT_MIN_STEPS <= mid <= G.FIT_MAX_STEPS
    assert int(str(mid)[0]) in (1, 2, 5) and set(str(mid)[1:]) <= {"0"}
    assert mid * 10_000 * 64 <= G.FIT_WORK


def test_quick_and_full_grids_time_fit_on_every_backend_and_fit_peer(monkeypatch):
    monkeypatch.setattr(type(REGISTRY["jax"]), "missing", lambda self: None)
    for grid in ("quick", "full"):
        cells, _ = G.cells(grid, m=[100], n_h=[4], dtype=["float64"], threads=[0])
        fit = {c.backend for c in cells if c.op == FIT}
        assert fit == set(fastnn.BACKENDS) | {p for p in names(peers=True)
                                              if FIT in REGISTRY[p].ops}


def test_targets_grid_has_the_fit_targets_and_the_step_targets(monkeypatch):
    monkeypatch.setattr(type(REGISTRY["jax"]), "missing", lambda self: None)
    cells, _ = G.cells("targets")
    fit = {(c.n_x, c.n_h, c.m) for c in cells if c.op == FIT and not c.data}
    assert {c.data for c in cells if c.op == FIT} == {"", *G.DATA}  # and the real data sets
    step = {(c.n_x, c.n_h, c.m) for c in cells if c.op == G.HEADLINE_OP}
    assert fit == {t[:3] for t in G.FIT_TARGETS} and step == set(G.TARGETS) | set(G.LARGE_M)
    large = {c.backend for c in cells if (c.n_x, c.n_h, c.m) in G.LARGE_M}
    assert large == set(G.large_m_backends()) and "python" not in large and "numba" in large
    assert {c.backend for c in cells if c.op == FIT} >= {HEADLINE, REFERENCE, "sklearn"}
    assert "sklearn" not in {c.backend for c in cells if c.op == G.HEADLINE_OP}
    only, _ = G.cells("targets", ops=[FIT], backends=[HEADLINE])
    only = [c for c in only if not c.data]
    assert [(c.n_x, c.n_h, c.m) for c in only] == [t[:3] for t in G.FIT_TARGETS]
    for c in only:
        assert G.is_headline(c) and G.budget_for(c, 10.0) == G.HEADLINE_BUDGET_S
    assert not G.is_headline(G.Cell(HEADLINE, FIT, 1000, 4))


def test_a_classifier_that_needs_both_classes_is_skipped_at_m_1():
    why = G.skip_reason(G.Cell("sklearn", FIT, 1, 4))
    assert why == {"code": "few_examples", "min_m": 2, "m": 1}
    assert "at least 2 examples" in reasons.words(why, {"backend": "sklearn"})
    assert G.skip_reason(G.Cell("sklearn", FIT, 2, 4)) is None


def test_training_data_is_the_flower_with_both_classes():
    for m, n_x in ((1, 2), (2, 2), (7, 3)):
        P, X, Y = worker.make_data(G.Cell("numpy", FIT, m, 4, n_x))
        assert X.shape == (n_x, m) and Y.shape == (1, m)
        assert set(np.unique(Y)) == ({1.0} if m == 1 else {0.0, 1.0})


# --- measured through the harness --------------------------------------------------------------

@pytest.mark.parametrize("name", TIMED)
def test_fit_cells_are_checked_then_timed_per_step(name, short_runs):
    if not _installed(name):
        pytest.skip(f"{name} is not installed")
    c = G.Cell(name, FIT, 40, 3)
    rec = cell.run_cell(c, 3.0, {}, QuietMachine())  # a roomy budget: a busy machine is slow
    assert rec["status"] == "ok", rec["why"]
    assert rec["steps"] == STEPS and check_record(rec) is None
    assert len(rec["samples"]) == rec["rounds"] and rec["median_s"] > 0
    step_flops = worker.work(G.Cell(name, "cost_and_grads", 40, 3))[0]
    assert step_flops < rec["flops"] < 2 * step_flops  # one step and its update, not STEPS
    if name == REFERENCE:  # the time is per step: STEPS of it make one whole run, timed here
        run_fn = worker.step_fn(c, *worker.make_data(c))
        whole = []
        for _ in range(7):
            t0 = time.perf_counter()
            run_fn()
            whole.append(time.perf_counter() - t0)
        ratio = rec["median_s"] * STEPS / statistics.median(whole)
        assert 0.3 < ratio < 3, f"median_s × steps ÷ one run = {ratio:.2f} (a busy machine?)"


def test_a_wrong_training_run_is_marked_and_not_timed(short_runs, monkeypatch):
    real = worker.step_fn

    def broken(c, *a, backend=None, steps=None):
        fn = real(c, *a, backend=backend, steps=steps)
        if (backend or c.backend) != HEADLINE:
            return fn

        def wrong():
            params, costs = fn()
            return dict(params, W2=params["W2"] * (1 + 1e-6)), costs
        return wrong

    monkeypatch.setattr(worker, "step_fn", broken)
    rec = cell.run_cell(G.Cell(HEADLINE, FIT, 40, 3), 3.0, {}, QuietMachine())
    assert rec["status"] == "wrong" and rec["why"]["code"] == "disagrees"
    assert "disagrees with numpy" in reasons.message(rec)
    assert rec["median_s"] is None and rec["steps"] == STEPS


def test_a_chaotic_run_is_checked_up_to_where_numpy_itself_is_chaotic():
    """At lr 1.2 on ten examples (n_h = 16, 1000 steps) numpy's own run moves by more than the
    tolerance when its initial parameters change at rounding level."""
    c = G.Cell(HEADLINE, FIT, 10, 16)
    P, X, Y = worker.make_data(c)
    ref = checks.reference(c, P, X, Y)
    onset = checks.chaos_onset(c, P, X, Y, ref)
    assert onset is not None and 10 < onset < G.fit_steps(c)
    out = worker.step_fn(c, P, X, Y)()
    bad, note = checks.check_fit(c, out, ref, P, X, Y)
    assert bad is None and note == {"code": "partial_fit_check", "onset": onset,
                                    "steps": G.fit_steps(c), "reference": "numpy"}
    assert f"checked on the first {onset:,} of" in reasons.words(note)
    assert reasons.partial_check({"notes": [note]})
    wrong = (out[0], out[1] * (1 + 1e-6))
    bad, note = checks.check_fit(c, wrong, ref, P, X, Y)
    assert bad["code"] == "disagrees" and bad["onset"] and note is None
    assert "already in the first" in reasons.words(bad)


def test_a_slow_training_run_is_extrapolated_per_step_and_says_so():
    c = G.Cell("python", FIT, 2000, 8)
    rec = cell.run_cell(c, 0.2, {}, QuietMachine())
    assert rec["status"] == "over_budget" and rec["extrapolated"] is True
    steps = G.fit_steps(c)
    assert rec["steps"] == steps and rec["predicted_s"] > 0 and check_record(rec) is None
    w = rec["why"]
    assert (w["code"], w["steps"], w["calls"], w["source"]) == ("over_budget", steps, 3, "probe")
    words = reasons.message(rec)
    assert f" per step × {steps:,} steps per run" in words
    assert "probe runs of 1 and" in words and "3 runs exceed" in words


@pytest.mark.slow
def test_a_sweep_pairs_the_fit_targets(tmp_path, monkeypatch):
    from fastnn.bench import store
    monkeypatch.setattr(G, "FIT_TARGETS", ((2, 3, 300, 30),))
    monkeypatch.setattr(G, "HEADLINE_BUDGET_S", 2.0)
    cells, _ = G.cells("quick", backends=[REFERENCE, HEADLINE], ops=[FIT], m=[300], n_h=[3])
    run.sweep(cells, 2.0, str(tmp_path), progress=False, fast_header=True,
              detector=QuietMachine(), isolate=False,  # the patched targets apply here only
              settings=dict(rounds=dict(rounds=4, min_rounds=2, passes=2, budget_s=2.0)))
    doc = store.load_paired(str(tmp_path))
    (p,) = [c for c in doc.pairs if not c.case]
    assert (p.op, p.steps, p.baseline, p.contender) == (FIT, 30, REFERENCE, HEADLINE)
    assert p.lo <= p.ratio <= p.hi and len(p.per_round) == p.rounds
    recs = load(tmp_path / "results.jsonl")[1]
    assert all(r["steps"] == 30 and r["headline"] for r in recs)
    df = pd.read_csv(tmp_path / "results.csv")
    assert list(df.columns) == COLUMNS and set(df.steps) == {30}
    bench = json.loads((tmp_path / "results-benchmark.json").read_text())["benchmarks"]
    assert all(b["name"].endswith("-s30]") and b["params"]["steps"] == 30 for b in bench)


# --- records -----------------------------------------------------------------------------------

def _fit_record(**kw):
    rec = dict(G.Cell(HEADLINE, FIT, 400, 4).params(), status="ok", steps=100, median_s=1e-6,
               min_s=1e-6, q1_s=1e-6, q3_s=1e-6, samples=[1e-6] * 3)
    rec.update(kw)
    return rec


@pytest.mark.parametrize("change, msg", [
    (dict(steps=None), "without steps"),
    (dict(steps=0), "steps = 0, expected >= 1"),
    (dict(steps="100"), "expected an integer"),
    (dict(steps=2.5), "expected an integer"),
])
def test_store_accepts_fit_records_and_rejects_malformed_ones(tmp_path, change, msg):
    assert check_record(_fit_record()) is None
    bad = _fit_record(**change)
    if change.get("steps", 1) is None:
        del bad["steps"]
    assert msg in check_record(bad)
    with Store(tmp_path / "r.jsonl", {}, resume=False) as s:
        s.append(_fit_record(key="a"))
    (back,) = load(tmp_path / "r.jsonl")[1]
    assert back["steps"] == 100


# --- CLI ---------------------------------------------------------------------------------------

def test_cli_bench_ops_fit(tmp_path, capsys, monkeypatch, short_runs):
    from fastnn.cli import main
    real = run.header
    monkeypatch.setattr(run, "header", lambda grid, budget, peers, fast=False, prog=None,
                        detector=None, **kw: real(grid, budget, peers, True, prog, detector))
    real_sweep = run.sweep  # in this process, where short_runs' shorter runs apply
    monkeypatch.setattr(run, "sweep", lambda *a, **kw: real_sweep(
        *a, **kw, isolate=False, detector=QuietMachine()))
    out = tmp_path / "o"
    code = main(["bench", "--ops", FIT, "--backends", f"{REFERENCE},{HEADLINE}", "--m", "30",
                 "--n-h", "2", "--budget", "2", "--out", str(out), "--no-progress",
                 "--no-report"])
    assert code == 0, capsys.readouterr().err
    recs = load(out / "results.jsonl")[1]
    assert {(r["backend"], r["op"], r["status"], r["steps"]) for r in recs} == {
        (REFERENCE, FIT, "ok", STEPS), (HEADLINE, FIT, "ok", STEPS)}
    assert main(["bench", "--ops", f"{FIT},train", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [f"fastnn bench: error: unknown op 'train'; valid: "
                                f"{', '.join(OPS)}"]
    assert not (tmp_path / "x").exists()


# --- bad input and diverging runs ----------------------------------------------------------------

@pytest.mark.parametrize("op, kw, exc, match", [
    ("fitt", {}, ValueError, "unknown op 'fitt'"),
    (FIT, {"steps": 0}, ValueError, "steps >= 1"),
    (FIT, {"steps": -1}, ValueError, "iterations must be >= 0"),
    (FIT, {"steps": 2.5}, TypeError, "non-negative integer"),
    (FIT, {"steps": "3"}, TypeError, "non-negative integer"),
    (FIT, {"lr": float("nan")}, ValueError, "lr must be positive and finite"),
    (FIT, {"lr": -1.0}, ValueError, "lr must be positive and finite"),
])
@pytest.mark.parametrize("backend", [REFERENCE, HEADLINE])
def test_make_call_refuses_bad_ops_and_runs_with_a_clear_error(backend, op, kw, exc, match):
    c = G.Cell(backend, FIT, 20, 3)
    P, X, Y = worker.make_data(c)
    with pytest.raises(exc, match=match):
        REGISTRY[backend].make_call(op, P, X, Y, "tanh", "sigmoid", **kw)


def test_a_peer_refuses_an_op_it_does_not_implement():
    peer = next((p for p in names(peers=True) if set(OPS) - set(REGISTRY[p].ops)), None)
    if peer is None:
        pytest.skip("every peer implements every op")
    op = sorted(set(OPS) - set(REGISTRY[peer].ops))[0]
    c = G.Cell(REFERENCE, op, 20, 3)
    with pytest.raises(ValueError, match=f"does not implement op {op!r}"):
        REGISTRY[peer].make_call(op, *worker.make_data(c), "tanh", "sigmoid")


def test_a_diverging_training_run_is_a_failed_cell_not_a_time(monkeypatch, short_runs):
    monkeypatch.setattr(worker, "step_fn", lambda c, P, X, Y, backend=None, steps=None: (
        lambda: REGISTRY[backend or c.backend].make_call(
            c.op, P, X, Y, c.hidden, c.output, lr=1e307, steps=G.fit_steps(c))()))
    c = G.Cell(REFERENCE, FIT, 50, 4)
    rec = cell.run_cell(c, 30.0, {})
    assert rec["status"] == "failed" and rec["why"]["code"] == "diverged"
    assert 1 <= rec["why"]["step"] <= rec["why"]["steps"] == G.fit_steps(c)
    assert "diverged at step" in reasons.message(rec)
    assert rec["median_s"] is None


def test_a_selection_with_nothing_to_run_is_refused():
    fit_only = [p for p in names(peers=True)
                if REGISTRY[p].ops == (FIT,) and REGISTRY[p].missing() is None]
    if not fit_only:
        pytest.skip("no installed peer implements only fit")
    with pytest.raises(ValueError, match="nothing to run"):
        G.cells("quick", backends=fit_only[:1], ops=["cost_and_grads"])
