"""Private ``@njit`` kernels of the ``numba`` backend. Inputs are trusted: validated upstream.

Design note (issue: fused kernels near the hardware limit).

Layout. W1 is always 3-D (k, n_h, n_x): k = 1 for an element-wise activation, k pieces for maxout,
so one code path serves both. b1 is (k, n_h); W2 (n_y, n_h); b2 (n_y,). X (n_x, m) and Y (n_y, m)
are C-contiguous, so a row X[f] runs over examples with unit stride.

Loop order. The m examples are split into one contiguous range per thread (``prange`` over
chunks; small problems run serially, since starting the parallel region costs tens of µs). Each
range is cut into blocks of B examples. For each block, X and Y are first copied into small
scratch arrays (``_load_block``): indexing the big arrays as ``X[f, i0 + i]`` makes Numba emit a
negative-index check per element, which stops LLVM from proving unit stride (it used gathers and
ran 4× slower). Then, per hidden unit j, every formula of the lecture is a short loop over the B
examples (innermost, unit stride, so LLVM vectorises it 8 doubles wide):

    forward   z = b1[j] + Σ_f W1[j, f] X[f]   (two features per pass)
              a = g(z);  A1[j] = a;  z2 += W2[0, j] a
    output    L = softplus(z2) − y z2;  dZ2 = σ(z2) − y   (one shared exp)
    backward  Σ dZ2·a -> dW2[j];  dz = W2[0, j] dZ2 g'(a or z);  Σ dz -> db1[j]
              Σ dz X[f] -> dW1[j, f]   (two features per pass)

Gradients are sums over examples: each thread adds into its own float64 accumulator row, reduced
once at the end (no shared ``+=`` inside ``prange``). The only temporaries are per thread and
O(n_h · B); nothing has a size proportional to m.

Block size. B = 512 examples (fewer when n_h is large), so the block's A1 (and Z1, kept only for
the activations whose derivative needs it: relu, leaky_relu, elu) is ≤ 512 KiB and stays in the
1 MiB L2 between the forward and the backward pass; each per-unit row (4 KiB) sits in L1. 512 was
the measured optimum for n_h = 4 and 64 (128 … 2048 tried; 2048 was 5–25 % slower).

Wide inputs. From n_x = 32 the products W1 X and dZ1 Xᵀ dominate; ``numba_fused`` then runs
them in BLAS per block of 2048 examples and fuses the element-wise rest here (``_blas_block``).

Arithmetic. The transcendental functions are the vectorisable ones of ``_fastmath`` (relative
error ≤ ~4 ulp; see there). Flags: FMA contraction everywhere (polynomials in half the
instructions: +40 % speed), reassociation only in the reduction kernels; never ``nnan``/``ninf``.
``error_model="numpy"`` removes Python's division-by-zero check, which otherwise blocks
vectorisation of any loop with a division.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..activations import ACTIVATIONS, ELU_ALPHA, LEAKY_SLOPE
from ._fastmath import _FMA, expm1_neg, logistic_loss, sigmoid_, tanh_

#: The kernels branch on the registry's integer codes (once per hidden unit and block).
SIGMOID, TANH, RELU, LEAKY, ELU, LINEAR, MAXOUT = (
    ACTIVATIONS[n].code for n in ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "linear",
                                  "maxout"))
#: Floating-point flags: FMA contraction everywhere (``_FMA``, from ``_fastmath``); sums over
#: examples may also be reordered (so LLVM vectorises them). Nothing else is relaxed: NaN and inf
#: keep their meaning, and the exp/tanh kernels keep their evaluation order.
_REDUCE = {"reassoc", "contract"}
_sigmoid = sigmoid_


@njit(cache=True, error_model="numpy", fastmath=_FMA)
def _hidden_forward(W1, b1, X, n, Z, A, code):
    """Z[p, j, :n] = W1[p, j] · X[:, :n] + b1[p, j]; A[j, :n] = g(Z)."""
    kp, n_h, n_x = W1.shape
    for j in range(n_h):
        for p in range(kp):
            b = b1[p, j]
            for i in range(n):
                Z[p, j, i] = b
            for f in range(n_x):
                w = W1[p, j, f]
                for i in range(n):
                    Z[p, j, i] += w * X[f, i]
        if code == TANH:
            for i in range(n):
                A[j, i] = tanh_(Z[0, j, i])
        elif code == SIGMOID:
            for i in range(n):
                A[j, i] = _sigmoid(Z[0, j, i])
        elif code == RELU:
            for i in range(n):
                A[j, i] = max(Z[0, j, i], 0.0)
        elif code == LEAKY:
            for i in range(n):
                v = Z[0, j, i]
                A[j, i] = v if v >= 0 else LEAKY_SLOPE * v
        elif code == ELU:
            for i in range(n):
                v = Z[0, j, i]
                A[j, i] = v if v >= 0 else ELU_ALPHA * expm1_neg(max(v, -40.0))
        elif code == LINEAR:
            for i in range(n):
                A[j, i] = Z[0, j, i]
        else:  # MAXOUT
            for i in range(n):
                A[j, i] = Z[0, j, i]
            for p in range(1, kp):
                for i in range(n):
                    A[j, i] = max(A[j, i], Z[p, j, i])


@njit(cache=True, error_model="numpy", fastmath=_FMA)
def _output_forward(W2, b2, A, n, Z2):
    """Z2[:, :n] = W2 A[:, :n] + b2."""
    n_y, n_h = W2.shape
    for o in range(n_y):
        for i in range(n):
            Z2[o, i] = b2[o]
        for j in range(n_h):
            w = W2[o, j]
            for i in range(n):
                Z2[o, i] += w * A[j, i]


@njit(cache=True, error_model="numpy", fastmath=_FMA)
def _dZ2_and_loss(Z2, Y, n, L, sigmoid_out):
    """In place: Z2 (block columns 0:n, the logits) becomes dZ2 = A2 − Y; L[o, i] the loss."""
    for o in range(Z2.shape[0]):
        if sigmoid_out:
            for i in range(n):
                L[o, i], Z2[o, i] = logistic_loss(Z2[o, i], Y[o, i])
        else:
            for i in range(n):
                v = Z2[o, i] - Y[o, i]
                L[o, i] = 0.5 * v * v
                Z2[o, i] = v


@njit(cache=True, error_model="numpy", fastmath=_REDUCE)
def _sum_block(L, n):
    J = 0.0
    for o in range(L.shape[0]):
        for i in range(n):
            J += L[o, i]
    return J


@njit(cache=True, error_model="numpy", fastmath=_REDUCE)
def _backward_block(W2, X, n, Z, A, dZ2, code, da, gW1, gb1, gW2, gb2):
    """Add one block's Σ dW1, db1, dW2, db2 into the accumulators (not yet divided by m).

    dZ2 holds the block's A2 − Y, Z and A the block's Z1 and A1, all in columns 0:n.
    """
    kp, n_h, n_x = gW1.shape
    n_y = W2.shape[0]
    for o in range(n_y):
        s = 0.0
        for i in range(n):
            s += dZ2[o, i]
        gb2[o] += s
    for j in range(n_h):
        for i in range(n):
            da[i] = 0.0
        for o in range(n_y):
            w = W2[o, j]
            s = 0.0
            for i in range(n):
                da[i] += w * dZ2[o, i]
                s += dZ2[o, i] * A[j, i]
            gW2[o, j] += s
        # da := dZ1 = dA1 ⊙ g'(Z1), the derivative taken from A1 where that is exact
        if code == TANH:
            for i in range(n):
                da[i] *= 1.0 - A[j, i] * A[j, i]
        elif code == SIGMOID:
            for i in range(n):
                da[i] *= A[j, i] * (1.0 - A[j, i])
        elif code == RELU:
            for i in range(n):
                da[i] = da[i] if Z[0, j, i] >= 0 else 0.0
        elif code == LEAKY:
            for i in range(n):
                da[i] = da[i] if Z[0, j, i] >= 0 else LEAKY_SLOPE * da[i]
        elif code == ELU:
            for i in range(n):
                da[i] = da[i] if Z[0, j, i] >= 0 else da[i] * (A[j, i] + ELU_ALPHA)
        if code == MAXOUT:
            # route to the first piece that attains the max (the guard stops at the last on NaN)
            for i in range(n):
                w = 0
                while w < kp - 1 and Z[w, j, i] != A[j, i]:
                    w += 1
                gb1[w, j] += da[i]
                for f in range(n_x):
                    gW1[w, j, f] += da[i] * X[f, i]
        else:
            s = 0.0
            for i in range(n):
                s += da[i]
            gb1[0, j] += s
            for f in range(n_x):
                s = 0.0
                for i in range(n):
                    s += da[i] * X[f, i]
                gW1[0, j, f] += s


@njit(cache=True, error_model="numpy", fastmath=_FMA)
def _load_block(src, i0, n, dst):
    """dst[:, :n] = src[:, i0:i0+n]. The kernels then index blocks with loop counters only: an
    index like ``i0 + i`` makes Numba emit a negative-index check that stops LLVM from proving
    unit stride (it falls back to gathers, ~4× slower); a slice copy has no such check."""
    for r in range(src.shape[0]):
        dst[r, :n] = src[r, i0:i0 + n]


@njit(cache=True, error_model="numpy", fastmath=_FMA)
def _cag_chunk(W1, b1, W2, b2, X, Y, start, stop, code, sigmoid_out, B, gW1, gb1, gW2, gb2):
    """Fused cost and gradient sums over examples start:stop, in blocks of B. Returns Σ L."""
    kp, n_h, n_x = W1.shape
    n_y = W2.shape[0]
    fused = n_y == 1 and code != MAXOUT
    Xb = np.empty((n_x, B), X.dtype)
    Yb = np.empty((n_y, B), X.dtype)
    Z = np.empty((kp, n_h, B), X.dtype)
    A = np.empty((n_h, B), X.dtype)
    Z2 = np.empty((n_y, B), X.dtype)
    L = np.empty((n_y, B), X.dtype)
    da = np.empty(B, X.dtype)
    D = da.reshape((1, B))
    J = 0.0
    for i0 in range(start, stop, B):
        n = min(B, stop - i0)
        _load_block(X, i0, n, Xb)
        _load_block(Y, i0, n, Yb)
        if fused:
            _forward_fused(W1, b1, W2, b2, Xb, n, Z, A, Z2[0], code)
        else:
            _hidden_forward(W1, b1, Xb, n, Z, A, code)
            _output_forward(W2, b2, A, n, Z2)
        _dZ2_and_loss(Z2, Yb, n, L, sigmoid_out)
        J += _sum_block(L, n)
        if fused:
            _backward_fused(W2, Xb, n, Z, A, Z2[0], code, D, gW1, gb1, gW2, gb2)
        else:
            _backward_block(W2, Xb, n, Z, A, Z2, code, da, gW1, gb1, gW2, gb2)
    return J


@njit(cache=True, error_model="numpy", fastmath=_FMA, parallel=True)
def _cag_parallel(W1, b1, W2, b2, X, Y, code, sigmoid_out, B, nchunks, gW1, gb1, gW2, gb2, J):
    """Split the m examples into nchunks ranges; chunk c adds into row c of each accumulator."""
    m = X.shape[1]
    per = (m + nchunks - 1) // nchunks
    for c in prange(nchunks):
        start = c * per
        stop = min(m, start + per)
        if start < stop:
            J[c] = _cag_chunk(W1, b1, W2, b2, X, Y, start, stop, code, sigmoid_out, B,
                              gW1[c], gb1[c], gW2[c], gb2[c])


@njit(cache=True, error_model="numpy", fastmath=_FMA)
def _forward_range(W1, b1, W2, b2, X, Z1, A1, Z2, A2, code, sigmoid_out, B, start, stop):
    """The forward pass for examples start:stop into the full (…, m) arrays Z1, A1, Z2, A2."""
    kp, n_h, n_x = W1.shape
    n_y = W2.shape[0]
    Xb = np.empty((n_x, B), X.dtype)
    Z = np.empty((kp, n_h, B), X.dtype)
    A = np.empty((n_h, B), X.dtype)
    Zo = np.empty((2 * n_y, B), X.dtype)  # rows: Z2, then A2
    for i0 in range(start, stop, B):
        n = min(B, stop - i0)
        _load_block(X, i0, n, Xb)
        _hidden_forward(W1, b1, Xb, n, Z, A, code)
        _output_forward(W2, b2, A, n, Zo)
        for o in range(n_y):
            if sigmoid_out:
                for i in range(n):
                    Zo[o + n_y, i] = _sigmoid(Zo[o, i])
            else:
                Zo[o + n_y, :n] = Zo[o, :n]
        Z1[:, :, i0:i0 + n] = Z[:, :, :n]
        A1[:, i0:i0 + n] = A[:, :n]
        Z2[:, i0:i0 + n] = Zo[:n_y, :n]
        A2[:, i0:i0 + n] = Zo[n_y:, :n]


@njit(cache=True, error_model="numpy", fastmath=_FMA, parallel=True)
def _forward_parallel(W1, b1, W2, b2, X, Z1, A1, Z2, A2, code, sigmoid_out, B, nchunks):
    m = X.shape[1]
    per = (m + nchunks - 1) // nchunks
    for c in prange(nchunks):
        _forward_range(W1, b1, W2, b2, X, Z1, A1, Z2, A2, code, sigmoid_out, B, c * per,
                       min(m, (c + 1) * per))


@njit(cache=True, error_model="numpy", fastmath=_FMA)
def _backward_range(W2, X, Y, Z1, A1, A2, code, B, start, stop, gW1, gb1, gW2, gb2):
    """The backward pass for examples start:stop from the forward cache, into accumulators."""
    kp, n_h, _ = Z1.shape
    n_x = X.shape[0]
    n_y = W2.shape[0]
    Xb = np.empty((n_x, B), X.dtype)
    Z = np.empty((kp, n_h, B), X.dtype)
    A = np.empty((n_h, B), X.dtype)
    dZ2 = np.empty((n_y, B), X.dtype)
    da = np.empty(B, X.dtype)
    for i0 in range(start, stop, B):
        n = min(B, stop - i0)
        _load_block(X, i0, n, Xb)
        Z[:, :, :n] = Z1[:, :, i0:i0 + n]
        A[:, :n] = A1[:, i0:i0 + n]
        dZ2[:, :n] = A2[:, i0:i0 + n] - Y[:, i0:i0 + n]
        _backward_block(W2, Xb, n, Z, A, dZ2, code, da, gW1, gb1, gW2, gb2)


@njit(cache=True, error_model="numpy", fastmath=_FMA, parallel=True)
def _backward_parallel(W2, X, Y, Z1, A1, A2, code, B, nchunks, gW1, gb1, gW2, gb2):
    """Chunk c of the examples adds into accumulator row c."""
    m = X.shape[1]
    per = (m + nchunks - 1) // nchunks
    for c in prange(nchunks):
        _backward_range(W2, X, Y, Z1, A1, A2, code, B, c * per, min(m, (c + 1) * per),
                        gW1[c], gb1[c], gW2[c], gb2[c])


# --- the fused fast path: one output unit, an element-wise activation ------------------------

@njit(cache=True, error_model="numpy", fastmath=_FMA)
def _forward_fused(W1, b1, W2, b2, X, n, Z, A, z2, code):
    """z2[:n] = W2 g(W1 X + b1) + b2 for one block, keeping Z1 (only where g' needs it) and A1.

    Per hidden unit: the n_x products in one or more unit-stride passes, then one pass that
    applies g, stores A1 and accumulates the output logit.
    """
    n_h, n_x = W1.shape[1], X.shape[0]
    # Z1 is kept only where g' needs it (or holds the BLAS products); else one row is reused,
    # which keeps the block's working set in L2 at half the size.
    keep = n_x == 0 or code == RELU or code == LEAKY or code == ELU
    for i in range(n):
        z2[i] = b2[0]
    for j in range(n_h):
        r = j if keep else 0
        b = b1[0, j]
        w = W1[0, j, 0]
        w2 = W2[0, j]
        if n_x == 0:  # Z already holds W1 X (the BLAS path): add the bias only
            for i in range(n):
                Z[0, r, i] += b
        elif n_x >= 2:  # the first two features in one pass (n_x = 2 is the lecture's data)
            v = W1[0, j, 1]
            for i in range(n):
                Z[0, r, i] = b + w * X[0, i] + v * X[1, i]
        else:
            for i in range(n):
                Z[0, r, i] = b + w * X[0, i]
        for f in range(2, n_x):
            w = W1[0, j, f]
            for i in range(n):
                Z[0, r, i] += w * X[f, i]
        if code == TANH:
            for i in range(n):
                a = tanh_(Z[0, r, i])
                A[j, i] = a
                z2[i] += w2 * a
        elif code == SIGMOID:
            for i in range(n):
                a = _sigmoid(Z[0, r, i])
                A[j, i] = a
                z2[i] += w2 * a
        elif code == RELU:
            for i in range(n):
                a = max(Z[0, r, i], 0.0)
                A[j, i] = a
                z2[i] += w2 * a
        elif code == LEAKY:
            for i in range(n):
                v = Z[0, r, i]
                a = v if v >= 0 else LEAKY_SLOPE * v
                A[j, i] = a
                z2[i] += w2 * a
        elif code == ELU:
            for i in range(n):
                v = Z[0, r, i]
                a = v if v >= 0 else ELU_ALPHA * expm1_neg(max(v, -40.0))
                A[j, i] = a
                z2[i] += w2 * a
        else:  # LINEAR
            for i in range(n):
                a = Z[0, r, i]
                A[j, i] = a
                z2[i] += w2 * a


@njit(cache=True, error_model="numpy", fastmath=_REDUCE)
def _backward_fused(W2, X, n, Z, A, dz2, code, D, gW1, gb1, gW2, gb2):
    """One block's gradient sums for one output unit: per hidden unit, one pass computes dW2's
    sum, dZ1 = W2ᵀ dZ2 ⊙ g' and db1's sum; then one pass per pair of features for dW1.

    dZ1 goes to row j of D when D has n_h rows (the BLAS path then forms dW1 = dZ1 Xᵀ), else to
    its single row, reused per unit. X may have 0 rows (features handled by the caller).
    """
    n_h, n_x = A.shape[0], X.shape[0]
    s = 0.0
    for i in range(n):
        s += dz2[i]
    gb2[0] += s
    for j in range(n_h):
        r = j if D.shape[0] > 1 else 0
        w2 = W2[0, j]
        sw = 0.0
        sb = 0.0
        if code == TANH:
            for i in range(n):
                a = A[j, i]
                d = dz2[i]
                sw += d * a
                dz = w2 * d * (1.0 - a * a)
                D[r, i] = dz
                sb += dz
        elif code == SIGMOID:
            for i in range(n):
                a = A[j, i]
                d = dz2[i]
                sw += d * a
                dz = w2 * d * (a * (1.0 - a))
                D[r, i] = dz
                sb += dz
        elif code == RELU:
            for i in range(n):
                d = dz2[i]
                sw += d * A[j, i]
                dz = w2 * d if Z[0, j, i] >= 0 else 0.0
                D[r, i] = dz
                sb += dz
        elif code == LEAKY:
            for i in range(n):
                d = dz2[i]
                sw += d * A[j, i]
                dz = w2 * d if Z[0, j, i] >= 0 else LEAKY_SLOPE * w2 * d
                D[r, i] = dz
                sb += dz
        elif code == ELU:
            for i in range(n):
                a = A[j, i]
                d = dz2[i]
                sw += d * a
                dz = w2 * d if Z[0, j, i] >= 0 else w2 * d * (a + ELU_ALPHA)
                D[r, i] = dz
                sb += dz
        else:  # LINEAR
            for i in range(n):
                d = dz2[i]
                sw += d * A[j, i]
                dz = w2 * d
                D[r, i] = dz
                sb += dz
        gW2[0, j] += sw
        gb1[0, j] += sb
        for f in range(0, n_x - 1, 2):  # features in pairs: one pass over da per two
            s = 0.0
            t = 0.0
            for i in range(n):
                s += D[r, i] * X[f, i]
                t += D[r, i] * X[f + 1, i]
            gW1[0, j, f] += s
            gW1[0, j, f + 1] += t
        if n_x % 2:
            s = 0.0
            for i in range(n):
                s += D[r, i] * X[n_x - 1, i]
            gW1[0, j, n_x - 1] += s


@njit(cache=True, error_model="numpy", fastmath=_FMA)
def _blas_block(W1, b1, W2, b2, Z, Yb, n, code, sigmoid_out, A, Z2, L, D, gW1, gb1, gW2, gb2):
    """The element-wise rest of a step whose products run in BLAS: Z[0] = W1 X is given. Adds
    b1, applies g, forms the output, the loss and dZ1 (into D, for dW1 = dZ1 Xᵀ in BLAS).
    Returns Σ L. For n_y = 1 and an element-wise g."""
    Xn = np.empty((0, n), Z.dtype)  # no features here: the products are done
    _forward_fused(W1, b1, W2, b2, Xn, n, Z, A, Z2[0], code)
    _dZ2_and_loss(Z2, Yb, n, L, sigmoid_out)
    J = _sum_block(L, n)
    _backward_fused(W2, Xn, n, Z, A, Z2[0], code, D, gW1, gb1, gW2, gb2)
    return J
