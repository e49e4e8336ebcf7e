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

One set of kernels serves every case: n_y > 1 adds one pass per extra output (forward: its
logit; backward: its share of dA1, before the fused pass), and maxout one pass that takes the max
over the pieces before g (the identity) and routes dZ1 to the winning piece (``_route``).

Each formula once. g and g' are defined per element, once (the tables ``_G``, ``_DG`` keyed by the
registry's code; the output activation is ``_g`` with the output's code), and the output's loss
and dZ2 once (``_LOSS``). The code is a compile-time literal everywhere (the entry closures of
``numba_fused._kernels`` fix it), and ``_g``, ``_dg``, ``_loss``, ``_needs_z`` and ``_route`` are
overloads that pick the one formula for it while typing (``_pick``): a specialisation compiles
its own activation only. (With a run-time code inside the loop LLVM does not unswitch the
branches — tanh_/sigmoid_/expm1_neg are too large — and the step ran 1.4–1.9× slower; with the
code a constant but every branch compiled, a first call compiled all seven activations.)

Gradients are sums over examples: each thread adds into its own float64 accumulator row, reduced
once at the end (no shared ``+=`` inside ``prange``).

Sums and float32. Every element-wise formula runs in the inputs' precision (``like`` types the
constants; ``_fastmath`` picks the float32 functions), so float32 runs 16 lanes per AVX-512
instruction instead of 8. Sums over examples are blocked: within one block (≤ 512 examples) in the
working precision, which LLVM splits over its vector lanes and several accumulators (each partial
sum then adds ≤ ~32 terms: a relative error of a few float32 ulp), and across blocks in the float64
accumulators. Accumulating every term in float64 instead would convert each product to double
and halve the width of the backward pass. ``tests/test_gradients.py`` holds the float32 step to
1e-6 of the float64 result and to at most twice NumPy's float32 error (BLAS sgemm, pairwise
sums); measured at m = 1e5 over every activation and output: numba 4e-8 … 1e-7, NumPy 2e-7 …
7e-7, relative to each gradient's largest entry. The only temporaries are per thread and
O(n_h · B); nothing has a size proportional to m.

Block size. B = 512 examples (fewer when n_h is large), so the block's A1 (and Z1, kept only for
the activations whose derivative needs it: relu, leaky_relu, elu) is ≤ 512 KiB and stays in the
1 MiB L2 between the forward and the backward pass; each per-unit row (4 KiB) sits in L1. 512 was
the measured optimum for n_h = 4 and 64 (128 … 2048 tried; 2048 was 5–25 % slower).

Wide inputs. From ``numba_fused.WIDE_FROM_N_X`` features on (an element-wise g) the products
W1 X and dZ1 Xᵀ dominate, and one unit and one feature per pass is bound by its loads and stores
(each multiply-add reads and writes a row of Z, or reads two rows for one sum). A wide step then
computes them over the whole block register-blocked, four hidden units by four features per pass
(``_wx_block``: Z1 = W1 X + b1, 4 loads of X and 4 read-modify-writes of Z per 16 multiply-adds;
``_dzx_block``: 16 sums of dZ1 Xᵀ, 8 loads per 16 multiply-adds), and the per-unit passes do the
element-wise rest as if X had no rows (dZ1 is then kept for every unit, ``D`` with n_h
rows). The step stays compiled end to end, so the fused training loop runs at every n_x and
needs neither SciPy (Numba's ``np.dot``) nor a Python call per step for BLAS. The block is
smaller there (``numba_fused._step_block``: X's block in L2 too, at least 128 examples).

Arithmetic. The transcendental functions are the vectorisable ones of ``_fastmath`` (relative
error ≤ ~4 ulp; see there). Flags: FMA contraction everywhere (polynomials in half the
instructions: +40 % speed), reassociation only in the reduction kernels; never ``nnan``/``ninf``.
``error_model="numpy"`` removes Python's division-by-zero check, which otherwise blocks
vectorisation of any loop with a division.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange, types
from numba.extending import overload

from .._jitcache import CACHE

from ..activations import ACTIVATIONS, ELU_ALPHA, LEAKY_SLOPE
from . import _threading  # noqa: F401  (the threading layer, before any parallel call)
from ._fastmath import _FMA, _OPTS, _compiled_only, expm1_neg, like, logistic_loss, sigmoid_, tanh_

#: The kernels branch on the registry's integer codes (an output's code is its activation's).
SIGMOID, TANH, RELU, LEAKY, ELU, LINEAR, MAXOUT = (
    ACTIVATIONS[n].code for n in ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "linear",
                                  "maxout"))
#: Floating-point flags: FMA contraction everywhere (``_FMA``, from ``_fastmath``); sums over
#: examples may also be reordered (so LLVM vectorises them). Nothing else is relaxed: NaN and inf
#: keep their meaning, and the exp/tanh kernels keep their evaluation order.
_REDUCE = {"reassoc", "contract"}


# --- the formulas, once, per element, picked at compile time by the literal code ----------
#
# The codes reach these as literal types (``numba_fused._kernels`` fixes them in closures), and
# each ``overload`` below returns the one formula for its code: Numba types and compiles that
# formula only, not the other activations' (which is what made a first call compile all seven).

def _pick(formulas, code):
    """The formula for the literal ``code`` (``None`` for a non-literal: only literals are typed,
    so a call can never compile every activation)."""
    if isinstance(code, types.IntegerLiteral):
        return formulas.get(code.literal_value, formulas[None])
    return None


_G = {  # a = g(z) for one element; maxout's g (and linear's) is the identity
    TANH: lambda code, z: tanh_(z),
    SIGMOID: lambda code, z: sigmoid_(z),
    RELU: lambda code, z: max(z, like(z, 0.0)),
    LEAKY: lambda code, z: z if z >= like(z, 0.0) else like(z, LEAKY_SLOPE) * z,
    ELU: lambda code, z: (z if z >= like(z, 0.0) else
                          like(z, ELU_ALPHA) * expm1_neg(max(z, like(z, -40.0)))),
    None: lambda code, z: z,
}
_DG = {  # g'(z) from z or a = g(z), whichever is exact; maxout's is 1 (then routed)
    TANH: lambda code, z, a: like(a, 1.0) - a * a,
    SIGMOID: lambda code, z, a: a * (like(a, 1.0) - a),
    RELU: lambda code, z, a: like(a, 1.0) if z >= like(a, 0.0) else like(a, 0.0),
    LEAKY: lambda code, z, a: like(a, 1.0) if z >= like(a, 0.0) else like(a, LEAKY_SLOPE),
    ELU: lambda code, z, a: like(a, 1.0) if z >= like(a, 0.0) else a + like(a, ELU_ALPHA),
    None: lambda code, z, a: like(a, 1.0),
}
_NEEDS_Z = {c: (lambda code: True) for c in (RELU, LEAKY, ELU, MAXOUT)}
_NEEDS_Z[None] = lambda code: False
_LOSS = {  # (L, dZ2) for one output logit z and target y
    SIGMOID: lambda code, z, y: logistic_loss(z, y),
    None: lambda code, z, y: (like(z, 0.5) * (z - y) * (z - y), z - y),
}


_g = _compiled_only("_g")
_dg = _compiled_only("_dg")
_needs_z = _compiled_only("_needs_z")
_loss = _compiled_only("_loss")


@overload(_g, prefer_literal=True, jit_options=_OPTS)
def _g_formula(code, z):
    """a = g(z) for one element. Maxout's g is the identity: the max over pieces comes first.
    Also the output activation: A2 = _g(output code, Z2)."""
    return _pick(_G, code)


@overload(_dg, prefer_literal=True, jit_options=_OPTS)
def _dg_formula(code, z, a):
    """g'(z) for one element, from z or a = g(z), whichever is exact (tanh' = 1 − a²). Maxout's
    is 1: its gradient is then routed to the winning piece."""
    return _pick(_DG, code)


@overload(_needs_z, prefer_literal=True, jit_options=_OPTS)
def _needs_z_formula(code):
    """Whether g' reads Z1 (else the forward pass keeps only A1)."""
    return _pick(_NEEDS_Z, code)


@overload(_loss, prefer_literal=True, jit_options=_OPTS)
def _loss_formula(code, z, y):
    """(L, dZ2) for one output logit z and target y: the cross-entropy softplus(z) − y z with
    σ(z) − y for a sigmoid output, ½(z − y)² with z − y for a linear one."""
    return _pick(_LOSS, code)


# --- the per-unit passes that apply g and g', specialised per activation -------------------

@njit(cache=CACHE, inline="always", error_model="numpy", fastmath=_FMA)
def _g_pass(code, S, Aj, z2, w2, n):
    """Unit j's forward pass over a block: A1[j] = g(S), z2 += W2[0, j] A1[j] (S is Z1[j])."""
    for i in range(n):
        a = _g(code, S[i])
        Aj[i] = a
        z2[i] += w2 * a


@njit(cache=CACHE, inline="always", error_model="numpy", fastmath=_REDUCE)
def _dg_pass(code, more, Zj, Aj, dz2, D, w2, n):
    """Unit j's backward pass over a block: D = dZ1[j] = (W2[0, j] dZ2[0] (+ D when ``more``:
    the other outputs' share)) ⊙ g'. Returns the sums Σ dZ2[0] A1[j] and Σ dZ1[j]."""
    sw = like(Aj, 0.0)  # in the working precision: a block's sum (see "Sums" above)
    sb = like(Aj, 0.0)
    for i in range(n):
        a = Aj[i]
        d = dz2[i]
        sw += d * a
        da = w2 * d + D[i] if more else w2 * d
        dz = da * _dg(code, Zj[i], a)
        D[i] = dz
        sb += dz
    return sw, sb


# --- one block of B examples: forward, output, backward -------------------------------------

@njit(cache=CACHE, error_model="numpy", fastmath=_FMA)
def _forward_block(W1, b1, W2, b2, X, n, Z, A, Z2, code, keep):
    """Z2[:, :n] = W2 g(W1 X + b1) + b2 for one block, storing A1 and (where kept) Z1.

    Per hidden unit: the n_x products in one or more unit-stride passes (per piece), then one
    pass that applies g, stores A1 and accumulates the first output's logit. Z1 is kept for
    every unit when ``keep`` (a run-time flag: callers pass ``np.True_``/``np.False_``, not a
    literal, so one compiled block serves both), where g' needs it, or when X has no rows (Z
    then already holds W1 X + b1, from :func:`_wx_block`); else one row is reused, which halves
    the block's working set in L2.
    """
    kp, n_h = W1.shape[0], W1.shape[1]
    n_x, n_y = X.shape[0], W2.shape[0]
    keep = keep or n_x == 0 or _needs_z(code)
    for o in range(n_y):
        for i in range(n):
            Z2[o, i] = b2[o]
    for j in range(n_h):
        r = j if keep else 0
        for p in range(kp):
            b = b1[p, j]
            w = W1[p, j, 0] if n_x else like(W1, 0.0)
            if n_x == 0:  # Z already holds W1 X + b1 (a wide step's _wx_block)
                pass
            elif n_x >= 2:  # the first two features in one pass (n_x = 2 is the lecture's data)
                v = W1[p, j, 1]
                for i in range(n):
                    Z[p, r, i] = b + w * X[0, i] + v * X[1, i]
            else:
                for i in range(n):
                    Z[p, r, i] = b + w * X[0, i]
            for f in range(2, n_x):
                w = W1[p, j, f]
                for i in range(n):
                    Z[p, r, i] += w * X[f, i]
        S = Z[0, r]
        if kp > 1:  # maxout: A1 = max over the pieces, then g is the identity
            S = A[j]
            for i in range(n):
                S[i] = Z[0, r, i]
            for p in range(1, kp):
                for i in range(n):
                    S[i] = max(S[i], Z[p, r, i])
        _g_pass(code, S, A[j], Z2[0], W2[0, j], n)
        for o in range(1, n_y):
            w2 = W2[o, j]
            for i in range(n):
                Z2[o, i] += w2 * A[j, i]


@njit(cache=CACHE, error_model="numpy", fastmath=_FMA)
def _dZ2_and_loss(Z2, Y, n, L, out):
    """In place: Z2 (block columns 0:n, the logits) becomes dZ2 = A2 − Y; L[o, i] the loss."""
    for o in range(Z2.shape[0]):
        for i in range(n):
            L[o, i], Z2[o, i] = _loss(out, Z2[o, i], Y[o, i])


@njit(cache=CACHE, error_model="numpy", fastmath=_REDUCE)
def _sum_block(L, n):
    """Σ L over the block, in the working precision (the caller adds blocks in float64)."""
    J = like(L, 0.0)
    for o in range(L.shape[0]):
        for i in range(n):
            J += L[o, i]
    return J


@njit(cache=CACHE, error_model="numpy", fastmath=_REDUCE)
def _backward_block(W2, X, n, Z, A, dZ2, code, D, gW1, gb1, gW2, gb2):
    """Add one block's Σ dW1, db1, dW2, db2 into the accumulators (not yet divided by m).

    dZ2 holds the block's A2 − Y, A the block's A1 and Z its Z1 (rows j where g' needs them),
    all in columns 0:n. Per hidden unit, one pass forms dW2's sum, dZ1 = W2ᵀ dZ2 ⊙ g' and
    db1's sum (outputs beyond the first add W2ᵀ dZ2 in a pass before); then one pass per pair
    of features forms dW1's sums (maxout: each example's dZ1 goes to its winning piece).

    dZ1 goes to row j of D when D has n_h rows (a wide step then forms dW1 = dZ1 Xᵀ), else to
    its single row, reused per unit. X may have 0 rows (features handled by the caller).
    """
    n_h = A.shape[0]
    n_x, n_y = X.shape[0], W2.shape[0]
    for o in range(n_y):
        s = like(dZ2, 0.0)
        for i in range(n):
            s += dZ2[o, i]
        gb2[o] += s
    for j in range(n_h):
        r = j if D.shape[0] > 1 else 0
        for o in range(1, n_y):  # dA1 from outputs 1 … n_y − 1 into D[r]
            w2 = W2[o, j]
            s = like(dZ2, 0.0)
            for i in range(n):
                d = dZ2[o, i]
                s += d * A[j, i]
                D[r, i] = w2 * d if o == 1 else D[r, i] + w2 * d
            gW2[o, j] += s
        sw, sb = _dg_pass(code, n_y > 1, Z[0, j], A[j], dZ2[0], D[r], W2[0, j], n)
        gW2[0, j] += sw
        if _route(code, Z, A, X, n, j, D[r], gW1, gb1):  # maxout: done, per piece
            continue
        gb1[0, j] += sb
        for f in range(0, n_x - 1, 2):  # features in pairs: one pass over dZ1 per two
            s = like(D, 0.0)
            t = like(D, 0.0)
            for i in range(n):
                s += D[r, i] * X[f, i]
                t += D[r, i] * X[f + 1, i]
            gW1[0, j, f] += s
            gW1[0, j, f + 1] += t
        if n_x % 2:
            s = like(D, 0.0)
            for i in range(n):
                s += D[r, i] * X[n_x - 1, i]
            gW1[0, j, n_x - 1] += s


@njit(cache=CACHE, error_model="numpy", fastmath=_REDUCE)
def _route_pieces(Z, A, X, n, j, dz, gW1, gb1):
    """Maxout's derivative: unit j's dZ1 goes to the first piece that attains the max (the
    guard stops at the last one on NaN). Returns True (the unit's sums are done)."""
    kp, n_x = Z.shape[0], X.shape[0]
    for i in range(n):
        w = 0
        while w < kp - 1 and Z[w, j, i] != A[j, i]:
            w += 1
        gb1[w, j] += dz[i]
        for f in range(n_x):
            gW1[w, j, f] += dz[i] * X[f, i]
    return True


_route = _compiled_only("_route")


@overload(_route, prefer_literal=True, inline="always", jit_options=_OPTS)
def _route_formula(code, Z, A, X, n, j, dz, gW1, gb1):
    """Maxout routes unit j's dZ1 to its winning pieces (:func:`_route_pieces`) and returns
    True; every other activation has one piece and returns False (nothing compiled). A maxout
    W1 with k = 1 (allowed) routes every example to piece 0: the plain path's sums, in another
    order."""
    return _pick({MAXOUT: lambda code, Z, A, X, n, j, dz, gW1, gb1:
                  _route_pieces(Z, A, X, n, j, dz, gW1, gb1),
                  None: lambda code, Z, A, X, n, j, dz, gW1, gb1: False}, code)


@njit(cache=CACHE, error_model="numpy", fastmath=_FMA)
def _load_block(src, i0, n, dst):
    """dst[:, :n] = src[:, i0:i0+n]. The kernels then index blocks with loop counters only: an
    index like ``i0 + i`` makes Numba emit a negative-index check that stops LLVM from proving
    unit stride (it falls back to gathers, ~4× slower); indexing a view with the loop counter
    has no such check."""
    for r in range(src.shape[0]):
        row = src[r, i0:i0 + n]  # a view; an element loop has no shape check to compile
        for i in range(n):
            dst[r, i] = row[i]


@njit(cache=CACHE, error_model="numpy", fastmath=_FMA)
def _store_block(src, n, dst, i0):
    """dst[:, i0:i0+n] = src[:, :n], the inverse of :func:`_load_block` (same reason)."""
    for r in range(src.shape[0]):
        row = dst[r, i0:i0 + n]
        for i in range(n):
            row[i] = src[r, i]


# --- drivers: a range of examples, serial or one range per thread ---------------------------

@njit(cache=CACHE, inline="always", error_model="numpy", fastmath=_FMA)
def _scratch(W1, W2, X, B, wide):
    """The per-block work arrays of a fused step: X and Y blocks, Z1, A1, Z2 (then dZ2), L, dZ1
    (one row reused per unit; every unit's row when ``wide`` is not None)."""
    kp, n_h, n_x = W1.shape
    n_y = W2.shape[0]
    return (np.empty((n_x, B), X.dtype), np.empty((n_y, B), X.dtype),
            np.empty((kp, n_h, B), X.dtype), np.empty((n_h, B), X.dtype),
            np.empty((n_y, B), X.dtype), np.empty((n_y, B), X.dtype),
            np.empty((1 if wide is None else n_h, B), X.dtype))


@njit(cache=CACHE, inline="always", error_model="numpy", fastmath=_FMA)
def _cag_range(W1, b1, W2, b2, X, Y, start, stop, code, out, B, wide, gW1, gb1, gW2, gb2,
               work):
    """Fused cost and gradient sums over examples start:stop, in blocks of B, with the work
    arrays of :func:`_scratch`. Returns Σ L.

    ``wide`` None: the products inside the per-unit passes (few features). Otherwise (an
    element-wise g with many features) the products W1 X and dZ1 Xᵀ run register-blocked over
    the whole block (:func:`_wx_block`, :func:`_dzx_block`) and the per-unit passes do the
    element-wise rest, as if X had no rows. ``wide`` is None or not at typing time, so a
    specialisation compiles one of the two.

    When one block is all of X (m ≤ B: the flower), the kernels read X and Y themselves: they
    index them with loop counters only, so the copy is not needed (it cost ~0.35 µs of a ~4 µs
    flower step)."""
    Xb, Yb, Z, A, Z2, L, D = work
    whole = start == 0 and stop == X.shape[1] and stop <= B
    Xn = Xb[:0]  # no features: the per-unit passes of a wide step add b1 to Z = W1 X
    J = 0.0
    for i0 in range(start, stop, B):
        n = min(B, stop - i0)
        if whole:
            Xb, Yb = X, Y
        else:
            _load_block(X, i0, n, Xb)
            _load_block(Y, i0, n, Yb)
        if wide is None:
            _forward_block(W1, b1, W2, b2, Xb, n, Z, A, Z2, code, np.False_)
        else:
            _wx_block(W1[0], b1[0], Xb, n, Z[0])
            _forward_block(W1, b1, W2, b2, Xn, n, Z, A, Z2, code, np.True_)
        _dZ2_and_loss(Z2, Yb, n, L, out)
        J += _sum_block(L, n)
        if wide is None:
            _backward_block(W2, Xb, n, Z, A, Z2, code, D, gW1, gb1, gW2, gb2)
        else:
            _backward_block(W2, Xn, n, Z, A, Z2, code, D, gW1, gb1, gW2, gb2)
            _dzx_block(D, Xb, n, gW1[0])
    return J


@njit(cache=CACHE, inline="always", error_model="numpy", fastmath=_FMA)
def _cag_chunk(W1, b1, W2, b2, X, Y, start, stop, code, out, B, wide, gW1, gb1, gW2, gb2):
    """:func:`_cag_range` with its own work arrays (one chunk of a parallel step, or a call)."""
    return _cag_range(W1, b1, W2, b2, X, Y, start, stop, code, out, B, wide, gW1, gb1, gW2,
                      gb2, _scratch(W1, W2, X, B, wide))


@njit(cache=CACHE, inline="always", error_model="numpy", fastmath=_FMA)
def _cag_serial(W1, b1, W2, b2, X, Y, code, out, B, wide, dW1, db1, dW2, db2):
    """One step on one thread, from the parameters to the gradients.

    W1 (k, n_h, n_x), b1 (k, n_h), W2 (n_y, n_h), b2 (n_y,) as ``numba_fused._kernel_params``
    shapes them (a reshape here, inside the compiled call, made the step 1.7× slower at
    n_h = 4, m = 1e6); dW1 … db2 arrays of the parameters' own shapes and dtype, which receive
    the gradients: Σ / m rounded once from the float64 sums (as ``numba_fused._grads`` rounds
    the parallel step's). Returns the mean cost J (float64). The accumulators are made here, so
    a small step costs one call from Python.
    """
    kp, n_h, n_x = W1.shape
    n_y = W2.shape[0]
    gW1 = np.zeros((kp, n_h, n_x))
    gb1 = np.zeros((kp, n_h))
    gW2 = np.zeros((n_y, n_h))
    gb2 = np.zeros(n_y)
    m = X.shape[1]
    J = _cag_chunk(W1, b1, W2, b2, X, Y, 0, m, code, out, B, wide, gW1, gb1, gW2, gb2)
    for d, g in ((dW1.reshape(-1), gW1.reshape(-1)), (db1.reshape(-1), gb1.reshape(-1)),
                 (dW2.reshape(-1), gW2.reshape(-1)), (db2.reshape(-1), gb2.reshape(-1))):
        for i in range(d.size):
            d[i] = g[i] / m
    return J / m


@njit(cache=CACHE, error_model="numpy", fastmath=_FMA)
def _blas_block(W1, b1, W2, b2, Z, Yb, n, code, out, A, Z2, L, D, gW1, gb1, gW2, gb2):
    """The element-wise rest of a step whose products run in BLAS (``numba_fused._blas_path``):
    Z[0] = W1 X is given. Adds b1, applies g, forms the output, the loss and dZ1 (into D, for
    dW1 = dZ1 Xᵀ in BLAS). Returns Σ L. For an element-wise g."""
    for j in range(Z.shape[1]):  # Z1 = W1 X + b1, as a wide step's _wx_block leaves it
        b = b1[0, j]
        for i in range(n):
            Z[0, j, i] += b
    Xn = np.empty((0, n), Z.dtype)  # no features here: the products are done
    _forward_block(W1, b1, W2, b2, Xn, n, Z, A, Z2, code, np.True_)
    _dZ2_and_loss(Z2, Yb, n, L, out)
    J = _sum_block(L, n)
    _backward_block(W2, Xn, n, Z, A, Z2, code, D, gW1, gb1, gW2, gb2)
    return J


@njit(cache=CACHE, error_model="numpy", fastmath=_FMA, parallel=True)
def _cag_parallel(W1, b1, W2, b2, X, Y, code, out, B, wide, nchunks, gW1, gb1, gW2, gb2, J):
    """Split the m examples into nchunks ranges; chunk c adds into row c of each accumulator."""
    m = X.shape[1]
    per = (m + nchunks - 1) // nchunks
    for c in prange(nchunks):
        start = c * per
        stop = min(m, start + per)
        if start < stop:
            J[c] = _cag_chunk(W1, b1, W2, b2, X, Y, start, stop, code, out, B, wide,
                              gW1[c], gb1[c], gW2[c], gb2[c])


@njit(cache=CACHE, inline="always", error_model="numpy", fastmath=_FMA)
def _forward_range(W1, b1, W2, b2, X, Z1, A1, Z2, A2, code, out, B, start, stop):
    """The forward pass for examples start:stop into the full (…, m) arrays Z1, A1, Z2, A2."""
    kp, n_h, n_x = W1.shape
    n_y = W2.shape[0]
    Xb = np.empty((n_x, B), X.dtype)
    Z = np.empty((kp, n_h, B), X.dtype)
    A = np.empty((n_h, B), X.dtype)
    Zo = np.empty((n_y, B), X.dtype)
    for i0 in range(start, stop, B):
        n = min(B, stop - i0)
        _load_block(X, i0, n, Xb)
        _forward_block(W1, b1, W2, b2, Xb, n, Z, A, Zo, code, np.True_)
        for o in range(n_y):
            for i in range(n):
                A2[o, i0 + i] = _g(out, Zo[o, i])
        for p in range(kp):
            _store_block(Z[p], n, Z1[p], i0)
        _store_block(A, n, A1, i0)
        _store_block(Zo, n, Z2, i0)


@njit(cache=CACHE, error_model="numpy", fastmath=_FMA, parallel=True)
def _forward_parallel(W1, b1, W2, b2, X, Z1, A1, Z2, A2, code, out, B, nchunks):
    m = X.shape[1]
    per = (m + nchunks - 1) // nchunks
    for c in prange(nchunks):
        _forward_range(W1, b1, W2, b2, X, Z1, A1, Z2, A2, code, out, B, c * per,
                       min(m, (c + 1) * per))


@njit(cache=CACHE, inline="always", error_model="numpy", fastmath=_FMA)
def _backward_range(W2, X, Y, Z1, A1, A2, code, B, start, stop, gW1, gb1, gW2, gb2):
    """The backward pass for examples start:stop from the forward cache, into accumulators."""
    kp, n_h, _ = Z1.shape
    n_x = X.shape[0]
    n_y = W2.shape[0]
    Xb = np.empty((n_x, B), X.dtype)
    Z = np.empty((kp, n_h, B), X.dtype)
    A = np.empty((n_h, B), X.dtype)
    dZ2 = np.empty((n_y, B), X.dtype)
    D = np.empty((1, B), X.dtype)
    for i0 in range(start, stop, B):
        n = min(B, stop - i0)
        _load_block(X, i0, n, Xb)
        for p in range(kp):
            _load_block(Z1[p], i0, n, Z[p])
        _load_block(A1, i0, n, A)
        _load_block(A2, i0, n, dZ2)
        for o in range(n_y):
            row = Y[o, i0:i0 + n]
            for i in range(n):
                dZ2[o, i] -= row[i]
        _backward_block(W2, Xb, n, Z, A, dZ2, code, D, gW1, gb1, gW2, gb2)


@njit(cache=CACHE, error_model="numpy", fastmath=_FMA, parallel=True)
def _backward_parallel(W2, X, Y, Z1, A1, A2, code, B, nchunks, gW1, gb1, gW2, gb2):
    """Chunk c of the examples adds into accumulator row c."""
    m = X.shape[1]
    per = (m + nchunks - 1) // nchunks
    for c in prange(nchunks):
        _backward_range(W2, X, Y, Z1, A1, A2, code, B, c * per, min(m, (c + 1) * per),
                        gW1[c], gb1[c], gW2[c], gb2[c])


# --- wide inputs: the products register-blocked, 4 hidden units × 4 features per pass ------

@njit(cache=CACHE, error_model="numpy", fastmath=_FMA)
def _wx_block(W, b, X, n, Z):
    """Z[:, :n] = W X[:, :n] + b: Z1 of one block, W (n_h, n_x), b (n_h,), Z (n_h, B).

    Four units share each pass over four feature rows: per example, 4 loads of X and 4
    read-modify-writes of Z feed 16 multiply-adds (one unit and one feature per pass would be one
    load, one store and one multiply-add, bound by the stores). Units and features beyond a
    multiple of four take the same passes with fewer rows."""
    n_h, n_x = W.shape
    w = np.empty((4, 4), Z.dtype)
    for j0 in range(0, n_h, 4):
        u = min(4, n_h - j0)
        Z0, Z1, Z2, Z3 = Z[j0], Z[j0 + min(1, u - 1)], Z[j0 + min(2, u - 1)], Z[j0 + u - 1]
        b0, b1, b2, b3 = b[j0], b[j0 + min(1, u - 1)], b[j0 + min(2, u - 1)], b[j0 + u - 1]
        for i in range(n):
            Z0[i] = b0
            Z1[i] = b1
            Z2[i] = b2
            Z3[i] = b3
        for f0 in range(0, n_x, 4):
            c = min(4, n_x - f0)
            X0, X1, X2, X3 = X[f0], X[f0 + min(1, c - 1)], X[f0 + min(2, c - 1)], X[f0 + c - 1]
            w[:] = 0.0  # zero weights pad the missing units and features
            for a in range(u):
                for q in range(c):
                    w[a, q] = W[j0 + a, f0 + q]
            w00, w01, w02, w03 = w[0, 0], w[0, 1], w[0, 2], w[0, 3]
            w10, w11, w12, w13 = w[1, 0], w[1, 1], w[1, 2], w[1, 3]
            w20, w21, w22, w23 = w[2, 0], w[2, 1], w[2, 2], w[2, 3]
            w30, w31, w32, w33 = w[3, 0], w[3, 1], w[3, 2], w[3, 3]
            for i in range(n):
                x0, x1, x2, x3 = X0[i], X1[i], X2[i], X3[i]
                # left to right: four multiply-adds into Z, no separate product sum to add
                Z0[i] = Z0[i] + w00 * x0 + w01 * x1 + w02 * x2 + w03 * x3
                Z1[i] = Z1[i] + w10 * x0 + w11 * x1 + w12 * x2 + w13 * x3
                Z2[i] = Z2[i] + w20 * x0 + w21 * x1 + w22 * x2 + w23 * x3
                Z3[i] = Z3[i] + w30 * x0 + w31 * x1 + w32 * x2 + w33 * x3


@njit(cache=CACHE, error_model="numpy", fastmath=_REDUCE)
def _dzx_block(D, X, n, gW):
    """gW[j, f] += Σ_i D[j, i] X[f, i] over the block's n examples: dW1's sums, dZ1 Xᵀ.

    D (n_h, B) holds dZ1, X (n_x, B) the block. Sixteen sums (four units × four features) per
    pass, so each example's 8 loads feed 16 multiply-adds; each sum in the working precision
    within the block, added into the float64 gW (see "Sums" above)."""
    n_h, n_x = D.shape[0], X.shape[0]
    for j0 in range(0, n_h, 4):
        u = min(4, n_h - j0)
        D0, D1, D2, D3 = D[j0], D[j0 + min(1, u - 1)], D[j0 + min(2, u - 1)], D[j0 + u - 1]
        for f0 in range(0, n_x, 4):
            c = min(4, n_x - f0)
            X0, X1, X2, X3 = X[f0], X[f0 + min(1, c - 1)], X[f0 + min(2, c - 1)], X[f0 + c - 1]
            s00 = s01 = s02 = s03 = like(D, 0.0)
            s10 = s11 = s12 = s13 = like(D, 0.0)
            s20 = s21 = s22 = s23 = like(D, 0.0)
            s30 = s31 = s32 = s33 = like(D, 0.0)
            for i in range(n):
                d0, d1, d2, d3 = D0[i], D1[i], D2[i], D3[i]
                x0, x1, x2, x3 = X0[i], X1[i], X2[i], X3[i]
                s00 += d0 * x0
                s01 += d0 * x1
                s02 += d0 * x2
                s03 += d0 * x3
                s10 += d1 * x0
                s11 += d1 * x1
                s12 += d1 * x2
                s13 += d1 * x3
                s20 += d2 * x0
                s21 += d2 * x1
                s22 += d2 * x2
                s23 += d2 * x3
                s30 += d3 * x0
                s31 += d3 * x1
                s32 += d3 * x2
                s33 += d3 * x3
            s = ((s00, s01, s02, s03), (s10, s11, s12, s13), (s20, s21, s22, s23),
                 (s30, s31, s32, s33))
            for a in range(u):  # the duplicated rows of a ragged tile are not added
                for b in range(c):
                    gW[j0 + a, f0 + b] += s[a][b]
