"""numba's training run on the real data sets, serial against parallel chunks, and the fixed cost
of one parallel region: the measurement behind ``numba_fused._chunks`` counting a wide step's
multiply-adds (issue 27).

Each round runs, in a fresh random order, numba's ``fit`` forced to one chunk, numba's ``fit``
forced to one chunk per thread, and numpy's run; each is timed for 400 steps, and the minimum
over the rounds after the first is kept. Then one empty ``prange`` region over two chunks is timed
10,000 times from compiled code. Run with nothing else on the machine::

    python bench/fit_threads.py          # ~1 min
"""

import random
import time

import numba
import numpy as np
from numba import njit, prange

import fastnn
from fastnn import datasets
from fastnn.backends import _threading  # noqa: F401  (the threading layer first)
from fastnn.backends import numba_fused as nf
from fastnn.validate import prepare

STEPS, ROUNDS = 400, 9


def runs():
    orig = nf._chunks
    nb, ref = fastnn.get_backend("numba"), fastnn.get_backend("numpy")
    forced = {"serial": lambda *a, **k: 1,
              "parallel": lambda m, n_h, k, n_x=2: max(1, min(numba.get_num_threads(), m // 64))}
    for name, spec in datasets.DATASETS.items():
        X, Y = spec.load()
        P, X, Y, _ = prepare(fastnn.init_params(X.shape[0], spec.n_h, 1, seed=0), X, Y,
                             "tanh", "sigmoid")
        best = dict.fromkeys([*forced, "numpy"], float("inf"))
        for r in range(ROUNDS):
            for side in random.sample(list(best), len(best)):
                nf._chunks = forced.get(side, orig)
                be = ref if side == "numpy" else nb
                t0 = time.perf_counter()
                be.descend(P, X, Y, "tanh", "sigmoid", spec.lr, STEPS)
                if r:
                    best[side] = min(best[side], (time.perf_counter() - t0) / STEPS)
        nf._chunks = orig
        print(f"{name}: " + ", ".join(f"{k} {v * 1e6:.1f} µs" for k, v in best.items())
              + f"; chunks chosen: {orig(X.shape[1], spec.n_h, 1, X.shape[0])}")


@njit(parallel=True)
def _region(a):
    for c in prange(a.shape[0]):
        a[c] += 1.0


@njit
def _regions(a, n):
    for _ in range(n):
        _region(a)


def region_cost():
    a = np.zeros(2)
    _regions(a, 10)
    best = min(_timed(lambda: _regions(a, 10_000)) for _ in range(7)) / 10_000
    print(f"one empty parallel region ({numba.threading_layer()}, 2 chunks): "
          f"{best * 1e6:.2f} µs")


def _timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


if __name__ == "__main__":
    runs()
    region_cost()
