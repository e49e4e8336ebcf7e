"""Randomised interleaved rounds: every side of a comparison timed in the same rounds, in a fresh
random order each round, the rounds spread over the run in passes.

A *group* is the set of sides (cells: backend, dtype, threads) measured at one shape (op, n_x,
n_h, m): the headline backend, the reference, the peers and, at a step shape with a ladder, the
ladder's rungs. In each pass every group (in a seeded random order) gets its own long-lived
worker per side (:func:`.worker.side_setup`: built and warmed before the first round, no process
start inside a round) and runs its share of the rounds; each round times one batch of every
side, in a random order (Abedi & Brecht 2017, "randomised multiple interleaved trials"), then
the canary (:func:`.peaks.canary`, the host's speed in that round). So a slow minute of the host
lands on every side, and the passes give each side several fresh workers, whose difference the
interval then covers. What a comparison makes of the rounds is :mod:`.paired`'s.
"""

from __future__ import annotations

import math
import random
import time
from contextlib import ExitStack

from ..backends import REGISTRY
from . import contention
from .progress import Event
from .records import Series, SideRounds
from .worker import SETTLE_S

#: Rounds per group (all passes), at least MIN_ROUNDS whatever the budget, in PASSES passes;
#: a group's pass stops early once its share of MIN_ROUNDS is done and BUDGET_S / PASSES spent
#: (at least 9: with 6, NumPy's rarer memory case at (2, 64, 1e6) held 2 rounds or none).
ROUNDS, MIN_ROUNDS, PASSES, BUDGET_S = 15, 9, 3, 100.0
#: A side whose call takes this long or more gets no untimed call before its batch, unless it
#: allocates fresh temporaries per call (its registry ``memory`` is "temporaries") of at least
#: :data:`FRESH_BYTES`: on a VM that hands freed memory back to its host, the first call after a
#: pause waits for the host to back it again (NumPy at (2, 64, 1e6): ~4 s against ~0.9 s), and
#: an untimed call absorbs that wait (DESIGN.md, "NumPy's memory cases").
UNTIMED_BELOW_S = 0.25
#: The size of the hidden layer's array (n_h · m values) from which fresh temporaries are fresh
#: pages: glibc's malloc serves smaller blocks from its heap, which keeps its pages (its
#: ``M_MMAP_THRESHOLD``, 128 KiB by default), so no wait is there to absorb.
FRESH_BYTES = 128 * 1024


def wants_untimed(c, one_s, untimed_below_s=UNTIMED_BELOW_S):
    """Whether side ``c`` (a :class:`.grid.Cell`, one call ``one_s`` seconds) gets an untimed
    call before each batch: a short call, or one with fresh temporaries of
    :data:`FRESH_BYTES` or more."""
    import numpy as np
    fresh = (REGISTRY[c.backend].memory == "temporaries"
             and c.n_h * c.m * np.dtype(c.dtype).itemsize >= FRESH_BYTES)
    return one_s < untimed_below_s or fresh


def _setup(stack, c, steps):
    """A worker for cell ``c``, its side built (a training run of ``steps``): (worker, (calls,
    one_s, m_run)), or (None, the error message)."""
    from ..backends import REFERENCE
    from .spawn import Worker
    from .worker import side_setup
    w = stack.enter_context(Worker((c.backend, REFERENCE)))
    try:
        return w, w.call(side_setup, c, steps)
    except (RuntimeError, OSError) as exc:
        return None, f"{type(exc).__name__}: {exc}"


def measure(groups, detector=None, *, rounds=ROUNDS, min_rounds=MIN_ROUNDS, passes=PASSES,
            budget_s=BUDGET_S, untimed_below_s=UNTIMED_BELOW_S, seed=0, progress=None,
            canary=True):
    """Time every group's sides in interleaved rounds.

    Parameters
    ----------
    groups : list of (key, list of Cell)
        Each group's sides; ``key`` is (op, n_x, n_h, m, steps).
    detector : .contention.Detector, optional
        Its verdict around each group's pass marks the series ``disturbed``.
    rounds, min_rounds, passes, budget_s : int, int, int, float
        Rounds per group over all passes (>= 2), the fewest whatever the budget (>= 2), the
        passes they are spread over (>= 1), and the seconds a group may take once its minimum
        rounds are done.
    untimed_below_s : float
        A side whose call takes at least this long gets no untimed call before its batch,
        unless it allocates fresh temporaries per call (:func:`wants_untimed`).
    seed : int
        Of the groups' order in each pass and the sides' order in each round.
    progress : .progress.Progress, optional
        Told each group's pass as it begins (the ``pass`` event and its numbers).
    canary : bool
        Time :func:`.peaks.canary` after every round (GFLOP/s of the host then).

    Returns
    -------
    list of :class:`.records.Series`
        One per group, in the order given; a side that could not be built is left out and
        said in ``Series.failed``.
    """
    if rounds < 2 or min_rounds < 2 or passes < 1:
        raise ValueError(f"need rounds >= 2, min_rounds >= 2, passes >= 1; got {rounds}, "
                         f"{min_rounds}, {passes}")
    from . import peaks
    rng = random.Random(seed)
    per_pass = math.ceil(rounds / passes)
    min_pass = math.ceil(min(min_rounds, rounds) / passes)
    acc = {key: dict(sides={}, canary=[], passes=[], failed={}, disturbed=False, over={})
           for key, _ in groups}
    sides_of = dict(groups)
    for p in range(passes):
        for key in rng.sample(list(sides_of), len(sides_of)):
            op, n_x, n_h, m, _ = key
            if progress is not None:
                progress.say(Event.PASS, k=p + 1, passes=passes, op=op, n_x=n_x, n_h=n_h, m=m,
                             sides=len(sides_of[key]))
            _pass(acc[key], sides_of[key], detector, rng, per_pass, min_pass,
                  budget_s / passes, untimed_below_s, peaks.canary if canary else None, p,
                  key[4])
    return [Series(op=key[0], n_x=key[1], n_h=key[2], m=key[3], steps=key[4],
                   data=cells[0].data if cells else "",
                   sides=[s for s in acc[key]["sides"].values() if len(s.rounds_s) >= 2],
                   canary_gflops=acc[key]["canary"], passes=acc[key]["passes"],
                   failed=acc[key]["failed"], disturbed=acc[key]["disturbed"],
                   over=acc[key]["over"])
            for key, cells in groups]


def _pass(a, cells, detector, rng, per_pass, min_pass, budget_s, untimed_below_s, canary, p,
          steps):
    """One pass of one group: its workers, then up to ``per_pass`` rounds into ``a``; a side
    whose batch fails leaves the pass (said in ``failed``), the others go on."""
    with ExitStack() as stack:
        live = []
        for c in cells:
            w, got = _setup(stack, c, steps)
            if w is None:
                a["failed"][c.key] = got
                continue
            calls, one, m_run = got
            side = a["sides"].setdefault(c.key, SideRounds(
                backend=c.backend, dtype=c.dtype, threads=c.threads, m_run=m_run))
            side.m_run = min(side.m_run, m_run)
            live.append((w, side, calls, wants_untimed(c, one, untimed_below_s), c.key))
        if not live:
            return
        pids = tuple(w.pid for w, *_ in live)
        before = detector.start(pids=pids) if detector else None
        end = time.perf_counter() + budget_s
        n = 0
        while n < per_pass and live:
            done = []
            for entry in rng.sample(live, len(live)):
                w, side, calls, untimed, key = entry
                try:
                    done.append((side, w.call(_batch, calls, untimed)))
                except (RuntimeError, OSError) as exc:  # that side is out of this pass
                    a["failed"][key] = f"{type(exc).__name__}: {exc}"
                    live.remove(entry)
            rid = len(a["canary"])
            for side, (t, sys_s, others) in done:
                side.round_ids.append(rid)
                side.rounds_s.append(t)
                side.system_s.append(sys_s)
                side.others_s.append(others)
            if canary:
                time.sleep(SETTLE_S)  # a side's spinning BLAS threads would slow the canary
            a["canary"].append(canary() if canary else None)
            a["passes"].append(p)
            n += 1
            if n >= min_pass and time.perf_counter() > end:
                break
        verdict = detector.verdict(before, pids=pids) if detector else None
        if verdict and verdict.get("over"):
            a["disturbed"] = True
            a["over"] = contention.worst(a["over"], verdict["over"])


def _batch(calls, untimed):
    """In a worker: :func:`.worker.side_batch` (a module-level name the worker can import)."""
    from .worker import side_batch
    return side_batch(calls, untimed)


__all__ = ["BUDGET_S", "FRESH_BYTES", "MIN_ROUNDS", "PASSES", "ROUNDS", "UNTIMED_BELOW_S", "measure",
           "wants_untimed"]
