"""Property tests at the public boundary: random shapes, dtypes and values (NaN, ±inf, huge
included) into every public entry on every backend (the headline backend by default, the others
with ``pytest -m slow``).

Each call either gives the numpy backend's answer or is refused with a ``ValueError``/``TypeError``
carrying numpy's exact message; never another exception, never a hang (a deadline), and the
arrays handed in are never modified. A spoiled value or dtype must be refused, a clean problem
accepted.

Values come from a grid of multiples of 1/8 in [−3, 3]: every product and sum up to Z1 is then
exact in float32 and float64 whatever the order, so ReLU's kink at 0 and maxout's ties fall the
same way on every backend and results can be compared tightly. Sizes stay small (m <= 20): the
``python`` backend is slow.
"""

import copy
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import fastnn
from fastnn.backends import HEADLINE, REFERENCE

from conftest import BOUNDARY_PAIRS

REF = REFERENCE
ENTRIES = ("forward", "backward", "cost_and_grads", "fit", "fit_logistic", "predict", "cost")
#: the arrays each entry reads ("P" = the four parameters)
READS = {"forward": "PX", "predict": "PX", "fit_logistic": "XY"}
GRID = st.integers(-24, 24).map(lambda i: i / 8)
NONFINITE = (math.nan, math.inf, -math.inf)
HUGE = (1e300, -1e300, 1e200)
BAD_DTYPES = ("complex128", "U3", "object")
PROPS = settings(max_examples=5, deadline=10_000, derandomize=True,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


#: The (hidden, output) pairs drawn: the representative ones (each numba specialisation drawn is
#: compiled on first use; the boundary's behaviour does not depend on the activation, and every
#: pair's values are checked in test_gradients).
PAIRS = BOUNDARY_PAIRS


@pytest.fixture(scope="module", autouse=True)
def _compiled():
    """Compile the numba kernels for every dtype and drawn pair before the deadline applies."""
    for dtype in (np.float64, np.float32):
        for hidden, output in PAIRS:
            P = fastnn.init_params(2, 3, 1, hidden=hidden, seed=0, dtype=dtype)
            X, Y = np.ones((2, 4), dtype), np.ones((1, 4), dtype)
            be = fastnn.get_backend("numba")
            _, cache = be.forward(P, X, hidden=hidden, output=output)
            be.backward(P, cache, X, Y, hidden=hidden, output=output)
            be.cost_and_grads(P, X, Y, hidden=hidden, output=output)
            fastnn.fit(X, Y, params=P, hidden=hidden, output=output, backend="numba",
                       iterations=1)


#: how a problem is spoiled: "<kind> <where>" (P = one of the parameters); none and layout are clean
SPOILS = ("none", "layout", "value X", "value Y", "value P", "huge X", "huge P", "dtype X",
          "dtype Y", "dtype P", "shape any", "missing Y")


@st.composite
def problems(draw, spoil="none"):
    """A network and data, spoiled as ``spoil`` says. Returns a dict describing the call."""
    n_x, n_h, n_y, m = (draw(st.integers(1, 3)), draw(st.integers(1, 4)),
                        draw(st.integers(1, 2)), draw(st.integers(1, 20)))
    hidden, output = draw(st.sampled_from(PAIRS))
    k = (draw(st.integers(2, 3)),) if hidden == "maxout" else ()
    shapes = {"W1": k + (n_h, n_x), "b1": k + (n_h, 1), "W2": (n_y, n_h), "b2": (n_y, 1),
              "X": (n_x, m), "Y": (n_y, m)}
    a = {name: draw(arrays(np.float64, shape, elements=GRID)) for name, shape in shapes.items()}
    if output == "sigmoid" and draw(st.booleans()):  # usually labels; else maybe out of range
        a["Y"] = draw(arrays(np.float64, shapes["Y"], elements=st.sampled_from([0.0, 0.5, 1.0])))
    dtype = draw(st.sampled_from(["float64", "float32", "int64", "mixed"]))
    if dtype == "float32":
        a = {name: v.astype(np.float32) for name, v in a.items()}
    elif dtype == "int64":
        a["X"] = np.round(a["X"]).astype(np.int64)
    elif dtype == "mixed":
        a["X"] = a["X"].astype(np.float32)
    spoil, _, where = spoil.partition(" ")
    target = {"P": draw(st.sampled_from(["W1", "b1", "W2", "b2"])), "X": "X", "Y": "Y",
              "any": draw(st.sampled_from(sorted(shapes))), "": "X"}[where]
    if spoil in ("value", "huge"):
        v = draw(st.sampled_from(NONFINITE if spoil == "value" else HUGE))
        at = tuple(draw(st.integers(0, d - 1)) for d in a[target].shape)
        a[target] = a[target].astype(np.float64)
        a[target][at] = v
    elif spoil == "dtype":
        bad = draw(st.sampled_from(BAD_DTYPES))
        a[target] = (a[target].astype(bad) if bad != "object" else
                     np.array([None] * a[target].size, dtype=object).reshape(a[target].shape))
    elif spoil == "shape":
        how = draw(st.sampled_from(["T", "drop", "add axis", "1-D"]))
        v = a[target]
        a[target] = {"T": v.T, "drop": v[..., :-1], "add axis": v[None],
                     "1-D": v.reshape(-1)}[how]
    elif spoil == "layout":  # valid: Fortran order and strided views
        a = {name: np.asfortranarray(v) if v.ndim == 2 else v for name, v in a.items()}
        a["X"] = np.repeat(a["X"], 2, axis=1)[:, ::2]
    return {"P": {name: a[name] for name in ("W1", "b1", "W2", "b2")}, "X": a["X"],
            "Y": None if spoil == "missing" else a["Y"], "hidden": hidden, "output": output,
            "spoil": spoil, "target": target, "huge": spoil == "huge"}


def _run(entry, name, c):
    """One public call; ("ok", result), ("refused", (type, message)) or ("diverged", type)."""
    be = fastnn.get_backend(name)
    P, X, Y, hidden, output = c["P"], c["X"], c["Y"], c["hidden"], c["output"]
    kw = {"hidden": hidden, "output": output}
    try:
        if entry == "forward":
            out = be.forward(P, X, **kw)
        elif entry == "backward":
            # the cache comes from the reference on clean copies, so only backward's own
            # validation is under test
            try:
                _, cache = fastnn.get_backend(REF).forward(P, X, **kw)
            except (ValueError, TypeError):
                cache = {}
            out = be.backward(P, cache, X, Y, **kw)
        elif entry == "cost_and_grads":
            out = be.cost_and_grads(P, X, Y, **kw)
        elif entry == "fit":
            r = fastnn.fit(X, Y, params=P, backend=name, iterations=2, lr=0.1, **kw)
            out = (r.costs, r.params)
        elif entry == "fit_logistic":
            r = fastnn.fit_logistic(X, Y, backend=name, iterations=2, lr=0.1)
            out = (r.costs, r.params)
        elif entry == "predict":
            out = fastnn.predict(P, X, backend=name, **kw)
        else:
            out = fastnn.cost(P, Y, X=X, backend=name, **kw)
    except (ValueError, TypeError) as e:
        return "refused", (type(e), str(e))
    except fastnn.DivergenceError:
        return "diverged", fastnn.DivergenceError
    return "ok", out


def _arrays(out):
    """Every array in a result, in a fixed order."""
    if isinstance(out, dict):
        return [np.asarray(out[k]) for k in sorted(out)]
    if isinstance(out, tuple):
        return [a for part in out for a in _arrays(part)]
    return [np.asarray(out)]


def _snapshot(c):
    return copy.deepcopy({"P": c["P"], "X": c["X"], "Y": c["Y"]})


def _same(a, b):
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if a is None or b is None:
        return a is b
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.dtype.kind in "fc":
        return np.array_equal(a, b, equal_nan=True)
    return a.tolist() == b.tolist()


def _check(entry, name, c):
    before = _snapshot(c)
    got, ref = _run(entry, name, c), _run(entry, REF, c)
    assert _same(before, _snapshot(c)), "an input was modified"
    assert got[0] == ref[0], (got, ref)
    reads = READS.get(entry, "PXY")
    spoilt = "P" if c["target"] in ("W1", "b1", "W2", "b2") else c["target"]
    if spoilt in reads:
        if c["spoil"] == "value":
            assert got[0] == "refused" and got[1][0] is ValueError
            assert "contains NaN or inf" in got[1][1]
        if c["spoil"] == "dtype":
            assert got[0] == "refused" and got[1][0] is TypeError
    if c["spoil"] == "missing" and "Y" in reads:
        assert got[1] == (TypeError, "Y is missing (got None)")
    Y = c["Y"]
    labels = Y is not None and Y.dtype.kind in "fi" and Y.min() >= 0 and Y.max() <= 1
    sigmoid = c["output"] == "sigmoid" or entry == "fit_logistic"
    if c["spoil"] in ("none", "layout") and (labels or not sigmoid or "Y" not in reads):
        assert got[0] == "ok", got  # a clean problem is accepted
    if got[0] != "ok":
        assert got[1] == ref[1]  # the same exception and message as numpy
        return
    g, r = _arrays(got[1]), _arrays(ref[1])
    assert [x.shape for x in g] == [x.shape for x in r]
    if c["huge"] or not all(np.all(np.isfinite(x)) for x in r if x.dtype.kind == "f"):
        return  # overflow: the order of a sum decides inf, NaN or finite; only the shapes match
    single = any(x.dtype == np.float32 for x in r)
    tol = 2e-4 if single else 1e-9
    scale = 1.0 + max(float(np.max(np.abs(x), initial=0.0)) for x in r)
    for x, y in zip(g, r):
        np.testing.assert_allclose(x, y, rtol=tol, atol=tol * scale, err_msg=f"{entry} {name}")


#: the headline backend by default, every other one with ``pytest -m slow``
BACKENDS = [pytest.param(n, marks=() if n == HEADLINE else pytest.mark.slow)
            for n in fastnn.BACKENDS]


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("spoil", SPOILS)
@pytest.mark.parametrize("entry", ENTRIES)
def test_public_entry_answers_like_numpy_or_refuses(entry, spoil, name):
    @PROPS
    @given(c=problems(spoil))
    def prop(c):
        _check(entry, name, c)

    prop()


def test_clean_problems_are_accepted():
    """Most clean problems are accepted (the property above is not vacuous); some have labels
    outside [0, 1] for a sigmoid output and are refused."""
    seen = {"ok": 0, "refused": 0}

    @settings(max_examples=40, deadline=None, derandomize=True)
    @given(c=problems("none"))
    def count(c):
        seen[_run("cost_and_grads", REF, c)[0]] += 1

    count()
    assert seen["ok"] >= 20 and seen["refused"] >= 2, seen
