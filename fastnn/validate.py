"""Validation at the public boundary, once. Kernels behind it trust their inputs.

Every public entry (``Backend.forward``/``backward``/``cost_and_grads``, ``fit``, ``fit_logistic``,
``predict``, ``cost``) sends its arrays through :func:`prepare` (or :func:`prepare_cost`) exactly
once, so the same bad input gets the same ``ValueError``/``TypeError``, with the same message, on
every backend. The checks, in this order:

1. names: ``output``, then ``hidden``;
2. params: a dict with W1, b1, W2, b2 of real numbers and matching shapes;
3. X (n_x, m) with m >= 1, then Y (n_y, m) (``None`` is a ``TypeError`` wherever Y is needed);
4. values: every parameter, X and Y finite (no NaN, no ±inf); labels in [0, 1] for a sigmoid
   output.

Every array handed to a kernel is a writable, aligned, C-contiguous float32 or float64 array in
native byte order (:func:`kernel_array`): the caller's own array when it already is one (nothing is
ever written to it), else one copy made here, once per call. So any layout a user has works on
every backend with the same result: read-only arrays (``a.setflags(write=False)``, pandas'
``to_numpy()``, ``np.broadcast_to``), slices and transposes, Fortran order, ``np.memmap``,
big-endian data, integer and boolean labels. (Numba compiles a read-only or unaligned array as a
different type, which some kernels cannot take; the copy keeps that out of them.) Nothing handed
in is modified.

Shapes: examples are columns. Where the params give n_x and n_y, X and Y are checked against them;
where they do not (``fit`` and ``fit_logistic`` without ``params``), X and Y are checked against
each other (:func:`sizes`). Either way a transposed X or Y gets the same message ("... must be
(n_x, m) = (2, 400) with examples as columns; pass X.T").

Cost of the value checks, which read every value once per public call (never per training step):
every array is read by a small compiled pass that allocates nothing, :func:`_zero_sum` (Σ x·0 is
0, or NaN when some x is NaN or ±inf; it cannot overflow) or, for sigmoid labels, one pass for
finiteness and range together, :func:`_n_outside_0_1` (a small array costs only the call).
Their cost, measured, is in DESIGN.md ("Measurements behind the backends"). The first call of a
process loads the compiled passes (about 0.2 s).
"""

from __future__ import annotations

import numbers

import numpy as np
from numba import njit

from ._jitcache import CACHE

from .activations import OUTPUTS, get_activation

PARAM_NAMES = ("W1", "b1", "W2", "b2")
_PARAM_SET = frozenset(PARAM_NAMES)
_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)  # NumPy's own instances (native order)
_FLOATS = (_F32, _F64)


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
    dt = arr.dtype
    if dt is _F64 or dt is _F32:  # the common case, without the checks below
        pass
    elif dt.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {dt}")
    elif dt.newbyteorder("=") not in _FLOATS:  # integers, booleans, float16: in float64
        arr = arr.astype(np.float64)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else ndim
        if arr.ndim not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise ValueError(f"{name} must be {want}, got {arr.ndim}-D with shape {arr.shape}")
    return arr


def _dtype_of(*arrays):
    """The working dtype of arrays from :func:`as_float_array`: float32 only when all are float32
    (in either byte order), else float64; always native."""
    dts = {a.dtype for a in arrays}
    if len(dts) == 1 and (dt := dts.pop()) in _FLOATS:  # the common case (native: see _FLOATS)
        return dt
    dt = np.result_type(*[a.dtype for a in arrays]).newbyteorder("=")
    return dt if dt in _FLOATS else _F64


def kernel_array(a, dtype):
    """``a`` as the kernels take it: ``dtype`` in native byte order, C-contiguous, aligned and
    writable, a plain ndarray.

    Parameters
    ----------
    a : ndarray
        Any shape and layout (read-only, strided, Fortran-ordered, broadcast, a memmap,
        big-endian).
    dtype : float32 or float64

    Returns
    -------
    ndarray
        ``a`` itself (a base-class view of it) when it already is such an array: the kernels
        never write to it. Otherwise one new copy, made here once per call, so that neither the
        kernels nor the user ever have to: Numba compiles a read-only or unaligned array as a
        different type, which some kernels cannot take.
    """
    if type(a) is not np.ndarray:
        a = np.asarray(a)  # a memmap or other subclass as a plain view, no copy
    if a.dtype == dtype:
        f = a.flags
        if f.c_contiguous and f.aligned and f.writeable:
            return a
    return np.array(a, dtype=dtype, order="C")


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
    if not params.keys() >= _PARAM_SET:
        missing = [k for k in PARAM_NAMES if k not in params]
        raise ValueError(f"params is missing {', '.join(missing)}; need {', '.join(PARAM_NAMES)}")
    maxout = hidden == "maxout"
    W1, b1, W2, b2 = P = [as_float_array(params[k], k) for k in PARAM_NAMES]
    P = dict(zip(PARAM_NAMES, P))
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


def _transposed(name, a, rows):
    """The one message for an X or Y given with examples as rows (the same through every
    entry, whether n_x and n_y come from params or from the arrays themselves)."""
    return ValueError(f"{name} has shape {a.shape} but must be ({rows}, m) = {a.T.shape} with "
                      f"examples as columns; it looks transposed: pass {name}.T")


def check_X(X, n_x, Y=None):
    """X of shape (n_x, m), m >= 1.

    Parameters
    ----------
    X : array_like
    n_x : int or None
        From W1; None when there are no params (``fit`` without ``params``), and then X is read
        as (n_x, m) unless it is transposed against ``Y``.
    Y : ndarray, optional
        1-D (m,) or 2-D (n_y, m), from :func:`as_float_array`; only read when ``n_x`` is None.
    """
    X = as_float_array(X, "X", ndim=2)
    rows, cols = X.shape
    if n_x is not None:
        transposed = rows != n_x and cols == n_x
    elif Y is None or cols == Y.shape[-1]:
        transposed = False
    else:  # X's columns are not Y's: transposed when its rows are (Y as given, or Y transposed)
        transposed = rows == Y.shape[-1] or (Y.ndim == 2 and cols != Y.shape[0]
                                             and rows == Y.shape[0])
    if transposed:
        raise _transposed("X", X, "n_x")
    if n_x is not None and rows != n_x:
        raise ValueError(f"X has {rows} features (rows) but W1 expects n_x = {n_x}; "
                         f"X must have shape (n_x, m) with examples as columns")
    if cols == 0:
        raise ValueError("X has m = 0 examples; need at least one")
    return X


def check_Y(Y, n_y, m):
    """Y of shape (n_y, m); a 1-D Y of length m is accepted when n_y = 1.

    ``n_y`` is None when there are no params (``fit`` without ``params``): Y's rows are then n_y.
    """
    Y = as_float_array(Y, "Y", ndim=(1, 2))
    if Y.ndim == 1 and n_y in (1, None):
        Y = Y.reshape(1, -1)
    rows = Y.shape[0] if n_y is None else n_y
    if Y.shape == (rows, m):
        return Y
    if Y.ndim == 2 and Y.shape[0] == m != Y.shape[1] and (n_y is None or Y.shape[1] == n_y):
        raise _transposed("Y", Y, "n_y")
    why = ([f"W2 has n_y = {n_y} outputs (rows)"] if Y.ndim == 1 or Y.shape[0] != rows else []) \
        + ([f"X has m = {m} examples (columns)"] if Y.shape[-1] != m else [])
    raise ValueError(f"Y has shape {Y.shape} but must be (n_y, m) = ({rows}, {m}): "
                     f"{' and '.join(why) or 'examples are columns'}")


def sizes(X, Y):
    """(n_x, n_y, dtype) of a run without params (``fit``, ``fit_logistic``), read from X and Y.

    X and Y are checked against each other with the shape messages :func:`prepare` gives when
    params are present (a transposed X or Y is named as such); their values are not read here
    (:func:`prepare` reads them once). ``dtype`` is the working dtype :func:`prepare` will choose
    for X and Y, float32 only when both are float32, so the initial parameters are drawn in the
    dtype the run uses.
    """
    if Y is None:
        raise TypeError("Y is missing (got None)")
    Ya = as_float_array(Y, "Y", ndim=(1, 2))
    Xa = check_X(X, None, Ya)
    if Xa.shape[0] == 0 or (Ya.ndim == 2 and Ya.shape[0] == 0):
        raise ValueError(f"X has shape {Xa.shape} and Y {Ya.shape}; n_x and n_y must be >= 1")
    Ya = check_Y(Ya, None, Xa.shape[1])
    return Xa.shape[0], Ya.shape[0], _dtype_of(Xa, Ya)


def prepare(params, X, Y, hidden, output, *, needs_y=True):
    """Validate and convert a whole call once. Returns (P, X, Y, dtype) with clean arrays.

    Parameters
    ----------
    params : dict
        W1 (n_h, n_x) or (k, n_h, n_x) for maxout, b1 (n_h, 1) or (k, n_h, 1), W2 (n_y, n_h),
        b2 (n_y, 1).
    X : array_like, shape (n_x, m)
    Y : array_like, shape (n_y, m), or None when ``needs_y`` is False
        A 1-D Y of length m is one row (n_y = 1).
    hidden, output : str
    needs_y : bool
        False for the forward pass, which has no Y (a Y given is then ignored).

    Returns
    -------
    P : dict of ndarray
    X : ndarray, shape (n_x, m)
    Y : ndarray, shape (n_y, m), or None
    dtype : numpy.dtype
        The working dtype: float32 only when params, X and Y are all float32 (an integer array is
        read as float64 by :func:`as_float_array`, so it makes the step float64). Every array
        returned is in it, as :func:`kernel_array` makes it (C-contiguous, native byte order,
        writable: the caller's array when it already is one, else one copy). Conversions only
        widen, so a finite input stays finite.

    Raises
    ------
    TypeError
        A missing (None) or non-numeric array, params not a dict.
    ValueError
        An unknown name, a wrong shape, m = 0, NaN or ±inf anywhere, labels outside [0, 1] for a
        sigmoid output.
    """
    check_output(output)
    P, (n_x, _, n_y, _) = check_params(params, hidden)
    X = check_X(X, n_x)
    Y = check_Y(Y, n_y, X.shape[1]) if needs_y else None
    dtype = _dtype_of(*P.values(), X, *([] if Y is None else [Y]))
    P = {k: kernel_array(v, dtype) for k, v in P.items()}
    X = kernel_array(X, dtype)
    for k in PARAM_NAMES:
        check_finite(P[k], k)
    check_finite(X, "X")
    if Y is not None:
        Y = kernel_array(Y, dtype)
        check_targets(Y, output)
    return P, X, Y, dtype


def prepare_cost(A2, Y, output):
    """Validate the arguments of :func:`fastnn.cost` once: A2 and Y of one shape (n_y, m), m >= 1,
    finite; for a sigmoid output A2 in [0, 1] (probabilities) and Y labels in [0, 1].

    Returns (A2, Y) in one float dtype, as :func:`kernel_array` makes them. 1-D arrays are one
    row.
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
    dtype = _dtype_of(A2, Y)
    A2, Y = (kernel_array(a, dtype) for a in (A2, Y))
    check_finite(A2, "A2")
    if output == "sigmoid" and not (A2.min() >= 0 and A2.max() <= 1):
        raise ValueError(f"A2 must hold probabilities in [0, 1] for a sigmoid output (found "
                         f"values in [{A2.min()}, {A2.max()}])")
    check_targets(Y, output)
    return A2, Y


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
        out[key] = kernel_array(arr, P["W2"].dtype)
    return out


# fastmath: reassociation only, so LLVM may vectorise the sum; x * 0.0 cannot be folded to 0
# without the nnan/ninf flags, which stay off. Serial on purpose: a parallel region costs tens of
# µs to start and, on a busy machine, waits for a core (measured: 10-20x slower in the median).
@njit(cache=CACHE, fastmath={"reassoc"})
def _zero_sum(a):
    """Σ a[i]·0 over a 1-D array: 0 when every a[i] is finite, NaN otherwise. Never overflows."""
    acc = 0.0
    for i in range(a.size):
        acc += a[i] * 0.0
    return acc


@njit(cache=CACHE, fastmath={"reassoc"})
def _n_outside_0_1(a):
    """How many a[i] are not in [0, 1] (NaN and ±inf included), in one pass."""
    n = 0
    for i in range(a.size):
        n += not ((a[i] >= 0.0) & (a[i] <= 1.0))
    return n


def check_finite(a, name):
    """Raise ``ValueError`` if the float array ``a`` holds NaN or ±inf, naming the first one.

    One compiled read of ``a`` that allocates nothing (:func:`_zero_sum`); exact, since a sum of
    zeros cannot overflow as a plain sum of finite values can.
    """
    flat = a.reshape(-1)  # a view: the arrays checked here are contiguous
    if _zero_sum(flat) == 0.0:
        return
    at = tuple(int(i) for i in np.unravel_index(np.argmin(np.isfinite(flat)), a.shape))
    raise ValueError(f"{name} contains NaN or inf (first at {name}{list(at)} = {a[at]})")


def check_targets(Y, output):
    """Y (a float array) finite, and for a sigmoid output labels in [0, 1].

    For a sigmoid output one pass counts the values outside [0, 1], which include NaN and ±inf,
    so no separate finiteness pass is made.
    """
    if output != "sigmoid":
        check_finite(Y, "Y")
        return
    if _n_outside_0_1(Y.reshape(-1)) == 0:
        return
    check_finite(Y, "Y")  # NaN or ±inf is named as such, before the range
    raise ValueError("Y must hold labels in [0, 1] for a sigmoid output "
                     f"(found values in [{Y.min()}, {Y.max()}]); use output='linear' for "
                     "regression")


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


def check_follow(callback, report_every, progress):
    """The arguments with which :func:`fastnn.fit` reports a run: ``callback`` None or callable,
    ``report_every`` an integer >= 1, ``progress`` a bool or a ``rich.console.Console``."""
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable as callback(step, cost), or None; got "
                        f"{type(callback).__name__}")
    if isinstance(report_every, (bool, np.bool_)) or not isinstance(report_every,
                                                                     numbers.Integral):
        raise TypeError(f"report_every must be a positive integer (steps between reports), got "
                        f"{report_every!r}")
    if report_every < 1:
        raise ValueError(f"report_every must be >= 1 (steps between reports), got {report_every}")
    if not isinstance(progress, (bool, np.bool_)):
        from rich.console import Console
        if not isinstance(progress, Console):
            raise TypeError(f"progress must be True, False or a rich.console.Console, got "
                            f"{type(progress).__name__}")
    return callback, int(report_every), progress
