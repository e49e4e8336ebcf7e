"""Plotting helpers shared by the report and the demo (matplotlib, no screen needed).

Figures are drawn on a :class:`~matplotlib.figure.Figure` with its own Agg canvas, never through
pyplot: nothing process-wide changes (matplotlib's backend, so a user's notebook or GUI backend
stays; pyplot's list of open figures), and a figure is freed when it is no longer referenced.
matplotlib is imported on the first figure, not with fastnn.
"""

from __future__ import annotations

import io
import os
import tempfile

from .backends import REGISTRY

#: Okabe–Ito, colour-blind safe.
PALETTE = ["#000000", "#E69F00", "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#56B4E9",
           "#F0E442"]


#: keyword arguments of ``pyplot.subplots`` that belong to the figure, not to its axes
_FIGURE_KW = ("figsize", "dpi", "layout", "facecolor")


def subplots(nrows=1, ncols=1, **kw):
    """A new figure and its axes, as ``matplotlib.pyplot.subplots(nrows, ncols, **kw)`` gives
    them, on the figure's own Agg canvas (files only): pyplot is not involved."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(**{k: kw.pop(k) for k in _FIGURE_KW if k in kw})
    FigureCanvasAgg(fig)
    return fig, fig.subplots(nrows, ncols, **kw)


def save(fig, out, name, figures=None):
    """Write ``fig`` to ``out/name``. Returns ``name`` (appended to ``figures``).

    The file is replaced whole (a temporary file beside it, then ``os.replace``), so a symbolic
    link named ``name`` in a shared results folder is replaced, never written through.
    """
    buf = io.BytesIO()
    fig.savefig(buf, format=os.path.splitext(name)[1][1:] or "png", dpi=110,
                bbox_inches="tight")
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=out)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(buf.getvalue())
        os.chmod(tmp, 0o644)
        os.replace(tmp, os.path.join(out, name))
    except BaseException:
        if os.path.lexists(tmp):
            os.remove(tmp)
        raise
    if figures is not None:
        figures.append(name)
    return name


def colours(names=()):
    """One colour per backend, the same in every figure: registry order, then any others."""
    order = list(REGISTRY) + sorted(n for n in names if n not in REGISTRY)
    return {n: PALETTE[i % len(PALETTE)] for i, n in enumerate(order)}


def rung_label(backend, threads):
    """A ladder rung's name: "numba (1 thread)", "numba (all cores)"."""
    from .fmt import threads as threads_
    return f"{backend} ({threads_(threads)})"


#: What the ladder's last rung adds: the headline backend again, on all cores.
THREADS_ADDS = "threads: the compiled step on all cores"


def rung_adds(backend, threads):
    """What a ladder rung adds over the one before it: its registry ``ladder`` phrase, or
    :data:`THREADS_ADDS` for the headline backend on all cores."""
    from .backends import HEADLINE
    return THREADS_ADDS if backend == HEADLINE and threads == 0 else REGISTRY[backend].ladder


def factor_adds(f):
    """What a ladder factor (a :class:`fastnn.bench.records.Comparison`) adds: an older file's
    stored phrase as it was written, else :func:`rung_adds` of its contender."""
    return f.adds or rung_adds(f.contender, f.contender_threads)


def ladder_figure(summaries, cols=None):
    """The ladder of the step's speed-up: one panel per shape, one bar per rung (its time per
    step, log scale; hatched where a per-example rung ran at a smaller m, scaled to m), each
    rung's factor over the rung before written under its bar. ``summaries``:
    :func:`fastnn.bench.ladder.summary` dicts. Returns the figure."""
    from matplotlib.ticker import LogLocator

    from .fmt import factor, faster, interval
    cols = cols or colours()
    n = len(summaries)
    fig, axes = subplots(1, n, figsize=(4.6 * n, 4.4), squeeze=False, layout="constrained")
    for ax, s in zip(axes[0], summaries):
        rungs = s["rungs"]
        x = list(range(len(rungs)))
        m = s["shape"][2]
        for i, r in enumerate(rungs):
            ax.bar(i, r["t_s"], color=cols.get(r["backend"], "grey"), width=0.7,
                   hatch="//" if r["m_run"] < m else None, edgecolor="white",
                   alpha=0.55 if r["threads"] != 0 and r["backend"] == rungs[-1]["backend"]
                   else 1.0)
        ticks = [rung_label(r["backend"], r["threads"]).replace(" (", "\n(") for r in rungs]
        for i, f in enumerate(s["factors"]):  # under each bar: its factor over the bar before
            ticks[i + 1] += "\n" + (f"×{factor(f.ratio)}" if f.ratio >= 1 else faster(f.ratio))
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(base=10))
        ax.set_xticks(x, ticks, fontsize=7.5)
        ax.set_ylabel("time per training step (s)")
        nx, nh, _ = s["shape"]
        rounds = s["factors"][0].rounds
        d = s.get("direct")  # the direct ratio, with its interval (the product is its ratio)
        whole = (interval(d.ratio, d.lo, d.hi) if d is not None and d.hi > d.lo
                 else f"{factor(s['product'])}×")
        ax.set_title(f"n_x={nx}, n_h={nh}, m={m:,}\n{rungs[0]['backend']} ÷ "
                     f"{rungs[-1]['backend']}: {whole}\n({s.get('estimator', 'median')}s of "
                     f"the same {rounds} rounds;\nunder each bar: its factor over the bar to "
                     f"its left)", fontsize=9)
        ax.grid(axis="y", alpha=0.3, which="both")
    return fig


def plain_log_y(ax):
    """Plain tick labels (``0.2``, ``0.5``, ``1``) on a log y axis, where matplotlib would write
    ``2×10⁻¹``: a cost's axis read by a first-time reader."""
    from matplotlib.ticker import LogLocator, NullFormatter, StrMethodFormatter

    ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 3.0, 5.0)))
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())
