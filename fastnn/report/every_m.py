"""The sections over every m measured: the network's backends as ratios per n_h and m, the
scaling fits t(m) = a + b·m^k and where the headline backend overtakes the reference.

Each computes a small dataclass of numbers (``*_numbers``) and renders it with the templates
below; nothing is worded while it is computed (a table cell that quotes a paired comparison is
the headline table's own cell, :func:`.headline.paired_text`, so one question has one number).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import fmt
from ..backends import HEADLINE, REFERENCE, REGISTRY, comparisons
from ..bench.grid import TARGETS
from . import select as S
from .headline import UNPAIRED, paired_text
from .notes import find
from .tables import md_table

# --- every m measured -------------------------------------------------------------------------

VECTORISE_ROW = ("- At m = {m:,}, n_h = {n_h}: `{b}` takes {t_b} per step and `{a}` {t_a}: "
                 "{a} ÷ {b} = {said}.")
VECTORISE_NONE = "_No training-step cell was measured on a quiet machine._"
VECTORISE_EMPTY = "_No two backends were measured on the same cells._"


@dataclass
class Vectorise:
    """The network's backends at the step, per n_h and m (at the headline shapes' n_x):
    ``rows`` the table's rows ({n_h, m, "A ÷ B": cell}), ``lines`` each comparison at its
    n_h's largest m ({n_h, m, a, b, t_a_s, t_b_s, said})."""
    rows: list = field(default_factory=list)
    lines: list = field(default_factory=list)


def vectorise_numbers(df, pairs, notes=None):
    """The :class:`Vectorise` of the results ``df``; against the headline backend a cell is the
    paired comparison of the headline table (its flags added to ``notes``). None without a quiet
    step cell; rows empty when no two backends share cells."""
    nx = TARGETS[0][0]
    d = S.reliable(S.step_view(df))
    d = d[d.n_x == nx]
    if d.empty:
        return None
    targets = sorted({t[1] for t in TARGETS if t[0] == nx} & set(d.n_h))
    shown = targets or sorted(d.n_h.unique())[:2]
    t = d[d.n_h.isin(shown)].pivot_table(index=["n_h", "m"], columns="backend",
                                         values="median_s")
    comps = [(a, b) for a, b in comparisons(d.backend.unique()) if not REGISTRY[a].peer]
    out, said = Vectorise(), {}
    for (nh, m), row in t.iterrows():
        r = {"n_h": nh, "m": f"{m:,}"}
        for a, b in comps:
            if a in row and b in row and np.isfinite(row[a] / row[b]):
                r[f"{a} ÷ {b}"] = said[nh, m, a, b] = (
                    paired_text(pairs, nx, nh, m, a, 0, row[a] / row[b], notes=notes)
                    if b == HEADLINE else _apart(pairs, nx, nh, m, a, b, row[a] / row[b]))
        if len(r) > 2:
            out.rows.append(r)
    for nh, g in t.reset_index().groupby("n_h"):
        for a, b in comps:
            if a not in g or b not in g or g.dropna(subset=[a, b]).empty:
                continue
            both = g.dropna(subset=[a, b])
            row = both.loc[both.m.idxmax()]
            # against the headline backend the sentence quotes the paired comparison: its times
            # are that comparison's (the minimum over its rounds), not the cells' medians
            c = find(pairs, nx, int(nh), int(row.m), a) if b == HEADLINE else None
            both = None if c else _both_paired(pairs, nx, int(nh), int(row.m), a, b)
            t_a, t_b = ((c.t_baseline_s, c.t_contender_s) if c else
                        (both[0].t_baseline_s, both[1].t_baseline_s) if both else (row[a], row[b]))
            out.lines.append(dict(n_h=int(nh), m=int(row.m), a=a, b=b, t_a_s=t_a, t_b_s=t_b,
                                  said=said[nh, row.m, a, b]))
    return out


def _apart(pairs, nx, nh, m, a, b, medians):
    """a ÷ b, neither the headline backend: their fastest rounds' ratio where both were paired
    at this shape (:func:`_both_paired`), else ``medians`` (the cells') said unpaired."""
    both = _both_paired(pairs, nx, nh, m, a, b)
    if both:
        return fmt.ratio(both[0].t_baseline_s / both[1].t_baseline_s)
    return UNPAIRED.format(ratio=fmt.ratio(medians))


def _both_paired(pairs, nx, nh, m, a, b):
    """(a's, b's) paired comparisons against the headline backend at one shape, whose
    baselines' fastest rounds give a ÷ b as the first screen does; None unless both exist."""
    ca, cb = find(pairs, nx, nh, m, a), find(pairs, nx, nh, m, b)
    return (ca, cb) if ca and cb and ca.t_baseline_s > 0 and cb.t_baseline_s > 0 else None


def render_vectorise(n):
    """The "every m measured" table and a sentence per comparison at its largest m."""
    if n is None:
        return VECTORISE_NONE
    if not n.rows:
        return VECTORISE_EMPTY
    lines = [VECTORISE_ROW.format(**r, t_a=fmt.seconds(r["t_a_s"]), t_b=fmt.seconds(r["t_b_s"]))
             for r in n.lines]
    return md_table(pd.DataFrame(n.rows).fillna("–"), "") + "\n\n" + "\n".join(lines)


def vectorise(df, pairs, notes=None):
    """:func:`render_vectorise` of :func:`vectorise_numbers`."""
    return render_vectorise(vectorise_numbers(df, pairs, notes))


# --- scaling fits and crossovers --------------------------------------------------------------

SCALING_FEW = ("Not fitted, with too few measured m (a fit of {params} parameters needs at least "
               "{points} points; counts in brackets): {few}.")
SCALING_EMPTY = "No backend and n_h has enough measured m for a fit."
CROSSOVER_ROW = "- n_h = {n_h}: by the fits, {headline} is faster than {reference} {where}"
CROSSOVER_FROM = "from m ≈ {m:,.0f} on."
CROSSOVER_ALWAYS = ("from m = 1 on (the fits do not cross up to m = 10⁸, beyond the largest m "
                    "measured).")
CROSSOVER_NEVER = "nowhere in m = 1 … 10⁸ (the fits do not cross)."


@dataclass
class Scaling:
    """The scaling fits of each (backend, n_h)'s quiet training-step medians: ``fits``
    {(backend, n_h): fit}, ``points`` {(backend, n_h): measured m}, ``few`` [(backend, n_h,
    points)] left without a fit."""
    fits: dict = field(default_factory=dict)
    points: dict = field(default_factory=dict)
    few: list = field(default_factory=list)


def scaling_numbers(df, fit_scaling):
    """The :class:`Scaling` of the results ``df`` by ``fit_scaling(m, t)``."""
    d = S.reliable(S.step_view(df))
    out = Scaling()
    for (b, nh), g in d.groupby(["backend", "n_h"]):
        f = fit_scaling(g.m, g.median_s)
        if f:
            out.fits[b, nh], out.points[b, nh] = f, len(g)
        else:
            out.few.append((b, nh, len(g)))
    return out


def scaling(n, params):
    """(the scaling-fit table, the sentence on the (backend, n_h) left without a fit) of a
    :class:`Scaling`; ``params``: the fit's parameter count."""
    rows = [{"backend": b, "n_h": nh, "a (fixed cost)": fmt.seconds(f["a"]), "b": f"{f['b']:.3g}",
             "k (slope)": f"{f['k']:.2f}", "fit rel. RMS": f"{100 * f['rel_rms']:.1f} %",
             "points": n.points[b, nh]} for (b, nh), f in n.fits.items()]
    few = (SCALING_FEW.format(params=params, points=params + 1, few=", ".join(
        f"{b} n_h={nh} ({k})" for b, nh, k in n.few)) if n.few else "")
    return md_table(pd.DataFrame(rows), SCALING_EMPTY), few


@dataclass
class Crossover:
    """Where the headline backend overtakes the reference at one n_h, by their scaling fits:
    from ``m`` on (None: never; at most 1: everywhere)."""
    n_h: int
    m: float | None


def crossover_numbers(fits, crossover):
    """[:class:`Crossover`] per n_h with scaling fits of both the reference and the headline
    backend, by ``crossover(f_ref, f_head)``."""
    return [Crossover(n_h=nh, m=crossover(fits[REFERENCE, nh], fits[HEADLINE, nh]))
            for nh in sorted({k[1] for k in fits})
            if (REFERENCE, nh) in fits and (HEADLINE, nh) in fits]


def render_crossover(c):
    """One crossover's sentence."""
    where = (CROSSOVER_FROM.format(m=c.m) if c.m and c.m > 1 else
             CROSSOVER_ALWAYS if c.m else CROSSOVER_NEVER)
    return CROSSOVER_ROW.format(n_h=c.n_h, headline=HEADLINE, reference=REFERENCE, where=where)


def crossovers(fits, crossover):
    """A sentence per n_h on where the headline backend overtakes the reference, by the fits."""
    return [render_crossover(c) for c in crossover_numbers(fits, crossover)]


__all__ = ["Crossover", "Scaling", "Vectorise", "crossover_numbers", "crossovers",
           "render_crossover", "render_vectorise", "scaling", "scaling_numbers", "vectorise",
           "vectorise_numbers"]
