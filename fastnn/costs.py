"""Costs (lecture §3): cross-entropy for a sigmoid output, ½MSE for a linear output.

J = (1/m) Σᵢ L(ŷ⁽ⁱ⁾, y⁽ⁱ⁾), summed over the n_y output units. Either way dZ2 = A2 − Y.

The backends compute the cross-entropy from the logits Z2, which is exact and finite for any Z2:

    L = softplus(z) − y z,   softplus(z) = max(z, 0) + log1p(e^(−|z|)).

That loss is the output registry's (:data:`~fastnn.activations.OUTPUT_LAYERS`); here are the two
ways :func:`fastnn.cost` computes J from it or from predictions.
"""

from __future__ import annotations

import numpy as np

from .activations import OUTPUT_LAYERS


def cost_from_logits(Z2, Y, output):
    """Cost J from the output pre-activation Z2 (shape (n_y, m)) and Y (shape (n_y, m)), with
    the output layer's own loss (:data:`~fastnn.activations.OUTPUT_LAYERS`)."""
    return float(np.sum(OUTPUT_LAYERS[output].loss(Z2, Y)) / Z2.shape[1])


def cost_from_A2(A2, Y, output):
    r"""Cost J from predictions A2 and targets Y, both of shape (n_y, m), already validated.

    .. math:: J = -\frac{1}{m}\sum_i [y \log \hat y + (1 - y)\log(1 - \hat y)]
              \quad\text{or}\quad J = \frac{1}{m}\sum_i \tfrac12 (\hat y - y)^2

    For a sigmoid output ŷ is clipped into [tiny, 1 − eps], so a saturated prediction gives a
    large finite cost, not inf. The backends work from the logits instead
    (:func:`cost_from_logits`) and need no clipping. The public, validating entry is
    :func:`fastnn.cost`.
    """
    m = A2.shape[1]
    if output == "linear":
        D = A2 - Y
        return float(0.5 * np.sum(D * D) / m)
    fi = np.finfo(A2.dtype)
    P = np.clip(A2, fi.tiny, 1.0 - fi.epsneg)
    return float(-np.sum(Y * np.log(P) + (1.0 - Y) * np.log1p(-P)) / m)
