"""The harness stores codes and numbers, the report words them (fastnn/report/reasons.py); an
older results file's own words still show as they are."""

import json
import os

import pytest

from fastnn.bench import grid as G
from fastnn.bench.codes import Why, error, why
from fastnn.bench.records import Comparison
from fastnn.bench.store import COLUMNS, CODES, load, to_frame
from fastnn.report import load_results, reasons

ROOT = os.path.join(os.path.dirname(__file__), os.pardir)
#: A run written before the codes: a dozen records of the targets run of 2026-12-07 07:26 UTC
#: (commit f4d7cef's reports/targets), those with a message or workers' words.
OLD_RUNS = [os.path.join(os.path.dirname(__file__), "data", "old_run")]

#: One example of every code, with the numbers it carries, and a phrase its words must hold.
EXAMPLES = {
    Why.UNSUPPORTED: (dict(what="hidden", value="relu"), "does not implement hidden activation"),
    Why.FEW_EXAMPLES: (dict(min_m=2, m=1), "needs at least 2 examples (m = 1)"),
    Why.FIXED_THREADS: ({}, "only 'all cores' is measured"),
    Why.MEMORY: (dict(need_bytes=20 * 2**30, limit_bytes=15 * 2**30, model="temporaries"),
                 "working set ~20.0 GiB (temporaries model) exceeds the memory limit, 15.0 GiB"),
    Why.OVER_BUDGET: (dict(predicted_s=21.5, steps=1, calls=3, budget_s=60.0, source="probe",
                           probe_m=10_000, probe_steps=None, linear=True),
                      "not measured: predicted 21.5 s per call (from a probe at a 100× smaller "
                      "m, linear in m); 3 calls exceed the 60 s budget"),
    Why.DIVERGED: (dict(step=7, steps=10), "diverged at step 7 of 10"),
    Why.ERROR: (dict(error="RuntimeError", text="boom"), "RuntimeError: boom"),
    Why.INVALID_RECORD: (dict(problem="has median_s = 0.0"), "invalid measurement record"),
    Why.DISAGREES: (dict(max_diff=0.5, onset=None), "disagrees with numpy (max abs diff 0.5)"),
    Why.PREFIX_CHECK: (dict(m_check=1000, m=20_000, reference="numpy"),
                       "checked against numpy on the first 1,000 examples"),
    Why.PARTIAL_FIT_CHECK: (dict(onset=40, steps=1000, reference="numpy"),
                            "checked on the first 40 of 1,000 steps"),
    Why.FURTHER_WORKER: (dict(status="failed", why=error(OSError("gone"))),
                         "a further worker: failed (OSError: gone)"),
}


def test_every_code_is_worded():
    assert set(EXAMPLES) == set(Why)
    for code, (numbers, phrase) in EXAMPLES.items():
        w = why(code, **numbers)
        assert w["code"] == code.value and json.loads(json.dumps(w)) == w  # JSON-ready data
        assert phrase in reasons.words(w, {"backend": "sklearn", "op": "cost_and_grads"})


def test_a_training_runs_prediction_is_worded_per_step():
    w = why(Why.OVER_BUDGET, predicted_s=0.00896, steps=10_000, calls=3, budget_s=60.0,
            source="probe", probe_m=400, probe_steps=3, linear=False)
    text = reasons.words(w, {"op": G.FIT_OP})
    assert text == ("not measured: predicted 8.96 ms per step × 10,000 steps per run (from probe "
                    "runs of 1 and 3 steps at m = 400); 3 runs exceed the 60 s budget")


def test_bad_whys_are_refused():
    with pytest.raises(TypeError, match="Why"):
        why("memory")
    with pytest.raises(ValueError, match="no words for code 'nonsense'"):
        reasons.words({"code": "nonsense"})
    with pytest.raises(TypeError, match="a why is a dict"):
        reasons.words(42)


def test_a_record_is_worded_from_its_why_then_its_notes_then_its_old_message():
    rec = dict(backend="numba", op="cost_and_grads", status="ok", why=None,
               notes=[why(Why.PREFIX_CHECK, m_check=1000, m=10**6, reference="numpy"),
                      why(Why.FURTHER_WORKER, status="failed", why=None)])
    assert reasons.message(rec) == (
        "checked against numpy on the first 1,000 examples (numpy's working set at m = "
        "1,000,000 exceeds this machine's memory limit); a further worker: failed")
    assert reasons.message(dict(rec, status="failed", why=error(ValueError("x")))) == (
        "ValueError: x")
    old = {"backend": "numpy", "status": "skipped", "message": "the words of an older run"}
    assert reasons.message(old) == "the words of an older run"
    assert reasons.message({"status": "ok"}) == ""
    c = Comparison(op="cost_and_grads", n_x=2, n_h=64, m=10**6, baseline="numpy",
                   contender="numba", ratio=10.0, lo=9.0, hi=11.0, reason="old busy words")
    assert reasons.busy(c) == "old busy words"
    c.over = {"steal": 0.25}
    assert reasons.busy(c) == "the hypervisor stole 25 % of CPU time (> 10 %)"


def test_the_frame_holds_codes_and_the_report_words_them(tmp_path):
    recs = [dict(backend="numpy", op="forward", m=10**9, n_h=1024, n_x=2, n_y=1,
                 dtype="float64", threads=0, hidden="tanh", output="sigmoid", status="skipped",
                 why=why(Why.MEMORY, need_bytes=2**35, limit_bytes=2**34, model="temporaries"),
                 notes=[], contention={"over": {"others_cpus": 1.25}})]
    df = to_frame(recs)
    assert list(df.columns) == COLUMNS and set(CODES) <= set(COLUMNS)
    assert df.why.iloc[0] == "memory" and df.contention_over.iloc[0] == "others_cpus"
    assert reasons.contention_words(recs[0]["contention"]).startswith(
        "other processes used 1.25 CPUs (> 0.3)")


@pytest.mark.parametrize("folder", OLD_RUNS)
def test_an_older_files_words_still_show(folder):
    """The committed runs were written before the codes: their messages and workers' words reach
    the report's frame unchanged."""
    _, cells = load(folder)
    df, _ = load_results([folder])
    old = [c.get("message") or "" for c in cells]
    assert any(old) and list(df.message) == old
    split = [c.get("workers_disagree") or "" for c in cells]
    assert any(split) and list(df.workers_disagree) == split
    assert all(c.get("why") is None for c in cells)


def test_the_sweeps_closing_lines_name_the_cells_whose_workers_disagree():
    _, cells = load(OLD_RUNS[0])
    lines = reasons.apart_lines(cells)
    assert len(lines) == sum(bool(c.get("workers_disagree")) for c in cells) >= 1
    assert all(": its 3 workers disagree: medians" in line for line in lines)
    new = dict(cells[0], workers_disagree=None, workers_apart=True, workers_spread=0.5,
               workers_iqr=0.02, workers=[{"median_s": 1.0}, {"median_s": 1.5}])
    (line,) = reasons.apart_lines([new])
    assert line.startswith(f"{new['backend']} {new['op']} m=") and "medians 1, 1.5 s" in line
