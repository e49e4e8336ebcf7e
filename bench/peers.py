"""Peers: the same training step in PyTorch (CPU) and JAX (jit), when they are installed.

Both compute the lecture's vectorised formulas (as the numpy backend does) so the comparison is the
framework, not the algorithm. JAX is jitted and timed with ``block_until_ready``.
"""

from __future__ import annotations

import numpy as np


def available():
    """{name: None} for peers that import, {name: reason} for those that do not."""
    out = {}
    for name in ("torch", "jax"):
        try:
            __import__(name)
            out[name] = None
        except Exception as exc:  # noqa: BLE001 - absence is a fact to report
            out[name] = f"{type(exc).__name__}: {exc}"
    return out


def step_fn(name, c, P, X, Y, threads):
    """A zero-argument callable doing one training step (cost and gradients) in the peer."""
    if c.hidden != "tanh" or c.output != "sigmoid":
        raise ValueError("peers implement the tanh/sigmoid step only")
    if name == "torch":
        import os

        import torch
        torch.set_num_threads(threads or os.cpu_count() or 1)
        T = {k: torch.from_numpy(v) for k, v in P.items()}
        Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
        m = X.shape[1]

        def step():
            with torch.no_grad():
                A1 = torch.tanh(T["W1"] @ Xt + T["b1"])
                Z2 = T["W2"] @ A1 + T["b2"]
                J = (torch.nn.functional.softplus(Z2) - Yt * Z2).sum() / m
                dZ2 = torch.sigmoid(Z2) - Yt
                dW2 = dZ2 @ A1.T / m
                db2 = dZ2.sum(1, keepdim=True) / m
                dZ1 = (T["W2"].T @ dZ2) * (1 - A1 * A1)
                dW1 = dZ1 @ Xt.T / m
                db1 = dZ1.sum(1, keepdim=True) / m
                return float(J), {"dW1": dW1.numpy(), "db1": db1.numpy(), "dW2": dW2.numpy(),
                                  "db2": db2.numpy()}
        return step
    if name == "jax":
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
    raise ValueError(f"unknown peer {name!r}")
