"""The machine's best FMA peak across runs (fastnn.bench.history) and the first screen's use of
it: a run whose host was slow from start to end is named slow, though its canary, timed against
its own slowed peak, looks full."""

import json
import pathlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastnn.bench import history, paired, store
from fastnn.report import first

TARGETS = pathlib.Path(__file__).resolve().parent.parent / "reports" / "targets"
CPU = {"vendor": "GenuineIntel", "family": 6, "model": 167, "brand_raw": "Xeon", "simd_bits": 512,
       "count": 2}
FMA = {"kind": "fma", "bits": 512, "chains": 12}


def test_the_best_peak_is_kept_and_the_runs_counted(tmp_path):
    f, k = tmp_path / "peaks.json", history.key(CPU, FMA)
    assert history.update(k, 200.0, "t1", f) == {"fma_gflops": 200.0, "datetime": "t1", "runs": 1}
    assert history.update(k, 240.0, "t2", f) == {"fma_gflops": 240.0, "datetime": "t2", "runs": 2}
    assert history.update(k, 210.0, "t3", f) == {"fma_gflops": 240.0, "datetime": "t2", "runs": 3}
    assert history.update(k, None, "t4", f) is None  # no FMA loop: nothing recorded
    assert json.loads(f.read_text())[k]["runs"] == 3


def test_machine_kinds_are_not_mixed(tmp_path):
    f = tmp_path / "peaks.json"
    history.update(history.key(CPU, FMA), 240.0, "t1", f)
    avx2 = history.key(dict(CPU, simd_bits=256), dict(FMA, bits=256))
    assert history.update(avx2, 120.0, "t2", f)["fma_gflops"] == 120.0


def test_the_winning_width_does_not_split_a_kind(tmp_path):
    f = tmp_path / "peaks.json"
    history.update(history.key(CPU, FMA), 116.0, "t1", f)
    half = history.key(CPU, dict(FMA, bits=256))  # the other width won this time
    assert history.update(half, 114.0, "t2", f) == {"fma_gflops": 116.0, "datetime": "t1",
                                                     "runs": 2}


@settings(max_examples=40, deadline=None)
@given(st.one_of(st.binary(max_size=80), st.just(b'{"k": {"fma_gflops": "x", "runs": 1}}'),
                 st.just(b"[1, 2]"), st.just(b'{"k": null}')))
def test_a_damaged_history_is_started_again(tmp_path_factory, content):
    f = tmp_path_factory.mktemp("h") / "peaks.json"
    f.write_bytes(content)
    assert history.update("k", 100.0, "t", f) == {"fma_gflops": 100.0, "datetime": "t", "runs": 1}
    assert json.loads(f.read_text())["k"]["fma_gflops"] == 100.0


def test_an_unwritable_history_still_gives_this_runs_peak(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")  # a file where the folder should be: nothing can be written under it
    got = history.update("k", 150.0, "t", blocker / "fastnn" / "peaks.json")
    assert got == {"fma_gflops": 150.0, "datetime": "t", "runs": 1}


def _screen(run_peak, best):
    """A tiny run's first screen, its header's peak and best replaced."""
    header, _ = store.load(str(TARGETS))
    header = dict(header, peaks=dict(header.get("peaks") or {}, fma_gflops=run_peak,
                                     fma_best=best))
    doc = paired.load(str(TARGETS), header)
    doc.fma_gflops = run_peak
    return first.numbers(header, doc)


@pytest.mark.skipif(not (TARGETS / "results.jsonl").exists(), reason="no committed targets run")
def test_a_host_slow_all_run_long_is_named_on_the_first_line():
    full = _screen(240.0, {"fma_gflops": 240.0, "datetime": "t", "runs": 3})
    slow = _screen(160.0, {"fma_gflops": 240.0, "datetime": "t", "runs": 3})
    none = _screen(160.0, None)
    assert slow.host < first.SLOW_HOST <= full.host
    assert none.host == pytest.approx(full.host)  # without a history the canary alone speaks
    text = first.render(slow)
    assert text.startswith("⚠ **The host ran slow") and "best FMA peak" in text
    assert "240 GFLOP/s" in first.detail(slow) and "best" not in first.render(none)
    for damaged in ("x", {"fma_gflops": "240"}, {"fma_gflops": 0}, []):  # a hand-edited file
        assert _screen(160.0, damaged).host == pytest.approx(none.host)


def test_the_canary_is_over_the_best_peak_where_a_run_has_one():
    from fastnn.bench.run import reference_peak
    best = {"fma_gflops": 240.0, "datetime": "t", "runs": 3}
    assert reference_peak({"fma_gflops": 200.0, "fma_best": best}) == 240.0
    assert reference_peak({"fma_gflops": 200.0, "fma_best": {"fma_gflops": "x"}}) == 200.0
    assert reference_peak({"fma_gflops": 200.0}) == 200.0
    assert reference_peak(None) is None


@pytest.mark.skipif(not (TARGETS / "results.jsonl").exists(), reason="no committed targets run")
def test_the_first_line_and_each_comparisons_host_flag_use_one_measure():
    """A run at 160 of a 240 best: its comparisons' canaries over the best (as the harness now
    writes them) give the first line the same host as canaries over its own peak did, and
    each comparison's host flag is set exactly when its canary is under SLOW_HOST of the best."""
    best = {"fma_gflops": 240.0, "datetime": "t", "runs": 3}
    old = _screen(160.0, best)
    header, _ = store.load(str(TARGETS))
    header = dict(header, peaks=dict(header.get("peaks") or {}, fma_gflops=160.0, fma_best=best))
    doc = paired.load(str(TARGETS), header)
    for c in doc.pairs + doc.ladder:
        c.canary = None if c.canary is None else c.canary * 160.0 / 240.0
    doc.fma_gflops = 240.0
    assert first.numbers(header, doc).host == pytest.approx(old.host)
    s = doc.series[0]
    a, b = s.sides[0], s.sides[1]
    canary = [g for g in s.canary_gflops if g]
    if not canary:
        pytest.skip("the committed run timed no canary")
    mid = sorted(canary)[len(canary) // 2]
    for ref in (mid / 0.95, mid / 0.80):
        got = paired.compare(s, a, b, fma_gflops=ref, cases=False)[0]
        assert ("host" in got.flags) == (got.canary < first.SLOW_HOST)
    assert "host" in paired.compare(s, a, b, fma_gflops=mid / 0.5, cases=False)[0].flags
