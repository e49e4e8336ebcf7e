"""The ladder of the step's speed-up (fastnn.bench.ladder, fastnn.report.ladder) and the modes'
counters (fastnn.bench.worker.modes, fastnn.report.modes)."""
import pytest

from fastnn.backends import HEADLINE, REGISTRY, names
from fastnn.bench import ladder as L
from fastnn.bench import paired, worker
from fastnn.bench.grid import Cell
from fastnn.plotting import THREADS_ADDS, factor_adds, rung_adds
from fastnn.report import ladder as RL
from fastnn.report import modes as RM
from conftest import QuietMachine


def test_rungs_follow_the_registry_then_threads():
    r = L.rungs()
    assert [b for b, _ in r[:-1]] == [n for n in names(peers=False) if REGISTRY[n].ladder]
    assert all(t == 1 for _, t in r[:-1]) and r[-1] == (HEADLINE, 0)
    assert rung_adds(HEADLINE, 0) == THREADS_ADDS
    assert rung_adds("numpy", 1) == REGISTRY["numpy"].ladder
    assert not any(REGISTRY[p].ladder for p in names(peers=True))


def _ladder(factors=(0.5, 300.0, 2.0, 8.0, 1.8), m=1000):
    """A series whose rungs take 10 s, then each factor less, 3 rounds, and its ladder."""
    from fastnn.bench.records import Series, SideRounds
    t, sides = 10.0, []
    for (b, th), f in zip(L.rungs(), (1.0,) + tuple(factors)):
        t /= f
        sides.append(SideRounds(b, threads=th, m_run=100 if REGISTRY[b].per_example else m,
                                round_ids=[0, 1, 2], rounds_s=[t * 0.95, t, t * 1.05],
                                system_s=[0.0] * 3, others_s=[0.0] * 3))
    return paired.ladder(Series("cost_and_grads", 2, 4, m, sides=sides, canary_gflops=[None] * 3))


def test_summary_chains_the_rungs_and_multiplies_the_factors():
    s = L.summary(_ladder(), (2, 4, 1000))
    assert [r["backend"] for r in s["rungs"]] == [b for b, _ in L.rungs()]
    assert s["product"] == pytest.approx(0.5 * 300 * 2 * 8 * 1.8)
    assert s["biggest"].contender == "numpy" and s["direct"].ratio == pytest.approx(s["product"])
    from fastnn.bench.stats import estimate
    t0 = estimate([9.5, 10.0, 10.5])
    assert s["rungs"][0]["t_s"] == pytest.approx(t0)
    assert s["rungs"][-1]["t_s"] == pytest.approx(t0 / s["product"])
    assert L.summary(_ladder(), (2, 64, 1000)) is None


def test_a_factor_stores_no_words_and_an_older_ones_are_kept():
    """What a rung adds is worded from the registry when the report is built; a factor of an
    older paired.json carried the phrase itself, and it is shown as written."""
    f = next(f for f in _ladder() if f.kind == "factor" and f.contender == "numpy")
    assert f.adds == "" and factor_adds(f) == REGISTRY["numpy"].ladder
    f.adds = "an older phrase: with its own words"
    assert factor_adds(f) == "an older phrase: with its own words"


def test_report_section_states_every_factor_and_the_shorter_m(tmp_path):
    from fastnn.plotting import colours
    figures = []
    assert RL.figure(_ladder(), str(tmp_path), colours(), figures) == RL.FIGURE
    assert (tmp_path / RL.FIGURE).exists()
    text = RL.section(_ladder())
    assert "2× slower [" in text  # numpy-loop over python
    assert "300× [" in text and "(scaled from m = 100)" in text
    assert "the factors multiply to 4,320×" in text
    assert "biggest factor is 300× (vectorisation)" in text
    assert max(len(c) for row in text.splitlines() if row.startswith("|")
               for c in row.split("|")) <= 80
    assert "no ladder" in RL.section([])


def test_short_m_makes_a_per_example_call_last_long_enough():
    c = Cell("python", "cost_and_grads", 1_000_000, 4, 2)
    m = worker.short_m(c)
    assert 10 <= m < c.m and str(m)[0] in "125" and set(str(m)[1:]) <= {"0"}
    from fastnn.bench.worker import make_data, step_fn
    import time
    run = Cell("python", "cost_and_grads", m, 4, 2)
    fn = step_fn(run, *make_data(run))
    fn()
    t0 = time.perf_counter()
    fn()
    assert time.perf_counter() - t0 > worker.SHORT_S / 4  # the estimate is near, on a busy machine too
    assert worker.short_m(Cell("python", "cost_and_grads", 30, 4, 2)) <= 30  # never above m


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


def _numba_threads():
    import numba
    return numba.get_num_threads()


def test_a_rung_keeps_its_thread_count_in_its_worker():
    """side_setup's thread setting lasts for the worker's life (it once was undone at once, when
    the discarded context was collected, and the "1 thread" rung ran on all cores)."""
    from fastnn.bench.spawn import Worker
    with Worker(("numba",)) as w:
        w.call(worker.side_setup, Cell("numba", "cost_and_grads", 1000, 4, 2, threads=1))
        assert w.call(_numba_threads) == 1


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
        assert r["status"] == "ok", r.get("why")
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
    assert r["status"] == "ok" and r["notes"][0]["m_check"] == 100_000, r
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


def test_modes_quote_the_paired_comparison_the_tables_quote_else_say_unpaired():
    import pandas as pd
    from fastnn.bench.records import Series, SideRounds
    from fastnn.report.notes import Notes, cases_of, find, speed
    n, m = 8, 10**6
    numpy = [0.6, 0.61, 2.0, 0.62, 2.1, 0.6, 2.05, 0.61]
    sides = [SideRounds(b, m_run=m, round_ids=list(range(n)), rounds_s=v, system_s=[0.0] * n,
                        others_s=[0.0] * n) for b, v in ((HEADLINE, [0.05] * n), ("numpy", numpy))]
    s = Series("cost_and_grads", 2, 64, m, sides=sides, canary_gflops=[None] * n,
               passes=[0] * n)
    pairs = paired.compare(s, s.side("numpy"), s.side(HEADLINE))
    cell = dict(op="cost_and_grads", m=m, n_h=64, n_x=2, dtype="float64", threads=0,
                hidden="tanh", status="ok", disturbed=False)
    df = pd.DataFrame([dict(cell, backend=HEADLINE, median_s=0.05, modes=None),
                       dict(cell, backend="numpy", median_s=1.0,
                            modes=worker.modes(numpy * 2))])
    (line,) = RM.statements(df, pairs)
    c = find(pairs, 2, 64, m, "numpy")
    cases = cases_of(pairs, c)
    assert len(cases) == 2 and "unpaired" not in line
    first_screen = Notes().cell(c, cases)  # the first screen's cell: each case's number
    for k in cases:
        assert f"{k.case} case {speed(k)}" in line and speed(k) in first_screen
    (line,) = RM.statements(df)  # no paired rounds: the cell medians, said so
    fast = df.modes.iloc[1][0]["value"]
    assert "(unpaired)" in line and f"{fast / 0.05:.3g}×" in line
