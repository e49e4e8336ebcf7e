"""Numba's threading layers (``omp``, ``tbb``, ``workqueue``) on the headline training step:
speed on a quiet machine, speed with one CPU-bound competing process, and ``fork`` safety.

Each layer runs in a fresh process with ``NUMBA_THREADING_LAYER`` set (the layer is fixed at a
process's first parallel call). Measured per layer:

- the ``numba`` backend's ``cost_and_grads`` at n_x = 2, n_h = 64, m = 1e4 and 1e6, all threads
  (median and min of the harness's samples, :func:`fastnn.bench.measure.time_it`), quiet;
- the same while one CPU-bound process (a Python busy loop) competes for the cores;
- ``fork`` safety: one parallel call, then ``multiprocessing.get_context("fork").Pool(2).map``
  of a function that makes a parallel call in each worker, with a timeout (libgomp's workers do
  not survive a fork: the children abort and the pool waits for ever).

Usage::

    python bench/threading_layers.py                     # table on stdout, JSON next to it
    python bench/threading_layers.py --json out.json --tbb-lib /path/to/dir/with/libtbb.so.12

``tbb`` needs Intel's TBB runtime (``pip install tbb``: the wheel puts ``libtbb.so.12`` in
``<prefix>/lib``); it is looked for in ``--tbb-lib``, ``$FASTNN_TBB_LIB``, then ``sys.prefix/lib``
and added to ``LD_LIBRARY_PATH`` of the tbb process only. Each row records how busy the machine
was (other processes' CPU use during the quiet runs, from /proc), so a busy run is visible.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

LAYERS = ("omp", "tbb", "workqueue")
SIZES = (10_000, 1_000_000)
N_X, N_H = 2, 64
FORK_TIMEOUT_S = 20.0
BUDGET_S = 2.0


# --- the child: one layer, fixed at its first parallel call ---------------------------------------

def _step(m):
    from fastnn.bench.grid import Cell
    from fastnn.bench.measure import make_data, step_fn
    c = Cell("numba", "cost_and_grads", m, N_H, N_X)
    return step_fn(c, *make_data(c))


def _child_measure():
    import numba
    from fastnn.bench import contention, measure
    out = {}
    for m in SIZES:
        fn = _step(m)
        fn()  # compile (or load from the cache) and start the thread pool
        before = contention.snapshot()
        samples, _ = measure.time_it(fn, BUDGET_S)
        st = measure.stats(samples)
        out[str(m)] = {"median_s": st["median_s"], "min_s": st["min_s"], "iqr_s": st["iqr_s"],
                       "others_cpus": contention.usage(before, contention.snapshot())[
                           "others_cpus"]}
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

def _tbb_dir(given):
    for d in (given, os.environ.get("FASTNN_TBB_LIB"), os.path.join(sys.prefix, "lib")):
        if d and os.path.exists(os.path.join(d, "libtbb.so.12")):
            return d
    return None


def _run(layer, mode, tbb_dir, timeout):
    env = dict(os.environ, NUMBA_THREADING_LAYER=layer)
    if layer == "tbb" and tbb_dir:
        env["LD_LIBRARY_PATH"] = os.pathsep.join(
            p for p in (tbb_dir, os.environ.get("LD_LIBRARY_PATH")) if p)
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


def measure_layer(layer, tbb_dir):
    """Quiet timings, timings with one competitor, and the fork check of one layer."""
    row = {"layer": layer, "quiet": _run(layer, "measure", tbb_dir, 300)}
    if "error" not in row["quiet"]:
        p = _competitor()
        try:
            time.sleep(0.5)
            row["busy"] = _run(layer, "measure", tbb_dir, 300)
        finally:
            p.kill()
            p.wait()
        row["fork"] = _run(layer, "fork", tbb_dir, FORK_TIMEOUT_S + 60)
    return row


def _ms(d, m, k="median_s"):
    v = (d or {}).get(str(m), {}).get(k)
    return f"{1e3 * v:.3g}" if v else "–"


def table(rows):
    """The rows as a markdown table (times in ms, median of the samples)."""
    head = (["layer (loaded)"] + [f"m={m:.0e} quiet (ms)" for m in SIZES]
            + [f"m={m:.0e} + 1 competitor (ms)" for m in SIZES]
            + ["slow-down at m=1e4 / 1e6", "fork Pool(2).map", "others' CPUs (quiet run)"])
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        q, b = r["quiet"], r.get("busy", {})
        if "error" in q:
            out.append(f"| {r['layer']} (unavailable) | " + " | ".join(["–"] * (len(head) - 2))
                       + f" | {q['error']} |")
            continue
        slow = " / ".join(
            f"{b[str(m)]['median_s'] / q[str(m)]['median_s']:.1f}×" if str(m) in b else "–"
            for m in SIZES)
        fork = r.get("fork", {})
        others = " / ".join(f"{q[str(m)]['others_cpus']:.2f}"
                            if q[str(m)].get("others_cpus") is not None else "?" for m in SIZES)
        out.append(f"| {r['layer']} ({q.get('layer')}, {q.get('threads')} threads) | "
                   + " | ".join([_ms(q, m) for m in SIZES] + [_ms(b, m) for m in SIZES])
                   + f" | {slow} | {fork.get('fork', fork.get('error', '–'))} | {others} |")
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--child", choices=("measure", "fork"), help=argparse.SUPPRESS)
    ap.add_argument("--json", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                   "threading_layers.json"))
    ap.add_argument("--tbb-lib", help="folder holding libtbb.so.12 (pip install tbb)")
    ap.add_argument("--layers", default=",".join(LAYERS))
    a = ap.parse_args(argv)
    if a.child:
        print(json.dumps(_child_measure() if a.child == "measure" else _child_fork()), flush=True)
        return 0
    from fastnn.bench import contention
    tbb_dir = _tbb_dir(a.tbb_lib)
    rows = []
    before = contention.snapshot()
    for layer in a.layers.split(","):
        print(f"measuring threading layer {layer} …", file=sys.stderr, flush=True)
        rows.append(measure_layer(layer, tbb_dir))
    busy = contention.usage(before, contention.snapshot())
    doc = {"shape": {"n_x": N_X, "n_h": N_H, "m": list(SIZES)}, "rows": rows,
           "tbb_lib": tbb_dir, "others_cpus_whole_run": busy["others_cpus"],
           "note": "others_cpus_whole_run includes this script's own competitor processes"}
    with open(a.json, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1)
    print(table(rows))
    print(f"\nJSON: {a.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
