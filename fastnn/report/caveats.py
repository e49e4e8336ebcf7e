"""The caveats the data shows: busy cells, noisy cells, workers that disagree, memory beyond its
model, multimodal cells, and the cells not measured (with an example of why, worded by
:mod:`.reasons` when the frame was loaded).

:func:`numbers` computes a :class:`Caveats` from the results frame; :func:`render` words it with
the templates below.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .select import disturbed, measured, reliable
from .tables import describe_cell

#: A cell's step memory is said to exceed its model beyond this share and this many bytes
#: (below them: page granularity, the interpreter's own allocations).
MODEL_SLACK = 0.10
MODEL_FLOOR = 8 * 2**20
#: A cell is noisy when its IQR exceeds this share of its median.
NOISY = 0.2
#: At most this many cells are named per caveat, and this many examples of why per status.
SHOWN, EXAMPLES = 5, 2

BUSY = ("- {n} cells were measured while the machine was busy and are not used for any ratio, "
        "fit or conclusion (hollow markers in the figures): {where}.")
BUSY_AT = "{backend} at m = {m:,} ({n} cells)"
NOISY_LINE = ("- {n} of {ok} measured cells are noisy: their interquartile range exceeds "
              "{noisy:.0f} % of the median. Worst: {worst}.")
NOISY_AT = "{cell} ({percent:.0f} %)"
SPLIT = ("- {n} cells were measured in several worker processes whose medians differ by more "
         "than each worker's own spread (the cell's time is the median of all their values; the "
         "spread between workers is what a quoted interval must cover): {cells}.")
SPLIT_AT = "{cell}: {words}"
OVER_MODEL = ("- {n} cells' measured step memory exceeded their backend's working-set model "
              "(grid.working_set_bytes) by more than {slack:.0f} % and {floor} MiB, which the "
              "harness uses to skip a cell that would not fit; the largest excess first: {cells}.")
OVER_MODEL_AT = "{cell} ({step:,.0f} MiB measured, {model:,.0f} MiB modelled)"
MULTIMODAL = ("- {n} {are} multimodal: their values fall into groups more than 25 % apart, so "
              "their median depends on which group a run hit: {cells}.")
STATUS = "- {n} cells {what}.{examples}"
#: After a list that shows only some of the cells it counts.
MORE = "; and {more} more"
STATUS_WHAT = {
    "over_budget": ("were over their time budget, so they were predicted, not measured (the "
                    "time-vs-m figure, of the float64 training step on all cores, draws such a cell "
                    "dashed where its backend has two or more m at that n_h)"),
    "skipped": "were skipped by declaration",
    "failed": "failed",
    "wrong": "disagreed with the reference and were not timed",
}
EXAMPLE = "\n  - e.g. “{words}”"
NONE = "- None found in the data."


@dataclass
class Caveats:
    """What the data says about its reliability: ``busy`` [(backend, m, cells)]; ``ok`` the
    reliable cells; ``noisy`` the noisiest [(cell, IQR over median)] of ``n_noisy``; ``split``
    [(cell, the words of its workers' disagreement)]; ``over_model`` the largest [(cell, step
    bytes, model bytes)] of ``n_over_model``; ``multimodal`` [cell] of ``n_multimodal``;
    ``statuses`` [(status, cells, [examples of why])] for each status other than ok."""
    busy: list = field(default_factory=list)
    ok: int = 0
    noisy: list = field(default_factory=list)
    n_noisy: int = 0
    split: list = field(default_factory=list)
    n_split: int = 0
    over_model: list = field(default_factory=list)
    n_over_model: int = 0
    multimodal: list = field(default_factory=list)
    n_multimodal: int = 0
    statuses: list = field(default_factory=list)


def over_model(ok):
    """The cells whose measured step memory (``mem_step_bytes``; in a run before it was
    recorded, X and Y plus the call's peak extra) exceeds their working-set model by more than
    :data:`MODEL_SLACK` and :data:`MODEL_FLOOR`, largest excess first, with a ``step`` column."""
    step = pd.to_numeric(ok.get("mem_step_bytes"), errors="coerce") if "mem_step_bytes" in ok \
        else pd.Series(np.nan, index=ok.index)
    extra = np.fmax(pd.to_numeric(ok.mem_rss_bytes, errors="coerce"),
                    pd.to_numeric(ok.mem_traced_bytes, errors="coerce"))
    item = np.where(ok.dtype.astype(str) == "float32", 4, 8)
    step = step.where(step.notna(), extra + item * ok.m * (ok.n_x + ok.n_y))
    model = pd.to_numeric(ok.working_set_bytes, errors="coerce")
    excess = step - model
    sel = (excess > MODEL_SLACK * model) & (excess > MODEL_FLOOR)
    return ok.assign(step=step, excess=excess)[sel].sort_values("excess", ascending=False)


def _examples(words, n=EXAMPLES):
    """The ``n`` most frequent non-empty texts of a column."""
    words = words.dropna().astype(str)
    return list(words[words != ""].value_counts().index[:n])


def numbers(df):
    """The :class:`Caveats` of the results frame ``df`` (its ``message`` and
    ``workers_disagree`` worded at load, :func:`.build.load_results`)."""
    out = Caveats()
    dist = measured(df)[disturbed(measured(df))]
    out.busy = [(b, int(m), int(n)) for (b, m), n in dist.groupby(["backend", "m"]).size().items()]
    ok = reliable(df)
    out.ok = len(ok)
    if len(ok):
        rel = ok.iqr_s / ok.median_s
        noisy = ok.assign(rel=rel)[rel > NOISY].sort_values("rel", ascending=False)
        out.n_noisy = len(noisy)
        out.noisy = [(describe_cell(r), float(r.rel)) for r in noisy.head(SHOWN).itertuples()]
        if "workers_disagree" in ok:
            split = ok[ok.workers_disagree.fillna("").astype(str) != ""]
            out.n_split = len(split)
            out.split = [(describe_cell(r), r.workers_disagree)
                         for r in split.head(SHOWN).itertuples()]
        if "working_set_bytes" in ok:
            over = over_model(ok)
            out.n_over_model = len(over)
            out.over_model = [(describe_cell(r), r.step, r.working_set_bytes)
                              for r in over.head(SHOWN).itertuples()]
        multi = ok[ok.n_modes.fillna(0) > 1] if "n_modes" in ok else ok.iloc[:0]
        out.n_multimodal = len(multi)
        out.multimodal = [describe_cell(r) for r in multi.head(SHOWN).itertuples()]
    for status in STATUS_WHAT:
        sel = df[df.status == status]
        if len(sel):
            out.statuses.append((status, len(sel), _examples(sel.message)))
    return out


def render(n):
    """The caveats as Markdown bullets."""
    out = []
    if n.busy:
        out.append(BUSY.format(n=sum(k for *_, k in n.busy), where="; ".join(
            BUSY_AT.format(backend=b, m=m, n=k) for b, m, k in n.busy)))
    if n.n_noisy:
        out.append(NOISY_LINE.format(n=n.n_noisy, ok=n.ok, noisy=100 * NOISY, worst="; ".join(
            NOISY_AT.format(cell=c, percent=100 * r) for c, r in n.noisy)))
    if n.n_split:
        out.append(SPLIT.format(n=n.n_split, cells="; ".join(
            SPLIT_AT.format(cell=c, words=w) for c, w in n.split) + _more(n.n_split, n.split)))
    if n.n_over_model:
        out.append(OVER_MODEL.format(
            n=n.n_over_model, slack=100 * MODEL_SLACK, floor=MODEL_FLOOR >> 20, cells="; ".join(
                OVER_MODEL_AT.format(cell=c, step=s / 2**20, model=m / 2**20)
                for c, s, m in n.over_model) + _more(n.n_over_model, n.over_model)))
    if n.n_multimodal:
        out.append(MULTIMODAL.format(n=n.n_multimodal,
                                     are="cells are" if n.n_multimodal > 1 else "cell is",
                                     cells="; ".join(n.multimodal)
                                     + _more(n.n_multimodal, n.multimodal)))
    for status, k, examples in n.statuses:
        out.append(STATUS.format(n=k, what=STATUS_WHAT[status], examples="".join(
            EXAMPLE.format(words=w) for w in examples)))
    return "\n".join(out) or NONE


def caveats(df):
    """:func:`render` of :func:`numbers`."""
    return render(numbers(df))


def _more(n, shown):
    """:data:`MORE` when a list shows fewer of its ``n`` cells than it counts, else ""."""
    return MORE.format(more=n - len(shown)) if n > len(shown) else ""


__all__ = ["Caveats", "MODEL_FLOOR", "MODEL_SLACK", "caveats", "numbers", "over_model", "render"]
