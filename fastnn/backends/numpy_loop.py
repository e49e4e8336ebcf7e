"""``numpy-loop``: the same "for i = 1 to m" loop, but each example is a NumPy vector.

Every formula is a NumPy call on one column x⁽ⁱ⁾ of shape (n_x,). It is no faster than plain Python
for small n_h: the per-example loop and its call overhead are the cost, not the arithmetic.
"""

from __future__ import annotations

import numpy as np

from ..activations import ACTIVATIONS, maxout_route, sigmoid
from ..costs import softplus


def _example_forward(P, x, act, output):
    z1 = P["W1"] @ x + P["b1"][..., 0]  # (n_h,) or (k, n_h)
    a1 = act.g(z1)
    z2 = P["W2"] @ a1 + P["b2"][:, 0]
    a2 = sigmoid(z2) if output == "sigmoid" else z2
    return z1, a1, z2, a2


def _example_backward(P, x, y, z1, a1, a2, act, maxout, g):
    dz2 = a2 - y
    g["dW2"] += np.outer(dz2, a1)
    g["db2"][:, 0] += dz2
    da1 = P["W2"].T @ dz2
    dz1 = da1 * (maxout_route(z1[..., None])[..., 0] if maxout else act.dg(z1, a1))
    g["dW1"] += dz1[..., None] * x
    g["db1"][..., 0] += dz1


def _zeros_like(P):
    return {"d" + k: np.zeros_like(v) for k, v in P.items()}


def _finish(g, m):
    for v in g.values():
        v /= m
    return g


def forward(P, X, hidden, output):
    act = ACTIVATIONS[hidden]
    cols = [_example_forward(P, X[:, i], act, output) for i in range(X.shape[1])]
    Z1, A1, Z2, A2 = (np.stack(c, axis=-1) for c in zip(*cols))
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


def backward(P, cache, X, Y, hidden, output):
    act, maxout, g = ACTIVATIONS[hidden], hidden == "maxout", _zeros_like(P)
    Z1, A1, A2 = cache["Z1"], cache["A1"], cache["A2"]
    for i in range(X.shape[1]):
        _example_backward(P, X[:, i], Y[:, i], Z1[..., i], A1[:, i], A2[:, i], act, maxout, g)
    return _finish(g, X.shape[1])


def cost_and_grads(P, X, Y, hidden, output):
    """for i = 1 to m: forward, add the loss, add the gradient. Then divide by m."""
    act, maxout, g = ACTIVATIONS[hidden], hidden == "maxout", _zeros_like(P)
    J = 0.0
    for i in range(X.shape[1]):
        x, y = X[:, i], Y[:, i]
        z1, a1, z2, a2 = _example_forward(P, x, act, output)
        J += float(np.sum(softplus(z2) - y * z2) if output == "sigmoid"
                   else 0.5 * np.sum((z2 - y) ** 2))
        _example_backward(P, x, y, z1, a1, a2, act, maxout, g)
    m = X.shape[1]
    return J / m, _finish(g, m)
