"""Paired, interleaved ratios and their bootstrap intervals."""

import time

import numpy as np
import pytest

from fastnn.bench.paired import bootstrap_median, paired_ratio


def _sleeper(s):
    def f():
        t = time.perf_counter() + s
        while time.perf_counter() < t:
            pass
    return f


def test_bootstrap_interval_contains_the_median_and_narrows_with_agreement():
    rng = np.random.default_rng(1)
    tight = 3.0 + 0.01 * rng.standard_normal(30)
    loose = 3.0 + 0.5 * rng.standard_normal(30)
    m1, lo1, hi1 = bootstrap_median(tight)
    m2, lo2, hi2 = bootstrap_median(loose)
    assert lo1 <= m1 <= hi1 and lo2 <= m2 <= hi2
    assert hi1 - lo1 < (hi2 - lo2) / 10


@pytest.mark.parametrize("bad", [[1.0], [1.0, np.nan], [[1.0, 2.0]]])
def test_bootstrap_refuses_too_few_or_non_finite_values(bad):
    with pytest.raises(ValueError, match="per-round"):
        bootstrap_median(bad)


@pytest.mark.slow
def test_paired_ratio_recovers_a_known_speed_up():
    # busy-wait callables: 2 ms vs 0.5 ms -> a 4x speed-up, whatever else the machine does
    # (contention slows both halves of a round alike; the interval says how well)
    out = paired_ratio(_sleeper(2e-3), _sleeper(5e-4), rounds=6)
    assert out["rounds"] == 6 and out["lo"] <= out["ratio"] <= out["hi"]
    assert 3.0 < out["ratio"] < 5.0
    assert len(out["t_a"]) == len(out["t_b"]) == 6


def test_paired_ratio_needs_two_rounds():
    with pytest.raises(ValueError, match="rounds"):
        paired_ratio(lambda: None, lambda: None, rounds=1)


@pytest.mark.slow
def test_a_sweep_measures_the_headline_speed_ups_by_paired_rounds(tmp_path, monkeypatch):
    import json

    from fastnn.bench import grid, paired, run
    monkeypatch.setattr(grid, "TARGETS", ((2, 4, 5000),))
    monkeypatch.setattr(grid, "HEADLINE_BUDGET_S", 0.3)
    cells, _ = grid.cells("quick", backends=["numpy", "numba"], ops=["cost_and_grads"],
                          m=[5000], n_h=[4])
    run.sweep(cells, 0.3, str(tmp_path), progress=False, fast_header=True)
    doc = json.loads((tmp_path / paired.PAIRED).read_text())
    (p,) = doc["pairs"]
    assert (p["baseline"], p["contender"], p["n_h"], p["m"]) == ("numpy", "numba", 4, 5000)
    assert p["lo"] <= p["ratio"] <= p["hi"] and p["rounds"] >= 5
    assert len(p["per_round"]) == p["rounds"] and isinstance(p["wide"], bool)


@pytest.mark.slow
def test_a_float32_headline_shape_is_paired_with_the_reference_and_its_own_float64(
        tmp_path, monkeypatch):
    import json

    from fastnn.bench import grid, paired, run
    monkeypatch.setattr(grid, "TARGETS", ((2, 4, 5000),))
    monkeypatch.setattr(grid, "FLOAT32_TARGETS", ((2, 4, 5000),))
    monkeypatch.setattr(grid, "HEADLINE_BUDGET_S", 0.3)
    cells, _ = grid.cells("quick", backends=["numpy", "numba"], ops=["cost_and_grads"],
                          m=[5000], n_h=[4], dtype=["float64", "float32"])
    run.sweep(cells, 0.3, str(tmp_path), progress=False, fast_header=True)
    pairs = json.loads((tmp_path / paired.PAIRED).read_text())["pairs"]
    got = {(p["baseline"], p["baseline_dtype"], p["contender"], p["dtype"]) for p in pairs}
    assert got == {("numpy", "float64", "numba", "float64"),
                   ("numpy", "float32", "numba", "float32"),
                   ("numba", "float64", "numba", "float32")}
    assert all(p["lo"] <= p["ratio"] <= p["hi"] for p in pairs)


def test_paired_ratio_stops_at_min_rounds_once_over_budget(monkeypatch):
    # a budget already spent: the rounds stop at min_rounds, not at the default 5
    from fastnn.bench import paired
    monkeypatch.setattr(paired, "SETTLE_S", 0.0)
    out = paired_ratio(lambda: None, lambda: None, rounds=9, budget_s=0.0, min_rounds=3)
    assert out["rounds"] == 3
    with pytest.raises(ValueError, match="min_rounds"):
        paired_ratio(lambda: None, lambda: None, rounds=4, min_rounds=1)


def test_paired_ratio_skips_the_untimed_call_of_a_slow_side(monkeypatch):
    from fastnn.bench import paired
    monkeypatch.setattr(paired, "SETTLE_S", 0.0)
    calls = {"a": 0, "b": 0}

    def side(k, s):
        def f():
            calls[k] += 1
            _sleeper(s)()
        return f
    out = paired_ratio(side("a", 0.02), side("b", 1e-4), rounds=2, untimed_below_s=0.01)
    assert calls["a"] == 1 + 2 * out["calls_a"]  # calibration, then no untimed call
    assert calls["b"] == 1 + 2 * (1 + out["calls_b"])  # the fast side keeps its untimed call
