"""Contention detection with real competing processes; retries, predictions and headline budgets."""

import subprocess
import sys
import time

import pytest

from fastnn.bench import contention as C
from fastnn.bench import grid as G
from fastnn.bench import cell, worker
from fastnn.report import reasons

SPIN = "import time\nend = time.time() + {s}\nwhile time.time() < end: pass\n"
CELL = G.Cell("numba", "cost_and_grads", 10_000, 64)


@pytest.fixture(scope="module")
def detector():
    d = C.Detector()
    d.calibrate(rounds=3)
    return d


def _spinners(n, seconds):
    return [subprocess.Popen([sys.executable, "-c", SPIN.format(s=seconds)]) for _ in range(n)]


@pytest.mark.slow
def test_two_cpu_bound_processes_mark_a_numba_cell_disturbed(detector, monkeypatch):
    monkeypatch.setattr(C, "QUIET_WAIT_S", 0.3)
    procs = _spinners(2, 8)
    try:
        time.sleep(0.5)  # let them take the cores
        rec = cell.run_cell(CELL, 2.0, {}, detector)
    finally:
        for p in procs:
            p.kill()
            p.wait()
    assert rec["status"] == "ok" and rec["disturbed"] is True
    con = rec["contention"]
    assert con["others_cpus"] > C.OTHERS_MAX
    assert con["over"]["others_cpus"] == con["others_cpus"]
    assert "other processes used" in reasons.contention_words(con)
    assert con["window_s"] >= C.MIN_WINDOW_S and con["probe_s"] > 0
    assert 1 <= con["attempts"] <= 1 + C.RETRIES


@pytest.mark.slow
def test_a_quiet_run_is_not_marked(detector):
    """Judged against an independent reading of /proc over the same cell: when the machine was
    quiet by that reading, the cell must not be marked for other processes; when it was plainly
    busy, it must be. (Other test runs may share this machine, so both branches are real.)"""
    before = C.snapshot()
    rec = cell.run_cell(G.Cell("numba", "cost_and_grads", 1_000, 4), 0.2, {}, detector)
    outside = C.usage(before, C.snapshot())["others_cpus"]
    con = rec["contention"]
    assert rec["disturbed"] == bool(con["over"]) == bool(C.exceeded(con))
    if outside < C.OTHERS_MAX / 3 and con["others_cpus"] is not None:
        assert "others_cpus" not in con["over"], (outside, con)
    elif outside > 3 * C.OTHERS_MAX:
        assert rec["disturbed"], (outside, con)


class _Scripted:
    """A detector whose verdicts are scripted (disturbed or not, in turn)."""

    def __init__(self, verdicts, quiet=True):
        self.verdicts, self.quiet, self.waits = list(verdicts), quiet, 0

    def start(self):
        return None

    def verdict(self, before):
        bad = self.verdicts.pop(0)
        return {"others_cpus": 1.5 if bad else 0.0, "over": {"others_cpus": 1.5} if bad else {}}

    def wait_quiet(self):
        self.waits += 1
        return self.quiet


@pytest.mark.parametrize("verdicts, quiet, attempts, disturbed", [
    ([True, False], True, 2, False),          # re-measured once quiet: kept, not disturbed
    ([True, True, True], True, 3, True),      # at most RETRIES re-measurements
    ([True], False, 1, True),                 # never quiet again: kept, marked
    ([False], True, 1, False),
])
def test_a_disturbed_cell_is_remeasured_within_bounds(verdicts, quiet, attempts, disturbed):
    assert C.RETRIES == 2
    det = _Scripted(verdicts, quiet)
    rec = cell.run_cell(G.Cell("numpy", "forward", 100, 4), 0.1, {}, det)
    assert rec["status"] == "ok" and rec["disturbed"] is disturbed
    assert rec["contention"]["attempts"] == attempts
    assert len(rec["contention"]["earlier"]) == attempts - 1
    assert not det.verdicts


@pytest.mark.slow
def test_wait_quiet_gives_up_quickly_on_a_machine_that_stays_busy(monkeypatch):
    d = C.Detector(probe=False)
    busy = {"t": 0.0, "busy": 0, "steal": 0, "self": 0, "load1": 0.0}
    ticks = iter(range(0, 10**6, 100))

    def snap():
        return dict(busy, t=time.perf_counter(), busy=next(ticks))  # ~3 CPUs of others

    monkeypatch.setattr(C, "snapshot", snap)
    monkeypatch.setattr(C, "QUIET_WAIT_S", 0.5)
    monkeypatch.setattr(C, "QUIET_WINDOW_S", 0.12)
    t0 = time.perf_counter()
    for _ in range(C.BUSY_STREAK):
        assert d.wait_quiet() is False
    assert time.perf_counter() - t0 >= 0.5 * C.BUSY_STREAK
    t0 = time.perf_counter()
    assert d.wait_quiet() is False
    assert time.perf_counter() - t0 < 0.3  # one window once the streak is reached


def test_disturbed_records_never_feed_a_prediction():
    c = G.Cell("numpy", "forward", 10_000, 4)
    prev = dict(G.Cell("numpy", "forward", 100, 4).params(), status="ok", median_s=1e-5)
    assert cell.predict(c, {"a": prev}) == pytest.approx(1e-3)
    assert cell.predict(c, {"a": dict(prev, disturbed=True)}) is None
    assert cell.predict(c, {"a": dict(prev, disturbed=False)}) == pytest.approx(1e-3)


def test_exceeded_names_each_threshold_and_the_report_words_it():
    assert C.exceeded({"others_cpus": 0.1, "steal": 0.0, "probe_ratio": 1.1}) == {}
    over = C.exceeded({"others_cpus": 1.0, "steal": 0.2, "probe_ratio": 5.0})
    assert over == {"others_cpus": 1.0, "steal": 0.2, "probe_ratio": 5.0}
    assert C.worst({"steal": 0.2}, {"steal": 0.3, "others_cpus": 1.0}) == {
        "steal": 0.3, "others_cpus": 1.0}
    why = reasons.over(over).split("; ")
    assert len(why) == 3 and "1.00 CPUs" in why[0] and "20 %" in why[1] and "5.0×" in why[2]
    assert C.usage(None, None)["others_cpus"] is None
    # an older file's sentence shows as it is; a quiet cell has no words
    assert reasons.contention_words({"reason": "the old words"}) == "the old words"
    assert reasons.contention_words({"over": {}}) == "" == reasons.contention_words(None)


def test_headline_cells_have_their_own_budget():
    nx, nh, m = G.TARGETS[0]
    assert G.is_headline(G.Cell("numba", G.HEADLINE_OP, m, nh, nx))
    assert G.is_headline(G.Cell("numpy", G.HEADLINE_OP, m, nh, nx))
    assert not G.is_headline(G.Cell("python", G.HEADLINE_OP, m, nh, nx))
    assert not G.is_headline(G.Cell("numba", "forward", m, nh, nx))
    assert not G.is_headline(G.Cell("numba", G.HEADLINE_OP, m, nh + 1, nx))
    c = G.Cell("numba", G.HEADLINE_OP, m, nh, nx)
    assert G.budget_for(c, 2.0) == G.HEADLINE_BUDGET_S
    assert G.budget_for(G.Cell("python", G.HEADLINE_OP, m, nh, nx), 2.0) == 2.0


def test_a_headline_cell_is_measured_beyond_the_grid_budget_or_says_why_not(monkeypatch):
    nx, nh, m = G.TARGETS[1]
    c = G.Cell("numba", G.HEADLINE_OP, m, nh, nx)
    det = _Scripted([False, False])
    monkeypatch.setattr(worker, "probe", lambda cell, budget: 1.0)  # 3 s > the 0.5 s budget
    rec = cell.run_cell(c, 0.5, {}, det)
    assert rec["status"] == "ok" and rec["headline"] and rec["budget_s"] == G.HEADLINE_BUDGET_S
    assert rec["median_s"] > 0 and not rec["extrapolated"]
    monkeypatch.setattr(worker, "probe", lambda cell, budget: 100.0)
    rec = cell.run_cell(c, 0.5, {}, det)
    assert rec["status"] == "over_budget" and rec["predicted_s"] == 100.0
    w = rec["why"]
    assert (w["code"], w["predicted_s"], w["calls"], w["source"]) == (
        "over_budget", 100.0, cell.OVER_BUDGET_CALLS, "probe")
    assert reasons.message(rec).startswith("not measured: predicted 100 s per call")
