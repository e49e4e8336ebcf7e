"""``torch``: the lecture's network in PyTorch (CPU, eager), a peer for comparison.

Written as a PyTorch user would for speed: the same explicit gradients as the ``numpy`` backend
(no autograd tape, so the comparison is the framework, not the algorithm), in-place updates, and
for ``fit`` a Python loop over the step (PyTorch's eager way). Implements ``cost_and_grads`` and
``fit`` for a tanh hidden layer and a sigmoid output.

PyTorch's thread count is process-wide. A call runs at the count it was made for and puts the
user's count back afterwards (:func:`_at_threads`): one ``torch.get_num_threads()`` per call
(0.3 µs here) when the two agree, two ``set_num_threads`` more (0.8 µs together) when they
do not.
"""

from __future__ import annotations

import os

from . import FIT_LR

_NAMES = ("W1", "b1", "W2", "b2")


def _step(torch, T, Xt, Yt, m):
    """One step on tensors T = [W1, b1, W2, b2]: (J tensor, [dW1, db1, dW2, db2])."""
    W1, b1, W2, b2 = T
    A1 = torch.tanh(W1 @ Xt + b1)
    Z2 = W2 @ A1 + b2
    J = (torch.nn.functional.softplus(Z2) - Yt * Z2).sum() / m
    dZ2 = torch.sigmoid(Z2) - Yt
    dZ1 = (W2.T @ dZ2) * (1 - A1 * A1)
    return J, [dZ1 @ Xt.T / m, dZ1.sum(1, keepdim=True) / m, dZ2 @ A1.T / m,
               dZ2.sum(1, keepdim=True) / m]


def _at_threads(torch, n, fn):
    """``fn`` run at ``n`` torch threads, the caller's count restored afterwards."""
    def call():
        old = torch.get_num_threads()
        if old == n:
            return fn()
        torch.set_num_threads(n)
        try:
            return fn()
        finally:
            torch.set_num_threads(old)
    return call


def make_call(op, P, X, Y, hidden, output, threads=0, *, lr=FIT_LR, steps=1):
    """A zero-argument callable running ``op`` on tensors converted once, here.

    ``cost_and_grads`` returns (J, grads); ``fit`` runs ``steps`` gradient-descent steps from P
    (a fresh copy each call) and returns (params, costs).
    """
    import torch

    n = threads or os.cpu_count() or 1
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
    m = X.shape[1]
    if op == "fit":
        def run():
            T = [torch.from_numpy(P[k].copy()) for k in _NAMES]
            costs = torch.empty(steps, dtype=torch.float64)
            with torch.no_grad():
                for t in range(steps):
                    J, G = _step(torch, T, Xt, Yt, m)
                    costs[t] = J
                    for w, g in zip(T, G):
                        w.sub_(lr * g)
            return {k: w.numpy() for k, w in zip(_NAMES, T)}, costs.numpy()
        return _at_threads(torch, n, run)
    T = [torch.from_numpy(P[k]) for k in _NAMES]

    def step():
        with torch.no_grad():
            J, G = _step(torch, T, Xt, Yt, m)
        return float(J), {"d" + k: g.numpy() for k, g in zip(_NAMES, G)}
    return _at_threads(torch, n, step)


def cost_and_grads(P, X, Y, hidden, output):
    return make_call("cost_and_grads", P, X, Y, hidden, output)()


def version():
    import torch
    return torch.__version__



