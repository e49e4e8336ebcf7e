"""Private ``@njit`` kernels of the ``numba`` backend. Inputs are trusted: validated upstream.

Layout. W1 is always 3-D (k, n_h, n_x): k = 1 for an element-wise activation, k pieces for maxout,
so one kernel serves both. b1 is (k, n_h); W2 (n_y, n_h); b2 (n_y,). X (n_x, m) and Y (n_y, m) are
C-contiguous, so a row X[f] runs over examples with unit stride.

Loop order. Examples are cut into blocks of B columns. For each block, every formula of the lecture
runs as a short loop over the B examples of one hidden unit (unit stride, so LLVM vectorises it),
and the block's Z1/A1 rows (k·n_h·B values) stay in L1/L2 between the forward and the backward
pass. Gradients are sums over examples: each thread adds into its own accumulator row (float64),
and the rows are reduced once at the end. No temporary has a size proportional to m.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ._fastmath import expm1_neg, sigmoid_, softplus_, tanh_

SIGMOID, TANH, RELU, LEAKY, ELU, LINEAR, MAXOUT = range(7)
LEAKY_SLOPE = 0.01
ELU_ALPHA = 1.0
#: Sums over examples may be reordered (so LLVM vectorises them); nothing else is relaxed: NaN and
#: inf keep their meaning, and the exp/tanh kernels keep their evaluation order.
_REDUCE = {"reassoc", "contract"}
_sigmoid = sigmoid_


@njit(cache=True, error_model="numpy")
def _hidden_forward(W1, b1, X, i0, n, Z, A, c0, code):
    """Z[p, j, c0:c0+n] = W1[p, j] · X[:, i0:i0+n] + b1[p, j]; A[j, c0:c0+n] = g(Z)."""
    kp, n_h, n_x = W1.shape
    for j in range(n_h):
        for p in range(kp):
            z = Z[p, j]
            b = b1[p, j]
            for i in range(n):
                z[c0 + i] = b
            for f in range(n_x):
                w = W1[p, j, f]
                x = X[f]
                for i in range(n):
                    z[c0 + i] += w * x[i0 + i]
        z = Z[0, j]
        a = A[j]
        if code == TANH:
            for i in range(n):
                a[c0 + i] = tanh_(z[c0 + i])
        elif code == SIGMOID:
            for i in range(n):
                a[c0 + i] = _sigmoid(z[c0 + i])
        elif code == RELU:
            for i in range(n):
                a[c0 + i] = max(z[c0 + i], 0.0)
        elif code == LEAKY:
            for i in range(n):
                v = z[c0 + i]
                a[c0 + i] = v if v >= 0 else LEAKY_SLOPE * v
        elif code == ELU:
            for i in range(n):
                v = z[c0 + i]
                a[c0 + i] = v if v >= 0 else ELU_ALPHA * expm1_neg(max(v, -40.0))
        elif code == LINEAR:
            for i in range(n):
                a[c0 + i] = z[c0 + i]
        else:  # MAXOUT
            for i in range(n):
                a[c0 + i] = z[c0 + i]
            for p in range(1, kp):
                zp = Z[p, j]
                for i in range(n):
                    a[c0 + i] = max(a[c0 + i], zp[c0 + i])


@njit(cache=True, error_model="numpy")
def _output_forward(W2, b2, A, c0, n, Z2, d0):
    """Z2[:, d0:d0+n] = W2 A[:, c0:c0+n] + b2."""
    n_y, n_h = W2.shape
    for o in range(n_y):
        z2 = Z2[o]
        for i in range(n):
            z2[d0 + i] = b2[o]
        for j in range(n_h):
            w = W2[o, j]
            a = A[j]
            for i in range(n):
                z2[d0 + i] += w * a[c0 + i]


@njit(cache=True, error_model="numpy")
def _dZ2_and_loss(Z2, Y, i0, n, L, sigmoid_out):
    """In place: Z2 (block columns 0:n, the logits) becomes dZ2 = A2 − Y; L[o, i] the loss."""
    for o in range(Z2.shape[0]):
        z2 = Z2[o]
        y = Y[o]
        loss = L[o]
        if sigmoid_out:
            for i in range(n):
                v = z2[i]
                t = y[i0 + i]
                loss[i] = softplus_(v) - t * v
                z2[i] = _sigmoid(v) - t
        else:
            for i in range(n):
                v = z2[i] - y[i0 + i]
                loss[i] = 0.5 * v * v
                z2[i] = v


@njit(cache=True, error_model="numpy", fastmath=_REDUCE)
def _sum_block(L, n):
    J = 0.0
    for o in range(L.shape[0]):
        for i in range(n):
            J += L[o, i]
    return J


@njit(cache=True, error_model="numpy", fastmath=_REDUCE)
def _backward_block(W2, X, i0, n, Z, A, c0, dZ2, code, da, gW1, gb1, gW2, gb2):
    """Add one block's Σ dW1, db1, dW2, db2 into the accumulators (not yet divided by m).

    dZ2 holds the block's A2 − Y in columns 0:n; Z, A the block's Z1, A1 from column c0.
    """
    kp, n_h, n_x = gW1.shape
    n_y = W2.shape[0]
    for o in range(n_y):
        s = 0.0
        d = dZ2[o]
        for i in range(n):
            s += d[i]
        gb2[o] += s
    for j in range(n_h):
        a = A[j]
        for i in range(n):
            da[i] = 0.0
        for o in range(n_y):
            w = W2[o, j]
            d = dZ2[o]
            s = 0.0
            for i in range(n):
                da[i] += w * d[i]
                s += d[i] * a[c0 + i]
            gW2[o, j] += s
        # da := dZ1 = dA1 ⊙ g'(Z1), the derivative taken from A1 where that is exact
        z = Z[0, j]
        if code == TANH:
            for i in range(n):
                v = a[c0 + i]
                da[i] *= 1.0 - v * v
        elif code == SIGMOID:
            for i in range(n):
                v = a[c0 + i]
                da[i] *= v * (1.0 - v)
        elif code == RELU:
            for i in range(n):
                da[i] = da[i] if z[c0 + i] >= 0 else 0.0
        elif code == LEAKY:
            for i in range(n):
                da[i] = da[i] if z[c0 + i] >= 0 else LEAKY_SLOPE * da[i]
        elif code == ELU:
            for i in range(n):
                da[i] = da[i] if z[c0 + i] >= 0 else da[i] * (a[c0 + i] + ELU_ALPHA)
        if code == MAXOUT:
            # route to the first piece that attains the max (the guard stops at the last on NaN)
            for i in range(n):
                w = 0
                while w < kp - 1 and Z[w, j, c0 + i] != a[c0 + i]:
                    w += 1
                gb1[w, j] += da[i]
                for f in range(n_x):
                    gW1[w, j, f] += da[i] * X[f, i0 + i]
        else:
            s = 0.0
            for i in range(n):
                s += da[i]
            gb1[0, j] += s
            for f in range(n_x):
                x = X[f]
                s = 0.0
                for i in range(n):
                    s += da[i] * x[i0 + i]
                gW1[0, j, f] += s


@njit(cache=True, error_model="numpy")
def _cag_chunk(W1, b1, W2, b2, X, Y, start, stop, code, sigmoid_out, B, gW1, gb1, gW2, gb2):
    """Fused cost and gradient sums over examples start:stop, in blocks of B. Returns Σ L."""
    kp, n_h, n_x = W1.shape
    n_y = W2.shape[0]
    Z = np.empty((kp, n_h, B), X.dtype)
    A = np.empty((n_h, B), X.dtype)
    Z2 = np.empty((n_y, B), X.dtype)
    L = np.empty((n_y, B), X.dtype)
    da = np.empty(B, X.dtype)
    J = 0.0
    for i0 in range(start, stop, B):
        n = min(B, stop - i0)
        _hidden_forward(W1, b1, X, i0, n, Z, A, 0, code)
        _output_forward(W2, b2, A, 0, n, Z2, 0)
        _dZ2_and_loss(Z2, Y, i0, n, L, sigmoid_out)
        J += _sum_block(L, n)
        _backward_block(W2, X, i0, n, Z, A, 0, Z2, code, da, gW1, gb1, gW2, gb2)
    return J


@njit(cache=True, error_model="numpy", parallel=True)
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


@njit(cache=True, error_model="numpy", parallel=True)
def _forward_all(W1, b1, W2, b2, X, Z, A, Z2, A2, code, sigmoid_out, B):
    """The forward pass into full (…, m) arrays Z1, A1, Z2, A2, blocks of B in parallel."""
    m = X.shape[1]
    nblocks = (m + B - 1) // B
    for blk in prange(nblocks):
        i0 = blk * B
        n = min(B, m - i0)
        _hidden_forward(W1, b1, X, i0, n, Z, A, i0, code)
        _output_forward(W2, b2, A, i0, n, Z2, i0)
        for o in range(Z2.shape[0]):
            for i in range(i0, i0 + n):
                A2[o, i] = _sigmoid(Z2[o, i]) if sigmoid_out else Z2[o, i]


@njit(cache=True, error_model="numpy", parallel=True)
def _backward_all(W2, X, Y, Z, A, A2, code, B, nchunks, gW1, gb1, gW2, gb2):
    """The backward pass from the forward cache; chunk c adds into accumulator row c."""
    m = X.shape[1]
    n_y = W2.shape[0]
    per = (m + nchunks - 1) // nchunks
    for c in prange(nchunks):
        start = c * per
        stop = min(m, start + per)
        dZ2 = np.empty((n_y, B), X.dtype)
        da = np.empty(B, X.dtype)
        for i0 in range(start, stop, B):
            n = min(B, stop - i0)
            for o in range(n_y):
                for i in range(n):
                    dZ2[o, i] = A2[o, i0 + i] - Y[o, i0 + i]
            _backward_block(W2, X, i0, n, Z, A, i0, dZ2, code, da,
                            gW1[c], gb1[c], gW2[c], gb2[c])
