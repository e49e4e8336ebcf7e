"""Where numba's step on the real data sets spends its time: the limit behind issue 27's
"≥ 80 % of the step's ceiling" goal.

Three measurements, each the minimum over 7 repeats of a compiled loop, nothing else running:

1. The wide step's parts over one block of examples, on one thread: the products W1 X
   (``_wx_block``) and dZ1 Xᵀ (``_dzx_block``) as GFLOP/s, and the element-wise rest (g, the
   output, the loss, g') per value of Z1. The blocks are a parallel chunk (half of m) and 512.
2. One parallel step (``_cag_parallel``, two chunks) against one of its chunks run serially
   (``_cag_range``): the difference is what running the two chunks on two threads costs.
3. A parallel region of two chunks of fixed busy work against one such chunk serially, in the
   threading layer in force and, in a child process, in each other layer that loads:
   the fixed cost of a region that does work (an empty region is cheaper: one thread may run
   both chunks).

Run with nothing else on the machine::

    python bench/step_limits.py        # ~1 min
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
from numba import njit, prange

from fastnn import datasets
from fastnn.backends import _numba_kernels as K
from fastnn.backends import _threading  # noqa: F401  (the threading layer first)

REPEATS = 7
#: The registry's codes of tanh and the sigmoid output, as literals: the kernels pick their
#: formulas from literal codes only (a global's value is typed as a plain integer).
assert (K.TANH, K.SIGMOID) == (1, 0)


def _best(f, *args):
    """µs per repetition: the minimum over REPEATS runs of ``f(*args)``; the last argument is
    the repetition count (one short untimed run compiles first)."""
    f(*args[:-1], 2)
    best = float("inf")
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        f(*args)
        best = min(best, time.perf_counter() - t0)
    return best / args[-1] * 1e6


@njit
def _wx(W, b, X, n, Z, reps):
    for _ in range(reps):
        K._wx_block(W, b, X, n, Z)


@njit
def _dzx(D, X, n, gW, reps):
    for _ in range(reps):
        K._dzx_block(D, X, n, gW)


@njit
def _rest(W1, b1, W2, b2, Xn, n, Z, A, Z2, L, Yb, D, gW1, gb1, gW2, gb2, reps):
    for _ in range(reps):
        K._forward_block(W1, b1, W2, b2, Xn, n, Z, A, Z2, 1, np.True_)
        K._dZ2_and_loss(Z2, Yb, n, L, 0)
        K._sum_block(L, n)
        K._backward_block(W2, Xn, n, Z, A, Z2, 1, D, gW1, gb1, gW2, gb2)


@njit
def _par(W1, b1, W2, b2, X, Y, B, nch, gW1, gb1, gW2, gb2, J, reps):
    for _ in range(reps):
        K._cag_parallel(W1, b1, W2, b2, X, Y, 1, 0, B, True, nch, gW1, gb1, gW2,
                        gb2, J)


@njit
def _range(W1, b1, W2, b2, X, Y, stop, B, gW1, gb1, gW2, gb2, reps):
    work = K._scratch(W1, W2, X, B, True)
    for _ in range(reps):
        K._cag_range(W1, b1, W2, b2, X, Y, 0, stop, 1, 0, B, True, gW1[0], gb1[0],
                     gW2[0], gb2[0], work)


def _problem(n_x, n_h, m, dtype, rng):
    W1 = (0.1 * rng.standard_normal((1, n_h, n_x))).astype(dtype)
    W2 = rng.standard_normal((1, n_h)).astype(dtype)
    X = rng.standard_normal((n_x, m)).astype(dtype)
    Y = (rng.random((1, m)) > 0.5).astype(dtype)
    return W1, np.zeros((1, n_h), dtype), W2, np.zeros(1, dtype), X, Y


def _sums(c, n_h, n_x):
    return (np.zeros((c, 1, n_h, n_x)), np.zeros((c, 1, n_h)), np.zeros((c, 1, n_h)),
            np.zeros((c, 1)))


def parts():
    """Part 1 and part 2, per data set and dtype."""
    rng = np.random.default_rng(0)
    for dtype in (np.float64, np.float32):
        for name, spec in datasets.DATASETS.items():
            X0, _ = spec.load()
            n_x, m, n_h = X0.shape[0], X0.shape[1], spec.n_h
            W1, b1, W2, b2, X, Y = _problem(n_x, n_h, m, dtype, rng)
            half = (m + 1) // 2
            cells = []
            for n in (half, 512):
                Z = np.empty((1, n_h, n), dtype)
                D = rng.standard_normal((n_h, n)).astype(dtype)
                reps = max(200, 4_000_000 // (n_x * n_h * n) * 100)
                fl = 2 * n_x * n_h * n / 1e3
                twx = _best(_wx, W1[0], b1[0], X[:, :n].copy(), n, Z[0], reps)
                tdz = _best(_dzx, D, X[:, :n].copy(), n, np.zeros((n_h, n_x)), reps)
                trest = _best(_rest, W1, b1, W2, b2, X[:0, :n], n, Z, np.empty((n_h, n), dtype),
                              np.empty((1, n), dtype), np.empty((1, n), dtype),
                              Y[:, :n].copy(), D, *_sums(1, n_h, n_x)[:1],
                              *[a[0] for a in _sums(1, n_h, n_x)[1:]], reps)
                cells.append(f"block {n}: W1 X {fl / twx:.0f} GFLOP/s, dZ1 Xᵀ {fl / tdz:.0f} "
                             f"GFLOP/s, the rest {trest * 1e3 / (n_h * n):.2f} ns per value")
            reps = 2000
            tp = _best(_par, W1, b1, W2, b2, X, Y, 512, 2, *_sums(2, n_h, n_x), np.zeros(2), reps)
            th = _best(_range, W1, b1, W2, b2, X, Y, half, 512, *_sums(1, n_h, n_x), reps)
            print(f"{name} {np.dtype(dtype).name} (n_x {n_x}, n_h {n_h}, m {m}), one thread: "
                  + "; ".join(cells))
            print(f"  step on 2 threads {tp:.1f} µs; one chunk of {half} serially {th:.1f} µs; "
                  f"the difference {tp - th:.1f} µs")


@njit(inline="always")
def _busy(x, n):
    s = 0.0
    for i in range(n):
        s = s * 0.999999 + x[i % 64]
    return s


@njit(parallel=True)
def _region(out, x, n):
    for c in prange(2):
        out[c] = _busy(x, n)


@njit
def _regions(out, x, n, reps):
    for _ in range(reps):
        _region(out, x, n)


@njit
def _serials(out, x, n, reps):
    for _ in range(reps):
        out[0] = _busy(x, n)


def regions():
    """Part 3 in this process's threading layer."""
    import numba
    out, x = np.zeros(2), np.random.default_rng(0).random(64)
    for n in (0, 1_000, 5_000, 20_000):
        tp = _best(_regions, out, x, n, 2000)
        ts = _best(_serials, out, x, n, 2000)
        print(f"  {numba.threading_layer()}: chunk {ts:.2f} µs serially, a region of two "
              f"{tp:.2f} µs, its cost {tp - ts:.2f} µs")


if __name__ == "__main__":
    if sys.argv[1:] == ["--regions"]:
        regions()
        sys.exit()
    parts()
    print("a parallel region's cost with work in it (two chunks):")
    for layer in ("tbb", "omp", "workqueue"):
        env = dict(os.environ, NUMBA_THREADING_LAYER=layer)
        subprocess.run([sys.executable, __file__, "--regions"], env=env, check=False)
