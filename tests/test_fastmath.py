"""The Numba kernels' own exp/tanh/sigmoid/softplus over their whole input range."""

import numpy as np
import pytest
from numba import njit

from fastnn.backends import _fastmath as F

SPECIAL = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 5e-324, -5e-324, 1e-300, -1e-300,
                    709.78, 709.79, 710.0, -745.0, -745.2, -746.0, -800.0, 19.9, 20.0, 20.1,
                    -19.9, -20.1, 36.0, -36.0, 1e300, -1e300])
GRID = np.concatenate([np.linspace(-800, 800, 400_001), np.geomspace(1e-300, 800, 200_001),
                       -np.geomspace(1e-300, 800, 200_001), SPECIAL])


def _vec(f):
    @njit(error_model="numpy", fastmath=F._FMA)
    def apply(x):
        out = np.empty_like(x)
        for i in range(x.size):
            out[i] = f(x[i])
        return out
    return apply


def _softplus_ref(x):
    return np.logaddexp(0.0, x)


def _sigmoid_ref(x):
    with np.errstate(over="ignore"):
        return np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))


@pytest.mark.parametrize("name, ref, max_rel", [
    ("exp_", np.exp, 1e-15),
    ("tanh_", np.tanh, 1e-15),
    ("sigmoid_", _sigmoid_ref, 1e-15),
    ("softplus_", _softplus_ref, 2e-15),
])
def test_accuracy_over_the_whole_range(name, ref, max_rel):
    with np.errstate(all="ignore"):
        want = ref(GRID)
        got = _vec(getattr(F, name))(GRID)
    normal = np.isfinite(want) & (np.abs(want) >= np.finfo(float).tiny)
    rel = np.abs(got[normal] - want[normal]) / np.abs(want[normal])
    assert rel.max() <= max_rel, (name, GRID[normal][np.argmax(rel)])
    # subnormal results: right to the last representable bits
    sub = np.isfinite(want) & ~normal
    np.testing.assert_allclose(got[sub], want[sub], rtol=0, atol=1e-320)
    # inf, -inf and NaN where the reference has them, with the right sign
    special = ~np.isfinite(want)
    np.testing.assert_array_equal(got[special], want[special])


def test_special_values():
    with np.errstate(all="ignore"):
        e = _vec(F.exp_)(SPECIAL)
        t = _vec(F.tanh_)(SPECIAL)
    assert e[0] == np.inf and e[1] == 0.0 and np.isnan(e[2])
    assert t[0] == 1.0 and t[1] == -1.0 and np.isnan(t[2])
    assert np.signbit(t[4]) and not np.signbit(t[3])  # tanh(±0) = ±0
    # saturation: tanh is exactly ±1 beyond |x| ≈ 19.1, as in libm
    assert np.all(_vec(F.tanh_)(np.array([20.0, 50.0, 1e300])) == 1.0)


def test_expm1_neg_keeps_relative_accuracy_near_zero():
    u = -np.geomspace(1e-300, 40, 100_001)
    got = _vec(F.expm1_neg)(u)
    np.testing.assert_allclose(got, np.expm1(u), rtol=1e-15, atol=0)


@njit(error_model="numpy", fastmath=F._FMA)
def _logistic_loss(z, y):
    """(L, dZ2) of F.logistic_loss over an array z, one label y."""
    L = np.empty_like(z)
    d = np.empty_like(z)
    for i in range(z.size):
        L[i], d[i] = F.logistic_loss(z[i], y)
    return L, d


def test_logistic_loss_matches_softplus_and_sigmoid():
    z = np.linspace(-700, 700, 20_001)
    for y in (0.0, 1.0):
        L, d = _logistic_loss(z, y)
        np.testing.assert_allclose(L, _softplus_ref(z) - y * z, rtol=2e-15, atol=1e-300)
        np.testing.assert_allclose(d, _sigmoid_ref(z) - y, rtol=2e-15, atol=1e-300)


# --- float32: every function in float32 arithmetic, over the float32 range -------------------

#: Every 997th float32 bit pattern (4.3 M values: every exponent, both signs) plus the specials.
with np.errstate(over="ignore"):  # SPECIAL's ±1e300 become ±inf in float32
    GRID32 = np.concatenate([np.arange(0, 2**32, 997, dtype=np.uint64).astype(np.uint32)
                             .view(np.float32), SPECIAL.astype(np.float32)])
#: 4 float32 ulp at 1 (2^-23 each); seen: exp 0.7, tanh 1.4, sigmoid 1.6, softplus 2.5 ulp.
ULP4_32 = 4 * 2.0**-23


@pytest.mark.parametrize("name, ref", [
    ("exp_", np.exp), ("tanh_", np.tanh), ("sigmoid_", _sigmoid_ref), ("softplus_", _softplus_ref),
])
def test_float32_accuracy_over_the_whole_range(name, ref):
    """The float32 versions against the float64 reference on float32 inputs: ≤ 4 ulp relative
    where the result is a normal float32, within two subnormal steps below, and the same inf,
    −inf and NaN; the result is a float32 (computed in float32, not promoted)."""
    got = _vec(getattr(F, name))(GRID32)
    assert got.dtype == np.float32
    with np.errstate(all="ignore"):
        want = ref(GRID32.astype(np.float64))
        want32 = want.astype(np.float32)
    normal = np.isfinite(want32) & (np.abs(want) >= np.finfo(np.float32).tiny)
    rel = np.abs(got[normal] - want[normal]) / np.abs(want[normal])
    assert rel.max() <= ULP4_32, (name, GRID32[normal][np.argmax(rel)], rel.max())
    sub = np.isfinite(want32) & ~normal
    tiny = np.finfo(np.float32).smallest_subnormal  # softplus: e / 2 rounds once below 2^-126
    np.testing.assert_allclose(got[sub], want[sub], rtol=0, atol=2 * tiny)
    special = ~np.isfinite(want32)
    np.testing.assert_array_equal(got[special], want32[special])


def test_float32_expm1_and_logistic_loss():
    u = -np.geomspace(1e-38, 40, 100_001).astype(np.float32)
    got = _vec(F.expm1_neg)(u)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, np.expm1(u.astype(np.float64)), rtol=ULP4_32, atol=0)

    z = np.linspace(-80, 80, 20_001).astype(np.float32)
    for y in (np.float32(0.0), np.float32(1.0)):
        L, d = _logistic_loss(z, y)
        assert L.dtype == d.dtype == np.float32
        z64 = z.astype(np.float64)
        sp, sg = _softplus_ref(z64), _sigmoid_ref(z64)
        # a difference of two float32 terms: within 4 ulp of the larger term
        assert np.all(np.abs(L - (sp - y * z64)) <= ULP4_32 * np.maximum(sp, np.abs(y * z64)))
        assert np.all(np.abs(d - (sg - y)) <= ULP4_32 * np.maximum(sg, y))


def test_the_shared_names_only_run_in_compiled_code():
    with pytest.raises(TypeError, match="inside @njit"):
        F.tanh_(0.5)
