"""``numpy``: the lecture's vectorised matrix form, one NumPy call per formula over all m examples.

Written as well as NumPy allows: BLAS for the products, in-place updates where a temporary of size
(n_h, m) can be saved, and the cross-entropy from the logits.
"""

from __future__ import annotations

import numpy as np

from ..activations import ACTIVATIONS, maxout_route, sigmoid
from ..costs import cost_from_logits


def forward(P, X, hidden, output):
    """Z1 = W1 X + b1, A1 = g(Z1), Z2 = W2 A1 + b2, A2 = σ(Z2) or Z2. Shapes as in the lecture."""
    Z1 = np.matmul(P["W1"], X)  # (n_h, m), or (k, n_h, m) for maxout
    Z1 += P["b1"]
    A1 = ACTIVATIONS[hidden].g(Z1)
    Z2 = P["W2"] @ A1
    Z2 += P["b2"]
    A2 = sigmoid(Z2) if output == "sigmoid" else Z2
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


def _dZ1(dA1, Z1, A1, hidden):
    """dZ1 = dA1 ⊙ g'(Z1), in place in dA1 where the activation allows."""
    if hidden == "tanh":
        T = A1 * A1
        np.subtract(1.0, T, out=T)
        dA1 *= T
        return dA1
    if hidden == "sigmoid":
        T = 1.0 - A1
        T *= A1
        dA1 *= T
        return dA1
    if hidden == "maxout":
        return dA1 * maxout_route(Z1)
    dA1 *= ACTIVATIONS[hidden].dg(Z1, A1)
    return dA1


def backward(P, cache, X, Y, hidden, output):
    """dZ2 = A2 − Y; dW2 = dZ2 A1ᵀ/m; db2 = Σ dZ2/m; dZ1 = W2ᵀ dZ2 ⊙ g'(Z1); dW1 = dZ1 Xᵀ/m."""
    m = X.shape[1]
    A1 = cache["A1"]
    dZ2 = cache["A2"] - Y
    dW2 = dZ2 @ A1.T
    dW2 /= m
    db2 = dZ2.sum(axis=1, keepdims=True) / m
    dZ1 = _dZ1(P["W2"].T @ dZ2, cache["Z1"], A1, hidden)
    dW1 = np.matmul(dZ1, X.T)
    dW1 /= m
    db1 = dZ1.sum(axis=-1, keepdims=True) / m
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def cost_and_grads(P, X, Y, hidden, output):
    """One training step's cost and gradients: forward then backward, J from the logits."""
    A2, cache = forward(P, X, hidden, output)
    J = cost_from_logits(cache["Z2"], Y, output)
    return J, backward(P, cache, X, Y, hidden, output)
