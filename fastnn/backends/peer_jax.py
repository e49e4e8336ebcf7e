"""``jax``: the training step in JAX (CPU) under ``jax.jit``, a peer for comparison.

The lecture's vectorised formulas with explicit gradients (as the ``numpy`` backend), jitted once;
each call waits with ``block_until_ready``. JAX fixes its thread pool at start-up, so it runs on
all cores. Implements ``cost_and_grads`` for a tanh hidden layer and a sigmoid output.
"""

from __future__ import annotations

import numpy as np


def make_call(op, P, X, Y, hidden, output, threads=0):
    """A zero-argument callable doing one jitted step on device arrays converted once, here."""
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    m = X.shape[1]

    @jax.jit
    def _step(W1, b1, W2, b2, X, Y):
        A1 = jnp.tanh(W1 @ X + b1)
        Z2 = W2 @ A1 + b2
        J = jnp.sum(jax.nn.softplus(Z2) - Y * Z2) / m
        dZ2 = jax.nn.sigmoid(Z2) - Y
        dZ1 = (W2.T @ dZ2) * (1 - A1 * A1)
        return J, (dZ1 @ X.T / m, dZ1.sum(1, keepdims=True) / m, dZ2 @ A1.T / m,
                   dZ2.sum(1, keepdims=True) / m)

    args = [jnp.asarray(a) for a in (P["W1"], P["b1"], P["W2"], P["b2"], X, Y)]

    def step():
        J, g = jax.block_until_ready(_step(*args))
        return float(J), dict(zip(("dW1", "db1", "dW2", "db2"), (np.asarray(x) for x in g)))
    return step


def cost_and_grads(P, X, Y, hidden, output):
    return make_call("cost_and_grads", P, X, Y, hidden, output)()


def version():
    import jax
    return jax.__version__
