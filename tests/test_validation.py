"""Bad input gets a clear ValueError/TypeError on every backend; odd but valid input works;
nothing handed in is modified."""

import numpy as np
import pytest

import fastnn
from conftest import make_problem


def _good(hidden="tanh", m=6):
    return make_problem(hidden, "sigmoid", n_x=2, n_h=3, n_y=1, m=m)


def _replace(P, **kw):
    Q = dict(P)
    Q.update(kw)
    return Q


P0, X0, Y0 = _good()
BAD_CALLS = {
    "X 1-D": (ValueError, "X must be 2-D", lambda: (P0, X0[0], Y0)),
    "X 3-D": (ValueError, "X must be 2-D", lambda: (P0, X0[None], Y0)),
    "X wrong n_x": (ValueError, "features", lambda: (P0, np.ones((3, 6)), Y0)),
    "X transposed": (ValueError, "features", lambda: (P0, X0.T, Y0)),
    "m = 0": (ValueError, "m = 0", lambda: (P0, np.ones((2, 0)), np.ones((1, 0)))),
    "Y wrong m": (ValueError, "Y has shape", lambda: (P0, X0, np.ones((1, 5)))),
    "Y wrong n_y": (ValueError, "Y has shape", lambda: (P0, X0, np.ones((2, 6)))),
    "X strings": (TypeError, "X must hold real numbers", lambda: (P0, np.full((2, 6), "a"), Y0)),
    "X complex": (TypeError, "X must hold real numbers", lambda: (P0, X0 + 1j, Y0)),
    "X objects": (TypeError, "X", lambda: (P0, np.array([[1, None]] * 2, dtype=object), Y0)),
    "X None": (TypeError, "X is missing", lambda: (P0, None, Y0)),
    "Y strings": (TypeError, "Y must hold real numbers", lambda: (P0, X0, np.full((1, 6), "y"))),
    "params not dict": (TypeError, "params must be a dict", lambda: ([1, 2], X0, Y0)),
    "params missing W2": (ValueError, "missing W2",
                          lambda: ({k: v for k, v in P0.items() if k != "W2"}, X0, Y0)),
    "W1 wrong ndim": (ValueError, "W1 must be 2-D", lambda: (_replace(P0, W1=P0["W1"][0]), X0, Y0)),
    "b1 wrong shape": (ValueError, "b1 must have shape",
                       lambda: (_replace(P0, b1=np.zeros(3)), X0, Y0)),
    "W2 wrong shape": (ValueError, "W2 must have shape",
                       lambda: (_replace(P0, W2=np.zeros((1, 4))), X0, Y0)),
    "b2 wrong shape": (ValueError, "b2 must have shape",
                       lambda: (_replace(P0, b2=np.zeros((2, 1))), X0, Y0)),
    "W1 strings": (TypeError, "W1 must hold real numbers",
                   lambda: (_replace(P0, W1=np.full((3, 2), "w")), X0, Y0)),
}


@pytest.mark.parametrize("case", list(BAD_CALLS))
def test_bad_input_is_a_clear_error_on_every_method(backend, case):
    exc, msg, make = BAD_CALLS[case]
    P, X, Y = make()
    with pytest.raises(exc, match=msg):
        backend.cost_and_grads(P, X, Y)
    if "Y" not in case:
        with pytest.raises(exc, match=msg):
            backend.forward(P, X)
    _, cache = fastnn.get_backend("numpy").forward(P0, X0)
    with pytest.raises(exc, match=msg):
        backend.backward(P, cache, X, Y)


@pytest.mark.parametrize("kw, exc, msg", [
    ({"hidden": "swish"}, ValueError, "unknown activation 'swish'"),
    ({"output": "softmax"}, ValueError, "unknown output 'softmax'"),
    ({"hidden": "maxout"}, ValueError, "W1 must be 3-D"),
])
def test_unknown_names(backend, kw, exc, msg):
    with pytest.raises(exc, match=msg):
        backend.cost_and_grads(P0, X0, Y0, **kw)


def test_maxout_params_with_other_activation():
    P, X, Y = _good("maxout")
    with pytest.raises(ValueError, match="3-D W1 is for hidden='maxout'"):
        fastnn.get_backend("numpy").forward(P, X, hidden="tanh")


def test_bad_cache(backend):
    with pytest.raises(TypeError, match="cache must be the dict"):
        backend.backward(P0, None, X0, Y0)
    _, cache = fastnn.get_backend("numpy").forward(P0, X0[:, :4])
    with pytest.raises(ValueError, match="cache\\['Z1'\\] has shape"):
        backend.backward(P0, cache, X0, Y0)
    with pytest.raises(ValueError, match="cache is missing A1"):
        backend.backward(P0, {"Z1": np.zeros((3, 6))}, X0, Y0)


def test_unknown_backend_lists_valid():
    with pytest.raises(ValueError, match="unknown backend 'cuda'.*numpy-loop.*numba"):
        fastnn.get_backend("cuda")
    with pytest.raises(ValueError, match="unknown backend"):
        fastnn.fit(X0, Y0, backend="cuda", iterations=1)


@pytest.mark.parametrize("kw, exc, msg", [
    ({"method": "ones"}, ValueError, "unknown init method 'ones'"),
    ({"hidden": "gelu"}, ValueError, "unknown activation"),
    ({"pieces": 1, "hidden": "maxout"}, ValueError, "pieces must be >= 2"),
    ({"scale": -1.0}, ValueError, "scale must be"),
    ({"dtype": np.int32}, TypeError, "dtype must be float32 or float64"),
])
def test_init_params_bad_input(kw, exc, msg):
    with pytest.raises(exc, match=msg):
        fastnn.init_params(2, 3, 1, **kw)


@pytest.mark.parametrize("args, exc, msg", [
    ((0, 3, 1), ValueError, "n_x must be >= 1"),
    ((2, 2.5, 1), TypeError, "n_h must be an integer"),
    ((2, 3, True), TypeError, "n_y must be an integer"),
])
def test_init_params_bad_sizes(args, exc, msg):
    with pytest.raises(exc, match=msg):
        fastnn.init_params(*args)


@pytest.mark.parametrize("name", fastnn.BACKENDS)
@pytest.mark.parametrize("kw, exc, msg", [
    ({"X": np.array([[0.0, np.nan, 1.0, 2.0, 3.0, 4.0]] * 2)}, ValueError, "X contains NaN"),
    ({"Y": np.array([[0.0, 1.0, np.inf, 0.0, 1.0, 0.0]])}, ValueError, "Y contains NaN or inf"),
    ({"Y": np.array([[0.0, 1.0, 2.0, 0.0, 1.0, 0.0]])}, ValueError, "labels in \\[0, 1\\]"),
    ({"lr": 0.0}, ValueError, "lr must be positive"),
    ({"lr": -1.0}, ValueError, "lr must be positive"),
    ({"lr": float("nan")}, ValueError, "lr must be positive and finite"),
    ({"lr": "big"}, TypeError, "lr must be a number"),
    ({"iterations": -1}, ValueError, "iterations must be >= 0"),
    ({"iterations": 2.5}, TypeError, "iterations must be a non-negative integer"),
    ({"method": "ones"}, ValueError, "unknown init method"),
    ({"hidden": "swish"}, ValueError, "unknown activation"),
    ({"output": "tanh"}, ValueError, "unknown output"),
    ({"X": np.ones((2, 0)), "Y": np.ones((1, 0))}, ValueError, "m = 0"),
])
def test_fit_bad_input(name, kw, exc, msg):
    args = {"X": X0, "Y": Y0, "iterations": 2, "backend": name, "seed": 0}
    args.update(kw)
    with pytest.raises(exc, match=msg):
        fastnn.fit(args.pop("X"), args.pop("Y"), **args)


def test_fit_zero_iterations_returns_initial_params():
    r = fastnn.fit(X0, Y0, params=P0, iterations=0)
    assert r.costs.shape == (0,)
    assert all(np.array_equal(r.params[k], P0[k]) for k in P0)


def test_odd_but_valid_inputs_give_the_same_answer(backend):
    """Integer arrays, Fortran order, strided views and lists give the same result."""
    P, X, Y = make_problem("tanh", "sigmoid", n_x=2, n_h=3, n_y=1, m=8)
    J, g = backend.cost_and_grads(P, X, Y)
    Xi = np.round(X * 4).astype(np.int32)
    Ji, gi = backend.cost_and_grads(P, Xi, Y.astype(np.int64))
    Jr, gr = fastnn.get_backend("numpy").cost_and_grads(P, Xi.astype(float), Y)
    assert Ji == pytest.approx(Jr, rel=1e-12)
    variants = [
        ({k: np.asfortranarray(v) for k, v in P.items()}, np.asfortranarray(X), Y),
        (P, np.repeat(X, 2, axis=1)[:, ::2], np.repeat(Y, 2, axis=1)[:, ::2]),
        ({k: v.tolist() for k, v in P.items()}, X.tolist(), Y.tolist()),
        (P, X, Y[0]),  # 1-D Y when n_y = 1
    ]
    for Pv, Xv, Yv in variants:
        Jv, gv = backend.cost_and_grads(Pv, Xv, Yv)
        assert Jv == pytest.approx(J, rel=1e-12)
        for k in g:
            np.testing.assert_allclose(gv[k], g[k], rtol=1e-12)


def test_nothing_handed_in_is_modified(backend, hidden):
    P, X, Y = make_problem(hidden, "sigmoid", m=9)
    X = np.asfortranarray(X)  # also an unusual layout
    copies = ({k: v.copy() for k, v in P.items()}, X.copy(), Y.copy())
    A2, cache = backend.forward(P, X, hidden=hidden)
    cache_copy = {k: v.copy() for k, v in cache.items()}
    backend.backward(P, cache, X, Y, hidden=hidden)
    backend.cost_and_grads(P, X, Y, hidden=hidden)
    fastnn.fit(X, Y, params=P, hidden=hidden, backend=backend.name, iterations=3)
    fastnn.predict(P, X, hidden=hidden, backend=backend.name)
    for k in P:
        np.testing.assert_array_equal(P[k], copies[0][k])
    np.testing.assert_array_equal(X, copies[1])
    np.testing.assert_array_equal(Y, copies[2])
    for k in cache:
        np.testing.assert_array_equal(cache[k], cache_copy[k])
