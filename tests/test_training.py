"""fit, predict, cost and init: the lecture's claims about training."""

import numpy as np
import pytest

import fastnn


def test_fit_gives_the_same_costs_on_every_backend(hidden):
    X, Y = fastnn.flower(40, seed=3)
    P = fastnn.init_params(2, 3, 1, hidden=hidden, method="random", scale=0.5, seed=4)
    ref = fastnn.fit(X, Y, params=P, hidden=hidden, backend="numpy", iterations=30, lr=0.5)
    assert ref.costs.shape == (30,)
    for name in fastnn.BACKENDS:
        r = fastnn.fit(X, Y, params=P, hidden=hidden, backend=name, iterations=30, lr=0.5)
        np.testing.assert_allclose(r.costs, ref.costs, rtol=0, atol=1e-9, err_msg=name)
        for k in P:
            np.testing.assert_allclose(r.params[k], ref.params[k], rtol=1e-7, atol=1e-10)


def test_fit_learns_the_flower_and_is_deterministic():
    X, Y = fastnn.flower(400, seed=1)
    a = fastnn.fit(X, Y, n_h=4, iterations=2000, seed=2)
    b = fastnn.fit(X, Y, n_h=4, iterations=2000, seed=2)
    np.testing.assert_array_equal(a.costs, b.costs)
    assert a.costs[-1] < 0.5 * a.costs[0]
    assert np.mean(fastnn.predict(a.params, X) == Y) > 0.85


def test_fit_regression_with_linear_output():
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, (1, 200))
    Y = np.sin(X)
    r = fastnn.fit(X, Y, n_h=8, output="linear", lr=0.1, iterations=3000, seed=0,
                   method="xavier")
    assert r.costs[-1] < 0.01 * r.costs[0]
    pred = fastnn.predict(r.params, X, output="linear")
    assert pred.dtype == np.float64 and np.max(np.abs(pred - Y)) < 0.2


def test_zero_init_keeps_hidden_units_identical():
    """Lecture §5: with W1 = 0 every hidden unit gets the same gradient, forever."""
    X, Y = fastnn.flower(200, seed=0)
    X, Y = X[:, :150], Y[:, :150]  # unbalanced, so the sigmoid case gets a non-zero gradient
    for hidden in ("sigmoid", "tanh", "relu"):
        r = fastnn.fit(X, Y, n_h=5, hidden=hidden, method="zeros", iterations=300, lr=0.5)
        W1 = r.params["W1"]
        assert np.allclose(W1, W1[0], rtol=0, atol=1e-12), hidden
        assert np.allclose(r.params["W2"], r.params["W2"][0, 0], atol=1e-12)
    # with sigmoid the weights do move (so the test is not vacuous), yet stay identical
    rs = fastnn.fit(X, Y, n_h=5, hidden="sigmoid", method="zeros", iterations=300, lr=0.5)
    assert np.any(rs.params["W1"] != 0)


def test_random_init_breaks_symmetry():
    X, Y = fastnn.flower(200, seed=0)
    r = fastnn.fit(X, Y, n_h=5, method="random", iterations=300, seed=1)
    W1 = r.params["W1"]
    assert np.min(np.abs(W1[1:] - W1[0]).sum(axis=1)) > 1e-3


def test_linear_hidden_layer_is_no_better_than_logistic_regression():
    X, Y = fastnn.flower(400, seed=5)
    lin = fastnn.fit(X, Y, n_h=6, hidden="linear", iterations=2000, seed=0, lr=0.5)
    logit = fastnn.fit_logistic(X, Y, iterations=2000, lr=0.5)
    tanh = fastnn.fit(X, Y, n_h=6, hidden="tanh", iterations=2000, seed=0, lr=0.5)
    acc = lambda r, h: np.mean(fastnn.predict(r.params, X, hidden=h) == Y)  # noqa: E731
    assert lin.costs[-1] >= logit.costs[-1] - 1e-3
    assert acc(lin, "linear") <= acc(logit, "linear") + 0.02
    assert acc(tanh, "tanh") > acc(logit, "linear") + 0.2


@pytest.mark.parametrize("name", fastnn.BACKENDS)
def test_logistic_regression_from_zero_trains_on_every_backend(name):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2, 60))
    Y = (X[0] + 0.5 * X[1] > 0).astype(float)[None]
    r = fastnn.fit_logistic(X, Y, backend=name, iterations=200)
    ref = fastnn.fit_logistic(X, Y, backend="numpy", iterations=200)
    np.testing.assert_allclose(r.costs, ref.costs, atol=1e-9)
    assert r.costs[-1] < 0.3 and np.all(r.params["W1"] == np.eye(2))
    assert np.mean(fastnn.predict(r.params, X, hidden="linear") == Y) > 0.95


@pytest.mark.parametrize("method", list(fastnn.INIT_METHODS))
def test_init_params_shapes_and_scale(method):
    P = fastnn.init_params(300, 200, 3, method=method, seed=0)
    assert [P[k].shape for k in ("W1", "b1", "W2", "b2")] == [(200, 300), (200, 1), (3, 200),
                                                              (3, 1)]
    assert np.all(P["b1"] == 0) and np.all(P["b2"] == 0)
    want = {"zeros": 0.0, "random": 0.01, "xavier": np.sqrt(2 / 500), "he": np.sqrt(2 / 300)}
    assert np.std(P["W1"]) == pytest.approx(want[method], rel=0.05, abs=1e-12)


def test_init_maxout_float32_and_seed():
    P = fastnn.init_params(2, 4, 1, hidden="maxout", pieces=3, seed=7, dtype=np.float32)
    assert P["W1"].shape == (3, 4, 2) and P["b1"].shape == (3, 4, 1)
    assert all(v.dtype == np.float32 for v in P.values())
    Q = fastnn.init_params(2, 4, 1, hidden="maxout", pieces=3, seed=7, dtype=np.float32)
    assert all(np.array_equal(P[k], Q[k]) for k in P)


def test_cost_values():
    Y = np.array([[1.0, 0.0]])
    assert fastnn.cost(np.array([[0.5, 0.5]]), Y) == pytest.approx(np.log(2))
    assert fastnn.cost(np.array([[1.5, 0.0]]), Y, output="linear") == pytest.approx(0.0625)
    assert np.isfinite(fastnn.cost(np.array([[0.0, 1.0]]), Y))  # clipped, not inf


def test_flower_is_deterministic_and_balanced():
    X1, Y1 = fastnn.flower(300, seed=9)
    X2, Y2 = fastnn.flower(300, seed=9)
    X3, _ = fastnn.flower(300, seed=10)
    assert X1.shape == (2, 300) and Y1.shape == (1, 300)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(Y1, Y2)
    assert not np.array_equal(X1, X3)
    assert Y1.sum() == 150


def test_float32_fit_stays_float32():
    X, Y = fastnn.flower(100, seed=0)
    r = fastnn.fit(X.astype(np.float32), Y.astype(np.float32), iterations=5, seed=0,
                   backend="numba")
    assert all(v.dtype == np.float32 for v in r.params.values())


def test_predict_and_cost_use_a_fit_results_activation_and_output():
    """predict(result, X) after fit(..., hidden="relu") uses relu, not the default tanh."""
    X, Y = fastnn.flower(400, seed=1)
    r = fastnn.fit(X, Y, n_h=6, hidden="relu", iterations=1500, lr=0.5, seed=0, method="he")
    labels = fastnn.predict(r, X)
    np.testing.assert_array_equal(labels, fastnn.predict(r.params, X, hidden="relu"))
    as_tanh = fastnn.predict(r.params, X)  # the SPEC signature: params and the default tanh
    assert np.mean(labels == Y) > np.mean(as_tanh == Y) + 0.05
    np.testing.assert_array_equal(fastnn.predict(r, X, hidden="relu", output="sigmoid"), labels)
    for kw in ({"hidden": "tanh"}, {"output": "linear"}):
        with pytest.raises(ValueError, match=f"{next(iter(kw))}=.* contradicts the FitResult"):
            fastnn.predict(r, X, **kw)
        with pytest.raises(ValueError, match="contradicts the FitResult"):
            fastnn.cost(r, Y, X=X, **kw)
    # the cost of the trained network, from its logits, is what one more step of fit would log
    J = fastnn.cost(r, Y, X=X, backend="numba")
    J_next = fastnn.fit(X, Y, params=r.params, hidden="relu", iterations=1, lr=0.5).costs[0]
    assert J == pytest.approx(J_next, rel=1e-12)
    assert J == pytest.approx(fastnn.cost(r.params, Y, X=X, hidden="relu"), rel=1e-12)
    assert J != pytest.approx(fastnn.cost(r.params, Y, X=X), rel=1e-3)  # tanh: another network


def test_cost_arguments():
    P = fastnn.init_params(2, 3, 1, seed=0)
    X, Y = fastnn.flower(20, seed=0)
    A2, _ = fastnn.get_backend("numpy").forward(P, X)
    assert fastnn.cost(A2, Y) == pytest.approx(fastnn.cost(P, Y, X=X), rel=1e-9)
    with pytest.raises(TypeError, match="X is missing"):
        fastnn.cost(fastnn.FitResult(P, np.empty(0)), Y)
    with pytest.raises(TypeError, match="hidden is for the cost of a network"):
        fastnn.cost(A2, Y, hidden="tanh")
    with pytest.raises(ValueError, match="unknown output 'softmax'"):
        fastnn.cost(A2, Y, "softmax")


def test_logistic_result_predicts_with_its_linear_layer():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2, 60))
    Y = (X[0] - X[1] > 0).astype(float)[None]
    r = fastnn.fit_logistic(X, Y, iterations=200)
    assert r.hidden == "linear"
    np.testing.assert_array_equal(fastnn.predict(r, X), fastnn.predict(r.params, X,
                                                                       hidden="linear"))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name", fastnn.BACKENDS)
def test_divergence_stops_with_a_clear_error(name):
    """lr = 1e6 on a regression: J becomes inf at the same step on every backend; fit stops there,
    names the step and suggests a smaller lr, and hands back the run so far."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2, 20))
    Y = rng.standard_normal((1, 20))
    with pytest.raises(fastnn.DivergenceError, match=r"diverged: the cost J is inf at step 5 of 50 "
                       r"\(lr = 1e\+06\); try a smaller learning rate, e.g. lr = 100000") as e:
        fastnn.fit(X, Y, output="linear", hidden="relu", lr=1e6, iterations=50, seed=0,
                   backend=name)
    assert isinstance(e.value, FloatingPointError)
    costs = e.value.result.costs
    assert costs.shape == (4,) and np.all(np.isfinite(costs)) and costs[-1] > 1e10
    ok = fastnn.fit(X, Y, output="linear", hidden="relu", lr=0.01, iterations=50, seed=0,
                    backend=name)
    assert np.all(np.isfinite(ok.costs))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name", fastnn.BACKENDS)
def test_logistic_divergence_stops_with_a_clear_error(name):
    """Logistic regression's gradient is bounded, so only an absurd lr on huge features makes
    its logits overflow; it stops the same way."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2, 20)) * 1e10
    Y = (X[0] > 0).astype(float)[None]
    with pytest.raises(fastnn.DivergenceError, match=r"diverged: the cost J is nan at step 2 of 5 "
                       r"\(lr = 1e\+300\)"):
        fastnn.fit_logistic(X, Y, lr=1e300, iterations=5, backend=name)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_last_update_that_overflows_is_caught():
    """costs[t] is J before update t, so the last update's parameters are checked once."""
    X = np.ones((2, 20))
    Y = np.full((1, 20), 100.0)  # db2 is about -100, and 1e308 * 100 overflows
    with pytest.raises(fastnn.DivergenceError, match=r"the last update \(step 1\) made the "
                       r"parameters inf or NaN of 1 \(lr = 1e\+308\)") as e:
        fastnn.fit(X, Y, output="linear", lr=1e308, iterations=1, seed=0)
    assert np.isfinite(e.value.result.costs[0])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("output", fastnn.OUTPUTS)
def test_python_backend_overflows_like_the_others(output):
    """Finite but huge parameters: the python loop returns inf/NaN where the vectorised backends
    do, instead of raising OverflowError from ``**`` or ``math.exp``."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2, 20))
    Y = rng.standard_normal((1, 20)) if output == "linear" else (X[:1] > 0).astype(float)
    for hidden in ("tanh", "relu", "elu", "sigmoid", "linear"):
        P = fastnn.init_params(2, 3, 1, method="xavier", hidden=hidden, seed=0)
        P["W1"] = P["W1"] * 1e200
        P["W2"] = P["W2"] * 1e200
        P["b2"] = P["b2"] + 1e200
        ref = fastnn.get_backend("numpy").cost_and_grads(P, X, Y, output=output, hidden=hidden)
        J, g = fastnn.get_backend("python").cost_and_grads(P, X, Y, output=output, hidden=hidden)
        assert not np.isfinite(ref[0]) or output == "sigmoid"
        np.testing.assert_allclose(J, ref[0], rtol=1e-12)
        A2, _ = fastnn.get_backend("python").forward(P, X, output=output, hidden=hidden)
        A2_ref, _ = fastnn.get_backend("numpy").forward(P, X, output=output, hidden=hidden)
        if hidden in ("tanh", "sigmoid"):  # bounded A1: Z2 is finite whatever the sum's order
            np.testing.assert_allclose(A2, A2_ref, rtol=1e-12)
        else:  # inf − inf in another order may be NaN or finite: only no exception, same shape
            assert A2.shape == A2_ref.shape
