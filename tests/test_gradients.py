"""Every backend × activation × output: against finite differences and against every other."""

import numpy as np
import pytest

import fastnn
from conftest import make_problem

RTOL = 1e-7


def _fd_grads(be, P, X, Y, hidden, output, h=1e-4):
    """Fourth-order central differences of J: error O(h⁴) + O(eps/h), ~1e-12 here."""
    J = lambda Q: be.cost_and_grads(Q, X, Y, hidden=hidden, output=output)[0]  # noqa: E731
    grads = {}
    for k, v in P.items():
        g = np.zeros_like(v)
        for idx in np.ndindex(v.shape):
            f = []
            for step in (2, 1, -1, -2):
                Q = {kk: vv.copy() for kk, vv in P.items()}
                Q[k][idx] += step * h
                f.append(J(Q))
            g[idx] = (-f[0] + 8 * f[1] - 8 * f[2] + f[3]) / (12 * h)
        grads["d" + k] = g
    return grads


@pytest.mark.parametrize("n_x, n_h", [(9, 5), (30, 16)])
def test_wide_input_gradients_match_finite_differences(hidden, output, n_x, n_h):
    """numba's wide step (products register-blocked; n_x = 9, n_h = 5 leave one feature and
    one unit over) against finite differences, as the narrow step above."""
    from fastnn.backends import numba_fused as NF
    assert n_x >= NF.WIDE_FROM_N_X
    be = fastnn.get_backend("numba")
    P, X, Y = make_problem(hidden, output, n_x=n_x, n_h=n_h, m=23, scale=0.3)
    J, grads = be.cost_and_grads(P, X, Y, hidden=hidden, output=output)
    fd = _fd_grads(be, P, X, Y, hidden, output)
    for k, g in grads.items():
        assert g.shape == P[k[1:]].shape
        np.testing.assert_allclose(g, fd[k], rtol=RTOL, atol=1e-10, err_msg=k)


def test_gradients_match_finite_differences(backend, hidden, output):
    P, X, Y = make_problem(hidden, output, m=11 if backend.per_example else 23)
    J, grads = backend.cost_and_grads(P, X, Y, hidden=hidden, output=output)
    fd = _fd_grads(backend, P, X, Y, hidden, output)
    assert np.isfinite(J)
    for k, g in grads.items():
        assert g.shape == P[k[1:]].shape
        np.testing.assert_allclose(g, fd[k], rtol=RTOL, atol=1e-10, err_msg=k)


@pytest.mark.parametrize("m", [1, 7, 300])
def test_backends_agree(backend, hidden, output, m):
    """forward, backward and cost_and_grads of every backend equal numpy's to rtol 1e-7."""
    P, X, Y = make_problem(hidden, output, m=m, n_h=5, seed=m)
    ref = fastnn.get_backend("numpy")
    A2r, _ = ref.forward(P, X, hidden=hidden, output=output)
    Jr, gr = ref.cost_and_grads(P, X, Y, hidden=hidden, output=output)
    A2, cache = backend.forward(P, X, hidden=hidden, output=output)
    J, g = backend.cost_and_grads(P, X, Y, hidden=hidden, output=output)
    gb = backend.backward(P, cache, X, Y, hidden=hidden, output=output)
    assert A2.shape == (2, m)
    np.testing.assert_allclose(A2, A2r, rtol=RTOL, atol=1e-14)
    assert J == pytest.approx(Jr, rel=RTOL)
    for k in gr:
        np.testing.assert_allclose(g[k], gr[k], rtol=RTOL, atol=1e-13, err_msg=k)
        np.testing.assert_allclose(gb[k], gr[k], rtol=RTOL, atol=1e-13, err_msg=k)


def test_cost_and_grads_equals_forward_then_backward(backend):
    P, X, Y = make_problem("tanh", "sigmoid", m=40)
    A2, cache = backend.forward(P, X)
    J, g = backend.cost_and_grads(P, X, Y)
    assert J == pytest.approx(fastnn.cost(A2, Y), rel=1e-10)
    for k, v in backend.backward(P, cache, X, Y).items():
        np.testing.assert_allclose(v, g[k], rtol=1e-12, atol=1e-15)


def test_large_m_multithreaded_numba_agrees():
    """Big enough to take the parallel path, with a ragged last block."""
    P, X, Y = make_problem("tanh", "sigmoid", n_x=2, n_h=16, n_y=1, m=50_001)
    Jr, gr = fastnn.get_backend("numpy").cost_and_grads(P, X, Y)
    J, g = fastnn.get_backend("numba").cost_and_grads(P, X, Y)
    assert J == pytest.approx(Jr, rel=RTOL)
    for k in gr:
        np.testing.assert_allclose(g[k], gr[k], rtol=RTOL, atol=1e-13)


@pytest.mark.filterwarnings("error")
def test_saturated_units_give_finite_cost_and_grads(backend, hidden):
    """|z| in the hundreds: the cross-entropy from the logits stays finite, with no warnings."""
    P, X, Y = make_problem(hidden, "sigmoid", m=9, scale=1.0)
    P["W2"] = P["W2"] * 300.0
    P["b2"] = P["b2"] * 300.0
    J, g = backend.cost_and_grads(P, X, Y, hidden=hidden)
    Jr, gr = fastnn.get_backend("numpy").cost_and_grads(P, X, Y, hidden=hidden)
    assert np.isfinite(J) and J > 1.0
    assert J == pytest.approx(Jr, rel=RTOL)
    for k in g:
        assert np.all(np.isfinite(g[k]))
        np.testing.assert_allclose(g[k], gr[k], rtol=RTOL, atol=1e-12)


def test_float32_in_float32_out(hidden, output):
    """Every backend that computes in float32 (its ``dtypes``) returns float32 near float64."""
    P, X, Y = make_problem(hidden, output, m=200, dtype=np.float32)
    P64, X64, Y64 = ({k: v.astype(np.float64) for k, v in P.items()}, X.astype(np.float64),
                     Y.astype(np.float64))
    J64, g64 = fastnn.get_backend("numpy").cost_and_grads(P64, X64, Y64, hidden=hidden,
                                                           output=output)
    for name in [n for n in fastnn.BACKENDS if "float32" in fastnn.get_backend(n).dtypes]:
        be = fastnn.get_backend(name)
        A2, cache = be.forward(P, X, hidden=hidden, output=output)
        J, g = be.cost_and_grads(P, X, Y, hidden=hidden, output=output)
        assert A2.dtype == np.float32 and cache["A1"].dtype == np.float32
        assert J == pytest.approx(J64, rel=1e-5)
        for k in g:
            assert g[k].dtype == np.float32, (name, k)
            np.testing.assert_allclose(g[k], g64[k], rtol=2e-4, atol=2e-5, err_msg=(name, k))


@pytest.mark.parametrize("n_x, n_y", [(8, 1), (30, 2), (64, 1)])
@pytest.mark.parametrize("dtype, rtol", [(np.float64, RTOL), (np.float32, 2e-4)])
def test_wide_input_path_agrees(hidden, output, dtype, rtol, n_x, n_y):
    """n_x >= numba_fused.WIDE_FROM_N_X runs the numba step's products register-blocked, four
    units by four features (n_h = 6 and n_x = 30 leave ragged tiles), block by block (the last
    block ragged; m = 2500 is parallel where there are two threads)."""
    P, X, Y = make_problem(hidden, output, n_x=n_x, n_h=6, n_y=n_y, m=2500, scale=0.3)
    Jr, gr = fastnn.get_backend("numpy").cost_and_grads(P, X, Y, hidden=hidden, output=output)
    Pd = {k: v.astype(dtype) for k, v in P.items()}
    J, g = fastnn.get_backend("numba").cost_and_grads(Pd, X.astype(dtype), Y.astype(dtype),
                                                        hidden=hidden, output=output)
    assert J == pytest.approx(Jr, rel=rtol)
    for k in gr:
        assert g[k].dtype == dtype
        np.testing.assert_allclose(g[k], gr[k], rtol=rtol, atol=rtol * np.abs(gr[k]).max())


def _scaled_err(g, ref):
    """Largest |g − ref| of each gradient over that gradient's largest |ref|."""
    return max(np.abs(g[k].astype(np.float64) - ref[k]).max() / np.abs(ref[k]).max() for k in g)


def test_float32_against_float64_and_numpy_float32(hidden, output):
    """At m = 100,000 (many blocks, parallel chunks) numba's float32 step — float32 arithmetic
    throughout, sums blocked (float32 within a block, float64 across) — is within 1e-6 of the
    float64 result (J relative, each gradient relative to its largest entry; seen: ≤ 1e-7) and
    its error is at most twice NumPy's float32 error (seen: numpy 2e-7 … 7e-7, 3–10× numba's)."""
    P, X, Y = make_problem(hidden, output, n_h=8, m=100_000)
    J64, g64 = fastnn.get_backend("numpy").cost_and_grads(P, X, Y, hidden=hidden, output=output)
    P32 = {k: v.astype(np.float32) for k, v in P.items()}
    X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
    got = {name: fastnn.get_backend(name).cost_and_grads(P32, X32, Y32, hidden=hidden,
                                                          output=output)
           for name in ("numpy", "numba")}
    (J, g), gn = got["numba"], got["numpy"][1]
    assert all(v.dtype == np.float32 for v in g.values())
    assert abs(J - J64) <= 1e-6 * abs(J64)
    assert _scaled_err(g, g64) <= 1e-6
    assert _scaled_err(g, g64) <= 2 * _scaled_err(gn, g64) + 1e-7
    assert _scaled_err(g, {k: v.astype(np.float64) for k, v in gn.items()}) <= 2e-6


@pytest.mark.parametrize("dtype, rtol", [(np.float64, RTOL), (np.float32, 2e-4)])
def test_blas_path_agrees(monkeypatch, hidden, output, dtype, rtol):
    """Where the products go to BLAS (``numba_fused._blas_path``, forced here by lowering its
    work threshold): the step agrees with NumPy (one output unit; maxout keeps the compiled
    step), over several BLAS blocks with a ragged last one."""
    from fastnn.backends import numba_fused as NF
    monkeypatch.setattr(NF, "BLAS_FROM_WORK", 0)
    monkeypatch.setattr(NF, "BLAS_BLOCK", 256)
    P, X, Y = make_problem(hidden, output, n_x=70, n_h=6, n_y=1, m=1000, scale=0.3)
    assert NF._blas_path(P, X, hidden) == (hidden != "maxout")
    Jr, gr = fastnn.get_backend("numpy").cost_and_grads(P, X, Y, hidden=hidden, output=output)
    Pd = {k: v.astype(dtype) for k, v in P.items()}
    J, g = fastnn.get_backend("numba").cost_and_grads(Pd, X.astype(dtype), Y.astype(dtype),
                                                        hidden=hidden, output=output)
    assert J == pytest.approx(Jr, rel=rtol)
    for k in gr:
        assert g[k].dtype == dtype and g[k].shape == gr[k].shape
        np.testing.assert_allclose(g[k], gr[k], rtol=rtol, atol=rtol * np.abs(gr[k]).max())
