"""Numba's threading layers (``omp``, ``tbb``, ``workqueue``) on the headline training step:
speed on a quiet machine, speed with one CPU-bound competing process, and ``fork`` safety.

Each layer runs in a fresh process with ``NUMBA_THREADING_LAYER`` set (the layer is fixed at a
process's first parallel call). Measured per layer:

- the ``numba`` backend's ``cost_and_grads`` at the headline shapes (n_x, n_h, m) = (2, 64, 1e6),
  (2, 4, 1e6) and (784, 128, 1e4), all threads, at the chunking the backend picks;
- the step at n_x = 2, n_h = 4 and m from 5,000 to 500,000 (20k to 2M hidden-unit evaluations),
  forced serial and forced onto all threads: where two threads start to win is the layer's
  ``fastnn.backends._threading.SERIAL_BELOW``;
- all of it again while one CPU-bound process (a Python busy loop) competes for the cores;
- ``fork`` safety: one parallel call, then ``multiprocessing.get_context("fork").Pool(2).map``
  of a function that makes a parallel call in each worker, with a timeout (libgomp's workers do
  not survive a fork: the children abort and the pool waits for ever).

Usage::

    python bench/threading_layers.py                     # tables on stdout, JSON next to it
    python bench/threading_layers.py --json out.json --layers tbb,workqueue

``tbb`` is Intel's TBB runtime from the ``tbb`` wheel (a dependency of fastnn), whose
``libtbb.so.12`` fastnn preloads (``_threading.preload_tbb``). Each timing records how busy the
machine was (other processes' CPU use, from /proc), so a busy run is visible. Takes ~1.5 min.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

LAYERS = ("omp", "tbb", "workqueue")
#: The headline shapes (n_x, n_h, m) of the study, each at the chunking the backend picks.
HEADLINE = ((2, 64, 1_000_000), (2, 4, 1_000_000), (784, 128, 10_000))
#: The sizes around ``_threading.SERIAL_BELOW``: n_x = 2, n_h = 4, m examples, i.e. m · n_h
#: hidden-unit evaluations from 20k to 2M, each timed serial and on all threads.
THRESHOLD_N_H = 4
THRESHOLD_M = (5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000)
FORK_TIMEOUT_S = 20.0
BUDGET_S = 0.6


# --- the child: one layer, fixed at its first parallel call ---------------------------------------

def _step(m, n_h=64, n_x=2):
    from fastnn.bench.grid import Cell
    from fastnn.bench.worker import make_data, step_fn
    c = Cell("numba", "cost_and_grads", m, n_h, n_x)
    return step_fn(c, *make_data(c))


def _time(fn):
    from fastnn.bench import contention, worker
    fn()  # compile (or load from the cache) and start the thread pool
    before = contention.snapshot()
    samples, _ = worker.time_it(fn, BUDGET_S)
    st = worker.stats(samples)
    return {"median_s": st["median_s"], "min_s": st["min_s"], "iqr_s": st["iqr_s"],
            "others_cpus": contention.usage(before, contention.snapshot())["others_cpus"]}


def _child_measure():
    import numba
    from fastnn.backends import _threading
    out = {"headline": {}, "serial": {}, "parallel": {}}
    for nx, nh, m in HEADLINE:
        out["headline"][f"{nx},{nh},{m}"] = _time(_step(m, nh, nx))
    below = dict(_threading.SERIAL_BELOW)
    try:
        for mode, threshold in (("serial", 1 << 62), ("parallel", 0)):
            _threading.SERIAL_BELOW.update(dict.fromkeys(below, threshold))
            for m in THRESHOLD_M:
                out[mode][str(m)] = _time(_step(m, THRESHOLD_N_H))
    finally:
        _threading.SERIAL_BELOW.update(below)
    out.update(layer=numba.threading_layer(), threads=numba.get_num_threads())
    return out


def _work(i):
    """A pool worker's task: one parallel Numba call of the training step."""
    return float(_step(20_000)()[0]) + i


def _child_fork():
    import multiprocessing as mp
    import numba
    _step(20_000)()  # the parent's parallel call: the layer's threads now exist
    t0 = time.perf_counter()
    pool = mp.get_context("fork").Pool(2)
    try:
        pool.map_async(_work, range(4)).get(timeout=FORK_TIMEOUT_S)
    except mp.TimeoutError:
        print(json.dumps({"fork": f"hang (no result in {FORK_TIMEOUT_S:g} s)",
                          "layer": numba.threading_layer()}), flush=True)
        os._exit(0)  # the pool's workers are stuck; tearing it down could hang too
    pool.close()
    pool.join()
    return {"fork": f"ok ({time.perf_counter() - t0:.2f} s)", "layer": numba.threading_layer()}


# --- the parent: one fresh process per layer and condition ----------------------------------------

def _run(layer, mode, timeout):
    """One fresh child process on ``layer`` (tbb's library preloaded by fastnn itself)."""
    env = dict(os.environ, NUMBA_THREADING_LAYER=layer)
    try:
        r = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", mode], env=env,
                           capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"no answer in {timeout:g} s"}
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("{")]
    if lines:
        return json.loads(lines[-1])
    err = (r.stderr.strip().splitlines() or [f"exit status {r.returncode}"])[-1]
    return {"error": err[:200]}


def _competitor():
    """One CPU-bound process (a pure-Python busy loop)."""
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def measure_layer(layer):
    """Quiet timings, timings with one competitor, and the fork check of one layer."""
    row = {"layer": layer, "quiet": _run(layer, "measure", 600)}
    if "error" not in row["quiet"]:
        p = _competitor()
        try:
            time.sleep(0.5)
            row["busy"] = _run(layer, "measure", 600)
        finally:
            p.kill()
            p.wait()
        row["fork"] = _run(layer, "fork", FORK_TIMEOUT_S + 60)
    return row


def _ms(d, key, k="median_s"):
    v = (d or {}).get(key, {}).get(k)
    return f"{1e3 * v:.3g}" if v else "–"


def tables(rows):
    """The rows as two markdown tables (times in ms, median of each cell's samples): the headline
    shapes per layer, and the threshold sweep (serial against all threads) per layer."""
    ok = [r for r in rows if "error" not in r["quiet"]]
    keys = [f"{nx},{nh},{m}" for nx, nh, m in HEADLINE]
    head = (["layer (loaded, threads)"] + [f"({k}) quiet" for k in keys]
            + [f"({k}) + 1 competitor" for k in keys] + ["fork Pool(2).map"])
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        q, b = r["quiet"], r.get("busy", {})
        if "error" in q:
            out.append(f"| {r['layer']} (unavailable: {q['error']}) |" + " – |" * (len(head) - 1))
            continue
        fork = r.get("fork", {})
        out.append(f"| {r['layer']} ({q.get('layer')}, {q.get('threads')}) | "
                   + " | ".join([_ms(q["headline"], k) for k in keys]
                                + [_ms(b.get("headline"), k) for k in keys])
                   + f" | {fork.get('fork', fork.get('error', '–'))} |")
    out += ["", f"n_x = 2, n_h = {THRESHOLD_N_H}: serial and all-thread step (ms), quiet "
                "/ with one competitor", ""]
    head = ["m", "m · n_h"] + [f"{r['layer']} serial" for r in ok] + [
        f"{r['layer']} parallel" for r in ok]
    out += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for m in THRESHOLD_M:
        cells = [f"{_ms(r['quiet']['serial'], str(m))} / {_ms(r.get('busy', {}).get('serial'), str(m))}"
                 for r in ok]
        cells += [f"{_ms(r['quiet']['parallel'], str(m))} / "
                  f"{_ms(r.get('busy', {}).get('parallel'), str(m))}" for r in ok]
        out.append(f"| {m:,} | {m * THRESHOLD_N_H:,} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--child", choices=("measure", "fork"), help=argparse.SUPPRESS)
    ap.add_argument("--json", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                   "threading_layers.json"))
    ap.add_argument("--layers", default=",".join(LAYERS))
    a = ap.parse_args(argv)
    if a.child:
        print(json.dumps(_child_measure() if a.child == "measure" else _child_fork()), flush=True)
        return 0
    from fastnn.bench import contention
    rows = []
    before = contention.snapshot()
    for layer in a.layers.split(","):
        print(f"measuring threading layer {layer} …", file=sys.stderr, flush=True)
        rows.append(measure_layer(layer))
    busy = contention.usage(before, contention.snapshot())
    doc = {"headline": HEADLINE, "threshold": {"n_h": THRESHOLD_N_H, "m": THRESHOLD_M},
           "rows": rows, "others_cpus_whole_run": busy["others_cpus"],
           "note": "others_cpus_whole_run includes this script's own competitor processes"}
    with open(a.json, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1)
    print(tables(rows))
    print(f"\nJSON: {a.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
