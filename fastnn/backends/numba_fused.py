"""``numba``: compiled, fused, parallel kernels (see ``_numba_kernels`` for the loop design).

``cost_and_grads`` is the fused entry point: one pass over X computes the forward pass, the cost and
all four gradients, block by block, with per-thread accumulators. Small problems run on one thread,
because starting the parallel region costs more than the work; a serial step is one compiled call
from the parameters to the gradients (``_numba_kernels._cag_serial``). From ``WIDE_FROM_N_X``
features on the products run register-blocked (see ``_numba_kernels``, "Wide inputs"), and where
they are large (:data:`BLAS_FROM_WORK`) in BLAS. ``fit`` (from ``_numba_fit``) runs the whole
gradient-descent loop in one compiled call wherever the products are not in BLAS.

Compiling (issue 17). A call compiles one specialisation on first use — (hidden activation,
output layer, dtype, serial or parallel, narrow or wide) and the entry (step, forward, backward,
fused fit) — and Numba caches it on disk (``fastnn._jitcache``). The entries are closures over
the codes (:func:`_kernels`): Numba types a closure's integer constants as literals, and the
overloads of ``_numba_kernels`` pick g, g', the loss and maxout's routing by the literal
code, so nothing of the other activations is typed or compiled. The blocks (``_forward_block``,
``_backward_block``, ``_dZ2_and_loss``) are compiled once per activation (or output) and dtype
and shared by every entry; each entry closure is one further library (its driver inlined).

The first call's compile time, measured, is in DESIGN.md ("Measurements behind the backends").
What takes the time is LLVM optimising and emitting each library with the blocks it links (Numba
links and re-optimises callees into every caller): so thin wrappers are IR-inlined
(``inline="always"``) into their one caller, and the polynomials of ``_fastmath`` are compiled
once as functions that LLVM inlines (Numba's IR inlining copied them into every caller: 15 → 10
s of CPU in that step alone).
"""

from __future__ import annotations

import functools
import math
from types import SimpleNamespace

import numba
import numpy as np
from numba import njit

from .._jitcache import CACHE

from ..activations import ACTIVATIONS, OUTPUT_LAYERS
from . import _numba_kernels as K
from . import _numba_fit as F
from . import _threading
from ._descent import spans

#: From this many input features (and an element-wise g) the products W1 X and dZ1 Xᵀ run
#: register-blocked over each block (``_numba_kernels._wx_block``, ``_dzx_block``) and the
#: per-unit passes do the element-wise rest. Below it (4 and 6 features) the per-unit passes,
#: with the products inside, were as fast or faster; from 8 on the register-blocked ones win.
WIDE_FROM_N_X = 8
#: A wide step's block holds at most this many examples: a row of its work arrays is then
#: not a multiple of 4 KiB (B = 512 float64 is), so rows of different arrays do not fall in the
#: same L1 sets by where the heap put them (4K aliasing; DESIGN.md, "Where numba's data sits").
WIDE_BLOCK_MAX = 504
#: Where the products are large (at least BLAS_FROM_N_X features and BLAS_FROM_WORK
#: n_x · n_h · m multiply-adds per product, one output unit, an element-wise g) a step sends
#: W1 X and dZ1 Xᵀ to BLAS in blocks of BLAS_BLOCK examples from Python, and the element-wise
#: rest stays fused (``_numba_kernels._blas_block``); ``fit`` there is the Python loop over
#: that step, whose per-step overhead is then a few µs of a step of milliseconds. Below it the
#: register-blocked products were as fast (n_x = 32, or n_x · n_h · m ≤ 1e7 on one thread).
BLAS_FROM_N_X = 64
BLAS_FROM_WORK = 50_000_000
BLAS_BLOCK = 2048


@functools.lru_cache(maxsize=None)
def _kernels(code, out):
    """The entry kernels for one hidden activation and one output layer, their codes fixed at
    compile time.

    Each entry is a small ``@njit`` closure over ``code`` and ``out``: Numba types a closure's
    integer constants as literals and passes them down as literal types, and the overloads of
    ``_numba_kernels`` (``_g``, ``_dg``, ``_loss``, …) pick only that activation's formula. So a
    call
    compiles one specialisation, (hidden activation, output layer, dtype, serial or parallel),
    on first use, instead of all seven activations at once (issue 17). The closures are cached
    on disk like the kernels: Numba keys a closure's cache entry by its constants.
    """
    opts = dict(cache=CACHE, error_model="numpy", fastmath=K._FMA)

    @njit(**opts)
    def cag_serial(W1, b1, W2, b2, X, Y, B, wide, dW1, db1, dW2, db2):
        return K._cag_serial(W1, b1, W2, b2, X, Y, code, out, B, wide, dW1, db1, dW2, db2)

    @njit(**opts)
    def cag_parallel(W1, b1, W2, b2, X, Y, B, wide, nchunks, gW1, gb1, gW2, gb2, J):
        K._cag_parallel(W1, b1, W2, b2, X, Y, code, out, B, wide, nchunks, gW1, gb1, gW2, gb2,
                        J)

    @njit(**opts)
    def forward_serial(W1, b1, W2, b2, X, Z1, A1, Z2, A2, B):
        K._forward_range(W1, b1, W2, b2, X, Z1, A1, Z2, A2, code, out, B, 0, X.shape[1])

    @njit(**opts)
    def forward_parallel(W1, b1, W2, b2, X, Z1, A1, Z2, A2, B, nchunks):
        K._forward_parallel(W1, b1, W2, b2, X, Z1, A1, Z2, A2, code, out, B, nchunks)

    @njit(**opts)
    def backward_serial(W2, X, Y, Z1, A1, A2, B, gW1, gb1, gW2, gb2):
        K._backward_range(W2, X, Y, Z1, A1, A2, code, B, 0, X.shape[1], gW1, gb1, gW2, gb2)

    @njit(**opts)
    def backward_parallel(W2, X, Y, Z1, A1, A2, B, nchunks, gW1, gb1, gW2, gb2):
        K._backward_parallel(W2, X, Y, Z1, A1, A2, code, B, nchunks, gW1, gb1, gW2, gb2)

    @njit(**opts)
    def blas_block(W1, b1, W2, b2, Z, Yb, n, A, Z2, L, D, gW1, gb1, gW2, gb2):
        return K._blas_block(W1, b1, W2, b2, Z, Yb, n, code, out, A, Z2, L, D, gW1, gb1, gW2,
                             gb2)

    # The fit closures are compiled without fast-math on purpose: ``_numba_fit._update`` is
    # inlined into them, and its two roundings (lr · dW, then the subtraction) must stay two.
    @njit(cache=CACHE, error_model="numpy")
    def fit_serial(W1, b1, W2, b2, X, Y, B, wide, lr, upd, buf, gW1, gb1, gW2, gb2, flat,
                   costs):
        return F._fit_loop(W1, b1, W2, b2, X, Y, code, out, B, wide, None, lr, upd, buf, gW1,
                           gb1, gW2, gb2, flat, costs)

    @njit(cache=CACHE, error_model="numpy")
    def fit_parallel(W1, b1, W2, b2, X, Y, B, wide, nchunks, lr, upd, buf, gW1, gb1, gW2, gb2,
                     flat, costs):
        return F._fit_loop(W1, b1, W2, b2, X, Y, code, out, B, wide, nchunks, lr, upd, buf,
                           gW1, gb1, gW2, gb2, flat, costs)

    return SimpleNamespace(**{k: v for k, v in locals().items() if k not in ("code", "out",
                                                                               "opts")})


def _codes(hidden, output):
    return ACTIVATIONS[hidden].code, OUTPUT_LAYERS[output].code


@functools.lru_cache(maxsize=None)
def _entries(hidden, output):
    """:func:`_kernels` by the names (one look-up per call instead of three)."""
    return _kernels(*_codes(hidden, output))


def _block(n_h, k):
    """Examples per block: the block's Z1 and A1 ((k + 1) · n_h · B doubles) fit in ~512 KiB of
    L2, B at most 512 (measured best for n_h = 4 and 64 on the 2-core reference machine)."""
    return int(min(512, max(32, 65_536 // ((k + 1) * n_h) // 8 * 8)))


def _kernel_params(P, hidden):
    W1, b1 = P["W1"], P["b1"]
    if hidden != "maxout":
        W1, b1 = W1[None], b1[None]
    return W1, b1[..., 0], P["W2"], P["b2"][:, 0]


def _chunks(m, n_h, k, n_x=2):
    """1 (serial) below the threading layer's threshold (:data:`._threading.SERIAL_BELOW`,
    measured per layer at n_x = 2), else one chunk per thread. The work is m · n_h · k scaled by
    the step's multiply-adds per example and unit relative to n_x = 2 ((2 n_x + 4) / 8), so a
    wide step of few examples also runs on every core."""
    work = m * n_h * k * (2 * n_x + 4) // 8
    if work < min(_threading.SERIAL_BELOW.values()) or work < _threading.serial_below():
        return 1
    return max(1, min(numba.get_num_threads(), m // 64))


def _accumulators(nchunks, W1, W2):
    """Per-chunk float64 sums of dW1, db1, dW2, db2: views into one zeroed buffer, so setting up
    and reducing them costs a few NumPy calls (it matters at m = 1)."""
    kp, n_h, n_x = W1.shape
    n_y = W2.shape[0]
    shapes = [(kp, n_h, n_x), (kp, n_h), (n_y, n_h), (n_y,)]
    buf = np.zeros((nchunks, sum(math.prod(sh) for sh in shapes)))
    views, start = [], 0
    for sh in shapes:
        n = math.prod(sh)
        views.append(buf[:, start:start + n].reshape((nchunks,) + sh))
        start += n
    return buf, tuple(views)


def _grads(buf, m, P):
    """Reduce the chunks, divide by m, cast to the parameters' dtype, shape like the params."""
    tot = (buf[0] if buf.shape[0] == 1 else buf.sum(axis=0)) / m
    tot = tot.astype(P["W1"].dtype, copy=False)
    out, start = {}, 0
    for name in ("W1", "b1", "W2", "b2"):
        n = P[name].size
        out["d" + name] = tot[start:start + n].reshape(P[name].shape)
        start += n
    return out


def forward(P, X, hidden, output):
    W1, b1, W2, b2 = _kernel_params(P, hidden)
    kp, n_h, _ = W1.shape
    m = X.shape[1]
    Z1 = np.empty((kp, n_h, m), X.dtype)
    A1 = np.empty((n_h, m), X.dtype)
    Z2 = np.empty((W2.shape[0], m), X.dtype)
    A2 = np.empty_like(Z2)
    run = _kernels(*_codes(hidden, output))
    args = (W1, b1, W2, b2, X, Z1, A1, Z2, A2, _block(n_h, kp))
    nchunks = _chunks(m, n_h, kp)
    if nchunks == 1:
        run.forward_serial(*args)
    else:
        run.forward_parallel(*args, nchunks)
    return A2, {"Z1": Z1 if hidden == "maxout" else Z1[0], "A1": A1, "Z2": Z2, "A2": A2}


def backward(P, cache, X, Y, hidden, output):
    W1, _, W2, _ = _kernel_params(P, hidden)
    kp, n_h, _ = W1.shape
    m = X.shape[1]
    Z1 = cache["Z1"] if hidden == "maxout" else cache["Z1"][None]
    nchunks = _chunks(m, n_h, kp)
    buf, acc = _accumulators(nchunks, W1, W2)
    run = _kernels(*_codes(hidden, output))
    args = (W2, X, Y, Z1, cache["A1"], cache["A2"], _block(n_h, kp))
    if nchunks == 1:
        run.backward_serial(*args, *(a[0] for a in acc))
    else:
        run.backward_parallel(*args, nchunks, *acc)
    return _grads(buf, m, P)


def _wide(P, X, hidden):
    """None, or True where the products run register-blocked over the block: many features and
    an element-wise g (maxout's routing stays in the per-unit passes). The kernels take it as
    an argument that is None or not at typing time (one branch compiles)."""
    return True if X.shape[0] >= WIDE_FROM_N_X and hidden != "maxout" else None


@functools.lru_cache(maxsize=256)
def _step_block(n_x, n_h, k, wide):
    """Examples per block: :func:`_block`, and for a wide step also the block of X, so that X,
    Z1, A1 and dZ1 ((n_x + 3 n_h) · B values) stay in ~512 KiB of L2, with B ≥ 128 (shorter
    passes cost more than the misses: at n_x = 784, n_h = 64, B = 128 ran faster than 64) and
    at most :data:`WIDE_BLOCK_MAX`."""
    B = _block(n_h, k)
    return B if wide is None else int(min(B, WIDE_BLOCK_MAX,
                                          max(128, 65_536 // (n_x + 3 * n_h) // 8 * 8)))


def _blas_path(P, X, hidden):
    """True where the products go to BLAS (see :data:`BLAS_FROM_WORK`)."""
    n_h, n_x = P["W1"].shape[-2:]
    return (n_x >= BLAS_FROM_N_X and n_x * n_h * X.shape[1] >= BLAS_FROM_WORK
            and P["W2"].shape[0] == 1 and hidden != "maxout")


def _cost_and_grads_blas(P, X, Y, hidden, output):
    """Z = W1 X and dW1 += dZ1 Xᵀ per block in BLAS (which threads itself); bias, activation,
    output, loss and dZ1 in one fused kernel per block."""
    W1, b1, W2, b2 = _kernel_params(P, hidden)
    n_h, m = W1.shape[1], X.shape[1]
    run = _entries(hidden, output)
    B = min(BLAS_BLOCK, m)
    buf, acc = _accumulators(1, W1, W2)
    Z = np.empty((1, n_h, B), X.dtype)
    A = np.empty((n_h, B), X.dtype)
    D = np.empty((n_h, B), X.dtype)
    Z2 = np.empty((1, B), X.dtype)
    L = np.empty((1, B), X.dtype)
    J = 0.0
    for i0 in range(0, m, B):
        n = min(B, m - i0)
        Xb = X[:, i0:i0 + n]
        np.matmul(P["W1"], Xb, out=Z[0, :, :n])
        J += run.blas_block(W1, b1, W2, b2, Z, np.ascontiguousarray(Y[:, i0:i0 + n]), n, A, Z2,
                            L, D, *(a[0] for a in acc))
        acc[0][0, 0] += D[:, :n] @ Xb.T
    return J / m, _grads(buf, m, P)


def cost_and_grads(P, X, Y, hidden, output):
    if _blas_path(P, X, hidden):
        return _cost_and_grads_blas(P, X, Y, hidden, output)
    W1, b1, W2, b2 = _kernel_params(P, hidden)  # W1 (k, n_h, n_x), b1 (k, n_h), b2 (n_y,)
    kp, n_h, n_x = W1.shape
    m = X.shape[1]
    wide = _wide(P, X, hidden)
    run, B = _entries(hidden, output), _step_block(n_x, n_h, kp, wide)
    nchunks = _chunks(m, n_h, kp, n_x)
    if nchunks == 1:  # one compiled call from the parameters to the gradients
        g = {"d" + k: np.empty(P[k].shape, W1.dtype) for k in F.PARAMS}
        J = run.cag_serial(W1, b1, W2, b2, X, Y, B, wide, *g.values())
        return J, g
    buf, acc = _accumulators(nchunks, W1, W2)
    Js = np.zeros(nchunks)
    run.cag_parallel(W1, b1, W2, b2, X, Y, B, wide, nchunks, *acc, Js)
    return float(Js.sum()) / m, _grads(buf, m, P)


def fit(P, X, Y, hidden, output, lr, iterations, keys, every=1, report=None):
    """Run ``iterations`` steps of batch gradient descent in one compiled call (in one call per
    report, when followed).

    repeat: J, dW1, db1, dW2, db2 = cost_and_grads(W1, b1, W2, b2); W := W − lr · dW for each W
    named in ``keys``.

    Parameters
    ----------
    P : dict of ndarray
        Validated, C-contiguous, one dtype: W1 (n_h, n_x) or (k, n_h, n_x) for maxout, b1 (n_h, 1)
        or (k, n_h, 1), W2 (n_y, n_h), b2 (n_y, 1). Not modified.
    X : ndarray, shape (n_x, m)
    Y : ndarray, shape (n_y, m)
        Same dtype as P, C-contiguous.
    hidden, output : str
        A registered activation; ``"sigmoid"`` or ``"linear"``.
    lr : float
        The learning rate α.
    iterations : int
        Number of steps (0 returns copies of P and no costs).
    keys : tuple of str
        The parameters to update, e.g. all four, or ``("W2", "b2")`` for logistic regression.
    every : int
        With ``report``: the steps between reports.
    report : callable, optional
        ``report(t, J)`` for t = 0, every, 2 · every, … with J = ``costs[t]`` (a float), as
        :func:`._descent.loop` calls it. The compiled loop then runs from report to report
        (:func:`._descent.spans`): step 0 alone, then ``every`` steps per call; the parameters
        and costs are those of one uninterrupted run, bit for bit. Not called for a step whose
        cost is not finite (the run stops there, as without ``report``).

    Returns
    -------
    params : dict of ndarray
        New arrays of P's shapes and dtype: the trained parameters.
    costs : ndarray of float64, shape (iterations,) or (t + 1,)
        ``costs[s]`` is J before update s.
        The whole return is None where the step's products run in BLAS (:func:`_blas_path`):
        the caller then runs its Python loop over :func:`cost_and_grads`.
    diverged_at : int or None
        None when every cost was finite. Else the first step t whose cost is inf or NaN: the run
        stopped there, ``costs`` ends with that cost, and ``params`` are the ones that gave it.
    """
    if _blas_path(P, X, hidden):
        return None  # the products run in BLAS: the caller's Python loop over cost_and_grads
    P = {k: np.array(P[k], copy=True) for k in F.PARAMS}
    costs = np.empty(iterations)
    W1, b1, W2, b2 = _kernel_params(P, hidden)
    kp, n_h, n_x = W1.shape
    nchunks = _chunks(X.shape[1], n_h, kp, n_x)
    buf, acc = _accumulators(nchunks, W1, W2)
    flat = tuple(P[k].reshape(-1) for k in F.PARAMS)  # views: updated in place
    upd = np.array([k in keys for k in F.PARAMS])
    wide = _wide(P, X, hidden)
    run, lr = _kernels(*_codes(hidden, output)), X.dtype.type(lr)
    B = _step_block(n_x, n_h, kp, wide)
    if nchunks == 1:
        args = (W1, b1, W2, b2, X, Y, B, wide, lr, upd, buf, *acc, flat)
        run_fit = run.fit_serial
    else:
        args = (W1, b1, W2, b2, X, Y, B, wide, nchunks, lr, upd, buf, *acc, flat)
        run_fit = run.fit_parallel
    if report is None:  # one compiled call
        t = run_fit(*args, costs)
        return (P, costs, None) if t < 0 else (P, costs[:t + 1], int(t))
    # Followed: the same compiled loop over consecutive slices of ``costs``, on the same
    # parameter buffers, so the run is bit for bit the uninterrupted one (a step keeps no state
    # besides the parameters: the accumulators are zeroed and the work arrays written before use).
    for start, stop in spans(iterations, every):
        t = run_fit(*args, costs[start:stop])
        if t >= 0:
            return P, costs[:start + t + 1], start + int(t)
        if stop > start and (stop - 1) % every == 0:
            report(stop - 1, float(costs[stop - 1]))
    return P, costs, None
