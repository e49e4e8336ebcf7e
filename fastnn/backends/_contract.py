"""The backend contract: what a registry entry's module provides, as ``typing.Protocol`` classes.

A module is checked with ``isinstance(module, Protocol)`` (``@runtime_checkable`` checks that the
functions are there, not their signatures; ``tests/test_contract.py`` compares the parameter
names too). Which protocols an entry needs follows from what it declares
(:func:`requirements`): a module with ``make_call`` serves every op through it (the peers); any
other provides one function per op it declares, and a whole training run (``fit``) is the
descent loop over its ``cost_and_grads`` unless the entry declares ``fused_fit``.

Every function trusts its inputs: P holds W1 (n_h, n_x) (maxout: (k, n_h, n_x)), b1 (n_h, 1)
(maxout: (k, n_h, 1)), W2 (n_y, n_h) and b2 (n_y, 1); X is (n_x, m) and Y (n_y, m); all
C-contiguous, finite, in one float dtype, validated by :func:`fastnn.validate.prepare`. None
writes to its inputs. An entry with ``reuses_buffers`` may return arrays that its next call
overwrites; the public methods of :class:`fastnn.backends.Backend` copy them.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class Forward(Protocol):
    def forward(self, P, X, hidden, output):
        """(A2, cache): A2 (n_y, m); cache Z1 (n_h, m) or (k, n_h, m), A1 (n_h, m), Z2, A2."""


@runtime_checkable
class Backward(Protocol):
    def backward(self, P, cache, X, Y, hidden, output):
        """{dW1, db1, dW2, db2}, each of its parameter's shape, with the 1/m, from ``cache``."""


@runtime_checkable
class CostAndGrads(Protocol):
    def cost_and_grads(self, P, X, Y, hidden, output):
        """(J, grads): the cost as a float and the gradients of :class:`Backward`."""


@runtime_checkable
class BackendModule(Forward, Backward, CostAndGrads, Protocol):
    """The whole contract of one of the network's own backends."""


@runtime_checkable
class MakesCalls(Protocol):
    def make_call(self, op, P, X, Y, hidden, output, threads=0, *, lr, steps):
        """A zero-argument callable running ``op`` on data it has already converted (a peer's
        tensors), as :meth:`fastnn.backends.Backend.make_call` describes."""


@runtime_checkable
class FusedFit(Protocol):
    def fit(self, P, X, Y, hidden, output, lr, iterations, keys, every=1, report=None):
        """The whole descent run compiled, as :func:`._descent.loop` returns it
        ((params, costs, t)), or None where it does not fuse the shape; ``report(t, J)`` every
        ``every`` steps when given."""


#: The protocol behind each op on the network's own backends (``fit`` loops over a step).
OP_PROTOCOLS = {"forward": Forward, "backward": Backward, "cost_and_grads": CostAndGrads,
                "fit": CostAndGrads}


def requirements(entry):
    """The protocols the module of registry ``entry`` must satisfy for what it declares."""
    if entry.peer:
        return (MakesCalls,)
    need = [OP_PROTOCOLS[op] for op in entry.ops]
    return tuple(dict.fromkeys(need + ([FusedFit] if entry.fused_fit else [])))
