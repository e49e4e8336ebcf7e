"""What each figure and table shows: pure selections from the results frame (no drawing).

Every function takes the tidy frame of one run (one row per cell) and returns a small frame or
list; the figures draw exactly what these return, and ``tests/test_figures.py`` checks them on
synthetic frames. A cell measured while the machine was busy (``disturbed``) is never used for a
ratio, a fit or a conclusion: :func:`reliable` drops it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..backends import HEADLINE, REFERENCE
from ..bench.ceiling import ceiling_s
from ..bench.grid import FIT_OP, HEADLINE_OP

#: The training step, and a whole training run (timed per step): the harness's names.
STEP, FIT = HEADLINE_OP, FIT_OP
KEYS = ("op", "m", "n_h", "n_x", "dtype", "threads", "hidden", "output")


def disturbed(df):
    """Boolean Series: the cell was measured while the machine was busy (False when unknown)."""
    if "disturbed" not in df:
        return pd.Series(False, index=df.index)
    return df.disturbed.fillna(False).astype(bool)


def measured(df):
    """Cells with a timing (status ok), disturbed or not."""
    return df[df.status == "ok"].copy()


def reliable(df):
    """Measured cells on a quiet machine with a finite, positive median: the only ones used for
    ratios, fits, crossovers and the headline."""
    d = df[(df.status == "ok") & ~disturbed(df)]
    t = pd.to_numeric(d.median_s, errors="coerce")
    return d[np.isfinite(t) & (t > 0)].copy()


def step_view(df, op=STEP, dtype=None):
    """The training step (or another ``op``; tanh hidden layer) at one dtype (``dtype``, or
    float64 if present), all cores if measured, and the most common n_x: the slice figures 1–5
    and the fits read (with ``op="fit"``, the training-run figure)."""
    d = df[(df.op == op) & (df.hidden == "tanh")]
    if dtype is not None:
        d = d[d.dtype == dtype]
    if d.empty:
        return d
    dt = dtype or ("float64" if (d.dtype == "float64").any() else d.dtype.iloc[0])
    d = d[d.dtype == dt]
    th = 0 if (d.threads == 0).any() else d.threads.max()
    d = d[d.threads == th]
    return d[d.n_x == d.n_x.value_counts().idxmax()]


def ratio(df, num, den, keys=KEYS):
    """t_num ÷ t_den per common reliable cell (the speed-up of ``den`` over ``num``)."""
    r = reliable(df)
    a = r[r.backend == num].set_index(list(keys)).median_s
    b = r[r.backend == den].set_index(list(keys)).median_s
    return (a / b).dropna().reset_index(name="speedup")


def select_time_vs_m(df, op=STEP):
    """Per n_h, the backends with at least two m values (measured or extrapolated) of ``op``; a
    panel with one point per line says nothing about scaling, so such n_h are dropped."""
    d = step_view(df, op)
    d = d[d.status.isin(["ok", "over_budget"])]
    if d.empty:
        return d
    span = d.groupby(["n_h", "backend"]).m.transform("nunique")
    return d[span >= 2]


def select_fit_vs_m(df):
    """Time per step of a training run (``fit``) vs m: :func:`select_time_vs_m` of the op
    ``fit``, plus ``knee`` (bool), the point :func:`overhead_knees` names on each line."""
    d = select_time_vs_m(df, FIT)
    if d.empty:
        return d.assign(knee=pd.Series(dtype=bool))
    k = overhead_knees(d)
    at = set(zip(k.backend, k.n_h, k.m_knee))
    return d.assign(knee=[(b, nh, m) in at for b, nh, m in zip(d.backend, d.n_h, d.m)])


#: A step whose time stays within this factor of its value at the smallest m is dominated by
#: per-call overhead (:func:`overhead_knees`).
OVERHEAD_FACTOR = 2.0


def overhead_knees(d, factor=OVERHEAD_FACTOR):
    """Where per-call overhead stops dominating a training run's step, per backend and n_h.

    A step that costs mostly overhead barely grows with m; one that costs mostly the kernel
    grows with m. On each line of reliable cells (smallest m first), the knee is the largest
    m up to which the time per step stays within ``factor`` × its value at the smallest m.

    Returns
    -------
    DataFrame
        Columns backend, n_h, m0, t0 (the smallest m and its time per step), m_knee, t_knee,
        flat (True when the time never leaves the band: overhead at every m measured), m_max;
        only lines with two or more reliable m.
    """
    cols = ["backend", "n_h", "m0", "t0", "m_knee", "t_knee", "flat", "m_max"]
    rows = []
    for (b, nh), g in reliable(d).groupby(["backend", "n_h"]):
        g = g.sort_values("m")
        if len(g) < 2:
            continue
        t0 = float(g.median_s.iloc[0])
        inside = (g.median_s <= factor * t0).to_numpy()
        last = len(g) - 1 if inside.all() else int(np.argmin(inside)) - 1
        rows.append({"backend": b, "n_h": int(nh), "m0": int(g.m.iloc[0]), "t0": t0,
                     "m_knee": int(g.m.iloc[last]), "t_knee": float(g.median_s.iloc[last]),
                     "flat": bool(inside.all()), "m_max": int(g.m.iloc[-1])})
    return pd.DataFrame(rows, columns=cols)


def select_speedup(df, base=REFERENCE):
    """Speed-up over ``base`` of every other backend, per (n_h, m), from reliable cells.

    Columns backend, n_h, m, speedup; only n_h where some backend has two or more m values.
    """
    d = step_view(df)
    parts = [ratio(d, base, b).assign(backend=b) for b in d.backend.unique() if b != base]
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=["backend", "n_h", "m", "speedup"])
    r = pd.concat(parts, ignore_index=True)[["backend", "n_h", "m", "speedup"]]
    span = r.groupby(["n_h", "backend"]).m.transform("nunique")
    keep = r[span >= 2].n_h.unique()
    return r[r.n_h.isin(keep)].sort_values(["n_h", "backend", "m"]).reset_index(drop=True)


def select_heatmap(df):
    """The HEADLINE ÷ REFERENCE speed-up as a pivot table n_h × m (NaN where not both measured),
    or None with fewer than two rows or columns."""
    d = step_view(df)
    r = ratio(d, REFERENCE, HEADLINE)
    if r.empty or r.m.nunique() < 2 or r.n_h.nunique() < 2:
        return None
    both = measured(d[d.backend.isin([HEADLINE, REFERENCE])])  # keep busy cells' rows/columns
    return r.pivot_table(index="n_h", columns="m", values="speedup").reindex(
        index=sorted(set(both.n_h)), columns=sorted(set(both.m)))


def heatmap_busy(df, piv):
    """(row, column) positions of the heat map where either backend's cell was measured on a
    busy machine (drawn as "busy", never as a ratio)."""
    d = measured(step_view(df))
    d = d[d.backend.isin([HEADLINE, REFERENCE]) & disturbed(d)]
    rows, cols = list(piv.index), list(piv.columns)
    return sorted({(rows.index(nh), cols.index(m)) for nh, m in zip(d.n_h, d.m)
                   if nh in rows and m in cols})


def heatmap_crossovers(piv):
    """Where a row of the heat map changes from slower to faster (or back) between two adjacent
    measured cells. Returns (row, column boundary) pairs: boundary j + 0.5 lies between columns
    j and j + 1 of the *measured* cells of that row (a gap of unmeasured cells is spanned)."""
    out = []
    for i, row in enumerate(np.asarray(piv, float)):
        cols = [j for j, v in enumerate(row) if np.isfinite(v) and v > 0]
        for j0, j1 in zip(cols, cols[1:]):
            if (row[j0] >= 1) != (row[j1] >= 1):
                out.append((i, (j0 + j1) / 2))
    return out


def select_time_vs_nh(df):
    """Reliable cells at the m with the most n_h values (then the largest such m); columns as in
    the frame. Empty when no m has two n_h values."""
    d = reliable(step_view(df))
    if d.empty:
        return d
    counts = d.groupby("m").n_h.nunique()
    if counts.max() < 2:
        return d.iloc[:0]
    m_fix = counts[counts == counts.max()].index.max()
    return d[d.m == m_fix].sort_values(["backend", "n_h"])


def select_memory(df):
    """Peak extra memory at the n_h with the widest range of m (then the largest n_h).

    Adds ``mem`` = max(tracemalloc peak, resident-set rise) and ``by_rss`` (True where the
    resident-set rise is the larger one). Only backends with two or more m values.
    """
    d = reliable(step_view(df))
    if not d.empty:  # a cell whose memory was not measured (``mem_skipped``) is not a zero
        d = d[pd.to_numeric(d.mem_traced_bytes, errors="coerce").notna()]
    if d.empty:
        return d.iloc[:0]
    rss = pd.to_numeric(d.mem_rss_bytes, errors="coerce").fillna(0)
    tr = pd.to_numeric(d.mem_traced_bytes, errors="coerce").fillna(0)
    d = d.assign(mem=np.fmax(rss, tr), by_rss=rss > tr)
    span = d.groupby("n_h").m.nunique()
    if span.max() < 2:
        return d.iloc[:0]
    nh = span[span == span.max()].index.max()
    d = d[d.n_h == nh]
    d = d[d.groupby("backend").m.transform("nunique") >= 2]
    return d.sort_values(["backend", "m"])


def memory_jumps(sel, factor=1.8, flat=1.2):
    """Steps in each memory curve that the growth of m does not explain.

    Between adjacent m, a jump is a growth by more than ``factor`` that either (a) switches the
    measure (tracemalloc → resident-set rise: memory the tracer cannot see appears in whole
    pages) and outgrows m by ``flat``×, (b) sits in a curve that is flat (within ``flat``×) on
    both sides (a fixed buffer that changes size: a backend switching path), or (c) outgrows m
    by ``factor``×.
    Returns rows backend, m0, m1, ratio, kind ("measure", "step" or "superlinear").
    """
    rows = []
    for b, g in sel.groupby("backend"):
        g = g.sort_values("m")
        mem, ms, rss = np.maximum(g.mem.values, 1.0), g.m.values, g.by_rss.values
        r = mem[1:] / mem[:-1]
        is_flat = (r < flat) & (r > 1 / flat)
        for i, ri in enumerate(r):
            if ri <= factor:
                continue
            side = [is_flat[j] for j in (i - 1, i + 1) if 0 <= j < len(r)]
            grows_with_m = ri <= flat * ms[i + 1] / ms[i]  # m's own growth explains it
            kind = ("measure" if rss[i] != rss[i + 1] and not grows_with_m else
                    "step" if side and all(side) else
                    "superlinear" if ri > factor * ms[i + 1] / ms[i] else None)
            if kind:
                rows.append({"backend": b, "m0": int(ms[i]), "m1": int(ms[i + 1]),
                             "ratio": float(ri), "kind": kind})
    return pd.DataFrame(rows, columns=["backend", "m0", "m1", "ratio", "kind"])


def select_threads(df):
    """Speed-up over one thread, per dtype, for the training step.

    Per dtype: the largest m at which some (backend, n_h) has a 1-thread cell and another thread
    count, then at that m the largest such n_h. Returns columns dtype, backend, n_h, m, threads,
    label ("1", "2", …, "all"), order (position on the x axis: 1 … all) and speedup.
    """
    d = reliable(df[(df.op == STEP) & (df.hidden == "tanh")])
    cols = ["dtype", "backend", "n_h", "m", "threads", "label", "order", "speedup"]
    parts = []
    for dt, g in d.groupby("dtype"):
        grp = g.groupby(["backend", "n_h", "m", "n_x"]).threads
        ok = grp.transform(lambda t: (t == 1).any() and t.nunique() >= 2)
        g = g[ok.astype(bool)]
        if g.empty:
            continue
        g = g[g.m == g.m.max()]
        g = g[g.n_h == g.n_h.max()]
        g = g[g.n_x == g.n_x.value_counts().idxmax()]
        one = g[g.threads == 1].set_index("backend").median_s
        g = g[g.backend.isin(one.index)]
        g = g.assign(speedup=one.reindex(g.backend).values / g.median_s.values,
                     label=["all" if t == 0 else str(int(t)) for t in g.threads],
                     order=[np.inf if t == 0 else t for t in g.threads])
        parts.append(g)
    if not parts:
        return pd.DataFrame(columns=cols)
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["dtype", "backend", "order"])[cols].reset_index(drop=True)


def time_saved(df):
    """Seconds the headline backend saves over the reference per call, indexed by (m, n_h), from
    reliable cells of ``df`` (one dtype and thread count: pass :func:`step_view`)."""
    d = reliable(df)
    a = d[d.backend == REFERENCE].set_index(["m", "n_h"]).median_s
    b = d[d.backend == HEADLINE].set_index(["m", "n_h"]).median_s
    return (a - b).dropna()


def select_ceiling(df, header, dtype="float64"):
    """The step's own ceiling (the header's ``ceiling``) in the roofline's units, per n_h of
    :func:`step_view` at ``dtype`` (that dtype's cells only: their bytes, so their intensity,
    depend on it).

    A cell's ceiling time is :func:`fastnn.bench.ceiling.ceiling_s`: one vectorised tanh and
    2·n_x + 4 multiply-adds per example × hidden unit, the multiply-adds priced at the machine's
    FMA peak of ``dtype`` when the header has one (as the headline table prices them). Its
    GFLOP/s-equivalent is the cell's counted FLOPs over that time, so a cell's achieved GFLOP/s
    over this value is its share of the ceiling (the headline table's "% of the step's ceiling").

    Returns
    -------
    DataFrame
        Columns n_h, intensity (FLOP per compulsory byte), gflops: one row per n_h, by intensity.
        Empty without a ``dtype`` ceiling or measured ``dtype`` cells.
    """
    cols = ["n_h", "intensity", "gflops"]
    c = (header or {}).get("ceiling") or {}
    d = measured(step_view(df, dtype=dtype))
    d = d[(d.flops > 0) & (d.bytes > 0)]
    if not c.get(dtype) or d.empty:
        return pd.DataFrame(columns=cols)
    pk = header.get("peaks") or {}
    fma = pk.get("fma32_gflops" if dtype == "float32" else "fma_gflops")
    gemm = pk.get("gemm_gflops") if dtype == "float64" else None
    t = [ceiling_s(c, r.m, r.n_h, r.n_x, dtype, fma, gemm)
         for r in d.itertuples()]
    d = d.assign(intensity=d.flops / d.bytes, gflops=d.flops / np.array(t) / 1e9)
    return d.groupby("n_h", as_index=False)[cols[1:]].mean().sort_values("intensity")[cols] \
        .reset_index(drop=True)
