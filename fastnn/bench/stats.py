"""The statistics of timed rounds, in one place: the estimator, its bootstrap interval, NumPy's
memory cases, what took a side's extra time, and the flags a comparison carries (as data).

Every table, figure and sentence of a report quotes :data:`ESTIMATOR` of a side's per-round
seconds per call; a comparison's ratio is the baseline's estimate over the contender's, both
over the same rounds, so the ladder's factors (adjacent rungs of one series) multiply to its
direct ratio exactly. DESIGN.md says why this estimator (measured: two consecutive runs).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

#: The candidate statistics of a side's per-round seconds per call.
ESTIMATORS = {"median": np.median, "min": np.min, "mean": np.mean}
#: The one every document quotes (DESIGN.md, "The estimator").
ESTIMATOR = "min"
#: Bootstrap resamples and confidence level of every interval.
RESAMPLES, LEVEL = 2000, 0.95
#: An interval reaching beyond this factor of its ratio (either side) is flagged ``wide``.
WIDE = 0.10
#: A side's per-round times split into groups (memory cases) at a relative gap above this …
CASE_GAP = 0.25
#: … each group holding at least this many rounds (fewer: an outlier, joined to its nearest).
CASE_MIN = 2
#: A side's extra time in its slower rounds is put down to a counter that grew by at least this
#: share of it (:func:`cause`).
CAUSE_SHARE = 0.5
#: A round's canary below this share of the reference FMA peak (the machine kind's best, else the
#: run's own: :func:`.run.reference_peak`) marks the host as slow then.
SLOW_HOST = 0.85


def estimate(times, estimator=None):
    """:data:`ESTIMATOR` (or ``estimator``) of per-round seconds per call."""
    return float(ESTIMATORS[estimator or ESTIMATOR](np.asarray(times, float)))


def ratio_interval(t_a, t_b, *, estimator=None, seed=0):
    """t_a's estimate over t_b's, with a percentile-bootstrap interval that resamples rounds
    (each round keeps both sides' times: they were measured in it).

    Parameters
    ----------
    t_a, t_b : array_like, shape (n,)
        Seconds per call of the baseline and the contender, round by round (n >= 2, finite,
        positive).

    Returns
    -------
    (ratio, lo, hi) : tuple of float
        Above 1: the contender is faster.
    """
    a, b = np.asarray(t_a, float), np.asarray(t_b, float)
    if a.shape != b.shape or a.ndim != 1 or len(a) < 2:
        raise ValueError(f"need two equal series of >= 2 rounds, got {a.shape} and {b.shape}")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b)) and (a > 0).all() and (b > 0).all()):
        raise ValueError("round times must be finite and positive")
    f = ESTIMATORS[estimator or ESTIMATOR]
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(a), size=(RESAMPLES, len(a)))
    boot = f(a[idx], axis=1) / f(b[idx], axis=1)
    q = (1 - LEVEL) / 2
    lo, hi = np.quantile(boot, [q, 1 - q])
    return float(f(a) / f(b)), float(lo), float(hi)


def cases(times):
    """The groups ("memory cases") a side's per-round times fall into: a list of round-index
    lists, fastest group first; a single list when the rounds form one group. Sorted times split
    at every relative gap above :data:`CASE_GAP`; a group of fewer than :data:`CASE_MIN` rounds
    joins the group whose median is nearest on a log scale."""
    t = np.asarray(times, float)
    order = np.argsort(t, kind="stable")
    groups, cur = [], [int(order[0])] if len(order) else []
    for i, j in zip(order, order[1:]):
        if t[j] > t[i] * (1 + CASE_GAP):
            groups.append(cur)
            cur = []
        cur.append(int(j))
    if cur:
        groups.append(cur)
    big = [g for g in groups if len(g) >= CASE_MIN]
    if len(big) < 2:
        return [sorted(range(len(t)))]
    for g in groups:
        if len(g) < CASE_MIN:
            for i in g:
                near = min(big, key=lambda b: abs(np.log(t[i] / np.median(t[b]))))
                near.append(i)
    return [sorted(g) for g in big]


class Cause(str, enum.Enum):
    """What took a side's extra time in its slower rounds (:func:`cause`)."""
    KERNEL = "kernel"          # its own kernel CPU time (fresh memory for NumPy's temporaries)
    OTHERS = "others"          # other processes' and the kernel threads' CPU time
    OUTSIDE = "outside"        # neither counter grew: lost outside the machine (the host)
    NOT_KERNEL = "not kernel"  # only its kernel counter kept, and it did not grow
    UNKNOWN = "unknown"        # no counter kept


def cause(grew_s, kernel_s, others_s):
    """The :class:`Cause` of ``grew_s`` seconds per call by which a side's slower rounds exceed
    its faster ones, from how much its counters grew between them (None: not kept)."""
    if kernel_s is not None and kernel_s >= CAUSE_SHARE * grew_s:
        return Cause.KERNEL
    if others_s is not None and others_s >= CAUSE_SHARE * grew_s:
        return Cause.OTHERS
    if kernel_s is not None:
        return Cause.OUTSIDE if others_s is not None else Cause.NOT_KERNEL
    return Cause.UNKNOWN


class Flag(str, enum.Enum):
    """Why a comparison's number needs a note (the report renders each as one word and a note)."""
    WIDE = "wide"        # its interval reaches beyond ±WIDE of the ratio
    CASES = "cases"      # a side's rounds fell into memory cases: per-case ratios are given
    BUSY = "busy"        # measured while another process competed for the CPU
    SLOW_HOST = "host"   # the canary ran below SLOW_HOST of the machine's peak in its rounds
    SCALED = "scaled"    # a per-example side ran at a shorter m, its time scaled to m


@dataclass(frozen=True)
class Moved:
    """The side of a comparison whose time moved most across its rounds, and why."""
    side: str       # "baseline" or "contender"
    lo_s: float     # its fastest round's seconds per call
    hi_s: float     # its slowest
    cause: Cause
    kernel_s: float | None = None  # how much more kernel CPU time per call its slowest round took
    others_s: float | None = None  # how much more CPU time others used during its slowest round


def moved(rounds, system, others):
    """:class:`Moved` for the side (key of ``rounds``) whose slowest round over its fastest is
    largest. ``rounds``, ``system``, ``others``: {side: per-round seconds per call} (a counter
    missing or of another length is None)."""
    spread = {s: max(t) / min(t) for s, t in rounds.items()}
    side = max(spread, key=spread.get)
    t = rounds[side]
    fast, slow = int(np.argmin(t)), int(np.argmax(t))
    grew = {}
    for name, counter in (("kernel_s", system), ("others_s", others)):
        v = (counter or {}).get(side)
        grew[name] = (v[slow] - v[fast]) if v is not None and len(v) == len(t) else None
    return Moved(side, float(t[fast]), float(t[slow]),
                 cause(t[slow] - t[fast], grew["kernel_s"], grew["others_s"]), **grew)


__all__ = ["CASE_GAP", "CASE_MIN", "CAUSE_SHARE", "Cause", "ESTIMATOR", "ESTIMATORS", "Flag",
           "LEVEL", "Moved", "RESAMPLES", "SLOW_HOST", "WIDE", "cases", "cause", "estimate",
           "moved", "ratio_interval"]
