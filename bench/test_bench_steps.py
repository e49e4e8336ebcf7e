"""pytest-benchmark suite over the backend registry, for regression tracking.

    pytest bench/ --benchmark-only                       # small sizes (about a minute)
    FASTNN_BENCH_LARGE=1 pytest bench/ --benchmark-only  # + the numba issue's target shapes
    pytest bench/ --benchmark-only --benchmark-autosave; ... --benchmark-compare

Data is built (and the JIT warmed up) in the fixture, outside the timed region; the timed call is
the backend's kernel entry on validated arrays, as in ``fastnn bench``.
"""

import os

import numpy as np
import pytest

import fastnn
from bench.grid import Cell
from bench.measure import make_data, step_fn

LARGE = os.environ.get("FASTNN_BENCH_LARGE") == "1"
SIZES = [(2, 4, 1_000), (2, 64, 10_000)]
TARGETS = [(2, 64, 1_000_000), (2, 4, 1_000_000), (784, 128, 10_000)]
PEERS = [p for p in ("torch", "jax") if LARGE and __import__("importlib").util.find_spec(p)]


def _cases():
    for n_x, n_h, m in SIZES + (TARGETS if LARGE else []):
        for b in fastnn.BACKENDS:
            be = fastnn.get_backend(b)
            if be.per_example and m * n_h > 100_000:
                continue  # seconds per call: declared out, not timed
            yield pytest.param(b, n_x, n_h, m, id=f"{b}-nx{n_x}-nh{n_h}-m{m}")


@pytest.mark.parametrize("backend, n_x, n_h, m", list(_cases()))
@pytest.mark.parametrize("op", ["cost_and_grads", "forward"])
def test_step(benchmark, backend, n_x, n_h, m, op):
    c = Cell(backend, op, m, n_h, n_x=n_x)
    P, X, Y = make_data(c)
    fn = step_fn(fastnn.get_backend(backend), c, P, X, Y)
    fn()  # JIT compile / warm-up outside the timing
    benchmark.group = f"{op} n_x={n_x} n_h={n_h} m={m}"
    benchmark.extra_info.update(c.params())
    out = benchmark(fn)
    ref = step_fn(fastnn.get_backend("numpy"), c, P, X, Y)()
    np.testing.assert_allclose(np.asarray(out[0]), np.asarray(ref[0]), rtol=1e-6)


@pytest.mark.skipif(not PEERS, reason="set FASTNN_BENCH_LARGE=1 with torch or jax installed")
@pytest.mark.parametrize("peer", PEERS or ["none"])
def test_peer_step(benchmark, peer):
    from bench import peers
    c = Cell(peer, "cost_and_grads", 1_000_000, 64)
    P, X, Y = make_data(c)
    fn = peers.step_fn(peer, c, P, X, Y, 0)
    fn()
    benchmark.group = "cost_and_grads n_x=2 n_h=64 m=1000000"
    benchmark(fn)
