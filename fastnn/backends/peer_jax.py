"""``jax``: the lecture's network in JAX (CPU) under ``jax.jit``, a peer for comparison.

The vectorised formulas with explicit gradients (as the ``numpy`` backend), jitted once; each call
waits with ``block_until_ready``. For ``fit`` the whole loop is compiled, JAX's own best practice:
``jax.lax.scan`` over the steps inside one ``jit``. JAX fixes its thread pool at start-up, so it
runs on all cores. Implements ``cost_and_grads`` and ``fit`` for tanh hidden and sigmoid output.

float64 needs JAX's 64-bit mode, a process-wide flag (``jax_enable_x64``) that is off by default
and changes what every other JAX array in the user's program is. It is switched on only inside
each call (:func:`_x64`, JAX's own scoped setting, about 1 µs per call here), never left on: the
arrays are converted, the function traced and every call run inside it.
"""

from __future__ import annotations

import numpy as np

from . import FIT_LR

_NAMES = ("W1", "b1", "W2", "b2")


def _x64(jax):
    """JAX's 64-bit mode for the ``with`` block only, as it was afterwards."""
    scoped = getattr(jax, "enable_x64", None)  # newer JAX; older JAX in jax.experimental
    if scoped is None:
        from jax.experimental import enable_x64 as scoped
    return scoped(True)


def _step(jax, jnp, p, X, Y, m):
    W1, b1, W2, b2 = p
    A1 = jnp.tanh(W1 @ X + b1)
    Z2 = W2 @ A1 + b2
    J = jnp.sum(jax.nn.softplus(Z2) - Y * Z2) / m
    dZ2 = jax.nn.sigmoid(Z2) - Y
    dZ1 = (W2.T @ dZ2) * (1 - A1 * A1)
    return J, (dZ1 @ X.T / m, dZ1.sum(1, keepdims=True) / m, dZ2 @ A1.T / m,
               dZ2.sum(1, keepdims=True) / m)


def make_call(op, P, X, Y, hidden, output, threads=0, *, lr=FIT_LR, steps=1):
    """A zero-argument callable running ``op`` (jitted once, here) on device arrays.

    ``cost_and_grads`` returns (J, grads); ``fit`` runs ``steps`` gradient-descent steps from P
    and returns (params, costs).
    """
    import jax
    import jax.numpy as jnp

    m = X.shape[1]
    with _x64(jax):
        Xd, Yd = jnp.asarray(X), jnp.asarray(Y)
        p0 = tuple(jnp.asarray(P[k]) for k in _NAMES)
    if op == "fit":
        @jax.jit
        def _fit(p, X, Y):
            def body(p, _):
                J, g = _step(jax, jnp, p, X, Y, m)
                return tuple(w - lr * d for w, d in zip(p, g)), J
            return jax.lax.scan(body, p, None, length=steps)

        def run():
            with _x64(jax):
                p, costs = jax.block_until_ready(_fit(p0, Xd, Yd))
            return {k: np.asarray(w) for k, w in zip(_NAMES, p)}, np.asarray(costs)
        return run

    _jstep = jax.jit(lambda p, X, Y: _step(jax, jnp, p, X, Y, m))

    def step():
        with _x64(jax):
            J, g = jax.block_until_ready(_jstep(p0, Xd, Yd))
        return float(J), {"d" + k: np.asarray(x) for k, x in zip(_NAMES, g)}
    return step


def cost_and_grads(P, X, Y, hidden, output):
    return make_call("cost_and_grads", P, X, Y, hidden, output)()


def version():
    import jax
    return jax.__version__
