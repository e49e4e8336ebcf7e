"""The real data sets in the harness (issue 27): cells that train on a data set, their records,
their pairing and the report's real-data section."""

import numpy as np
import pandas as pd
import pytest

from fastnn.bench import grid as G
from fastnn.bench import store, worker
from fastnn.bench.records import Comparison
from fastnn.datasets import DATASETS
from fastnn.report import real as RD
from fastnn.report.notes import Notes


def test_a_synthetic_cells_key_is_unchanged_and_a_data_cell_names_its_set():
    """Files written before data sets resume: a synthetic cell's key has no data field; a
    record without ``data`` reads back as synthetic, one with it as that set."""
    c = G.Cell("numba", "fit", 400, 4)
    assert c.key == "numba|fit|400|4|2|1|float64|0|tanh|sigmoid"
    d = G.Cell("numba", "fit", 569, 16, 30, data="breast_cancer")
    assert d.key.endswith("|breast_cancer") and d.key != c.key
    assert G.Cell.of({k: v for k, v in c.params().items() if k != "data"}) == c
    assert G.Cell.of(d.params()) == d
    assert G.Cell.of(dict(c.params(), data=float("nan"))) == c  # a frame's missing value


def test_the_real_grid_trains_each_set_at_its_own_shape_steps_and_lr():
    cells, _ = G.cells("real", backends=["numpy", "numba"])
    assert {(c.backend, c.data) for c in cells} == {
        (b, n) for b in ("numpy", "numba") for n in DATASETS}
    for c in cells:
        d = DATASETS[c.data]
        assert (c.op, c.n_x, c.n_h, c.m, c.dtype) == ("fit", d.n_x, d.n_h, d.m, "float64")
        assert G.fit_steps(c) == d.steps and G.fit_lr(c) == d.lr
        assert G.is_headline(c)
    targets, _ = G.cells("targets", backends=["numpy", "numba"])
    assert {c.data for c in targets} == {"", *DATASETS}
    overridden, _ = G.cells("targets", backends=["numba"], m=[100])
    assert not any(c.data for c in overridden)  # an axis given: that axis, no data sets


def test_a_data_cells_data_is_its_data_set():
    c = G.Cell("numpy", "fit", 569, 16, 30, data="breast_cancer")
    P, X, Y = worker.make_data(c)
    X0, Y0 = DATASETS["breast_cancer"].load()
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(Y, Y0)
    params, costs = worker.step_fn(c, P, X, Y, steps=3)()
    assert costs.shape == (3,) and np.all(np.isfinite(costs))


def test_the_store_refuses_an_unknown_data_set():
    rec = dict(G.Cell("numpy", "fit", 569, 16, 30).params(), status="skipped", steps=1,
               data="mnist")
    assert "data = 'mnist'" in store.check_record(rec)
    assert store.check_record(dict(rec, data="digits")) is None
    assert store.check_record(dict(rec, data="")) is None


def _frame():
    d = DATASETS["digits"]
    rows = [dict(backend=b, op="fit", data="digits", n_x=d.n_x, n_h=d.n_h, m=d.m,
                 dtype="float64", threads=0, status=st, min_s=t, final_cost=cost,
                 flops=1e7)
            for b, st, t, cost in [("numba", "ok", 2e-4, 0.002), ("numpy", "ok", 6e-4, 0.002),
                                   ("python", "over_budget", np.nan, np.nan)]]
    return pd.DataFrame(rows)


def test_the_real_data_section_quotes_the_paired_comparison_and_the_ceiling():
    d = DATASETS["digits"]
    pair = Comparison("fit", d.n_x, d.n_h, d.m, "numpy", "numba", 2.9, 2.8, 3.0,
                      kind="pair", data="digits", steps=100, t_baseline_s=0.058,
                      t_contender_s=0.02)
    header = {"peaks": {"fma_gflops": 200.0, "gemm_gflops": 150.0},
              "ceiling": {"float64": {"tanh_s": 1e-10, "fma_s": 1e-11}}}
    sec = RD.numbers(_frame(), [pair], header)
    (p,) = sec.data
    assert {s.backend: s.pair for s in p.sides}["numpy"] is pair
    assert p.ceiling_s == pytest.approx(
        d.m * d.n_h * (1e-10 + 4 * 2e-9 / 200.0 + 2 * d.n_x * 2e-9 / 150.0))
    text = RD.render(sec, [pair], Notes("n"))
    # the paired sides' times are the comparison's (per step), not their cells'
    assert "| numpy | 580 µs | 0.002 | 2.9× [2.8–3] |" in text
    assert "| numba | 200 µs | 0.002 | – |" in text
    assert "| python | over budget | – | not paired |" in text
    assert "of its ceiling" in text


def test_a_run_without_data_sets_has_no_real_data_section():
    sec = RD.numbers(_frame().assign(data=""), [], {})
    assert sec.data == [] and RD.render(sec, [], Notes("n")) == ""


def test_a_step_faster_than_its_ceiling_is_said_to_under_measure_it():
    """A ceiling is a bound: a step measured below it says the ceiling was under-measured,
    with the step's share of the ceiling's time (below 100 %), not a share above 100 %."""
    d = DATASETS["digits"]
    pair = Comparison("fit", d.n_x, d.n_h, d.m, "numpy", "numba", 2.9, 2.8, 3.0,
                      kind="pair", data="digits", steps=100, t_baseline_s=0.058,
                      t_contender_s=0.02)
    header = {"peaks": {"fma_gflops": 200.0, "gemm_gflops": 150.0},
              "ceiling": {"float64": {"tanh_s": 1e-7, "fma_s": 1e-11}}}  # a slow tanh
    sec = RD.numbers(_frame(), [pair], header)
    (p,) = sec.data
    text = RD.render(sec, [pair], Notes("n"))
    share = f"{100 * 2e-4 / p.ceiling_s:.0f} %"
    assert p.ceiling_s > 2e-4 and f"takes {share} of its ceiling's time" in text
    assert "under-measured" in text
