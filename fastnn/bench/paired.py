"""Headline speed-ups by paired, interleaved measurement, with a 95 % bootstrap interval.

Two sides are timed in alternation, A B A B …: each round times a batch of calls of A and then
one of B (each batch after one untimed call), so a slow minute of a shared machine slows both
sides of the same round. In a run each side lives in its own long-lived worker process
(:mod:`.spawn`; built and warmed before the first round, no process start inside a round), so
neither inherits the other's threads, allocator state or caches. The speed-up of round i is t_A,i / t_B,i; the result is the median over rounds with a
percentile-bootstrap 95 % interval of that median (resampling rounds, seeded, 2000 resamples).
An interval wider than ±10 % of the ratio is flagged ``wide``.
"""

from __future__ import annotations

import time

import numpy as np

from .worker import SETTLE_S  # idle before each batch, as before each measured cell

#: A batch of calls lasts at least this long, so a fast step runs back to back as in training
#: (single-call batches after the settle measured the headline backend cold).
MIN_BATCH_S = 0.1
ROUNDS = 15
#: Rounds run whatever the budget.
MIN_ROUNDS = 5
#: An interval wider than this fraction of the ratio (either side) is flagged.
WIDE = 0.10


def _calls_per_batch(fn):
    """(calls per batch, seconds of one call)."""
    t0 = time.perf_counter()
    fn()
    one = max(time.perf_counter() - t0, 1e-9)
    return max(1, int(MIN_BATCH_S / one)), one


def _settle(fn, untimed=True):
    """:data:`SETTLE_S` idle and one untimed call, so what the other side left behind
    (spinning BLAS threads, cold caches) is not timed. ``untimed`` False: no untimed call (for
    a call so long that a cache's or a thread's state is noise)."""
    time.sleep(SETTLE_S)
    if untimed:
        fn()


def _timed(fn, n):
    """Seconds per call over n calls of ``fn``, back to back."""
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t0) / n


def _batch(fn, n, untimed=True):
    """Seconds per call over n calls, after :func:`_settle`."""
    _settle(fn, untimed)
    return _timed(fn, n)


def counted_batch(fn, n, untimed):
    """In a worker: (:func:`_batch`'s seconds per call; the kernel's CPU seconds per call for
    this process, ``resource.getrusage``; the CPU seconds per call that other processes and the
    kernel's own threads used meanwhile, :func:`.contention.others_s`, or None), both counters
    read around the timed calls only. The other side's worker waits while this one runs, so
    "other" is neither side of the pair."""
    from .contention import others_s, snapshot
    from .worker import system_s
    _settle(fn, untimed)
    s0, c0 = system_s(), snapshot()
    t = _timed(fn, n)
    s1, c1 = system_s(), snapshot()
    others = others_s(c0, c1)
    return t, (s1 - s0) / n, None if others is None else others / n


class _Local:
    """A side timed in this process: a zero-argument callable."""

    def __init__(self, fn):
        self.fn = fn

    def calibrate(self):
        return _calls_per_batch(self.fn)

    def batch(self, n, untimed):
        return _batch(self.fn, n, untimed)


#: The side a worker process times (set by :func:`side_setup`, in that worker).
_SIDE = {}


def side_setup(head, other):
    """In a worker: build cell ``other``'s callable on ``head``'s data (converted to ``other``'s
    dtype when it differs), at ``head``'s thread count, warm it up; returns
    :func:`_calls_per_batch`."""
    from ..backends import get_backend
    from .worker import make_data, step_fn, threads
    data = make_data(head)
    if other.dtype != head.dtype:
        data = make_data(other)
    # this worker times one side only, at one thread count: the setting holds until it exits
    # (the context is kept, or its collection would restore the thread count at once)
    _SIDE["threads"] = threads(head.threads)
    _SIDE["threads"].__enter__()
    fn = step_fn(other, *data)
    if get_backend(other.backend).jit:
        fn()  # compile (or load from the cache) before a call is timed
    _SIDE["fn"] = fn
    return _calls_per_batch(fn)


def side_batch(n, untimed):
    """In a worker: :func:`counted_batch` of the side :func:`side_setup` built."""
    return counted_batch(_SIDE["fn"], n, untimed)


class _Remote:
    """A side timed in its own worker process (:class:`.spawn.Worker`)."""

    def __init__(self, worker, head, other):
        self.worker, self.head, self.other = worker, head, other
        self._calls = None
        self.system = []  # the kernel's CPU seconds per call, each batch
        self.others = []  # other processes' and kernel threads' CPU seconds per call, each batch

    def calibrate(self):
        if self._calls is None:  # built once: the worker keeps its side
            self._calls = self.worker.call(side_setup, self.head, self.other)
        return self._calls

    def batch(self, n, untimed):
        t, sys_s, others = self.worker.call(side_batch, n, untimed)
        self.system.append(sys_s)
        self.others.append(others)
        return t


def bootstrap_median(x, *, level=0.95, resamples=2000, seed=0):
    """Median of ``x`` and a percentile-bootstrap interval of it.

    Parameters
    ----------
    x : array_like, shape (n,)
        Per-round values (n >= 2).

    Returns
    -------
    (median, lo, hi) : tuple of float
    """
    x = np.asarray(x, float)
    if x.ndim != 1 or len(x) < 2 or not np.all(np.isfinite(x)):
        raise ValueError(f"need >= 2 finite per-round values, got {x!r}")
    rng = np.random.default_rng(seed)
    meds = np.median(rng.choice(x, size=(resamples, len(x)), replace=True), axis=1)
    a = (1.0 - level) / 2
    lo, hi = np.quantile(meds, [a, 1.0 - a])
    return float(np.median(x)), float(lo), float(hi)


def paired_ratio(fa, fb, *, rounds=ROUNDS, budget_s=None, min_rounds=MIN_ROUNDS,
                 untimed_below_s=None):
    """Speed-up of ``fb`` over ``fa`` (t_a / t_b) from interleaved rounds.

    Parameters
    ----------
    fa, fb : callable or side
        Zero-argument callables, already warmed up (compiled), or sides with ``calibrate()``
        and ``batch(n, untimed)`` (a worker process's, :class:`_Remote`).
    rounds : int
        Rounds of A then B (>= 2).
    budget_s : float, optional
        Stop after this many seconds once at least ``min_rounds`` rounds are done.
    min_rounds : int
        Rounds run whatever the budget (>= 2).
    untimed_below_s : float, optional
        Make the untimed call before a batch only for a side whose call takes less than this
        (default: always). After the settling pause, a call of a quarter second or more is
        not measurably slowed by the other side's spinning threads or its cold caches, and
        a second untimed call of it would double the round.

    Returns
    -------
    dict
        ``ratio`` (median of per-round t_a / t_b), ``lo``/``hi`` (95 % bootstrap interval),
        ``wide`` (interval beyond ±10 %), ``rounds``, ``t_a``/``t_b`` (seconds per call per round),
        ``calls_a``/``calls_b`` (calls per batch).
    """
    if rounds < 2 or min_rounds < 2:
        raise ValueError(f"rounds and min_rounds must be >= 2, got {rounds}, {min_rounds}")
    fa, fb = (f if hasattr(f, "batch") else _Local(f) for f in (fa, fb))
    (na, wa), (nb, wb) = fa.calibrate(), fb.calibrate()
    ua = untimed_below_s is None or wa < untimed_below_s
    ub = untimed_below_s is None or wb < untimed_below_s
    ta, tb = [], []
    t_end = None if budget_s is None else time.perf_counter() + budget_s
    for i in range(rounds):
        ta.append(fa.batch(na, ua))
        tb.append(fb.batch(nb, ub))
        if t_end is not None and i + 1 >= min_rounds and time.perf_counter() > t_end:
            break
    r = np.array(ta) / np.array(tb)
    ratio, lo, hi = bootstrap_median(r)
    return {"ratio": ratio, "lo": lo, "hi": hi,
            "wide": bool(lo < ratio * (1 - WIDE) or hi > ratio * (1 + WIDE)),
            "rounds": len(r), "t_a": ta, "t_b": tb, "calls_a": na, "calls_b": nb}


def side_names(e):
    """{"baseline": name, "contender": name} of a pair's sides: their backends, with their
    dtypes (a float32 pair) or thread counts (a ladder's threads factor) when the backends are
    the same ("numba (float64)", "numba (1 thread)")."""
    names = {side: e[side] for side in ("baseline", "contender")}
    if names["baseline"] != names["contender"]:
        return names
    dtype = e.get("dtype", "float64")
    if e.get("baseline_dtype", dtype) != dtype:
        return {"baseline": f"{e['baseline']} ({e['baseline_dtype']})",
                "contender": f"{e['contender']} ({dtype})"}
    n = e.get("threads")
    return {side: f"{e[side]} ({threads_text(e.get(f'{side}_threads', n))})"
            for side in ("baseline", "contender")}


def threads_text(n):
    """A thread count as text: "all cores" for 0 (or None), "1 thread", "2 threads"."""
    return "all cores" if not n else f"{n} thread{'s' if n > 1 else ''}"


def side_spread(e):
    """Which side of a pair moved across its rounds: [{side (its backend), lo_s, hi_s (fastest
    and slowest round's seconds per call), spread (hi_s / lo_s), kernel_s (how much more of the
    kernel's CPU time per call the slowest round took than the fastest), others_s (how much
    more CPU time per call other processes and the kernel's threads used during the slowest
    round than the fastest); each None when it was not kept}], the side that moved most first;
    [] when a pair (``headline_pairs``' or :func:`.ladder.measure`'s entry) kept no per-round
    times."""
    out = []
    names = side_names(e)
    for side in ("baseline", "contender"):
        t = e.get(f"rounds_{side}_s") or []
        if not t or len(t) != len(e.get("per_round") or ()):
            return []
        fast, slow = min(range(len(t)), key=t.__getitem__), max(range(len(t)), key=t.__getitem__)
        more = {}
        for key, what in (("kernel_s", "system"), ("others_s", "others")):
            v = e.get(f"{what}_{side}_s") or []
            more[key] = v[slow] - v[fast] if len(v) == len(t) else None
        out.append(dict(side=names[side], lo_s=t[fast], hi_s=t[slow], spread=t[slow] / t[fast],
                        **more))
    return sorted(out, key=lambda d: -d["spread"])


#: A side's extra time in its slower rounds is put down to a counter that grew by at least this
#: share of it (:func:`cause`).
CAUSE_SHARE = 0.5


def cause(grew_s, kernel_s, others_s):
    """What took the ``grew_s`` seconds per call by which a side's slower rounds exceed its
    faster ones, from how much its counters grew between them: ``"kernel"`` (its own kernel
    CPU time, ``kernel_s``, grew by at least :data:`CAUSE_SHARE` of it: fresh memory, Modes),
    ``"others"`` (other processes' and the kernel threads' CPU time, ``others_s``, did),
    ``"outside"`` (both counters kept, neither did: the time was lost outside the machine),
    ``"not kernel"`` (only the kernel's counter kept, and it did not), None (none kept). The one
    rule of the flags (:func:`side_spread`'s) and of the ladder's groups (:func:`.ladder.groups`).
    """
    if kernel_s is not None and kernel_s >= CAUSE_SHARE * grew_s:
        return "kernel"
    if others_s is not None and others_s >= CAUSE_SHARE * grew_s:
        return "others"
    if kernel_s is not None:
        return "outside" if others_s is not None else "not kernel"
    return None


#: A paired interval reaching beyond this factor of its median (either side) is not one
#: number: the rounds spread too widely or fell into groups (seen: numpy ÷ numba alternating
#: ~12× / ~25× by round at n_h = 64, m = 1e6; 5-round training-run pairs).
UNRELIABLE = 1.25


def fmt_s(x):
    """A duration with a unit (3 significant digits); "–" when missing or not finite."""
    try:
        x = float(x)
    except (TypeError, ValueError):
        return "–"
    if not np.isfinite(x) or x < 0:
        return "–"
    if x == 0:
        return "0 s"  # a measured zero, not a missing value ("0 ns" read like a rounding)
    for unit, f in (("s", 1), ("ms", 1e3), ("µs", 1e6)):
        if x * f >= 1:
            return f"{x * f:.3g} {unit}"
    return f"{x * 1e9:.3g} ns"


def moved_text(e):
    """"; numpy's time per call moved, 610 ms to 1.4 s across rounds (numba's 55 ms to 57 ms);
    of the 790 ms it grew by, 700 ms was its kernel time (…)" for a pair (a headline pair's
    or a ladder factor's entry) that kept its rounds' times, else "": the side that moved
    (:func:`side_spread`) and what took its time (:func:`cause`)."""
    s = side_spread(e)
    if not s:
        return ""
    a, b = s
    text = (f"; {a['side']}'s time per call moved, {fmt_s(a['lo_s'])} to {fmt_s(a['hi_s'])} "
            f"across rounds ({b['side']}'s {fmt_s(b['lo_s'])} to {fmt_s(b['hi_s'])})")
    gap = a["hi_s"] - a["lo_s"]
    return text + {
        "kernel": (f"; of the {fmt_s(gap)} it grew by, {fmt_s(a['kernel_s'] or 0)} was its "
                   "kernel time (fresh memory)"),
        "others": (f", other processes taking {fmt_s(a['others_s'] or 0)} more CPU per call in "
                   "its slowest round"),
        "outside": ", neither its kernel nor other processes: from outside the machine",
        "not kernel": ", not in the kernel",
        None: ""}[cause(gap, a["kernel_s"], a["others_s"])]


#: Where :func:`headline_pairs` writes its results, next to results.jsonl.
PAIRED = "paired.json"
#: Seconds a pair of training runs (``fit``) may take once 5 rounds are done: each round runs
#: four whole runs (an untimed and a timed one per side), so 10 s gives 5-8 rounds at the flower
#: (6 measured against numpy); the whole targets grid took 13 min on the 2-core reference machine.
FIT_BUDGET_S = 10.0


def headline_pairs(done, detector=None, *, rounds=ROUNDS, budget_s=30.0, progress=None,
                   min_rounds=MIN_ROUNDS, fit_budget_s=FIT_BUDGET_S, untimed_below_s=None,
                   isolate=False):
    """Paired ratios for the headline tables: at every headline shape measured in ``done``
    (records by key), for the training step and for a training run (``fit``, the same steps on
    both sides, so the ratio is per step too; at most ``fit_budget_s`` per pair), the
    headline backend against the reference and each peer. ``rounds``, ``min_rounds``,
    ``untimed_below_s`` and ``budget_s`` are :func:`paired_ratio`'s, per pair. ``isolate``:
    each side in its own worker process (:mod:`.spawn`), as :func:`.run.sweep` does.

    At a float32 shape the headline backend is also paired with its own float64 step there.

    Returns a list of dicts: ``op`` (and ``steps`` for a training run), the shape (n_x, n_h, m,
    dtype, threads), ``baseline`` (in ``baseline_dtype``), ``contender`` (in ``dtype``), the
    :func:`paired_ratio` result (without the raw times per round: their ratios are kept as
    ``per_round``; each round's seconds per call of each side are ``rounds_baseline_s`` and
    ``rounds_contender_s``, and in worker processes the kernel's CPU seconds per call
    ``system_baseline_s`` and ``system_contender_s`` and the CPU seconds per call other
    processes and the kernel's threads used meanwhile ``others_baseline_s`` and
    ``others_contender_s``, as in :func:`.ladder.measure`) and the
    contention verdict around the pair (``disturbed``).
    """
    from ..backends import HEADLINE
    from .grid import FIT_OP, Cell, fit_steps, is_headline
    from .worker import make_data

    ok = [r for r in done.values() if r.get("status") == "ok" and is_headline(Cell.of(r))]
    shapes = {}
    for r in ok:
        shapes.setdefault((r["op"], r["n_x"], r["n_h"], r["m"], r["dtype"], r["threads"]),
                          []).append(r)
    out = []
    for (op, n_x, n_h, m, dtype, threads), recs in sorted(shapes.items()):
        names = {r["backend"] for r in recs}
        if HEADLINE not in names:
            continue
        head = Cell(HEADLINE, op, m, n_h, n_x=n_x, dtype=dtype, threads=threads)
        steps = {"steps": fit_steps(head)} if op == FIT_OP else {}
        data = None if isolate else make_data(head)  # once per shape, shared by its pairs
        for base in sorted(names - {HEADLINE}):
            if progress is not None:
                progress.say(f"paired A/B rounds: {base} vs {HEADLINE}, {op} n_x={n_x} "
                             f"n_h={n_h} m={m:,}")
            res, verdict = _pair(head, data, base, detector, rounds,
                                 min(budget_s, fit_budget_s) if op == FIT_OP else budget_s,
                                 min_rounds=min_rounds, untimed_below_s=untimed_below_s,
                                 isolate=isolate)
            out.append(_entry(head, base, dtype, res, verdict, steps))
        if dtype == "float32" and (op, n_x, n_h, m, "float64", threads) in shapes and any(
                r["backend"] == HEADLINE for r in shapes[op, n_x, n_h, m, "float64", threads]):
            if progress is not None:
                progress.say(f"paired A/B rounds: {HEADLINE} float64 vs float32, {op} "
                             f"n_x={n_x} n_h={n_h} m={m:,}")
            res, verdict = _pair(head, data, HEADLINE, detector, rounds, budget_s, "float64",
                                 min_rounds=min_rounds, untimed_below_s=untimed_below_s,
                                 isolate=isolate)
            out.append(_entry(head, HEADLINE, "float64", res, verdict, steps))
    return out


def _entry(head, base, base_dtype, res, verdict, steps):
    """One entry of :func:`headline_pairs`: ``baseline`` (in ``baseline_dtype``) against the
    cell ``head`` (the contender, in ``dtype``)."""
    t_a, t_b = res.pop("t_a"), res.pop("t_b")
    system = {f"{what}_{k}_s": v for what in ("system", "others")
              for k, v in zip(("baseline", "contender"), res.pop(what, (None, None)))
              if v and None not in v}
    return dict(op=head.op, **steps, n_x=head.n_x, n_h=head.n_h, m=head.m, dtype=head.dtype,
                threads=head.threads, baseline=base, baseline_dtype=base_dtype,
                contender=head.backend, per_round=[a / b for a, b in zip(t_a, t_b)],
                rounds_baseline_s=t_a, rounds_contender_s=t_b, **system, **res,
                disturbed=bool(verdict["reason"]), reason=verdict["reason"])


def _pair(head, data, base, detector, rounds, budget_s, base_dtype=None, min_rounds=MIN_ROUNDS,
          untimed_below_s=None, isolate=False):
    """:func:`paired_ratio` of backend ``base`` (in ``base_dtype``, default the cell's) against
    the cell ``head``, at the cell's thread count; returns (result, contention verdict).
    ``isolate``: each side in its own worker process, which builds its data
    (:func:`.worker.make_data`, the same seeded arrays); else both here on ``data``
    (``make_data(head)``; converted for a baseline in another dtype)."""
    from dataclasses import replace

    from ..backends import REFERENCE
    from .worker import make_data, step_fn
    from .worker import threads as threads_

    other = replace(head, backend=base, dtype=base_dtype or head.dtype)
    if isolate:
        from .spawn import Worker
        with Worker((head.backend, REFERENCE)) as wh, Worker((base, REFERENCE)) as wb:
            sides = _Remote(wb, head, other), _Remote(wh, head, head)
            for side in sides:
                side.calibrate()  # build and warm up both before the clock starts
            before = detector.start(pids=(wh.pid, wb.pid)) if detector else None
            res = paired_ratio(*sides, rounds=rounds, budget_s=budget_s,
                               min_rounds=min(min_rounds, rounds), untimed_below_s=untimed_below_s)
            verdict = detector.verdict(before, pids=(wh.pid, wb.pid)) if detector else None
        res["system"] = sides[0].system, sides[1].system
        res["others"] = sides[0].others, sides[1].others
        return res, verdict or {"reason": ""}
    P, X, Y = data
    Pb, Xb, Yb = (P, X, Y) if other.dtype == head.dtype else make_data(other)
    with threads_(head.threads):  # both sides at the cells' thread count
        f_head = step_fn(head, P, X, Y)
        f_base = step_fn(other, Pb, Xb, Yb)
        f_head(), f_base()
        before = detector.start() if detector else None
        res = paired_ratio(f_base, f_head, rounds=rounds, budget_s=budget_s,
                           min_rounds=min(min_rounds, rounds), untimed_below_s=untimed_below_s)
    return res, detector.verdict(before) if detector else {"reason": ""}
