"""Shared fixtures: the registries drive the parametrisation, so a new backend or activation is
tested the moment it is registered."""

import sys

import numpy as np
import pytest

import fastnn

HIDDEN = tuple(fastnn.ACTIVATIONS)
OUTPUTS = fastnn.OUTPUTS


def make_problem(hidden, output, *, n_x=3, n_h=4, n_y=2, m=23, seed=0, scale=1.0,
                 dtype=np.float64):
    """Random params, X and Y (labels for sigmoid, values for linear), with weights of order 1 so
    gradients are large enough for a tight finite-difference check."""
    rng = np.random.default_rng(seed)
    P = fastnn.init_params(n_x, n_h, n_y, method="random", scale=scale, hidden=hidden,
                           seed=rng, dtype=dtype)
    P["b1"] = (rng.standard_normal(P["b1"].shape) * 0.5).astype(dtype)
    P["b2"] = (rng.standard_normal(P["b2"].shape) * 0.5).astype(dtype)
    X = rng.standard_normal((n_x, m)).astype(dtype)
    if output == "sigmoid":
        Y = (rng.random((n_y, m)) > 0.5).astype(dtype)
    else:
        Y = rng.standard_normal((n_y, m)).astype(dtype)
    return P, X, Y


#: The (hidden, output) pairs on which every numba entry (forward, backward, the parallel and
#: BLAS paths, float32, the fused fit) is tested by default. The numba backend compiles one
#: specialisation per (hidden, output, dtype, entry) on first use (a second or two each), so
#: the whole cross product is left to ``pytest -m slow``. Nothing is lost by default: every
#: formula is compiled per activation and per output, not per entry, and the tests named in
#: :data:`EVERY_PAIR` run each pair on every backend.
REPRESENTATIVE = {("tanh", "sigmoid"), ("relu", "sigmoid"), ("maxout", "linear"),
                  ("elu", "linear")}
#: The pairs the boundary's property tests draw (tests/test_api_properties.py, test_layouts.py):
#: an element-wise activation and maxout (W1 of rank 3), each output once.
BOUNDARY_PAIRS = (("tanh", "sigmoid"), ("maxout", "linear"))
#: Tests that run every (hidden, output) pair by default: the step against finite differences,
#: every backend against the others, and numpy-inplace's steady state (which compiles nothing).
EVERY_PAIR = {"test_gradients_match_finite_differences", "test_backends_agree",
              "test_a_steady_state_step_allocates_no_temporaries"}


def pytest_collection_modifyitems(config, items):
    """Mark ``slow`` the tests that would compile a numba specialisation outside
    :data:`REPRESENTATIVE` (those of :data:`EVERY_PAIR` excepted).

    A test parametrised by a backend other than a JIT one is never thinned (it compiles
    nothing). A test parametrised by both ``hidden`` and ``output`` is judged by the pair; by
    ``hidden`` alone, by whether some representative pair has that activation; by ``output``
    alone, never (both outputs are representative).
    """
    hiddens = {h for h, _ in REPRESENTATIVE}
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if item.originalname in EVERY_PAIR or "hidden" not in params:
            continue
        be = params.get("backend", params.get("name"))
        if isinstance(be, str) and be in fastnn.BACKENDS and not fastnn.get_backend(be).jit:
            continue
        if "output" in params:
            rare = (params["hidden"], params["output"]) not in REPRESENTATIVE
        else:
            rare = params["hidden"] not in hiddens
        if rare:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _short_quiet_wait(monkeypatch):
    """Other test runs may share the machine: a disturbed cell (in a sweep, the demo, the CLI)
    waits briefly for quiet, not seconds."""
    from fastnn.bench import contention
    monkeypatch.setattr(contention, "QUIET_WAIT_S", 0.3)


@pytest.fixture(params=fastnn.BACKENDS)
def backend(request):
    return fastnn.get_backend(request.param)


@pytest.fixture(params=HIDDEN)
def hidden(request):
    return request.param


@pytest.fixture(params=OUTPUTS)
def output(request):
    return request.param


class QuietMachine:
    """A contention detector for which the machine is never busy: for tests of the harness's
    plumbing, not of a busy machine."""

    def calibrate(self):
        return {}

    def start(self, pids=()):
        return None

    def verdict(self, before, pids=()):
        return {"over": {}}

    def wait_quiet(self):
        return True

    def state(self):
        return None, 0

    def merge(self, state):
        pass


@pytest.fixture
def matplotlib_untouched(monkeypatch):
    """Fails the test if it chose a matplotlib backend (``matplotlib.use``), changed the one
    configured, or went through pyplot (imported it, or left a figure open in it): fastnn draws
    on a Figure with its own canvas, so a user's notebook or GUI backend stays as it was."""
    import matplotlib
    chosen = []
    monkeypatch.setattr(matplotlib, "use", lambda *a, **kw: chosen.append(a))
    configured = dict.__getitem__(matplotlib.rcParams, "backend")  # unresolved, as set
    pyplot = sys.modules.get("matplotlib.pyplot")
    open_figures = pyplot.get_fignums() if pyplot else None
    yield
    assert chosen == [], f"matplotlib.use{chosen[0]} was called"
    assert dict.__getitem__(matplotlib.rcParams, "backend") == configured
    if pyplot is None:
        assert "matplotlib.pyplot" not in sys.modules, "pyplot was imported"
    else:
        assert pyplot.get_fignums() == open_figures, "a figure was opened in pyplot"
