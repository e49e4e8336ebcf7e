"""Each figure's data selection, on small synthetic frames (no drawing)."""

import numpy as np
import pandas as pd
import pytest

from fastnn.backends import HEADLINE, REFERENCE
from fastnn.report import select as S
from fastnn.report.text import compute_peaks, fmt_ratio, faster_or_slower, headline
from fastnn.bench.grid import TARGETS

OTHER = "python"  # any registered backend other than HEADLINE and REFERENCE would do


def _cell(backend, m, n_h, t, dtype="float64", threads=0, status="ok", disturbed=False, n_x=2,
          **kw):
    rec = dict(backend=backend, op=S.STEP, m=m, n_h=n_h, n_x=n_x, dtype=dtype, threads=threads,
               hidden="tanh", output="sigmoid", status=status, disturbed=disturbed,
               median_s=t if status == "ok" else None, q1_s=t, q3_s=t, iqr_s=0.0,
               predicted_s=None if status == "ok" else t, mem_traced_bytes=None,
               mem_rss_bytes=None, gflops=1.0, gbs=1.0, flops=1, bytes=1, message="")
    rec.update(kw)
    return rec


def _frame(recs):
    return pd.DataFrame(recs)


def test_threads_grouped_by_dtype_and_ordered_one_to_all():
    recs = []
    for dt, scale in (("float64", 1.0), ("float32", 0.5)):
        for th, t in ((0, 1.0), (1, 4.0), (2, 2.0)):
            recs.append(_cell(HEADLINE, 10_000, 64, scale * t, dtype=dt, threads=th))
    t = S.select_threads(_frame(recs))
    assert set(t.dtype) == {"float64", "float32"}
    for dt, g in t.groupby("dtype"):
        assert list(g.label) == ["1", "2", "all"]
        assert list(g.speedup) == pytest.approx([1.0, 2.0, 4.0])  # within one dtype only


def test_threads_needs_one_thread_and_another_count():
    recs = [_cell(HEADLINE, 100, 4, 1.0, threads=0), _cell(HEADLINE, 100, 4, 1.0, threads=2)]
    assert S.select_threads(_frame(recs)).empty
    recs.append(_cell(HEADLINE, 100, 4, 3.0, threads=1, disturbed=True))
    assert S.select_threads(_frame(recs)).empty  # a busy 1-thread cell is no baseline


def test_threads_uses_largest_m_with_a_pair():
    recs = [_cell(REFERENCE, 1000, 4, 2.0, threads=1), _cell(REFERENCE, 1000, 4, 1.0),
            _cell(REFERENCE, 10_000, 4, 1.0)]  # no 1-thread cell at the larger m
    t = S.select_threads(_frame(recs))
    assert set(t.m) == {1000}


def test_speedup_over_reference_per_nh_skips_busy_and_single_points():
    recs = []
    for nh in (4, 64):
        for m in (100, 10_000):
            recs.append(_cell(REFERENCE, m, nh, 2.0))
            recs.append(_cell(HEADLINE, m, nh, 1.0, disturbed=(nh == 4 and m == 100)))
    recs += [_cell(REFERENCE, 10**6, 128, 2.0), _cell(HEADLINE, 10**6, 128, 0.5)]
    r = S.select_speedup(_frame(recs))
    assert set(r.backend) == {HEADLINE}
    assert sorted(r.n_h.unique()) == [64]  # n_h=4 keeps one reliable m, n_h=128 one m
    assert list(r.speedup) == pytest.approx([2.0, 2.0])


def test_heatmap_crossovers_only_in_rows_that_change_sign():
    piv = np.array([[0.5, 0.8, 2.0, 3.0],   # crosses between columns 1 and 2
                    [2.0, 2.0, 3.0, 4.0],    # never crosses
                    [0.5, np.nan, np.nan, 2.0],  # crosses across a gap
                    [2.0, 0.5, 2.0, np.nan]])  # crosses twice
    assert S.heatmap_crossovers(piv) == [(0, 1.5), (2, 1.5), (3, 0.5), (3, 1.5)]


def test_heatmap_pivot_from_reliable_cells():
    recs = []
    for nh in (4, 64):
        for m in (10, 1000):
            recs += [_cell(REFERENCE, m, nh, 1.0), _cell(HEADLINE, m, nh, 0.5 if m > 10 else 2.0)]
    piv = S.select_heatmap(_frame(recs))
    assert piv.shape == (2, 2)
    assert S.heatmap_crossovers(piv.values) == [(0, 0.5), (1, 0.5)]
    assert S.select_heatmap(_frame(recs[:4])) is None  # one n_h only


def test_time_vs_m_drops_lines_with_one_point():
    recs = [_cell(REFERENCE, 10**6, 64, 1.0), _cell(HEADLINE, 10**6, 64, 1.0),
            _cell(REFERENCE, 10, 4, 1.0), _cell(REFERENCE, 100, 4, 1.0)]
    d = S.select_time_vs_m(_frame(recs))
    assert set(zip(d.backend, d.n_h)) == {(REFERENCE, 4)}


def test_time_vs_nh_needs_two_nh_at_one_m():
    recs = [_cell(REFERENCE, 10**6, 4, 1.0), _cell(REFERENCE, 10**4, 64, 1.0)]
    assert S.select_time_vs_nh(_frame(recs)).empty
    recs.append(_cell(REFERENCE, 10**4, 16, 1.0))
    assert set(S.select_time_vs_nh(_frame(recs)).n_h) == {16, 64}


def test_memory_jumps_name_the_measure_switch_and_the_step():
    recs = []
    for m in (1, 10, 100, 1000, 10_000):
        recs.append(_cell(OTHER, m, 4, 1.0, mem_traced_bytes=1000,
                          mem_rss_bytes=0 if m < 1000 else 100 * m))
        recs.append(_cell(HEADLINE, m, 4, 1.0, mem_traced_bytes=5000 if m < 100 else 10_000,
                          mem_rss_bytes=0))
        recs.append(_cell(REFERENCE, m, 4, 1.0, mem_traced_bytes=80 * m + 100,
                          mem_rss_bytes=0))
    sel = S.select_memory(_frame(recs))
    j = S.memory_jumps(sel)
    got = {(r.backend, r.m0, r.m1, r.kind) for r in j.itertuples()}
    assert got == {(OTHER, 100, 1000, "measure"), (HEADLINE, 10, 100, "step")}
    # a switch of measure with growth that m explains (×2.99 for 3× m) is no jump
    import pandas as pd
    lin = pd.DataFrame(dict(backend=[OTHER] * 2, m=[10**6, 3 * 10**6], mem=[2.1e9, 6.3e9],
                            by_rss=[True, False]))
    assert S.memory_jumps(lin).empty


def test_fmt_ratio_and_direction_refuse_nonsense():
    assert fmt_ratio(-0.644) == "–" and fmt_ratio(float("inf")) == "–" and fmt_ratio(0) == "–"
    assert fmt_ratio(2.5) == "2.5×"
    assert faster_or_slower(1.0, 0.0) is None and faster_or_slower(-1.0, 2.0) is None
    assert faster_or_slower(1.0, 4.0) == "4× faster"
    assert faster_or_slower(2.0, 1.0) == "2× slower"


def test_headline_has_one_row_per_target_and_says_why_a_number_is_missing():
    nx, nh, m = TARGETS[0]
    recs = [_cell(HEADLINE, m, nh, 0.01, n_x=nx), _cell(REFERENCE, m, nh, 0.1, n_x=nx)]
    if len(TARGETS) > 1:
        nx1, nh1, m1 = TARGETS[1]
        recs.append(_cell(HEADLINE, m1, nh1, 42.0, n_x=nx1, status="over_budget"))
    if len(TARGETS) > 2:
        nx2, nh2, m2 = TARGETS[2]
        recs.append(_cell(HEADLINE, m2, nh2, 0.01, n_x=nx2, disturbed=True))
    md = headline(_frame(recs), 100.0, 10.0)
    body = md.splitlines()[2:]
    assert len(body) == len(TARGETS)
    assert "10×" in body[0]
    if len(TARGETS) > 1:
        assert "not measured: predicted 42 s" in body[1]
    if len(TARGETS) > 2:
        assert "busy" in body[2]
    assert "not in these results" in headline(_frame(recs[1:2]), None, None).splitlines()[2]


def test_compute_peaks_pick_the_highest_and_name_its_kernel():
    peaks = {"peak_gflops": 150.0, "gemm_gflops": 120.0, "gemm_n": 2048, "fma_gflops": 150.0,
             "fma_kernel": "AVX2 FMA loop", "fma32_gflops": 300.0, "peak_gbs": 40.0}
    cps = compute_peaks(peaks, "Haswell")
    assert cps == [(150.0, "AVX2 FMA loop"), (120.0, "float64 GEMM, n = 2048, OpenBLAS's "
                                                     "Haswell kernel")]
    assert compute_peaks(peaks, "Haswell", "float32") == [(300.0, "AVX2 FMA loop, float32")]
    old = {"peak_gflops": 120.0, "gemm_n": 2048, "peak_gbs": 40.0}  # before the FMA kernel
    assert compute_peaks(old, "Haswell") == [(120.0, "float64 GEMM, n = 2048, OpenBLAS's "
                                                     "Haswell kernel")]
    assert compute_peaks({}) == []


def test_heatmap_keeps_a_busy_column_and_marks_it():
    recs = []
    for nh in (4, 64):
        for m in (10, 100, 1000):
            recs += [_cell(REFERENCE, m, nh, 1.0),
                     _cell(HEADLINE, m, nh, 0.5 if m > 10 else 2.0, disturbed=(m == 100))]
    df = _frame(recs)
    piv = S.select_heatmap(df)
    assert list(piv.columns) == [10, 100, 1000]
    assert np.isnan(piv[100]).all()
    assert S.heatmap_busy(df, piv) == [(0, 1), (1, 1)]
    assert S.heatmap_crossovers(piv.values) == [(0, 1.0), (1, 1.0)]  # across the busy gap


def test_large_ratios_are_written_out():
    assert fmt_ratio(3021.4) == "3,021×" and faster_or_slower(1.0, 1400.2) == "1,400× faster"


def _ceiling_cells(shapes, t=0.01, dtype="float64"):
    """HEADLINE cells at ``shapes`` with the harness's FLOP and byte counts."""
    from types import SimpleNamespace
    from fastnn.bench.worker import work
    recs = []
    for nx, nh, m in shapes:
        flops, nbytes = work(SimpleNamespace(op=S.STEP, hidden="tanh", dtype=dtype, m=m,
                                             n_h=nh, n_x=nx, n_y=1))
        recs.append(_cell(HEADLINE, m, nh, t, n_x=nx, dtype=dtype, flops=flops, bytes=nbytes,
                          gflops=flops / t / 1e9))
    return _frame(recs)


CEILING = {"float64": {"tanh_s": 5e-10, "fma_s": 7e-11}, "float32": {"tanh_s": 6e-10,
                                                                    "fma_s": 2e-11}}


def test_ceiling_in_gflops_gives_the_headline_tables_share_of_the_ceiling():
    shapes = [t for t in TARGETS if t[0] == 2] or [(2, 4, 1000), (2, 64, 1000)]
    df = _ceiling_cells(shapes)
    header = {"ceiling": CEILING, "peaks": {"fma_gflops": 100.0, "fma32_gflops": 200.0}}
    c = S.select_ceiling(df, header).set_index("n_h")
    assert list(c.index) == sorted({nh for _, nh, _ in shapes})
    table = headline(df, None, None, ceiling=CEILING, fma_gflops=100.0)
    for r in df.itertuples():  # the figure's height over the line is the table's percentage
        # one tanh and 2·n_x + 4 = 8 multiply-adds at 2 FLOPs / (100 GFLOP/s) each
        t_ceil = r.m * r.n_h * (5e-10 + 8 * 2e-11)
        assert c.gflops[r.n_h] == pytest.approx(r.flops / t_ceil / 1e9)
        assert c.intensity[r.n_h] == pytest.approx(r.flops / r.bytes)
        assert f"| {100 * r.gflops / c.gflops[r.n_h]:.0f} %" in table
    df32 = _ceiling_cells(shapes, dtype="float32")
    c32 = S.select_ceiling(pd.concat([df, df32]), header, "float32").set_index("n_h")
    nh = shapes[0][1]  # float32: its own tanh, multiply-adds at the float32 FMA peak
    t32 = shapes[0][2] * nh * (6e-10 + 8 * 1e-11)
    assert c32.gflops[nh] == pytest.approx(df32.flops.iloc[0] / t32 / 1e9)
    # at the float32 cells' own intensity (half the bytes), not the float64 cells'
    assert c32.intensity[nh] == pytest.approx(df32.flops.iloc[0] / df32.bytes.iloc[0])
    assert c32.intensity[nh] > c.intensity[nh]


def test_ceiling_is_left_out_when_not_measured():
    df = _ceiling_cells([(2, 4, 1000)])
    assert S.select_ceiling(df, {}).empty
    assert S.select_ceiling(df, {"ceiling": {"float64": CEILING["float64"]}}, "float32").empty
    assert S.select_ceiling(df, {"ceiling": CEILING}, "float32").empty  # no float32 cells
    # without an FMA peak the L1-streamed multiply-add prices it
    c = S.select_ceiling(df, {"ceiling": CEILING})
    assert c.gflops.iloc[0] == pytest.approx(df.flops.iloc[0] / (4000 * (5e-10 + 8 * 7e-11)) / 1e9)
    # every step is one compiled pass, at any n_x: a wide input has a ceiling too
    wide = _ceiling_cells([(64, 4, 1000)])
    assert not S.select_ceiling(wide, {"ceiling": CEILING}).empty


def test_roofline_draws_the_ceiling_and_labels_the_headline_cells(tmp_path, monkeypatch):
    shapes = [t for t in TARGETS if t[0] == 2]
    if not shapes:
        pytest.skip("no headline shape at n_x = 2")
    df = _ceiling_cells(shapes)
    df = pd.concat([df, _ceiling_cells(shapes, t=0.1).assign(backend=REFERENCE),
                    _ceiling_cells(shapes, t=0.005, dtype="float32")])
    drawn = _draw_roofline(df, tmp_path, monkeypatch)
    fig = drawn["fig"]
    assert fig.file == "fig7_roofline.png" and "this step's own float64 ceiling" in fig.caption
    assert "the same in float32" in fig.caption
    c = S.select_ceiling(df, ROOF_HEADER).set_index("n_h").gflops
    for nx, nh, m in shapes:  # one label per headline cell, with its share of the ceiling
        hd = df[(df.backend == HEADLINE) & (df.n_h == nh) & (df.m == m)].iloc[0]
        share = f"{100 * hd.gflops / c[nh]:.0f} % of this step's ceiling"
        assert f"{HEADLINE}, n_h = {nh}, m = {m:,}\n{share}" in drawn["texts"]
    assert len(drawn["texts"]) == len(shapes)
    for dt in ("float64", "float32"):
        assert any(s.startswith(f"this step's ceiling, {dt}") for s in drawn["legend"]), dt


ROOF_HEADER = {"ceiling": CEILING, "peaks": {"fma_gflops": 100.0, "fma32_gflops": 200.0,
                                             "fma_kernel": "FMA loop", "peak_gbs": 20.0}}


def _draw_roofline(df, tmp_path, monkeypatch, header=ROOF_HEADER):
    """fig_roofline on ``df``: its Fig, texts and legend entries."""
    from fastnn.plotting import colours
    from fastnn.report import figures as F
    drawn = {}

    def keep(fig, out, name, figures=None):
        drawn["texts"] = [t.get_text() for ax in fig.axes for t in ax.texts]
        drawn["legend"] = [t.get_text() for lg in fig.legends for t in lg.get_texts()]
        return name
    monkeypatch.setattr(F, "save", keep)
    drawn["fig"] = F.fig_roofline(df, [("run", header)], str(tmp_path),
                                  colours(df.backend), [])
    return drawn


def test_roofline_of_float32_cells_labels_them_with_the_float32_ceiling(tmp_path, monkeypatch):
    shapes = [t for t in TARGETS if t[0] == 2]
    if not shapes:
        pytest.skip("no headline shape at n_x = 2")
    df = _ceiling_cells(shapes, dtype="float32")  # a results file without float64 step cells
    tanh32 = 1e-10  # a float32 ceiling far from the float64 one, so the shares tell them apart
    header = dict(ROOF_HEADER, ceiling=dict(CEILING, float32={"tanh_s": tanh32, "fma_s": 2e-11}))
    drawn = _draw_roofline(df, tmp_path, monkeypatch, header)
    for nx, nh, m in shapes:
        hd = df[(df.n_h == nh) & (df.m == m)].iloc[0]
        # one float32 tanh and 2·n_x + 4 = 8 multiply-adds at 2 FLOPs / (200 GFLOP/s) each
        ceiling = hd.flops / (m * nh * (tanh32 + 8 * 1e-11)) / 1e9
        share = f"{100 * hd.gflops / ceiling:.0f} % of this step's ceiling"
        assert f"{HEADLINE}, n_h = {nh}, m = {m:,}\n{share}" in drawn["texts"]
    assert [s for s in drawn["legend"] if s.startswith("this step's ceiling")] == [
        s for s in drawn["legend"] if s.startswith("this step's ceiling, float32")]
    cap = drawn["fig"].caption
    assert "The cells shown are float32" in cap and "own float32 ceiling" in cap
    assert "float64" not in cap


def test_the_step_ceiling_drawn_never_lies_above_the_machines_roof(tmp_path, monkeypatch):
    shapes = [t for t in TARGETS if t[0] == 2] or [(2, 4, 1000), (2, 64, 1000)]
    df = pd.concat([_ceiling_cells(shapes), _ceiling_cells(shapes, dtype="float32")])
    # a slow memory: the roof's slope crosses the compute-only ceilings inside the figure
    header = dict(ROOF_HEADER, peaks=dict(ROOF_HEADER["peaks"], peak_gbs=2.0))
    lines = {}
    from fastnn.report import figures as F

    def keep(fig, out, name, figures=None):
        for ln in fig.axes[0].lines:
            lines[ln.get_label()] = (np.asarray(ln.get_xdata()), np.asarray(ln.get_ydata()))
        return name
    monkeypatch.setattr(F, "save", keep)
    F.fig_roofline(df, [("run", header)], str(tmp_path), {b: "k" for b in df.backend}, [])
    (P, _), B = compute_peaks(header["peaks"])[0], header["peaks"]["peak_gbs"]
    ceilings = {k: v for k, v in lines.items() if k.startswith("this step's ceiling")}
    assert len(ceilings) == 2
    for x, y in ceilings.values():
        assert (y <= np.minimum(P, B * x) * (1 + 1e-9)).all()
    unclipped = S.select_ceiling(df, header)
    x, y = next(v for k, v in ceilings.items() if ", float64" in k)
    low = x < unclipped.intensity.min()
    assert low.any() and (y[low] < unclipped.gflops.iloc[0]).any()  # the roof bounds it there


def _paired_doc():
    """A paired file written with another estimator than today's (so :func:`paired.current`
    computes its comparisons): at the float32 headline shape numba against numpy (whose rounds
    fall into two memory cases) and numpy-inplace, and numba's float32 step against numpy's
    float32 step and its own float64 step."""
    from fastnn.bench import stats
    from fastnn.bench.grid import FLOAT32_TARGETS
    from fastnn.bench.records import PairedDoc, Series, SideRounds
    nx, nh, m = FLOAT32_TARGETS[0]
    rng = np.random.default_rng(7)
    n = 8
    times = {("numba", "float64"): [0.05] * n, ("numba", "float32"): [0.02] * n,
             ("numpy", "float64"): [0.6, 0.61, 2.0, 0.62, 2.1, 0.6, 2.05, 0.61],
             ("numpy-inplace", "float64"): [0.4] * n, ("numpy", "float32"): [0.3] * n}
    sides = [SideRounds(b, dtype=dt, m_run=m, round_ids=list(range(n)),
                        rounds_s=list(np.asarray(v) * (1 + 0.02 * rng.random(n))),
                        system_s=[0.0] * n, others_s=[0.0] * n) for (b, dt), v in times.items()]
    s = Series("cost_and_grads", nx, nh, m, sides=sides, canary_gflops=[None] * n,
               passes=[0] * n)
    other = next(e for e in ("median", "mean") if e != stats.ESTIMATOR)
    return PairedDoc(run_id="r", estimator=other, series=[s])


def test_the_paired_figure_plots_the_comparisons_the_tables_quote(tmp_path, monkeypatch):
    from fastnn.bench import paired
    from fastnn.report import figures as F
    from fastnn.report import first as FS
    raw = _paired_doc()
    doc = paired.current(raw)
    marks = [mk for _, ms in F.paired_marks({}, doc) for mk in ms]
    # the objects the first screen holds, not numbers computed again
    cells = [c for r in FS.numbers({}, doc).rows for c in r.cells.values() if c]
    assert all(any(mk.comparison is c for c in doc.pairs) for mk in marks)
    assert any(mk.comparison is c for mk in marks for c in cells)
    # their values: today's comparisons of the same rounds, each once; numba vs numpy given
    # per memory case, as its table cell gives it
    key = lambda c: (c.baseline, c.baseline_dtype, c.dtype, c.case)  # noqa: E731
    fresh = {key(c): (c.ratio, c.lo, c.hi) for c in paired.current(raw).pairs}
    assert {key(mk.comparison): (mk.comparison.ratio, mk.comparison.lo, mk.comparison.hi)
            for mk in marks} == {k: v for k, v in fresh.items()
                                 if k != ("numpy", "float64", "float64", "")}
    assert len(marks) == len(fresh) - 1
    assert {mk.kind for mk in marks} == {"case", "all", "float32"}
    assert any("fast case" in mk.label for mk in marks)
    drawn = {}

    def keep(fig, out, name, figures=None):
        for ax in fig.axes:
            for ln in ax.lines:
                if (ln.get_gid() or "").startswith("paired:"):
                    drawn[ln.get_gid()[7:]] = float(ln.get_xdata()[0])
        return name
    monkeypatch.setattr(F, "save", keep)
    fig = F.fig_paired({}, doc, str(tmp_path), {}, [])
    assert fig.file == "fig2_paired_speedup.png"
    assert drawn == {mk.label: mk.comparison.ratio for mk in marks}
    assert "bootstrap interval" in fig.caption
    assert f"paired {F._PLURAL[doc.estimator]}" in fig.caption  # "paired minima"


def test_the_paired_figure_is_left_out_with_a_reason_without_a_paired_file(tmp_path):
    from fastnn.bench.records import PairedDoc
    from fastnn.report import figures as F
    fig = F.fig_paired({}, PairedDoc(), str(tmp_path), {}, [])
    assert fig.file is None and "paired.json" in fig.why_not
    assert not list(tmp_path.iterdir())


def test_roofline_circles_the_headline_cells_at_the_tables_fastest_round(tmp_path, monkeypatch):
    """Given the headline table's fastest-round times, the circled points and their shares
    are the table's, not the cells' medians, and say so."""
    shapes = [t for t in TARGETS if t[0] == 2]
    if not shapes:
        pytest.skip("no headline shape at n_x = 2")
    df = _ceiling_cells(shapes)
    rounds = {}
    for nx, nh, m in shapes:  # the rounds ran twice as fast as the cells' medians
        rounds[(nx, nh, m)] = df[(df.n_h == nh) & (df.m == m)].median_s.iloc[0] / 2
    from fastnn.plotting import colours
    from fastnn.report import figures as F
    drawn = {}

    def keep(fig, out, name, figures=None):
        drawn["texts"] = [t.get_text() for ax in fig.axes for t in ax.texts]
        return name
    monkeypatch.setattr(F, "save", keep)
    fig = F.fig_roofline(df, [("run", ROOF_HEADER)], str(tmp_path), colours(df.backend), [],
                         rounds)
    c = S.select_ceiling(df, ROOF_HEADER).set_index("n_h").gflops
    for nx, nh, m in shapes:
        hd = df[(df.n_h == nh) & (df.m == m)].iloc[0]
        share = f"{100 * 2 * hd.gflops / c[nh]:.0f} % of this step's ceiling"
        assert f"{HEADLINE}, n_h = {nh}, m = {m:,}\nfastest round, {share}" in drawn["texts"]
    assert "fastest round's time" in fig.caption


def test_a_short_log_axis_of_m_is_labelled_at_its_points():
    """m = 1e6 and 3e6 hold one power of ten between them: both points get a label; a long
    axis keeps its powers of ten."""
    from fastnn.plotting import subplots
    from fastnn.report import figures as F
    fig, (short, long_) = subplots(1, 2)
    short.plot([1e6, 3e6], [1.0, 2.0])
    long_.plot([1e2, 1e4, 1e6], [1.0, 2.0, 3.0])
    F._log_axes(short)
    F._log_axes(long_)
    fig.canvas.draw()
    assert [t.get_text() for t in short.get_xticklabels()] == ["1e6", "3e6"]
    assert "1e4" not in [t.get_text() for t in long_.get_xticklabels()]
