"""Report sections as numbers, then words: each section computes a small dataclass of numbers
(``*_numbers``) from the records, and a template (the upper-case strings) renders it, so what
a sentence says and what it computed can be read (and tested) apart. This module holds the
run's introduction, the compile's break-even and two runs compared; the headline tables' heads
are :mod:`.heads`', every m measured and the scaling fits :mod:`.every_m`'s (re-exported
here), the headline tables' rows :mod:`.headline`'s, the ladder's :mod:`.ladder`'s and the
modes' :mod:`.modes`'s.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import fmt
from ..backends import HEADLINE, REFERENCE
from . import select as S
from .every_m import (CROSSOVER_ALWAYS, CROSSOVER_FROM, CROSSOVER_NEVER, Crossover, Scaling,
                      Vectorise, crossover_numbers, crossovers, scaling, scaling_numbers,
                      vectorise, vectorise_numbers)
from .heads import (FitHead, Float32Head, HeadlineHead, TableNotes, fit_head, fit_numbers,
                    float32_head, float32_numbers, headline_head, headline_notes, notes_numbers)
from .tables import md_table

# --- the JIT compile's break-even -------------------------------------------------------------

BREAKEVEN_ROW = ("- n_h = {n_h}: at m = {m:,} {headline} saves {saved} per step, so a cold compile "
                 "({cold}) pays off after {steps:,} step{plural}.")
BREAKEVEN_CACHED = "\nWith the on-disk cache, the first call of a later process costs {cached} instead."
BREAKEVEN_NO_COMPILE = "_The run recorded no compile time._"
BREAKEVEN_NO_SAVING = "_{headline} saves no time over {reference} in any cell measured by both._"


@dataclass
class Breakeven:
    """The compile's cold and cached times (None: not recorded), and ``rows``: per n_h, at the
    largest m where the headline backend saves time over the reference, {n_h, m, saved_s,
    steps} (the steps a cold compile needs to pay off)."""
    cold_s: float | None
    cached_s: float | None
    rows: list = field(default_factory=list)


def breakeven_numbers(df, header):
    """The :class:`Breakeven` of the results ``df`` and their ``header``."""
    comp = (header or {}).get("compile", {})
    cold = comp.get("compile_cold_s")
    saved = S.time_saved(S.step_view(df))
    saved = saved[saved > 0].reset_index()
    rows = []
    for nh, g in saved.groupby("n_h") if cold else ():
        row = g.loc[g.m.idxmax()]
        # whole steps: after int(x) steps the compile is not yet paid for
        rows.append(dict(n_h=nh, m=int(row.m), saved_s=row.median_s,
                         steps=int(np.ceil(cold / row.median_s))))
    return Breakeven(cold_s=cold, cached_s=comp.get("compile_cached_s"), rows=rows)


def render_breakeven(n):
    """The break-even section's text."""
    if not n.cold_s:
        return BREAKEVEN_NO_COMPILE
    if not n.rows:
        return BREAKEVEN_NO_SAVING.format(headline=HEADLINE, reference=REFERENCE)
    out = [BREAKEVEN_ROW.format(**r, headline=HEADLINE, saved=fmt.seconds(r["saved_s"]),
                                plural="" if r["steps"] == 1 else "s",
                                cold=fmt.seconds(n.cold_s)) for r in n.rows]
    if n.cached_s is not None:
        out.append(BREAKEVEN_CACHED.format(cached=fmt.seconds(n.cached_s)))
    return "\n".join(out)


def breakeven(df, header):
    """:func:`render_breakeven` of :func:`breakeven_numbers`."""
    return render_breakeven(breakeven_numbers(df, header))


# --- the run: where the numbers come from -----------------------------------------------------

INTRO = ("This report was built from {source} ({file_list}): {cells} cells, {ok} measured."
         "{several} Every number below is computed from those records. A time is the median of one "
         "cell's repeated measurements; a band is their interquartile range.")
INTRO_SOURCE = "the results"
INTRO_COMMAND = "the results of `{command}`"
INTRO_WHEN = ", run on {datetime}"
INTRO_SEVERAL = (" Figures and tables show the first run; the others are compared with it at the "
                 "end.")
INTRO_BUSY = ("\n**This run was disturbed.** {busy} of {ok} measured cells were measured while "
              "another process competed for the CPU. They are drawn hollow in the figures and "
              "listed under Caveats; no ratio, fit, crossover or headline number uses them.")


@dataclass
class Intro:
    """The run the report was built from: its command and date (None: not recorded), its
    files, how many cells and how many measured, how many runs, how many cells were busy."""
    command: str | None
    datetime: str | None
    files: list
    cells: int
    ok: int
    runs: int
    busy: int


def intro_numbers(df, paths, headers):
    """The :class:`Intro` of the results ``df`` loaded from ``paths`` with ``headers``."""
    h = headers[0][1]
    m = S.measured(df)
    return Intro(command=h.get("command"), datetime=h.get("datetime"), files=list(paths),
                 cells=len(df), ok=int((df.status == "ok").sum()), runs=len(headers),
                 busy=int(S.disturbed(m).sum()))


def render_intro(n):
    """The lines under the first screen: which run, how many cells, and whether it was busy."""
    source = ((INTRO_COMMAND.format(command=n.command) if n.command else INTRO_SOURCE)
              + (INTRO_WHEN.format(datetime=n.datetime) if n.datetime else ""))
    text = [INTRO.format(source=source, file_list=", ".join(f"`{p}`" for p in n.files),
                         cells=n.cells, ok=n.ok,
                         several=INTRO_SEVERAL if n.runs > 1 else "")]
    if n.busy:
        text.append(INTRO_BUSY.format(busy=n.busy, ok=n.ok))
    return text


def intro(df, paths, headers):
    """:func:`render_intro` of :func:`intro_numbers`."""
    return render_intro(intro_numbers(df, paths, headers))


# --- two runs compared ------------------------------------------------------------------------

COMPARISON_HEAD = ("Median ratio of times, `{first}` ÷ `{second}`, over {cells} cells both runs "
                   "measured on a quiet machine:\n")


@dataclass
class Comparison:
    """Two runs compared: how many cells both measured quietly, and per backend the median
    ratio of their times (the first run's over the second's)."""
    cells: int
    by_backend: dict


def comparison_numbers(r):
    """The :class:`Comparison` of the comparison figure's per-cell ratios ``r`` (a frame with
    ``backend`` and ``ratio``)."""
    return Comparison(cells=len(r), by_backend=r.groupby("backend").ratio.median().to_dict())


def render_comparison(n, labels):
    """The comparison table's heading and table; ``labels``: the two runs' names."""
    g = pd.DataFrame({"backend": list(n.by_backend),
                      "ratio": [f"{v:.3g}" for v in n.by_backend.values()]})
    return [COMPARISON_HEAD.format(first=labels[0], second=labels[1], cells=n.cells),
            md_table(g, "")]


def comparison(r, labels):
    """:func:`render_comparison` of :func:`comparison_numbers`."""
    return render_comparison(comparison_numbers(r), labels)


__all__ = ["Breakeven", "CROSSOVER_ALWAYS", "CROSSOVER_FROM", "CROSSOVER_NEVER", "Comparison",
           "Crossover", "FitHead", "Float32Head", "HeadlineHead", "Intro", "Scaling",
           "TableNotes", "Vectorise", "breakeven", "breakeven_numbers", "comparison",
           "comparison_numbers", "crossover_numbers", "crossovers", "fit_head", "fit_numbers",
           "float32_head", "float32_numbers", "headline_head", "headline_notes", "intro",
           "intro_numbers", "notes_numbers", "render_breakeven", "render_comparison",
           "render_intro", "scaling", "scaling_numbers", "vectorise", "vectorise_numbers"]
