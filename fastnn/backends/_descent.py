"""The lecture's gradient-descent loop in Python: one backend step per iteration.

It sits below the registry so that :meth:`fastnn.backends.Backend.descend` (used by
:func:`fastnn.fit` and timed by the harness) and :mod:`fastnn.train` share one loop.
"""

from __future__ import annotations

import math

import numpy as np


def spans(iterations, every):
    """The (start, stop) ranges a followed run is cut into: they cover ``range(iterations)`` in
    order, and each report step t (``t % every == 0``) is the last step of its range.

    >>> spans(2500, 1000)
    [(0, 1), (1, 1001), (1001, 2001), (2001, 2500)]
    """
    stops = sorted(set(range(1, iterations + 1, every)) | {iterations})
    return list(zip([0] + stops[:-1], stops))


def loop(step, P, X, Y, hidden, output, lr, iterations, keys, every=1, report=None):
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
    every : int
        With ``report``: the steps between reports.
    report : callable, optional
        ``report(t, J)`` for each step t with ``t % every == 0`` whose cost J (a float,
        ``costs[t]``) is finite, after that cost is computed; what it returns is ignored.

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
        if report is not None and t % every == 0:
            report(t, float(costs[t]))
        for k in keys:
            P[k] -= lr * grads["d" + k]
    return P, costs, None
