"""The numba backend's fused training run (``numba_fused.fit``) against the lecture's Python loop
over NumPy's step: same parameters, same costs, every activation and output."""

import numba
import numpy as np
import pytest
from conftest import HIDDEN, OUTPUTS, make_problem

import fastnn
from fastnn.backends import numba_fused as NF
from fastnn.backends._descent import loop
from fastnn.validate import prepare

ALL = ("W1", "b1", "W2", "b2")


def reference(P, X, Y, hidden, output, lr, iterations, keys=ALL):
    """The obviously correct run: NumPy's cost_and_grads in a Python loop (as
    ``backends._descent.loop``)."""
    step = fastnn.get_backend("numpy").impl.cost_and_grads
    P = {k: v.copy() for k, v in P.items()}
    costs = np.empty(iterations)
    with np.errstate(all="ignore"):
        for t in range(iterations):
            J, grads = step(P, X, Y, hidden, output)
            costs[t] = J
            for k in keys:
                P[k] -= lr * grads["d" + k]
    return P, costs


def fused(P, X, Y, hidden, output, lr, iterations, keys=ALL):
    P, X, Y, _ = prepare(P, X, Y, hidden, output)
    return NF.fit(P, X, Y, hidden, output, lr, iterations, keys) or loop(
        NF.cost_and_grads, P, X, Y, hidden, output, lr, iterations, keys)


def assert_same(got, want, rtol=1e-9, atol=1e-12):
    P, costs, diverged = got
    Pr, costs_r = want
    assert diverged is None
    np.testing.assert_allclose(costs, costs_r, rtol=rtol, atol=atol)
    for k in Pr:
        assert P[k].shape == Pr[k].shape and P[k].dtype == Pr[k].dtype, k
        np.testing.assert_allclose(P[k], Pr[k], rtol=rtol, atol=atol, err_msg=k)


@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize("n_y", [1, 2])
def test_every_activation_and_output_matches_numpy(hidden, output, n_y):
    """n_y = 1 takes the kernels' fused path, n_y = 2 (and maxout) the general one."""
    P, X, Y = make_problem(hidden, output, n_x=3, n_h=5, n_y=n_y, m=37, scale=0.5, seed=n_y)
    lr = 0.5 if output == "sigmoid" else 0.05
    assert_same(fused(P, X, Y, hidden, output, lr, 200), reference(P, X, Y, hidden, output, lr, 200))


def test_flower_10000_steps_matches_numpy():
    """The lecture's run: m = 400, n_h = 4, tanh, lr = 1.2; rtol 1e-9 after 10,000 steps."""
    X, Y = fastnn.flower(400, seed=1)
    P = fastnn.init_params(2, 4, 1, seed=2)
    got = fused(P, X, Y, "tanh", "sigmoid", 1.2, 10_000)
    want = reference(P, X, Y, "tanh", "sigmoid", 1.2, 10_000)
    assert want[1][-1] < 0.5 * want[1][0]  # it did learn, so the comparison is not vacuous
    assert_same(got, want, atol=0)


@pytest.mark.parametrize("hidden", ["tanh", "relu", "maxout"])
def test_parallel_steps_match_numpy_and_the_numba_loop(hidden):
    """Large enough for the parallel kernel (one chunk per thread): the compiled loop gives the
    Python loop over numba's own step bit for bit, and NumPy to rtol 1e-9."""

    P, X, Y = make_problem(hidden, "sigmoid", n_x=2, n_h=8, n_y=1, m=40_001, scale=0.5)
    k = 2 if hidden == "maxout" else 1
    if NF._chunks(X.shape[1], 8, k) < 2:
        pytest.skip(f"numba has {numba.get_num_threads()} thread: no parallel chunks")
    got = fused(P, X, Y, hidden, "sigmoid", 0.5, 20)
    assert_same(got, reference(P, X, Y, hidden, "sigmoid", 0.5, 20))
    Pp, X, Y, _ = prepare(P, X, Y, hidden, "sigmoid")
    py = loop(NF.cost_and_grads, Pp, X, Y, hidden, "sigmoid", 0.5, 20, ALL)
    np.testing.assert_array_equal(got[1], py[1])
    for name in ALL:
        np.testing.assert_array_equal(got[0][name], py[0][name])


@pytest.mark.parametrize("n_x, n_h, m, steps", [(30, 16, 569, 60), (64, 16, 700, 30),
                                                (784, 6, 300, 10)])
@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_wide_inputs_fuse_the_whole_run(hidden, output, n_x, n_h, m, steps):
    """Every n_x runs in one compiled call (the products register-blocked from
    ``WIDE_FROM_N_X`` on; maxout in the per-unit passes): NumPy's run to rtol 1e-9, and the
    Python loop over numba's own step bit for bit."""
    P, X, Y = make_problem(hidden, output, n_x=n_x, n_h=n_h, n_y=1, m=m, scale=0.1, seed=n_x)
    lr = 0.5 if output == "sigmoid" else 0.05
    Pp, Xp, Yp, _ = prepare(P, X, Y, hidden, output)
    got = NF.fit(Pp, Xp, Yp, hidden, output, lr, steps, ALL)
    assert got is not None  # compiled, not the Python loop
    assert_same(got, reference(P, X, Y, hidden, output, lr, steps))
    py = loop(NF.cost_and_grads, Pp, Xp, Yp, hidden, output, lr, steps, ALL)
    np.testing.assert_array_equal(got[1], py[1])
    for name in ALL:
        np.testing.assert_array_equal(got[0][name], py[0][name])


@pytest.mark.parametrize("layout", ["read-only", "strided", "fortran"])
def test_wide_fit_takes_any_layout(layout):
    """fastnn.fit on numba at n_x = 30 with a read-only, strided or Fortran-ordered X and Y:
    NumPy's run, and the caller's arrays untouched."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((30, 2 * 401))
    Y = (rng.random((1, 2 * 401)) > 0.5).astype(np.float64)
    if layout == "strided":
        Xu, Yu = X[:, ::2], Y[:, ::2]
    else:
        X, Y = X[:, :401].copy(), Y[:, :401].copy()
        Xu, Yu = (np.asfortranarray(X), np.asfortranarray(Y)) if layout == "fortran" else (
            X.copy(), Y.copy())
        if layout == "read-only":
            Xu.setflags(write=False)
            Yu.setflags(write=False)
    before = Xu.copy(), Yu.copy()
    r = fastnn.fit(Xu, Yu, n_h=16, backend="numba", lr=0.5, iterations=40, seed=4)
    r0 = fastnn.fit(np.ascontiguousarray(Xu), np.ascontiguousarray(Yu), n_h=16, backend="numpy",
                    lr=0.5, iterations=40, seed=4)
    np.testing.assert_allclose(r.costs, r0.costs, rtol=1e-10)
    for k in ALL:
        np.testing.assert_allclose(r.params[k], r0.params[k], rtol=1e-9, atol=1e-13)
    np.testing.assert_array_equal(Xu, before[0])
    np.testing.assert_array_equal(Yu, before[1])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_real_data_runs_match_numpy(dtype):
    """The data sets of ``fastnn.datasets``, 100 steps of their recommended run, in both
    dtypes: numba's fused run against NumPy's."""
    from fastnn import datasets
    for spec in datasets.DATASETS.values():
        X, Y = (a.astype(dtype) for a in spec.load())
        P = fastnn.init_params(X.shape[0], spec.n_h, 1, seed=0, dtype=dtype)
        r = fastnn.fit(X, Y, params=P, backend="numba", lr=spec.lr, iterations=100)
        r0 = fastnn.fit(X, Y, params=P, backend="numpy", lr=spec.lr, iterations=100)
        assert r.params["W1"].dtype == dtype
        rtol = 1e-9 if dtype == np.float64 else 1e-3
        np.testing.assert_allclose(r.costs, r0.costs, rtol=rtol)
        assert r.costs[-1] < 0.5 * r.costs[0]


def test_logistic_regression_updates_only_W2_and_b2():
    """fit_logistic's run: W1 = I and b1 = 0 frozen, a linear hidden layer, from w = 0."""
    X, Y = fastnn.flower(200, seed=0)
    P = {"W1": np.eye(2), "b1": np.zeros((2, 1)), "W2": np.zeros((1, 2)), "b2": np.zeros((1, 1))}
    keys = ("W2", "b2")
    got = fused(P, X, Y, "linear", "sigmoid", 1.2, 500, keys)
    assert_same(got, reference(P, X, Y, "linear", "sigmoid", 1.2, 500, keys))
    np.testing.assert_array_equal(got[0]["W1"], np.eye(2))
    np.testing.assert_array_equal(got[0]["b1"], 0.0)
    assert np.any(got[0]["W2"] != 0)


@pytest.mark.parametrize("hidden", ["tanh", "maxout"])
def test_float32_in_gives_float32_out(hidden):
    P, X, Y = make_problem(hidden, "sigmoid", n_h=5, n_y=1, m=50, scale=0.5, dtype=np.float32)
    Pf, costs, diverged = fused(P, X, Y, hidden, "sigmoid", 0.5, 100)
    assert diverged is None and costs.dtype == np.float64
    P64 = {k: v.astype(np.float64) for k, v in P.items()}
    Pr, costs_r = reference(P64, X.astype(np.float64), Y.astype(np.float64), hidden, "sigmoid",
                            0.5, 100)
    np.testing.assert_allclose(costs, costs_r, rtol=1e-4)
    for k in P:
        assert Pf[k].dtype == np.float32, k
        np.testing.assert_allclose(Pf[k], Pr[k], rtol=1e-3, atol=1e-5, err_msg=k)


def test_inputs_are_not_modified_and_zero_iterations():
    P, X, Y = make_problem("tanh", "sigmoid", n_y=1)
    P, X, Y, _ = prepare(P, X, Y, "tanh", "sigmoid")
    before = {k: v.copy() for k, v in P.items()}, X.copy(), Y.copy()
    out, costs, diverged = NF.fit(P, X, Y, "tanh", "sigmoid", 0.5, 30, ALL)
    for k in P:
        np.testing.assert_array_equal(P[k], before[0][k])
        assert not np.shares_memory(out[k], P[k])
        assert not np.array_equal(out[k], P[k]), k
    np.testing.assert_array_equal(X, before[1])
    np.testing.assert_array_equal(Y, before[2])
    out, costs, diverged = NF.fit(P, X, Y, "tanh", "sigmoid", 0.5, 0, ALL)
    assert costs.shape == (0,) and diverged is None
    for k in P:
        np.testing.assert_array_equal(out[k], P[k])
        assert out[k] is not P[k]


@pytest.mark.parametrize("hidden, output", [("relu", "linear"), ("linear", "linear"),
                                            ("tanh", "sigmoid")])
def test_divergence_stops_at_the_first_non_finite_cost(hidden, output):
    """lr = 1e6: the run stops at the first cost that is inf or NaN and names that step; the
    parameters returned are the ones that gave it (that update is not applied)."""
    P, X, Y, _ = prepare(*make_problem(hidden, output, n_y=1, m=40), hidden, output)
    steps = 300
    _, costs_r = reference(P, X, Y, hidden, output, 1e6, steps)
    bad = np.flatnonzero(~np.isfinite(costs_r))
    Pf, costs, diverged = NF.fit(P, X, Y, hidden, output, 1e6, steps, ALL)
    if output == "sigmoid":  # tanh bounds A1: the logits grow linearly and the cost stays finite
        assert bad.size == 0 and diverged is None and costs.shape == (steps,)
        return
    t = bad[0]
    assert diverged == t and costs.shape == (t + 1,)
    assert np.all(np.isfinite(costs[:t])) and not np.isfinite(costs[t])
    np.testing.assert_allclose(costs[:t], costs_r[:t], rtol=1e-9)
    with np.errstate(all="ignore"):
        J, _ = fastnn.get_backend("numpy").impl.cost_and_grads(Pf, X, Y, hidden, output)
    assert not np.isfinite(J)


def test_blas_shapes_fit_in_the_python_loop(monkeypatch):
    """Where the step's products go to BLAS, ``numba_fused.fit`` returns None and
    ``fastnn.fit`` runs the Python loop over that step: NumPy's run to rtol 1e-9."""
    monkeypatch.setattr(NF, "BLAS_FROM_WORK", 0)
    P, X, Y = make_problem("tanh", "sigmoid", n_x=64, n_h=8, n_y=1, m=3000, scale=0.1, seed=5)
    Pp, Xp, Yp, _ = prepare(P, X, Y, "tanh", "sigmoid")
    assert NF.fit(Pp, Xp, Yp, "tanh", "sigmoid", 0.5, 5, ALL) is None
    assert_same(fused(P, X, Y, "tanh", "sigmoid", 0.5, 20),
                reference(P, X, Y, "tanh", "sigmoid", 0.5, 20))
