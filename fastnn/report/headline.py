"""The headline tables: one row per headline shape, the headline backend's time and its
speed-ups (a paired comparison with its interval and flag words, :mod:`.notes`), its share of
the step's ceiling and of the machine's peaks; a shape without a reliable headline cell says why
(:func:`_why_missing`). One row builder (:func:`_table`) serves the step, float32 and
training-run tables.
"""

from __future__ import annotations

import pandas as pd

from .. import fmt
from ..backends import HEADLINE, REFERENCE, names
from ..bench.ceiling import ceiling_s
from ..bench.grid import FIT_TARGETS, FLOAT32_TARGETS, TARGETS
from .notes import Notes, cases_of, find
from .select import FIT, STEP, disturbed, reliable
from .tables import md_table

fmt_s = fmt.seconds

#: Why a headline shape has no number.
MISSING_ABSENT = "not in these results"
MISSING_PREDICTED = "not measured: predicted {predicted}"
MISSING_NOT_MEASURED = "not measured"
MISSING_BUSY = "measured while the machine was busy: not used"
MISSING_STATUS = "not measured ({status})"


def _pick_threads(g):
    return g[g.threads == 0] if (g.threads == 0).any() else g[g.threads == g.threads.min()]


def paired_text(pairs, nx, nh, m, base, threads, apart=None, op=STEP, dtype="float64",
                base_dtype=None, notes=None):
    """The comparison of ``base`` against the headline backend at one op, shape and thread
    count as a cell: "R× [lo–hi]" and a one-word link per flag (its note added to ``notes``);
    without a comparison, the ratio of the medians ``apart`` marked "(unpaired)", else "–".
    ``dtype`` is the contender's, ``base_dtype`` the baseline's (default: the same)."""
    p = find(pairs, nx, nh, m, base, op=op, dtype=dtype, baseline_dtype=base_dtype,
             threads=threads)
    if p is None:
        return f"{fmt.ratio(apart)} (unpaired)" if apart is not None else "–"
    return (notes or Notes()).cell(p, cases_of(pairs, p))


def _table(shapes, d, ok, column, fill, empty, first=None):
    """The headline tables' one row builder: a row per shape (n_x, n_h, m[, steps]) starting
    with its ``shape``; where the headline backend has a reliable cell, ``fill(row, g, t,
    shape)`` adds the columns (g: the cells there, t: their times by backend), else ``column``
    says why it has no number. ``empty``: the table's text when no shape is declared;
    ``first(shape)``: columns that follow ``shape`` in every row."""
    rows = []
    for shape in shapes:
        nx, nh, m = shape[:3]
        row = {"shape": f"n_x={nx}, n_h={nh}, m={m:,}", **(first(shape) if first else {})}
        g, t = _at(d, ok, nx, nh, m, row, column)
        if g is not None:
            fill(row, g, t, shape)
        rows.append(row)
    return md_table(pd.DataFrame(rows).fillna("–"), empty)


def headline(df, peaks_gflops, peak_gbs, pairs=None, ceiling=None, fma_gflops=None,
             notes=None):
    """One row per target shape: the headline backend's speed-ups over the reference and the
    peers, and its share of the peaks; a shape without a reliable headline cell says why.

    ``pairs`` (from ``paired.json``): speed-ups measured by paired A/B rounds, shown with their
    95 % interval in place of the ratio of two separately measured medians. ``ceiling`` (the
    header's): the step's own ceiling time, as a percentage reached; ``fma_gflops``: the
    machine's float64 FMA peak, which prices the multiply-adds."""
    def fill(row, g, t, shape):
        nx, nh, m = shape
        row[f"{HEADLINE} time (cell median)"] = fmt_s(t[HEADLINE])
        row.update(_speedups(df, g, t, pairs, nx, nh, m, STEP, notes))
        nb = g[g.backend == HEADLINE].iloc[0]
        if ceiling:
            row["% of the step's ceiling"] = _share_of_ceiling(
                ceiling, nx, nh, m, "float64", fma_gflops, t[HEADLINE])
        if peaks_gflops:
            row["GFLOP/s (% of peak)"] = f"{nb.gflops:.1f} ({100 * nb.gflops / peaks_gflops:.0f} %)"
        if peak_gbs:
            row["GB/s (% of peak)"] = f"{nb.gbs:.2f} ({100 * nb.gbs / peak_gbs:.1f} %)"
    return _table(TARGETS, *_target_cells(df, STEP), f"{HEADLINE} time (cell median)", fill,
                  "No target shapes are declared.")


def _share_of_ceiling(ceiling, nx, nh, m, dtype, fma_gflops, t):
    """The step's ceiling time at one shape as a percentage of the measured time ``t`` ("–"
    where there is none: BLAS-width inputs, or no ceiling for ``dtype``). ``fma_gflops``: the
    machine's FMA peak in ``dtype``, which prices the multiply-adds."""
    c = ceiling_s(ceiling, m, nh, nx, dtype, fma_gflops)
    if not c:
        return "–"
    if c > t:  # faster than its own ceiling: the ceiling was under-measured, not beaten
        return f"{100 * c / t:.0f} % (ceiling under-measured)"
    return f"{100 * c / t:.0f} %"


def headline_float32(df, pairs=None, ceiling=None, fma32_gflops=None, notes=None):
    """One row per :data:`FLOAT32_TARGETS` shape: the headline backend's float32 step, its own
    float64 step there, and how many times faster the float32 step is than both and than the
    reference's float32 step (paired, with their interval, as in :func:`headline`); its share of
    the float32 ceiling. A shape without a reliable float32 cell says why."""
    d = df[(df.op == STEP) & (df.hidden == "tanh") & (df.dtype == "float32")]
    ok64 = reliable(_target_cells(df, STEP)[0])

    def fill(row, g, t, shape):
        nx, nh, m = shape
        th = int(g.threads.iloc[0])
        row[f"{HEADLINE} float32"] = fmt_s(t[HEADLINE])
        h64 = ok64[(ok64.n_x == nx) & (ok64.n_h == nh) & (ok64.m == m)
                   & (ok64.backend == HEADLINE) & (ok64.threads == th)].median_s
        row[f"{HEADLINE} float64"] = fmt_s(h64.iloc[0]) if len(h64) else "–"
        apart = h64.iloc[0] / t[HEADLINE] if len(h64) else None
        row["speed-up over its float64 step"] = paired_text(
            pairs, nx, nh, m, HEADLINE, th, apart, STEP, "float32", "float64", notes=notes)
        apart = t[REFERENCE] / t[HEADLINE] if REFERENCE in t.index else None
        row[f"speed-up over {REFERENCE} float32"] = paired_text(
            pairs, nx, nh, m, REFERENCE, th, apart, STEP, "float32", notes=notes)
        if ceiling:
            row["% of the float32 ceiling"] = _share_of_ceiling(
                ceiling, nx, nh, m, "float32", fma32_gflops, t[HEADLINE])
    return _table(FLOAT32_TARGETS, d, reliable(d), f"{HEADLINE} float32", fill,
                  "No float32 target shapes are declared.")


def headline_fit(df, pairs=None, notes=None):
    """One row per training-run target (:data:`FIT_TARGETS`): the steps of one run, the
    headline backend's time per step and for the whole run, and its speed-ups over the reference
    and the peers (paired, with their interval, as in :func:`headline`); a shape without a
    reliable headline cell says why."""
    def fill(row, g, t, shape):
        nx, nh, m, _ = shape
        steps = int(g[g.backend == HEADLINE].steps.iloc[0])  # what was run
        row.update({"steps": f"{steps:,}", f"{HEADLINE} per step": fmt_s(t[HEADLINE]),
                    f"{HEADLINE} whole run": fmt_s(steps * t[HEADLINE])})
        row.update(_speedups(df, g, t, pairs, nx, nh, m, FIT, notes))
    return _table(FIT_TARGETS, *_target_cells(df, FIT), f"{HEADLINE} per step", fill,
                  "No training-run targets are declared.", lambda s: {"steps": f"{s[3]:,}"})


def _target_cells(df, op):
    """The cells of ``op`` a headline table reads (tanh, float64), and the reliable ones."""
    d = df[(df.op == op) & (df.hidden == "tanh") & (df.dtype == "float64")]
    return d, reliable(d)


def _at(d, ok, nx, nh, m, row, column):
    """(reliable cells at one shape and thread count, their times by backend), or (None, None)
    after writing into ``row[column]`` why the headline backend has no number there."""
    here = ok[(ok.n_x == nx) & (ok.n_h == nh) & (ok.m == m)]
    g = _pick_threads(here) if len(here) else here
    t = g.set_index("backend").median_s
    if HEADLINE in t.index:
        return g, t
    row[column] = _why_missing(d[(d.n_x == nx) & (d.n_h == nh) & (d.m == m)
                                 & (d.backend == HEADLINE)])
    return None, None


def _speedups(df, g, t, pairs, nx, nh, m, op, notes=None):
    """{"speed-up over B": cell} for the reference, the other backends the headline one is
    compared with and each peer in ``df``: the comparison with its interval and flag words,
    else the ratio of the medians (unpaired), else "–"."""
    from ..backends import REGISTRY
    out = {}
    th = int(g.threads.iloc[0])
    own = [b for b in REGISTRY[HEADLINE].compare_to if not REGISTRY[b].per_example]
    for base in [b for b in dict.fromkeys((REFERENCE, *own) + names(peers=True))
                 if b in set(df.backend)]:
        apart = t[base] / t[HEADLINE] if base in t.index else None
        if find(pairs, nx, nh, m, base, op=op, threads=th) is None and apart is None:
            continue
        out[f"speed-up over {base}"] = paired_text(pairs, nx, nh, m, base, th, apart, op,
                                                   notes=notes)
    return out


def _why_missing(cells):
    """Why a target shape has no headline number: predicted, busy, failed or absent."""
    if cells.empty:
        return MISSING_ABSENT
    pred = cells[cells.status == "over_budget"]
    if len(pred):
        p = pd.to_numeric(pred.predicted_s, errors="coerce").dropna()
        return (MISSING_PREDICTED.format(predicted=fmt.seconds(p.iloc[0])) if len(p) else
                MISSING_NOT_MEASURED)
    if (disturbed(cells) & (cells.status == "ok")).any():
        return MISSING_BUSY
    return MISSING_STATUS.format(status=cells.status.iloc[0])


__all__ = ["headline", "headline_fit", "headline_float32", "paired_text"]
