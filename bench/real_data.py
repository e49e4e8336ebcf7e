"""Training runs on the real data sets, and a call's fixed cost (issue 27): numba against NumPy.

For each data set of :mod:`fastnn.datasets` (its recommended n_h, steps and lr; tanh hidden,
sigmoid output) the whole run, ``Backend.descend`` (what ``fastnn.fit`` runs after its checks), is
timed on numpy, numpy-inplace and numba in float64, and on numba in float32. The sides of a
round run in a fresh random order, and each time is the minimum over the rounds; each ratio is
slower ÷ faster per round, shown as the ratio of the minima with the range of the per-round ratios.
``--mnist`` adds the MNIST-shaped random problem (n_x 784, m 10,000, n_h 64, 50 steps).

Then one public ``Backend.cost_and_grads`` call at (n_x, n_h, m) = (2, 4, 100), validation
included (numba, numpy), and JAX's jitted step at the same shape when jax is installed: the
minimum per call over many ``timeit`` repeats, the sides interleaved.

Run (numba's kernels compile on the first round; that round is not timed)::

    python bench/real_data.py              # ~1 min
    python bench/real_data.py --rounds 9 --mnist
"""

from __future__ import annotations

import argparse
import random
import time
import timeit

import numpy as np

import fastnn
from fastnn import datasets
from fastnn.bench.worker import SETTLE_S
from fastnn.validate import prepare

SIDES = (("numpy", "float64"), ("numpy-inplace", "float64"), ("numba", "float64"),
         ("numba", "float32"))
PAIRS = ((("numpy", "float64"), ("numba", "float64")),
         (("numpy-inplace", "float64"), ("numba", "float64")),
         (("numba", "float64"), ("numba", "float32")))


def _runs(X, Y, n_h, steps, lr):
    """{side: zero-argument run} for one problem, data prepared outside the timed call."""
    out = {}
    for name, dtype in SIDES:
        P = fastnn.init_params(X.shape[0], n_h, 1, seed=0, dtype=np.dtype(dtype))
        Pp, Xp, Yp, _ = prepare(P, X.astype(dtype), Y.astype(dtype), "tanh", "sigmoid")
        be = fastnn.get_backend(name)
        out[name, dtype] = (lambda be=be, a=(Pp, Xp, Yp): be.descend(*a, "tanh", "sigmoid", lr,
                                                                     steps))
    return out


def _time_runs(runs, rounds, rng):
    """{side: [seconds per round]}, sides shuffled per round, after one untimed warm-up round.
    Each run starts after the harness's idle :data:`~fastnn.bench.worker.SETTLE_S`: the BLAS
    threads of a NumPy run spin for ~0.1 s after it and would slow the next run on 2 cores."""
    for f in runs.values():
        f()
    times = {k: [] for k in runs}
    for _ in range(rounds):
        order = list(runs)
        rng.shuffle(order)
        for k in order:
            time.sleep(SETTLE_S)
            t = time.perf_counter()
            runs[k]()
            times[k].append(time.perf_counter() - t)
    return times


def _problems(mnist):
    for name, spec in datasets.DATASETS.items():
        X, Y = spec.load()
        yield name, X, Y, spec.n_h, spec.steps, spec.lr
    if mnist:
        rng = np.random.default_rng(0)
        X = rng.standard_normal((784, 10_000))
        Y = (rng.random((1, 10_000)) > 0.5).astype(np.float64)
        yield "mnist-shaped", X, Y, 64, 50, 0.5


def _call_cost(repeats):
    """{side: µs per call} at (2, 4, 100): the public numba and numpy calls, JAX's jitted step."""
    rng = np.random.default_rng(0)
    P = fastnn.init_params(2, 4, 1, seed=0)
    X = rng.standard_normal((2, 100))
    Y = (rng.random((1, 100)) > 0.5).astype(np.float64)
    calls = {n: (lambda be=fastnn.get_backend(n): be.cost_and_grads(P, X, Y))
             for n in ("numba", "numpy")}
    jax = fastnn.get_backend("jax")
    if jax.missing() is None:
        Pp, Xp, Yp, _ = prepare(P, X, Y, "tanh", "sigmoid")
        calls["jax (jitted step)"] = jax.make_call("cost_and_grads", Pp, Xp, Yp, "tanh",
                                                   "sigmoid")
    best = {k: np.inf for k in calls}
    for f in calls.values():
        f()
    for _ in range(repeats):
        for k, f in calls.items():
            best[k] = min(best[k], min(timeit.repeat(f, number=200, repeat=3)) / 200 * 1e6)
    return best


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--mnist", action="store_true", help="add the MNIST-shaped random problem")
    ap.add_argument("--seed", type=int, default=0, help="of the round order")
    a = ap.parse_args(argv)
    rng = random.Random(a.seed)
    print(f"{'problem':14s} " + " ".join(f"{n + ' ' + d[-2:]:>16s}" for n, d in SIDES)
          + "   ratios (min of times; per-round range)")
    for name, X, Y, n_h, steps, lr in _problems(a.mnist):
        times = _time_runs(_runs(X, Y, n_h, steps, lr), a.rounds, rng)
        per_step = " ".join(f"{min(times[k]) / steps * 1e6:13.1f} µs" for k in SIDES)
        ratios = []
        for slow, fast in PAIRS:
            r = np.array(times[slow]) / np.array(times[fast])
            ratios.append(f"{slow[0]} {slow[1][-2:]} ÷ {fast[0]} {fast[1][-2:]} "
                          f"{min(times[slow]) / min(times[fast]):.2f} [{r.min():.2f}-{r.max():.2f}]")
        print(f"{name:14s} {per_step}   " + "; ".join(ratios))
    print("\none public cost_and_grads call at (n_x, n_h, m) = (2, 4, 100), min per call:")
    for k, us in _call_cost(max(5, a.rounds * 3)).items():
        print(f"  {k:18s} {us:7.2f} µs")


if __name__ == "__main__":
    main()
