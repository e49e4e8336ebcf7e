"""The headline speed-ups and the ladder, as comparisons computed from interleaved rounds.

Which sides are measured together (:func:`plan`): at every headline shape a run measured, the
headline backend against what it is compared to in the registry (its vectorised ``compare_to``
entries) and the peers, all on all cores; at a float32 shape its float64 step too; at a step
shape with a ladder, the ladder's rungs (:func:`.ladder.rungs`) in the same rounds. The rounds
are :mod:`.rounds`'; a comparison (:func:`compare`) is the ratio of the two sides'
:data:`.stats.ESTIMATOR` over the rounds both ran, with its bootstrap interval, its flags as
data (:class:`.stats.Flag`), and, where the baseline's rounds fall into memory cases
(:func:`.stats.cases`), one comparison per case with the share of rounds it held. This module
writes no prose: :mod:`fastnn.report` words the numbers.
"""

from __future__ import annotations

import numpy as np

from . import stats
from .records import Comparison
from .store import PAIRED  # noqa: F401  (where the comparisons are written)

#: Names of memory cases by how many there are (fastest first).
CASE_NAMES = {2: ("fast", "slow"), 3: ("fast", "middle", "slow")}


def _aligned(series, sides):
    """The round ids every one of ``sides`` ran, and each side's per-round lists on them."""
    ids = sorted(set.intersection(*(set(s.round_ids) for s in sides)))
    out = []
    for s in sides:
        at = {r: i for i, r in enumerate(s.round_ids)}
        pick = [at[r] for r in ids]
        out.append({k: [getattr(s, k)[i] for i in pick] if len(getattr(s, k)) == len(s.round_ids)
                    else [] for k in ("rounds_s", "system_s", "others_s")})
    return ids, out


def _canary(series, ids, fma_gflops):
    """The median canary of rounds ``ids`` over ``fma_gflops`` (:func:`.run.reference_peak`), or None."""
    c = [series.canary_gflops[i] for i in ids
         if i < len(series.canary_gflops) and series.canary_gflops[i]]
    return float(np.median(c)) / fma_gflops if c and fma_gflops else None


def compare(series, base, top, *, kind="pair", fma_gflops=None, ids=None, cases=True):
    """The comparisons of side ``top`` (contender) against ``base`` (baseline) in ``series``:
    the one over all their common rounds (or ``ids``), then, with ``cases`` and where the
    baseline's rounds fall into memory cases, one per case. [] with fewer than two rounds."""
    common, (a, b) = _aligned(series, [base, top])
    ids = common if ids is None else [i for i in ids if i in set(common)]
    keep = [common.index(i) for i in ids]
    a = {k: [v[i] for i in keep] if v else [] for k, v in a.items()}
    b = {k: [v[i] for i in keep] if v else [] for k, v in b.items()}
    if len(ids) < 2:
        return []
    out = [_one(series, base, top, a, b, ids, kind, fma_gflops, "", 1.0)]
    groups = stats.cases(a["rounds_s"]) if cases else []
    if len(groups) > 1:
        out[0].flags.append(stats.Flag.CASES.value)
        names = CASE_NAMES.get(len(groups)) or tuple(str(i + 1) for i in range(len(groups)))
        for name, g in zip(names, groups):
            if len(g) < 2:
                continue
            pick = {k: [v[i] for i in g] if v else [] for k, v in a.items()}
            pick_b = {k: [v[i] for i in g] if v else [] for k, v in b.items()}
            out.append(_one(series, base, top, pick, pick_b, [ids[i] for i in g], kind,
                            fma_gflops, name, len(g) / len(ids)))
    return out


def _one(series, base, top, a, b, ids, kind, fma_gflops, case, share):
    ratio, lo, hi = stats.ratio_interval(a["rounds_s"], b["rounds_s"])
    flags = []
    if lo < ratio * (1 - stats.WIDE) or hi > ratio * (1 + stats.WIDE):
        flags.append(stats.Flag.WIDE.value)
    if series.disturbed:
        flags.append(stats.Flag.BUSY.value)
    host = _canary(series, ids, fma_gflops)
    if host is not None and host < stats.SLOW_HOST:
        flags.append(stats.Flag.SLOW_HOST.value)
    if min(base.m_run, top.m_run) < series.m:
        flags.append(stats.Flag.SCALED.value)
    moved = None
    if stats.Flag.WIDE.value in flags:
        def kept(d):
            return d if d and None not in d else None
        mv = stats.moved({"baseline": a["rounds_s"], "contender": b["rounds_s"]},
                         {"baseline": kept(a["system_s"]), "contender": kept(b["system_s"])},
                         {"baseline": kept(a["others_s"]), "contender": kept(b["others_s"])})
        moved = dict(side=mv.side, lo_s=mv.lo_s, hi_s=mv.hi_s, cause=mv.cause.value,
                     kernel_s=mv.kernel_s, others_s=mv.others_s)

    def counter(d):
        return list(d) if d and None not in d else []
    return Comparison(
        op=series.op, data=series.data, n_x=series.n_x, n_h=series.n_h, m=series.m, steps=series.steps,
        baseline=base.backend, contender=top.backend, ratio=ratio, lo=lo, hi=hi,
        dtype=top.dtype, baseline_dtype=base.dtype, threads=top.threads,
        baseline_threads=base.threads, contender_threads=top.threads,
        estimator=stats.ESTIMATOR, case=case, share=share, rounds=len(ids), kind=kind,
        baseline_m=base.m_run, contender_m=top.m_run,
        t_baseline_s=stats.estimate(a["rounds_s"]), t_contender_s=stats.estimate(b["rounds_s"]),
        flags=flags, moved=moved, canary=host,
        per_round=[x / y for x, y in zip(a["rounds_s"], b["rounds_s"])],
        rounds_baseline_s=list(a["rounds_s"]), rounds_contender_s=list(b["rounds_s"]),
        system_baseline_s=counter(a["system_s"]), system_contender_s=counter(b["system_s"]),
        others_baseline_s=counter(a["others_s"]), others_contender_s=counter(b["others_s"]),
        disturbed=series.disturbed, over=dict(series.over), reason=series.reason)


def ladder(series, fma_gflops=None):
    """The ladder of one :class:`.records.Series` holding every rung: a ``factor`` comparison
    per pair of adjacent rungs and the ``direct`` one (first over last), all over the rounds
    every rung ran; [] when a rung is missing."""
    from .grid import HEADLINE_OP
    from .ladder import rungs
    if series.op != HEADLINE_OP:
        return []
    sides = [series.side(b, "float64", t) for b, t in rungs()]
    if any(s is None for s in sides):
        return []
    ids, times = _aligned(series, sides)
    out = []
    for a, b in zip(sides, sides[1:]):
        out += compare(series, a, b, kind="factor", fma_gflops=fma_gflops, ids=ids,
                       cases=False)
    out += compare(series, sides[0], sides[-1], kind="direct", fma_gflops=fma_gflops, ids=ids,
                   cases=False)
    return out + _ladder_cases(series, sides, ids, times, out, fma_gflops)


def _ladder_cases(series, sides, ids, times, factors, fma_gflops):
    """Where the reference rung's (NumPy's) rounds fall into memory cases: its two factors
    flagged ``cases`` and computed again over each case's rounds (``case``, ``share``); the
    other factors do not involve its memory and stay as they are."""
    from ..backends import REFERENCE
    at = next((i for i, s in enumerate(sides) if s.backend == REFERENCE), None)
    if at is None or len(ids) < 2:
        return []
    groups = stats.cases(times[at]["rounds_s"])
    if len(groups) < 2:
        return []
    names = CASE_NAMES.get(len(groups)) or tuple(str(i + 1) for i in range(len(groups)))
    out = []
    for j in (at - 1, at):  # the factor into the reference rung and the one out of it
        if j < 0 or j + 1 >= len(sides):
            continue
        a, b = sides[j], sides[j + 1]
        f = next(f for f in factors if f.kind == "factor" and f.baseline == a.backend
                 and f.baseline_threads == a.threads and f.contender == b.backend
                 and f.contender_threads == b.threads)
        f.flags.append(stats.Flag.CASES.value)
        for name, g in zip(names, groups):
            if len(g) < 2:
                continue
            for c in compare(series, a, b, kind="factor", fma_gflops=fma_gflops,
                             ids=[ids[i] for i in g], cases=False):
                c.case, c.share = name, len(g) / len(ids)
                out.append(c)
    return out


def headline_sides(op, present):
    """The backends measured beside the headline one at a headline shape of ``op``: its
    vectorised ``compare_to`` entries and the peers implementing ``op``, of those ``present``."""
    from ..backends import HEADLINE, REGISTRY, names
    own = [b for b in REGISTRY[HEADLINE].compare_to
           if b in present and not REGISTRY[b].per_example and op in REGISTRY[b].ops]
    return own + [p for p in names(peers=True) if p in present and op in REGISTRY[p].ops]


def plan(done, ladder_shapes=()):
    """The groups of sides to time together, from the cells a run measured (records by key):
    [((op, n_x, n_h, m, steps), [Cell, …])], one per headline shape where the headline backend
    was measured; ``ladder_shapes``: step shapes whose group also holds the ladder's rungs."""
    from ..backends import HEADLINE
    from . import ladder
    from .grid import FIT_OP, HEADLINE_OP, Cell, fit_steps, is_headline
    present = {r["backend"] for r in done.values() if r.get("status") in ("ok", "over_budget")}
    status, shapes = {}, {}
    for r in done.values():
        data = r.get("data") or ""
        status[(r["backend"], r["op"], r["n_x"], r["n_h"], r["m"], r["dtype"], data)] = r.get(
            "status")
        if r.get("status") == "ok" and is_headline(Cell.of(r)):
            shapes.setdefault((r["op"], r["n_x"], r["n_h"], r["m"], data), set()).add(
                (r["backend"], r["dtype"]))
    groups = []
    for (op, n_x, n_h, m, data), measured in sorted(shapes.items()):
        if (HEADLINE, "float64") not in measured and (HEADLINE, "float32") not in measured:
            continue
        # a side not measured at this shape (numpy-inplace in the first grid) is timed here
        # all the same; one whose cell there was skipped, wrong or failed is not
        cells = [Cell(b, op, m, n_h, n_x, data=data) for b in [HEADLINE,
                                                              *headline_sides(op, present)]
                 if status.get((b, op, n_x, n_h, m, "float64", data), "ok") in ("ok",
                                                                                "over_budget")]
        for b, dt in sorted(measured):
            if dt == "float32" and b in (HEADLINE, *headline_sides(op, present)):
                cells.append(Cell(b, op, m, n_h, n_x, dtype="float32", data=data))
        if op == HEADLINE_OP and (n_x, n_h, m) in ladder_shapes:
            cells += [Cell(b, op, m, n_h, n_x, threads=t) for b, t in ladder.rungs()
                      if b in present and (b, t) != (HEADLINE, 0)]
        cells = list(dict.fromkeys(cells))
        steps = fit_steps(Cell(HEADLINE, op, m, n_h, n_x, data=data)) if op == FIT_OP else 1
        groups.append(((op, n_x, n_h, m, steps), cells))
    return groups


def comparisons(series, fma_gflops=None):
    """(pairs, ladder) from the run's series: the headline backend on all cores against every
    other all-core side of its dtype (and, in float32, against its own float64 side), and the
    ladder's factors and direct ratio where a series holds every rung."""
    from ..backends import HEADLINE
    pairs, steps = [], []
    for s in series:
        for dt in ("float64", "float32"):
            top = s.side(HEADLINE, dt, 0)
            if top is None:
                continue
            others = [x for x in s.sides if x.threads == 0 and x.backend != HEADLINE
                      and x.dtype == dt]
            if dt == "float32" and s.side(HEADLINE, "float64", 0):
                others.append(s.side(HEADLINE, "float64", 0))
            for base in others:
                pairs += compare(s, base, top, fma_gflops=fma_gflops)
        steps += ladder(s, fma_gflops)
    return pairs, steps


def current(doc):
    """``doc`` (a :class:`.records.PairedDoc`) with its comparisons computed from its series
    by today's :data:`.stats.ESTIMATOR` when it was written with another (a file without
    series is returned as it is)."""
    if not doc.series or doc.estimator == stats.ESTIMATOR:
        return doc
    pairs, steps = comparisons(doc.series, doc.fma_gflops)
    return type(doc)(run_id=doc.run_id, format=doc.format, estimator=stats.ESTIMATOR,
                     fma_gflops=doc.fma_gflops, series=doc.series, pairs=pairs, ladder=steps)


def cases_of(comps, c):
    """The per-case comparisons that go with comparison ``c``."""
    return [k for k in comps or () if k.case and k.kind == c.kind and
            (k.op, k.shape, k.baseline, k.contender, k.dtype, k.baseline_dtype,
             k.baseline_threads, k.contender_threads) ==
            (c.op, c.shape, c.baseline, c.contender, c.dtype, c.baseline_dtype,
             c.baseline_threads, c.contender_threads)]


def load(path, header=None):
    """The comparisons of the run in ``path`` (its results file or folder), by
    :func:`current`; an empty doc when the run wrote none, or on a bad folder."""
    from . import store
    try:
        return current(store.load_paired(path, header))
    except (OSError, store.ResultsError):
        from .records import PairedDoc
        return PairedDoc()


__all__ = ["CASE_NAMES", "cases_of", "PAIRED", "current", "load", "compare", "comparisons", "headline_sides", "ladder", "plan"]
