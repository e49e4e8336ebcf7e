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
- before timing, the result is checked against the numpy backend; a disagreeing cell is ``wrong``.
"""

from __future__ import annotations

import datetime as _dt
import os
import sys
import time


from ..backends import REFERENCE, get_backend
from . import measure
from .grid import skip_reason
from .store import RESULTS, Store, export


def _series(c):
    return (c.backend, c.op, c.n_h, c.n_x, c.dtype, c.threads, c.hidden, c.output)


def predict(c, done):
    """Seconds per call for cell c, from the same series' largest m already done (or None)."""
    best = None
    for r in done.values():
        if r["status"] not in ("ok", "over_budget") or r["m"] >= c.m:
            continue
        if (r["backend"], r["op"], r["n_h"], r["n_x"], r["dtype"], r["threads"], r["hidden"],
                r["output"]) != _series(c):
            continue
        t = r["median_s"] if r["status"] == "ok" else r["predicted_s"]
        if t and (best is None or r["m"] > best[0]):
            best = (r["m"], t)
    return None if best is None else best[1] * c.m / best[0]


def _set_threads(n):
    import numba
    from threadpoolctl import threadpool_limits
    n_max = numba.config.NUMBA_NUM_THREADS
    numba.set_num_threads(min(n, n_max) if n else n_max)
    return threadpool_limits(limits=n if n else None)


def run_cell(c, budget_s, done):
    """Measure one cell. Always returns a record; never raises for the cell's own failures."""
    rec = dict(c.params(), key=c.key, status="ok", extrapolated=False, message="")
    reason = skip_reason(c)
    if reason:
        return dict(rec, status="skipped", message=reason, median_s=None)
    try:
        with _set_threads(c.threads):
            pred, how = predict(c, done), "from the largest smaller m measured"
            if pred is None:
                pred, how = measure.probe(c, budget_s), "from a probe at a 100× smaller m"
            if pred is not None and 3 * pred > budget_s:
                return dict(rec, status="over_budget", extrapolated=True, median_s=None,
                            predicted_s=pred,
                            message=f"predicted {pred:.3g} s per call ({how}, linear in m); "
                                    f"3 calls exceed the {budget_s:g} s budget")
            P, X, Y = measure.make_data(c)
            fn = measure.step_fn(c, P, X, Y)
            t0 = time.perf_counter()
            out = fn()
            first = time.perf_counter() - t0
            if c.backend != REFERENCE:
                ref = measure.reference(c, P, X, Y)
                bad = measure.check(out, ref, c.dtype)
                if bad:
                    return dict(rec, status="wrong", message=bad, median_s=None)
                del ref
            del out
            samples, number = measure.time_it(fn, budget_s)
            st = measure.stats(samples)
            mem = measure.peak_memory(fn)
    except Exception as exc:  # noqa: BLE001 - a failed cell is recorded, the sweep goes on
        return dict(rec, status="failed", message=f"{type(exc).__name__}: {exc}", median_s=None)
    flops, nbytes = measure.work(c)
    is_jit = get_backend(c.backend).jit
    rec.update(st, samples=samples, calls_per_round=number, first_call_s=first,
               compile_s=max(0.0, first - st["median_s"]) if is_jit else None,
               flops=flops, bytes=nbytes, gflops=flops / st["median_s"] / 1e9,
               gbs=nbytes / st["median_s"] / 1e9, **mem)
    return rec


def header(grid, budget_s, peer_status, fast=False):
    return {
        "datetime": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(["fastnn"] + sys.argv[1:]) if sys.argv else "fastnn bench",
        "grid": grid, "budget_s": budget_s,
        "machine_info": measure.machine_info(), "commit_info": measure.commit_info(),
        "peaks": measure.machine_peaks(0.3 if fast else 1.0),
        "compile": {} if fast else measure.compile_times(),
        "peers": peer_status,
    }


def sweep(cells, budget_s, out_dir, *, grid="quick", resume=False, progress=True,
          peer_status=None, fast_header=False):
    """Run every cell not yet in ``out_dir/results.jsonl``; export CSV and JSON at the end.

    Returns the results path. Ctrl-C keeps every finished cell and says how to resume.
    """
    path = os.path.join(out_dir, RESULTS)
    hdr = None if (resume and os.path.exists(path)) else header(grid, budget_s, peer_status or {},
                                                                fast_header)
    store = Store(path, hdr or {}, resume)
    todo = [c for c in cells if c.key not in store.done]
    bar = _progress(progress)
    try:
        with bar:
            task = bar.add_task("bench", total=len(todo))
            for c in todo:
                bar.update(task, description=f"{c.backend:>10} {c.op:<14} m={c.m:<8} "
                                             f"n_h={c.n_h:<4} {c.dtype} t={c.threads}")
                store.append(run_cell(c, budget_s, store.done))
                bar.advance(task)
    except KeyboardInterrupt:
        print(f"\ninterrupted: {len(store.done)} finished cells are kept in {path}.\n"
              f"Resume with the same command plus --resume.", file=sys.stderr)
        raise
    export(path, out_dir)
    return path


class _NoBar:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False

    def add_task(self, *a, **k):
        return 0

    def update(self, *a, **k):
        pass

    def advance(self, *a, **k):
        pass


def _progress(enabled):
    if not enabled:
        return _NoBar()
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                               TimeElapsedColumn, TimeRemainingColumn)
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn())


def summary(path):
    """Counts of statuses, for the end of a run."""
    from .store import load
    _, cells = load(path)
    counts = {}
    for r in cells:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    return counts


__all__ = ["predict", "run_cell", "summary", "sweep"]
