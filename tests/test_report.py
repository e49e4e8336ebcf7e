"""The report: built from synthetic results, numbers follow the data, fits, bad input."""

import json
import os
import re

import numpy as np
import pytest

from fastnn.bench import grid as G
from fastnn.report import build, crossover, fit_scaling, load_results
from fastnn.bench.store import FORMAT, ResultsError
from fastnn.report import figures as F


@pytest.fixture(params=["unrendered", pytest.param("rendered", marks=pytest.mark.slow)])
def figures_unrendered(request, monkeypatch):
    """For the tests of a report's text: every figure is built and named, but by default not
    rendered to its PNG (an empty file instead). Rendering is ~90 % of a build's time;
    test_report_from_synthetic_results and test_comparison_section_for_two_runs render every
    figure, and under ``-m slow`` these tests render theirs too."""
    if request.param == "unrendered":
        def save(fig, out, name, figures=None):
            open(os.path.join(out, name), "wb").close()
            if figures is not None:
                figures.append(name)
            return name
        monkeypatch.setattr(F, "save", save)


def _record(backend, m, n_h, t, op="cost_and_grads", threads=0, status="ok"):
    c = G.Cell(backend, op, m, n_h, threads=threads)
    rec = dict(c.params(), key=c.key, status=status, extrapolated=status == "over_budget",
               message="", median_s=t if status == "ok" else None)
    if status == "ok":
        rec.update(min_s=t * 0.95, q1_s=t * 0.97, q3_s=t * 1.03, iqr_s=t * 0.06, mean_s=t,
                   stddev_s=t * 0.02, rounds=5, calls_per_round=1, samples=[t] * 5,
                   first_call_s=t * (50 if backend == "numba" else 1),
                   compile_s=t * 49 if backend == "numba" else None,
                   mem_traced_bytes=(8 * 10 * n_h * m if backend == "numpy" else 1000),
                   mem_rss_bytes=None, flops=20 * n_h * m, bytes=24 * m,
                   gflops=20 * n_h * m / t / 1e9, gbs=24 * m / t / 1e9)
    else:
        rec["predicted_s"] = t
    return rec


def _write(path, records, compile_cold=2.0):
    path.parent.mkdir(parents=True, exist_ok=True)
    header = {"format": FORMAT, "datetime": "2026-11-27T00:00:00+00:00", "command": "test",
              "machine_info": {"cpu": {"count": 2, "brand_raw": "Test CPU"}, "numpy": "x",
                               "blas": [{"internal_api": "openblas", "version": "0.3",
                                         "architecture": "Haswell", "num_threads": 2}]},
              "commit_info": {"id": "abc"},
              "peaks": {"peak_gflops": 50.0, "peak_gbs": 20.0, "gemm_n": 2048},
              "compile": {"compile_cold_s": compile_cold, "compile_cached_s": 0.1}}
    with open(path, "w") as f:
        for r in [header] + records:
            f.write(json.dumps(r) + "\n")
    return str(path)


def _synthetic(numba_scale=1.0):
    recs = []
    for n_h in (4, 64):
        for m in (1, 100, 10_000, 1_000_000):
            recs.append(_record("python", m, n_h, 1e-6 + 1e-6 * n_h * m)
                        if m <= 10_000 else
                        _record("python", m, n_h, 1e-6 * n_h * m, status="over_budget"))
            recs.append(_record("numpy", m, n_h, 2e-5 + 6e-9 * n_h * m))
            recs.append(_record("numba", m, n_h, numba_scale * (1e-5 + 1e-9 * n_h * m)))
        recs.append(_record("numba", 1_000_000, n_h, 1e-3 * n_h, threads=1))
        recs.append(_record("numpy", 1_000_000, n_h, 6e-3 * n_h, threads=1))
    return recs


def test_report_from_synthetic_results(tmp_path, matplotlib_untouched):
    path = _write(tmp_path / "results.jsonl", _synthetic())
    index = build([path], str(tmp_path / "out"))
    text = open(index).read()
    pngs = sorted(p.name for p in (tmp_path / "out").glob("*.png"))
    assert len(pngs) >= 6, pngs
    for p in pngs:
        assert f"({p})" in text
    assert (tmp_path / "out" / "results.csv").exists()
    assert "Test CPU" in text and "Haswell" in text
    assert "over their time budget" in text
    assert "headline shapes (paired): this run has no paired comparisons" in text  # said why
    # numpy ÷ numba at n_h=64, m=1e6 = (2e-5 + 0.384) / (1e-5 + 0.064)
    want = (2e-5 + 6e-9 * 64e6) / (1e-5 + 1e-9 * 64e6)
    assert f"{want:.3g}×" in text
    # break-even: a 2 s cold compile over (0.38402 - 0.06401) s saved per step at n_h=64, m=1e6
    assert "n_h = 64: at m = 1,000,000 numba saves 320 ms per step" in text
    assert "pays off after 7 steps" in text  # 6.25 steps' worth: the 7th pays it off


def test_numbers_in_text_follow_the_data(tmp_path, figures_unrendered):
    a = build([_write(tmp_path / "a.jsonl", _synthetic(1.0))], str(tmp_path / "a"))
    b = build([_write(tmp_path / "b.jsonl", _synthetic(2.0))], str(tmp_path / "b"))
    ta, tb = open(a).read(), open(b).read()
    pattern = r"`numba` takes ([^ ]+ \S+) per step and `numpy` \S+ \S+: numpy ÷ numba = ([\d.]+)×"
    ra, rb = re.search(pattern, ta), re.search(pattern, tb)
    assert ra and rb and ra.groups() != rb.groups()
    assert float(ra.group(2)) == pytest.approx(2 * float(rb.group(2)), rel=0.01)


def test_comparison_section_for_two_runs(tmp_path):
    (tmp_path / "r1").mkdir()
    (tmp_path / "r2").mkdir()
    p1 = _write(tmp_path / "r1" / "results.jsonl", _synthetic(1.0))
    p2 = _write(tmp_path / "r2" / "results.jsonl", _synthetic(2.0))
    text = open(build([p1, p2], str(tmp_path / "out"))).read()
    assert "## Comparison of runs" in text and "fig9_comparison.png" in text
    assert re.search(r"\| numba\s+\|\s+0\.5 \|", text)
    assert re.search(r"\| numpy\s+\|\s+1\s+\|", text)


@pytest.mark.parametrize("a, b, k", [(1e-5, 2e-8, 1.0), (0.0, 3e-7, 0.8), (5e-4, 1e-9, 1.3)])
def test_fit_recovers_known_parameters(a, b, k):
    m = np.logspace(0, 7, 15)
    fit = fit_scaling(m, a + b * m**k)
    assert fit["k"] == pytest.approx(k, abs=0.002)
    assert fit["b"] == pytest.approx(b, rel=0.02)
    assert fit["a"] == pytest.approx(a, rel=0.02, abs=1e-9)
    assert fit["rel_rms"] < 1e-3


def test_crossover():
    slow_start = {"a": 1e-3, "b": 1e-9, "k": 1.0}
    fast_start = {"a": 1e-5, "b": 1e-8, "k": 1.0}
    mx = crossover(fast_start, slow_start)
    assert mx == pytest.approx((1e-3 - 1e-5) / (1e-8 - 1e-9), rel=0.01)
    assert crossover(slow_start, fast_start) is None  # fast_start loses at large m
    assert crossover(slow_start, {"a": 1e-5, "b": 1e-10, "k": 1.0}) == 1.0
    assert fit_scaling([1, 2], [1, 2]) is None


def test_bad_results_files(tmp_path):
    with pytest.raises(ResultsError, match="no such results file"):
        build([str(tmp_path / "missing.jsonl")], str(tmp_path / "o"))
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(ResultsError, match="empty.jsonl: the file is empty"):
        build([str(tmp_path / "empty.jsonl")], str(tmp_path / "o"))
    (tmp_path / "foreign.jsonl").write_text('{"benchmarks": []}\n')
    with pytest.raises(ResultsError, match="not a fastnn results file"):
        build([str(tmp_path / "foreign.jsonl")], str(tmp_path / "o"))
    rec = _record("numpy", 10, 4, 1e-5)
    del rec["median_s"]
    with pytest.raises(ResultsError, match="missing median_s"):
        build([_write(tmp_path / "cols.jsonl", [rec])], str(tmp_path / "o"))


def test_empty_grid_gives_a_short_report(tmp_path):
    index = build([_write(tmp_path / "r.jsonl", [])], str(tmp_path / "o"))
    assert "nothing to plot" in open(index).read()


def test_text_a_first_time_reader_can_trust(tmp_path, figures_unrendered):
    recs = _synthetic()
    for r in recs:  # a busy minute: the headline cells at m = 10,000 took a flat 8 ms
        if r["backend"] == "numba" and r["m"] == 10_000 and r["status"] == "ok":
            r.update(disturbed=True, median_s=8e-3, contention={"load": 2.0})
    text = open(build([_write(tmp_path / "r.jsonl", recs)], str(tmp_path / "o"))).read()
    top = text.split("## Headline")[0]
    assert "This run was disturbed" in top and "2 of" in top
    assert "built from the results of `test`" in top and "Generated by" not in text
    assert "numba at m = 10,000 (2 cells)" in text
    assert "8 ms" not in text  # a busy cell feeds no ratio, fit or sentence
    assert "None" not in text and "no rows" not in text and "issue" not in text
    assert not re.search(r"(-[\d.]+|inf|nan|\b0)×", text)
    # every target shape has a row; those not measured say so
    for nx, nh, m in G.TARGETS:
        assert f"n_x={nx}, n_h={nh}, m={m:,}" in text
    assert "not in these results" in text
    # fits need more points than parameters: 3 measured m for a, b, k is no fit
    assert re.search(r"\| numba\s+\|\s+4 \|", text) is None  # 3 quiet m at n_h=4
    assert "numba n_h=4 (3)" in text


def test_two_folders_with_the_same_name_are_two_runs(tmp_path, figures_unrendered):
    paths = []
    for host, scale in (("hostA", 1.0), ("hostB", 2.0)):
        (tmp_path / host / "latest").mkdir(parents=True)
        paths.append(_write(tmp_path / host / "latest" / "results.jsonl", _synthetic(scale)))
    text = open(build(paths, str(tmp_path / "out"))).read()
    assert "`hostA/latest` ÷ `hostB/latest`" in text
    assert "## Machine (hostA/latest)" in text and "## Machine (hostB/latest)" in text
    assert re.search(r"\| numba\s+\|\s+0\.5 \|", text)


def test_machine_table_omits_missing_fields_and_shows_new_ones(tmp_path, figures_unrendered):
    path = tmp_path / "r.jsonl"
    _write(path, _synthetic())
    lines = path.read_text().splitlines()
    h = json.loads(lines[0])
    h["machine_info"]["blas"].append({"internal_api": "openmp", "version": None,
                                      "architecture": None, "num_threads": 2,
                                      "filepath": "/usr/lib/libgomp.so.1"})
    h["machine_info"]["cpu"].update(vendor="AuthenticAMD", family=25, model=1, mhz=2450.0,
                                    simd=["avx2", "fma"])
    h["machine_info"]["peers"] = {"torch": "2.5.0", "jax": None}
    h["peaks"].update(fma_gflops=80.0, fma_kernel="FMA microkernel: 12 chains of 256-bit",
                      gemm_gflops=50.0, gemm_kernel="openblas Haswell kernel")
    path.write_text("\n".join([json.dumps(h)] + lines[1:]) + "\n")
    text = open(build([str(path)], str(tmp_path / "o"))).read()
    machine = text.split("## Machine")[1]
    assert "None" not in machine and "libgomp" in machine
    assert "AuthenticAMD, family 25, model 1, 2,450 MHz" in machine and "avx2 fma" in machine
    assert "torch 2.5.0" in machine and "jax (not installed)" in machine
    assert "80.0 GFLOP/s (FMA microkernel" in machine
    assert "80 GFLOP/s, by FMA microkernel" in text  # the roofline's ceiling names its kernel


def test_a_peaks_method_is_worded_as_older_files_wrote_it():
    """A header's peaks hold how each was reached as data (``*_method``); the report words it
    as the kernel strings of older files read (tests/data/old_run), and still shows those."""
    from fastnn.report.facts import compute_peaks, method
    old_run = os.path.join(os.path.dirname(__file__), "data", "old_run", "results.jsonl")
    with open(old_run, encoding="utf-8") as f:
        old = json.loads(f.readline())["peaks"]
    fma = dict(kind="fma", chains=12, bits=512, dtype="float64", threads=2)
    gemm = dict(kind="gemm", n=2048, dtype="float64",
                blas=dict(api="openblas", version="0.3.31.188.0", architecture="SkylakeX",
                          threads=2))
    assert method(fma) == old["fma_kernel"] and method(gemm) == old["gemm_kernel"]
    assert method(dict(gemm, blas=None)) == "dgemm n=2048 (unknown BLAS)"
    new = {k: v for k, v in old.items() if not k.endswith("_kernel")}
    new.update(fma_method=fma, gemm_method=gemm, peak_method=fma,
               fma32_method=dict(fma, dtype="float32"))
    assert compute_peaks(new) == compute_peaks(old)
    assert compute_peaks(new, dtype="float32") == compute_peaks(old, dtype="float32") == [
        (old["fma32_gflops"], old["fma_kernel"].replace("float64", "float32"))]


def test_a_rebuilt_report_replaces_only_what_it_wrote(tmp_path, figures_unrendered):
    """A report with fewer figures leaves none of the older run's figures behind, and never
    deletes a file fastnn did not write."""
    out = tmp_path / "out"
    full = _write(tmp_path / "a" / "results.jsonl", _synthetic())
    build([full], str(out))
    before = {p.name for p in out.glob("*.png")}
    (out / "notes.txt").write_text("mine")
    one_nh = [r for r in _synthetic() if r["n_h"] == 4 and r["threads"] == 0]
    small = _write(tmp_path / "b" / "results.jsonl", one_nh)
    text = open(build([small], str(out))).read()
    after = {p.name for p in out.glob("*.png")}
    assert after < before  # e.g. the heat map and thread scaling need more than one n_h / thread
    assert all(f"({p})" in text for p in after)
    assert (out / "notes.txt").read_text() == "mine"


def test_large_m_figure_ends_numpy_where_its_memory_does(tmp_path):
    recs = []
    for m in (1_000_000,) + tuple(s[2] for s in G.LARGE_M):
        for b in G.large_m_backends():
            c = G.Cell(b, "cost_and_grads", m, 64)
            rec = _record(b, m, 64, 1e-8 * 64 * m * (10 if b == "numpy" else 1))
            if b != "numba" and m >= 10_000_000:
                rec = dict(c.params(), key=c.key, status="skipped", median_s=None,
                           message=f"working set ~{m / 2.4e8:.1f} GiB exceeds the memory limit")
            else:
                rec["working_set_bytes"] = G.working_set_bytes(c)
            recs.append(rec)
    path = _write(tmp_path / "r.jsonl", recs)
    df, _ = load_results([path])
    from fastnn.plotting import colours
    figures = []
    fig = F.fig_large_m(df, str(tmp_path), colours(), figures)
    assert fig.file == "fig11_large_m.png" and (tmp_path / fig.file).stat().st_size > 0
    assert "numba 50,000,000" in fig.caption and "numpy 3,000,000" in fig.caption
    assert "numpy at m = 10,000,000: working set" in fig.caption
    # without the large m, no figure, and a reason
    small = df[df.m <= 1_000_000]
    assert F.fig_large_m(small, str(tmp_path), colours(), []).why_not


def test_each_section_computes_its_numbers_then_renders_them(tmp_path):
    """The sections' numbers (report/sections.py) are the data's; the template's words carry
    exactly those numbers."""
    from fastnn.report import sections
    path = _write(tmp_path / "results.jsonl", _synthetic())
    df, headers = load_results([path])
    n = sections.intro_numbers(df, [path], headers)
    assert (n.cells, n.ok, n.busy, n.runs) == (len(df), int((df.status == "ok").sum()), 0, 1)
    assert f"{n.cells} cells, {n.ok} measured" in sections.intro(df, [path], headers)[0]
    assert sections.render_intro(n) == sections.intro(df, [path], headers)
    v = sections.vectorise_numbers(df, None)
    line = next(r for r in v.lines if (r["n_h"], r["a"], r["b"]) == (64, "numpy", "numba"))
    assert line["m"] == 1_000_000
    assert line["t_a_s"] / line["t_b_s"] == pytest.approx((2e-5 + 6e-9 * 64e6) / (1e-5 + 0.064))
    assert line["said"] == f"{line['t_a_s'] / line['t_b_s']:.3g}× (unpaired)"
    s = sections.scaling_numbers(df, fit_scaling)
    assert s.fits["numba", 4]["k"] == pytest.approx(1.0, abs=0.02)
    assert ("python", 4, 3) in s.few  # three measured m: too few for three parameters
    (c4, c64) = sections.crossover_numbers(s.fits, crossover)
    # numba's fixed cost and slope are both below numpy's: faster from m = 1 on
    assert (c4.n_h, c4.m, c64.m) == (4, 1.0, 1.0)
    assert sections.crossovers(s.fits, crossover)[0].endswith(sections.CROSSOVER_ALWAYS)


def test_the_readme_block_links_the_reports_detail_from_the_readmes_folder(tmp_path,
                                                                           figures_unrendered):
    from fastnn.cli import main
    res = _write(tmp_path / "runs" / "r.jsonl", _synthetic())
    readme = tmp_path / "README.md"
    readme.write_text("# x\n\n<!-- result:begin -->\nold\n<!-- result:end -->\ntail\n")
    out = tmp_path / "reports" / "t"
    assert main(["report", res, "--out", str(out), "--readme", str(readme)]) == 0
    text = readme.read_text()
    assert "\nold\n" not in text and text.endswith("<!-- result:end -->\ntail\n")
    assert "(reports/t/index.md#the-first-screen-in-detail)" in text
    index = (out / "index.md").read_text()
    assert "\n## The first screen in detail\n" in index
    assert "(#the-first-screen-in-detail)" in index.split("\n## ")[0]


def test_every_m_gives_two_baselines_at_a_headline_shape_as_the_first_screen_does(tmp_path):
    """numpy ÷ numpy-inplace at a paired headline shape is the ratio of their fastest rounds
    (the first screen's "reuse"), not of the cells' medians; elsewhere it says unpaired."""
    from fastnn.bench.records import Comparison
    from fastnn.report import sections
    recs = _synthetic() + [_record("numpy-inplace", m, n_h, 1e-5 + 4e-9 * n_h * m)
                           for n_h in (4, 64) for m in (1, 100, 10_000, 1_000_000)]
    df, _ = load_results([_write(tmp_path / "results.jsonl", recs)])
    pairs = [Comparison("cost_and_grads", 2, 64, 10**6, b, "numba", t / 0.05, t / 0.05 * 0.99,
                        t / 0.05 * 1.01, t_baseline_s=t, t_contender_s=0.05)
             for b, t in (("numpy", 0.30), ("numpy-inplace", 0.24))]
    v = sections.vectorise_numbers(df, pairs)
    row = next(r for r in v.rows if (r["n_h"], r["m"]) == (64, "1,000,000"))
    assert row["numpy ÷ numpy-inplace"] == "1.25×"  # 0.30 / 0.24; the medians give 1.5×
    line = next(r for r in v.lines if (r["n_h"], r["a"], r["b"]) == (64, "numpy", "numpy-inplace"))
    assert (line["t_a_s"], line["t_b_s"]) == (0.30, 0.24)
    other = next(r for r in v.rows if (r["n_h"], r["m"]) == (4, "1,000,000"))
    assert other["numpy ÷ numpy-inplace"].endswith("(unpaired)")


def test_a_case_note_gives_both_sides_times_in_its_rounds():
    """A memory case's ratio is over its own rounds: its note gives both sides' times there, so
    the ratio can be checked against them (numba's time in a case's rounds may not be its
    fastest round of all)."""
    from fastnn.bench.records import Comparison
    from fastnn.bench.stats import Flag
    from fastnn.report.notes import flag_text
    kw = dict(op="fit", n_x=64, n_h=16, m=1797, baseline="torch", contender="numba")
    c = Comparison(**kw, ratio=4.0, lo=3.9, hi=4.1, rounds=15)
    k = Comparison(**kw, ratio=3.06, lo=3.0, hi=3.1, rounds=2, case="fast",
                   t_baseline_s=0.496, t_contender_s=0.162)
    text = flag_text(c, Flag.CASES.value, [k])
    assert "torch 496 ms, numba 162 ms in those rounds" in text
    k.steps = 2000  # a training run's times are its whole run's: the note gives them per step
    text = flag_text(c, Flag.CASES.value, [k])
    assert "torch 248 µs, numba 81 µs per step in those rounds" in text
