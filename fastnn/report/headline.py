"""The headline tables: one row per headline shape, the headline backend's time and its
speed-ups (a paired comparison with its interval and flag words, :mod:`.notes`), its share of
the step's ceiling and of the machine's peaks; a shape without a reliable headline cell says why.

Each table is computed as a :class:`Table` of :class:`Row` s (numbers, and the comparisons
themselves) by :func:`step_numbers`, :func:`float32_numbers` or :func:`fit_numbers`, then
rendered by :func:`render` with the column names and words below.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from .. import fmt
from ..backends import HEADLINE, REFERENCE, REGISTRY, names
from ..bench.ceiling import ceiling_s
from ..bench.grid import FIT_TARGETS, FLOAT32_TARGETS, TARGETS
from .notes import Notes, cases_of, find
from .select import FIT, STEP, disturbed, reliable
from .tables import md_table

#: Why a headline shape has no number, by :attr:`Missing.code`.
MISSING = {
    "absent": "not in these results",
    "predicted": "not measured: predicted {predicted}",
    "not_measured": "not measured",
    "busy": "measured while the machine was busy: not used",
    "status": "not measured ({status})",
}
UNPAIRED = "{ratio} (unpaired)"
SHAPE = "n_x={n_x}, n_h={n_h}, m={m:,}"
SHARE = "{percent:.0f} %"
SHARE_UNDER = "{percent:.0f} % (ceiling under-measured)"
GFLOPS = "{gflops:.1f} ({percent:.0f} %)"
GBS = "{gbs:.2f} ({percent:.1f} %)"
#: The columns of each table, by what they hold.
COLUMNS = {
    "step": {"time": f"{HEADLINE} time (cell median)",
             "rounds": f"{HEADLINE} time (fastest round)", "ceiling": "% of the step's ceiling",
             "gflops": "GFLOP/s (% of peak)", "gbs": "GB/s (% of peak)"},
    "float32": {"time": f"{HEADLINE} float32", "t64": f"{HEADLINE} float64",
                "rounds": f"{HEADLINE} float32 (fastest round)",
                "rounds_t64": f"{HEADLINE} float64 (fastest round)",
                "ceiling": "% of the float32 ceiling"},
    "fit": {"time": f"{HEADLINE} per step", "whole": f"{HEADLINE} whole run",
            "rounds": f"{HEADLINE} per step (fastest round)",
            "rounds_whole": f"{HEADLINE} whole run (fastest round)"},
}
SPEEDUP = {"over": "speed-up over {base}", "own64": "speed-up over its float64 step",
           "ref32": f"speed-up over {REFERENCE} float32"}
EMPTY = {"step": "No target shapes are declared.",
         "float32": "No float32 target shapes are declared.",
         "fit": "No training-run targets are declared."}


@dataclass
class Speedup:
    """The headline backend against one baseline (``kind`` "over" a backend, or in the float32
    table "own64" and "ref32"): the paired comparison and its per-case comparisons, else the
    ratio of the two medians ``apart`` (None: neither)."""
    base: str
    kind: str = "over"
    pair: object = None
    cases: list = field(default_factory=list)
    apart: float | None = None


@dataclass
class Missing:
    """Why a shape has no headline number: ``code`` one of :data:`MISSING`'s, with the
    predicted seconds or the status."""
    code: str
    predicted_s: float | None = None
    status: str | None = None


@dataclass
class Row:
    """One shape's row: its headline time ``t_s`` (None with ``missing``), its speed-ups, and
    what its table adds: the ceiling's time, GFLOP/s and GB/s (step), the headline backend's
    own float64 time (float32), the declared and the run steps (fit)."""
    n_x: int
    n_h: int
    m: int
    steps: int | None = None
    missing: Missing | None = None
    t_s: float | None = None
    speedups: list = field(default_factory=list)
    ceiling_s: float | None = None
    gflops: float | None = None
    gbs: float | None = None
    t64_s: float | None = None
    run_steps: int | None = None


@dataclass
class Table:
    """A headline table (``kind`` "step", "float32" or "fit"): its rows, whether it has a
    ceiling column, and the peaks its rates are a share of."""
    kind: str
    rows: list = field(default_factory=list)
    ceiling: bool = False
    peak_gflops: float | None = None
    peak_gbs: float | None = None
    rounds: bool = False  # the times are the rounds' (the first screen's), not cell medians


def _pick_threads(g):
    return g[g.threads == 0] if (g.threads == 0).any() else g[g.threads == g.threads.min()]


def speedup(pairs, nx, nh, m, base, threads, apart=None, op=STEP, dtype="float64",
            base_dtype=None, kind="over"):
    """The :class:`Speedup` of ``base`` against the headline backend at one op, shape and
    thread count. ``dtype`` is the contender's, ``base_dtype`` the baseline's (default: the
    same)."""
    p = find(pairs, nx, nh, m, base, op=op, dtype=dtype, baseline_dtype=base_dtype,
             threads=threads)
    return Speedup(base, kind, p, cases_of(pairs, p) if p is not None else [], apart)


def render_speedup(s, notes=None):
    """A speed-up as a cell: "R× [lo–hi]" and a one-word link per flag (its note added to
    ``notes``); without a comparison, the ratio of the medians marked "(unpaired)", else "–"."""
    if s.pair is None:
        return UNPAIRED.format(ratio=fmt.ratio(s.apart)) if s.apart is not None else "–"
    return (notes or Notes()).cell(s.pair, s.cases)


def paired_text(pairs, nx, nh, m, base, threads, apart=None, op=STEP, dtype="float64",
                base_dtype=None, notes=None):
    """:func:`render_speedup` of :func:`speedup`."""
    return render_speedup(speedup(pairs, nx, nh, m, base, threads, apart, op, dtype,
                                  base_dtype), notes)


def _rows(shapes, d, ok, fill):
    """A :class:`Row` per shape (n_x, n_h, m[, steps]); where the headline backend has a
    reliable cell, ``fill(row, g, t)`` adds the numbers (g: the cells there, t: their times by
    backend), else the row says why it has none."""
    rows = []
    for shape in shapes:
        nx, nh, m = shape[:3]
        row = Row(nx, nh, m, steps=shape[3] if len(shape) > 3 else None)
        here = ok[(ok.n_x == nx) & (ok.n_h == nh) & (ok.m == m)]
        g = _pick_threads(here) if len(here) else here
        t = g.set_index("backend").median_s
        if HEADLINE in t.index:
            row.t_s = t[HEADLINE]
            fill(row, g, t)
        else:
            row.missing = _missing(d[(d.n_x == nx) & (d.n_h == nh) & (d.m == m)
                                     & (d.backend == HEADLINE)])
        rows.append(row)
    return rows


def _missing(cells):
    """Why a target shape has no headline number: predicted, busy, failed or absent."""
    if cells.empty:
        return Missing("absent")
    pred = cells[cells.status == "over_budget"]
    if len(pred):
        p = pd.to_numeric(pred.predicted_s, errors="coerce").dropna()
        return Missing("predicted", p.iloc[0]) if len(p) else Missing("not_measured")
    if (disturbed(cells) & (cells.status == "ok")).any():
        return Missing("busy")
    return Missing("status", status=cells.status.iloc[0])


def _target_cells(df, op):
    """The cells of ``op`` a headline table reads (tanh, float64), and the reliable ones."""
    d = df[(df.op == op) & (df.hidden == "tanh") & (df.dtype == "float64")]
    return d, reliable(d)


def _speedups(df, g, t, pairs, row, op):
    """A :class:`Speedup` over the reference, the other backends the headline one is compared
    with and each peer in ``df``, where it was paired or both were measured."""
    out = []
    th = int(g.threads.iloc[0])
    own = [b for b in REGISTRY[HEADLINE].compare_to if not REGISTRY[b].per_example]
    for base in [b for b in dict.fromkeys((REFERENCE, *own) + names(peers=True))
                 if b in set(df.backend)]:
        apart = t[base] / t[HEADLINE] if base in t.index else None
        s = speedup(pairs, row.n_x, row.n_h, row.m, base, th, apart, op)
        if s.pair is not None or apart is not None:
            out.append(s)
    return out


def step_numbers(df, peaks_gflops=None, peak_gbs=None, pairs=None, ceiling=None,
                 fma_gflops=None, gemm_gflops=None):
    """The step's :class:`Table` at :data:`TARGETS`. ``ceiling`` (the header's): the step's own
    ceiling, priced at ``fma_gflops`` and its products at ``gemm_gflops`` from
    ``ceiling.GEMM_FROM_N_X`` inputs on; ``peaks_gflops``, ``peak_gbs``: the machine's peaks."""
    def fill(row, g, t):
        row.speedups = _speedups(df, g, t, pairs, row, STEP)
        nb = g[g.backend == HEADLINE].iloc[0]
        row.gflops, row.gbs = nb.get("gflops"), nb.get("gbs")  # a synthetic frame may lack them
        if ceiling:
            row.ceiling_s = ceiling_s(ceiling, row.m, row.n_h, row.n_x, "float64", fma_gflops,
                                      gemm_gflops)
    return _from_rounds(Table("step", _rows(TARGETS, *_target_cells(df, STEP), fill),
                              bool(ceiling), peaks_gflops, peak_gbs), pairs)


def _from_rounds(table, pairs, op=STEP):
    """The table with its headline times (and the rates computed from them) taken from the
    interleaved rounds, as the first screen's are, where every measured row has its paired
    comparison against the reference; else as it was (the cells' medians). A training run's
    time per step is its whole run's over the run's steps. In the float32 table the times are
    those of the headline backend's float32 step against its own float64 step."""
    rows = [r for r in table.rows if r.t_s is not None]
    found = [find(pairs, r.n_x, r.n_h, r.m, HEADLINE, op=op, dtype="float32",
                  baseline_dtype="float64") if table.kind == "float32" else
             find(pairs, r.n_x, r.n_h, r.m, REFERENCE, op=op) for r in rows]
    if not rows or not all(c is not None and c.t_contender_s > 0 for c in found):
        return table
    for r, c in zip(rows, found):
        t = c.t_contender_s / max(c.steps, 1)
        scale = r.t_s / t  # a rate over the rounds' time: the cell's, scaled
        r.gflops = None if r.gflops is None else r.gflops * scale
        r.gbs = None if r.gbs is None else r.gbs * scale
        r.t_s = t
        if table.kind == "float32":
            r.t64_s = c.t_baseline_s / max(c.steps, 1)
    table.rounds = True
    return table


def float32_numbers(df, pairs=None, ceiling=None, fma32_gflops=None):
    """The float32 :class:`Table` at :data:`FLOAT32_TARGETS`: the headline backend's float32
    step, its own float64 step, the speed-ups over both and over the reference's float32 step,
    and the float32 ceiling."""
    d = df[(df.op == STEP) & (df.hidden == "tanh") & (df.dtype == "float32")]
    ok64 = reliable(_target_cells(df, STEP)[0])

    def fill(row, g, t):
        nx, nh, m = row.n_x, row.n_h, row.m
        th = int(g.threads.iloc[0])
        h64 = ok64[(ok64.n_x == nx) & (ok64.n_h == nh) & (ok64.m == m)
                   & (ok64.backend == HEADLINE) & (ok64.threads == th)].median_s
        row.t64_s = h64.iloc[0] if len(h64) else None
        apart = row.t64_s / row.t_s if len(h64) else None
        row.speedups = [speedup(pairs, nx, nh, m, HEADLINE, th, apart, STEP, "float32",
                                "float64", kind="own64")]
        apart = t[REFERENCE] / t[HEADLINE] if REFERENCE in t.index else None
        row.speedups.append(speedup(pairs, nx, nh, m, REFERENCE, th, apart, STEP, "float32",
                                    kind="ref32"))
        if ceiling:
            row.ceiling_s = ceiling_s(ceiling, m, nh, nx, "float32", fma32_gflops)
    return _from_rounds(Table("float32", _rows(FLOAT32_TARGETS, d, reliable(d), fill),
                              bool(ceiling)), pairs)


def fit_numbers(df, pairs=None):
    """The training runs' :class:`Table` at :data:`FIT_TARGETS`: the steps of one run, the
    headline backend's time per step, and its speed-ups."""
    def fill(row, g, t):
        row.run_steps = int(g[g.backend == HEADLINE].steps.iloc[0])  # what was run
        row.speedups = _speedups(df, g, t, pairs, row, FIT)
    return _from_rounds(Table("fit", _rows(FIT_TARGETS, *_target_cells(df, FIT), fill)), pairs,
                        FIT)


def share(c, t):
    """The ceiling's time ``c`` as a share of the measured time ``t``: "–" with no ceiling
    (BLAS-width inputs, or none for the dtype); said when the step beat its ceiling (the
    ceiling was under-measured, not beaten)."""
    if not c:
        return "–"
    return (SHARE_UNDER if c > t else SHARE).format(percent=100 * c / t)


def _share_of_ceiling(ceiling, nx, nh, m, dtype, fma_gflops, t):
    """:func:`share` of the step's ceiling at one shape (``fma_gflops``: the machine's FMA peak
    in ``dtype``, which prices the multiply-adds)."""
    return share(ceiling_s(ceiling, m, nh, nx, dtype, fma_gflops), t)


def render(table, notes=None):
    """A headline :class:`Table` as Markdown; the comparisons' flags added to ``notes``."""
    col = dict(COLUMNS[table.kind])
    if table.rounds:
        col.update(time=col["rounds"], whole=col.get("rounds_whole"), t64=col.get("rounds_t64"))
    out = []
    for r in table.rows:
        row = {"shape": SHAPE.format(n_x=r.n_x, n_h=r.n_h, m=r.m)}
        if r.steps is not None:
            row["steps"] = f"{r.steps:,}"
        if r.missing is not None:
            mi = r.missing
            row[col["time"]] = MISSING[mi.code].format(predicted=fmt.seconds(mi.predicted_s),
                                                       status=mi.status)
            out.append(row)
            continue
        if table.kind == "fit":
            row.update({"steps": f"{r.run_steps:,}", col["time"]: fmt.seconds(r.t_s),
                        col["whole"]: fmt.seconds(r.run_steps * r.t_s)})
        else:
            row[col["time"]] = fmt.seconds(r.t_s)
        if table.kind == "float32":
            row[col["t64"]] = fmt.seconds(r.t64_s) if r.t64_s is not None else "–"
        for s in r.speedups:
            row[SPEEDUP[s.kind].format(base=s.base)] = render_speedup(s, notes)
        if table.ceiling:
            row[col["ceiling"]] = share(r.ceiling_s, r.t_s)
        if table.peak_gflops:
            row[col["gflops"]] = GFLOPS.format(gflops=r.gflops,
                                               percent=100 * r.gflops / table.peak_gflops)
        if table.peak_gbs:
            row[col["gbs"]] = GBS.format(gbs=r.gbs, percent=100 * r.gbs / table.peak_gbs)
        out.append(row)
    return md_table(pd.DataFrame(out).fillna("–"), EMPTY[table.kind])


def headline(df, peaks_gflops, peak_gbs, pairs=None, ceiling=None, fma_gflops=None,
             notes=None, gemm_gflops=None):
    """The step's headline table: :func:`render` of :func:`step_numbers`."""
    return render(step_numbers(df, peaks_gflops, peak_gbs, pairs, ceiling, fma_gflops,
                               gemm_gflops), notes)


def headline_float32(df, pairs=None, ceiling=None, fma32_gflops=None, notes=None):
    """The float32 headline table: :func:`render` of :func:`float32_numbers`."""
    return render(float32_numbers(df, pairs, ceiling, fma32_gflops), notes)


def headline_fit(df, pairs=None, notes=None):
    """The training runs' headline table: :func:`render` of :func:`fit_numbers`."""
    return render(fit_numbers(df, pairs), notes)


__all__ = ["Missing", "Row", "Speedup", "Table", "fit_numbers", "float32_numbers", "headline",
           "headline_fit", "headline_float32", "paired_text", "render", "render_speedup",
           "share", "speedup", "step_numbers"]
