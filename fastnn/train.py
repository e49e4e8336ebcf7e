"""Gradient descent (lecture §3), prediction and the cost, on any backend."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field

import numpy as np

from .backends import get_backend
from .costs import cost_from_A2, cost_from_logits
from .init import init_params
from .validate import (PARAM_NAMES, check_follow, check_iterations, check_lr, prepare,
                       prepare_cost, sizes)


@dataclass
class FitResult:
    """What :func:`fit` returns; :func:`predict` and :func:`cost` take it in place of params.

    Attributes
    ----------
    params : dict
        The trained W1, b1, W2, b2.
    costs : ndarray, shape (iterations,)
        J before each update: ``costs[0]`` is the cost of the initial parameters.
    backend, hidden, output : str
        What it was trained with; :func:`predict` and :func:`cost` use ``hidden`` and ``output``.
    """

    params: dict
    costs: np.ndarray
    backend: str = "numpy"
    hidden: str = "tanh"
    output: str = "sigmoid"
    info: dict = field(default_factory=dict)


class DivergenceError(FloatingPointError):
    """Gradient descent diverged: the cost J became inf or NaN.

    Attributes
    ----------
    result : FitResult
        The run up to the failing step: ``costs`` holds the finite costs before it and ``params``
        the parameters whose cost was not finite.
    """

    def __init__(self, message, result):
        super().__init__(message)
        self.result = result


def fit(X, Y, *, n_h=4, hidden="tanh", output="sigmoid", backend="numpy", lr=1.2,
        iterations=10000, params=None, seed=None, method="random", callback=None,
        report_every=1000, progress=False):
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
    callback : callable, optional
        Called as ``callback(step, cost)`` every ``report_every`` steps, like the course's
        ``nn_model(..., print_cost=True)``: ``step`` (int) is t = 0, report_every,
        2 · report_every, … below ``iterations``, and ``cost`` (float) is the lecture's J before
        update t (after t updates), equal to ``result.costs[t]``. It runs in the training thread
        while training waits; what it returns is ignored and an exception it raises ends the
        run. It is not called for a cost that is not finite (see ``DivergenceError``). E.g.
        ``callback=lambda t, J: print(f"Cost after iteration {t}: {J:.6f}")``.
    report_every : int
        Steps between reports, for ``callback`` and ``progress`` (default 1000, as the course).
        On ``numba`` the compiled run then runs from report to report (one compiled call per
        report, the same numbers bit for bit); with neither callback nor progress it is one call
        and ``report_every`` is not used.
    progress : bool or rich.console.Console
        True: a ``rich`` progress bar, in a terminal or a notebook, with the steps done, the
        current cost J, the time elapsed and the time left, updated at every report and at the
        end. A ``Console`` draws it there (e.g. ``Console(file=f)``). Default False: silent.
        The bar adds a few ms per run (rich's start, refresh thread and last drawing); while
        it is shown, what the callback prints appears above it.
        In a notebook rich draws the bar in an ipywidgets output; without ipywidgets one line
        per report is printed instead ("fit (numpy): 1000/10000 steps, J = 0.2604").

    Returns
    -------
    FitResult
        ``.params`` (trained dict) and ``.costs`` (1-D, one cost per iteration).

    Raises
    ------
    ValueError, TypeError
        Bad input, with the same message as the backends' methods give (see
        :mod:`fastnn.validate`): checked once, before the first step. Also ``callback`` not
        callable, ``report_every`` not an integer >= 1, ``progress`` not a bool or a Console.
    DivergenceError
        A ``FloatingPointError``: the cost J became inf or NaN, because the learning rate is too
        large for this problem (lr = 1e6 on a regression does it in a few steps; a sigmoid
        output with tanh saturates instead, and its J stays large but finite). Training stops at
        that step, the same step on every backend; the message names it and suggests a smaller
        lr, and ``.result`` holds the run so far. The only per-step check is on the scalar J;
        the final parameters are checked once after the last step.
    """
    if params is None:
        n_x, n_y, dtype = sizes(X, Y)
        params = init_params(n_x, n_h, n_y, method=method, hidden=hidden, seed=seed, dtype=dtype)
    return _descend(params, X, Y, hidden, output, backend, lr, iterations, PARAM_NAMES,
                    (callback, report_every, progress))


def fit_logistic(X, Y, *, backend="numpy", lr=1.2, iterations=10000, callback=None,
                 report_every=1000, progress=False):
    r"""Logistic regression, the network with no hidden layer: ŷ = σ(w X + b), from w = 0.

    It falls out of the 2-layer network on every backend: a linear hidden layer with W1 = I and
    b1 = 0 frozen passes X through unchanged, so W2 (n_y, n_x) and b2 are w and b, trained by the
    same gradient descent. The lecture notes that starting at w = 0 is fine here.

    Parameters
    ----------
    X : array_like, shape (n_x, m)
    Y : array_like, shape (n_y, m)
        Labels in [0, 1].
    backend : str
    lr : float
    iterations : int
    callback : callable, optional
        ``callback(step, cost)`` every ``report_every`` steps from step 0, as in :func:`fit`.
    report_every : int
    progress : bool or rich.console.Console
        As :func:`fit`.

    Returns
    -------
    FitResult
        ``hidden="linear"``; works with :func:`predict` as it is; ``params["W2"]`` is w.

    Raises
    ------
    ValueError, TypeError, DivergenceError
        As :func:`fit`.
    """
    n_x, n_y, dtype = sizes(X, Y)
    params = {"W1": np.eye(n_x, dtype=dtype), "b1": np.zeros((n_x, 1), dtype),
              "W2": np.zeros((n_y, n_x), dtype), "b2": np.zeros((n_y, 1), dtype)}
    return _descend(params, X, Y, "linear", "sigmoid", backend, lr, iterations, ("W2", "b2"),
                    (callback, report_every, progress))


class _Follow:
    """The ``report(t, J)`` a followed run calls: the user's callback and a rich bar, either or
    both. A context manager: it shows the bar while the run lasts, and gives None (no report,
    the run unchanged) when there is neither."""

    def __init__(self, callback, progress, iterations, name):
        self.callback, self.iterations, self.name = callback, iterations, f"fit ({name})"
        self.bar = self.lines = None
        if isinstance(progress, (bool, np.bool_)) and not progress:
            return
        from rich.console import Console
        console = progress if isinstance(progress, Console) else Console()
        if not _draws_live(console):
            self.lines = console
            return
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                   TimeElapsedColumn, TimeRemainingColumn)
        # 2 redraws a second, not rich's 10: a redraw takes ~0.7 ms of the GIL (measured, a
        # terminal console), 0.7 % of a Python-loop run at 10 a second, 0.14 % at 2.
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("J = {task.fields[J]}"), TimeElapsedColumn(),
                            TextColumn("ETA"), TimeRemainingColumn(), console=console,
                            refresh_per_second=2)
        self.task = self.bar.add_task(self.name, total=iterations, J="…")

    def __enter__(self):
        if self.bar is not None:
            self.bar.start()
        followed = self.callback is not None or self.bar is not None or self.lines is not None
        return self if followed else None

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.stop()
        return False

    def __call__(self, t, J):
        self._show(t, f"{J:.6g}")  # J = costs[t], the cost after t updates
        if self.callback is not None:
            self.callback(t, J)

    def end(self, costs, t):
        """The bar at the end: every step done, or, diverged, stopped at step t."""
        if t is not None:
            self._show(t, f"{costs[t]} at step {t + 1}, diverged")
        elif len(costs):
            self._show(self.iterations, f"{costs[-1]:.6g}")

    def _show(self, done, J):
        if self.bar is not None:
            self.bar.update(self.task, completed=done, J=J)
        elif self.lines is not None:
            self.lines.print(f"{self.name}: {done}/{self.iterations} steps, J = {J}",
                            markup=False)


def _draws_live(console):
    """False in a notebook without ipywidgets, where rich draws no live bar (not even its last
    state): a line per report is printed there instead."""
    return not console.is_jupyter or importlib.util.find_spec("ipywidgets") is not None


def _descend(params, X, Y, hidden, output, backend, lr, iterations, keys, follow):
    """Validate once, then the loop on clean arrays: update only the parameters named in
    ``keys``; stop with :class:`DivergenceError` when J is not finite. ``follow`` is
    (callback, report_every, progress)."""
    be = get_backend(backend)
    lr, iterations = check_lr(lr), check_iterations(iterations)
    callback, every, progress = check_follow(*follow)
    P, X, Y, _ = prepare(params, X, Y, hidden, output)
    be._require("cost_and_grads", hidden, output)
    with _Follow(callback, progress, iterations, be.name) as report:
        P, costs, t = be.descend(P, X, Y, hidden, output, lr, iterations, keys, every, report)
        if report is not None:
            report.end(costs, t)
    if t is not None:
        raise _diverged(f"the cost J is {costs[t]} at step {t + 1}", FitResult(
            P, costs[:t], be.name, hidden, output), lr, iterations)
    if iterations and not all(np.isfinite(v).all() for v in P.values()):
        raise _diverged(f"the last update (step {iterations}) made the parameters inf or NaN",
                        FitResult(P, costs, be.name, hidden, output), lr, iterations)
    return FitResult(P, costs, be.name, hidden, output)


def _diverged(what, result, lr, iterations):
    return DivergenceError(f"gradient descent diverged: {what} of {iterations} (lr = {lr:g}); "
                           f"try a smaller learning rate, e.g. lr = {lr / 10:g}", result)


def _network(params, hidden, output):
    """(params dict, hidden, output) from a params dict or a :class:`FitResult`.

    With a FitResult its own hidden and output are used; giving a different one is a
    ``ValueError`` (giving the same one is fine). Otherwise the defaults are tanh and sigmoid.
    """
    if not isinstance(params, FitResult):
        return params, "tanh" if hidden is None else hidden, "sigmoid" if output is None else output
    for name, given, own in (("hidden", hidden, params.hidden), ("output", output, params.output)):
        if given is not None and given != own:
            raise ValueError(f"{name}={given!r} contradicts the FitResult, which was trained with "
                             f"{name}={own!r}; leave {name} out to use the result's own")
    return params.params, params.hidden, params.output


def predict(params, X, *, hidden=None, output=None, backend="numpy"):
    """Predictions of the network for X.

    Parameters
    ----------
    params : dict or FitResult
        W1, b1, W2, b2, or what :func:`fit` returned (then its hidden and output are used).
    X : array_like, shape (n_x, m)
    hidden : str, optional
        The hidden activation; default ``"tanh"``, or the FitResult's.
    output : {"sigmoid", "linear"}, optional
        Default ``"sigmoid"``, or the FitResult's.
    backend : str

    Returns
    -------
    ndarray, shape (n_y, m)
        Labels 0/1 (A2 > 0.5, int64) for a sigmoid output, the values A2 for a linear output.

    Raises
    ------
    ValueError
        As ``Backend.forward``; also a FitResult with a different ``hidden`` or ``output``.
    """
    P, hidden, output = _network(params, hidden, output)
    A2, _ = get_backend(backend).forward(P, X, hidden=hidden, output=output)
    return (A2 > 0.5).astype(np.int64) if output == "sigmoid" else A2


def cost(A2, Y, output=None, *, X=None, hidden=None, backend="numpy"):
    r"""The lecture's cost J, from predictions A2, or of a network on examples X.

    .. math:: J = -\frac{1}{m}\sum_i [y \log \hat y + (1 - y)\log(1 - \hat y)]
              \quad\text{or}\quad J = \frac{1}{m}\sum_i \tfrac12 (\hat y - y)^2

    ``cost(A2, Y)`` scores predictions; ``cost(result, Y, X=X)`` (or ``cost(params, Y, X=X,
    hidden=...)``) runs the network's forward pass on X first and computes J from its logits
    Z2, exactly as :func:`fit` does (``cost(result, Y, X=X_train)`` after training equals what
    one more entry of ``result.costs`` would hold).

    Parameters
    ----------
    A2 : array_like, shape (n_y, m), or dict or FitResult
        Predictions ŷ (probabilities in [0, 1] for a sigmoid output, values for a linear one), or,
        with ``X``, the network (a params dict or what :func:`fit` returned).
    Y : array_like, shape (n_y, m)
        Targets (labels in [0, 1] for a sigmoid output). A 1-D A2 or Y is one row.
    output : {"sigmoid", "linear"}, optional
        Default ``"sigmoid"``, or the FitResult's.
    X : array_like, shape (n_x, m), optional
        The examples, when the first argument is a network.
    hidden : str, optional
        The hidden activation of a params dict (default ``"tanh"``), or the FitResult's.
    backend : str
        Which backend runs the forward pass.

    Returns
    -------
    float
        From A2, for a sigmoid output ŷ is clipped into [tiny, 1 − eps] so a saturated
        prediction gives a large finite cost, not inf.

    Raises
    ------
    TypeError
        A network without ``X`` ("X is missing"), ``hidden`` with predictions A2.
    ValueError
        Bad arrays, with the messages the backends give (see :mod:`fastnn.validate`).
    """
    if X is None and not isinstance(A2, (FitResult, dict)):  # predictions
        if hidden is not None:
            raise TypeError("hidden is for the cost of a network, cost(params, Y, X=X, "
                            "hidden=...); with predictions A2 leave it out")
        output = "sigmoid" if output is None else output
        return cost_from_A2(*prepare_cost(A2, Y, output), output)
    params, hidden, output = _network(A2, hidden, output)
    be = get_backend(backend)
    P, X, Y, _ = prepare(params, X, Y, hidden, output)
    be._require("forward", hidden, output)
    _, cache = be.impl.forward(P, X, hidden, output)
    return cost_from_logits(cache["Z2"], Y, output)
