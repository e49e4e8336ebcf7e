"""Parameter initialisation (lecture §5): zeros, random·scale, Xavier and He."""

from __future__ import annotations

import numbers

import numpy as np

from .activations import get_activation

#: Standard deviation of W for each method, given fan-in and fan-out (``scale`` only for random).
INIT_METHODS = {
    "zeros": lambda fan_in, fan_out, scale: 0.0,
    "random": lambda fan_in, fan_out, scale: scale,
    "xavier": lambda fan_in, fan_out, scale: np.sqrt(2.0 / (fan_in + fan_out)),
    "he": lambda fan_in, fan_out, scale: np.sqrt(2.0 / fan_in),
}


def _positive_int(value, name, minimum=1):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def init_params(n_x, n_h, n_y, *, method="random", scale=0.01, hidden="tanh", pieces=2,
                seed=None, dtype=np.float64):
    r"""Initial parameters of the 2-layer network.

    Biases start at zero; weights are drawn from :math:`\mathcal N(0, s^2)` with

    - ``zeros``: s = 0 (every hidden unit stays identical: the symmetry is never broken);
    - ``random``: s = ``scale`` (the lecture's ``randn(shape) * 0.01``);
    - ``xavier``: s = √(2 / (fan_in + fan_out)) (Glorot);
    - ``he``: s = √(2 / fan_in).

    Parameters
    ----------
    n_x, n_h, n_y : int
        Input features, hidden units, output units.
    method : {"zeros", "random", "xavier", "he"}
    scale : float
        Standard deviation for ``method="random"``; ignored otherwise.
    hidden : str
        The hidden activation. ``"maxout"`` gives W1 of shape (pieces, n_h, n_x).
    pieces : int
        k, the number of maxout pieces.
    seed : int, numpy.random.Generator or None
    dtype : float32 or float64

    Returns
    -------
    dict
        ``W1`` (n_h, n_x) or (k, n_h, n_x), ``b1`` (n_h, 1) or (k, n_h, 1), ``W2`` (n_y, n_h),
        ``b2`` (n_y, 1).
    """
    n_x = _positive_int(n_x, "n_x")
    n_h = _positive_int(n_h, "n_h")
    n_y = _positive_int(n_y, "n_y")
    if not isinstance(method, str) or method not in INIT_METHODS:
        raise ValueError(f"unknown init method {method!r}; valid: {', '.join(INIT_METHODS)}")
    get_activation(hidden)
    if isinstance(scale, (bool, np.bool_)) or not isinstance(scale, numbers.Real) \
            or not np.isfinite(scale) or scale < 0:
        raise ValueError(f"scale must be a finite number >= 0, got {scale!r}")
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"dtype must be float32 or float64, got {dtype}")
    rng = np.random.default_rng(seed)
    std = INIT_METHODS[method]
    lead = (_positive_int(pieces, "pieces", 2),) if hidden == "maxout" else ()
    W1 = rng.standard_normal(lead + (n_h, n_x)) * std(n_x, n_h, scale)
    W2 = rng.standard_normal((n_y, n_h)) * std(n_h, n_y, scale)
    return {
        "W1": W1.astype(dtype),
        "b1": np.zeros(lead + (n_h, 1), dtype),
        "W2": W2.astype(dtype),
        "b2": np.zeros((n_y, 1), dtype),
    }
