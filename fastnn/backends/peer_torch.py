"""``torch``: the training step in PyTorch (CPU, eager), a peer for comparison.

The lecture's vectorised formulas written as a PyTorch user would (no autograd: the same explicit
gradients as the ``numpy`` backend, so the comparison is the framework, not the algorithm).
Implements ``cost_and_grads`` for a tanh hidden layer and a sigmoid output.
"""

from __future__ import annotations

import os


def make_call(op, P, X, Y, hidden, output, threads=0):
    """A zero-argument callable doing one step on tensors converted once, here."""
    import torch

    torch.set_num_threads(threads or os.cpu_count() or 1)
    W1, b1, W2, b2 = (torch.from_numpy(P[k]) for k in ("W1", "b1", "W2", "b2"))
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
    m = X.shape[1]

    def step():
        with torch.no_grad():
            A1 = torch.tanh(W1 @ Xt + b1)
            Z2 = W2 @ A1 + b2
            J = (torch.nn.functional.softplus(Z2) - Yt * Z2).sum() / m
            dZ2 = torch.sigmoid(Z2) - Yt
            dW2 = dZ2 @ A1.T / m
            db2 = dZ2.sum(1, keepdim=True) / m
            dZ1 = (W2.T @ dZ2) * (1 - A1 * A1)
            dW1 = dZ1 @ Xt.T / m
            db1 = dZ1.sum(1, keepdim=True) / m
            return float(J), {"dW1": dW1.numpy(), "db1": db1.numpy(), "dW2": dW2.numpy(),
                              "db2": db2.numpy()}
    return step


def cost_and_grads(P, X, Y, hidden, output):
    return make_call("cost_and_grads", P, X, Y, hidden, output)()


def version():
    import torch
    return torch.__version__
