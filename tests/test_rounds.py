"""Interleaved rounds, the one estimator and its interval, memory cases, flags as data, the
ladder as one series, and the typed paired file."""

import json

import numpy as np
import pytest

from fastnn.bench import ladder, paired, stats
from fastnn.bench.records import Comparison, PairedDoc, Series, SideRounds


def _series(times, m=10**6, n_h=64, canary=None, **kw):
    """A series at (2, n_h, m) whose sides (backend, threads) -> per-round seconds."""
    sides = [SideRounds(b, threads=t, m_run=m, round_ids=list(range(len(v))), rounds_s=list(v),
                        system_s=[0.0] * len(v), others_s=[0.0] * len(v))
             for (b, t), v in times.items()]
    n = len(next(iter(times.values())))
    return Series("cost_and_grads", 2, n_h, m, sides=sides,
                  canary_gflops=canary or [None] * n, passes=[0] * n, **kw)


def test_the_ratio_is_the_estimators_over_the_same_rounds_with_an_interval():
    rng = np.random.default_rng(1)
    a = 2.0 * (1 + 0.02 * rng.random(15))
    b = 0.5 * (1 + 0.02 * rng.random(15))
    r, lo, hi = stats.ratio_interval(a, b)
    assert r == pytest.approx(stats.estimate(a) / stats.estimate(b))
    assert lo <= r <= hi and 3.8 < lo and hi < 4.2
    loose = stats.ratio_interval(a * (1 + rng.random(15)), b)
    assert loose[2] - loose[1] > 3 * (hi - lo)


@pytest.mark.parametrize("a, b", [([1.0], [1.0]), ([1.0, np.nan], [1.0, 1.0]),
                                  ([1.0, 2.0], [1.0]), ([1.0, -1.0], [1.0, 1.0])])
def test_the_interval_refuses_too_few_unequal_or_bad_rounds(a, b):
    with pytest.raises(ValueError):
        stats.ratio_interval(a, b)


def test_memory_cases_split_at_a_gap_and_join_a_lone_outlier():
    t = [1.0, 1.02, 3.0, 1.01, 3.1, 2.95, 1.9]
    cs = stats.cases(t)
    assert [sorted(t[i] for i in c) for c in cs] == [[1.0, 1.01, 1.02], [1.9, 2.95, 3.0, 3.1]]
    assert stats.cases([1.0, 1.01, 1.02, 5.0]) == [[0, 1, 2, 3]]  # one outlier: one case


def test_one_rule_puts_a_sides_extra_time_down_to_its_counters():
    assert stats.cause(1.0, 0.6, 0.0) is stats.Cause.KERNEL
    assert stats.cause(1.0, 0.1, 0.7) is stats.Cause.OTHERS
    assert stats.cause(1.0, 0.1, 0.1) is stats.Cause.OUTSIDE
    assert stats.cause(1.0, 0.1, None) is stats.Cause.NOT_KERNEL
    assert stats.cause(1.0, None, None) is stats.Cause.UNKNOWN


def test_numpys_memory_cases_give_one_ratio_each_with_their_share():
    numpy = [0.6, 0.61, 2.0, 0.62, 2.1, 0.6, 2.05, 0.61]
    s = _series({("numba", 0): [0.06] * 8, ("numpy", 0): numpy})
    out = paired.compare(s, s.side("numpy"), s.side("numba"))
    main, fast, slow = out
    assert stats.Flag.CASES.value in main.flags and (fast.case, slow.case) == ("fast", "slow")
    assert fast.ratio == pytest.approx(stats.estimate([0.6, 0.61, 0.62, 0.6, 0.61]) / 0.06)
    assert slow.ratio == pytest.approx(stats.estimate([2.0, 2.1, 2.05]) / 0.06)
    assert (fast.rounds, slow.rounds, fast.share) == (5, 3, 5 / 8)


def test_a_wide_comparison_names_the_side_that_moved_and_why():
    numba = [0.05, 0.09, 0.09, 0.09, 0.09, 0.09]
    s = _series({("numba", 0): numba, ("numpy", 0): [0.5] * 6})
    s.sides[0].others_s = [0.0, 0.03, 0.03, 0.03, 0.03, 0.03]
    (c,) = paired.compare(s, s.side("numpy"), s.side("numba"))
    assert stats.Flag.WIDE.value in c.flags
    assert c.moved["side"] == "contender" and c.moved["cause"] == stats.Cause.OTHERS.value


def test_a_slow_host_and_a_busy_machine_are_flags():
    s = _series({("numba", 0): [0.05] * 4, ("numpy", 0): [0.5] * 4},
                canary=[50.0] * 4, disturbed=True, over={"others_cpus": 1.5})
    (c,) = paired.compare(s, s.side("numpy"), s.side("numba"), fma_gflops=100.0)
    assert {stats.Flag.SLOW_HOST.value, stats.Flag.BUSY.value} <= set(c.flags)
    assert c.canary == pytest.approx(0.5) and c.over == {"others_cpus": 1.5} and c.reason == ""


def test_the_ladders_factors_multiply_to_its_direct_ratio_exactly():
    rng = np.random.default_rng(3)
    times = {r: list(10.0 ** -i * (1 + 0.3 * rng.random(9))) for i, r in enumerate(ladder.rungs())}
    s = _series(times)
    out = paired.ladder(s)
    fs = [c for c in out if c.kind == "factor" and not c.case]
    (d,) = [c for c in out if c.kind == "direct"]
    assert len(fs) == len(ladder.rungs()) - 1
    assert np.prod([f.ratio for f in fs]) == pytest.approx(d.ratio, rel=1e-12)
    summ = ladder.summary(out, (2, 64, 10**6))
    assert summ["product"] == pytest.approx(d.ratio, rel=1e-12)
    assert [r["backend"] for r in summ["rungs"]] == [b for b, _ in ladder.rungs()]


def test_the_ladders_numpy_factors_are_split_by_numpys_memory_cases():
    """NumPy's rung in a fast and a slow memory case: the two factors next to it carry the
    ``cases`` flag and one factor per case over that case's rounds, with its share; the other
    factors are not split, and the all-rounds factors still multiply to the direct ratio."""
    rungs = ladder.rungs()
    at = next(i for i, (b, _) in enumerate(rungs) if b == "numpy")
    times = {r: [10.0 ** -i] * 8 for i, r in enumerate(rungs)}
    slow = [0.2 * 3.0 if k % 2 else 0.2 for k in range(8)]  # 4 fast rounds, 4 slow ones
    times[rungs[at]] = [t * 10.0 ** -at / 0.2 for t in slow]
    out = paired.ladder(_series(times))
    split = [c for c in out if c.case]
    names = {(c.baseline, c.contender) for c in split}
    assert names == {(rungs[at - 1][0], "numpy"), ("numpy", rungs[at + 1][0])}
    for c in split:
        assert c.share == pytest.approx(0.5) and c.rounds == 4
    fast = {c.contender if c.contender != "numpy" else c.baseline: c.ratio
            for c in split if c.case == "fast"}
    slow_ = {c.contender if c.contender != "numpy" else c.baseline: c.ratio
             for c in split if c.case == "slow"}
    into = rungs[at - 1][0]
    assert fast[into] == pytest.approx(3 * slow_[into])  # numpy 3x slower in its slow case
    whole = [c for c in out if c.kind == "factor" and not c.case]
    flagged = {(c.baseline, c.contender) for c in whole if stats.Flag.CASES.value in c.flags}
    assert flagged == names
    (d,) = [c for c in out if c.kind == "direct"]
    assert np.prod([f.ratio for f in whole]) == pytest.approx(d.ratio, rel=1e-12)


def test_a_ladder_without_every_rung_is_none():
    s = _series({("numba", 0): [0.05] * 3, ("numpy", 1): [0.5] * 3})
    assert paired.ladder(s) == []


def test_the_paired_file_round_trips_and_an_old_one_loads():
    s = _series({("numba", 0): [0.05, 0.06], ("numpy", 0): [0.5, 0.6]})
    pairs = paired.compare(s, s.side("numpy"), s.side("numba"))
    doc = PairedDoc(run_id="r", series=[s], pairs=pairs)
    back = PairedDoc.from_json(json.loads(json.dumps(doc.to_json())))
    assert back.pairs == pairs and back.series[0].sides == s.sides
    old = {"run_id": "r", "pairs": [dict(op="cost_and_grads", n_x=2, n_h=4, m=10, baseline="numpy",
                                         contender="numba", ratio=2.0, lo=1.9, hi=2.1, threads=0,
                                         per_round=[2.0, 2.0], wide=False)],
           "ladder": [dict(op="cost_and_grads", n_x=2, n_h=4, m=10, baseline="numpy",
                           contender="numba", ratio=2.0, lo=1.9, hi=2.1, direct=True, adds="",
                           baseline_threads=1, contender_threads=0)]}
    old["pairs"][0].update(wide=True, disturbed=True, rounds_baseline_s=[1.0, 3.0],
                           rounds_contender_s=[0.5, 1.5])
    od = PairedDoc.from_json(old)
    assert od.pairs[0].kind == "pair" and od.ladder[0].kind == "direct"
    # an old pair kept no estimates or flags: its rounds' median and its wide/disturbed say them
    assert (od.pairs[0].t_baseline_s, od.pairs[0].t_contender_s) == (2.0, 1.0)
    assert od.pairs[0].flags == ["wide", "busy"]
    assert od.pairs[0].estimator == "median" and od.format == "fastnn-paired/1"


def test_the_plan_times_the_headline_backend_beside_what_it_is_compared_with():
    from fastnn.bench.grid import TARGETS, Cell
    nx, nh, m = TARGETS[0]
    done = {i: dict(Cell(b, "cost_and_grads", m, nh, nx).params(), status="ok")
            for i, b in enumerate(["numba", "numpy", "python"])}
    done["x"] = dict(Cell("numpy-inplace", "cost_and_grads", 10, 4, 2).params(), status="ok")
    ((key, cells),) = paired.plan(done)
    assert key == ("cost_and_grads", nx, nh, m, 1)
    assert {c.backend for c in cells} == {"numba", "numpy", "numpy-inplace"}
    (_, with_ladder), = paired.plan(done, ladder_shapes=(TARGETS[0],))
    assert {(c.backend, c.threads) for c in with_ladder} >= {
        (b, 1) for b, t in ladder.rungs() if t == 1 and b in ("numba", "numpy", "numpy-inplace",
                                                              "python")}


@pytest.mark.slow
def test_rounds_in_workers_time_every_side_in_every_round():
    from fastnn.bench import rounds
    from fastnn.bench.grid import Cell
    cells = [Cell(b, "cost_and_grads", 5000, 4, 2) for b in ("numba", "numpy")]
    (s,) = rounds.measure([(("cost_and_grads", 2, 4, 5000, 1), cells)], rounds=4, min_rounds=2,
                          passes=2, budget_s=2.0, seed=1)
    assert len(s.sides) == 2 and len(s.canary_gflops) >= 2 and set(s.passes) == {0, 1}
    for side in s.sides:
        assert side.round_ids == list(range(len(s.canary_gflops)))
        assert min(side.rounds_s) > 0 and len(side.system_s) == len(side.rounds_s)
    pairs, _ = paired.comparisons([s], 100.0)
    (c,) = [p for p in pairs if not p.case]  # numpy's rounds may also split into memory cases
    assert (c.baseline, c.contender) == ("numpy", "numba") and c.lo <= c.ratio <= c.hi
    assert all(p.case and (p.baseline, p.contender) == ("numpy", "numba") for p in pairs
               if p is not c)


@pytest.mark.slow
def test_a_sweep_writes_its_comparisons_beside_its_results(tmp_path, monkeypatch):
    from fastnn.bench import grid, rounds, run, store
    monkeypatch.setattr(grid, "TARGETS", ((2, 4, 5000),))
    monkeypatch.setattr(grid, "FLOAT32_TARGETS", ((2, 4, 5000),))
    monkeypatch.setattr(grid, "HEADLINE_BUDGET_S", 0.3)
    monkeypatch.setattr(rounds, "ROUNDS", 4)
    monkeypatch.setattr(rounds, "BUDGET_S", 2.0)
    cells, _ = grid.cells("quick", backends=["numpy", "numba"], ops=["cost_and_grads"],
                          m=[5000], n_h=[4], dtype=["float64", "float32"])
    run.sweep(cells, 0.3, str(tmp_path), progress=False, fast_header=True,
              settings=dict(rounds=dict(rounds=4, min_rounds=2, passes=2, budget_s=2.0)))
    doc = store.load_paired(str(tmp_path))
    got = {(p.baseline, p.baseline_dtype, p.contender, p.dtype) for p in doc.pairs if not p.case}
    assert got == {("numpy", "float64", "numba", "float64"),
                   ("numpy", "float32", "numba", "float32"),
                   ("numba", "float64", "numba", "float32")}
    assert all(isinstance(p, Comparison) and p.lo <= p.ratio <= p.hi for p in doc.pairs)


def test_a_cell_with_a_cases_flag_but_no_cases_says_wide_not_an_empty_note():
    from fastnn.report.notes import Notes
    c = Comparison("cost_and_grads", 2, 64, 10**6, "numpy", "numba", 7.0, 6.0, 9.0,
                   flags=["cases", "wide"])
    notes = Notes("n")
    assert notes.cell(c) == "7× [6–9] [wide](#n1)" and "0 memory cases" not in notes.items[0]
    assert notes.cell(Comparison("fit", 2, 4, 400, "numpy", "numba", 0.5, 0.4, 0.6)) == \
        "2× slower [1.67–2.5]"


@pytest.mark.parametrize("flags", [["wide"], ["cases"], ["busy"], ["host"], ["busy", "wide"]])
def test_the_first_screens_note_is_one_short_sentence_per_flag_with_its_numbers(flags):
    from fastnn.report.notes import Notes, flag_brief
    moved = dict(side="baseline", lo_s=0.872, hi_s=4.96, cause="kernel", kernel_s=4.19)
    c = Comparison("cost_and_grads", 2, 4, 10**6, "torch", "numba", 9.0, 6.5, 12.8, rounds=15,
                   flags=flags, moved=moved, canary=0.7, over={"others_cpus": 0.4})
    cases = [Comparison("cost_and_grads", 2, 4, 10**6, "torch", "numba", r, r - 0.3, r + 0.4,
                        case=k, rounds=n) for r, k, n in ((6.88, "fast", 5), (12.4, "slow", 10))]
    notes = Notes("r", words=flag_brief)
    cell = notes.cell(c, cases if "cases" in flags else ())
    (note,) = notes.items
    assert cell.endswith(f"[{notes.flags(c, cases if 'cases' in flags else ())[0]}](#r1)")
    assert note.startswith(f"**{flags[0]}**") and " at (2, 4, 1e6): " in note
    assert note.count(". ") + 1 == len(flags) and len(note.split()) <= 30 * len(flags), note
    want = {"wide": ["872 ms to 4.96 s", "the OS mapping fresh memory"],
            "cases": ["5 of 15 at 6.88×", "10 at 12.4×"], "busy": ["used 0.40 CPUs"],
            "host": ["70 %"]}
    assert all(w in note for f in flags for w in want[f]), note


def test_a_side_whose_batch_fails_leaves_the_pass_and_the_others_go_on(monkeypatch):
    import random

    from fastnn.bench import rounds
    from fastnn.bench.grid import Cell

    class Fake:
        pid = 0

        def __init__(self, fail):
            self.fail, self.n = fail, 0

        def call(self, fn, *a):
            self.n += 1
            if self.fail and self.n > 1:
                raise RuntimeError("out of memory")
            return 0.01, 0.0, 0.0

    cells = [Cell("numba", "cost_and_grads", 100, 4, 2), Cell("numpy", "cost_and_grads", 100, 4, 2)]
    fakes = {cells[0].key: Fake(False), cells[1].key: Fake(True)}
    monkeypatch.setattr(rounds, "_setup", lambda stack, c, steps: (fakes[c.key], (1, 0.01, 100)))
    a = dict(sides={}, canary=[], passes=[], failed={}, disturbed=False, over={})
    rounds._pass(a, cells, None, random.Random(0), 4, 2, 10.0, 0.25, None, 0, 1)
    assert "out of memory" in a["failed"][cells[1].key]
    assert len(a["sides"][cells[0].key].rounds_s) == 4  # numba went on
    assert len(a["sides"][cells[1].key].rounds_s) == 1  # numpy's one good round


def _cmp(ratio, case="", flags=(), t_base=0.0):
    return Comparison("cost_and_grads", 2, 64, 10**6, "numpy", "numba", ratio, ratio, ratio,
                      case=case, flags=list(flags), kind="pair", t_baseline_s=t_base)


#: A baseline's time in each memory case (s): the slow case takes 2.3x the fast one.
T_CASE = {"fast": 1.0, "middle": 1.6, "slow": 2.3}


@pytest.mark.parametrize("first_cases, first_whole, second_cases, compared", [
    (("fast", "slow"), "", ("fast", "slow"), ["fast", "slow"]),  # split alike: by name
    ((), "slow", ("fast", "slow"), ["slow"]),  # one run met the slow case only: that case
    ((), "fast", ("fast", "slow"), ["fast"]),  # ... the fast case only
    (("fast", "slow"), "", (), ["fast"]),      # the second run unsplit (its time: fast's)
    (("fast", "middle", "slow"), "", ("fast", "slow"), ["fast", "slow"]),  # the nearest cases
    (("slow",), "", (), [""]),  # only the slow case kept (the fast one had one round): the
    # unsplit second run, in the fast state, meets the first run's whole (its fast minimum)
])
def test_two_runs_compare_the_memory_cases_both_saw(first_cases, first_whole, second_cases,
                                                    compared):
    """The run-to-run table compares a baseline's memory cases, never a ratio over rounds that
    fell in different cases: by name where both runs split alike, else the case of the run with
    more cases whose baseline time is nearest; never a comparison left out."""
    from fastnn.report.runs import agreement

    def doc(cases, whole, scale):
        flags = [stats.Flag.CASES.value] if cases else []
        t_whole = T_CASE[whole] if whole else T_CASE["fast"]  # a split run's whole: its minimum
        return PairedDoc(pairs=[_cmp(t_whole * 10.0 * scale, flags=flags, t_base=t_whole)]
                         + [_cmp(T_CASE[c] * 10.0 * scale, case=c, t_base=T_CASE[c])
                            for c in cases])
    rows = agreement(doc(first_cases, first_whole, 1.0), doc(second_cases, "", 1.05))
    named = [(y if y.case else x).case for _, x, y, _, _ in rows]
    assert sorted(named) == sorted(compared)
    for _, x, y, r, ok in rows:  # the same memory state on both sides of every row
        assert x.t_baseline_s == y.t_baseline_s and r == pytest.approx(1.05) and ok


def test_a_ladder_factor_into_numpy_is_matched_by_numpys_time():
    """In the ladder factor numpy ÷ numpy-loop, NumPy's rung (split into memory cases) is the
    contender: the unsplit run's factor is set against the case whose NumPy time is nearest,
    whatever numpy-loop's time did."""
    from fastnn.report.runs import agreement

    def factor(ratio, t_numpy, case="", flags=()):
        return Comparison("cost_and_grads", 2, 64, 10**6, "numpy-loop", "numpy", ratio, ratio,
                          ratio, case=case, flags=list(flags), kind="factor",
                          t_baseline_s=50.0, t_contender_s=t_numpy)
    split = PairedDoc(ladder=[factor(50.0, 1.0, flags=[stats.Flag.CASES.value]),
                              factor(50.0, 1.0, "fast"), factor(21.7, 2.3, "slow")])
    slow_only = PairedDoc(ladder=[factor(22.0, 2.3)])
    (_, x, y, r, ok), = agreement(split, slow_only)
    assert x.case == "slow" and ok and r == pytest.approx(22.0 / 21.7)


def test_a_side_that_allocates_gets_an_untimed_call_however_long_its_call(monkeypatch):
    """A long call of a side with fresh temporaries (NumPy) of FRESH_BYTES or more is preceded by
    an untimed one, which absorbs the wait for memory the VM handed back to its host; a long
    call of a side that reuses its arrays (numpy-inplace), a fused one (numba) or one whose
    temporaries come from the heap (the flower's 400 examples) is not."""
    import random

    from fastnn.bench import rounds
    from fastnn.bench.grid import Cell

    class Fake:
        pid = 0

        def __init__(self):
            self.untimed = []

        def call(self, fn, calls, untimed):
            self.untimed.append(untimed)
            return 1.0, 0.0, 0.0

    cells = [Cell(b, "cost_and_grads", 100_000, 64, 2) for b in ("numba", "numpy", "numpy-inplace")]
    cells.append(Cell("numpy", "fit", 400, 4, 2))  # 12.8 kB of temporaries: from the heap
    fakes = {c.key: Fake() for c in cells}
    monkeypatch.setattr(rounds, "_setup", lambda stack, c, steps: (fakes[c.key], (1, 1.0, 100)))
    a = dict(sides={}, canary=[], passes=[], failed={}, disturbed=False, over={})
    rounds._pass(a, cells, None, random.Random(0), 3, 2, 10.0, 0.25, None, 0, 1)
    assert [set(fakes[c.key].untimed) for c in cells] == [{False}, {True}, {False}, {False}]
    # at the threshold's edge: n_h * m * 8 bytes against FRESH_BYTES; a short call always
    edge = rounds.FRESH_BYTES // (64 * 8)
    assert rounds.wants_untimed(Cell("numpy", "cost_and_grads", edge, 64, 2), 1.0)
    assert not rounds.wants_untimed(Cell("numpy", "cost_and_grads", edge - 1, 64, 2), 1.0)
    assert rounds.wants_untimed(Cell("numpy", "cost_and_grads", edge - 1, 64, 2, dtype="float32"),
                          0.1)
    assert not rounds.wants_untimed(Cell("numpy", "cost_and_grads", edge, 64, 2, dtype="float32"), 1.0)


def test_the_run_to_run_table_names_the_side_that_moved():
    """Beside each ratio, each side's own time second run over first: a ratio that moved 20 %
    with its baseline steady shows the contender's 0.8."""
    from fastnn.report.runs import compared

    def doc(t_numba):
        c = Comparison("fit", 64, 16, 1797, "numpy", "numba", 0.3 / t_numba, 0.3 / t_numba,
                       0.3 / t_numba, kind="pair", t_baseline_s=0.3, t_contender_s=t_numba)
        return PairedDoc(pairs=[c])
    row = next(x for x in compared(doc(0.15), doc(0.12), ["a", "b"]).splitlines()
               if x.startswith("| numba vs numpy"))
    cells = [x.strip() for x in row.strip("|").split("|")]
    assert cells[3:] == ["1.250", "**no**", "1.000", "0.800"]
