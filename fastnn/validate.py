"""Validation at the public boundary, once. Kernels behind it trust their inputs.

Everything here returns new, C-contiguous float arrays (or the caller's own array when it already is
one and is never written to); nothing handed in is modified.
"""

from __future__ import annotations

import numbers

import numpy as np

from .activations import OUTPUTS, get_activation

PARAM_NAMES = ("W1", "b1", "W2", "b2")
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def check_output(output):
    """Raise ``ValueError`` unless ``output`` is one of :data:`~fastnn.activations.OUTPUTS`."""
    if not isinstance(output, str) or output not in OUTPUTS:
        raise ValueError(f"unknown output {output!r}; valid: {', '.join(OUTPUTS)}")


def as_float_array(a, name, ndim=None):
    """``a`` as a float ndarray; ``TypeError`` if it is not real numbers, ``ValueError`` on ndim."""
    if a is None:
        raise TypeError(f"{name} is missing (got None)")
    try:
        arr = np.asarray(a)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} cannot be read as a numeric array: {exc}") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    if arr.dtype not in _FLOATS:  # integers, booleans, float16: compute in float64
        arr = arr.astype(np.float64)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else ndim
        if arr.ndim not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise ValueError(f"{name} must be {want}, got {arr.ndim}-D with shape {arr.shape}")
    return arr


def _dtype_of(*arrays):
    dt = np.result_type(*[a.dtype for a in arrays])
    return dt if dt in _FLOATS else np.dtype(np.float64)


def check_params(params, hidden):
    """Check the parameter dict against the hidden activation.

    Returns
    -------
    dict
        W1, b1, W2, b2 as float arrays (not yet cast to the working dtype), b's as given.
    tuple
        (n_x, n_h, n_y, k) with k = 0 unless hidden is maxout.
    """
    get_activation(hidden)
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict with keys {PARAM_NAMES}, got "
                        f"{type(params).__name__}")
    missing = [k for k in PARAM_NAMES if k not in params]
    if missing:
        raise ValueError(f"params is missing {', '.join(missing)}; need {', '.join(PARAM_NAMES)}")
    maxout = hidden == "maxout"
    P = {k: as_float_array(params[k], k) for k in PARAM_NAMES}
    W1, b1, W2, b2 = (P[k] for k in PARAM_NAMES)
    if maxout:
        if W1.ndim != 3:
            raise ValueError(f"W1 must be 3-D (k, n_h, n_x) for a maxout hidden layer, "
                             f"got shape {W1.shape}")
        k, n_h, n_x = W1.shape
        if k < 1:
            raise ValueError("maxout W1 needs at least one piece (k >= 1)")
        b1_shape = (k, n_h, 1)
    else:
        if W1.ndim != 2:
            hint = " (a 3-D W1 is for hidden='maxout')" if W1.ndim == 3 else ""
            raise ValueError(f"W1 must be 2-D (n_h, n_x), got shape {W1.shape}{hint}")
        k, (n_h, n_x) = 0, W1.shape
        b1_shape = (n_h, 1)
    if n_h == 0 or n_x == 0:
        raise ValueError(f"W1 has shape {W1.shape}; n_h and n_x must be >= 1")
    if b1.shape != b1_shape:
        raise ValueError(f"b1 must have shape {b1_shape} to match W1 {W1.shape}, got {b1.shape}")
    if W2.ndim != 2 or W2.shape[1] != n_h or W2.shape[0] == 0:
        raise ValueError(f"W2 must have shape (n_y, {n_h}) to match W1 {W1.shape}, "
                         f"got {W2.shape}")
    n_y = W2.shape[0]
    if b2.shape != (n_y, 1):
        raise ValueError(f"b2 must have shape ({n_y}, 1) to match W2 {W2.shape}, got {b2.shape}")
    return P, (n_x, n_h, n_y, k)


def check_X(X, n_x):
    """X of shape (n_x, m), m >= 1."""
    X = as_float_array(X, "X", ndim=2)
    if X.shape[0] != n_x:
        raise ValueError(f"X has {X.shape[0]} features (rows) but W1 expects n_x = {n_x}; "
                         f"X must have shape (n_x, m) with examples as columns")
    if X.shape[1] == 0:
        raise ValueError("X has m = 0 examples; need at least one")
    return X


def check_Y(Y, n_y, m):
    """Y of shape (n_y, m); a 1-D Y of length m is accepted when n_y = 1."""
    Y = as_float_array(Y, "Y", ndim=(1, 2))
    if Y.ndim == 1 and n_y == 1:
        Y = Y.reshape(1, -1)
    if Y.shape != (n_y, m):
        raise ValueError(f"Y has shape {Y.shape} but must be (n_y, m) = ({n_y}, {m}) to match "
                         f"W2 and X")
    return Y


def prepare(params, X, Y, hidden, output):
    """Validate and convert a whole call once. Returns (P, X, Y, dtype) with clean arrays.

    The working dtype is float32 only when params, X and Y are all float32 (an integer array is
    read as float64 by :func:`as_float_array`, so it makes the step float64); everything is then
    made C-contiguous in that dtype.
    """
    check_output(output)
    P, (n_x, n_h, n_y, k) = check_params(params, hidden)
    X = check_X(X, n_x)
    arrays = list(P.values()) + [X]
    if Y is not None:
        Y = check_Y(Y, n_y, X.shape[1])
        arrays.append(Y)
    dtype = _dtype_of(*arrays)
    conv = lambda a: np.ascontiguousarray(a, dtype=dtype)  # noqa: E731
    P = {k_: conv(v) for k_, v in P.items()}
    return P, conv(X), (None if Y is None else conv(Y)), dtype


def check_cache(cache, P, m, hidden):
    """The cache from ``forward``: Z1, A1 (and Z2, A2) consistent with params and m."""
    if not isinstance(cache, dict):
        raise TypeError(f"cache must be the dict returned by forward, got {type(cache).__name__}")
    n_h = P["W2"].shape[1]
    n_y = P["W2"].shape[0]
    z1_shape = (P["W1"].shape[0], n_h, m) if hidden == "maxout" else (n_h, m)
    want = {"Z1": z1_shape, "A1": (n_h, m), "A2": (n_y, m)}
    out = {}
    for key, shape in want.items():
        if key not in cache:
            raise ValueError(f"cache is missing {key}; pass the cache returned by forward")
        arr = as_float_array(cache[key], f"cache[{key!r}]")
        if arr.shape != shape:
            raise ValueError(f"cache[{key!r}] has shape {arr.shape}, expected {shape} for these "
                             f"params, hidden={hidden!r} and m = {m}")
        out[key] = np.ascontiguousarray(arr, dtype=P["W2"].dtype)
    return out


def check_finite(a, name):
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or inf")


def check_labels(Y):
    if np.any((Y < 0) | (Y > 1)):
        raise ValueError("Y must hold labels in [0, 1] for a sigmoid output "
                         f"(found values in [{Y.min()}, {Y.max()}]); use output='linear' "
                         "for regression")


def check_lr(lr):
    if isinstance(lr, (bool, np.bool_)) or not isinstance(lr, numbers.Real):
        raise TypeError(f"lr must be a number, got {type(lr).__name__}")
    if not np.isfinite(lr) or lr <= 0:
        raise ValueError(f"lr must be positive and finite, got {lr}")
    return float(lr)


def check_iterations(iterations):
    if isinstance(iterations, (bool, np.bool_)) or not isinstance(iterations, numbers.Integral):
        raise TypeError(f"iterations must be a non-negative integer, got {iterations!r}")
    if iterations < 0:
        raise ValueError(f"iterations must be >= 0, got {iterations}")
    return int(iterations)
