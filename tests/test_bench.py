"""The harness: a tiny grid end to end, kill and resume, over-budget, failed cells, the schema,
progress output, the CPU record and the peaks."""

import copy
import io
import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from fastnn.bench import grid as G
from fastnn.bench import checks, contention, machine, peaks, progress, run, worker
from fastnn.bench.store import COLUMNS, ResultsError, load
from fastnn.report import console, reasons
from conftest import QuietMachine

TINY = dict(backends=["python", "numpy", "numba"], ops=["cost_and_grads", "forward"],
            m=[1, 50], n_h=[3])


def _sweep(out, cells, budget=0.5, **kw):
    return run.sweep(cells, budget, str(out), progress=False, fast_header=True, **kw)


@pytest.fixture(scope="module")
def _machine_facts():
    """The run header (machine facts, peaks, ceiling), measured once for the plumbing tests."""
    return run.header("quick", 0.5, {}, True, None, QuietMachine())


@pytest.fixture
def plumbing(monkeypatch, _machine_facts):
    """For the tests of the harness's plumbing (resume, budgets, failures): every sweep reuses
    one measured header instead of measuring the machine's peaks again (~6 s each), and no
    settling pause before a cell is timed. The header and the timing itself are tested by
    test_tiny_grid_end_to_end_and_schema and test_sweep_names_each_phase."""
    monkeypatch.setattr(run, "header", lambda grid, budget_s, peers, *a, **kw: dict(
        copy.deepcopy(_machine_facts), grid=grid, budget_s=budget_s, peers=peers))
    monkeypatch.setattr(worker, "SETTLE_S", 0.0)


def _plumbing_sweep(out, cells, budget=0.5, **kw):
    """A sweep for the harness's plumbing (with the ``plumbing`` fixture): on a machine the
    detector never finds busy, so a shared test machine adds no retries and no waits (busy
    machines: test_tiny_grid_end_to_end_and_schema here, and test_contention.py)."""
    return _sweep(out, cells, budget, detector=QuietMachine(), isolate=False, **kw)


class NoWait(contention.Detector):
    """The real detector, without waiting for a quiet machine (a disturbed cell stays marked)."""

    def wait_quiet(self, max_s=None):
        return False


def test_tiny_grid_end_to_end_and_schema(tmp_path):
    """The whole run in worker processes, header included; the detector's waits are tested in
    test_contention.py (here, with the other test process busy, they would only add retries)."""
    cells, _ = G.cells("quick", **TINY)
    assert len(cells) == 3 * 2 * 2
    path = _sweep(tmp_path, cells, detector=NoWait())
    header, recs = load(path)
    assert header["format"] == "fastnn-bench/1" and "blas" in header["machine_info"]
    pk = header["peaks"]
    assert pk["peak_gflops"] > 0 and pk["peak_gbs"] > 0 and pk["peak_method"]
    assert pk["peak_gflops"] == max(pk["gemm_gflops"], pk["fma_gflops"] or 0)
    assert pk["gemm_method"]["kind"] == "gemm" and pk["fma_method"]["kind"] == "fma"
    assert pk["fma32_method"]["dtype"] == "float32" and not any(
        isinstance(v, str) for v in pk.values())  # numbers and codes: the report words them
    cpu = header["machine_info"]["cpu"]
    assert {"vendor", "family", "model", "stepping", "microarchitecture", "mhz", "simd",
            "simd_bits", "simd_half", "count", "cores", "numba_threading_layer"} <= set(cpu)
    probe = header["contention_probe"]
    assert probe["probe_quiet_s"] > 0 and probe["probe_m"] == contention.PROBE_M
    assert "probe" not in probe  # numbers, not a sentence
    assert len(recs) == len(cells) and all(r["status"] == "ok" for r in recs)
    for r in recs:
        assert isinstance(r["disturbed"], bool) and r["contention"]["attempts"] >= 1
        assert r["disturbed"] == bool(r["contention"]["over"])
        assert r["min_s"] <= r["median_s"] and r["q1_s"] <= r["q3_s"] and r["rounds"] >= 3
        assert len(r["samples"]) == r["rounds"] and r["flops"] > 0 and r["bytes"] > 0
        assert (r["compile_s"] is None) == (r["backend"] != "numba")
    df = pd.read_csv(tmp_path / "results.csv")
    assert list(df.columns) == COLUMNS and len(df) == len(cells)
    doc = json.loads((tmp_path / "results-benchmark.json").read_text())
    assert {"machine_info", "commit_info", "benchmarks"} <= set(doc)
    b = doc["benchmarks"][0]
    assert {"params", "stats", "extra_info", "name", "group"} <= set(b)
    assert {"min", "max", "mean", "median", "stddev", "rounds", "iqr"} <= set(b["stats"])


def test_interrupted_then_resumed_equals_uninterrupted(tmp_path, monkeypatch, plumbing):
    cells, _ = G.cells("quick", **TINY)
    real = run.measure_cell
    calls = {"n": 0}

    def flaky(*a, **k):
        calls["n"] += 1
        if calls["n"] == 5:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(run, "measure_cell", flaky)
    with pytest.raises(run.Interrupted) as stop:  # a KeyboardInterrupt with what was kept
        _plumbing_sweep(tmp_path / "a", cells)
    assert len(load(tmp_path / "a" / "results.jsonl")[1]) == stop.value.cells == 4
    assert stop.value.path == os.path.join(str(tmp_path / "a"), "results.jsonl")
    monkeypatch.setattr(run, "measure_cell", real)
    _plumbing_sweep(tmp_path / "a", cells, resume=True)
    _plumbing_sweep(tmp_path / "b", cells)
    keys = lambda p: sorted(r["key"] for r in load(p / "results.jsonl")[1])  # noqa: E731
    assert keys(tmp_path / "a") == keys(tmp_path / "b") == sorted(c.key for c in cells)


@pytest.mark.slow
def test_sigkill_halfway_then_resume_measures_each_cell_once(tmp_path):
    out = tmp_path / "k"
    code = (
        "import sys; from fastnn.bench import contention, grid as G, run\n"
        "contention.QUIET_WAIT_S = 0.3\n"
        "cells,_ = G.cells('quick', backends=['python','numpy'], ops=['cost_and_grads'],"
        " m=[1,10,100,1000,2000,3000], n_h=[2,3])\n"
        f"run.sweep(cells, 0.3, {str(out)!r}, progress=False, fast_header=True,"
        " resume='--resume' in sys.argv)\n")
    proc = subprocess.Popen([sys.executable, "-c", code])
    path = out / "results.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline:
        if path.exists() and len(path.read_text().splitlines()) >= 5:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    n_before = len(load(path)[1])
    assert 4 <= n_before < 24
    subprocess.run([sys.executable, "-c", code, "--resume"], check=True, timeout=300)
    recs = load(path)[1]
    keys = [r["key"] for r in recs]
    assert len(keys) == len(set(keys)) == 24


def test_over_budget_cells_are_extrapolated_not_measured(tmp_path, plumbing):
    cells, _ = G.cells("quick", backends=["python"], ops=["cost_and_grads"],
                       m=[10, 100, 1_000_000], n_h=[8])
    _plumbing_sweep(tmp_path, cells, budget=0.3)
    recs = {r["m"]: r for r in load(tmp_path / "results.jsonl")[1]}
    assert recs[100]["status"] == "ok"
    big = recs[1_000_000]
    assert big["status"] == "over_budget" and big["extrapolated"] is True
    assert big["median_s"] is None
    # predicted from the largest smaller m measured on a quiet machine (a disturbed cell is
    # never used), else from a probe
    quiet = [r for r in (recs[100], recs[10]) if not r["disturbed"]]
    if quiet:
        want = quiet[0]["median_s"] * 1e6 / quiet[0]["m"]
        assert big["predicted_s"] == pytest.approx(want, rel=1e-9)
    else:
        assert big["why"]["source"] == "probe"


def test_a_big_first_cell_is_predicted_by_a_probe_not_run(tmp_path, plumbing):
    cells, _ = G.cells("quick", backends=["python"], ops=["cost_and_grads"], m=[10_000_000],
                       n_h=[8])
    t0 = time.perf_counter()
    _plumbing_sweep(tmp_path, cells, budget=1.0)
    assert time.perf_counter() - t0 < 60  # the sweep did not run a ~minute-long call
    (rec,) = load(tmp_path / "results.jsonl")[1]
    assert rec["status"] == "over_budget" and rec["extrapolated"] is True
    assert rec["why"]["source"] == "probe" and rec["predicted_s"] > 1.0
    assert "probe at a 100× smaller m" in reasons.message(rec)


def test_failed_and_wrong_cells_are_recorded_and_the_sweep_goes_on(tmp_path, monkeypatch, plumbing):
    cells, _ = G.cells("quick", backends=["numpy-loop", "numba"], ops=["cost_and_grads"],
                       m=[20], n_h=[3])
    real = worker.step_fn

    def broken(c, *a, backend=None):
        name = backend or c.backend
        if name == "numpy-loop":
            raise RuntimeError("boom")
        fn = real(c, *a, backend=backend)
        if name == "numba":
            def wrong():
                J, g = fn()
                return J + 1.0, g
            return wrong
        return fn

    monkeypatch.setattr(worker, "step_fn", broken)
    _plumbing_sweep(tmp_path, cells)
    recs = {r["backend"]: r for r in load(tmp_path / "results.jsonl")[1]}
    assert recs["numpy-loop"]["status"] == "failed"
    assert recs["numpy-loop"]["why"] == {"code": "error", "error": "RuntimeError",
                                         "text": "boom"}
    assert "RuntimeError: boom" in reasons.message(recs["numpy-loop"])
    assert recs["numba"]["status"] == "wrong", recs["numba"]["why"]
    assert recs["numba"]["why"]["code"] == "disagrees" and recs["numba"]["why"]["max_diff"] > 0
    assert "disagrees with numpy" in reasons.message(recs["numba"])


def test_skipped_by_declaration():
    c = G.Cell("python", "cost_and_grads", 10, 4, dtype="float32")
    assert G.skip_reason(c) == {"code": "unsupported", "what": "dtype", "value": "float32"}
    assert "python does not implement dtype 'float32'" == reasons.words(G.skip_reason(c),
                                                                      c.params())
    assert G.skip_reason(G.Cell("numpy-loop", "cost_and_grads", 10, 4, dtype="float32")) is None
    relu = G.Cell("torch", "cost_and_grads", 10, 4, hidden="relu")
    assert G.skip_reason(relu) == {"code": "unsupported", "what": "hidden", "value": "relu"}
    assert "does not implement hidden activation 'relu'" in reasons.words(
        G.skip_reason(relu), relu.params())
    assert G.skip_reason(G.Cell("jax", "cost_and_grads", 10, 4, threads=1)) == {
        "code": "fixed_threads"}
    assert "only 'all cores'" in reasons.words({"code": "fixed_threads"}, {"backend": "jax"})
    mem = G.skip_reason(G.Cell("numpy", "forward", 10**9, 1024))
    assert mem["code"] == "memory" and mem["need_bytes"] > mem["limit_bytes"] > 0
    assert "memory" in reasons.words(mem)
    assert G.skip_reason(G.Cell("numpy", "forward", 10, 4)) is None


@pytest.mark.parametrize("kw, msg", [
    ({"backends": ["cuda"]}, "unknown backend 'cuda'"),
    ({"ops": ["train"]}, "unknown op 'train'"),
    ({"dtype": ["float16"]}, "unknown dtype 'float16'"),
    ({"m": [0]}, "m values must be integers >= 1"),
])
def test_bad_grid_options_fail_before_any_work(kw, msg):
    with pytest.raises(ValueError, match=msg):
        G.cells("quick", **kw)
    with pytest.raises(ValueError, match="unknown grid 'huge'"):
        G.cells("huge")


def test_cli_errors_are_clear(tmp_path, capsys):
    from fastnn.cli import main
    assert main(["bench", "--grid", "huge", "--out", str(tmp_path)]) == 2
    assert "unknown grid 'huge'" in capsys.readouterr().err
    assert not os.listdir(tmp_path)


@pytest.mark.parametrize("content, msg", [
    ("", "empty"),
    ("not json\n", "not JSON"),
    ('{"format": "something-else"}\n', "not a fastnn results file"),
    ('{"format": "fastnn-bench/1"}\n{"backend": "numpy"}\n', "missing op"),
    ("[1, 2]\n", "not a JSON object"),
])
def test_corrupt_or_foreign_results_file(tmp_path, content, msg):
    p = tmp_path / "results.jsonl"
    p.write_text(content)
    with pytest.raises(ResultsError, match=msg) as e:
        load(p)
    assert str(p) in str(e.value)
    with pytest.raises(ResultsError, match="no such results file"):
        load(tmp_path / "nope.jsonl")


def test_backend_subset_and_peers(monkeypatch):
    from fastnn.backends import REGISTRY
    cells, _ = G.cells("quick", backends=["numba", "numba"], ops=["cost_and_grads"], m=[1],
                       n_h=[2])
    assert [c.backend for c in cells] == ["numba"]
    # a peer is in the default grid exactly when its package is found, and times only its ops
    monkeypatch.setattr(type(REGISTRY["jax"]), "missing",
                        lambda self: None if self.name == "jax" else "x not installed")
    cells, _ = G.cells("quick", m=[1], n_h=[2])
    assert {c.op for c in cells if c.backend == "jax"} == set(REGISTRY["jax"].ops)
    assert set(REGISTRY["jax"].ops) < set(G.OPS)
    assert "torch" not in {c.backend for c in cells}
    assert G.cells("quick", m=[1], n_h=[2], peers=False)[0] == [c for c in cells
                                                                 if c.backend != "jax"]
    with pytest.raises(ValueError, match="backend 'torch' cannot run here: x not installed"):
        G.cells("quick", backends=["torch"])


def _cell(m):
    return dict(backend="numba", op="cost_and_grads", steps=None, m=m, n_h=4, n_x=2,
                dtype="float64", threads=0)


def test_plain_progress_lines_when_not_a_terminal():
    out = io.StringIO()
    p = progress.Progress(out, every_s=0, words=console.words)
    assert not p.live  # a StringIO is not a terminal
    with p.phase(progress.Event.PEAKS):
        pass
    with p.bar(2) as bar:
        bar.update(progress.Event.CELL, **_cell(100))
        bar.advance()
        bar.update(progress.Event.CELL, **_cell(1000))
        bar.advance()
    lines = out.getvalue().splitlines()
    peaks = "measuring machine peaks (FMA microkernel, GEMM, streaming copy)"
    assert lines[0] == peaks + " …"
    assert lines[1].startswith(peaks + ": done in ")
    now = "now numba cost_and_grads m={} n_h=4 n_x=2 float64 threads=all"
    assert lines[2] == "sweeping: 0/2 (0 %), 0:00 elapsed, ETA ?, " + now.format(100)
    assert lines[3].startswith("sweeping: 1/2 (50 %)") and "ETA 0:0" in lines[3]
    assert lines[3].endswith(now.format("1,000"))
    assert lines[4].startswith("sweeping: 2/2 (100 %)") and "now" not in lines[4]
    quiet = io.StringIO()
    with progress.Progress(quiet, enabled=False).phase("x"):
        pass
    assert quiet.getvalue() == ""


def test_without_words_progress_prints_codes_and_numbers():
    """The harness composes no sentence: a Progress given no words prints each event as its
    code and numbers, and a text as it is."""
    out = io.StringIO()
    p = progress.Progress(out, every_s=0)
    with p.phase(progress.Event.COMPILE, backend="numba"):
        p.say(progress.Event.SWEEP, cells=3, seed=7, done=0)
        p.say("a text as it is")
    lines = out.getvalue().splitlines()
    assert lines[:3] == ["start name=compile backend=numba", "sweep cells=3 seed=7 done=0",
                         "a text as it is"]
    assert lines[3].startswith("done name=compile backend=numba elapsed_s=")


def test_every_event_has_its_words():
    assert set(console.TEMPLATES) == set(progress.Event)
    assert console.words(progress.Event.SWEEP, cells=3, seed=7, done=2) == (
        "sweeping 3 cells in shuffled order (seed 7) (2 already done)")
    assert console.words(progress.Event.CELL, **dict(_cell(400), op="fit", steps=10_000)) == (
        "numba fit (10,000 steps) m=400 n_h=4 n_x=2 float64 threads=all")
    assert console.words(progress.Event.PASS, k=1, passes=2, op="fit", n_x=2, n_h=4, m=400,
                         sides=5) == "rounds, pass 1 of 2: fit n_x=2 n_h=4 m=400, 5 sides"
    assert console.words(progress.Event.INTERRUPTED, cells=4, path="out/results.jsonl") == (
        "\ninterrupted: 4 finished cells are kept in out/results.jsonl.\n"
        "Resume with the same command plus --resume.")
    assert console.clock(3725) == "1:02:05" and console.clock(None) == "?"


def test_a_long_phase_says_it_is_still_running(monkeypatch):
    monkeypatch.setattr(progress, "HEARTBEAT_S", 0.05)
    out = io.StringIO()
    with progress.Progress(out, every_s=0, words=console.words).phase(
            progress.Event.COMPILE, backend="numba"):
        time.sleep(0.3)
    lines = out.getvalue().splitlines()
    name = "timing the numba compile (fresh processes)"
    assert any(name + ": still running, 0:00 so far" == ln for ln in lines)
    assert lines[-1].startswith(name + ": done in 0.")


def test_plain_lines_are_spaced_by_every_s():
    out = io.StringIO()
    with progress.Progress(out, every_s=3600).bar(100) as bar:
        for i in range(100):
            bar.update(f"cell {i}")
            bar.advance()
    assert len(out.getvalue().splitlines()) == 2  # the first cell and the end


def test_sweep_names_each_phase(tmp_path):
    out = io.StringIO()
    cells, _ = G.cells("quick", backends=["numpy"], ops=["forward"], m=[10], n_h=[2])
    run.sweep(cells, 0.2, str(tmp_path), fast_header=True,
              progress=progress.Progress(out, every_s=0, words=console.words))
    text = out.getvalue()
    for phase in ("reading the machine facts", "measuring machine peaks",
                  "timing the contention probe", "sweeping 1 cells", "sweeping: 1/1"):
        assert phase in text, text


@pytest.mark.parametrize("vendor, family, model, flags, uarch, half", [
    ("AuthenticAMD", 25, 17, {"avx2", "avx512f"}, "Zen 4", True),
    ("AuthenticAMD", 25, 1, {"avx2"}, "Zen 3", False),
    ("AuthenticAMD", 26, 2, {"avx2", "avx512f"}, "Zen 5", False),
    ("GenuineIntel", 6, 143, {"avx2", "avx512f"}, None, False),
])
def test_cpu_naming_and_simd_width(vendor, family, model, flags, uarch, half):
    assert machine.microarchitecture(vendor, family, model) == uarch
    s = machine.simd(vendor, family, flags)
    assert s["simd"] == ("avx512f" if "avx512f" in flags else "avx2")
    assert s["simd_bits"] == (512 if "avx512f" in flags else 256)
    assert s["simd_half"] is (True if half else None)


def test_this_cpu_is_named():
    cpu = machine.cpu_record()
    assert cpu["count"] >= 1 and cpu["brand_raw"]
    if os.path.exists("/proc/cpuinfo"):
        assert cpu["vendor"] and cpu["family"] is not None and cpu["mhz"] > 0


def test_fma_microkernel_reaches_the_gemm_ballpark():
    """The FMA ceiling is a real compute ceiling: on one thread it is not far below the BLAS GEMM
    on one thread (the GEMM also does loads and stores)."""
    from threadpoolctl import threadpool_limits
    fma, name = peaks.fma_peak("float64", 0.2, threads=1)
    with threadpool_limits(1):
        gemm, _ = peaks.gemm_peak("float64", 0.2, n=512)
    assert fma > 0.5 * gemm and name["threads"] == 1


def test_the_first_grid_answers_the_study_questions_and_no_more():
    """The default grid: the step over m at one n_h on every backend; the headline shapes and
    the flower run only on the headline table's backends (numba, numpy, the peers)."""
    from fastnn.backends import HEADLINE, REFERENCE, REGISTRY, names
    from fastnn.cli import DEFAULT_GRID
    assert DEFAULT_GRID == "first" and "quick" in G.GRIDS
    cells, budget = G.cells("first", peers=False)
    step = [c for c in cells if c.op == G.HEADLINE_OP]
    series = {(c.backend, c.m) for c in step if (c.n_x, c.n_h) == (2, 4)}
    assert series == {(b, m) for b in names(peers=False) for m in G.FIRST_M}
    assert len(G.FIRST_M) >= 5  # enough m for the scaling fits (4 parameters + 1)
    for nx, nh, m in G.TARGETS:
        at = {c.backend for c in step if (c.n_x, c.n_h, c.m) == (nx, nh, m)}
        assert REFERENCE in at and HEADLINE in at
        if (nx, nh) != (2, 4):
            assert at == {REFERENCE, HEADLINE}  # no per-example loop at a headline shape
    fits = [c for c in cells if c.op == G.FIT_OP]
    assert {(c.n_x, c.n_h, c.m) for c in fits} == {G.FIT_TARGETS[0][:3]}
    assert {c.backend for c in fits} == {REFERENCE, HEADLINE}
    assert all(G.is_headline(c) for c in fits) and {c.dtype for c in cells} == {"float64"}
    with_peers = G.cells("first")[0]
    peers = {c.backend for c in with_peers} - {c.backend for c in cells}
    assert all(REGISTRY[p].peer for p in peers)
    s = G.settings("first")
    assert G.budget_for(fits[0], budget, s["headline_budget_s"]) == s["headline_budget_s"]
    assert G.settings("quick") == {}  # the other grids keep the harness's defaults
    # an axis override replaces the declared shapes, as in the other grids
    assert {(c.n_h, c.m) for c in G.cells("first", backends=["numpy"], m=[10], n_h=[3])[0]} \
        == {(3, 10)}


def test_a_grid_s_settings_reach_the_cells_the_header_and_the_pairs(tmp_path, monkeypatch):
    from fastnn.bench import paired, rounds
    seen = {}
    monkeypatch.setattr(paired, "plan", lambda done, shapes=(): [("a group", [])])
    monkeypatch.setattr(rounds, "measure",
                        lambda groups, det, progress=None, seed=0, **kw: seen.update(kw) or [])
    monkeypatch.setattr(run.ceiling, "measure",
                        lambda s, dts: seen.update(ceiling_s=s, ceiling_dtypes=dts) or {})
    monkeypatch.setattr(peaks, "machine_peaks", lambda s: seen.update(peaks_s=s) or {})
    monkeypatch.setattr(machine, "compile_times", lambda: {})
    monkeypatch.setattr(worker, "SETTLE_S", 0.0)
    monkeypatch.setattr(G, "TARGETS", ((2, 3, 20),))
    settings = dict(headline_budget_s=0.7, samples=4, sample_s=0.0, memory_below_s=1e-9,
                    peaks_s=0.01, workers=1,
                    ceiling_s=0.02, ceiling_dtypes=("float64",),
                    rounds=dict(rounds=3, min_rounds=2))
    cells, _ = G.cells("quick", backends=["numpy"], ops=["cost_and_grads"], m=[20], n_h=[3])
    path = run.sweep(cells, 0.2, str(tmp_path), progress=False, detector=QuietMachine(),
                     settings=settings, isolate=False)
    header, (rec,) = load(path)
    assert rec["headline"] and rec["budget_s"] == 0.7 and rec["rounds"] == 3  # sample_s spent
    assert rec["mem_skipped"] and rec["mem_traced_bytes"] is None  # no call is that fast
    assert header["settings"] == dict(settings, ceiling_dtypes=["float64"])  # JSON
    assert seen == dict(peaks_s=0.01, ceiling_s=0.02, ceiling_dtypes=("float64",), rounds=3,
                        min_rounds=2)


def test_the_reference_runs_once_per_shape_in_a_sweep(tmp_path, monkeypatch, plumbing):
    calls = []
    real = checks.reference
    monkeypatch.setattr(checks, "reference", lambda c, *a: calls.append(c.key) or real(c, *a))
    cells, _ = G.cells("quick", backends=["python", "numpy", "numba"],
                       ops=["cost_and_grads", "forward"], m=[50], n_h=[3])
    path = _plumbing_sweep(tmp_path, cells, budget=0.2)
    recs = load(path)[1]
    assert {r["status"] for r in recs} == {"ok"}
    # the step's reference result is computed once, by the first other backend, and kept (not
    # at all when numpy's own step ran first); forward's cache is not kept
    first = min((r for r in recs if r["op"] == "cost_and_grads"), key=lambda r: r["order"])
    steps = [k.split("|")[0] for k in calls if k.split("|")[1] == "cost_and_grads"]
    assert steps == ([] if first["backend"] == "numpy" else [first["backend"]])
    assert sorted(k.split("|")[0] for k in calls if k.split("|")[1] == "forward") == [
        "numba", "python"]


def test_an_m_or_n_h_given_alone_runs_at_n_x_2_as_the_help_says():
    for kw in (dict(m=[1000]), dict(n_h=[4])):
        cells, _ = G.cells("targets", backends=["numpy"], ops=["cost_and_grads"], **kw)
        assert {c.n_x for c in cells} == {2}, kw
    cells, _ = G.cells("targets", backends=["numpy"], ops=["cost_and_grads"], m=[1000],
                       n_x=[784])
    assert {c.n_x for c in cells} == {784}
