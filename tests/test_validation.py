"""Bad input gets a clear ValueError/TypeError on every backend; odd but valid input works;
nothing handed in is modified."""

import re
import sys

import numpy as np
import pytest

import fastnn
import fastnn.validate as V
from conftest import make_problem


def _good(hidden="tanh", m=6):
    return make_problem(hidden, "sigmoid", n_x=2, n_h=3, n_y=1, m=m)


def _replace(P, **kw):
    Q = dict(P)
    Q.update(kw)
    return Q


P0, X0, Y0 = _good()
A20 = np.full((1, 6), 0.25)  # predictions, for cost(A2, Y)


def _poke(a, value, at=(0, 3)):
    """A copy of ``a`` with one entry set to ``value``."""
    b = np.array(a, dtype=float)
    b[at] = value
    return b


# What each bad input reaches: "P" params (every entry given params), "Xrel" X judged against the
# params (not fit_logistic, which builds its own), "X" X alone (every entry), "Y" Y (entries that
# take Y, including cost(A2, Y)), "Yshape" Y's shape against X (not cost(A2, Y), whose Y is judged
# against A2), "Yrel" Y judged against the params.
ENTRIES = {
    "forward": ("P", "Xrel", "X"),
    "backward": ("P", "Xrel", "X", "Y", "Yshape", "Yrel"),
    "cost_and_grads": ("P", "Xrel", "X", "Y", "Yshape", "Yrel"),
    "fit": ("P", "Xrel", "X", "Y", "Yshape", "Yrel"),
    "fit_logistic": ("X", "Y", "Yshape"),
    "predict": ("P", "Xrel", "X"),
    "cost": ("P", "Xrel", "X", "Y", "Yshape", "Yrel"),
    "cost(A2, Y)": ("Y",),
}

#: case -> (exception, message regex, what it reaches, (params, X, Y), output)
BAD = {
    # values
    "X NaN": (ValueError, r"X contains NaN or inf \(first at X\[0, 3\] = nan\)", "X",
              lambda: (P0, _poke(X0, np.nan), Y0), "sigmoid"),
    "X +inf": (ValueError, r"X contains NaN or inf .*= inf", "X",
               lambda: (P0, _poke(X0, np.inf, (1, 5)), Y0), "sigmoid"),
    "X -inf, linear": (ValueError, r"X contains NaN or inf .*= -inf", "X",
                       lambda: (P0, _poke(X0, -np.inf), Y0), "linear"),
    "W1 NaN": (ValueError, r"W1 contains NaN or inf \(first at W1\[2, 1\]", "P",
               lambda: (_replace(P0, W1=_poke(P0["W1"], np.nan, (2, 1))), X0, Y0), "sigmoid"),
    "b1 inf": (ValueError, "b1 contains NaN or inf", "P",
               lambda: (_replace(P0, b1=_poke(P0["b1"], np.inf, (0, 0))), X0, Y0), "sigmoid"),
    "W2 -inf": (ValueError, "W2 contains NaN or inf", "P",
                lambda: (_replace(P0, W2=_poke(P0["W2"], -np.inf, (0, 2))), X0, Y0), "linear"),
    "b2 NaN": (ValueError, "b2 contains NaN or inf", "P",
               lambda: (_replace(P0, b2=np.full((1, 1), np.nan)), X0, Y0), "sigmoid"),
    "Y NaN": (ValueError, r"Y contains NaN or inf \(first at Y\[0, 3\] = nan\)", "Y",
              lambda: (P0, X0, _poke(Y0, np.nan)), "sigmoid"),
    "Y inf": (ValueError, r"Y contains NaN or inf .*= inf", "Y",
              lambda: (P0, X0, _poke(Y0, np.inf)), "sigmoid"),
    "Y NaN, linear": (ValueError, "Y contains NaN or inf", "Y",
                      lambda: (P0, X0, _poke(Y0, np.nan)), "linear"),
    "Y -inf, linear": (ValueError, "Y contains NaN or inf", "Y",
                       lambda: (P0, X0, _poke(Y0, -np.inf)), "linear"),
    "label 2": (ValueError, r"labels in \[0, 1\] .*\[0.0, 2.0\]", "Y",
                lambda: (P0, X0, _poke(Y0, 2.0)), "sigmoid"),
    "label -0.5": (ValueError, r"labels in \[0, 1\]", "Y",
                   lambda: (P0, X0, _poke(Y0, -0.5)), "sigmoid"),
    # missing and non-numeric
    "Y None": (TypeError, r"^Y is missing \(got None\)$", "Y", lambda: (P0, X0, None), "sigmoid"),
    "Y None, linear": (TypeError, "Y is missing", "Y", lambda: (P0, X0, None), "linear"),
    "X None": (TypeError, "X is missing", "X", lambda: (P0, None, Y0), "sigmoid"),
    "X strings": (TypeError, "X must hold real numbers", "X",
                  lambda: (P0, np.full((2, 6), "a"), Y0), "sigmoid"),
    "X complex": (TypeError, "X must hold real numbers", "X", lambda: (P0, X0 + 1j, Y0),
                  "sigmoid"),
    "X objects": (TypeError, "X must hold real numbers, got dtype object", "X",
                  lambda: (P0, np.array([[1, None]] * 2, dtype=object), Y0), "sigmoid"),
    "X ragged": (TypeError, "X cannot be read", "X", lambda: (P0, [[1.0, 2.0], [3.0]], Y0),
                 "sigmoid"),
    "Y strings": (TypeError, "Y must hold real numbers", "Y",
                  lambda: (P0, X0, np.full((1, 6), "y")), "sigmoid"),
    "W1 strings": (TypeError, "W1 must hold real numbers", "P",
                   lambda: (_replace(P0, W1=np.full((3, 2), "w")), X0, Y0), "sigmoid"),
    "params not dict": (TypeError, "params must be a dict", "P", lambda: ([1, 2], X0, Y0),
                        "sigmoid"),
    # shapes
    "X 1-D": (ValueError, "X must be 2-D", "X", lambda: (P0, X0[0], Y0), "sigmoid"),
    "X 3-D": (ValueError, "X must be 2-D", "X", lambda: (P0, X0[None], Y0), "sigmoid"),
    "X wrong n_x": (ValueError, "features", "Xrel", lambda: (P0, np.ones((3, 6)), Y0),
                    "sigmoid"),
    "X transposed": (ValueError, r"X has shape \(6, 2\) but must be \(n_x, m\) = \(2, 6\) "
                     "with examples as columns; it looks transposed: pass X.T", "Xrel",
                     lambda: (P0, X0.T, Y0), "sigmoid"),
    "m = 0": (ValueError, "m = 0", "X", lambda: (P0, np.ones((2, 0)), np.ones((1, 0))),
              "sigmoid"),
    "Y wrong m": (ValueError, "Y has shape", "Yshape", lambda: (P0, X0, np.ones((1, 5))),
                  "sigmoid"),
    "Y wrong n_y": (ValueError, "Y has shape", "Yrel", lambda: (P0, X0, np.ones((2, 6))),
                    "linear"),
    "Y 3-D": (ValueError, "Y must be 1-D or 2-D", "Y", lambda: (P0, X0, Y0[None]), "sigmoid"),
    "params missing W2": (ValueError, "missing W2", "P",
                          lambda: ({k: v for k, v in P0.items() if k != "W2"}, X0, Y0),
                          "sigmoid"),
    "W1 wrong ndim": (ValueError, "W1 must be 2-D", "P",
                      lambda: (_replace(P0, W1=P0["W1"][0]), X0, Y0), "sigmoid"),
    "b1 wrong shape": (ValueError, "b1 must have shape", "P",
                       lambda: (_replace(P0, b1=np.zeros(3)), X0, Y0), "sigmoid"),
    "W2 wrong shape": (ValueError, "W2 must have shape", "P",
                       lambda: (_replace(P0, W2=np.zeros((1, 4))), X0, Y0), "sigmoid"),
    "b2 wrong shape": (ValueError, "b2 must have shape", "P",
                       lambda: (_replace(P0, b2=np.zeros((2, 1))), X0, Y0), "sigmoid"),
}


def _call(entry, name, P, X, Y, output):
    """Run one public entry on backend ``name`` (params given wherever the entry takes them)."""
    be = fastnn.get_backend(name)
    if entry == "forward":
        return be.forward(P, X, output=output)
    if entry == "backward":
        _, cache = fastnn.get_backend("numpy").forward(P0, X0, output=output)
        return be.backward(P, cache, X, Y, output=output)
    if entry == "cost_and_grads":
        return be.cost_and_grads(P, X, Y, output=output)
    if entry == "fit":
        return fastnn.fit(X, Y, params=P, output=output, backend=name, iterations=2)
    if entry == "fit_logistic":
        return fastnn.fit_logistic(X, Y, backend=name, iterations=2)
    if entry == "predict":
        return fastnn.predict(P, X, output=output, backend=name)
    if entry == "cost":
        return fastnn.cost(P, Y, X=X, output=output, backend=name)
    return fastnn.cost(A20, Y, output)


def _output(entry, case):
    """The output a case is run with (logistic regression has only the sigmoid one; its Y
    cases still apply)."""
    return "sigmoid" if entry == "fit_logistic" else BAD[case][4]


def _refusal(f, what):
    try:
        f()
    except (ValueError, TypeError) as e:
        return type(e), str(e)
    pytest.fail(f"{what} accepted the bad input")


def _error(entry, name, case):
    P, X, Y = BAD[case][3]()
    return _refusal(lambda: _call(entry, name, P, X, Y, _output(entry, case)),
                    f"{entry} on {name}, {case!r}:")


def _boundary_error(entry, case):
    """What the boundary says about ``case`` as ``entry`` hands it over: ``prepare`` (without Y
    for the entries that take none), or ``prepare_cost`` for the cost of predictions."""
    P, X, Y = BAD[case][3]()
    output = _output(entry, case)
    if entry == "cost(A2, Y)":
        return _refusal(lambda: V.prepare_cost(A20, Y, output), f"prepare_cost, {case!r}:")
    needs_y = "Y" in ENTRIES[entry]
    return _refusal(lambda: V.prepare(P, X, Y, "tanh", output, needs_y=needs_y),
                    f"prepare, {case!r}:")


#: (case, entry) pairs where the entry reads what the case spoils
MATRIX = [(c, e) for c in BAD for e, reads in ENTRIES.items() if BAD[c][2] in reads]
#: one bad input of each kind an entry can meet: a spoilt value, type and shape of params, X
#: and Y, Y missing, labels out of range, and each shape that is judged against another array
REPRESENTATIVE = ("W1 NaN", "W1 strings", "params missing W2", "X NaN", "X strings", "X 1-D",
                  "X wrong n_x", "Y None", "Y inf", "label 2", "Y wrong m", "Y wrong n_y")


def test_the_matrix_covers_every_entry_and_case():
    """The tables above are not vacuous: every entry meets many cases, every case several
    entries (Y None reaches all six entries that take Y), and the representative cases are
    bad inputs of every kind an entry can meet."""
    assert {e for _, e in MATRIX} == set(ENTRIES)
    assert {c for c, _ in MATRIX} == set(BAD)
    assert all(sum(e == x for _, e in MATRIX) >= 8 for x in ENTRIES)
    assert sum(c == "Y None" for c, _ in MATRIX) == 6
    assert set(REPRESENTATIVE) <= set(BAD)
    assert {BAD[c][2] for c in REPRESENTATIVE} == {r for reads in ENTRIES.values() for r in reads}
    assert {BAD[c][0] for c in REPRESENTATIVE} == {ValueError, TypeError}


@pytest.mark.parametrize("case", BAD)
def test_the_boundary_refuses_each_bad_input(case):
    """The one boundary, :func:`fastnn.validate.prepare`, refuses every bad input with its
    exception and message; with Y not needed (the forward pass) it says the same about params
    and X; the cost of predictions (:func:`~fastnn.validate.prepare_cost`) the same about Y."""
    exc, msg, reach, make, output = BAD[case]
    P, X, Y = make()
    got = _refusal(lambda: V.prepare(P, X, Y, "tanh", output), f"prepare, {case!r}:")
    assert got[0] is exc and re.search(msg, got[1]), got
    if reach == "Y":
        assert _refusal(lambda: V.prepare_cost(A20, Y, output), "prepare_cost") == got
    if reach in ENTRIES["forward"]:
        assert _boundary_error("forward", case) == got


@pytest.mark.parametrize("case, entry", MATRIX)
def test_each_entry_gives_the_boundarys_error(case, entry):
    """Every public entry refuses each bad input it reads with the boundary's exception and
    message: nothing before the boundary judges the input differently (on the reference
    backend; every backend runs the same entry code, shown below)."""
    assert _error(entry, fastnn.backends.REFERENCE, case) == _boundary_error(entry, case)


@pytest.mark.parametrize("name", fastnn.BACKENDS)
@pytest.mark.parametrize("entry", ENTRIES)
def test_every_backend_gives_the_boundarys_error(entry, name):
    """The same on every backend, for one bad input of each kind the entry reads."""
    cases = [c for c in REPRESENTATIVE if BAD[c][2] in ENTRIES[entry]]
    assert len(cases) >= 3
    for case in cases:
        assert _error(entry, name, case) == _boundary_error(entry, case), case


@pytest.fixture
def boundary_calls(monkeypatch):
    """Every call of ``prepare``/``prepare_cost``, wherever fastnn imported them, as (which,
    args); the real function still runs."""
    calls = []
    for fname in ("prepare", "prepare_cost"):
        real = getattr(V, fname)

        def spy(*args, _real=real, _name=fname, **kw):
            calls.append((_name, args))
            return _real(*args, **kw)
        for mod in [m for m in list(sys.modules.values()) if m and
                    m.__name__.startswith("fastnn") and getattr(m, fname, None) is real]:
            monkeypatch.setattr(mod, fname, spy)
    return calls


@pytest.mark.parametrize("name", fastnn.BACKENDS)
@pytest.mark.parametrize("entry", ENTRIES)
def test_every_entry_calls_the_boundary_once_with_the_callers_arrays(entry, name,
                                                                     boundary_calls):
    """Each public entry on every backend sends the caller's own arrays through the boundary,
    once per call (not per step)."""
    Y = Y0.copy()
    if entry == "backward":  # the cache comes from a forward pass of its own
        _, cache = fastnn.get_backend(name).forward(P0, X0)
        boundary_calls.clear()
        out = fastnn.get_backend(name).backward(P0, cache, X0, Y)
    else:
        out = _call(entry, name, P0, X0, Y, "sigmoid")
    assert out is not None
    assert len(boundary_calls) == 1, boundary_calls
    which, args = boundary_calls[0]
    if entry == "cost(A2, Y)":
        assert which == "prepare_cost" and args[0] is A20 and args[1] is Y
        return
    assert which == "prepare" and args[1] is X0
    assert args[0] is P0 or entry == "fit_logistic"  # which builds its own w = 0
    assert args[2] is (Y if "Y" in ENTRIES[entry] else None)


@pytest.mark.parametrize("name", fastnn.BACKENDS)
def test_huge_finite_values_are_not_refused(name):
    """The finiteness check's fast path (a sum) overflows on huge finite values; the exact test
    behind it must then accept them."""
    be = fastnn.get_backend(name)
    X = np.full((2, 6), 1e308)
    A2, _ = be.forward(P0, X)
    assert A2.shape == (1, 6)
    X32 = np.full((2, 6), 3e38, dtype=np.float32)
    assert be.forward({k: v.astype(np.float32) for k, v in P0.items()}, X32)[0].shape == (1, 6)
    J, _ = be.cost_and_grads(P0, X0, np.full((1, 6), 1e308), output="linear")
    assert J == np.inf


def test_labels_outside_0_1_are_fine_for_a_linear_output(backend):
    J, _ = backend.cost_and_grads(P0, X0, _poke(Y0, 2.0), output="linear")
    assert np.isfinite(J)


def test_cost_from_predictions_checks_A2():
    with pytest.raises(ValueError, match="A2 contains NaN or inf"):
        fastnn.cost(_poke(A20, np.nan), Y0)
    with pytest.raises(ValueError, match=r"A2 must hold probabilities in \[0, 1\]"):
        fastnn.cost(_poke(A20, 1.5), Y0)
    assert fastnn.cost(_poke(A20, 1.5), Y0, "linear") > 0
    with pytest.raises(ValueError, match="A2 has shape"):
        fastnn.cost(A20[:, :5], Y0)


@pytest.mark.parametrize("name", fastnn.BACKENDS)
def test_validation_runs_once_per_call_not_per_step(name, monkeypatch):
    """fit validates once: the number of finiteness checks does not grow with iterations."""
    import fastnn.validate as V
    calls = []
    real = V.check_finite
    monkeypatch.setattr(V, "check_finite", lambda a, n: (calls.append(n), real(a, n)))
    fastnn.fit(X0, Y0, params=P0, backend=name, iterations=1)
    once = len(calls)
    calls.clear()
    fastnn.fit(X0, Y0, params=P0, backend=name, iterations=25)
    assert len(calls) == once == 5  # W1, b1, W2, b2, X (Y's min/max cover its finiteness)
    calls.clear()
    fastnn.get_backend(name).cost_and_grads(P0, X0, Y0, output="linear")
    assert sorted(calls) == sorted(["W1", "b1", "W2", "b2", "X", "Y"])


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


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_large_arrays_take_the_compiled_checks(dtype):
    """The value checks are compiled passes: in a large array (2**14 values and more) they must
    find one NaN, ±inf or label 2 anywhere, name it as for a small one, and accept huge finite
    values."""
    m = (1 << 14) // 2 + 3
    P = {k: v.astype(dtype) for k, v in P0.items()}
    X = np.zeros((2, m), dtype)
    Y = np.zeros((1, m), dtype)
    be = fastnn.get_backend("numpy")
    for v in (np.nan, np.inf, -np.inf):
        with pytest.raises(ValueError, match=rf"X contains NaN or inf \(first at X\[1, {m - 1}\]"):
            be.forward(P, _poke(X, v, (1, m - 1)).astype(dtype))
        for output in fastnn.OUTPUTS:
            with pytest.raises(ValueError, match=rf"Y contains NaN or inf \(first at Y\[0, {m - 2}"):
                be.cost_and_grads(P, X, _poke(Y, v, (0, m - 2)).astype(dtype), output=output)
    with pytest.raises(ValueError, match=r"labels in \[0, 1\] .*\[0.0, 2.0\]"):
        be.cost_and_grads(P, X, _poke(Y, 2.0, (0, m - 1)).astype(dtype))
    big = np.finfo(dtype).max
    assert be.forward(P, np.full((2, m), big, dtype))[0].shape == (1, m)
    J, _ = be.cost_and_grads(P, X, np.full((1, m), big, dtype), output="linear")
    assert J == np.inf
