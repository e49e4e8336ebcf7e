"""``numpy-loop``: the same "for i = 1 to m" loop, but each example is a NumPy vector.

Every formula is a NumPy call on one column x⁽ⁱ⁾ of shape (n_x,). It is no faster than plain Python
for small n_h: the per-example loop and its call overhead are the cost, not the arithmetic.
"""

from __future__ import annotations

import numpy as np

from ..activations import ACTIVATIONS, OUTPUT_LAYERS


def _example_forward(P, x, act, out):
    """One example x (n_x,): z1, a1 (n_h,) (z1 is (k, n_h) for maxout), z2, a2 (n_y,)."""
    z1 = P["W1"] @ x + P["b1"][..., 0]
    a1 = act.g(z1)
    z2 = P["W2"] @ a1 + P["b2"][:, 0]
    return z1, a1, z2, out.g(z2)


def _example_backward(P, x, y, z1, a1, a2, act, g):
    """Add one example's dW1, db1, dW2, db2 (not yet divided by m) into g."""
    dz2 = a2 - y
    g["dW2"] += np.outer(dz2, a1)
    g["db2"][:, 0] += dz2
    dz1 = act.dZ(P["W2"].T @ dz2, z1, a1)
    g["dW1"] += dz1[..., None] * x
    g["db1"][..., 0] += dz1


def _zeros_like(P):
    return {"d" + k: np.zeros_like(v) for k, v in P.items()}


def _finish(g, m):
    for v in g.values():
        v /= m
    return g


def forward(P, X, hidden, output):
    act, out = ACTIVATIONS[hidden], OUTPUT_LAYERS[output]
    cols = [_example_forward(P, X[:, i], act, out) for i in range(X.shape[1])]
    Z1, A1, Z2, A2 = (np.stack(c, axis=-1) for c in zip(*cols))
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


def backward(P, cache, X, Y, hidden, output):
    act, g = ACTIVATIONS[hidden], _zeros_like(P)
    Z1, A1, A2 = cache["Z1"], cache["A1"], cache["A2"]
    for i in range(X.shape[1]):
        _example_backward(P, X[:, i], Y[:, i], Z1[..., i], A1[:, i], A2[:, i], act, g)
    return _finish(g, X.shape[1])


def cost_and_grads(P, X, Y, hidden, output):
    """for i = 1 to m: forward, add the loss, add the gradient. Then divide by m."""
    act, out, g = ACTIVATIONS[hidden], OUTPUT_LAYERS[output], _zeros_like(P)
    J = 0.0
    for i in range(X.shape[1]):
        x, y = X[:, i], Y[:, i]
        z1, a1, z2, a2 = _example_forward(P, x, act, out)
        J += float(np.sum(out.loss(z2, y)))
        _example_backward(P, x, y, z1, a1, a2, act, g)
    m = X.shape[1]
    return J / m, _finish(g, m)
