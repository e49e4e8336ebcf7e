"""The backend registry: one line per backend. It drives the tests, the harness and the report.

Every backend module provides private ``forward(P, X, hidden, output)``,
``backward(P, cache, X, Y, hidden, output)`` and ``cost_and_grads(P, X, Y, hidden, output)`` that
trust their (validated, contiguous) inputs. :class:`Backend` wraps them with the public, validating
methods.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

from ..validate import check_cache, prepare
from . import numba_fused, numpy_loop, numpy_vec, python_loop


@dataclass(frozen=True)
class Backend:
    """One implementation of the network behind the common API.

    Attributes
    ----------
    name : str
    impl : module
        Provides the unchecked ``forward``, ``backward`` and ``cost_and_grads``.
    description : str
        One line for reports.
    per_example : bool
        True for the per-example loops: their cost is linear in m with a large constant, which the
        harness uses to predict over-budget cells.
    jit : bool
        True when the first call compiles (timed separately by the harness).
    """

    name: str
    impl: ModuleType
    description: str
    per_example: bool = False
    jit: bool = False

    def forward(self, params, X, *, hidden="tanh", output="sigmoid"):
        """Forward pass. Returns A2 of shape (n_y, m) and the cache {Z1, A1, Z2, A2}."""
        P, X, _, _ = prepare(params, X, None, hidden, output)
        return self.impl.forward(P, X, hidden, output)

    def backward(self, params, cache, X, Y, *, hidden="tanh", output="sigmoid"):
        """Gradients {dW1, db1, dW2, db2} (with the 1/m) from the cache of :meth:`forward`."""
        P, X, Y, _ = prepare(params, X, Y, hidden, output)
        cache = check_cache(cache, P, X.shape[1], hidden)
        return self.impl.backward(P, cache, X, Y, hidden, output)

    def cost_and_grads(self, params, X, Y, *, hidden="tanh", output="sigmoid"):
        """One training step's cost J (float) and gradients {dW1, db1, dW2, db2}."""
        P, X, Y, _ = prepare(params, X, Y, hidden, output)
        return self.impl.cost_and_grads(P, X, Y, hidden, output)


_REGISTRY = {
    b.name: b
    for b in [
        Backend("python", python_loop, "per-example loop over plain Python floats",
                per_example=True),
        Backend("numpy-loop", numpy_loop, "per-example loop over NumPy vectors",
                per_example=True),
        Backend("numpy", numpy_vec, "vectorised NumPy, the lecture's matrix form"),
        Backend("numba", numba_fused, "fused parallel Numba kernels", jit=True),
    ]
}

BACKENDS = tuple(_REGISTRY)


def get_backend(name):
    """The :class:`Backend` called ``name``; an unknown name is a ``ValueError`` listing the valid."""
    if isinstance(name, Backend):
        return name
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown backend {name!r}; valid: {', '.join(BACKENDS)}") from None
