"""``python``: the lecture's "for i = 1 to m", one example at a time, over plain Python floats.

No NumPy inside the loop: parameters become nested lists once, each example is a list of floats, and
every sum is a Python ``for``. This is the baseline that shows what vectorisation buys.
"""

from __future__ import annotations

import math

import numpy as np

from ..activations import ACTIVATIONS, OUTPUT_LAYERS


def _lists(P):
    return {k: v.tolist() for k, v in P.items()}


def _affine(W, b, v):
    """z = W v + b for one example: W a list of rows, b a list of [b_j], v a list of floats."""
    z = []
    for wj, bj in zip(W, b):
        s = bj[0]
        for k in range(len(v)):
            s += wj[k] * v[k]
        z.append(s)
    return z


def _example_forward(p, x, act, maxout, out):
    """One example x (list of n_x floats) -> z1, a1, z2, a2 (z1 is a list of k pieces for maxout)."""
    if maxout:
        z1 = [_affine(Wp, bp, x) for Wp, bp in zip(p["W1"], p["b1"])]
        a1 = [max(z[j] for z in z1) for j in range(len(z1[0]))]
    else:
        z1 = _affine(p["W1"], p["b1"], x)
        a1 = [act.g1(z) for z in z1]
    z2 = _affine(p["W2"], p["b2"], a1)
    a2 = [out.g1(z) for z in z2]
    return z1, a1, z2, a2


def _example_backward(p, x, y, z1, a1, a2, act, maxout, g):
    """Add one example's gradient (not yet divided by m) into the accumulators g."""
    dz2 = [a2[o] - y[o] for o in range(len(a2))]
    n_h = len(a1)
    for o in range(len(dz2)):
        for j in range(n_h):
            g["dW2"][o][j] += dz2[o] * a1[j]
        g["db2"][o][0] += dz2[o]
    for j in range(n_h):
        da = 0.0
        for o in range(len(dz2)):
            da += p["W2"][o][j] * dz2[o]
        if maxout:
            route = act.dg1([z[j] for z in z1], a1[j])
            for q in range(len(z1)):
                dz = da * route[q]
                for k in range(len(x)):
                    g["dW1"][q][j][k] += dz * x[k]
                g["db1"][q][j][0] += dz
        else:
            dz = da * act.dg1(z1[j], a1[j])
            for k in range(len(x)):
                g["dW1"][j][k] += dz * x[k]
            g["db1"][j][0] += dz


def _example_loss(z2, y, out):
    """One example's loss, the output layer's ``loss1`` summed over its n_y units.

    Python floats raise ``OverflowError`` where IEEE arithmetic gives inf (``(z - y) ** 2`` for
    |z − y| > 1.3e154); the loss is then inf, as on the other backends. A NaN or an infinite
    operand never raises, so nothing else is hidden.
    """
    L = 0.0
    for z, t in zip(z2, y):
        try:
            L += out.loss1(z, t)
        except OverflowError:
            L += math.inf
    return L


def _zeros_like(P):
    return {"d" + k: np.zeros_like(v).tolist() for k, v in P.items()}


def _finish(g, m, dtype):
    return {k: np.array(v, dtype=dtype) / m for k, v in g.items()}


def forward(P, X, hidden, output):
    act, maxout, p = ACTIVATIONS[hidden], hidden == "maxout", _lists(P)
    out = OUTPUT_LAYERS[output]
    cols = [_example_forward(p, x, act, maxout, out) for x in X.T.tolist()]
    Z1, A1, Z2, A2 = (np.array(c, dtype=X.dtype) for c in zip(*cols))
    Z1 = np.moveaxis(Z1, 0, -1)  # (m, n_h) -> (n_h, m); (m, k, n_h) -> (k, n_h, m)
    A2 = np.ascontiguousarray(A2.T)
    return A2, {"Z1": Z1, "A1": A1.T, "Z2": Z2.T, "A2": A2}


def backward(P, cache, X, Y, hidden, output):
    act, maxout, p = ACTIVATIONS[hidden], hidden == "maxout", _lists(P)
    g = _zeros_like(P)
    Z1 = np.moveaxis(cache["Z1"], -1, 0).tolist()
    for x, y, z1, a1, a2 in zip(X.T.tolist(), Y.T.tolist(), Z1, cache["A1"].T.tolist(),
                                cache["A2"].T.tolist()):
        _example_backward(p, x, y, z1, a1, a2, act, maxout, g)
    return _finish(g, X.shape[1], X.dtype)


def cost_and_grads(P, X, Y, hidden, output):
    """for i = 1 to m: forward, add the loss, add the gradient. Then divide by m."""
    act, maxout, p = ACTIVATIONS[hidden], hidden == "maxout", _lists(P)
    out = OUTPUT_LAYERS[output]
    g = _zeros_like(P)
    J = 0.0
    for x, y in zip(X.T.tolist(), Y.T.tolist()):
        z1, a1, z2, a2 = _example_forward(p, x, act, maxout, out)
        J += _example_loss(z2, y, out)
        _example_backward(p, x, y, z1, a1, a2, act, maxout, g)
    m = X.shape[1]
    return J / m, _finish(g, m, X.dtype)
