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
    # each side's round times and kernel seconds are kept, so a flag can say which side moved
    assert p["per_round"] == pytest.approx(
        [a / b for a, b in zip(p["rounds_baseline_s"], p["rounds_contender_s"])])
    assert len(p["system_baseline_s"]) == len(p["system_contender_s"]) == p["rounds"]
    assert len(p["others_baseline_s"]) == len(p["others_contender_s"]) == p["rounds"]
    assert min(p["others_baseline_s"] + p["others_contender_s"]) >= 0


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


def _flagged(per_round, base_s, sys_s):
    """A flagged headline pair whose baseline (numpy) took ``base_s`` per call each round, with
    ``sys_s`` of it in the kernel, against a steady contender."""
    n = len(per_round)
    return dict(op="cost_and_grads", n_x=2, n_h=64, m=10**6, baseline="numpy",
                contender="numba", threads=0, per_round=per_round, rounds_baseline_s=base_s,
                rounds_contender_s=[0.055] * n, system_baseline_s=sys_s,
                system_contender_s=[0.0] * n, ratio=float(np.median(per_round)),
                lo=min(per_round), hi=max(per_round), wide=True)


def test_a_flagged_pair_names_the_side_that_moved_and_the_kernels_part():
    from fastnn.bench.paired import side_spread
    from fastnn.report.text import paired_text
    # numpy's slow rounds are kernel time (fresh pages), numba steady
    p = _flagged([11, 25, 10.5, 26, 11, 25], [0.6, 1.4, 0.58, 1.45, 0.6, 1.4],
                 [0.1, 0.85, 0.1, 0.9, 0.1, 0.8])
    s = side_spread(p)
    assert s[0]["side"] == "numpy" and s[0]["spread"] == pytest.approx(1.45 / 0.58)
    assert s[0]["kernel_s"] == pytest.approx(0.8)
    text = paired_text([p], 2, 64, 10**6, "numpy", 0)
    assert "rounds disagree" in text and "numpy's time per call moved, 580 ms to 1.45 s" in text
    assert "of the 870 ms it grew by, 800 ms was its kernel time" in text
    # a spread outside the kernel is said to be so
    q = _flagged([9, 8, 7.2, 9.5, 8.8, 8.1], [0.6, 0.65, 0.7, 0.56, 0.6, 0.66], [0.01] * 6)
    assert "in no groups; numpy's time per call moved" in paired_text([q], 2, 64, 10**6, "numpy", 0)
    assert "not in the kernel" in paired_text([q], 2, 64, 10**6, "numpy", 0)
    # a pair written before round times were kept says only what its ratios show
    old = {k: v for k, v in p.items() if not k.startswith(("rounds_", "system_"))}
    assert side_spread(old) == [] and "moved" not in paired_text([old], 2, 64, 10**6, "numpy", 0)
    # counted, and nothing in the machine took the time: said so
    quiet = dict(q, others_baseline_s=[0.0] * 6, others_contender_s=[0.0] * 6)
    assert "from outside the machine" in paired_text([quiet], 2, 64, 10**6, "numpy", 0)
    # the contender slowed while other processes (or the kernel's threads) took CPU time
    r = dict(_flagged([10, 20, 10.5, 21, 10], [1.0] * 5, [0.0] * 5),
             rounds_contender_s=[0.1, 0.05, 0.095, 0.048, 0.1],
             others_baseline_s=[0.0] * 5, others_contender_s=[0.05, 0.0, 0.04, 0.0, 0.05])
    s = side_spread(r)
    assert s[0]["side"] == "numba" and s[0]["others_s"] == pytest.approx(0.05)
    assert ("other processes taking 50 ms more CPU per call in its slowest round"
            in paired_text([r], 2, 64, 10**6, "numpy", 0))


def test_an_apart_flag_says_which_sides_cell_differs_from_its_paired_rounds():
    import pandas as pd
    from fastnn.report.text import paired_text
    p = _flagged([18.0] * 5, [1.0] * 5, [0.8] * 5)
    p.update(ratio=18.0, lo=17.5, hi=18.5, wide=False, rounds_contender_s=[0.055] * 5)
    cells = pd.DataFrame(dict(backend=["numpy", "numba"], dtype=["float64"] * 2,
                              median_s=[0.5, 0.055],
                              modes=[[dict(value=0.5, system_s=0.1)], None]))
    text = paired_text([p], 2, 64, 10**6, "numpy", 0, apart=0.5 / 0.055, cells=cells)
    assert "apart 9.09× ⚠ (numpy's cell 500 ms per call, 100 ms of it in the kernel; in the " \
           "pair's rounds 1 s, 800 ms: measured at another moment)" in text

    # a training run's rounds time whole runs: compared per step, without the kernel's part
    fit = dict(p, op="fit", steps=100, rounds_baseline_s=[100.0] * 5,
               rounds_contender_s=[5.5] * 5)
    text = paired_text([fit], 2, 64, 10**6, "numpy", 0, apart=9.09, op="fit", cells=cells)
    assert "(numpy's cell 500 ms per step; in the pair's rounds 1 s: measured at another" in text


def test_one_rule_puts_a_sides_extra_time_down_to_its_counters():
    """The flags and the ladder's groups share :func:`paired.cause`: a counter explains the
    extra time when it grew by at least half of it; with both kept and neither grown the time
    was lost outside the machine."""
    from fastnn.bench.paired import cause
    assert cause(1.0, 0.6, 0.0) == "kernel"
    assert cause(1.0, 0.1, 0.5) == "others"
    assert cause(1.0, 0.4, 0.4) == "outside"
    assert cause(1.0, 0.4, None) == "not kernel"
    assert cause(1.0, None, 0.9) == "others"
    assert cause(1.0, None, None) is None


def test_a_pair_whose_side_is_mostly_kernel_time_says_so():
    """Two runs whose numpy rounds fell in different memory modes gave 7.66× and 33.5× at
    (2, 64, 1e6): the ratio names the side whose rounds were mostly the kernel's CPU time, in
    the table and in the first screen's result."""
    from fastnn.report.sections import result_numbers
    from fastnn.report.text import kernel_part, paired_text
    slow = _flagged([33, 34, 33.5, 34, 33], [5.2, 5.3, 5.21, 5.25, 5.2], [4.0, 4.1, 3.98, 4.0, 3.9])
    assert kernel_part(slow) == (" (numpy's rounds: 5.21 s per call, 4 s of it the operating "
                                 "system kernel's CPU time, fresh memory for its arrays)")
    # a peer's kernel time is stated, not read as fresh memory (its threads may be waiting)
    peer = dict(slow, baseline="torch")
    assert "kernel's CPU time)" in kernel_part(peer) and "fresh" not in kernel_part(peer)
    assert kernel_part(slow) in paired_text([slow], 2, 64, 10**6, "numpy", 0)
    assert result_numbers([slow], [])[0]["kernel"] == kernel_part(slow)
    fast = _flagged([7.6, 7.7, 7.66, 7.5, 7.7], [1.37] * 5, [0.26] * 5)
    assert kernel_part(fast) == (" (numpy's rounds: 1.37 s per call, 260 ms of it the operating "
                                 "system kernel's CPU time)")
    assert kernel_part(_flagged([7.6] * 5, [1.37] * 5, [0.1] * 5)) == ""
    # a pair that kept no kernel times says nothing of them
    assert kernel_part({k: v for k, v in slow.items() if not k.startswith("system_")}) == ""
