"""Every array a user can hand in works on every backend with numpy's values and is never modified.

Arrays as users really have them: read-only (``setflags(write=False)``, pandas' ``to_numpy()``),
strided slices and transposed views, Fortran order, broadcast views, ``np.memmap`` (writable and
read-only), big-endian data, unaligned buffers, integer and float16 arrays, integer and boolean
labels. A Hypothesis strategy
draws a layout for each of W1, b1, W2, b2, X and Y and calls every public entry on every backend;
the reference is the numpy backend on plain C-contiguous copies of the same values. Values are
multiples of 1/8 in [−3, 3] (as in ``test_api_properties``), so every sum up to Z1 is exact and
ReLU's kink and maxout's ties fall the same way everywhere.
"""

import itertools
import os
import tempfile

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import fastnn
from fastnn.validate import kernel_array, prepare

from conftest import BOUNDARY_PAIRS

REF = "numpy"
GRID = st.integers(-24, 24).map(lambda i: i / 8)
LAYOUTS = ("contiguous", "read-only", "fortran", "strided", "transposed view", "reversed",
           "broadcast", "memmap", "memmap read-only", "big-endian", "unaligned", "pandas")
#: other dtypes for any array (the values rounded to integers first; float16 holds them exactly)
DTYPES = ("int32", "float16")
#: layouts that change the dtype of labels (only for Y holding 0/1)
LABEL_DTYPES = ("int64", "uint8", "bool")
_TMP = tempfile.mkdtemp(prefix="fastnn-layouts-")
_COUNT = itertools.count()


def present(a, layout):
    """The values of ``a`` (after the layout's own change, for ``broadcast``) in ``layout``."""
    if layout == "contiguous":
        return a.copy()
    if layout == "read-only":
        b = a.copy()
        b.setflags(write=False)
        return b
    if layout == "fortran":
        return np.asfortranarray(a)
    if layout == "strided":  # every other column of a wider array
        return np.repeat(a, 2, axis=-1)[..., ::2]
    if layout == "transposed view":
        return np.ascontiguousarray(np.swapaxes(a, -1, -2)).swapaxes(-1, -2)
    if layout == "reversed":  # negative strides
        return a[..., ::-1].copy()[..., ::-1]
    if layout == "broadcast":  # zero strides: the first column repeated (read-only)
        return np.broadcast_to(a[..., :1], a.shape)
    if layout.startswith("memmap"):
        path = os.path.join(_TMP, f"{next(_COUNT)}.dat")
        mm = np.memmap(path, dtype=a.dtype, mode="w+", shape=a.shape)
        mm[...] = a
        mm.flush()
        del mm
        return np.memmap(path, dtype=a.dtype, mode="r" if "read-only" in layout else "r+",
                         shape=a.shape)
    if layout == "big-endian":
        return a.astype(a.dtype.newbyteorder(">"))
    if layout == "unaligned":
        buf = np.empty(a.nbytes + 1, np.uint8)[1:].view(a.dtype).reshape(a.shape)
        buf[...] = a
        return buf
    if layout == "pandas":  # examples as rows in the frame, as a user keeps them; read-only
        flat = a.reshape(-1, a.shape[-1])
        return pd.DataFrame(flat.T).to_numpy().T.reshape(a.shape)
    if layout in LABEL_DTYPES:
        return a.astype(layout)
    if layout in DTYPES:
        return np.round(a).astype(layout)
    raise AssertionError(layout)


def clean(a):
    """A plain, writable, C-contiguous copy in native byte order, of the same kind of dtype."""
    return None if a is None else np.array(a, dtype=a.dtype.newbyteorder("="), order="C")


@st.composite
def cases(draw):
    n_x, n_h, n_y, m = (draw(st.integers(1, 3)), draw(st.integers(1, 4)),
                        draw(st.integers(1, 2)), draw(st.integers(2, 40)))
    hidden, output = draw(st.sampled_from(BOUNDARY_PAIRS))  # see conftest
    dtype = draw(st.sampled_from(["float64", "float32"]))
    k = (draw(st.integers(2, 3)),) if hidden == "maxout" else ()
    shapes = {"W1": k + (n_h, n_x), "b1": k + (n_h, 1), "W2": (n_y, n_h), "b2": (n_y, 1),
              "X": (n_x, m)}
    a = {name: draw(arrays(dtype, s, elements=GRID)) for name, s in shapes.items()}
    a["Y"] = (draw(arrays(dtype, (n_y, m), elements=st.sampled_from([0.0, 1.0])))
              if output == "sigmoid" else draw(arrays(dtype, (n_y, m), elements=GRID)))
    layout = {}
    for name in a:
        labels = name == "Y" and output == "sigmoid" and draw(st.booleans())
        layout[name] = draw(st.sampled_from(LABEL_DTYPES if labels else LAYOUTS + DTYPES))
        a[name] = present(a[name], layout[name])
    return dict(a, hidden=hidden, output=output, layout=layout)


ENTRIES = ("forward", "backward", "cost_and_grads", "fit", "fit without params", "fit_logistic",
           "predict", "cost of a network", "cost of predictions")


def _run(entry, name, c):
    P = {k: c[k] for k in ("W1", "b1", "W2", "b2")}
    X, Y, kw = c["X"], c["Y"], {"hidden": c["hidden"], "output": c["output"]}
    be = fastnn.get_backend(name)
    if entry == "forward":
        return be.forward(P, X, **kw)
    if entry == "backward":
        _, cache = fastnn.get_backend(REF).forward({k: clean(v) for k, v in P.items()},
                                                   clean(X), **kw)
        for v in cache.values():
            v.setflags(write=False)  # a cache handed back read-only works too
        return be.backward(P, cache, X, Y, **kw)
    if entry == "cost_and_grads":
        return be.cost_and_grads(P, X, Y, **kw)
    if entry == "fit":
        r = fastnn.fit(X, Y, params=P, backend=name, iterations=2, lr=0.1, **kw)
        return r.costs, r.params
    if entry == "fit without params":
        r = fastnn.fit(X, Y, n_h=3, backend=name, iterations=2, lr=0.1, seed=1, **kw)
        return r.costs, r.params
    if entry == "fit_logistic":
        if c["output"] != "sigmoid":
            return None
        r = fastnn.fit_logistic(X, Y, backend=name, iterations=2, lr=0.1)
        return r.costs, r.params
    if entry == "predict":
        return fastnn.predict(P, X, backend=name, **kw)
    if entry == "cost of a network":
        return fastnn.cost(P, Y, X=X, backend=name, **kw)
    A2 = c["X"][:1] if c["output"] == "linear" else np.clip(c["X"][:1], 0, 1)
    return fastnn.cost(A2, Y[:1], c["output"])


def _arrays(out):
    if out is None:
        return []
    if isinstance(out, dict):
        return [np.asarray(out[k]) for k in sorted(out)]
    if isinstance(out, tuple):
        return [a for part in out for a in _arrays(part)]
    return [np.asarray(out)]


def _snapshot(c):
    return {k: (clean(v), v.flags.writeable, v.dtype, v.strides) for k, v in c.items()
            if isinstance(v, np.ndarray)}


def _unchanged(before, c):
    for k, (values, writeable, dtype, strides) in before.items():
        v = c[k]
        assert v.flags.writeable == writeable and v.dtype == dtype and v.strides == strides, k
        assert np.array_equal(values, v), f"{k} ({c['layout'][k]}) was modified"


@pytest.fixture(scope="module", autouse=True)
def _compiled():
    """Compile numba's kernels before Hypothesis' deadline applies."""
    for dtype in (np.float64, np.float32):
        for hidden, output in BOUNDARY_PAIRS:
            P = fastnn.init_params(2, 3, 1, hidden=hidden, seed=0, dtype=dtype)
            X, Y = np.ones((2, 4), dtype), np.ones((1, 4), dtype)
            fastnn.fit(X, Y, params=P, hidden=hidden, output=output, backend="numba",
                       iterations=1)


@pytest.mark.parametrize("name", fastnn.BACKENDS)
@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(c=cases())
def test_every_layout_gives_numpys_values_and_is_not_modified(name, c):
    ref_case = dict(c, **{k: clean(c[k]) for k in ("W1", "b1", "W2", "b2", "X", "Y")})
    before = _snapshot(c)
    for entry in ENTRIES:
        got, ref = _arrays(_run(entry, name, c)), _arrays(_run(entry, REF, ref_case))
        _unchanged(before, c)
        assert [g.shape for g in got] == [r.shape for r in ref], entry
        if "float32" in fastnn.get_backend(name).dtypes:  # else it computes in float64 only
            assert [g.dtype for g in got] == [r.dtype for r in ref], entry
        tol = 2e-4 if c["X"].dtype.newbyteorder("=") == np.float32 else 1e-9
        for g, r in zip(got, ref):
            scale = 1.0 + float(np.max(np.abs(r), initial=0.0))
            np.testing.assert_allclose(g, r, rtol=tol, atol=tol * scale,
                                       err_msg=f"{entry} on {name}, layouts {c['layout']}")


# --- the cases, each with its value ----------------------------------------------------

def _flower():
    X, Y = fastnn.flower(60, seed=1)
    return X, Y


def _read_only(a):
    b = a.copy()
    b.setflags(write=False)
    return b


READ_ONLY = {
    "setflags": _read_only,
    "broadcast_to": lambda a: np.broadcast_to(a, a.shape),  # a read-only view of a
    "pandas to_numpy": lambda a: pd.DataFrame(a.T).to_numpy().T,
}


@pytest.mark.parametrize("n_x", [2, 33])  # numba's narrow and wide (register-blocked) steps
@pytest.mark.parametrize("how", sorted(READ_ONLY))
@pytest.mark.parametrize("name", fastnn.BACKENDS)
def test_read_only_X_and_Y_train_like_numpy(name, how, n_x):
    """Issue 19, case 1: numba raised TypingError 'Cannot modify readonly array' in fit and
    cost_and_grads for a read-only X or Y."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n_x, 30))
    Y = (rng.random((1, 30)) > 0.5).astype(np.float64)
    Xr, Yr = READ_ONLY[how](X), READ_ONLY[how](Y)
    assert not Xr.flags.writeable and not Yr.flags.writeable
    P = fastnn.init_params(n_x, 4, 1, seed=2)
    J, grads = fastnn.get_backend(name).cost_and_grads(P, Xr, Yr)
    J0, grads0 = fastnn.get_backend(REF).cost_and_grads(P, X, Y)
    assert J == pytest.approx(J0, rel=1e-12)
    for k in grads0:
        np.testing.assert_allclose(grads[k], grads0[k], rtol=1e-9, atol=1e-15)
    r = fastnn.fit(Xr, Yr, n_h=4, backend=name, iterations=3, seed=2)
    r0 = fastnn.fit(X, Y, n_h=4, backend=REF, iterations=3, seed=2)
    np.testing.assert_allclose(r.costs, r0.costs, rtol=1e-12)
    assert np.array_equal(Xr, X) and np.array_equal(Yr, Y) and not Xr.flags.writeable


def test_boundary_copies_only_when_needed():
    """A writable C-contiguous float array reaches the kernels as itself; anything else as one
    new writable, C-contiguous, native copy."""
    P = fastnn.init_params(2, 3, 1, seed=0)
    X, Y = fastnn.flower(20, seed=0)
    P2, X2, Y2, _ = prepare(P, X, Y, "tanh", "sigmoid")
    assert X2 is X and Y2 is Y and all(P2[k] is P[k] for k in P)
    for layout in LAYOUTS:
        Xl = present(X, layout)
        Xk = kernel_array(Xl, np.dtype(np.float64))
        assert Xk.flags.c_contiguous and Xk.flags.writeable and Xk.flags.aligned
        assert Xk.dtype == np.float64 and Xk.dtype.isnative and type(Xk) is np.ndarray
        assert np.array_equal(Xk, Xl)
        plain = layout in ("contiguous", "memmap")
        assert np.shares_memory(Xk, Xl) == plain, layout
    Xi = np.arange(6).reshape(2, 3)
    assert kernel_array(Xi, np.dtype(np.float64)).dtype == np.float64


@pytest.mark.parametrize("name", fastnn.BACKENDS)
def test_big_endian_float32_is_float32(name):
    """A big-endian float32 X computes as the native float32 X does (float32 out where the
    backend computes in float32), not widened to float64."""
    P = fastnn.init_params(2, 3, 1, seed=0, dtype=np.float32)
    X, _ = fastnn.flower(20, seed=0)
    X = X.astype(np.float32)
    be = fastnn.get_backend(name)
    A2, _ = be.forward(P, X.astype(">f4"))
    native, _ = be.forward(P, X)
    assert A2.dtype == native.dtype and A2.dtype.isnative
    assert np.array_equal(A2, native)
    if "float32" in be.dtypes:
        assert A2.dtype == np.float32


# --- case 3: a transposed X or Y gets the same message through every entry ---------------------

X_T = "X has shape (60, 2) but must be (n_x, m) = (2, 60) with examples as columns; it looks " \
      "transposed: pass X.T"
Y_T = "Y has shape (60, 1) but must be (n_y, m) = (1, 60) with examples as columns; it looks " \
      "transposed: pass Y.T"


def _message(call):
    with pytest.raises(ValueError) as e:
        call()
    return str(e.value)


@pytest.mark.parametrize("name", fastnn.BACKENDS)
@pytest.mark.parametrize("which, want", [("X", X_T), ("Y", Y_T), ("both", X_T)])
def test_transposed_input_same_message_everywhere(name, which, want):
    """Issue 19, case 3: without params fit said Y 'must be (n_y, m) = (60, 60)' for Y.T and
    '(1, 2)' for X.T, reading n_x and n_y from the wrong axes."""
    X, Y = _flower()
    X = X.T if which in ("X", "both") else X
    Y = Y.T if which in ("Y", "both") else Y
    P = fastnn.init_params(2, 4, 1, seed=0)
    be = fastnn.get_backend(name)
    calls = {
        "fit": lambda: fastnn.fit(X, Y, backend=name, iterations=1),
        "fit with params": lambda: fastnn.fit(X, Y, params=P, backend=name, iterations=1),
        "fit_logistic": lambda: fastnn.fit_logistic(X, Y, backend=name, iterations=1),
        "cost_and_grads": lambda: be.cost_and_grads(P, X, Y),
        "backward": lambda: be.backward(P, {}, X, Y),
        "cost": lambda: fastnn.cost(P, Y, X=X, backend=name),
    }
    if which == "X":
        calls["forward"] = lambda: be.forward(P, X)
        calls["predict"] = lambda: fastnn.predict(P, X, backend=name)
    got = {entry: _message(call) for entry, call in calls.items()}
    assert got == {entry: want for entry in calls}


def test_wrong_m_same_message_with_and_without_params():
    X, Y = _flower()
    P = fastnn.init_params(2, 4, 1, seed=0)
    want = "Y has shape (1, 59) but must be (n_y, m) = (1, 60): X has m = 60 examples (columns)"
    assert _message(lambda: fastnn.fit(X, Y[:, 1:], iterations=1)) == want
    assert _message(lambda: fastnn.fit(X, Y[:, 1:], params=P, iterations=1)) == want
    assert _message(lambda: fastnn.get_backend(REF).cost_and_grads(P, X, Y[:, 1:])) == want
    assert _message(lambda: fastnn.fit_logistic(X, Y[:, 1:], iterations=1)) == want


# --- case 4: the initial parameters are drawn in the dtype the run uses ------------------------

@pytest.mark.parametrize("name", fastnn.BACKENDS)
@pytest.mark.parametrize("y_dtype, run", [("uint8", np.float64), ("bool", np.float64),
                                          ("float64", np.float64), ("float32", np.float32)])
def test_initial_params_in_the_run_dtype(name, y_dtype, run):
    """Issue 19, case 4: float32 X with uint8 Y trained in float64 from weights drawn in float32
    (~3e-10 from the float64 draw)."""
    X, Y = _flower()
    X = X.astype(np.float32)
    r = fastnn.fit(X, Y.astype(y_dtype), n_h=4, backend=name, iterations=0, seed=5)
    want = fastnn.init_params(2, 4, 1, seed=5, dtype=run)
    for k in want:
        assert r.params[k].dtype == run
        assert np.array_equal(r.params[k], want[k]), k
    if "float32" in fastnn.get_backend(name).dtypes:  # else it computes in float64 only
        r1 = fastnn.fit(X, Y.astype(y_dtype), n_h=4, backend=name, iterations=1, seed=5)
        assert all(v.dtype == run for v in r1.params.values())
    logistic = fastnn.fit_logistic(X, Y.astype(y_dtype), backend=name, iterations=0)
    assert all(v.dtype == run for v in logistic.params.values())


def test_the_strategy_draws_most_layouts():
    """The property above is not vacuous: its examples cover most layouts (every one is also
    run on its own below)."""
    seen = set()

    @settings(max_examples=40, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(c=cases())
    def collect(c):
        seen.update(c["layout"].values())

    collect()
    assert len(seen) >= len(LAYOUTS + DTYPES + LABEL_DTYPES) - 2, seen


def _fixed_case(layout, hidden, output):
    """n_x = 3, n_h = 4, n_y = 2, m = 17 on the 1/8 grid, every array in ``layout`` (a label
    dtype applies to Y only)."""
    rng = np.random.default_rng(7)
    k = (2,) if hidden == "maxout" else ()
    shapes = {"W1": k + (4, 3), "b1": k + (4, 1), "W2": (2, 4), "b2": (2, 1), "X": (3, 17)}
    a = {n: rng.integers(-24, 25, sh) / 8 for n, sh in shapes.items()}
    a["Y"] = (rng.random((2, 17)) > 0.5).astype(np.float64)
    names = ["Y"] if layout in LABEL_DTYPES else list(a)
    a.update({n: present(a[n], layout) for n in names})
    return dict(a, hidden=hidden, output=output, layout={n: layout for n in names})


@pytest.mark.parametrize("hidden", ["tanh", "maxout"])
@pytest.mark.parametrize("layout", LAYOUTS + DTYPES + LABEL_DTYPES)
@pytest.mark.parametrize("name", fastnn.BACKENDS)
def test_each_layout_on_its_own(name, layout, hidden):
    c = _fixed_case(layout, hidden, "sigmoid")
    ref_case = dict(c, **{k: clean(c[k]) for k in ("W1", "b1", "W2", "b2", "X", "Y")})
    before = _snapshot(c)
    for entry in ENTRIES:
        got, ref = _arrays(_run(entry, name, c)), _arrays(_run(entry, REF, ref_case))
        _unchanged(before, c)
        assert [g.shape for g in got] == [r.shape for r in ref], entry
        for g, r in zip(got, ref):
            np.testing.assert_allclose(g, r, rtol=1e-9, atol=1e-12, err_msg=f"{entry} {name}")
