"""The sweep: for each cell, check it against numpy, time it, measure its memory, append it to disk.

Methodology (what pytest-benchmark, asv and pyperf do):

- data is built and validated before the timed region; the timed callable calls the backend's
  kernel entry directly;
- the first call is timed on its own (``first_call_s``); for a JIT backend ``compile_s`` is that
  minus the steady-state median, and never enters the samples;
- wall clock (``perf_counter``), calls per sample calibrated to >= 20 ms, raw samples kept, median,
  IQR and min reported;
- a cell predicted (linearly in m, from the same series' largest measured m, or when there is none
  from probe calls at a 100× smaller m) to need more than its budget is not run: it is recorded as ``over_budget`` with ``predicted_s`` and
  ``extrapolated=True``, never as a measurement;
- before timing, the result is checked against the numpy backend; a disagreeing cell is ``wrong``;
- around every cell the machine's quietness is read (:mod:`.contention`); a cell measured while
  other processes competed is re-measured once the machine is quiet again (at most
  ``contention.RETRIES`` times, each after waiting up to ``contention.QUIET_WAIT_S``), else kept
  with ``disturbed=True`` and the reason; a disturbed cell never feeds a prediction;
- a headline cell (:func:`.grid.is_headline`) has its own budget and is measured unless even that
  is predicted to be exceeded ("not measured: predicted X s per call");
- a ``fit`` cell times a whole training run of ``steps`` steps (:func:`.grid.fit_steps`, recorded)
  and records the time per step: its timings and ``predicted_s`` are per step (``first_call_s``
  and ``compile_s`` are of the whole first run). Its prediction is per step × steps; where the
  linear prediction from a smaller m says over budget (it overstates a small m's per-call
  costs), a probe run of a few steps at up to the cell's own m decides.
"""

from __future__ import annotations

import copy
import datetime as _dt
import json
import os
import sys
import time

import numpy as np

from ..backends import HEADLINE, REFERENCE, get_backend
from . import ceiling, contention, measure, paired
from . import progress as _progress
from .grid import FIT_OP, HEADLINE_OP, budget_for, fit_steps, is_headline, skip_reason
from .store import RESULTS, Store, export, write_atomic


#: Ops whose result is small (a cost and gradients, or a run's parameters and costs): the
#: reference's result for one shape is kept through a sweep and checks every other backend there,
#: so a slow reference call (numpy at n_h = 64, m = 1e6: 0.6-2 s) is not repeated per backend.
KEEP_REFERENCE = (HEADLINE_OP, FIT_OP)


def _ref_key(c):
    """What the reference's result depends on: the cell without its backend (and its data,
    which :func:`.measure.make_data` seeds from the cell alone)."""
    return (c.op, c.m, c.n_h, c.n_x, c.n_y, c.dtype, c.threads, c.hidden, c.output, fit_steps(c))


def _series(c):
    return (c.backend, c.op, c.n_h, c.n_x, c.dtype, c.threads, c.hidden, c.output)


def predict(c, done):
    """Seconds per call (per step for ``fit``) for cell c, from the same series' largest m
    already done, linear in m (or None).

    Records marked ``disturbed`` (measured under contention) are never used.
    """
    best = None
    for r in done.values():
        if r["status"] not in ("ok", "over_budget") or r["m"] >= c.m or r.get("disturbed"):
            continue
        if (r["backend"], r["op"], r["n_h"], r["n_x"], r["dtype"], r["threads"], r["hidden"],
                r["output"]) != _series(c):
            continue
        t = r["median_s"] if r["status"] == "ok" else r["predicted_s"]
        if t and (best is None or r["m"] > best[0]):
            best = (r["m"], t)
    return None if best is None else best[1] * c.m / best[0]


def run_cell(c, budget_s, done, detector=None, headline_s=None, samples=measure.SAMPLES,
             memory_below_s=None, sample_s=None, refs=None):
    """Measure one cell, watching the machine. Always returns a record; never raises for the
    cell's own failures. ``headline_s``: a headline cell's budget (:func:`.grid.budget_for`);
    ``samples``: at most this many timed samples, taken within ``sample_s`` seconds (default:
    the cell's budget; at least 3 samples whatever it says); ``memory_below_s``: measure the peak memory
    only of a cell whose call (a whole run for ``fit``) takes less (None: every cell; the
    memory of a slower one is recorded as None, ``mem_skipped``). ``refs``: a dict the sweep
    keeps, of the reference's results by :func:`_ref_key` (:data:`KEEP_REFERENCE` ops only).

    Besides the timings the record has ``budget_s`` (this cell's budget), ``headline``,
    ``disturbed`` (measured while the machine was not quiet, after every retry) and
    ``contention`` (the facts of the last attempt: see :meth:`.contention.Detector.verdict`,
    plus ``attempts`` and the earlier attempts' ``reasons``).
    """
    budget = budget_for(c, budget_s, headline_s)
    rec = dict(c.params(), key=c.key, status="ok", extrapolated=False, message="",
               budget_s=budget, headline=is_headline(c), disturbed=False, contention=None)
    if c.op == FIT_OP:
        rec["steps"] = fit_steps(c)
    reason = skip_reason(c)
    if reason:
        return dict(rec, status="skipped", message=reason, median_s=None)
    det = detector or contention.default()
    earlier = []
    for attempt in range(1 + contention.RETRIES):
        before = det.start()
        out = _measure(c, budget, done, rec, samples, memory_below_s, sample_s, refs)
        if out["status"] not in ("ok", "over_budget"):
            return out
        facts = det.verdict(before)
        out.update(disturbed=bool(facts["reasons"]),
                   contention=dict(facts, attempts=attempt + 1, earlier=earlier))
        if not out["disturbed"] or attempt == contention.RETRIES or not det.wait_quiet():
            return out
        earlier = earlier + [facts["reason"]]
    return out


def _prediction(c, budget_s, done):
    """(seconds per call, per step for ``fit``; how it was predicted), or (None, "") when
    there is nothing to predict from. ``fit``: a linear prediction from a smaller m that says
    over budget is checked by a probe, which decides."""
    steps = fit_steps(c)
    pred, how = predict(c, done), "from the largest smaller m measured"
    if pred is None or (c.op == FIT_OP and 3 * pred * steps > budget_s):
        pred = measure.probe(c, budget_s)
        how = (f"from probe runs of 1 and {1 + measure.PROBE_STEPS} steps at "
               f"m = {measure.probe_m(c):,}" if c.op == FIT_OP else
               "from a probe at a 100× smaller m")
        if measure.probe_m(c) < c.m:
            how += ", linear in m"
    else:
        how += ", linear in m"
    return pred, how if pred is not None else ""


def _over_budget(c, pred, how, budget_s, rec):
    """The record of a cell predicted to exceed its budget: extrapolated, not measured."""
    steps = fit_steps(c)
    per = (f"{pred:.3g} s per step × {steps:,} steps per run" if c.op == FIT_OP else
           f"{pred:.3g} s per call")
    calls = "runs" if c.op == FIT_OP else "calls"
    return dict(rec, status="over_budget", extrapolated=True, median_s=None, predicted_s=pred,
                message=f"not measured: predicted {per} ({how}); 3 {calls} exceed "
                        f"the {budget_s:g} s budget")


def _measure(c, budget_s, done, rec, samples=measure.SAMPLES, memory_below_s=None,
             sample_s=None, refs=None):
    """One attempt at cell c within ``budget_s``: predict, check, time, measure memory."""
    steps = fit_steps(c)
    try:
        with measure.threads(c.threads):
            pred, how = _prediction(c, budget_s, done)
            if pred is not None and 3 * pred * steps > budget_s:
                return _over_budget(c, pred, how, budget_s, rec)
            P, X, Y = measure.make_data(c)
            fn = measure.step_fn(c, P, X, Y)
            t0 = time.perf_counter()
            out = fn()
            first = time.perf_counter() - t0
            if c.op == FIT_OP and (len(out[1]) != steps or not np.isfinite(out[1]).all()):
                t = np.flatnonzero(~np.isfinite(out[1]))
                return dict(rec, status="failed", median_s=None, message=(
                    f"the training run diverged at step {(t[0] if len(t) else len(out[1])) + 1} "
                    f"of {steps} (its cost is not finite): it has no time per step"))
            keep = refs is not None and c.op in KEEP_REFERENCE
            if c.backend == REFERENCE and keep:
                refs[_ref_key(c)] = copy.deepcopy(out)
            if c.backend != REFERENCE:
                ref = refs.get(_ref_key(c)) if keep else None
                if ref is None:
                    ref = measure.reference(c, P, X, Y)
                    if keep:
                        refs[_ref_key(c)] = ref
                bad, note = (measure.check_fit(c, out, ref, P, X, Y) if c.op == FIT_OP else
                             (measure.check(out, ref, c.dtype, c.op), ""))
                if bad:
                    return dict(rec, status="wrong", message=bad, median_s=None)
                rec = dict(rec, message=note)
                del ref
            del out
            per_call, number = measure.time_it(
                fn, budget_s if sample_s is None else min(budget_s, sample_s), samples)
            samples = [t / steps for t in per_call]  # per step for a training run
            st = measure.stats(samples)
            if memory_below_s is None or min(per_call) < memory_below_s:
                mem = measure.peak_memory(fn)
            else:  # two more slow calls would only say what the faster cells already show
                mem = dict(mem_traced_bytes=None, mem_rss_bytes=None, mem_skipped=True)
    except Exception as exc:  # noqa: BLE001 - a failed cell is recorded, the sweep goes on
        return dict(rec, status="failed", message=f"{type(exc).__name__}: {exc}", median_s=None)
    flops, nbytes = measure.work(c)
    is_jit = get_backend(c.backend).jit
    return dict(rec, **st, samples=samples, calls_per_round=number, first_call_s=first,
                compile_s=max(0.0, first - steps * st["median_s"]) if is_jit else None,
                flops=flops, bytes=nbytes, gflops=flops / st["median_s"] / 1e9,
                gbs=nbytes / st["median_s"] / 1e9, **mem)


def header(grid, budget_s, peer_status, fast=False, prog=None, detector=None, settings=None):
    """The run's machine facts, each phase named on ``prog`` (a :class:`.progress.Progress`)
    before it starts: machine facts, peaks, the compile timing and the contention probe.

    ``fast``: short peak and ceiling measurements and no compile timing (tests). ``settings``
    (:func:`.grid.settings`): ``peaks_s`` and ``ceiling_s``, the seconds the peaks and the
    ceiling are measured for (default 1.0 and 0.3), ``ceiling_dtypes`` (default both)."""
    prog = prog or _progress.Progress(enabled=False)
    settings = settings or {}
    with prog.phase("reading the machine facts (CPU, BLAS, Numba threading layer)"):
        info, commit = measure.machine_info(), measure.commit_info()
    with prog.phase("measuring machine peaks (FMA microkernel, GEMM, streaming copy)"):
        peaks = measure.machine_peaks(0.3 if fast else settings.get("peaks_s", 1.0))
    with prog.phase("measuring the step's own ceiling (vectorised tanh, multiply-add)"):
        time.sleep(measure.SETTLE_S)  # the GEMM peak's OpenBLAS threads stop spinning first
        ceil = ceiling.measure(0.05 if fast else settings.get("ceiling_s", 0.3),
                               settings.get("ceiling_dtypes", ceiling.DTYPES))
    compile_ = {}
    if not fast:
        with prog.phase(f"timing the {HEADLINE} compile (fresh processes)"):
            compile_ = measure.compile_times()
    with prog.phase("timing the contention probe (quiet reference)"):
        probe = (detector or contention.default()).calibrate()
    return {
        "datetime": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(["fastnn"] + sys.argv[1:]) if sys.argv else "fastnn bench",
        "grid": grid, "budget_s": budget_s, "settings": settings, "machine_info": info, "commit_info": commit,
        "peaks": peaks, "ceiling": ceil, "compile": compile_, "peers": peer_status, "contention_probe": probe,
        "contention_thresholds": {"others_cpus": contention.OTHERS_MAX,
                                  "steal": contention.STEAL_MAX,
                                  "probe_ratio": contention.PROBE_SLOWDOWN,
                                  "retries": contention.RETRIES,
                                  "quiet_wait_s": contention.QUIET_WAIT_S},
    }


def _label(c):
    steps = f" ({fit_steps(c):,} steps)" if c.op == FIT_OP else ""
    return (f"{c.backend} {c.op}{steps} m={c.m:,} n_h={c.n_h} n_x={c.n_x} {c.dtype} "
            f"threads={c.threads or 'all'}")


def sweep(cells, budget_s, out_dir, *, grid="quick", resume=False, progress=True,
          peer_status=None, fast_header=False, detector=None, pairs=True, settings=None):
    """Run every cell not yet in ``out_dir/results.jsonl``; export CSV and JSON at the end.

    ``progress``: a :class:`.progress.Progress`, or a bool (stdout, live bar in a terminal and
    plain lines otherwise; False: silent). ``detector``: a :class:`.contention.Detector`
    (default: a new one, calibrated here). ``pairs``: measure the headline speed-ups by paired
    rounds afterwards (:mod:`.paired`, into ``out_dir/paired.json``). ``settings``: the grid's
    (:func:`.grid.settings`): the headline cells' budget, the header's measurement times and the
    paired rounds' keywords. Returns the results path. Ctrl-C keeps every finished cell and says
    how to resume.
    """
    settings = settings or {}
    prog = _progress.make(progress)
    det = detector or contention.Detector()
    path = os.path.join(out_dir, RESULTS)
    if resume and os.path.exists(path):
        hdr = {}
        with prog.phase("timing the contention probe (quiet reference)"):
            det.calibrate()
    else:
        hdr = header(grid, budget_s, peer_status or {}, fast_header, prog, det, settings=settings)
    with Store(path, hdr, resume) as store:
        todo = [c for c in cells if c.key not in store.done]
        refs = {}  # the reference's results, by shape (:func:`_ref_key`)
        prog.say(f"sweeping {len(todo)} cells" + (f" ({len(store.done)} already done)"
                                                  if store.done else ""))
        try:
            with prog.bar(len(todo)) as bar:
                for c in todo:
                    bar.update(_label(c))
                    store.append(run_cell(c, budget_s, store.done, det,
                                          settings.get("headline_budget_s"),
                                          settings.get("samples", measure.SAMPLES),
                                          settings.get("memory_below_s"),
                                          settings.get("sample_s"), refs))
                    bar.advance()
        except KeyboardInterrupt:
            print(f"\ninterrupted: {len(store.done)} finished cells are kept in {path}.\n"
                  f"Resume with the same command plus --resume.", file=sys.stderr)
            raise
        also = []
        if pairs:
            with prog.phase("paired A/B rounds for the headline speed-ups"):
                doc = paired.headline_pairs(store.done, det, progress=prog,
                                            **settings.get("pairs", {}))
            if doc:
                write_atomic(os.path.join(out_dir, paired.PAIRED),
                             json.dumps({"run_id": store.header.get("run_id"), "pairs": doc},
                                        indent=1))
                also.append(paired.PAIRED)  # in the manifest: a later run without pairs drops it
        n_bad = sum(1 for r in store.done.values() if r.get("disturbed"))
        if n_bad:
            prog.say(f"{n_bad} cells were measured while other processes competed for the CPU "
                     "(marked disturbed; see their contention field)")
        export(path, out_dir, also)
    return path


def summary(path):
    """Counts of statuses, for the end of a run."""
    from .store import load
    _, cells = load(path)
    counts = {}
    for r in cells:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    return counts


__all__ = ["predict", "run_cell", "summary", "sweep"]
