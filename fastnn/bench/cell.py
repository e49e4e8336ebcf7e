"""One cell, measured in the process that calls :func:`run_cell` (a worker, :mod:`.spawn`): predict
its time, check its result against the reference, time it, measure its memory, watch the machine.

Methodology (what pytest-benchmark, asv and pyperf do):

- data is built and validated before the timed region; the timed callable calls the backend's
  kernel entry directly;
- the first call is timed on its own (``first_call_s``); for a JIT backend ``compile_s`` is that
  minus the steady-state median, and never enters the values (in a worker whose Numba cache is
  filled it is the cache's load);
- wall clock (``perf_counter``), calls per value calibrated to >= 20 ms, raw values kept, median,
  IQR and min reported;
- a cell predicted (linearly in m, from the same series' largest measured m, or when there is
  none from probe calls at a 100× smaller m) to need more than its budget for
  :data:`OVER_BUDGET_CALLS` calls is not run: it is recorded as ``over_budget`` with
  ``predicted_s``, ``extrapolated=True`` and how it was predicted (its ``why``), never as a
  measurement;
- before timing, the result is checked against the reference backend; a disagreeing cell is
  ``wrong``;
- around every cell the machine's quietness is read (:mod:`.contention`); a cell measured while
  other processes competed is re-measured once the machine is quiet again (at most
  ``contention.RETRIES`` times, each after waiting up to ``contention.QUIET_WAIT_S``), else kept
  with ``disturbed=True`` and the thresholds exceeded; a disturbed cell never feeds a prediction;
- a headline cell (:func:`.grid.is_headline`) has its own budget and is measured unless even that
  is predicted to be exceeded (``over_budget``);
- nothing here writes a sentence: why a cell was not measured is its ``why`` and what to know
  about a measured one its ``notes``, each a code and its numbers (:mod:`.codes`);
- a ``fit`` cell times a whole training run of ``steps`` steps (:func:`.grid.fit_steps`, recorded)
  and records the time per step: its timings and ``predicted_s`` are per step (``first_call_s``
  and ``compile_s`` are of the whole first run). Its prediction is per step × steps; where the
  linear prediction from a smaller m says over budget (it overstates a small m's per-call
  costs), a probe run of a few steps at up to the cell's own m decides.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import time

import numpy as np

from ..backends import REFERENCE, get_backend
from . import checks, contention, spawn, worker
from .codes import Why, error, why
from .grid import (FIT_OP, HEADLINE_OP, budget_for, fit_steps, is_headline, memory_limit,
                   skip_reason, working_set_bytes)

#: The over-budget rule: a cell is measured only when this many calls (runs, for ``fit``) are
#: predicted to fit in its budget.
OVER_BUDGET_CALLS = 3


def over_budget(seconds_per_call, budget_s):
    """True when :data:`OVER_BUDGET_CALLS` calls of ``seconds_per_call`` exceed ``budget_s``."""
    return OVER_BUDGET_CALLS * seconds_per_call > budget_s


#: Ops whose result is small (a cost and gradients, or a run's parameters and costs): the
#: reference's result for one shape is kept through a sweep and checks every other backend there,
#: so a slow reference call (numpy at n_h = 64, m = 1e6: 0.6-2 s) is not repeated per backend.
KEEP_REFERENCE = (HEADLINE_OP, FIT_OP)


def ref_key(c):
    """What the reference's result depends on: the cell without its backend (and its data,
    which :func:`.worker.make_data` seeds from the cell alone)."""
    return (c.op, c.m, c.n_h, c.n_x, c.n_y, c.dtype, c.threads, c.hidden, c.output, fit_steps(c))


def series(c):
    """A cell's series: its backend's cells that differ from it only in m."""
    return (c.backend, c.op, c.n_h, c.n_x, c.dtype, c.threads, c.hidden, c.output)


def series_of(r):
    """:func:`series` of a record."""
    return (r["backend"], r["op"], r["n_h"], r["n_x"], r["dtype"], r["threads"], r["hidden"],
            r["output"])


def predict(c, done):
    """Seconds per call (per step for ``fit``) for cell c, from the same series' largest m
    already done, linear in m (or None).

    Records marked ``disturbed`` (measured under contention) are never used.
    """
    best = None
    for r in done.values():
        if r["status"] not in ("ok", "over_budget") or r["m"] >= c.m or r.get("disturbed"):
            continue
        if series_of(r) != series(c):
            continue
        t = r["median_s"] if r["status"] == "ok" else r["predicted_s"]
        if t and (best is None or r["m"] > best[0]):
            best = (r["m"], t)
    return None if best is None else best[1] * c.m / best[0]


def run_cell(c, budget_s, done, detector=None, headline_s=None, samples=worker.SAMPLES,
             memory_below_s=None, sample_s=None, refs=None, min_values=worker.MIN_VALUES):
    """Measure one cell, watching the machine. Always returns a record; never raises for the
    cell's own failures. ``headline_s``: a headline cell's budget (:func:`.grid.budget_for`);
    ``samples``: at most this many timed samples, taken within ``sample_s`` seconds (default:
    the cell's budget; at least 3 samples whatever it says); ``memory_below_s``: measure the peak memory
    only of a cell whose call (a whole run for ``fit``) takes less (None: every cell; the
    memory of a slower one is recorded as None, ``mem_skipped``). ``refs``: a dict the sweep
    keeps, of the reference's results by :func:`ref_key` (:data:`KEEP_REFERENCE` ops only);
    ``min_values``: the fewest values to take (:func:`.worker.time_it`).

    Besides the timings the record has ``budget_s`` (this cell's budget), ``headline``,
    ``disturbed`` (measured while the machine was not quiet, after every retry),
    ``contention`` (the facts of the last attempt: see :meth:`.contention.Detector.verdict`,
    plus ``attempts`` and the earlier attempts' ``over``), ``why`` (a status other than ``ok``:
    a code and its numbers, :mod:`.codes`; else None) and ``notes`` (a list of such).
    """
    budget = budget_for(c, budget_s, headline_s)
    rec = dict(c.params(), key=c.key, status="ok", extrapolated=False, why=None, notes=[],
               budget_s=budget, headline=is_headline(c), disturbed=False, contention=None)
    if c.op == FIT_OP:
        rec["steps"] = fit_steps(c)
    skip = skip_reason(c)
    if skip:
        return dict(rec, status="skipped", why=skip, median_s=None)
    det = detector or contention.default()
    earlier = []
    for attempt in range(1 + contention.RETRIES):
        before = det.start()
        out = _measure(c, budget, done, rec, samples, memory_below_s, sample_s, refs,
                       min_values)
        if out["status"] not in ("ok", "over_budget"):
            return out
        facts = det.verdict(before)
        out.update(disturbed=bool(facts.get("over")),
                   contention=dict(facts, attempts=attempt + 1, earlier=earlier))
        if not out["disturbed"] or attempt == contention.RETRIES or not det.wait_quiet():
            return out
        earlier = earlier + [facts.get("over") or {}]
    return out


def _prediction(c, budget_s, done):
    """(seconds per call, per step for ``fit``; how it was predicted, a dict: ``source``
    "smaller_m" or "probe", ``probe_m``, ``probe_steps`` (the probe's longer run, ``fit``
    only), ``linear`` (scaled linearly in m)), or (None, {}) when there is nothing to predict
    from. ``fit``: a linear prediction from a smaller m that says over budget is checked by a
    probe, which decides."""
    steps = fit_steps(c)
    pred, how = predict(c, done), dict(source="smaller_m", probe_m=None, probe_steps=None,
                                       linear=True)
    if pred is None or (c.op == FIT_OP and over_budget(pred * steps, budget_s)):
        pred = worker.probe(c, budget_s)
        how = dict(source="probe", probe_m=worker.probe_m(c),
                   probe_steps=1 + worker.PROBE_STEPS if c.op == FIT_OP else None,
                   linear=worker.probe_m(c) < c.m)
    return pred, how if pred is not None else {}


def _over_budget(c, pred, how, budget_s, rec):
    """The record of a cell predicted to exceed its budget: extrapolated, not measured."""
    return dict(rec, status="over_budget", extrapolated=True, median_s=None, predicted_s=pred,
                why=why(Why.OVER_BUDGET, predicted_s=pred, steps=fit_steps(c),
                        calls=OVER_BUDGET_CALLS, budget_s=budget_s, **how))


def _check_m(c):
    """The m at which cell c can be checked: its own, or, where the reference backend's working
    set would exceed the memory limit (the fused step at an m NumPy cannot hold), the largest
    that fits, rounded down to a power of 10 (at least 1,000)."""
    ref = dataclasses.replace(c, backend=REFERENCE)
    need, limit = working_set_bytes(ref), memory_limit()
    if c.op == FIT_OP or need <= limit:
        return c.m
    m = int(c.m * limit / need)
    return max(1_000, 10 ** int(np.log10(max(m, 1))))


def _check_prefix(c, P, X, Y, m):
    """None if the cell's op on the first m examples agrees with the reference's there, else
    its ``disagrees`` why (:func:`.checks.check`)."""
    sub = dataclasses.replace(c, m=m)
    Xs, Ys = np.ascontiguousarray(X[:, :m]), np.ascontiguousarray(Y[:, :m])
    out = worker.step_fn(sub, P, Xs, Ys)()
    return checks.check(out, checks.reference(sub, P, Xs, Ys), c.dtype, c.op)


def _measure(c, budget_s, done, rec, samples=worker.SAMPLES, memory_below_s=None,
             sample_s=None, refs=None, min_values=worker.MIN_VALUES):
    """One attempt at cell c within ``budget_s``: predict, check, time, measure memory."""
    steps = fit_steps(c)
    try:
        with worker.threads(c.threads):
            pred, how = _prediction(c, budget_s, done)
            if pred is not None and over_budget(pred * steps, budget_s):
                return _over_budget(c, pred, how, budget_s, rec)
            # before the cell's data, with nothing held from an earlier cell (a backend's kept
            # buffers, free heap): what the step adds starts here
            get_backend(c.backend).release()
            worker.return_free_memory()
            rss0 = worker._rss_hwm()
            P, X, Y = worker.make_data(c)
            fn = worker.step_fn(c, P, X, Y)
            t0 = time.perf_counter()
            out = fn()
            first = time.perf_counter() - t0
            if c.op == FIT_OP and (len(out[1]) != steps or not np.isfinite(out[1]).all()):
                t = np.flatnonzero(~np.isfinite(out[1]))
                return dict(rec, status="failed", median_s=None, why=why(
                    Why.DIVERGED, step=int(t[0] if len(t) else len(out[1])) + 1, steps=steps))
            if c.op == FIT_OP:  # the cost the run reached (J before its last update)
                rec = dict(rec, final_cost=float(out[1][-1]))
            other_ran = False  # another backend (the reference) ran in this process
            first_warm = not get_backend(c.backend).jit  # the first call warmed the step up
            keep = refs is not None and c.op in KEEP_REFERENCE
            if c.backend == REFERENCE and keep:
                refs[ref_key(c)] = copy.deepcopy(out)
            m_check = _check_m(c)
            if c.backend != REFERENCE and m_check < c.m:
                bad = _check_prefix(c, P, X, Y, m_check)
                if bad:
                    return dict(rec, status="wrong", why=bad, median_s=None)
                # the prefix's work arrays (numpy-inplace keeps two shapes) are not the
                # step's: dropped, so the first call no longer stands for the warm-up (it
                # found the work arrays made): the timing warms up itself, making them again
                get_backend(c.backend).release()
                first_warm = False
                other_ran = True
                rec = dict(rec, notes=rec["notes"] + [why(
                    Why.PREFIX_CHECK, m_check=m_check, m=c.m, reference=REFERENCE)])
            elif c.backend != REFERENCE:
                ref = refs.get(ref_key(c)) if keep else None
                if ref is None:
                    ref, other_ran = checks.reference(c, P, X, Y), True
                    if keep:
                        refs[ref_key(c)] = ref
                bad, note = (checks.check_fit(c, out, ref, P, X, Y) if c.op == FIT_OP else
                             (checks.check(out, ref, c.dtype, c.op), None))
                if bad:
                    return dict(rec, status="wrong", why=bad, median_s=None)
                if note:
                    rec = dict(rec, notes=rec["notes"] + [note])
                del ref
            del out
            faults = {}
            per_call, number = worker.time_it(
                fn, budget_s if sample_s is None else min(budget_s, sample_s), samples,
                min_values, first if first_warm else None,
                settle=other_ran or not spawn.in_worker(), counters=faults)
            samples = [t / steps for t in per_call]  # per step for a training run
            st = worker.stats(samples, faults.get("value_faults"), faults.get("value_system_s"))
            if memory_below_s is None or min(per_call) < memory_below_s:
                mem = worker.peak_memory(fn)
                peak = mem.pop("rss_peak_bytes")
                # the step's whole memory: its data, what the backend holds (numpy-inplace's
                # buffers), and its peak temporaries, as the resident set saw them
                mem["mem_step_bytes"] = (max(0, peak - rss0[0]) if peak and rss0 else None)
            else:  # two more slow calls would only say what the faster cells already show
                mem = dict(mem_traced_bytes=None, mem_rss_bytes=None, mem_step_bytes=None,
                           mem_skipped=True)
    except Exception as exc:  # noqa: BLE001 - a failed cell is recorded, the sweep goes on
        return dict(rec, status="failed", why=error(exc), median_s=None)
    flops, nbytes = worker.work(c)
    is_jit = get_backend(c.backend).jit
    return dict(rec, **st, samples=samples, calls_per_round=number, first_call_s=first, **faults,
                working_set_bytes=working_set_bytes(c),
                compile_s=max(0.0, first - steps * st["median_s"]) if is_jit else None,
                flops=flops, bytes=nbytes, gflops=flops / st["median_s"] / 1e9,
                gbs=nbytes / st["median_s"] / 1e9, **mem)


def task(c, budget_s, done, detector, ref=None, **kw):
    """:func:`run_cell` as a worker's task: ``done`` holds the records that may predict c (its
    series), ``ref`` the reference's result at c's shape when the parent has it.

    Returns (record, the reference's result at c's shape if this worker computed or was given
    it, else None, :meth:`.contention.Detector.state` of the worker's detector)."""
    refs = {} if ref is None else {ref_key(c): ref}
    rec = dict(run_cell(c, budget_s, done, detector, refs=refs, **kw), worker_pid=os.getpid())
    return rec, refs.get(ref_key(c)), detector.state()


__all__ = ["KEEP_REFERENCE", "OVER_BUDGET_CALLS", "over_budget", "predict", "ref_key", "run_cell",
           "series", "series_of", "task"]
