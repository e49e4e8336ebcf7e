"""Plotting helpers shared by the report and the demo (matplotlib, no screen needed).

Figures are drawn on a :class:`~matplotlib.figure.Figure` with its own Agg canvas, never through
pyplot: nothing process-wide changes (matplotlib's backend, so a user's notebook or GUI backend
stays; pyplot's list of open figures), and a figure is freed when it is no longer referenced.
matplotlib is imported on the first figure, not with fastnn.
"""

from __future__ import annotations

import os

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
    """Write ``fig`` to ``out/name``. Returns ``name`` (appended to ``figures``)."""
    fig.savefig(os.path.join(out, name), dpi=110, bbox_inches="tight")
    if figures is not None:
        figures.append(name)
    return name


def colours(names=()):
    """One colour per backend, the same in every figure: registry order, then any others."""
    order = list(REGISTRY) + sorted(n for n in names if n not in REGISTRY)
    return {n: PALETTE[i % len(PALETTE)] for i, n in enumerate(order)}
