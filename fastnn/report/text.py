"""The report's words, by section: this module gathers them for :mod:`.build` (and the
figures' captions) and holds the training run's overhead sentence. Each section lives in its own
module, where it computes its numbers and renders them with templates: the machine
(:mod:`.facts`), the caveats (:mod:`.caveats`), the headline tables (:mod:`.headline`); the
small shared formats are :mod:`.tables`' and :mod:`fastnn.fmt`'s.
"""

from __future__ import annotations

from .. import fmt
from ..fmt import seconds as fmt_s
from .caveats import MODEL_FLOOR, MODEL_SLACK, caveats
from .facts import blas_arch, compute_peaks, machine_md
from .headline import _share_of_ceiling, headline, headline_fit, headline_float32, paired_text
from .select import OVERHEAD_FACTOR
from .tables import describe_cell, faster_or_slower, fmt_ratio, md_table


def overhead_sentence(knees, factor=OVERHEAD_FACTOR):
    """One sentence on where per-call overhead dominates a training run's step, from
    :func:`.select.overhead_knees` (at its smallest n_h, where overhead shows most); "" when
    there is no line with two measured m."""
    if knees.empty:
        return ""
    nh = int(knees.n_h.min())
    k = knees[knees.n_h == nh].sort_values(["flat", "m_knee", "backend"],
                                           ascending=[False, False, True])
    where = [f"at every m measured (to m = {r.m_max:,})" if r.flat else
             f"up to m = {r.m_knee:,}" for r in k.itertuples()]
    parts = [f"{w} on {fmt.listed(list(k.backend[[x == w for x in where]]))}"
             for w in dict.fromkeys(where)]
    listed = fmt.listed(parts)
    tail = ("" if k.flat.all() else "; beyond, it grows with m: the kernel's work dominates")
    return (f"At n_h = {nh}, per-call overhead dominates a training run's step {listed} (its "
            f"time stays within {factor:g}× of its value at the smallest m){tail}.")


__all__ = ["MODEL_FLOOR", "MODEL_SLACK", "blas_arch", "caveats", "compute_peaks", "describe_cell",
           "faster_or_slower", "fmt_ratio", "fmt_s", "headline", "headline_fit",
           "headline_float32", "machine_md", "md_table", "overhead_sentence", "paired_text",
           "_share_of_ceiling"]
