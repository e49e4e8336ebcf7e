"""Gradient descent (lecture §3), prediction and the cost, on any backend."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .backends import get_backend
from .init import init_params
from .validate import (as_float_array, check_finite, check_iterations, check_labels, check_lr,
                       prepare)


@dataclass
class FitResult:
    """What :func:`fit` returns.

    Attributes
    ----------
    params : dict
        The trained W1, b1, W2, b2.
    costs : ndarray, shape (iterations,)
        J before each update: ``costs[0]`` is the cost of the initial parameters.
    """

    params: dict
    costs: np.ndarray
    backend: str = "numpy"
    hidden: str = "tanh"
    output: str = "sigmoid"
    info: dict = field(default_factory=dict)


def fit(X, Y, *, n_h=4, hidden="tanh", output="sigmoid", backend="numpy", lr=1.2,
        iterations=10000, params=None, seed=None, method="random"):
    """Train the 2-layer network by batch gradient descent.

    repeat ``iterations`` times: J, dW = cost_and_grads(W); W := W − lr · dW (all four parameters).

    Parameters
    ----------
    X : array_like, shape (n_x, m)
    Y : array_like, shape (n_y, m)
        Labels in [0, 1] for ``output="sigmoid"``, values for ``"linear"``. A 1-D Y is one row.
    n_h : int
        Hidden units (ignored when ``params`` is given).
    hidden, output, backend : str
    lr : float
        The learning rate α, positive and finite.
    iterations : int
        Number of gradient steps (0 returns the initial parameters).
    params : dict, optional
        Initial parameters; not modified. Default: :func:`init_params` with ``method`` and ``seed``.
    seed : int or numpy.random.Generator, optional
    method : {"zeros", "random", "xavier", "he"}

    Returns
    -------
    FitResult
        ``.params`` (trained dict) and ``.costs`` (1-D, one cost per iteration).
    """
    be = get_backend(backend)
    lr = check_lr(lr)
    iterations = check_iterations(iterations)
    if params is None:
        Xa = as_float_array(X, "X", ndim=2)
        Ya = as_float_array(Y, "Y", ndim=(1, 2))
        n_y = 1 if Ya.ndim == 1 else Ya.shape[0]
        if Xa.shape[0] == 0 or n_y == 0:
            raise ValueError(f"X has shape {Xa.shape} and Y {Ya.shape}; n_x and n_y must be >= 1")
        params = init_params(Xa.shape[0], n_h, n_y, method=method, hidden=hidden, seed=seed,
                             dtype=np.float32 if Xa.dtype == np.float32 else np.float64)
    P, X, Y, _ = prepare(params, X, Y, hidden, output)
    check_finite(X, "X")
    check_finite(Y, "Y")
    for k, v in P.items():
        check_finite(v, k)
    if output == "sigmoid":
        check_labels(Y)
    return _descend(be, P, X, Y, hidden, output, lr, iterations, tuple(P))


def _descend(be, P, X, Y, hidden, output, lr, iterations, keys):
    """The loop, on validated inputs: update only the parameters named in ``keys``."""
    P = {k: v.copy() for k, v in P.items()}  # prepare may hand back the caller's arrays
    costs = np.empty(iterations)
    step = be.impl.cost_and_grads
    for t in range(iterations):
        J, grads = step(P, X, Y, hidden, output)
        costs[t] = J
        for k in keys:
            P[k] -= lr * grads["d" + k]
    return FitResult(P, costs, be.name, hidden, output)


def fit_logistic(X, Y, *, backend="numpy", lr=1.2, iterations=10000):
    r"""Logistic regression, the network with no hidden layer: ŷ = σ(w X + b), from w = 0.

    It falls out of the 2-layer network on every backend: a linear hidden layer with W1 = I and
    b1 = 0 frozen passes X through unchanged, so W2 (n_y, n_x) and b2 are w and b, trained by the
    same gradient descent. The lecture notes that starting at w = 0 is fine here.

    Returns
    -------
    FitResult
        ``params`` works with :func:`predict` and ``hidden="linear"``; ``params["W2"]`` is w.
    """
    be = get_backend(backend)
    lr = check_lr(lr)
    iterations = check_iterations(iterations)
    Xa = as_float_array(X, "X", ndim=2)
    Ya = as_float_array(Y, "Y", ndim=(1, 2))
    n_x, n_y = Xa.shape[0], 1 if Ya.ndim == 1 else Ya.shape[0]
    dtype = np.float32 if Xa.dtype == np.float32 else np.float64
    params = {"W1": np.eye(n_x, dtype=dtype), "b1": np.zeros((n_x, 1), dtype),
              "W2": np.zeros((n_y, n_x), dtype), "b2": np.zeros((n_y, 1), dtype)}
    P, X, Y, _ = prepare(params, X, Y, "linear", "sigmoid")
    check_finite(X, "X")
    check_finite(Y, "Y")
    check_labels(Y)
    return _descend(be, P, X, Y, "linear", "sigmoid", lr, iterations, ("W2", "b2"))


def predict(params, X, *, hidden="tanh", output="sigmoid", backend="numpy"):
    """Predictions for X (n_x, m): labels 0/1 (A2 > 0.5) of shape (n_y, m) for a sigmoid output,
    the values A2 for a linear output."""
    A2, _ = get_backend(backend).forward(params, X, hidden=hidden, output=output)
    return (A2 > 0.5).astype(np.int64) if output == "sigmoid" else A2
