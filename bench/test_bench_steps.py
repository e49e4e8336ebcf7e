"""pytest-benchmark suite over the backend registry, for regression tracking.

    pytest bench/ --benchmark-only                       # small sizes (about a minute)
    FASTNN_BENCH_LARGE=1 pytest bench/ --benchmark-only  # + the target shapes and the peers
    pytest bench/ --benchmark-only --benchmark-autosave; ... --benchmark-compare

Data is built (and the JIT warmed up) in the fixture, outside the timed region; the timed call is
the backend's kernel entry on validated arrays, as in ``fastnn bench``. The step at small sizes
(and :data:`TARGETS` when large); a whole training run (``fit``, the lecture's flower run of
:data:`FIT_TARGETS`, and its other shapes when large) on the headline backend and the reference.
"""

import os

import numpy as np
import pytest

from fastnn.backends import HEADLINE, REFERENCE, REGISTRY
from fastnn.bench.grid import FIT_OP, FIT_TARGETS, TARGETS, Cell, skip_reason
from fastnn.bench.checks import check, reference
from fastnn.bench.worker import make_data, step_fn

LARGE = os.environ.get("FASTNN_BENCH_LARGE") == "1"
SIZES = [(2, 4, 1_000), (2, 64, 10_000)]


def _cases():
    for n_x, n_h, m in SIZES + (list(TARGETS) if LARGE else []):
        for name, be in REGISTRY.items():
            if be.per_example and m * n_h > 100_000:
                continue  # seconds per call: declared out, not timed
            if be.peer and (not LARGE or be.missing()):
                continue  # peers only with the large shapes, when installed
            for op in ("cost_and_grads", "forward"):
                if skip_reason(Cell(name, op, m, n_h, n_x=n_x)) is None:
                    yield pytest.param(name, n_x, n_h, m, op, id=f"{op}-{name}-nx{n_x}-nh{n_h}-m{m}")


@pytest.mark.parametrize("backend, n_x, n_h, m, op", list(_cases()))
def test_step(benchmark, backend, n_x, n_h, m, op):
    c = Cell(backend, op, m, n_h, n_x=n_x)
    P, X, Y = make_data(c)
    fn = step_fn(c, P, X, Y)
    fn()  # JIT compile / warm-up outside the timing
    benchmark.group = f"{op} n_x={n_x} n_h={n_h} m={m}"
    benchmark.extra_info.update(c.params())
    out = benchmark(fn)
    ref = reference(c, P, X, Y)
    np.testing.assert_allclose(np.asarray(out[0]), np.asarray(ref[0]), rtol=1e-6)


def _fit_cases():
    for n_x, n_h, m, steps in FIT_TARGETS[:None if LARGE else 1]:
        for name in (HEADLINE, REFERENCE):
            if skip_reason(Cell(name, FIT_OP, m, n_h, n_x=n_x)) is None:
                yield pytest.param(name, n_x, n_h, m, steps,
                                   id=f"fit-{name}-nx{n_x}-nh{n_h}-m{m}-steps{steps}")


@pytest.mark.parametrize("backend, n_x, n_h, m, steps", list(_fit_cases()))
def test_fit(benchmark, backend, n_x, n_h, m, steps):
    """A whole training run of ``steps`` steps, from the cell's seeded parameters on the flower
    (a few rounds: one run of the flower is 10,000 steps)."""
    c = Cell(backend, FIT_OP, m, n_h, n_x=n_x)
    P, X, Y = make_data(c)
    fn = step_fn(c, P, X, Y, steps=steps)
    fn()  # JIT compile / warm-up outside the timing
    benchmark.group = f"fit n_x={n_x} n_h={n_h} m={m} steps={steps}"
    benchmark.extra_info.update(c.params(), steps=steps)
    out = benchmark.pedantic(fn, rounds=3)
    ref = out if backend == REFERENCE else reference(c, P, X, Y)
    assert check(out, ref, c.dtype, c.op) is None
