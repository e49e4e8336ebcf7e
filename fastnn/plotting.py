"""Plotting helpers shared by the report and the demo (matplotlib, no screen needed)."""

from __future__ import annotations

import os

from .backends import REGISTRY

#: Okabe–Ito, colour-blind safe.
PALETTE = ["#000000", "#E69F00", "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#56B4E9",
           "#F0E442"]


def plt():
    """``matplotlib.pyplot`` on the Agg backend (files only)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as pyplot
    return pyplot


def save(fig, out, name, figures=None):
    """Write ``fig`` to ``out/name`` and close it. Returns ``name`` (appended to ``figures``)."""
    fig.savefig(os.path.join(out, name), dpi=110, bbox_inches="tight")
    plt().close(fig)
    if figures is not None:
        figures.append(name)
    return name


def colours(names=()):
    """One colour per backend, the same in every figure: registry order, then any others."""
    order = list(REGISTRY) + sorted(n for n in names if n not in REGISTRY)
    return {n: PALETTE[i % len(PALETTE)] for i, n in enumerate(order)}
