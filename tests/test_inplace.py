"""``numpy-inplace`` beyond the agreement tests every backend gets: no temporaries in a
steady-state step (tracemalloc), work arrays keyed by shape and dtype, the returned-arrays
contract (the module's are overwritten by its next call, the public methods' are the caller's),
inputs never written; and the activations' ``out=`` forms against the textbook formulas."""

import threading
import tracemalloc

import numpy as np
import pytest

import fastnn
from fastnn.activations import ACTIVATIONS, ELU_ALPHA, LEAKY_SLOPE, OUTPUT_LAYERS
from fastnn.backends import numpy_inplace as ip

from conftest import HIDDEN, OUTPUTS, make_problem

BE = fastnn.get_backend("numpy-inplace")
REF = fastnn.get_backend("numpy")


def _peak(fn):
    """tracemalloc's peak during one call of fn, in bytes."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_a_steady_state_step_allocates_no_temporaries(hidden, output, dtype):
    """After one call at a shape, the next allocates less than 1% of one (n_h, m) float64 array
    (seen: 1.4-10 kB, the largest NumPy's casting buffer; numpy's step allocates ~20 of them)."""
    n_h, m = 64, 20_000
    P, X, Y = make_problem(hidden, output, n_x=2, n_h=n_h, n_y=1, m=m, dtype=dtype)
    ip.cost_and_grads(P, X, Y, hidden, output)
    one = n_h * m * 8
    assert _peak(lambda: ip.cost_and_grads(P, X, Y, hidden, output)) < one / 100
    _, cache = ip.forward(P, X, hidden, output)
    ip.backward(P, cache, X, Y, hidden, output)
    assert _peak(lambda: ip.forward(P, X, hidden, output)) < one / 100
    assert _peak(lambda: ip.backward(P, cache, X, Y, hidden, output)) < one / 100
    assert _peak(lambda: REF.impl.cost_and_grads(P, X, Y, hidden, output)) > one  # can fail


def test_alternating_shapes_and_dtypes_each_get_their_own_work_arrays():
    """Four problems (two shapes, two dtypes; more than KEEP) in turn, twice: every result equals
    numpy's, so no call reads a work array of another shape or dtype."""
    problems = [make_problem(h, "sigmoid", n_h=n_h, m=m, seed=i, dtype=dt)
                for i, (h, n_h, m, dt) in enumerate([("tanh", 4, 30, np.float64),
                                                     ("maxout", 5, 31, np.float64),
                                                     ("tanh", 4, 30, np.float32),
                                                     ("relu", 4, 31, np.float64)])]
    hidden = ["tanh", "maxout", "tanh", "relu"]
    for _ in range(2):
        for h, (P, X, Y) in zip(hidden, problems):
            J, g = ip.cost_and_grads(P, X, Y, h, "sigmoid")
            Jr, gr = REF.impl.cost_and_grads(P, X, Y, h, "sigmoid")
            assert J == Jr
            for k in gr:
                assert g[k].dtype == X.dtype
                np.testing.assert_array_equal(g[k], gr[k], err_msg=(h, k))


def test_the_module_returns_its_work_arrays_and_the_public_methods_copies():
    """The documented contract: a second module call at the shape overwrites the first one's
    gradients and cache; what the public methods returned is untouched by later calls."""
    P, X, Y = make_problem("tanh", "sigmoid", m=40)
    P2 = {k: v * 2 for k, v in P.items()}
    _, g1 = ip.cost_and_grads(P, X, Y, "tanh", "sigmoid")
    _, g2 = ip.cost_and_grads(P2, X, Y, "tanh", "sigmoid")
    assert g1["dW1"] is g2["dW1"]  # the same work array, now holding P2's gradient
    J, g = BE.cost_and_grads(P, X, Y)
    A2, cache = BE.forward(P, X)
    gb = BE.backward(P, cache, X, Y)
    kept = ({k: v.copy() for k, v in g.items()}, A2.copy(),
            {k: v.copy() for k, v in cache.items()}, {k: v.copy() for k, v in gb.items()})
    for _ in range(2):
        BE.cost_and_grads(P2, X, Y)
        BE.forward(P2, X)
        ip.cost_and_grads(P2, X, Y, "tanh", "sigmoid")
        ip.forward(P2, X, "tanh", "sigmoid")
    for was, now in zip(kept, (g, A2, cache, gb)):
        for k in (was if isinstance(was, dict) else [None]):
            a, b = (was[k], now[k]) if k else (was, now)
            np.testing.assert_array_equal(b, a, err_msg=k)
    Jr, gr = REF.cost_and_grads(P, X, Y)
    assert J == Jr and all(np.array_equal(g[k], gr[k]) for k in gr)


def test_backward_leaves_the_modules_own_cache_intact():
    """backward reads the cache forward returned (the work arrays) and writes elsewhere: called
    twice on it, it gives numpy's gradients twice (as the harness times it)."""
    P, X, Y = make_problem("maxout", "linear", m=25)
    _, cache = ip.forward(P, X, "maxout", "linear")
    before = {k: v.copy() for k, v in cache.items()}
    gr = REF.impl.cost_and_grads(P, X, Y, "maxout", "linear")[1]
    for _ in range(2):
        g = ip.backward(P, cache, X, Y, "maxout", "linear")
        for k in gr:
            np.testing.assert_array_equal(g[k], gr[k], err_msg=k)
    for k in before:
        np.testing.assert_array_equal(cache[k], before[k], err_msg=k)


@pytest.mark.parametrize("hidden", ["elu", "maxout"])
def test_inputs_are_never_written(hidden):
    P, X, Y = make_problem(hidden, "sigmoid", m=33)
    for a in [*P.values(), X, Y]:
        a.setflags(write=False)  # a write raises
    J, g = BE.cost_and_grads(P, X, Y, hidden=hidden)
    _, cache = BE.forward(P, X, hidden=hidden)
    BE.backward(P, cache, X, Y, hidden=hidden)
    ip.cost_and_grads(P, X, Y, hidden, "sigmoid")
    assert J == REF.cost_and_grads(P, X, Y, hidden=hidden)[0]


def test_threads_do_not_share_work_arrays():
    """Two threads stepping on the same shape with different parameters each get numpy's
    gradients (the work arrays are per thread)."""
    P, X, Y = make_problem("tanh", "sigmoid", n_h=32, m=5_000)
    Ps = [P, {k: v * 1.5 for k, v in P.items()}]
    want = [REF.impl.cost_and_grads(Q, X, Y, "tanh", "sigmoid")[1] for Q in Ps]
    bad = []

    def run(i):
        for _ in range(20):
            g = ip.cost_and_grads(Ps[i], X, Y, "tanh", "sigmoid")[1]
            bad.extend(k for k in g if not np.array_equal(g[k], want[i][k]))

    ts = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert bad == []


def test_release_frees_and_the_next_call_allocates_again():
    P, X, Y = make_problem("tanh", "sigmoid", n_h=16, m=10_000)
    ip.cost_and_grads(P, X, Y, "tanh", "sigmoid")
    ip.release()
    assert _peak(lambda: ip.cost_and_grads(P, X, Y, "tanh", "sigmoid")) > 16 * 10_000 * 8


# --- the activations' out= forms, against the textbook formulas written again here ------------

def _textbook(name, Z):
    with np.errstate(over="ignore"):
        return {"sigmoid": lambda: 1.0 / (1.0 + np.exp(-Z)), "tanh": lambda: np.tanh(Z),
                "relu": lambda: np.maximum(Z, 0.0),
                "leaky_relu": lambda: np.where(Z >= 0, Z, LEAKY_SLOPE * Z),
                "elu": lambda: np.where(Z >= 0, Z, ELU_ALPHA * np.expm1(np.minimum(Z, 0.0))),
                "linear": lambda: Z.copy()}[name]().astype(Z.dtype)


def _d_textbook(name, Z, A):
    one = np.ones_like(Z)
    return {"sigmoid": A * (1 - A), "tanh": 1 - A * A, "relu": np.where(Z >= 0, one, 0),
            "leaky_relu": np.where(Z >= 0, one, LEAKY_SLOPE),
            "elu": np.where(Z >= 0, one, A + ELU_ALPHA), "linear": one}[name].astype(Z.dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", [a for a in ACTIVATIONS if a != "maxout"])
def test_out_forms_equal_the_textbook_formulas(name, dtype):
    """Bit for bit, with and without out=, the derivative also written over Z itself; Z spans
    ±800, tiny magnitudes (elu's max(z, expm1(z)) form) and both zeros."""
    rng = np.random.default_rng(0)
    Z = np.concatenate([rng.standard_normal(4000) * 5, -np.logspace(-30, 2, 500),
                        np.logspace(-30, 2, 500), [0.0, -0.0, 800.0, -800.0]]).astype(dtype)
    a = ACTIVATIONS[name]
    A = a.g(Z)
    np.testing.assert_array_equal(A, _textbook(name, Z))
    out = np.full_like(Z, np.nan)
    assert a.g(Z, out=out) is out
    np.testing.assert_array_equal(out, A)
    dA = a.dg(Z, A)
    np.testing.assert_array_equal(dA, _d_textbook(name, Z, A))
    Zc = Z.copy()
    assert a.dg(Zc, A, out=Zc) is Zc
    np.testing.assert_array_equal(Zc, dA)


def test_maxout_route_in_place_gives_the_first_winner():
    rng = np.random.default_rng(1)
    Z = rng.integers(-2, 3, (3, 4, 50)).astype(float)  # many ties
    want = (np.arange(3)[:, None, None] == Z.argmax(axis=0)).astype(float)
    A = ACTIVATIONS["maxout"].g(Z)
    np.testing.assert_array_equal(ACTIVATIONS["maxout"].dg(Z, A), want)
    Zc = Z.copy()
    ACTIVATIONS["maxout"].dg(Zc, A, out=Zc)
    np.testing.assert_array_equal(Zc, want)


@pytest.mark.parametrize("output", OUTPUTS)
def test_losses_with_out_and_work_equal_the_textbook_formulas(output):
    rng = np.random.default_rng(2)
    Z = rng.standard_normal((2, 300)) * 30
    Y = (rng.random((2, 300)) > 0.5).astype(float)
    want = (np.maximum(Z, 0) + np.log1p(np.exp(-np.abs(Z))) - Y * Z if output == "sigmoid"
            else 0.5 * (Z - Y) ** 2)
    loss = OUTPUT_LAYERS[output].loss
    np.testing.assert_array_equal(loss(Z, Y), want)
    out, work = np.empty_like(Z), np.empty_like(Z)
    assert loss(Z, Y, out=out, work=work) is out
    np.testing.assert_array_equal(out, want)
