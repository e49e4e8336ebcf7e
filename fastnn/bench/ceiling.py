"""The training step's own ceiling: what it cannot do without, measured on this machine.

Per example and hidden unit, the fused tanh step must evaluate one tanh and about 2·n_x + 4
multiply-adds (n_x for Z1, one for the output logit, then dW2's and db1's sums, dZ1, and n_x for
dW1's sums). The ceiling measures, on all cores, the throughput of

- the vectorised ``tanh_`` the kernels use, over an L1-resident block;
- a multiply-add streamed through L1-resident rows (``z[i] += w · x[i]``), the form the kernels'
  inner loops take;

in float64 and float32. A cell's ceiling time is m · n_h · (t_tanh + (2·n_x + 4) · t_fma), the
2·n_x multiply-adds of the two products at the machine's GEMM rate from ``GEMM_FROM_N_X``
inputs on (:func:`ceiling_s`); the report gives each headline cell's time as a percentage of it (100 % = nothing but this work).
These are microbenchmarks of the kernels' own building blocks, not a peak from a data sheet.
"""

from __future__ import annotations

import time

import numba
import numpy as np
from numba import njit, prange

from ..backends import _threading  # noqa: F401  (the threading layer, before any parallel call)
from ..backends._fastmath import tanh_
from .._jitcache import CACHE

_BLOCK = 2048  # elements per thread: 16 KiB in float64, inside a 32 KiB L1
DTYPES = ("float64", "float32")


@njit(fastmath={"contract"}, error_model="numpy", cache=CACHE)
def _tanh_row(a, out, reps):
    for _ in range(reps):  # one row per thread, unit stride: vectorised
        for i in range(a.shape[0]):
            out[i] = tanh_(a[i])


@njit(fastmath={"contract"}, error_model="numpy", cache=CACHE)
def _fma_row(x, z, w, reps):
    for _ in range(reps):
        for i in range(x.shape[0]):
            z[i] += w * x[i]


@njit(parallel=True, fastmath={"contract"}, error_model="numpy", cache=CACHE)
def _tanh_rounds(buf, out, reps):
    for t in prange(buf.shape[0]):
        _tanh_row(buf[t], out[t], reps)


@njit(parallel=True, fastmath={"contract"}, error_model="numpy", cache=CACHE)
def _fma_rounds(x, z, w, reps):
    for t in prange(x.shape[0]):
        _fma_row(x[t], z[t], w, reps)


def _per_element(run, n_elems, seconds):
    run(1)  # compile / warm
    reps = 1
    while True:  # calibrate to ~20 ms a call
        t0 = time.perf_counter()
        run(reps)
        dt = time.perf_counter() - t0
        if dt > 0.02:
            break
        reps *= 4
    best = dt / (reps * n_elems)
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        t0 = time.perf_counter()
        run(reps)
        best = min(best, (time.perf_counter() - t0) / (reps * n_elems))
    return best


def measure(seconds=0.3, dtypes=DTYPES):
    """Seconds per element (machine-wide, all Numba threads) of ``tanh_`` and of one
    multiply-add, in each of ``dtypes`` (default float64 and float32; each dtype compiles its
    own kernels).

    Returns
    -------
    dict
        ``{"float64": {"tanh_s": …, "fma_s": …}, "float32": {…}, "threads": n, "block": B}``
    """
    threads = numba.get_num_threads()
    out = {"threads": threads, "block": _BLOCK}
    for dt in dtypes:
        rng = np.random.default_rng(0)
        x = (rng.standard_normal((threads, _BLOCK)) * 2).astype(dt)
        y = np.zeros_like(x)
        w = x.dtype.type(1e-9)
        n = x.size
        out[dt] = {"tanh_s": _per_element(lambda r: _tanh_rounds(x, y, r), n, seconds),
                   "fma_s": _per_element(lambda r: _fma_rounds(x, y, w, r), n, seconds)}
    return out


def fmas_per_unit(n_x):
    """Multiply-adds per (example × hidden unit) of the fused tanh training step."""
    return 2 * n_x + 4


#: From this many inputs the step's two products (W1 X and dZ1 Xᵀ, 2·n_x multiply-adds per
#: example and unit) are matrix products, bounded by the machine's measured GEMM rate; below it
#: they are a few multiply-adds per unit, bounded by the FMA peak like the rest (the ``numba``
#: kernels switch at the same width: ``numba_fused.WIDE_FROM_N_X``).
GEMM_FROM_N_X = 8


def ceiling_s(ceiling, m, n_h, n_x, dtype="float64", fma_gflops=None, gemm_gflops=None):
    """The ceiling time of one training step (tanh hidden), in seconds, or None if unmeasured.

    m · n_h · (t_tanh + 4 · t_fma) + 2 · n_x · m · n_h · t_product, where t_fma is one
    multiply-add at ``fma_gflops`` (the machine's register-resident FMA peak in ``dtype``, 2
    FLOPs per multiply-add; the L1-streamed multiply-add of ``ceiling`` when not given) and
    t_product the same at ``gemm_gflops`` (the measured GEMM rate) from :data:`GEMM_FROM_N_X`
    inputs on, else t_fma."""
    c = (ceiling or {}).get(dtype)
    if not c:
        return None
    fma_s = 2e-9 / fma_gflops if fma_gflops else c["fma_s"]
    prod_s = 2e-9 / gemm_gflops if gemm_gflops and n_x >= GEMM_FROM_N_X else fma_s
    other = fmas_per_unit(n_x) - 2 * n_x
    return m * n_h * (c["tanh_s"] + other * fma_s + 2 * n_x * prod_s)
