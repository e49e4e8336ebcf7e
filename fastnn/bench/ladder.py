"""The ladder: the training step's speed-up decomposed rung by rung, each factor a paired ratio.

The rungs are the network's backends that declare a ``ladder`` phrase, in registry order, each on
one thread (python → numpy-loop → numpy → numpy-inplace → numba), then the headline backend on
all cores (:data:`THREADS`). Each factor is the paired ratio (:func:`.paired.paired_ratio`,
alternating rounds, 95 % bootstrap interval of the median) of two neighbouring rungs, each side in
its own long-lived worker process; the direct ratio of the first rung to the last is paired the
same way, so the product of the factors can be set against it.

A per-example rung (``Backend.per_example``) would take minutes at m = 1e6, and its time grows
linearly in m (one pass of the same Python code per example): it is timed at the smallest m of
10 × 1, 2, 5, … whose call lasts :data:`SHORT_S`, and its time is scaled by m / that m (the
entry records both). Every other rung runs at the full m.
"""

from __future__ import annotations

import time
from dataclasses import replace

from . import paired

#: What the last rung adds: the headline backend again, on all cores.
THREADS = "threads: the same compiled pass on all cores"
#: A per-example rung is timed at an m whose call lasts at least this long (seconds).
SHORT_S = 0.2
#: The first m tried for a per-example rung.
SHORT_M0 = 10
#: Paired rounds per factor: at least MIN_ROUNDS, at most ROUNDS, within BUDGET_S once
#: MIN_ROUNDS are done; a side whose call takes UNTIMED_BELOW_S or more gets no untimed call.
ROUNDS, MIN_ROUNDS, BUDGET_S, UNTIMED_BELOW_S = 11, 5, 20.0, 0.25


def rungs():
    """[(backend, threads)]: each backend with a ``ladder`` phrase on one thread, in registry
    order, then the headline backend on all cores (threads 0)."""
    from ..backends import HEADLINE, REGISTRY, names
    return [(n, 1) for n in names(peers=False) if REGISTRY[n].ladder] + [(HEADLINE, 0)]


def adds(backend, threads):
    """What a rung adds over the one before it: its registry phrase, or :data:`THREADS` for the
    headline backend on all cores."""
    from ..backends import HEADLINE, REGISTRY
    return THREADS if backend == HEADLINE and threads == 0 else REGISTRY[backend].ladder


def _short_m(c):
    """The m a per-example rung is timed at: the first of 10 × 1, 2, 5, … (at most c.m) whose
    call lasts :data:`SHORT_S`, estimated from the fastest of three calls at :data:`SHORT_M0`."""
    from .grid import _nice
    from .worker import make_data, step_fn
    small = replace(c, m=min(c.m, SHORT_M0))
    fn = step_fn(small, *make_data(small))
    fn()
    calls = []
    for _ in range(3):  # the fastest of three: one call slowed by a busy moment (6× seen in
        t0 = time.perf_counter()  # CI's parallel tests) would pick an m 6× too small
        fn()
        calls.append(time.perf_counter() - t0)
    per_example = max(min(calls), 1e-9) / small.m
    want = max(SHORT_S / per_example, SHORT_M0)
    m = _nice(want)
    if m < want:  # the next of 1, 2, 5 × 10^k
        m = m * 5 // 2 if str(m)[0] == "2" else m * 2
    return int(min(c.m, m))


#: The side this worker times (set by :func:`rung_setup`).
_RUNG = {}


def rung_setup(c):
    """In a worker: build cell ``c``'s step at its thread count, at the full m or (a per-example
    rung) at :func:`_short_m`, warm it up; returns (calls per batch, seconds of one call scaled
    to c.m, the m it runs at)."""
    from ..backends import get_backend
    from .worker import make_data, step_fn, threads
    # this worker times one rung only: the setting holds until it exits (the context is kept,
    # or its collection would restore the thread count at once)
    _RUNG["threads"] = threads(c.threads)
    _RUNG["threads"].__enter__()
    run = replace(c, m=_short_m(c)) if get_backend(c.backend).per_example else c
    fn = step_fn(run, *make_data(run))
    fn()  # compile (or load from the cache), and warm up
    calls, one = paired._calls_per_batch(fn)
    _RUNG.update(fn=fn, scale=c.m / run.m)
    return calls, one * _RUNG["scale"], run.m


def rung_batch(n, untimed):
    """In a worker: :func:`.paired.counted_batch` of :func:`rung_setup`'s step (seconds per
    call, the kernel's CPU seconds per call, other processes' CPU seconds per call meanwhile),
    each scaled to the cell's m."""
    scale = _RUNG["scale"]
    return tuple(None if v is None else v * scale
                 for v in paired.counted_batch(_RUNG["fn"], n, untimed))


class _Side:
    """A rung timed in its own worker process."""

    def __init__(self, worker, c):
        self.worker, self.cell, self.m_run, self._calls = worker, c, None, None
        self.system = []  # the kernel's CPU seconds per call, each batch
        self.others = []  # other processes' and kernel threads' CPU seconds per call, each batch

    def calibrate(self):
        if self._calls is None:
            calls, one, self.m_run = self.worker.call(rung_setup, self.cell)
            self._calls = calls, one
        return self._calls

    def batch(self, n, untimed):
        t, sys_s, others = self.worker.call(rung_batch, n, untimed)
        self.system.append(sys_s)
        self.others.append(others)
        return t


def _pair(base, top, detector, kw):
    """The paired ratio t_base / t_top, each side in its own worker; (result, verdict, m_run of
    each side)."""
    from ..backends import REFERENCE
    from .spawn import Worker
    with Worker((base.backend, REFERENCE)) as wb, Worker((top.backend, REFERENCE)) as wt:
        sides = _Side(wb, base), _Side(wt, top)
        for s in sides:
            s.calibrate()  # both built and warm before the clock starts
        pids = (wb.pid, wt.pid)
        before = detector.start(pids=pids) if detector else None
        res = paired.paired_ratio(*sides, **kw)
        verdict = detector.verdict(before, pids=pids) if detector else None
    return res, (verdict or {"reason": ""}), sides


def measure(shapes, detector=None, *, progress=None, rounds=ROUNDS, min_rounds=MIN_ROUNDS,
            budget_s=BUDGET_S, untimed_below_s=UNTIMED_BELOW_S):
    """The ladder at each (n_x, n_h, m) of ``shapes``: a factor per pair of neighbouring
    :func:`rungs` and the direct ratio of the first rung to the last, each paired.

    Returns a list of dicts: the shape (``op``, ``n_x``, ``n_h``, ``m``, ``dtype``),
    ``baseline``/``baseline_threads``/``baseline_m`` and ``contender``/… (the m each side ran at;
    below ``m``: extrapolated), ``direct`` (False for a factor), ``adds`` (the contender's
    :func:`adds`), the :func:`.paired.paired_ratio` result with ``t_baseline_s`` and
    ``t_contender_s`` (median seconds per call, scaled to m), each round's seconds and the
    kernel's CPU seconds per call of each side (``rounds_baseline_s``, ``rounds_contender_s``,
    ``system_baseline_s``, ``system_contender_s``; their ratios are ``per_round``), the CPU
    seconds per call other processes and the kernel's threads used during each side's calls
    (``others_baseline_s``, ``others_contender_s``; not kept without /proc), and
    ``disturbed``/``reason`` (the contention verdict).
    """
    import numpy as np

    from .grid import HEADLINE_OP, Cell
    ladder = rungs()
    steps = list(zip(ladder, ladder[1:])) + [(ladder[0], ladder[-1])]
    kw = dict(rounds=rounds, min_rounds=min(min_rounds, rounds), budget_s=budget_s,
              untimed_below_s=untimed_below_s)
    out = []
    for nx, nh, m in shapes:
        for i, ((a, ta), (b, tb)) in enumerate(steps):
            direct = i == len(steps) - 1
            if progress is not None:
                progress.say(f"ladder: {a} ({paired.threads_text(ta)}) vs {b} ({paired.threads_text(tb)}), "
                             f"n_x={nx} n_h={nh} m={m:,}")
            base = Cell(a, HEADLINE_OP, m, nh, nx, threads=ta)
            top = Cell(b, HEADLINE_OP, m, nh, nx, threads=tb)
            res, verdict, (sa, sb) = _pair(base, top, detector, kw)
            t_a, t_b = res.pop("t_a"), res.pop("t_b")
            out.append(dict(op=HEADLINE_OP, n_x=nx, n_h=nh, m=m, dtype="float64",
                            baseline=a, baseline_threads=ta, baseline_m=sa.m_run,
                            contender=b, contender_threads=tb, contender_m=sb.m_run,
                            direct=direct, adds="" if direct else adds(b, tb),
                            per_round=[x / y for x, y in zip(t_a, t_b)],
                            rounds_baseline_s=t_a, rounds_contender_s=t_b,
                            system_baseline_s=sa.system, system_contender_s=sb.system,
                            **({} if None in sa.others + sb.others else dict(
                                others_baseline_s=sa.others, others_contender_s=sb.others)),
                            t_baseline_s=float(np.median(t_a)), t_contender_s=float(np.median(t_b)),
                            **res, disturbed=bool(verdict["reason"]), reason=verdict["reason"]))
    return out


# --- the parent's side: the ladder as numbers ---------------------------------------------

def shapes(entries):
    """The (n_x, n_h, m) the ladder ``entries`` (:func:`measure`'s) cover, in their order."""
    return list(dict.fromkeys((e["n_x"], e["n_h"], e["m"]) for e in entries or ()))


def summary(entries, shape):
    """The ladder at one shape (n_x, n_h, m) as numbers, or None when ``entries`` lack it.

    Returns
    -------
    dict
        ``rungs``: [{backend, threads, label, t_s (seconds per step, scaled to m), m_run (below
        m: extrapolated from there)}]; ``factors``: the factor entries of :func:`measure` in
        order, each with ``label`` and ``label_of`` (its contender's and its baseline's names); ``product``: the product of the factors'
        medians; ``direct``: the direct entry (first rung against the last); ``biggest``: the
        largest factor; ``disturbed``: any pair measured on a busy machine.
    """
    here = [e for e in entries or () if (e["n_x"], e["n_h"], e["m"]) == tuple(shape)]
    factors = [dict(e, label=_label(e["contender"], e["contender_threads"]),
                    label_of=_label(e["baseline"], e["baseline_threads"]), groups=groups(e))
               for e in here if not e["direct"]]
    direct = next((e for e in here if e["direct"]), None)
    if not factors:
        return None
    rungs = [dict(backend=f["baseline"], threads=f["baseline_threads"], t_s=f["t_baseline_s"],
                  m_run=f["baseline_m"], label=_label(f["baseline"], f["baseline_threads"]))
             for f in factors]
    last = factors[-1]
    rungs.append(dict(backend=last["contender"], threads=last["contender_threads"],
                      t_s=last["t_contender_s"], m_run=last["contender_m"], label=last["label"]))
    product = 1.0
    for f in factors:
        product *= f["ratio"]
    return dict(shape=tuple(shape), rungs=rungs, factors=factors, product=product,
                direct=direct, biggest=max(factors, key=lambda f: f["ratio"]),
                disturbed=any(e.get("disturbed") for e in here))


def groups(e):
    """The groups a factor's per-round ratios fall into (:func:`.worker.modes`), each with the
    side whose time moved most between them (``side``, its ``t_s``, ``system_s`` and
    ``others_s`` — other processes' CPU seconds meanwhile — per call, medians over the group's
    rounds; a counter not kept is None) and ``n``, its rounds (each round counts in the group
    nearest to it, a lone outlier too, so the groups' n add up to ``rounds``); [] when the
    rounds form one group or their times were not kept."""
    import numpy as np

    from .worker import modes
    r = e.get("per_round") or []
    ms = modes(r)
    if len(ms) < 2 or len(e.get("rounds_baseline_s") or ()) != len(r):
        return []
    out = []
    # each round in the group whose median is nearest (log scale); modes() leaves out lone
    # outliers, which join their nearest group here
    idx = [(i, min(range(len(ms)), key=lambda j: abs(np.log(r[i] / ms[j]["value"]))))
           for i in range(len(r))]
    sides = paired.side_names(e)
    spread = {}
    for side in sides:
        med = [np.median([e[f"rounds_{side}_s"][i] for i, j in idx if j == g])
               for g in range(len(ms))]
        spread[side] = max(med) / min(med)
    side = max(spread, key=spread.get)
    for j, g in enumerate(ms):
        rounds = [i for i, jj in idx if jj == j]
        med = {}
        for key in ("system", "others"):
            v = e.get(f"{key}_{side}_s") or []
            med[f"{key}_s"] = (float(np.median([v[i] for i in rounds])) if len(v) == len(r)
                               else None)
        out.append(dict(ratio=g["value"], n=len(rounds), rounds=len(r), side=sides[side],
                        t_s=float(np.median([e[f"rounds_{side}_s"][i] for i in rounds])),
                        **med))
    return out


def groups_text(gs):
    """" ⚠ rounds in groups: A× in k of n (numpy 0.96 s per step, 0.25 s of it in the kernel),
    …" for a factor's :func:`groups`, or ""."""
    if not gs:
        return ""
    def one(g):
        sys_s = (f", {paired.fmt_s(g['system_s'])} of it in the kernel" if g["system_s"] is not None
                 else "")
        return (f"{factor_text(g['ratio'])}× in {g['n']} of {g['rounds']} ({g['side']} "
                f"{paired.fmt_s(g['t_s'])} per step{sys_s})")
    return " ⚠ rounds in groups: " + ", ".join(one(g) for g in gs)


def _label(backend, threads):
    """A rung's name: the backend, with "(1 thread)" or "(all cores)"."""
    return f"{backend} ({paired.threads_text(threads)})"


# --- the ladder in words (the report and the lecture page) -------------------------------

def factor_text(v):
    """A factor: three significant digits, whole numbers with thousands separators from 100."""
    return f"{v:,.0f}" if v >= 100 else f"{v:.3g}"


def times(f):
    """"R× [lo–hi]" of a factor entry, with its :func:`groups_text` when it has groups, or,
    when its interval reaches beyond :data:`.paired.UNRELIABLE` of its median without groups,
    " ⚠ rounds disagree (from A× to B×; the side that moved and why)", as the headline's
    flag."""
    text = f"{factor_text(f['ratio'])}× [{factor_text(f['lo'])}–{factor_text(f['hi'])}]"
    if f.get("groups"):
        return text + groups_text(f["groups"])
    spread = _disagree(f)
    return text + (f" ⚠ rounds disagree ({spread})" if spread else "")


def _disagree(f):
    """"from A× to B×; numpy's time per call moved …" for a factor without groups whose
    interval reaches beyond :data:`.paired.UNRELIABLE` of its median, else ""."""
    r, off = f.get("per_round") or [], paired.UNRELIABLE
    if f.get("groups") or f["ratio"] / off <= f["lo"] <= f["hi"] <= f["ratio"] * off:
        return ""
    if not r:  # an entry written before the rounds were kept
        return f"its interval [{factor_text(f['lo'])}–{factor_text(f['hi'])}]"
    return f"from {factor_text(min(r))}× to {factor_text(max(r))}×{paired.moved_text(f)}"


def factor_sentence(f):
    """One plain sentence on one factor (a :func:`summary` factor): how many times faster (or
    slower) the contender is than the rung before, with its interval, and what it adds."""
    r, lo, hi = f["ratio"], f["lo"], f["hi"]
    how = (f"{factor_text(r)}× faster [{factor_text(lo)}–{factor_text(hi)}]" if r >= 1 else
           f"{factor_text(1 / r)}× slower [{factor_text(1 / hi)}–{factor_text(1 / lo)}]")
    flag = " (measured while the machine was busy)" if f.get("disturbed") else ""
    spread = _disagree(f)
    return (f"- `{f['label']}` is {how} than `{label_of(f)}`{flag}. It adds {f['adds']}."
            + _groups_sentence(f.get("groups"))
            + (f" Its rounds disagree: {spread}." if spread else ""))


def _groups_sentence(gs):
    """The cause of a factor's groups, where the kernel's time shows it (else what they are)."""
    if not gs:
        return ""
    fast, slow = min(gs, key=lambda g: g["t_s"]), max(gs, key=lambda g: g["t_s"])
    text = f" Its rounds fall into groups:{groups_text(gs).split(':', 1)[1]}."
    grew = {k: (slow[k] - fast[k] if slow.get(k) is not None and fast.get(k) is not None
                else None) for k in ("system_s", "others_s")}
    return text + {
        "kernel": (f" {slow['side']}'s slower rounds are the kernel's time: preparing fresh "
                   "memory for its temporaries when huge pages are scarce (the report's Modes "
                   "section); its faster rounds are its arithmetic."),
        "others": (f" In {slow['side']}'s slower rounds other processes and the kernel's own "
                   f"threads took {paired.fmt_s(grew['others_s'] or 0)} more CPU time per call: time "
                   "taken from it, not its own work."),
        "outside": (f" Neither {slow['side']}'s kernel time nor other processes' CPU time grew "
                    "in its slower rounds: the time was lost outside this machine (a virtual "
                    "machine shares its host's cores, caches and memory bandwidth with other "
                    "guests)."),
        "not kernel": "", None: ""}[
        paired.cause(slow["t_s"] - fast["t_s"], grew["system_s"], grew["others_s"])]


def label_of(f):
    """The name of a factor's baseline rung."""
    return _label(f["baseline"], f["baseline_threads"])


def load(folder):
    """The ladder entries a run wrote into ``folder`` (its paired-rounds file), or [] when the
    run measured none, the file belongs to another run, or a link stands in the way."""
    import json
    import os

    from . import store
    try:
        header, _ = store.load(folder)
    except (OSError, store.ResultsError):
        return []
    p = store.member(os.path.dirname(os.path.abspath(store.results_path(folder))),
                     paired.PAIRED)
    try:
        with open(p, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError, TypeError):
        return []
    if not isinstance(doc, dict) or doc.get("run_id") != header.get("run_id"):
        return []
    return doc.get("ladder") or []


__all__ = ["SHORT_S", "THREADS", "adds", "factor_sentence", "factor_text", "groups",
           "groups_text", "label_of", "load", "measure", "rungs", "shapes", "summary", "times"]
