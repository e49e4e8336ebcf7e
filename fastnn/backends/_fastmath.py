"""exp, expm1, tanh, sigmoid and log1p for the Numba kernels, written so LLVM can vectorise them.

pip's llvmlite has no SVML, so ``math.exp``/``math.tanh`` inside ``@njit`` become scalar libm calls
that block vectorisation (scalar ``math.tanh`` over 16 M values is several times slower than
``np.tanh``). These versions are straight-line arithmetic (no calls, no branches the vectoriser
cannot turn into selects), so a loop over examples runs 8 doubles per AVX-512 instruction.

Methods and error bounds (float64, normal range; measured against NumPy over the whole input
range, ±inf and NaN in ``tests/test_fastmath.py``, which holds each to 1e-15 relative, ~4.5 ulp;
seen: ≤ 2.3e-16 for exp, ≤ 4e-16 for tanh, ≤ 7e-16 for softplus):

- ``exp(x)``: Cody–Waite reduction x = k·ln2 + r, |r| ≤ ln2/2, k rounded by the 1.5·2^52
  trick, ln2 split in two parts; a degree-13 Taylor polynomial for e^r (truncation < 5e-18,
  Estrin's scheme); 2^k built from its IEEE bits, as two factors so subnormal results are right.
  x > 709.78 gives inf, x < −745.2 gives 0, NaN gives NaN.
- ``expm1_neg(u)`` for −40 ≤ u ≤ 0: the same reduction, with e^r − 1 from the polynomial
  without its constant term, so small |u| keeps full relative accuracy.
- ``tanh(x) = ∓q / (2 + q)``, q = expm1(−2|x|), with the sign of x: no cancellation near 0;
  |x| > 20 gives ±1 exactly, as libm does; tanh(±0) = ±0.
- ``sigmoid(z) = 1 / (1 + e)`` or ``e / (1 + e)`` with e = exp(−|z|): accurate for any z.
- ``log1p_small(e)`` for e in [0, 1]: 2·atanh(s), s = e / (2 + e) ≤ 1/3, as s · p(s²) with p a
  near-minimax polynomial of degree 10 (error 1.3e-18). Used for the cross-entropy's softplus.
- ``logistic_loss(z, y)``: softplus(z) − y·z and σ(z) − y from one shared exp.

float32 (16 lanes): the same methods in float32 arithmetic with float32 constants, each cut to
float32's precision: Taylor degree 7 for e^r − 1 (truncation < 1.5e-8 relative), the atanh series
to degree 15 in s (< 1.4e-8), 1.5·2^23 for the rounding, ln2 split into 16 + 24 bits, tanh
saturating from |x| = 10. ``tests/test_fastmath.py`` holds them to 4 float32 ulp (~4.8e-7
relative) over the float32 range against float64 NumPy. A float32 kernel that called the float64
versions would convert every element twice and run 8 lanes wide.

Each function is one name in the kernels (``exp_``, ``tanh_``, …): an ``overload`` picks the
float32 version for float32 arguments and the float64 one otherwise, at compile time. ``like(x,
v)`` gives a constant in x's type (a bare ``1.0`` is float64 in Numba and would promote a float32
expression).

All are far inside the 1e-7 tolerance the backends are held to. The kernels are compiled with
FMA contraction only (``_FMA``): it is exact-product, single-rounding, and halves the polynomial
instruction count; reassociation is never allowed here (it would undo Cody–Waite).
"""

import math

import numpy as np
from numba import njit, types
from numba.extending import overload

from .._jitcache import CACHE

# --- float64 ---------------------------------------------------------------------------------

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


@njit(cache=CACHE, inline="always", error_model="numpy", fastmath=_FMA)
def _pow2_64(k):
    """2.0**k for integer k in [-1022, 1023], from its IEEE-754 bits."""
    return np.int64((k + 1023) << 52).view(np.float64)


@njit(cache=CACHE, inline="always", error_model="numpy", fastmath=_FMA)
def _expm1_poly_64(r):
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


@njit(cache=CACHE, error_model="numpy", fastmath=_FMA)
def exp_64(x):
    """e^x for any float64 x (see the module notes)."""
    x = min(x, _EXP_MAX + 1.0) if x == x else x  # keep NaN; clamp keeps 2^k in range
    x = max(x, _EXP_MIN) if x == x else x
    k = (x * _LOG2E + _ROUND) - _ROUND
    r = (x - k * _LN2_HI) - k * _LN2_LO
    ki = np.int64(k) if x == x else np.int64(0)
    h = ki >> 1
    return (_expm1_poly_64(r) + 1.0) * _pow2_64(h) * _pow2_64(ki - h)


@njit(cache=CACHE, error_model="numpy", fastmath=_FMA)
def expm1_neg_64(u):
    """e^u − 1 for −40 ≤ u ≤ 0 (the caller clamps), accurate for small |u|."""
    k = (u * _LOG2E + _ROUND) - _ROUND
    r = (u - k * _LN2_HI) - k * _LN2_LO
    ki = np.int64(k) if u == u else np.int64(0)
    s = _pow2_64(ki)
    return s * _expm1_poly_64(r) + (s - 1.0)


@njit(cache=CACHE, error_model="numpy", fastmath=_FMA)
def tanh_64(x):
    """tanh x = −q / (2 + q), q = e^(−2|x|) − 1, with the sign of x."""
    ax = abs(x)
    ax = 20.0 if ax > 20.0 else ax  # tanh(20) rounds to 1; NaN passes through
    q = expm1_neg_64(-2.0 * ax)
    return math.copysign(abs(q) / (2.0 + q), x)


@njit(cache=CACHE, error_model="numpy", fastmath=_FMA)
def sigmoid_64(z):
    """σ(z) = 1 / (1 + e^(−z)), relative-accurate for any z."""
    e = exp_64(-abs(z))
    s = 1.0 / (1.0 + e)
    return e * s if z < 0 else s


#: atanh(s)/s = p(s²) for s² ∈ [0, 1/9]: a near-minimax (Chebyshev) fit of degree 10, error
#: 1.3e-18 (``mpmath.chebyfit(lambda t: atanh(√t)/√t, [0, 1/9], 11)``); the Taylor series needs
#: degree 17 for the same accuracy (the loss is ~25 % of a flower step).
_ATANH_64 = (1.0, 0.33333333333333076, 0.20000000000092874, 0.14285714272727057,
             0.11111112040373837, 0.09090870416252403, 0.07693307021152004, 0.06650187016337313,
             0.06055084364034609, 0.0416225325593041, 0.08522081781390699)


@njit(cache=CACHE, error_model="numpy", fastmath=_FMA)
def log1p_small_64(e):
    """log(1 + e) for 0 ≤ e ≤ 1, as 2·atanh(s), s = e / (2 + e) ≤ 1/3: s · p(s²), p of degree
    10 in t = s² by Estrin's scheme (depth 4)."""
    c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10 = _ATANH_64
    s = e / (2.0 + e)
    t = s * s
    t2 = t * t
    t4 = t2 * t2
    t8 = t4 * t4
    p = (((c0 + t * c1) + t2 * (c2 + t * c3)) + t4 * ((c4 + t * c5) + t2 * (c6 + t * c7))
         + t8 * ((c8 + t * c9) + t2 * c10))
    return 2.0 * s * p


@njit(cache=CACHE, error_model="numpy", fastmath=_FMA)
def softplus_64(z):
    """log(1 + e^z) = max(z, 0) + log1p(e^(−|z|)), finite for any finite z."""
    return max(z, 0.0) + log1p_small_64(exp_64(-abs(z)))


@njit(cache=CACHE, error_model="numpy", fastmath=_FMA)
def logistic_loss_64(z, y):
    """(softplus(z) − y z, σ(z) − y): the cross-entropy from the logit and dZ2, sharing one
    e = exp(−|z|)."""
    e = exp_64(-abs(z))
    s = 1.0 / (1.0 + e)
    a = e * s if z < 0 else s
    return max(z, 0.0) + log1p_small_64(e) - y * z, a - y


# --- float32: the same methods, cut to float32's precision, every constant a float32 ----------

_F = np.float32
_LOG2E_32 = _F(1.4426950408889634)
_LN2_HI_32 = _F(0.693145751953125)  # 16 significant bits: k · hi is exact for |k| < 2^8
_LN2_LO_32 = _F(0.6931471805599453 - 0.693145751953125)
_EXP_MAX_32 = _F(89.0)  # e^89 > float32 max: the clamp keeps 2^k in range and gives inf
_EXP_MIN_32 = _F(-104.0)  # e^-104 < half the smallest subnormal: gives 0
_ROUND_32 = _F(1.5 * 2**23)
_C32 = tuple(_F(1.0 / math.factorial(n)) for n in range(2, 8))  # 1/2! … 1/7!
_A32 = tuple(_F(1.0 / (2 * n + 1)) for n in range(8))  # 1, 1/3, … 1/15
_0, _1, _2, _M2, _TANH_SAT_32 = _F(0.0), _F(1.0), _F(2.0), _F(-2.0), _F(10.0)


@njit(cache=CACHE, inline="always", error_model="numpy", fastmath=_FMA)
def _pow2_32(k):
    """2.0**k in float32 for integer k in [-126, 127], from its IEEE-754 bits."""
    return np.int32((k + np.int32(127)) << np.int32(23)).view(np.float32)


@njit(cache=CACHE, inline="always", error_model="numpy", fastmath=_FMA)
def _expm1_poly_32(r):
    """e^r − 1 for |r| ≤ ln2/2 in float32: Taylor to degree 7 (truncation < 1.5e-8 relative),
    by Estrin's scheme."""
    c2, c3, c4, c5, c6, c7 = _C32
    r2 = r * r
    t = (c2 + r * c3) + r2 * ((c4 + r * c5) + r2 * (c6 + r * c7))
    return r + r2 * t


@njit(cache=CACHE, inline="always", error_model="numpy", fastmath=_FMA)
def _reduce_32(x):
    """(r, k) with x = k ln2 + r, |r| ≤ ln2/2, k an int32 (0 for NaN)."""
    k = (x * _LOG2E_32 + _ROUND_32) - _ROUND_32
    r = (x - k * _LN2_HI_32) - k * _LN2_LO_32
    ki = np.int32(k) if x == x else np.int32(0)
    return r, ki


@njit(cache=CACHE, error_model="numpy", fastmath=_FMA)
def exp_32(x):
    """e^x for any float32 x."""
    x = min(x, _EXP_MAX_32) if x == x else x
    x = max(x, _EXP_MIN_32) if x == x else x
    r, ki = _reduce_32(x)
    h = ki >> np.int32(1)
    return (_expm1_poly_32(r) + _1) * _pow2_32(h) * _pow2_32(ki - h)


@njit(cache=CACHE, error_model="numpy", fastmath=_FMA)
def expm1_neg_32(u):
    """e^u − 1 for −40 ≤ u ≤ 0 in float32 (the caller clamps), accurate for small |u|."""
    r, ki = _reduce_32(u)
    s = _pow2_32(ki)
    return s * _expm1_poly_32(r) + (s - _1)


@njit(cache=CACHE, error_model="numpy", fastmath=_FMA)
def tanh_32(x):
    """tanh x = −q / (2 + q), q = e^(−2|x|) − 1, with the sign of x; ±1 from |x| = 10."""
    ax = abs(x)
    ax = _TANH_SAT_32 if ax > _TANH_SAT_32 else ax
    q = expm1_neg_32(_M2 * ax)
    return math.copysign(abs(q) / (_2 + q), x)


@njit(cache=CACHE, error_model="numpy", fastmath=_FMA)
def sigmoid_32(z):
    """σ(z) in float32, relative-accurate for any z."""
    e = exp_32(-abs(z))
    s = _1 / (_1 + e)
    return e * s if z < _0 else s


@njit(cache=CACHE, error_model="numpy", fastmath=_FMA)
def log1p_small_32(e):
    """log(1 + e) for 0 ≤ e ≤ 1 in float32: 2·atanh(s), s = e / (2 + e), the series to s^15."""
    a0, a1, a2, a3, a4, a5, a6, a7 = _A32
    s = e / (_2 + e)
    t = s * s
    t2 = t * t
    t4 = t2 * t2
    p = ((a0 + t * a1) + t2 * (a2 + t * a3)) + t4 * ((a4 + t * a5) + t2 * (a6 + t * a7))
    return _2 * s * p


@njit(cache=CACHE, error_model="numpy", fastmath=_FMA)
def softplus_32(z):
    """log(1 + e^z) in float32."""
    return max(z, _0) + log1p_small_32(exp_32(-abs(z)))


@njit(cache=CACHE, error_model="numpy", fastmath=_FMA)
def logistic_loss_32(z, y):
    """(softplus(z) − y z, σ(z) − y) in float32, sharing one e = exp(−|z|)."""
    e = exp_32(-abs(z))
    s = _1 / (_1 + e)
    a = e * s if z < _0 else s
    return max(z, _0) + log1p_small_32(e) - y * z, a - y


# --- one name per function: float32 arguments get the float32 version, at compile time --------

_OPTS = {"error_model": "numpy", "fastmath": _FMA}


def _is32(t):
    return (t.dtype if isinstance(t, types.Array) else t) == types.float32


def _compiled_only(name):
    def stub(*args):
        raise TypeError(f"{name} is for use inside @njit code only")
    stub.__name__ = stub.__qualname__ = name
    return stub


def _unary(name, f64, f32):
    stub = _compiled_only(name)

    @overload(stub, inline="always", jit_options=_OPTS)
    def _pick(x):
        f = f32 if _is32(x) else f64
        return lambda x: f(x)
    return stub


def _binary(name, f64, f32):
    stub = _compiled_only(name)

    @overload(stub, inline="always", jit_options=_OPTS)
    def _pick(x, y):
        f = f32 if _is32(x) else f64
        return lambda x, y: f(x, y)
    return stub


exp_ = _unary("exp_", exp_64, exp_32)
expm1_neg = _unary("expm1_neg", expm1_neg_64, expm1_neg_32)
tanh_ = _unary("tanh_", tanh_64, tanh_32)
sigmoid_ = _unary("sigmoid_", sigmoid_64, sigmoid_32)
log1p_small = _unary("log1p_small", log1p_small_64, log1p_small_32)
softplus_ = _unary("softplus_", softplus_64, softplus_32)
logistic_loss = _binary("logistic_loss", logistic_loss_64, logistic_loss_32)

like = _compiled_only("like")


@overload(like, inline="always")
def _like(x, v):
    """like(x, v): the constant v in x's float type (x a float or an array of floats)."""
    if _is32(x):
        return lambda x, v: np.float32(v)
    return lambda x, v: np.float64(v)
