"""results-benchmark.json is a file pytest-benchmark's own tools read.

Issue 19, case 2: ``pytest-benchmark compare reports/quick/results-benchmark.json`` ended in
``KeyError: 'outliers'``; ``stats`` lacked outliers, iqr_outliers, stddev_outliers, ld15iqr,
hd15iqr and total, and ``ops`` was 1/median where pytest-benchmark defines it as 1/mean.
"""

import csv
import json
import os
import subprocess
import sys

import pytest
from conftest import QuietMachine
from hypothesis import given, settings
from hypothesis import strategies as st

pytest_benchmark = pytest.importorskip("pytest_benchmark")
from pytest_benchmark.stats import Stats  # noqa: E402

from fastnn.backends import HEADLINE, REFERENCE  # noqa: E402
from fastnn.bench import grid as G  # noqa: E402
from fastnn.bench import ceiling, peaks, run  # noqa: E402
from fastnn.bench.store import BENCHMARK_STATS, benchmark_stats, load  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPORTS = os.path.join(ROOT, "reports")


def _pb_stats(samples, iterations=1):
    """pytest-benchmark's own stats of these samples, as its JSON writer emits them."""
    s = Stats()
    for v in samples:
        s.update(v)
    return dict(s.as_dict(), data=list(samples), iterations=iterations)


def test_every_key_pytest_benchmark_writes_is_documented():
    assert list(BENCHMARK_STATS) == [*Stats.fields, "data", "iterations"]


@settings(max_examples=200, deadline=None, derandomize=True)
@given(samples=st.lists(st.floats(1e-9, 10.0) | st.sampled_from([1e-3, 2e-3, 5e-3]),
                        min_size=1, max_size=25),
       iterations=st.integers(1, 1000))
def test_stats_are_pytest_benchmarks_own(samples, iterations):
    got = benchmark_stats(samples, iterations)
    assert list(got) == list(BENCHMARK_STATS)
    assert got == _pb_stats(samples, iterations)


def test_the_cases_values():
    """Worked values: ops is 1/mean (not 1/median), the outliers string is 'stddev;iqr'."""
    s = benchmark_stats([1.0, 1.0, 1.0, 1.0, 6.0])
    assert s["mean"] == 2.0 and s["median"] == 1.0 and s["ops"] == 0.5 and s["total"] == 10.0
    assert (s["q1"], s["q3"], s["iqr"]) == (1.0, 2.25, 1.25)  # n = 5: 0.75·d[3] + 0.25·d[4]
    assert s["iqr_outliers"] == 1 and s["stddev_outliers"] == 1 and s["outliers"] == "1;1"
    assert s["ld15iqr"] == 1.0 and s["hd15iqr"] == 1.0  # 6.0 lies beyond q3 + 1.5 iqr = 4.125
    assert s["stddev"] == pytest.approx(5 ** 0.5)  # n - 1: sqrt(20 / 4)


def _compare(path, cwd, *more):
    """``pytest-benchmark compare [more] path`` in a fresh process (its console script)."""
    code = ("import sys; from pytest_benchmark.cli import main; "
            "sys.argv[0] = 'pytest-benchmark'; sys.exit(main())")
    return subprocess.run([sys.executable, "-c", code, "compare", *more, str(path)], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def _check_compare(path, cwd, names):
    """compare and compare --csv read the file: exit 0, nothing failed to load, every
    benchmark in the table and one CSV row each."""
    r = _compare(path, cwd)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "Failed to load" not in r.stdout + r.stderr and "Traceback" not in r.stderr
    assert all(n in r.stdout for n in names)
    out = os.path.join(cwd, "compared")
    r = _compare(path, cwd, f"--csv={out}")
    assert r.returncode == 0, r.stderr[-2000:]
    with open(out + ".csv", newline="") as f:
        rows = list(csv.reader(f))
    assert len(rows) == 1 + len(names)
    assert {row[0] for row in rows[1:]} == {f"fastnn bench::{n}" for n in names}


@pytest.mark.slow  # a real sweep's header reads the machine (~6 s here), then 4 tiny cells
def test_pytest_benchmark_compare_reads_a_sweeps_file(tmp_path, monkeypatch):
    monkeypatch.setattr(peaks, "machine_peaks", lambda *a, **k: {})  # not in the JSON
    monkeypatch.setattr(ceiling, "measure", lambda *a, **k: {})
    cells, _ = G.cells("quick", backends=[REFERENCE, HEADLINE], ops=["cost_and_grads"],
                       m=[1, 50], n_h=[3], peers=False)
    path = run.sweep(cells, 0.3, str(tmp_path), progress=False, fast_header=True,
                     detector=QuietMachine(), pairs=False, isolate=False)  # the patches apply
    ok = [r for r in load(path)[1] if r["status"] == "ok"]
    doc = json.loads((tmp_path / "results-benchmark.json").read_text())
    assert len(doc["benchmarks"]) == len(ok) >= 2
    for b, r in zip(doc["benchmarks"], ok):
        assert b["stats"] == _pb_stats(r["samples"], r["calls_per_round"])
        assert b["stats"]["ops"] == pytest.approx(1 / b["stats"]["mean"])
    _check_compare(tmp_path / "results-benchmark.json", tmp_path,
                   [b["name"] for b in doc["benchmarks"]])


COMMITTED = sorted(d for d in os.listdir(REPORTS)
                   if os.path.exists(os.path.join(REPORTS, d, "results-benchmark.json")))


@pytest.mark.parametrize("report", COMMITTED)
def test_committed_reports_files_are_regenerated(report, tmp_path):
    """Each committed report's results-benchmark.json holds pytest-benchmark's stats of its own
    results.jsonl, and the quick report's is read by compare."""
    folder = os.path.join(REPORTS, report)
    with open(os.path.join(folder, "results-benchmark.json"), encoding="utf-8") as f:
        doc = json.load(f)
    ok = [r for r in load(folder)[1] if r["status"] == "ok"]
    assert len(doc["benchmarks"]) == len(ok)
    for b, r in zip(doc["benchmarks"], ok):
        assert b["stats"] == _pb_stats(r["samples"], r.get("calls_per_round") or 1)
    if report == "quick":
        _check_compare(os.path.join(folder, "results-benchmark.json"), tmp_path,
                       [b["name"] for b in doc["benchmarks"]])
