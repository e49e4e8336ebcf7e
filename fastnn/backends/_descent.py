"""The lecture's gradient-descent loop in Python: one backend step per iteration.

It sits below the registry so that :meth:`fastnn.backends.Backend.descend` (used by
:func:`fastnn.fit` and timed by the harness) and :mod:`fastnn.train` share one loop.
"""

from __future__ import annotations

import math

import numpy as np


def loop(step, P, X, Y, hidden, output, lr, iterations, keys):
    """The lecture's loop in Python, one ``step`` (a backend's cost_and_grads) per iteration.

    repeat ``iterations`` times: J, dW = step(W); W := W − lr · dW for each W named in ``keys``.

    Parameters
    ----------
    step : callable
        ``step(P, X, Y, hidden, output) -> (J, grads)``, grads holding dW1, db1, dW2, db2.
        They are read before the next step, so a step may return arrays its next call
        overwrites (``numpy-inplace`` does).
    P : dict of ndarray
        W1 (n_h, n_x), b1 (n_h, 1), W2 (n_y, n_h), b2 (n_y, 1) (maxout: W1 (k, n_h, n_x), b1
        (k, n_h, 1)); validated. Not modified.
    X : ndarray, shape (n_x, m)
    Y : ndarray, shape (n_y, m)
    hidden, output : str
    lr : float
    iterations : int
    keys : tuple of str
        The parameters to update.

    Returns
    -------
    (params, costs, t)
        ``costs`` has shape (iterations,), J before each update; t is None, or the first step
        whose cost J is not finite (then ``costs`` ends with it and ``params`` are the ones
        that gave it). A backend with ``fused_fit`` provides the same function compiled.
    """
    P = {k: v.copy() for k, v in P.items()}  # prepare may hand back the caller's arrays
    costs = np.empty(iterations)
    for t in range(iterations):
        J, grads = step(P, X, Y, hidden, output)
        costs[t] = J
        if not math.isfinite(J):
            return P, costs[:t + 1], t
        for k in keys:
            P[k] -= lr * grads["d" + k]
    return P, costs, None
