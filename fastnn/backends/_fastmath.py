"""exp, expm1, tanh, sigmoid and log1p for the Numba kernels, written so LLVM can vectorise them.

pip's llvmlite has no SVML, so ``math.exp``/``math.tanh`` inside ``@njit`` become scalar libm calls
that block vectorisation (scalar ``math.tanh`` over 16 M values is several times slower than
``np.tanh``). These versions are straight-line arithmetic (no calls, no branches the vectoriser
cannot turn into selects), so a loop over examples runs 8 doubles per AVX-512 instruction.

Methods and error bounds (float64, normal range; measured against NumPy over the whole input
range, ±inf and NaN in ``tests/test_fastmath.py``, which holds each to 1e-15 relative, ~4.5 ulp;
seen: ≤ 2.3e-16 for exp, ≤ 4e-16 for tanh, ≤ 7e-16 for softplus):

- ``exp_(x)``: Cody–Waite reduction x = k·ln2 + r, |r| ≤ ln2/2, k rounded by the 1.5·2^52
  trick, ln2 split in two parts; a degree-13 Taylor polynomial for e^r (truncation < 5e-18,
  Estrin's scheme); 2^k built from its IEEE bits, as two factors so subnormal results are right.
  x > 709.78 gives inf, x < −745.2 gives 0, NaN gives NaN.
- ``expm1_neg(u)`` for −40 ≤ u ≤ 0: the same reduction, with e^r − 1 from the polynomial
  without its constant term, so small |u| keeps full relative accuracy.
- ``tanh_(x) = ∓q / (2 + q)``, q = expm1(−2|x|), with the sign of x: no cancellation near 0;
  |x| > 20 gives ±1 exactly, as libm does; tanh(±0) = ±0.
- ``sigmoid_(z) = 1 / (1 + e)`` or ``e / (1 + e)`` with e = exp(−|z|): accurate for any z.
- ``log1p_small(e)`` for e in [0, 1]: 2·atanh(e / (2 + e)), an odd series in s ≤ 1/3 to degree 35
  (truncation < 1e-17). Used for the cross-entropy's softplus.
- ``logistic_loss(z, y)``: softplus(z) − y·z and σ(z) − y from one shared exp.

All are far inside the 1e-7 tolerance the backends are held to. The kernels are compiled with
FMA contraction only (``_FMA``): it is exact-product, single-rounding, and halves the polynomial
instruction count; reassociation is never allowed here (it would undo Cody–Waite).
"""

import math

import numpy as np
from numba import njit

#: Let LLVM fuse a·b + c into one FMA (an exact product, one rounding); nothing else is relaxed.
_FMA = {"contract"}
_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_EXP_MAX = 709.782712893384
_EXP_MIN = -746.0
#: 1.5 · 2^52: adding and subtracting it rounds a double of magnitude < 2^51 to the nearest integer
#: (ties to even) in two additions, cheaper than floor (the subtraction must not be reassociated:
#: these kernels are compiled without fast-math).
_ROUND = 6755399441055744.0


@njit(cache=True, inline="always", error_model="numpy", fastmath=_FMA)
def _pow2(k):
    """2.0**k for integer k in [-1022, 1023], from its IEEE-754 bits."""
    return np.int64((k + 1023) << 52).view(np.float64)


@njit(cache=True, inline="always", error_model="numpy", fastmath=_FMA)
def _expm1_poly(r):
    """e^r − 1 for |r| ≤ ln2/2: Taylor to degree 13, by Estrin's scheme.

    Estrin's tree has depth 5 instead of Horner's 13 dependent FMAs, so several vectors are in
    flight at once: the loop is bound by throughput, not by FMA latency.
    """
    r2 = r * r
    r4 = r2 * r2
    # coefficients 1/n! for n = 2 … 13, paired as (c_n + c_{n+1} r)
    p23 = 0.5 + r * (1.0 / 6.0)
    p45 = 1.0 / 24.0 + r * (1.0 / 120.0)
    p67 = 1.0 / 720.0 + r * (1.0 / 5040.0)
    p89 = 1.0 / 40320.0 + r * (1.0 / 362880.0)
    p1011 = 1.0 / 3628800.0 + r * (1.0 / 39916800.0)
    p1213 = 1.0 / 479001600.0 + r * (1.0 / 6227020800.0)
    q2 = p23 + r2 * p45
    q6 = p67 + r2 * p89
    q10 = p1011 + r2 * p1213
    t = q2 + r4 * (q6 + r4 * q10)
    return r + r2 * t


@njit(cache=True, inline="always", error_model="numpy", fastmath=_FMA)
def exp_(x):
    """e^x for any float64 x (see the module notes)."""
    x = min(x, _EXP_MAX + 1.0) if x == x else x  # keep NaN; clamp keeps 2^k in range
    x = max(x, _EXP_MIN) if x == x else x
    k = (x * _LOG2E + _ROUND) - _ROUND
    r = (x - k * _LN2_HI) - k * _LN2_LO
    ki = np.int64(k) if x == x else np.int64(0)
    h = ki >> 1
    return (_expm1_poly(r) + 1.0) * _pow2(h) * _pow2(ki - h)


@njit(cache=True, inline="always", error_model="numpy", fastmath=_FMA)
def expm1_neg(u):
    """e^u − 1 for −40 ≤ u ≤ 0 (the caller clamps), accurate for small |u|."""
    k = (u * _LOG2E + _ROUND) - _ROUND
    r = (u - k * _LN2_HI) - k * _LN2_LO
    ki = np.int64(k) if u == u else np.int64(0)
    s = _pow2(ki)
    return s * _expm1_poly(r) + (s - 1.0)


@njit(cache=True, inline="always", error_model="numpy", fastmath=_FMA)
def tanh_(x):
    """tanh x = −q / (2 + q), q = e^(−2|x|) − 1, with the sign of x."""
    ax = abs(x)
    ax = 20.0 if ax > 20.0 else ax  # tanh(20) rounds to 1; NaN passes through
    q = expm1_neg(-2.0 * ax)
    return math.copysign(abs(q) / (2.0 + q), x)


@njit(cache=True, inline="always", error_model="numpy", fastmath=_FMA)
def sigmoid_(z):
    """σ(z) = 1 / (1 + e^(−z)), relative-accurate for any z."""
    e = exp_(-abs(z))
    s = 1.0 / (1.0 + e)
    return e * s if z < 0 else s


@njit(cache=True, inline="always", error_model="numpy", fastmath=_FMA)
def log1p_small(e):
    """log(1 + e) for 0 ≤ e ≤ 1, as 2·atanh(s), s = e / (2 + e) ≤ 1/3.

    atanh(s)/s = Σ_{n=0}^{17} s^(2n) / (2n + 1) (truncation < 1e-17), evaluated by Estrin's
    scheme in t = s² (depth 5, not 17 dependent FMAs).
    """
    s = e / (2.0 + e)
    t = s * s
    t2 = t * t
    t4 = t2 * t2
    t8 = t4 * t4
    t16 = t8 * t8
    c = 1.0
    p0 = (c + t * (c / 3)) + t2 * (c / 5 + t * (c / 7))
    p1 = (c / 9 + t * (c / 11)) + t2 * (c / 13 + t * (c / 15))
    p2 = (c / 17 + t * (c / 19)) + t2 * (c / 21 + t * (c / 23))
    p3 = (c / 25 + t * (c / 27)) + t2 * (c / 29 + t * (c / 31))
    p4 = c / 33 + t * (c / 35)
    p = (p0 + t4 * p1) + t8 * (p2 + t4 * p3) + t16 * p4
    return 2.0 * s * p


@njit(cache=True, inline="always", error_model="numpy", fastmath=_FMA)
def softplus_(z):
    """log(1 + e^z) = max(z, 0) + log1p(e^(−|z|)), finite for any finite z."""
    return max(z, 0.0) + log1p_small(exp_(-abs(z)))


@njit(cache=True, inline="always", error_model="numpy", fastmath=_FMA)
def logistic_loss(z, y):
    """(softplus(z) − y z, σ(z) − y): the cross-entropy from the logit and dZ2, sharing one
    e = exp(−|z|)."""
    e = exp_(-abs(z))
    s = 1.0 / (1.0 + e)
    a = e * s if z < 0 else s
    return max(z, 0.0) + log1p_small(e) - y * z, a - y
