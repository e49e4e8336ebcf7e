"""The fused training loop (issue 9, item 1), measured A/B interleaved in one process.

Usage::

    python bench/fit_loop.py [--rounds 10] [--large-steps 3] [--threads 0]

Two cells, each timed in rounds; inside a round every contender runs once, in a rotated order, so
a slow minute of a shared machine hits all of them. Each ratio is computed per round and reported
as the median with its min–max spread over the rounds.

Shapes, steps and the learning rate are the harness's (``fastnn.bench.grid.FIT_TARGETS``,
``fastnn.backends.FIT_LR``); tanh, sigmoid.

- flower: the lecture's flower run, ``FIT_TARGETS[0]`` (n_x, n_h, m, steps).
  ``fused``: ``numba``'s compiled run (``numba_fused.fit``); ``loop``: the Python loop over
  ``numba``'s ``impl.cost_and_grads`` (what ``fit`` did before); ``numpy``: ``fastnn.fit`` on
  ``numpy``. Target: numpy ÷ fused ≥ 20.
- large: the n_h and m of ``FIT_TARGETS[1]``, a few steps. Per step: ``fused`` (the compiled
  loop, the parallel step entered from compiled code), ``calls`` (one Python call per step into
  the same parallel kernel and update: the alternative design), ``loop``, ``numpy``, and ``one
  call`` (one ``impl.cost_and_grads``). Target: fused step ÷ one call ≤ 1.10.

JIT compilation is done (and timed) before the rounds, outside every timed region.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numba
import numpy as np

import fastnn
from fastnn.backends import FIT_LR
from fastnn.backends import _numba_fit as F
from fastnn.backends import numba_fused as NF
from fastnn.backends._descent import loop
from fastnn.bench.grid import FIT_TARGETS
from fastnn.validate import prepare

KEYS = ("W1", "b1", "W2", "b2")
#: The flower run (n_x, n_h, m, steps) and the large one.
FLOWER, LARGE = FIT_TARGETS[0], FIT_TARGETS[1]


def problem(m, n_h, n_x=2, seed=1):
    """Validated flower data and fixed initial parameters (W = 0.01 randn, b = 0)."""
    if n_x != 2:
        raise ValueError(f"the flower has n_x = 2, not {n_x}")
    X, Y = fastnn.flower(m, seed=seed)
    P0 = fastnn.init_params(n_x, n_h, 1, seed=2)
    return prepare(P0, X, Y, "tanh", "sigmoid")[:3]


def fit_per_call(P, X, Y, lr, iterations):
    """The alternative design for large m: one Python call per step into the parallel kernel,
    then the compiled update (same buffers, same numbers as the compiled loop)."""

    P = {k: P[k].copy() for k in KEYS}
    W1, b1, W2, b2 = NF._kernel_params(P, "tanh")
    kp, n_h, _ = W1.shape
    m = X.shape[1]
    nchunks = NF._chunks(m, n_h, kp)
    buf, acc = NF._accumulators(nchunks, W1, W2)
    flat = tuple(P[k].reshape(-1) for k in KEYS)
    upd = np.ones(4, bool)
    Js = np.zeros(nchunks)
    costs = np.empty(iterations)
    run = NF._kernels(*NF._codes("tanh", "sigmoid"))
    B, lr_ = NF._block(n_h, kp), X.dtype.type(lr)
    for t in range(iterations):
        buf[:] = 0.0
        Js[:] = 0.0
        run.cag_parallel(W1, b1, W2, b2, X, Y, B, None, nchunks, *acc, Js)
        costs[t] = Js.sum() / m
        F._update(buf, m, lr_, upd, flat)
    return P, costs


def contenders_flower(P, X, Y, steps):
    nb = fastnn.get_backend("numba").impl
    return {
        "fused": lambda: NF.fit(P, X, Y, "tanh", "sigmoid", FIT_LR, steps, KEYS),
        "loop": lambda: loop(nb.cost_and_grads, P, X, Y, "tanh", "sigmoid", FIT_LR, steps, KEYS),
        "numpy": lambda: fastnn.fit(X, Y, params=P, backend="numpy", lr=FIT_LR,
                                    iterations=steps),
    }


def contenders_large(P, X, Y, steps):
    nb = fastnn.get_backend("numba").impl
    return {
        "fused": lambda: NF.fit(P, X, Y, "tanh", "sigmoid", FIT_LR, steps, KEYS),
        "calls": lambda: fit_per_call(P, X, Y, FIT_LR, steps),
        "loop": lambda: loop(nb.cost_and_grads, P, X, Y, "tanh", "sigmoid", FIT_LR, steps, KEYS),
        "one call": lambda: nb.cost_and_grads(P, X, Y, "tanh", "sigmoid"),
        "numpy": lambda: fastnn.fit(X, Y, params=P, backend="numpy", lr=FIT_LR,
                                    iterations=steps),
    }


def interleaved(fns, rounds):
    """{name: [seconds per round]}: every round runs each fn once, the order rotated by one."""
    names = list(fns)
    times = {n: [] for n in names}
    for r in range(rounds):
        for n in names[r % len(names):] + names[:r % len(names)]:
            t0 = time.perf_counter()
            fns[n]()
            times[n].append(time.perf_counter() - t0)
    return times


def ratio(times, num, den, scale_num=1.0, scale_den=1.0):
    """Median and (min, max) over rounds of (num / scale_num) / (den / scale_den)."""
    r = [(a / scale_num) / (b / scale_den) for a, b in zip(times[num], times[den])]
    return statistics.median(r), min(r), max(r)


def show(label, med_lo_hi, target=""):
    med, lo, hi = med_lo_hi
    print(f"  {label:<44} {med:8.3f}  [{lo:.3f} … {hi:.3f}]  {target}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--flower-steps", type=int, default=FLOWER[3])
    ap.add_argument("--large-m", type=int, default=LARGE[2])
    ap.add_argument("--large-steps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="numba threads (0: all)")
    a = ap.parse_args(argv)
    if a.threads:
        numba.set_num_threads(a.threads)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"numba {numba.__version__} with {numba.get_num_threads()} threads, "
          f"load average {os.getloadavg()[0]:.2f} at start")

    n_x, n_h, m, _ = FLOWER
    P, X, Y = problem(m, n_h, n_x)
    t0 = time.perf_counter()
    NF.fit(P, X, Y, "tanh", "sigmoid", FIT_LR, 2, KEYS)
    print(f"compile (first fused call, or cache load): {time.perf_counter() - t0:.2f} s")
    fns = contenders_flower(P, X, Y, a.flower_steps)
    for f in fns.values():
        f()
    T = interleaved(fns, a.rounds)
    n = a.flower_steps
    print(f"\nflower, m = {m}, n_h = {n_h}, {n} steps, {a.rounds} rounds (median [min … max])")
    for k, v in T.items():
        print(f"  {k:<8} {statistics.median(v) * 1e3:9.1f} ms  ({statistics.median(v) / n * 1e6:.2f} µs/step)")
    show("numpy fit ÷ fused fit", ratio(T, "numpy", "fused"), "target ≥ 20")
    show("Python loop over numba ÷ fused fit", ratio(T, "loop", "fused"))

    n_x, n_h, _, _ = LARGE
    P, X, Y = problem(a.large_m, n_h, n_x)
    s = a.large_steps
    fns = contenders_large(P, X, Y, s)
    for f in fns.values():
        f()
    T = interleaved(fns, a.rounds)
    print(f"\nlarge, m = {a.large_m:.0e}, n_h = {n_h}, {s} steps, {a.rounds} rounds (per step)")
    for k, v in T.items():
        per = 1 if k == "one call" else s
        print(f"  {k:<8} {statistics.median(v) / per * 1e3:9.2f} ms/step")
    show("fused step ÷ one cost_and_grads call", ratio(T, "fused", "one call", s),
         "target ≤ 1.10")
    show("fused step ÷ one Python call per step", ratio(T, "fused", "calls"))
    show("Python loop over numba step ÷ fused step", ratio(T, "loop", "fused"))
    show("numpy step ÷ fused step", ratio(T, "numpy", "fused"))
    print(f"\nload average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
