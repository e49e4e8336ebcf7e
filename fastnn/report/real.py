"""The engineer's shapes: whole training runs on the real data sets, and the share of the
machine's GEMM rate each backend reaches where the step is mostly matrix products.

:func:`numbers` computes a :class:`RealSection` from a run's cells, its comparisons and its
header; :func:`render` words it with the templates below. Times per step are each cell's
minimum (:data:`fastnn.bench.stats.ESTIMATOR`); the ratios are the paired comparisons of the
first screen (the same objects, :func:`.notes.find`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import fmt
from ..backends import HEADLINE
from ..bench.ceiling import ceiling_s
from ..bench.grid import HEADLINE_OP, TARGETS
from ..datasets import DATASETS
from .notes import cases_of, find


@dataclass
class Side:
    """One backend's cell: seconds per step, the cost its run reached, GFLOP/s, and the
    comparison of the headline backend against it (None: not paired)."""
    backend: str
    t_s: float | None
    status: str
    final_cost: float | None = None
    gflops: float | None = None
    pair: object = None


@dataclass
class Problem:
    """One data set's training run (or one wide step shape) and its sides."""
    name: str
    description: str
    n_x: int
    n_h: int
    m: int
    steps: int
    lr: float | None
    sides: list = field(default_factory=list)
    ceiling_s: float | None = None  # of one step
    gemm_gflops: float | None = None


@dataclass
class RealSection:
    data: list   # of Problem, one per data set measured
    wide: list   # of Problem, one per step target shape with n_x > 2


def _cells(df, **match):
    sel = df
    for k, v in match.items():
        sel = sel[sel[k] == v]
    return sel


def _side(r, pairs, shape, op, data):
    """A backend's side: its time per step from the paired rounds where it was paired (the
    headline backend's from any of its comparisons), else its own cell's minimum."""
    ok = r.status == "ok" and np.isfinite(r.min_s)
    pair = None if r.backend == HEADLINE else find(pairs, *shape, r.backend, op=op, data=data)
    t = float(r.min_s) if ok else None
    if pair is not None:
        t = pair.t_baseline_s / pair.steps
    elif r.backend == HEADLINE:
        top = next((c for c in pairs if c.kind == "pair" and not c.case and c.op == op
                    and c.shape == tuple(shape) and c.data == data and c.contender == HEADLINE
                    and c.dtype == "float64" and c.baseline_dtype == "float64"
                    and c.contender_threads == 0), None)
        t = top.t_contender_s / top.steps if top is not None else t
    cost = getattr(r, "final_cost", None)
    flops = getattr(r, "flops", None)
    return Side(r.backend, t, r.status,
                float(cost) if cost is not None and np.isfinite(cost) else None,
                float(flops) / t / 1e9 if t and flops and flops > 0 else None, pair)


def numbers(df, pairs, header):
    """The :class:`RealSection` of one run: ``df`` its cells (a frame with ``data``),
    ``pairs`` its comparisons, ``header`` its results file's header."""
    pk = header.get("peaks") or {}
    fma, gemm = pk.get("fma_gflops"), pk.get("gemm_gflops")
    ceil = header.get("ceiling")
    data = df.data.fillna("") if "data" in df else None
    out = RealSection([], [])
    for name, d in DATASETS.items():
        sel = df[(data == name) & (df.dtype == "float64")] if data is not None else df[:0]
        if sel.empty:
            continue
        p = Problem(name, d.description, d.n_x, d.n_h, d.m, d.steps, d.lr,
                    ceiling_s=ceiling_s(ceil, d.m, d.n_h, d.n_x, "float64", fma, gemm),
                    gemm_gflops=gemm)
        p.sides = [_side(r, pairs, (d.n_x, d.n_h, d.m), "fit", name)
                   for r in sel.itertuples()]
        out.data.append(p)
    synthetic = df[data == ""] if data is not None else df
    for n_x, n_h, m in TARGETS:
        if n_x <= 2:
            continue
        sel = _cells(synthetic, op=HEADLINE_OP, n_x=n_x, n_h=n_h, m=m, dtype="float64",
                     threads=0)
        if sel.empty:
            continue
        p = Problem("step", "the training step", n_x, n_h, m, 1, None,
                    ceiling_s=ceiling_s(ceil, m, n_h, n_x, "float64", fma, gemm),
                    gemm_gflops=gemm)
        p.sides = [_side(r, pairs, (n_x, n_h, m), HEADLINE_OP, "") for r in sel.itertuples()]
        out.wide.append(p)
    return out


# --- words ------------------------------------------------------------------------------------

DATA_HEAD = ("Whole training runs (`fit`, tanh hidden units, sigmoid output, float64, all "
             "cores) on the real data sets of `fastnn.datasets`, standardised. Per step: the "
             "minimum over the interleaved rounds where a backend was paired with {headline} "
             "(the first screen's times), else over its own cell's values; \"{headline} "
             "faster\": the paired comparison, as on the first screen; the final cost is J "
             "before the last update.")
DATA_TITLE = "### {description}: n_h = {n_h}, {steps:,} steps, lr {lr:g}"
CEILING = ("{headline}'s step here reaches {share} of its ceiling ({ceiling} per step: "
           "vectorised tanh and multiply-adds at this machine's FMA peak, the two products at "
           "its measured GEMM rate, {gemm:.0f} GFLOP/s).")
CEILING_UNDER = ("{headline}'s step here takes {share} of its ceiling's time ({ceiling} per "
                 "step: vectorised tanh and multiply-adds at this machine's FMA peak, the two "
                 "products at its measured GEMM rate, {gemm:.0f} GFLOP/s): faster than that "
                 "ceiling, so the ceiling is under-measured here, not beaten.")
WIDE_HEAD = ("The step at n_x = {n_x}, {n_h} hidden units, m = {m}: mostly the two matrix "
             "products W1 X and dZ1 Xᵀ. Each backend's GFLOP/s (the step's analytic FLOPs over "
             "its time) and its share of this machine's measured dgemm rate ({gemm:.0f} "
             "GFLOP/s, n = 2048).")
STATUS = {"over_budget": "over budget", "skipped": "skipped", "failed": "failed",
          "wrong": "wrong"}


def _faster(side, pairs, notes):
    if side.backend == HEADLINE:
        return "–"
    if side.pair is None:
        return "not paired"
    return notes.cell(side.pair, cases_of(pairs, side.pair))


def _time(side):
    return fmt.seconds(side.t_s) if side.t_s is not None else STATUS.get(side.status, "–")


def render(sec, pairs, notes):
    """The section as Markdown ("" when the run measured neither); flags go to ``notes``
    (:class:`.notes.Notes`), as the first screen's."""
    lines = []
    if sec.data:
        lines += [DATA_HEAD.format(headline=HEADLINE), ""]
    for p in sec.data:
        lines += [DATA_TITLE.format(description=p.description, n_h=p.n_h, steps=p.steps,
                                    lr=p.lr), "",
                  f"| backend | per step | final cost | {HEADLINE} faster |", "|---|---|---|---|"]
        for s in sorted(p.sides, key=lambda s: (s.t_s is None, s.t_s or 0)):
            cost = "–" if s.final_cost is None else f"{s.final_cost:.4g}"
            lines.append(f"| {s.backend} | {_time(s)} | {cost} | {_faster(s, pairs, notes)} |")
        lines += ["", *_ceiling(p), ""]
    for p in sec.wide:
        if not p.gemm_gflops:
            continue
        lines += [WIDE_HEAD.format(n_x=p.n_x, n_h=p.n_h, m=fmt.count(p.m), gemm=p.gemm_gflops),
                  "", f"| backend | per step | GFLOP/s | share of dgemm | {HEADLINE} faster |",
                  "|---|---|---|---|---|"]
        for s in sorted(p.sides, key=lambda s: (s.t_s is None, s.t_s or 0)):
            g = "–" if s.gflops is None else f"{s.gflops:.0f}"
            share = "–" if s.gflops is None else fmt.percent(s.gflops / p.gemm_gflops)
            lines.append(f"| {s.backend} | {_time(s)} | {g} | {share} | {_faster(s, pairs, notes)} |")
        lines += ["", *_ceiling(p), ""]
    return "\n".join(lines).rstrip() + ("\n" if lines else "")


def _ceiling(p):
    top = next((s for s in p.sides if s.backend == HEADLINE and s.t_s), None)
    if top is None or not p.ceiling_s or not p.gemm_gflops:
        return []
    under = p.ceiling_s > top.t_s  # the step's share of the ceiling's time, else the reverse
    return [(CEILING_UNDER if under else CEILING).format(
        headline=HEADLINE, share=fmt.percent(top.t_s / p.ceiling_s if under
                                             else p.ceiling_s / top.t_s),
        ceiling=fmt.seconds(p.ceiling_s), gemm=p.gemm_gflops)]


__all__ = ["Problem", "RealSection", "Side", "numbers", "render"]
