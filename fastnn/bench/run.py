"""The sweep, the parent side: the cells of a grid in a seeded shuffled order, each measured in
fresh worker processes (:mod:`.spawn`; how one cell is measured: :mod:`.cell`), appended to disk
as it finishes; the run's machine facts first and the paired rounds last."""

from __future__ import annotations

import datetime as _dt
import os
import random
import sys

from ..backends import HEADLINE, REFERENCE
from . import (cell, ceiling, contention, history, ladder, machine, paired, peaks, rounds, spawn,
               stats, worker)
from . import progress as _progress
from .progress import Event
from .codes import Why, error, why
from .grid import FIT_OP, HEADLINE_OP, TARGETS, Cell, fit_steps, is_headline
from .records import PairedDoc
from .store import PAIRED, RESULTS, Store, export, write_paired

#: Worker processes per headline cell (each gives its own values; the spread between workers is
#: recorded, and the interval must cover it); every other cell runs in one fresh worker. A grid
#: may set its own (``run.workers``).
HEADLINE_WORKERS = 3
#: Worker medians further apart than this fraction, and further than the workers' own spread
#: (their largest IQR over median), mark the cell as one whose workers disagree
#: (``workers_apart``).
WORKERS_AGREE = 0.05


def order(cells, seed):
    """The cells in a seeded random order across backends and shapes (as pyhpc-benchmarks and
    Google Benchmark's random interleaving do), so a slow minute of the machine does not land on
    one backend's column. Each series (a backend's cells that differ only in m) keeps its m
    ascending, so a cell's time can still be predicted from the series' smaller m: the order is a
    uniformly random interleaving of the series."""
    rng = random.Random(seed)
    queues = {}
    for c in cells:
        queues.setdefault(cell.series(c), []).append(c)
    queues = [sorted(q, key=lambda c: c.m) for q in queues.values()]
    out = []
    while queues:
        i = rng.choices(range(len(queues)), [len(q) for q in queues])[0]
        out.append(queues[i].pop(0))
        if not queues[i]:
            queues.pop(i)
    return out


def shape_of(c):
    """What a shard is split by: (op, n_x, n_h, m). Every backend, dtype and thread count of a
    shape runs in one shard, so every comparison stays on one machine."""
    return (c.op, c.n_x, c.n_h, c.m)


def shard(cells, k, n):
    """The cells of the ``k``-th of ``n`` parts (1-based) of a grid: its shapes (:func:`shape_of`),
    sorted, dealt round-robin. A bad ``k``/``n`` is a ``ValueError``."""
    if not (isinstance(n, int) and isinstance(k, int) and n >= 1 and 1 <= k <= n):
        raise ValueError(f"shard {k}/{n}: need integers 1 <= K <= N")
    shapes = sorted({shape_of(c) for c in cells})
    mine = set(shapes[k - 1::n])
    return [c for c in cells if shape_of(c) in mine]


def header(grid, budget_s, peer_status, fast=False, prog=None, detector=None, settings=None,
           isolate=True):
    """The run's machine facts, each phase named on ``prog`` (a :class:`.progress.Progress`)
    before it starts (an :class:`.progress.Event`): machine facts, peaks, the ceiling, the
    compile timing and the contention probe.

    ``fast``: short peak and ceiling measurements and no compile timing (tests). ``settings``
    (:func:`.grid.settings`): ``peaks_s`` and ``ceiling_s``, the seconds the peaks and the
    ceiling are measured for (default 1.0 and 0.3), ``ceiling_dtypes`` (default both).
    ``isolate``: measure in worker processes (:mod:`.spawn`), as the cells are. Unless
    ``fast``, the peaks hold ``fma_best``, the best FMA peak of this machine kind in the
    history, this run's included (:func:`.history.update`)."""
    prog = prog or _progress.Progress(enabled=False)
    settings = settings or {}
    with prog.phase(Event.MACHINE):
        info = spawn.call(machine.machine_info, isolate=isolate)
        commit = machine.commit_info()
    with prog.phase(Event.PEAKS):
        peak = spawn.call(peaks.machine_peaks, 0.3 if fast else settings.get("peaks_s", 1.0),
                          isolate=isolate)
    with prog.phase(Event.CEILING):
        ceil = spawn.call(ceiling.measure, 0.05 if fast else settings.get("ceiling_s", 0.3),
                          settings.get("ceiling_dtypes", ceiling.DTYPES), isolate=isolate)
    compile_ = {}
    if not fast:
        with prog.phase(Event.COMPILE, backend=HEADLINE):
            compile_ = machine.compile_times()
    with prog.phase(Event.PROBE):
        probe = (detector or contention.default()).calibrate()
    when = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    if not fast:  # a short test peak is not the machine's
        peak["fma_best"] = history.update(history.key(info.get("cpu"), peak.get("fma_method")),
                                          peak.get("fma_gflops"), when)
    return {
        "datetime": when,
        "command": " ".join(["fastnn"] + sys.argv[1:]) if sys.argv else "fastnn bench",
        "grid": grid, "budget_s": budget_s, "settings": settings, "machine_info": info, "commit_info": commit,
        "peaks": peak, "ceiling": ceil, "compile": compile_, "peers": peer_status, "contention_probe": probe,
        "contention_thresholds": {"others_cpus": contention.OTHERS_MAX,
                                  "steal": contention.STEAL_MAX,
                                  "probe_ratio": contention.PROBE_SLOWDOWN,
                                  "retries": contention.RETRIES,
                                  "quiet_wait_s": contention.QUIET_WAIT_S},
    }


def _current(c):
    """The numbers of the ``cell`` event (:class:`.progress.Event`) of cell c."""
    return dict(backend=c.backend, op=c.op, steps=fit_steps(c) if c.op == FIT_OP else None,
                m=c.m, n_h=c.n_h, n_x=c.n_x, dtype=c.dtype, threads=c.threads)


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during a sweep: ``cells`` finished cells are kept in the results file ``path``
    (the command line says how to resume: the ``interrupted`` event of :mod:`.progress`)."""

    def __init__(self, cells, path):
        super().__init__(cells, path)
        self.cells, self.path = cells, path


def _failed(c, exc):
    """The record of a cell whose worker failed outside the cell's own measurement."""
    return dict(c.params(), key=c.key, status="failed", median_s=None, extrapolated=False,
                headline=is_headline(c), disturbed=False, contention=None, why=error(exc),
                notes=[])


def _merge(recs):
    """One record from the records of one cell's workers: their values pooled, the statistics
    recomputed, and ``workers`` (each worker's pid, values, median, IQR, min), ``workers_spread``
    (largest over smallest worker median, minus 1), ``workers_iqr`` (the workers' largest IQR
    over their median) and ``workers_apart`` (:data:`WORKERS_AGREE`: True when the spread
    exceeds both) added; memory and the first call are the first worker's. A further worker
    that failed is a ``further_worker`` note (:mod:`.codes`), its values left out."""
    first = recs[0]
    ok = [r for r in recs if r["status"] == "ok"]
    notes = list(first.get("notes") or [])
    if first["status"] == "ok":
        notes += [why(Why.FURTHER_WORKER, status=r["status"], why=r.get("why"))
                  for r in recs if r["status"] != "ok"]
    summary = [dict(pid=r.get("worker_pid"), values=len(r["samples"]), median_s=r["median_s"],
                    iqr_s=r["iqr_s"], min_s=r["min_s"], calls_per_value=r["calls_per_round"])
               for r in ok]
    if first["status"] != "ok" or len(summary) < 2:
        return dict(first, workers=summary, workers_spread=None, workers_iqr=None,
                    workers_apart=False, notes=notes)
    values = [v for r in ok for v in r["samples"]]
    meds = [w["median_s"] for w in summary]
    spread = max(meds) / min(meds) - 1
    own = max(w["iqr_s"] / w["median_s"] for w in summary)
    counted = all(len(r.get("value_faults") or ()) == len(r["samples"]) for r in ok)
    per_value = {k: [v for r in ok for v in r[k]] if counted else None
                 for k in ("value_faults", "value_system_s")}
    st = worker.stats(values, per_value["value_faults"], per_value["value_system_s"])
    rec = dict(first, **st, samples=values, **per_value, workers=summary, workers_spread=spread,
               workers_iqr=own, workers_apart=bool(spread > max(WORKERS_AGREE, own)),
               notes=notes,
               disturbed=any(r.get("disturbed") for r in recs),
               gflops=first["flops"] / st["median_s"] / 1e9,
               gbs=first["bytes"] / st["median_s"] / 1e9)
    if rec.get("compile_s") is not None:
        steps = fit_steps(Cell.of(rec))
        rec["compile_s"] = max(0.0, rec["first_call_s"] - steps * st["median_s"])
    return rec


def measure_cell(c, budget_s, done, det, settings, refs, isolate=True):
    """Cell c measured in fresh worker processes (:data:`HEADLINE_WORKERS` for a headline cell,
    or the grid's ``workers``; one otherwise), each a :func:`.cell.run_cell`; the reference's
    result at c's shape is passed to and kept from the workers in ``refs``. The first worker
    also measures the memory; the values are split between the workers."""
    k = settings.get("workers", HEADLINE_WORKERS) if is_headline(c) else 1
    series = {key: {f: v for f, v in r.items() if f != "samples"} for key, r in done.items()
              if cell.series_of(r) == cell.series(c)}
    kw = dict(headline_s=settings.get("headline_budget_s"),
              min_values=worker.MIN_VALUES if k == 1 else worker.MIN_VALUES_PER_WORKER,
              samples=-(-settings.get("samples", worker.SAMPLES) // k),
              sample_s=None if settings.get("sample_s") is None else settings["sample_s"] / k)
    recs, key = [], cell.ref_key(c)
    for i in range(k):
        try:
            rec, ref, state = spawn.call(
                cell.task, c, budget_s, series, det, refs.get(key), isolate=isolate,
                backends=(c.backend, REFERENCE),
                memory_below_s=settings.get("memory_below_s") if i == 0 else 0.0, **kw)
        except (RuntimeError, OSError) as exc:
            rec, ref, state = _failed(c, exc), None, det.state()
        det.merge(state)
        if ref is not None and c.op in cell.KEEP_REFERENCE:
            refs[key] = ref
        recs.append(rec)
        if rec["status"] != "ok":
            break
    return _merge(recs) if recs[0]["status"] == "ok" else recs[0]


def _ladder_shapes(done, settings):
    """The step shapes whose group also times the ladder's rungs: the grid's ``ladder``
    ``shapes`` (default the headline step shapes) where this run has a record of every rung's
    backend; none when the grid's settings say ``ladder=None``."""
    if "ladder" in settings and settings["ladder"] is None:
        return ()
    kw = dict(settings.get("ladder") or {})
    ran = {}
    for r in done.values():
        if r["op"] == HEADLINE_OP and r["dtype"] == "float64":
            ran.setdefault((r["n_x"], r["n_h"], r["m"]), set()).add(r["backend"])
    need = {b for b, _ in ladder.rungs()}
    return tuple(s for s in kw.get("shapes", TARGETS) if need <= ran.get(s, set()))


def reference_peak(peaks):
    """The FMA peak a run's canary is measured against (GFLOP/s): the best of this machine kind
    in the history (``fma_best``) where the run recorded one, else the run's own peak, so the
    first screen and every comparison's ``host`` flag use one measure. None without peaks."""
    peaks = peaks or {}
    best = peaks.get("fma_best")
    return best["fma_gflops"] if history.valid(best) else peaks.get("fma_gflops")


def compare_rounds(done, det, prog, settings, seed, fma_gflops):
    """The headline comparisons and the ladder from interleaved rounds (:mod:`.rounds`) of the
    groups :func:`.paired.plan` makes; returns a :class:`.records.PairedDoc` (no run id)."""
    groups = paired.plan(done, _ladder_shapes(done, settings))
    if not groups:
        return PairedDoc(estimator=stats.ESTIMATOR, fma_gflops=fma_gflops)
    kw = dict(settings.get("rounds") or {})
    with prog.phase(Event.ROUNDS, shapes=len(groups), passes=kw.get("passes", rounds.PASSES)):
        series = rounds.measure(groups, det, progress=prog, seed=seed, **kw)
    pairs, steps = paired.comparisons(series, fma_gflops)
    return PairedDoc(estimator=stats.ESTIMATOR, fma_gflops=fma_gflops, series=series,
                     pairs=pairs, ladder=steps)


def sweep(cells, budget_s, out_dir, *, grid="quick", resume=False, progress=True,
          peer_status=None, fast_header=False, detector=None, pairs=True, settings=None,
          seed=None, shard_of=None, isolate=True):
    """Run every cell not yet in ``out_dir/results.jsonl``; export CSV and JSON at the end.

    ``progress``: a :class:`.progress.Progress` (told each phase and cell as an
    :class:`.progress.Event`; ``fastnn bench`` gives it the words of
    :mod:`fastnn.report.console`), or a bool (stdout, a live bar in a terminal and plain lines
    otherwise, each event as its code and numbers; False: silent). ``detector``: a :class:`.contention.Detector`
    (default: a new one, calibrated here). ``pairs``: measure the headline speed-ups by paired
    rounds afterwards (:mod:`.paired`, into ``out_dir/paired.json``). ``settings``: the grid's
    (:func:`.grid.settings`): the headline cells' budget and workers, the header's measurement
    times and the paired rounds' keywords. ``seed``: of the cells' order (:func:`order`; default
    drawn at random; recorded). ``shard_of``: (K, N) when these cells are the K-th of N parts of
    the grid (:func:`shard`; recorded). ``isolate``: measure in worker processes (:mod:`.spawn`;
    False: in this process, for tests that replace parts of the harness). Returns the results
    path. Ctrl-C keeps every finished cell and raises :class:`Interrupted` (a
    ``KeyboardInterrupt`` with the count and the path, for the command line to say how to
    resume).
    """
    settings = settings or {}
    prog = _progress.make(progress)
    det = detector or contention.Detector()
    path = os.path.join(out_dir, RESULTS)
    seed = random.SystemRandom().randrange(2**32) if seed is None else seed
    if resume and os.path.exists(path):
        hdr = {}
        with prog.phase(Event.PROBE):
            det.calibrate()
    else:
        hdr = header(grid, budget_s, peer_status or {}, fast_header, prog, det, settings=settings,
                     isolate=isolate)
        hdr.update(order_seed=seed, shard=None if shard_of is None else
                   {"k": shard_of[0], "n": shard_of[1]},
                   workers={"isolated": bool(isolate), "start_method": "forkserver",
                            "headline": settings.get("workers", HEADLINE_WORKERS), "other": 1})
    with Store(path, hdr, resume) as store:
        todo = order([c for c in cells if c.key not in store.done], seed)
        refs = {}  # the reference's results, by shape (:func:`.cell.ref_key`)
        prog.say(Event.SWEEP, cells=len(todo), seed=seed, done=len(store.done))
        try:
            base = len(store.done)  # a resumed run's order goes on from there
            with prog.bar(len(todo)) as bar:
                for i, c in enumerate(todo):
                    bar.update(Event.CELL, **_current(c))
                    rec = measure_cell(c, budget_s, store.done, det, settings, refs, isolate)
                    store.append(dict(rec, order=base + i))
                    bar.advance()
        except KeyboardInterrupt as exc:
            raise Interrupted(len(store.done), path) from exc
        also = []
        if pairs:
            doc = compare_rounds(store.done, det, prog, settings, seed,
                                 reference_peak(store.header.get("peaks")))
            if doc.series:
                doc.run_id = store.header.get("run_id")
                write_paired(out_dir, doc)
                also.append(PAIRED)  # in the manifest: a later run without pairs drops it
        n_bad = sum(1 for r in store.done.values() if r.get("disturbed"))
        if n_bad:
            prog.say(Event.DISTURBED, cells=n_bad)
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


__all__ = ["HEADLINE_WORKERS", "Interrupted", "WORKERS_AGREE", "measure_cell", "order", "shape_of", "shard",
           "summary", "sweep"]
