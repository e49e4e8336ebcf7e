"""The ``numba`` backend's whole training run in compiled code: :func:`_fit_loop`, driven by
``numba_fused.fit``.

Design note (issue 9, item 1: the fused training loop).

What runs where. One ``@njit`` function, :func:`_fit_loop`, runs every step of gradient descent:
zero the float64 gradient accumulators, call the fused step kernel of ``_numba_kernels`` (the
forward pass, the cost and the four gradient sums in one pass over X), then
:func:`_update` divides the sums by m, casts them to the parameters' dtype and applies
W := W − α dW to the parameters named in ``keys``, in place, on copies of the caller's arrays.
Python runs once per run, not once per step: at the flower shape (m = 400, n_h = 4) the kernel's
step is a few µs of arithmetic, while a Python step (``impl.cost_and_grads`` plus four NumPy
updates) adds ~15 µs of dispatch, allocation and reshaping.

- Small m (``numba_fused._chunks`` gives one chunk): the serial step ``_cag_range`` over all m
  examples, on the calling thread.
- Large m: the parallel step ``_cag_parallel`` (a ``prange`` over chunks, one accumulator row per
  chunk) called from the same compiled loop, so each step's parallel region is entered from
  compiled code; the chunk rows are reduced serially in :func:`_update` (they are O(n_h · n_x)).
  The alternative, one Python call per step into the same kernel and update, was measured against
  it: at n_h = 64, m = 1e6 a step is tens of ms and the two are equal within noise, so the
  compiled loop is kept (one code path for both cases).
- Every n_x: from ``numba_fused.WIDE_FROM_N_X`` features on (an element-wise g) the step's
  products run register-blocked inside the same kernels (``_numba_kernels._wx_block``,
  ``_dzx_block``; ``wide`` is an argument that is None or not at typing time), so the run is one
  compiled call there too.

Same numbers as the Python loop. Every step calls the very kernels ``cost_and_grads`` calls, with
the same block size and chunking, reduces the chunk rows in the same order, and rounds the update
as NumPy does (lr · dW rounded in the parameters' dtype, then the subtraction; :func:`_update` is
inlined into ``numba_fused._kernels``' fit closures, which are compiled without FMA contraction
so the two roundings stay two). So the fused run reproduces the
Python loop over ``numba``'s ``cost_and_grads`` bit for bit, and NumPy's to the kernels' few ulp
per step (flower, 10,000 steps: parameters within 4e-14 relative, costs within 1e-15).

Divergence. A cost that is inf or NaN stops the run at once: ``fit`` returns the step t where it
happened, the costs up to and including ``costs[t]``, and the parameters that produced that cost
(update t is not applied). The caller raises (or reports) with t.

Followed runs (issue 16, item 4: ``fastnn.fit(..., callback=, report_every=, progress=)``).
``numba_fused.fit`` then calls the same compiled loop once per span of ``_descent.spans`` (step 0
alone, then ``every`` steps), on the same parameter buffers and consecutive slices of ``costs``
(a 1-D contiguous slice has the array's type: nothing new compiles), and reports between calls.
A step keeps no state but the parameters, so the run is bit for bit the uninterrupted one,
divergence included (tests/test_fit_progress.py, serial and parallel). Without a report it is
one call, as before (its cost, measured: DESIGN.md, "Measurements behind the backends").
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .._jitcache import CACHE

from . import _numba_kernels as K

PARAMS = ("W1", "b1", "W2", "b2")


@njit(cache=CACHE, inline="always", error_model="numpy")
def _fit_loop(W1, b1, W2, b2, X, Y, code, out, B, wide, nchunks, lr, upd, buf, gW1, gb1, gW2,
              gb2, flat, costs):
    """All steps: costs[t] = J, then the update, in place on W1 … b2 (views of ``flat``).

    ``buf`` (nchunks, size of all four parameters) holds the float64 gradient sums; gW1 … gb2 are
    its views per parameter, row c for chunk c. Returns the first step whose cost is not finite,
    or −1.
    """
    m = X.shape[1]
    Js = np.zeros(1 if nchunks is None else nchunks)
    work = K._scratch(W1, W2, X, B, wide)  # once for the run, not once per step
    for t in range(costs.shape[0]):
        buf[:] = 0.0
        if nchunks is None:  # one thread; None is pruned while typing: one branch compiles
            J = K._cag_range(W1, b1, W2, b2, X, Y, 0, m, code, out, B, wide, gW1[0], gb1[0],
                             gW2[0], gb2[0], work)
        else:
            Js[:] = 0.0
            K._cag_parallel(W1, b1, W2, b2, X, Y, code, out, B, wide, nchunks, gW1, gb1, gW2,
                            gb2, Js)
            J = 0.0
            for c in range(nchunks):
                J += Js[c]
        costs[t] = J / m
        if not np.isfinite(costs[t]):
            return t
        _update(buf, m, lr, upd, flat)
    return -1


@njit(cache=CACHE, inline="always", error_model="numpy")
def _update(buf, m, lr, upd, flat):
    """flat[k] −= lr · dW for each parameter k with upd[k], where dW = (Σ_c buf[c]) / m (float64)
    rounded to the parameters' dtype, and lr · dW is rounded before the subtraction, as NumPy's
    ``P[k] -= lr * grads[k]`` does. No fast-math: an FMA here would round once instead of twice.
    """
    nchunks = buf.shape[0]
    dW = np.empty(1, flat[0].dtype)  # the cast to the parameters' dtype
    start = 0
    for k in range(4):
        p = flat[k]
        if upd[k]:
            for i in range(p.size):
                s = buf[0, start + i]
                for c in range(1, nchunks):
                    s += buf[c, start + i]
                dW[0] = s / m
                step = lr * dW[0]
                p[i] -= step
        start += p.size
