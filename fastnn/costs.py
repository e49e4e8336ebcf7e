"""Costs (lecture §3): cross-entropy for a sigmoid output, ½MSE for a linear output.

J = (1/m) Σᵢ L(ŷ⁽ⁱ⁾, y⁽ⁱ⁾), summed over the n_y output units. Either way dZ2 = A2 − Y.

The backends compute the cross-entropy from the logits Z2, which is exact and finite for any Z2:

    L = softplus(z) − y z,   softplus(z) = max(z, 0) + log1p(e^(−|z|)).
"""

from __future__ import annotations

import numpy as np

from .validate import as_float_array, check_output


def softplus(Z):
    r""":math:`\log(1 + e^z)`, computed without overflow."""
    return np.maximum(Z, 0.0) + np.log1p(np.exp(-np.abs(Z)))


def cost_from_logits(Z2, Y, output):
    """Cost J from the output pre-activation Z2 (shape (n_y, m)) and Y (shape (n_y, m))."""
    m = Z2.shape[1]
    if output == "sigmoid":
        return float(np.sum(softplus(Z2) - Y * Z2) / m)
    return float(0.5 * np.sum((Z2 - Y) ** 2) / m)


def cost(A2, Y, output="sigmoid"):
    r"""The lecture's cost J from predictions A2.

    .. math:: J = -\frac{1}{m}\sum_i [y \log \hat y + (1 - y)\log(1 - \hat y)]
              \quad\text{or}\quad J = \frac{1}{m}\sum_i \tfrac12 (\hat y - y)^2

    Parameters
    ----------
    A2 : array_like, shape (n_y, m)
        Predictions ŷ: probabilities in [0, 1] for a sigmoid output, values for a linear one.
    Y : array_like, shape (n_y, m)
        Targets. A 1-D Y is taken as one row.
    output : {"sigmoid", "linear"}

    Returns
    -------
    float
        For a sigmoid output ŷ is clipped into [tiny, 1 − eps] so a saturated prediction gives a
        large finite cost, not inf. The backends' ``cost_and_grads`` work from the logits instead
        and need no clipping.
    """
    check_output(output)
    A2 = as_float_array(A2, "A2", ndim=(1, 2))
    Y = as_float_array(Y, "Y", ndim=(1, 2))
    A2 = A2.reshape(1, -1) if A2.ndim == 1 else A2
    Y = Y.reshape(1, -1) if Y.ndim == 1 else Y
    if A2.shape != Y.shape:
        raise ValueError(f"A2 has shape {A2.shape} but Y has shape {Y.shape}; they must match")
    if A2.shape[1] == 0:
        raise ValueError("A2 and Y have m = 0 examples; the cost needs at least one")
    m = A2.shape[1]
    if output == "linear":
        return float(0.5 * np.sum((A2 - Y) ** 2) / m)
    fi = np.finfo(A2.dtype)
    P = np.clip(A2, fi.tiny, 1.0 - fi.epsneg)
    return float(-np.sum(Y * np.log(P) + (1.0 - Y) * np.log1p(-P)) / m)
