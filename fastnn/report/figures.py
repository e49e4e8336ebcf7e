"""The report's figures (matplotlib). Each draws what a selection in :mod:`.select` returns and
gives back a :class:`Fig`: the file and a caption, or no file and one line saying why it was left
out (a figure with nothing meaningful to show is not drawn)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import fmt
from ..backends import DTYPES, HEADLINE, REFERENCE, REGISTRY
from ..bench.ceiling import fmas_per_unit
from ..bench.grid import FLOAT32_TARGETS, HEADLINE_OP, TARGETS
from ..plotting import colours, save, subplots
from . import first as FS
from . import select as S
from .notes import cases_of, find, speed
from .text import blas_arch, compute_peaks, fmt_s


@dataclass
class Fig:
    file: str | None = None
    caption: str = ""
    why_not: str = ""


def _title(fig, axes, what, panels=""):
    """A figure's title: over its panels (``what`` + ``panels``), or, with one panel, in that
    panel's own title before its n_h (a figure-wide title ran under the legend there)."""
    if axes.size > 1:
        fig.suptitle(what + panels)
    else:
        axes.flat[0].set_title(f"{what}\n{axes.flat[0].get_title()}", fontsize=10)


def _legend_outside(fig, *axes):
    """One legend right of the figure, with every label of every panel once."""
    handles = {}
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(lab, h)
    if handles:
        fig.legend(handles.values(), handles.keys(), loc="outside right upper", fontsize=8)


def _log_axes(ax):
    """Log x and y without minor-tick labels (they overlap on short decades). An x axis of
    whole numbers (m, n_h) drawn so short that it holds fewer than two labelled powers of ten
    is labelled at its points instead (at most :data:`_POINT_TICKS`), so no point goes
    unnamed."""
    from matplotlib.ticker import NullFormatter
    ax.set(xscale="log", yscale="log")
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.yaxis.set_minor_formatter(NullFormatter())
    lo, hi = ax.get_xlim()
    if lo > 0 and np.floor(np.log10(hi)) - np.ceil(np.log10(lo)) < 1:
        xs = sorted({float(x) for ln in ax.get_lines() for x in np.atleast_1d(ln.get_xdata())
                     if np.isfinite(x) and x >= 1})
        if 1 < len(xs) <= _POINT_TICKS and all(x == int(x) for x in xs):
            ax.set_xticks(xs, [fmt.count(x) for x in xs])
            ax.set_xlim(lo, hi)


#: The most points :func:`_log_axes` labels on a short x axis.
_POINT_TICKS = 6


def _panels(n, w=4.2, h=3.4, **kw):
    ncols = min(3, n)
    nrows = -(-n // ncols)
    fig, axes = subplots(nrows, ncols, figsize=(w * ncols + 1.6, h * nrows),
                                squeeze=False, layout="constrained", **kw)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, axes


def fig_time_vs_m(df, out, cols, figures):
    d = S.select_time_vs_m(df)
    if d.empty:
        return Fig(why_not="no n_h was measured at two or more m, so there is no scaling to show.")
    nhs = sorted(d.n_h.unique())
    fig, axes = _panels(len(nhs), sharey=True)
    for ax, nh in zip(axes.flat, nhs):
        for b, g in d[d.n_h == nh].groupby("backend"):
            ok = g[(g.status == "ok") & ~S.disturbed(g)].sort_values("m")
            ax.plot(ok.m, ok.median_s, "o-", color=cols[b], label=b, ms=3)
            ax.fill_between(ok.m, ok.q1_s, ok.q3_s, color=cols[b], alpha=0.25, lw=0)
            busy = g[(g.status == "ok") & S.disturbed(g)]
            ax.plot(busy.m, busy.median_s, "o", mfc="none", color=cols[b], ms=6)
            ex = g[g.status == "over_budget"].sort_values("m")
            if len(ex):
                ax.plot(list(ok.m.tail(1)) + list(ex.m),
                        list(ok.median_s.tail(1)) + list(ex.predicted_s), "--", color=cols[b])
                ax.plot(ex.m, ex.predicted_s, "x", color=cols[b], ms=6)
        _log_axes(ax)
        ax.set(title=f"n_h = {nh}", xlabel="m (examples)")
        ax.grid(True, which="major", alpha=0.3)
    for row in axes:
        row[0].set_ylabel("time per training step (s)")
    if S.disturbed(d).any():
        axes.flat[0].plot([], [], "o", mfc="none", color="grey", label="busy machine (not used)")
    _legend_outside(fig, *axes.flat)
    _title(fig, axes, "Time per training step vs m", ", one panel per n_h")
    cap = ("Median time per training step (forward, cost and gradients); band: interquartile "
           "range; × on a dashed line: predicted, not measured (over the time budget)"
           + ("; hollow: measured while the machine was busy" if S.disturbed(d).any() else "")
           + ".")
    return Fig(save(fig, out, "fig1_time_vs_m.png", figures), cap)


@dataclass
class Mark:
    """One mark of the paired figure: its label, the comparison it draws (a
    :class:`~fastnn.bench.records.Comparison`: ratio, lo, hi) and its kind: ``"all"`` (over all
    the rounds), ``"case"`` (one memory case's rounds) or ``"float32"``."""
    label: str
    comparison: object
    kind: str = "all"


def paired_marks(header, doc):
    """The paired figure's marks, per row of the first screen: [(row label, [Mark, …])].

    The rows and their comparisons are :func:`.first.numbers`' (``header``: the run's results
    header; ``doc``: its :class:`~fastnn.bench.records.PairedDoc`), each memory case from
    :func:`.notes.cases_of`, and at a float32 headline shape the float32 table's comparisons
    (:func:`.notes.find`): every mark is the object a table cell quotes, nothing recomputed. A
    comparison whose baseline's rounds fell into memory cases gives one mark per case, as its
    cell gives one number per case.
    [] when the run has no comparison at a headline shape."""
    fs = FS.numbers(header, doc)
    out = []
    for r in fs.rows:
        sides = [(f"vs {b}", r.cells.get(b), "all") for b in fs.columns]
        if r.op == HEADLINE_OP and (r.n_x, r.n_h, r.m) in FLOAT32_TARGETS:
            sides += [(f"float32: vs {b} {dt}",
                       find(fs.pairs, r.n_x, r.n_h, r.m, b, dtype="float32", baseline_dtype=dt),
                       "float32") for b, dt in ((REFERENCE, "float32"), (HEADLINE, "float64"))]
        marks = []
        for label, c, kind in sides:
            if c is None:
                continue
            cases = cases_of(fs.pairs, c)  # a cell with cases quotes them, not the whole
            marks += [Mark(f"{label}, {k.case} case ({k.rounds} of {c.rounds} rounds)", k,
                           "case") for k in cases] or [Mark(label, c, kind)]
        if marks:
            out.append((FS._row_label(r), marks))
    return out


#: The paired figure's marker per kind of mark, and its legend entry.
_MARK = {"all": dict(marker="o", label="over all the rounds"),
         "case": dict(marker="D", mfc="white", label="one memory case's rounds"),
         "float32": dict(marker="s", label=f"{HEADLINE} in float32")}
_PLURAL = {"min": "minima", "median": "medians", "mean": "means"}


def fig_paired(header, doc, out, cols, figures):
    """The paired comparisons the first screen and the headline tables quote, one panel per
    row of the first screen: :func:`paired_marks`, each drawn at its ratio with its interval
    (log axis), labelled with its table cell's number."""
    panels = paired_marks(header, doc)
    if not panels:
        return Fig(why_not="this run has no paired comparisons at a headline shape (no "
                           "paired.json), so there is no paired speed-up to plot; the unpaired "
                           "figures are ratios of cell medians.")
    est = doc.estimator
    sizes = [len(marks) for _, marks in panels]
    height = 0.8 + 0.26 * sum(sizes) + 0.42 * len(panels)
    fig, axes = subplots(len(panels), 1, figsize=(8.0, height), sharex=True, squeeze=False,
                         layout="constrained", gridspec_kw=dict(height_ratios=sizes))
    comps = [mk.comparison for _, marks in panels for mk in marks]
    for ax, (title, marks) in zip(axes[:, 0], panels):
        for y, mk in zip(range(len(marks) - 1, -1, -1), marks):
            c, col = mk.comparison, cols.get(mk.comparison.baseline, "grey")
            style = {k: v for k, v in _MARK[mk.kind].items() if k != "label"}
            ax.plot([c.lo, c.hi], [y, y], "-", color=col, lw=1.4, solid_capstyle="butt")
            ax.plot([c.lo, c.hi], [y, y], "|", color=col, ms=6)
            ax.plot([c.ratio], [y], ls="none", color=col, ms=5, gid=f"paired:{mk.label}",
                    **style)
            ax.annotate(speed(c), (max(c.hi, c.ratio), y), xytext=(5, 0),
                        textcoords="offset points", va="center", fontsize=7.5,
                        bbox=dict(fc="white", ec="none", alpha=0.8, pad=0.5))
        ax.set_yticks(range(len(marks) - 1, -1, -1), [mk.label for mk in marks], fontsize=8)
        ax.set_ylim(-0.7, len(marks) - 0.3)
        ax.axvline(1.0, color="grey", lw=1, ls=":")
        ax.set_title(title, fontsize=9, loc="left")
        ax.grid(True, axis="x", alpha=0.3)
    from matplotlib.ticker import FuncFormatter, NullFormatter
    ax = axes[-1, 0]
    ax.set_xscale("log")
    ax.set_xlim(min(1.0, *(c.lo for c in comps)) / 1.5, max(c.hi for c in comps) * 8)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}×"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(f"speed-up of {HEADLINE} (×, log scale): t(other side) ÷ t({HEADLINE})")
    kinds = [k for k in _MARK if any(mk.kind == k for _, marks in panels for mk in marks)]
    for k in kinds:
        axes[0, 0].plot([], [], ls="none", color="grey", ms=5, **_MARK[k])
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside lower center",
               ncols=len(kinds), fontsize=8, frameon=False)
    fig.suptitle(f"{HEADLINE}'s speed-up over each side, paired {_PLURAL.get(est, est)}",
                 fontsize=11)
    cap = (f"Each mark is a comparison the first screen and the headline tables quote: "
           f"t(other side) ÷ t({HEADLINE}), the ratio of the two sides' {est} times over the "
           f"same interleaved rounds (paired {_PLURAL.get(est, est)}), its bar the 95 % "
           "bootstrap interval"
           + (" (the interval of a minimum is one-sided: it may start or end at the ratio itself)"
              if est == "min" else "")
           + f", its number the table's cell; right of the dotted line {HEADLINE} is faster; "
           "colour: the other side's backend.")
    if "case" in kinds:
        cap += (" Diamonds: where the other side's rounds fell into memory cases (how fast "
                "the kernel mapped its fresh temporaries), the comparison over each case's "
                "rounds, labelled by case, as the table gives them.")
    if "float32" in kinds:
        cap += (f" Squares: {HEADLINE}'s float32 step against {REFERENCE}'s float32 step and "
                f"against its own float64 step (the float32 table).")
    return Fig(save(fig, out, "fig2_paired_speedup.png", figures), cap)


def fig_speedup(df, out, cols, figures):
    r = S.select_speedup(df, REFERENCE)
    if r.empty:
        return Fig(why_not=f"no backend was measured against {REFERENCE} at two or more m "
                           "for the same n_h.")
    nhs = sorted(r.n_h.unique())
    fig, axes = _panels(len(nhs), sharey=True)
    for ax, nh in zip(axes.flat, nhs):
        for b, g in r[r.n_h == nh].groupby("backend", sort=False):
            ax.plot(g.m, g.speedup, "o-", ms=3, color=cols[b], label=b)
        ax.axhline(1.0, color="grey", lw=1, ls=":")
        _log_axes(ax)
        ax.set(xlabel="m (examples)", title=f"n_h = {nh}")
        ax.grid(True, alpha=0.3)
    for row in axes:
        row[0].set_ylabel(f"speed-up over {REFERENCE} (×)")
    _legend_outside(fig, *axes.flat)
    _title(fig, axes, f"Speed-up over {REFERENCE}, ratios of cell medians (unpaired)",
           f" (above the dotted line: faster than {REFERENCE})")
    cap = (f"t({REFERENCE}) ÷ t(backend) per cell measured by both; above 1 the backend is "
           f"faster than {REFERENCE}. These are ratios of separately measured medians "
           "(unpaired); at a headline shape the headline table's paired ratio (the paired "
           "figure) is the one to quote.")
    return Fig(save(fig, out, "fig2b_speedup_vs_m.png", figures), cap)


def fig_heatmap(df, out, cols, figures):
    piv = S.select_heatmap(df)
    if piv is not None:
        piv = piv.dropna(axis=1, how="all").dropna(axis=0, how="all")
    if piv is None or min(piv.shape) < 2:
        return Fig(why_not=f"{HEADLINE} and {REFERENCE} share fewer than two m or two n_h.")
    fig, ax = subplots(figsize=(1.6 + 0.9 * piv.shape[1], 1.4 + 0.6 * piv.shape[0]),
                           layout="constrained")
    L = np.log2(piv.values)
    lim = max(1.0, np.nanmax(np.abs(L)))
    im = ax.imshow(L, cmap="PuOr", vmin=-lim, vmax=lim, origin="lower", aspect="auto")
    for (i, j), v in np.ndenumerate(piv.values):
        if np.isfinite(v):
            ax.text(j, i, f"{v:.2g}×", ha="center", va="center", fontsize=7,
                    color="white" if abs(np.log2(v)) > lim / 2 else "black")
    busy = S.heatmap_busy(df, piv)
    for i, j in busy:
        ax.text(j, i, "busy", ha="center", va="center", fontsize=7, color="grey")
    marks = S.heatmap_crossovers(piv.values)
    for i, x in marks:
        ax.plot([x, x], [i - 0.5, i + 0.5], color="k", lw=2.5)
    ax.set_xticks(range(piv.shape[1]),
                  [f"{m:.0e}" if m >= 1000 else str(m) for m in piv.columns], rotation=45)
    ax.set_yticks(range(piv.shape[0]), piv.index)
    lo, hi = np.nanmin(piv.values), np.nanmax(piv.values)
    where = ("black bars: where a row changes between slower and faster" if marks else
             f"{HEADLINE} faster in every cell" if lo >= 1 else
             f"{HEADLINE} slower in every cell" if hi < 1 else "no row changes sign")
    ax.set(xlabel="m (examples)", ylabel="n_h (hidden units)",
           title=f"{HEADLINE} speed-up over {REFERENCE}, cell medians (unpaired)\n({where})")
    fig.colorbar(im, ax=ax, label="log₂ speed-up (> 0: faster)")
    cap = (f"t({REFERENCE}) ÷ t({HEADLINE}) per cell, the ratio of the two cells' separately "
           "measured medians (unpaired; at a headline shape the headline table's paired ratio "
           "is the one to quote); blank: not measured by both"
           + ("; “busy”: measured while the machine was busy, not used" if busy else "")
           + ". A crossover "
           "bar is drawn only inside a row, between two measured cells whose ratios lie on "
           "either side of 1×.")
    return Fig(save(fig, out, f"fig3_heatmap_{HEADLINE}_vs_{REFERENCE}.png", figures), cap)


def _finish(fig, ax, out, name, figures, caption, **labels):
    """Log axes, labels, grid and an outside legend on ``ax``; save; the :class:`Fig`."""
    _log_axes(ax)
    ax.set(**labels)
    ax.grid(True, alpha=0.3)
    _legend_outside(fig, ax)
    return Fig(save(fig, out, name, figures), caption)


def _one_panel(d, why_not):
    """(fig, ax, None) for a one-panel figure of ``d``, or (None, None, Fig(why_not)) when
    ``d`` is empty."""
    if d.empty:
        return None, None, Fig(why_not=why_not)
    fig, ax = subplots(figsize=(6.5, 3.8), layout="constrained")
    return fig, ax, None


def fig_time_vs_nh(df, out, cols, figures):
    d = S.select_time_vs_nh(df)
    fig, ax, empty = _one_panel(d, "no m was measured at two or more n_h.")
    if empty:
        return empty
    nhs = sorted(d.n_h.unique())
    few = len(nhs) < 3  # two columns: a line between them would invent the values in between
    for b, g in d.groupby("backend"):
        if few:
            ax.errorbar(g.n_h, g.median_s, yerr=[g.median_s - g.q1_s, g.q3_s - g.median_s],
                        fmt="o", color=cols[b], label=b, ms=4, capsize=3)
        else:
            ax.plot(g.n_h, g.median_s, "o-", color=cols[b], label=b, ms=3)
            ax.fill_between(g.n_h, g.q1_s, g.q3_s, color=cols[b], alpha=0.25, lw=0)
    _log_axes(ax)
    ax.set(xlabel="n_h (hidden units)",
           ylabel="time per training step (s)", title=f"Time vs n_h at m = {d.m.iloc[0]:,}")
    ax.set_xticks(nhs, [str(n) for n in nhs])
    from matplotlib.ticker import NullLocator
    ax.xaxis.set_minor_locator(NullLocator())
    ax.grid(True, alpha=0.3)
    _legend_outside(fig, ax)
    return Fig(save(fig, out, "fig4_time_vs_nh.png", figures),
               "Median time per training step, both axes logarithmic; "
               + (f"bars: interquartile range. Only {len(nhs)} n_h were measured, so no line "
                  "joins them." if few else "band: interquartile range."))


def _memory_caption(sel):
    jumps = S.memory_jumps(sel)
    cap = ("Each point is the larger of two measures of one call: tracemalloc's peak (filled "
           "markers; sees NumPy arrays and Python objects, not memory a compiled library "
           "allocates itself) and the rise of the resident set (hollow squares; counted in whole pages, "
           "and 0 while the call reuses memory the process already holds).")
    kept = [b for b in sorted(set(sel.backend))
            if b in REGISTRY and REGISTRY[b].memory == "buffers"]
    if kept:
        one = len(kept) == 1
        cap += (f" {', '.join(kept)} keep{'s' * one} {'its' if one else 'their'} work arrays "
                "from the first call on, so a later call adds almost nothing; the memory a "
                "step holds in all, kept arrays included, is the large-m figure's.")
    why = {"measure": "the value switches from tracemalloc to the resident-set rise: the "
                      "library's own allocations, invisible to tracemalloc, now need fresh pages",
           "step": "a flat curve changes level: the backend switches path here (for example a "
                   "serial driver to a parallel one with a buffer per thread)",
           "superlinear": "memory grows faster than m"}
    for r in jumps.itertuples():
        cap += (f" {r.backend}: ×{r.ratio:,.0f}" if r.ratio >= 100 else f" {r.backend}: ×{r.ratio:.3g}")
        cap += (f" between m = {r.m0:,} and {r.m1:,} — "
                f"{why[r.kind]}.")
    return cap


def fig_memory(df, out, cols, figures):
    d = S.select_memory(df)
    fig, ax, empty = _one_panel(d, "no backend's memory was measured at two or more m for one "
                                   "n_h.")
    if empty:
        return empty
    for b, g in d.groupby("backend"):
        y = g.mem.clip(lower=1) / 2**20  # MiB, as fig11; a zero drawn at 1 byte
        ax.plot(g.m, y, "-", color=cols[b], label=b)
        ax.plot(g.m[~g.by_rss], y[~g.by_rss], "o", color=cols[b], ms=4)
        ax.plot(g.m[g.by_rss], y[g.by_rss], "s", mfc="none", color=cols[b], ms=6)
    ax.plot([], [], "o", color="grey", ms=4, label="tracemalloc peak")
    if d.by_rss.any():
        ax.plot([], [], "s", mfc="none", color="grey", ms=6, label="resident-set rise")
    _log_axes(ax)
    ax.set(xlabel="m (examples)", ylabel="peak extra memory (MiB)",
           title=f"Peak extra memory of one training step, n_h = {d.n_h.iloc[0]}")
    ax.grid(True, alpha=0.3)
    _legend_outside(fig, ax)
    return Fig(save(fig, out, "fig5_memory_vs_m.png", figures), _memory_caption(d))


def fig_compile(df, headers, out, cols, figures):
    d = S.reliable(S.step_view(df))
    comp = headers[0][1].get("compile", {}) if headers else {}
    cold = comp.get("compile_cold_s")
    if cold is None:
        return Fig(why_not="the run recorded no compile time.")
    saved = S.time_saved(d)
    saved = saved[saved > 0].reset_index()
    if saved.empty:
        return Fig(why_not=f"{HEADLINE} saves no time over {REFERENCE} in any measured cell.")
    multi = saved.groupby("n_h").m.nunique().max() >= 2  # else the break-even is in the text
    fig, axes = subplots(1, 1 + multi, figsize=(5.5 * (1 + multi) + 0.5, 3.8), squeeze=False,
                             layout="constrained")
    ax1 = axes[0][0]
    labels = ["cold (empty cache)", "cached (cache=True)"]
    vals = [cold, comp.get("compile_cached_s") or 0.0]
    ax1.bar(labels, vals, color=[cols[HEADLINE], "#999999"])
    for i, v in enumerate(vals):
        ax1.text(i, v, fmt_s(v), ha="center", va="bottom", fontsize=8)
    ax1.set(ylabel="first call in a new process (s)", title=f"{HEADLINE} JIT compile time")
    cap = f"{HEADLINE}'s first call in a fresh process, with an empty and with a filled cache."
    if not multi:
        return Fig(save(fig, out, "fig6_compile_breakeven.png", figures),
                   cap + " The break-even is given in the text below (one m per n_h only).")
    ax2 = axes[0][1]
    nhs = sorted(saved.n_h.unique())
    from matplotlib import colormaps
    shade = colormaps["viridis"](np.linspace(0, 0.85, len(nhs)))  # not the backend colours
    for c, (nh, g) in zip(shade, saved.groupby("n_h")):
        g = g.sort_values("m")
        ax2.plot(g.m, cold / g.median_s, "o-", ms=4, color=c, label=f"n_h={nh}")
    return _finish(fig, ax2, out, "fig6_compile_breakeven.png", figures,
                   f"Left: {cap} Right: how many training steps it takes for the time "
                   f"{HEADLINE} saves over {REFERENCE} to repay a cold compile.",
                   xlabel="m (examples)", ylabel="steps to repay a cold compile",
                   title=f"Break-even: compile ÷ step time saved\nover {REFERENCE}")


#: The ceiling of the dtype whose cells are shown, dashed; the other dtype's as a broad pale
#: line under it (the two can coincide).
_CEILING_STYLE = {"shown": dict(color="#882255", ls="--", lw=1.6, zorder=2.2),
                  "other": dict(color="#882255", lw=6, alpha=0.2, solid_capstyle="butt",
                                zorder=2.1)}


def _step_ceilings(ax, df, header, x, shown, roof):
    """Draw the step's own ceiling per dtype with measured cells (``shown``, the dtype of the
    cells drawn, dashed; the other pale) across the intensities ``x``: joined through each n_h's
    value at that dtype's cells (straight on the log axes), flat beyond the outer ones, and
    nowhere above ``roof`` (the machine's roof at ``x``, min(peak, bandwidth × intensity)):
    the ceiling is compute only, and where the bytes cannot arrive faster the roof bounds it.
    Returns {dtype: select_ceiling frame} of what was drawn (its values unclipped: the headline
    table's)."""
    drawn = {}
    for dtype in sorted(DTYPES, key=lambda dt: dt != shown):
        c = S.select_ceiling(df, header, dtype)
        c = c[(c.intensity > x[0]) & (c.intensity < x[-1])]  # the other dtype's may lie outside
        if c.empty:
            continue
        ys = np.exp(np.interp(np.log(x), np.log(c.intensity.to_numpy(float)),
                              np.log(c.gflops.to_numpy(float))))
        ys = np.minimum(ys, roof)
        at = np.minimum(c.gflops.to_numpy(float),
                        np.interp(np.log(c.intensity.to_numpy(float)), np.log(x), roof))
        lo, hi = at.min(), at.max()
        level = f"{lo:.0f}" if f"{lo:.0f}" == f"{hi:.0f}" else f"{lo:.0f}–{hi:.0f}"
        n_x = S.step_view(df, dtype=dtype).n_x.iloc[0]
        ax.plot(x, ys, label=f"this step's ceiling, {dtype}: one vectorised\ntanh + "
                             f"{fmas_per_unit(n_x)} FMAs per example × hidden unit\n"
                             f"= {level} GFLOP/s-equivalent",
                **_CEILING_STYLE["shown" if dtype == shown else "other"])
        drawn[dtype] = c
    return drawn


def _headline_cells(d):
    """The headline backend's quiet cells of ``d`` at the target shapes, in TARGETS order."""
    hd = d[(d.backend == HEADLINE) & ~S.disturbed(d)]
    at = [hd[(hd.n_x == nx) & (hd.n_h == nh) & (hd.m == m)].head(1) for nx, nh, m in TARGETS]
    return pd.concat(at) if at else hd.iloc[:0]


def _label_headline(ax, cells, ceiling, rounds=None):
    """Circle and label ``cells`` (:func:`_headline_cells`), below right of each point (away
    from the ceilings above and the other backends in its column), each with its share of
    ``ceiling`` (the step's ceiling in the cells' own dtype) when there is one. ``rounds``
    ({(n_x, n_h, m): seconds}, the headline table's fastest-round times) moves a cell's circle
    to the rate of that time, as the table gives it; the dots stay the cells' medians."""
    top = ceiling.set_index("n_h").gflops if ceiling is not None else {}
    rounds = rounds or {}
    for c in cells.itertuples():
        t = rounds.get((c.n_x, c.n_h, c.m))
        gflops = c.flops / t / 1e9 if t else c.gflops
        xy = (c.flops / c.bytes, gflops)
        said = ["fastest round"] if t else []
        if c.n_h in top:
            said.append(f"{100 * gflops / top[c.n_h]:.0f} % of this step's ceiling")
        text = f"{HEADLINE}, n_h = {c.n_h}, m = {c.m:,}"
        if said:
            text += "\n" + ", ".join(said)
        ax.scatter(*xy, s=60, facecolors="none", edgecolors="k", lw=1.2, zorder=3)
        ax.annotate(text, xy, xytext=(8, -3), textcoords="offset points", ha="left",
                    va="top", fontsize=7.5, bbox=dict(fc="white", ec="none", alpha=0.85,
                                                         pad=1))
    if len(cells):
        ax.scatter([], [], s=60, facecolors="none", edgecolors="k", lw=1.2,
                   label=f"{HEADLINE} at a headline shape")


def fig_roofline(df, headers, out, cols, figures, rounds=None):
    """The roofline of the step's cells (medians), the machine's roof and the step's ceiling;
    the headline backend circled at the headline shapes, at ``rounds``' times where given
    (:func:`_label_headline`)."""
    h = headers[0][1] if headers else {}
    peaks = h.get("peaks", {})
    cps = compute_peaks(peaks, blas_arch(h))
    d = S.measured(S.step_view(df))
    d = d[(d.gflops > 0) & (d.bytes > 0)]
    if not cps or not peaks.get("peak_gbs"):
        return Fig(why_not="the run recorded no compute or memory peak.")
    if d.empty:
        return Fig(why_not="no measured cell has a FLOP and byte count.")
    (P, what), B = cps[0], peaks["peak_gbs"]
    fig, ax = subplots(figsize=(8.5, 4.6), layout="constrained")
    ai = d.flops / d.bytes
    shown = _headline_cells(d)
    room = 12 if (shown.flops / shown.bytes >= ai.max() / 1.01).any() else 3  # for its label
    x = np.logspace(np.log10(ai.min() / 3), np.log10(ai.max() * room), 200)
    roof = np.minimum(P, B * x)
    ax.plot(x, roof, "k-", lw=1.5, label=f"machine: {P:.0f} GFLOP/s, {B:.0f} GB/s")
    dtype = d.dtype.iloc[0]  # step_view: one dtype
    ceilings = _step_ceilings(ax, df, h, x, dtype, roof)
    busy = S.disturbed(d)
    for b, g in d[~busy].groupby("backend"):
        ax.scatter(g.flops / g.bytes, g.gflops, s=10, color=cols[b], alpha=0.7, label=b)
    if busy.any():
        ax.scatter(ai[busy], d.gflops[busy], s=18, facecolors="none", edgecolors="grey",
                   label="busy machine")
    rounds = rounds if dtype == "float64" else None  # the step table's times are float64
    _label_headline(ax, shown, ceilings.get(dtype), rounds)
    _log_axes(ax)
    ax.set_xlim(x[0], x[-1])
    ax.set(xlabel="arithmetic intensity (FLOP per compulsory byte)",
           ylabel="achieved GFLOP/s", title="Roofline of the training step")
    ax.grid(True, alpha=0.3)
    _legend_outside(fig, ax)
    return Fig(save(fig, out, "fig7_roofline.png", figures),
               _roofline_caption(d, P, what, B, ceilings, shown, dtype, bool(rounds)))


def _roofline_caption(d, P, what, B, ceilings, shown, dtype, rounds=False):
    """The roofline's caption; ``dtype`` is the cells' (one dtype: :func:`.select.step_view`),
    ``ceilings`` the step's ceilings drawn, by dtype."""
    above = d[d.gflops > P]
    cap = (f"The solid roof is the machine's: the compute rate this run measured at its "
           f"start, {P:.0f} GFLOP/s, by {what} (the first screen's host speed is over the "
           f"best of this machine kind); the slope is the streaming-copy bandwidth ({B:.0f} GB/s). "
           "FLOPs and bytes are counted analytically (compulsory traffic only); the intensity grows "
           "with n_h, so each column is one n_h, its lower points the smaller m.")
    other = [dt for dt in ceilings if dt != dtype]
    if dtype in ceilings:
        cap += (f" The cells shown are {dtype}. The dashed line is this step's own {dtype} "
                "ceiling (the work it cannot do without: one vectorised tanh and 2·n_x + 4 "
                "multiply-adds per example and hidden unit, measured on this machine), as "
                "GFLOP/s-equivalent: each n_h's counted FLOPs over its ceiling time, joined "
                "across the columns"
                + (f" (the broad pale line: the same in {other[0]}, at the intensities of the "
                   f"{other[0]} cells, which are not shown)" if other else "")
                + ". It counts compute only, so where the machine's roof is lower (bytes that "
                "cannot arrive faster) it follows the roof. A cell's height as a share of it is the headline table's \"% of the "
                "step's ceiling\".")
    elif other:
        cap += (f" The cells shown are {dtype}; the broad pale line is this step's own ceiling "
                f"in {other[0]} (one vectorised tanh and 2·n_x + 4 multiply-adds per example "
                f"and hidden unit), at the intensities of the {other[0]} cells, which are not "
                "shown; where the machine's roof is lower it follows the roof.")
    if len(above):
        cap += (f" {len(above)} cells lie above the machine's roof ("
                + ", ".join(sorted(set(above.backend))) + "): that roof is what its kernel "
                "reached, not the processor's theoretical peak, and those cells used a faster "
                "kernel.")
    if len(shown):
        cap += f" Circled and labelled: {HEADLINE} at the headline shapes" + (
            ", at its fastest round's time, as the headline table gives it (the dots are the "
            "cells' medians)." if rounds else ".")
    n_x = d.n_x.iloc[0]
    other = [f"n_x = {nx}, n_h = {nh}, m = {m:,}" for nx, nh, m in TARGETS if nx != n_x]
    if other:
        cap += (f" The figure shows n_x = {n_x} only; the headline shape{'s' * (len(other) > 1)} "
                f"{', '.join(other)} {'are' if len(other) > 1 else 'is'} in the headline table.")
    return cap


def fig_threads(df, out, cols, figures, cores=None):
    t = S.select_threads(df)
    if t.empty:
        return Fig(why_not="no cell was measured at one thread and at another thread count.")
    dts = list(dict.fromkeys(t.dtype))
    fig, axes = subplots(1, len(dts), figsize=(4.4 * len(dts) + 1.4, 3.6), squeeze=False,
                             sharey=True, layout="constrained")
    for ax, dt in zip(axes[0], dts):
        g = t[t.dtype == dt]
        order = g.drop_duplicates("label").sort_values("order")
        pos = {lab: i for i, lab in enumerate(order.label)}
        for b, gb in g.groupby("backend"):
            ax.plot([pos[x] for x in gb.label], gb.speedup, "o-", color=cols[b], label=b)
        ax.axhline(1.0, color="grey", lw=1, ls=":")
        ax.set_xticks(range(len(pos)), [f"all ({cores})" if lab == "all" and cores else lab
                                         for lab in pos])
        ax.set(xlabel="threads", title=f"{dt}: m = {g.m.iloc[0]:,}, n_h = {g.n_h.iloc[0]}")
        ax.grid(True, alpha=0.3)
    axes[0][0].set_ylabel("speed-up over 1 thread (×)")
    _legend_outside(fig, *axes[0])
    return Fig(save(fig, out, "fig8_threads.png", figures),
               "Per dtype, at the largest m measured at more than one thread count: time at one "
               "thread ÷ time at each thread count.")


def fig_compare(both, labels, out, figures):
    """Per common reliable cell, time in run 1 ÷ time in run 2. Returns (Fig, ratios)."""
    keys = ["backend", *S.KEYS]
    a = S.reliable(both[both.source == labels[0]]).set_index(keys).median_s
    b = S.reliable(both[both.source == labels[1]]).set_index(keys).median_s
    r = (a / b).dropna().rename("ratio").reset_index()
    fig, ax, empty = _one_panel(r, "the runs share no cell measured on a quiet machine.")
    if empty:
        return empty, r
    cols = colours(r.backend.unique())
    for be, g in r.groupby("backend"):
        ax.scatter(g.m, g.ratio, s=10, color=cols[be], label=be)
    ax.axhline(1, color="grey", ls=":")
    return _finish(fig, ax, out, "fig9_comparison.png", figures,
                   "Above 1: the first run was slower on that cell.", xlabel="m (examples)",
                   ylabel="time ratio", title=f"{labels[0]} ÷ {labels[1]}, per common cell"), r


def fig_fit_time_vs_m(df, out, cols, figures):
    """Time per step of a training run (op ``fit``) vs m, one panel per n_h, log-log; the
    knee of each line (:func:`.select.overhead_knees`) ringed; the caption says in one
    sentence where per-call overhead dominates (:func:`.text.overhead_sentence`)."""
    from .text import overhead_sentence
    d = S.select_fit_vs_m(df)
    if d.empty:
        return Fig(why_not="no training run (op fit) was measured at two or more m for one n_h.")
    nhs = sorted(d.n_h.unique())
    fig, axes = _panels(len(nhs), sharey=True)
    for (nh, b), g in d.sort_values("m").groupby(["n_h", "backend"]):
        ax, used = axes.flat[nhs.index(nh)], ~S.disturbed(g) & (g.status == "ok")
        ax.plot(g.m[used], g.median_s[used], "o-", color=cols[b], label=b, ms=3)
        knee = g[used & g.knee & (g.m < g.m[used].max())]
        ax.plot(knee.m, knee.median_s, "o", mfc="none", mec=cols[b], ms=9, mew=1.5)
        y = g.median_s.where(g.status == "ok", g.predicted_s)
        ax.plot(g.m[~used], y[~used], "x", color=cols[b], ms=6)
    for ax, nh in zip(axes.flat, nhs):
        _log_axes(ax)
        ax.set(title=f"n_h = {nh}", xlabel="m (examples)")
        ax.grid(True, which="major", alpha=0.3)
    for row in axes:
        row[0].set_ylabel("time per step of a training run (s)")
    axes.flat[0].plot([], [], "o", mfc="none", mec="grey", ms=9, label="end of the flat part")
    axes.flat[0].plot([], [], "x", color="grey", label="predicted or busy (not used)")
    _legend_outside(fig, *axes.flat)
    if len(nhs) > 1:  # one panel: its own title, so the legend beside it has the top
        fig.suptitle("Training run: time per step vs m")
    else:
        axes.flat[0].set_title(f"Training run, n_h = {nhs[0]}:\ntime per step vs m")
    steps = sorted({int(s) for s in d.steps.dropna()})
    cap = ("Median time per gradient-descent step, from runs of "
           + (f"{steps[0]:,}–{steps[-1]:,}" if len(steps) > 1 else f"{steps[0]:,}" if steps
              else "several")
           + " steps (fewer at large m); ringed: the largest m at which a line is still "
           f"within {S.OVERHEAD_FACTOR:g}× of its smallest-m time; × : predicted (over the "
           "time budget) or measured while the machine was busy. "
           + overhead_sentence(S.overhead_knees(d)))
    return Fig(save(fig, out, "fig10_fit_time_vs_m.png", figures), cap)


def fig_large_m(df, out, cols, figures):
    """Time per step and peak extra memory against m at the :data:`~fastnn.bench.grid.LARGE_M`
    width, each vectorised backend's line ending where its working set no longer fits (the
    skipped cells said in the caption); dashed: each backend's working-set model."""
    from ..bench.grid import LARGE_M, large_m_backends
    nx, nh = LARGE_M[0][:2]
    v = S.step_view(df)
    v = v[(v.n_x == nx) & (v.n_h == nh) & v.backend.isin(large_m_backends())]
    d = S.reliable(v)
    if d.m.nunique() < 2 or d.m.max() <= max(m for _, _, m in TARGETS):
        return Fig(why_not=f"the step was not measured beyond the headline m at n_h = {nh}.")
    fig, (ax_t, ax_m) = subplots(1, 2, figsize=(10.5, 3.9), layout="constrained")
    for b, g in d.sort_values("m").groupby("backend"):
        ax_t.plot(g.m, g.median_s, "o-", color=cols[b], label=b, ms=4)
        rss = pd.to_numeric(g.mem_rss_bytes, errors="coerce")
        tr = pd.to_numeric(g.mem_traced_bytes, errors="coerce")
        data = 8 * g.m * (g.n_x + g.n_y)  # X and Y, float64, made before the call
        step = pd.to_numeric(g.mem_step_bytes, errors="coerce")
        # the step's whole memory as measured (data, buffers held, peak temporaries); a run
        # before it was recorded: its data plus the call's peak extra
        mem = step.where(step.notna(), np.fmax(rss, tr) + data)
        ax_m.plot(g.m[mem.notna()], mem.dropna() / 2**30, "o-", color=cols[b], ms=4)
        model = pd.to_numeric(g.working_set_bytes, errors="coerce")
        ax_m.plot(g.m, model / 2**30, "--", color=cols[b], lw=1, alpha=0.8)
    ax_m.plot([], [], "k--", lw=1, label="working-set model")
    for ax, ylab in ((ax_t, "time per training step (s)"), (ax_m, "peak memory of the step (GiB)")):
        _log_axes(ax)
        ax.set(xlabel="m (examples)", ylabel=ylab)
        ax.grid(True, alpha=0.3)
    ax_t.set_title(f"Training step, n_x = {nx}, n_h = {nh}", fontsize=10)
    ax_m.set_title("Memory of one step, its data included", fontsize=10)
    _legend_outside(fig, ax_t, ax_m)
    skipped = v[v.status == "skipped"].sort_values("m")
    ends = "; ".join(f"{b} at m = {g.m.iloc[0]:,}: {g.message.iloc[0]}"
                     for b, g in skipped.groupby("backend"))
    last = d.groupby("backend").m.max()
    cap = ("Median time per step, and the memory of one step: the rise of the worker's peak "
           "resident set from before the cell's data was made to the end of one call — X and "
           "Y, the work arrays a backend keeps (numpy-inplace's buffers) and the call's "
           "temporaries (in a run before this was recorded: X and Y plus the call's peak extra "
           "memory) — against m; "
           "dashed: the backend's working-set model (`grid.working_set_bytes`), which the "
           "harness uses to skip a cell that would not fit. Largest m measured: "
           + ", ".join(f"{b} {m:,}" for b, m in last.items()) + "."
           + (f" Skipped, not measured: {ends}." if ends else ""))
    return Fig(save(fig, out, "fig11_large_m.png", figures), cap)
