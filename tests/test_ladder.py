"""The ladder of the step's speed-up (fastnn.bench.ladder, fastnn.report.ladder) and the modes'
counters (fastnn.bench.worker.modes, fastnn.report.modes)."""
import math

import pytest

from fastnn.backends import HEADLINE, REGISTRY, names
from fastnn.bench import ladder as L
from fastnn.bench import worker
from fastnn.bench.grid import Cell
from fastnn.report import ladder as RL
from fastnn.report import modes as RM
from conftest import QuietMachine


def test_rungs_follow_the_registry_then_threads():
    r = L.rungs()
    assert [b for b, _ in r[:-1]] == [n for n in names(peers=False) if REGISTRY[n].ladder]
    assert all(t == 1 for _, t in r[:-1]) and r[-1] == (HEADLINE, 0)
    assert L.adds(HEADLINE, 0) == L.THREADS and L.adds("numpy", 1) == REGISTRY["numpy"].ladder
    assert not any(REGISTRY[p].ladder for p in names(peers=True))


def _entry(a, b, ratio, ta=1, tb=1, m=1000, direct=False, t_a=1.0, am=None):
    return dict(op="cost_and_grads", n_x=2, n_h=4, m=m, dtype="float64", baseline=a,
                baseline_threads=ta, baseline_m=am or m, contender=b, contender_threads=tb,
                contender_m=m, direct=direct, adds="" if direct else L.adds(b, tb),
                per_round=[ratio] * 3, t_baseline_s=t_a, t_contender_s=t_a / ratio,
                ratio=ratio, lo=ratio * 0.9, hi=ratio * 1.1, wide=False, rounds=3,
                disturbed=False, reason="")


def _ladder(factors=(0.5, 300.0, 2.0, 8.0, 1.8)):
    rungs = L.rungs()
    out, t = [], 10.0
    for (a, ta), (b, tb), f in zip(rungs, rungs[1:], factors):
        out.append(_entry(a, b, f, ta, tb, t_a=t, am=100 if REGISTRY[a].per_example else None))
        t /= f
    out.append(_entry(rungs[0][0], rungs[-1][0], 4000.0, 1, 0, direct=True))
    return out


def test_summary_chains_the_rungs_and_multiplies_the_factors():
    s = L.summary(_ladder(), (2, 4, 1000))
    assert [r["backend"] for r in s["rungs"]] == [b for b, _ in L.rungs()]
    assert s["product"] == pytest.approx(0.5 * 300 * 2 * 8 * 1.8)
    assert s["biggest"]["contender"] == "numpy" and s["direct"]["ratio"] == 4000.0
    # each rung's time is the one measured for it; the last the contender's of the last pair
    assert s["rungs"][0]["t_s"] == 10.0
    assert s["rungs"][-1]["t_s"] == pytest.approx(10.0 / s["product"])
    assert L.summary(_ladder(), (2, 64, 1000)) is None


def test_report_section_states_every_factor_and_the_extrapolation(tmp_path):
    from fastnn.plotting import colours
    figures = []
    text = RL.section(_ladder(), str(tmp_path), colours(), figures)
    assert figures == [RL.FIGURE] and (tmp_path / RL.FIGURE).exists()
    assert "2× slower" in text  # numpy-loop over python at 0.5
    assert "300× faster [270–330]" in text and "8× faster" in text
    assert "extrapolated from m = 100" in text
    assert "The product of the factors is 4,320×" in text and "4,000× [3,600–4,400]" in text
    assert "biggest factor is vectorisation (300×)" in text
    assert "no ladder" in RL.section([], str(tmp_path), colours(), [])


def test_short_m_makes_a_per_example_call_last_long_enough():
    c = Cell("python", "cost_and_grads", 1_000_000, 4, 2)
    m = L._short_m(c)
    assert 10 <= m < c.m and str(m)[0] in "125" and set(str(m)[1:]) <= {"0"}
    from fastnn.bench.worker import make_data, step_fn
    import time
    run = Cell("python", "cost_and_grads", m, 4, 2)
    fn = step_fn(run, *make_data(run))
    fn()
    t0 = time.perf_counter()
    fn()
    assert time.perf_counter() - t0 > L.SHORT_S / 4  # the estimate is near, on a busy machine too
    assert L._short_m(Cell("python", "cost_and_grads", 30, 4, 2)) <= 30  # never above m


@pytest.mark.slow
def test_a_small_ladder_measures_every_factor_in_workers():
    out = L.measure([(2, 4, 20_000)], None, rounds=2, min_rounds=2, budget_s=0.1)
    assert len(out) == len(L.rungs())  # the factors and the direct ratio
    s = L.summary(out, (2, 4, 20_000))
    assert len(s["factors"]) == len(L.rungs()) - 1
    assert all(math.isfinite(f["ratio"]) and f["lo"] <= f["ratio"] <= f["hi"]
               for f in s["factors"])
    py = s["rungs"][0]
    assert py["m_run"] <= 20_000 and py["t_s"] > s["rungs"][2]["t_s"]  # python slower than numpy
    # each round's counters per side: the kernel's time and other processes' CPU time per call
    for e in out:
        for side in ("baseline", "contender"):
            assert len(e[f"system_{side}_s"]) == len(e[f"others_{side}_s"]) == e["rounds"]
            assert min(e[f"others_{side}_s"]) >= 0


def test_modes_carry_the_counters_of_their_values():
    values = [1.0, 1.02, 0.98, 3.0, 3.1]
    faults = [100, 100, 100, 100, 100]
    system = [0.1, 0.1, 0.1, 2.0, 2.2]
    ms = worker.modes(values, faults, system)
    assert [m["n"] for m in ms] == [3, 2]
    assert ms[1]["system_s"] == pytest.approx(2.1) and ms[0]["faults"] == 100
    assert "kernel" in RM.cause(ms, 2 * 2**30) and "2.0 GiB" in RM.cause(ms, 2 * 2**30)
    # faults, not kernel time
    ms = worker.modes(values, [10, 10, 10, 5000, 5000], [0.1] * 5)
    assert "page faults" in RM.cause(ms)
    assert RM.cause(worker.modes(values, [10] * 5, [0.1] * 5)) == ""
    assert RM.cause(worker.modes(values)) is None  # no counters recorded


def test_time_it_counts_faults_and_kernel_time_per_value():
    import numpy as np
    counters, kept = {}, []
    values, _ = worker.time_it(lambda: kept.append(np.ones(1_000_000)), 0.5, samples=4,
                               min_values=3, settle=False, counters=counters)
    assert len(counters["value_faults"]) == len(values) == len(counters["value_system_s"])
    assert min(counters["value_faults"]) > 0  # 8 MB kept per call: fresh pages every time


def test_the_first_screen_quotes_the_headline_pair_and_the_ladder():
    from fastnn.bench.grid import TARGETS
    from fastnn.report import sections
    nx, nh, m = TARGETS[1]
    pair = dict(op="cost_and_grads", n_x=nx, n_h=nh, m=m, dtype="float64", threads=0,
                baseline="numpy", baseline_dtype="float64", contender=HEADLINE, ratio=12.5,
                lo=12.0, hi=13.0, wide=False, rounds=7, per_round=[12.5] * 7, disturbed=False)
    steps = [dict(e, n_x=nx, n_h=nh, m=m) for e in _ladder()]
    lines = sections.result([pair], steps)
    row = [ln for ln in lines if ln.startswith("- ")]
    assert len(row) == 1 and "12.5× [12–13] faster than numpy's" in row[0]
    assert "biggest factor there is vectorisation (`numpy-loop (1 thread)` → `numpy (1 thread)`, " \
           "300× [270–330])" in row[0]
    assert sections.result([], steps) == []
    wide = dict(pair, lo=10.0, hi=14.0, wide=True)
    assert "(⚠ wide (rounds from" in sections.result([dict(wide, per_round=[10.0, 12.5, 14.0])], [])[1]


def _numba_threads():
    import numba
    return numba.get_num_threads()


def test_a_rung_keeps_its_thread_count_in_its_worker():
    """rung_setup's thread setting lasts for the worker's life (it once was undone at once, when
    the discarded context was collected, and the "1 thread" rung ran on all cores)."""
    from fastnn.bench.spawn import Worker
    with Worker(("numba",)) as w:
        w.call(L.rung_setup, Cell("numba", "cost_and_grads", 1000, 4, 2, threads=1))
        assert w.call(_numba_threads) == 1


def test_a_factor_whose_rounds_fall_into_groups_says_which_side_and_why():
    e = _entry("numpy-loop", "numpy", 7.0, t_a=26.0)
    e["per_round"] = [6.4, 27.2, 6.5, 27.0, 6.3]
    e["rounds_baseline_s"] = [26.0] * 5
    e["rounds_contender_s"] = [26.0 / r for r in e["per_round"]]
    e["system_baseline_s"] = [0.01] * 5
    e["system_contender_s"] = [2.7 if r < 10 else 0.25 for r in e["per_round"]]
    gs = L.groups(e)
    assert [g["n"] for g in gs] == [3, 2] and {g["side"] for g in gs} == {"numpy"}
    assert gs[0]["system_s"] == pytest.approx(2.7) and gs[1]["t_s"] == pytest.approx(26 / 27.1, rel=1e-3)
    f = dict(e, label="numpy (1 thread)", groups=gs)
    text = L.factor_sentence(f)
    assert "6.4× in 3 of 5 (numpy 4.06 s per step, 2.7 s of it in the kernel)" in text
    assert "slower rounds are the kernel's time" in text
    assert "⚠ rounds in groups" in L.times(f)
    one = dict(e, per_round=[7.0] * 5)
    assert L.groups(one) == [] and L.groups(dict(e, rounds_baseline_s=None)) == []
    # slower rounds with neither more kernel time nor other processes' CPU: from outside
    quiet = dict(e, system_contender_s=[0.0] * 5, others_baseline_s=[0.0] * 5,
                 others_contender_s=[0.0] * 5)
    assert "lost outside this machine" in L.factor_sentence(dict(quiet, label="numpy (1 thread)",
                                                                 groups=L.groups(quiet)))
    crowded = dict(quiet, others_contender_s=[2.0 if r < 10 else 0.0 for r in e["per_round"]])
    assert "other processes and the kernel's own threads took 2 s more" in L.factor_sentence(
        dict(crowded, label="numpy (1 thread)", groups=L.groups(crowded)))


def test_a_cells_step_memory_does_not_depend_on_what_ran_before_it():
    """The step memory starts from a resident set with nothing held from an earlier cell: a
    second numpy-inplace cell at one shape counted 24 MiB of its 114 (its buffers were kept from
    the first), and after a numpy cell 84 (freed temporaries still resident in the heap)."""
    from fastnn.bench import _warm, cell  # noqa: F401 - Numba's registries, as a worker has them
    from fastnn.bench.grid import working_set_bytes
    if not worker._reset_hwm():
        pytest.skip("this system does not let a process reset its resident-set peak")
    c = Cell("numpy-inplace", "cost_and_grads", 400_001, 4, 2)
    steps = []
    # a numpy cell first: what a process does once (the first BLAS call, the reference's
    # imports) is not what this test is about, and in a fresh process it added 8 MiB
    for b in ("numpy", "numpy-inplace", "numpy", "numpy-inplace", "numpy-inplace"):
        r = cell.run_cell(Cell(b, c.op, c.m, c.n_h, c.n_x), 0.2, {}, QuietMachine())
        assert r["status"] == "ok", r.get("message")
        steps += [r["mem_step_bytes"]] if b == c.backend else []
    assert steps == pytest.approx([working_set_bytes(c)] * 3, rel=0.15)


def test_a_prefix_check_leaves_nothing_in_the_step_memory(monkeypatch):
    """A cell NumPy cannot hold is checked on a prefix; numpy-inplace kept the prefix's work
    arrays too (two shapes), and its step at (2, 64, 1e7) measured 1 GiB over its model."""
    from fastnn.bench import _warm, cell  # noqa: F401 - Numba's registries, as a worker has them
    from fastnn.bench.grid import working_set_bytes
    if not worker._reset_hwm():
        pytest.skip("this system does not let a process reset its resident-set peak")
    c = Cell("numpy-inplace", "cost_and_grads", 400_001, 16, 2)
    limit = lambda: int(0.5 * working_set_bytes(Cell("numpy", c.op, c.m, c.n_h, c.n_x)))  # noqa: E731
    monkeypatch.setattr(cell, "memory_limit", limit)
    r = cell.run_cell(c, 3.0, {}, QuietMachine())
    assert r["status"] == "ok" and "on the first 100,000 examples" in r["message"], r
    assert r["mem_step_bytes"] == pytest.approx(working_set_bytes(c), rel=0.1)


@pytest.mark.slow  # ~200 MB in a fresh worker: with the slow tests, alone (-n 0)
def test_a_cells_step_memory_counts_the_buffers_a_backend_keeps():
    """numpy-inplace allocates its work arrays once: a call's peak *extra* memory is ~0, but the
    step's memory (mem_step_bytes, from before the data to the end of a call) holds them."""
    from fastnn.bench import cell
    from fastnn.bench.grid import working_set_bytes
    from fastnn.bench import spawn
    # in a fresh worker, as the harness measures. It once measured 11 MB here in the parallel
    # run: the worker, forked from a test process, inherited that process's free heap and
    # numpy-inplace's buffers, resident before the baseline (now released and trimmed first)
    c = Cell("numpy-inplace", "cost_and_grads", 200_003, 64, 2)
    r = spawn.call(cell.run_cell, c, 30.0, {}, None, backends=("numpy-inplace", "numpy"))
    assert r["status"] == "ok", r.get("message")
    data = 8 * c.m * (c.n_x + c.n_y)
    buffers = working_set_bytes(c) - data
    assert (r["mem_rss_bytes"] or 0) < 0.2 * buffers
    assert r["mem_step_bytes"] > data + 0.8 * buffers


def test_a_factor_whose_rounds_disagree_says_so_and_why():
    """A ladder factor flags an interval beyond ×/÷ 1.25 as the headline does, in its cell and
    its sentence, with the side that moved (named with its threads when both are numba)."""
    r = [1.41, 1.9, 2.4, 1.85, 1.5]
    f = dict(label="numba (all cores)", baseline="numba", baseline_threads=1, contender="numba",
             contender_threads=0, adds=L.THREADS, ratio=1.85, lo=1.41, hi=2.4, per_round=r,
             rounds_baseline_s=[0.0202, 0.025, 0.0307, 0.024, 0.021],
             rounds_contender_s=[0.0143, 0.0132, 0.0128, 0.013, 0.014],
             system_baseline_s=[0.0] * 5, system_contender_s=[0.0] * 5,
             others_baseline_s=[0.0] * 5, others_contender_s=[0.0] * 5)
    assert L.times(f).startswith("1.85× [1.41–2.4] ⚠ rounds disagree (from 1.41× to 2.4×; "
                                 "numba (1 thread)'s time per call moved, 20.2 ms to 30.7 ms")
    assert "from outside the machine" in L.times(f)
    assert " Its rounds disagree: from 1.41× to 2.4×" in L.factor_sentence(f)
    # an entry written before the rounds were kept is flagged on its interval alone
    old = {k: v for k, v in f.items() if k != "per_round" and not k.endswith("_s")}
    assert L.times(old) == "1.85× [1.41–2.4] ⚠ rounds disagree (its interval [1.41–2.4])"
    narrow = dict(f, lo=1.7, hi=2.0)
    assert "⚠" not in L.times(narrow) and "disagree" not in L.factor_sentence(narrow)
