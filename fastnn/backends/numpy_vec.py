"""``numpy``: the lecture's vectorised matrix form, one NumPy call per formula over all m examples.

Written as well as NumPy allows: BLAS for the products, in-place updates where a temporary of size
(n_h, m) can be saved, and the cross-entropy from the logits. The activation, its derivative and the
output's loss are the registry's (``fastnn.activations``), not written again here.
"""

from __future__ import annotations

import numpy as np

from ..activations import ACTIVATIONS, OUTPUT_LAYERS


def forward(P, X, hidden, output):
    """Z1 = W1 X + b1, A1 = g(Z1), Z2 = W2 A1 + b2, A2 = σ(Z2) or Z2.

    Z1 and A1 are (n_h, m) (Z1 is (k, n_h, m) for maxout); Z2 and A2 are (n_y, m).
    """
    Z1 = np.matmul(P["W1"], X)
    Z1 += P["b1"]
    A1 = ACTIVATIONS[hidden].g(Z1)
    Z2 = P["W2"] @ A1
    Z2 += P["b2"]
    A2 = OUTPUT_LAYERS[output].g(Z2)
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


def backward(P, cache, X, Y, hidden, output):
    """dZ2 = A2 − Y; dW2 = dZ2 A1ᵀ/m; db2 = Σ dZ2/m; dZ1 = W2ᵀ dZ2 ⊙ g'(Z1); dW1 = dZ1 Xᵀ/m."""
    m = X.shape[1]
    A1 = cache["A1"]
    dZ2 = cache["A2"] - Y
    dW2 = dZ2 @ A1.T
    dW2 /= m
    db2 = dZ2.sum(axis=1, keepdims=True) / m
    dZ1 = ACTIVATIONS[hidden].dZ(P["W2"].T @ dZ2, cache["Z1"], A1)
    dW1 = np.matmul(dZ1, X.T)
    dW1 /= m
    db1 = dZ1.sum(axis=-1, keepdims=True) / m
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def cost_and_grads(P, X, Y, hidden, output):
    """One training step: forward, J = (1/m) Σ L(Z2, Y) from the logits, then backward."""
    A2, cache = forward(P, X, hidden, output)
    J = float(np.sum(OUTPUT_LAYERS[output].loss(cache["Z2"], Y)) / X.shape[1])
    return J, backward(P, cache, X, Y, hidden, output)
