"""The registry of everything that can be timed: one :class:`Backend` entry per implementation.

It drives the tests, the harness, the report and the demo; nothing else lists backends by name.
An entry names its module (imported on first use) and declares its capabilities: the ops it
implements, the dtypes, activations and outputs it supports, whether its first call compiles, and
what it needs installed. Peers (PyTorch, JAX) are entries of the same kind, marked ``peer`` and
optional: they are used when their package imports and skipped, with one line, when it does not.

Every module provides private ``forward(P, X, hidden, output)``,
``backward(P, cache, X, Y, hidden, output)`` and ``cost_and_grads(P, X, Y, hidden, output)`` that
trust their (validated, contiguous) inputs, for the ops it declares. A module may also provide
``make_call(op, P, X, Y, hidden, output, threads, *, lr, steps)``, returning a zero-argument
callable with its data already converted (a peer's tensors), which the harness then times. A
module of an entry with ``fused_fit`` provides ``fit(P, X, Y, hidden, output, lr, iterations,
keys, every, report)``, the whole training run compiled (one call, or one per report when
``report`` is given). That contract is written down as ``typing.Protocol`` classes in
:mod:`._contract` (``BackendModule`` and one per op; ``requirements(entry)`` says which an entry
needs). :class:`Backend` wraps the functions with the public, validating methods.

The op ``fit`` is a whole training run (``steps`` steps of gradient descent from the given
parameters; the harness records the time per step). On the network's own backends it is
:meth:`Backend.descend`, the code :func:`fastnn.fit` runs; a peer times its own best practice
through its ``make_call("fit", …)``.

Adding a backend = one module + one entry in :data:`REGISTRY`.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass, field

import numpy as np

from ..activations import ACTIVATIONS, OUTPUTS
from ..validate import PARAM_NAMES, check_cache, check_iterations, check_lr, prepare
from ._descent import loop

#: A whole training run, the op the harness times per step (named once, here).
FIT = "fit"
#: What can be timed: one pass, its gradients, one training step, and a whole training run.
OPS = ("forward", "backward", "cost_and_grads", FIT)
#: The learning rate of a timed training run (``fit``): the lecture's flower run.
FIT_LR = 1.2
DTYPES = ("float64", "float32")
#: How a backend's working set grows with m: "temporaries" (a fresh array per formula, as NumPy
#: evaluates the matrix form), "buffers" (its work arrays once, reused), "fused" (X and Y, and
#: the cache only when an op returns it), "per_example" (one example's vectors at a time).
MEMORY_MODELS = ("temporaries", "buffers", "fused", "per_example")


@dataclass(frozen=True)
class Backend:
    """One implementation of the network behind the common API, with its capabilities.

    Attributes
    ----------
    name : str
    module : str
        Dotted module path; imported on first use, so an optional peer costs nothing when absent.
    description : str
        One line for reports.
    ops : tuple of str
        The ops it implements, of :data:`OPS`; ``"fit"`` is a whole training run (see
        :meth:`make_call`).
    dtypes : tuple of str
        The working dtypes it computes in.
    hidden, outputs : tuple of str
        The activations and outputs it supports.
    per_example : bool
        True for the per-example loops (seconds per call at large m).
    jit : bool
        True when the first call compiles (the harness times it separately).
    fused_fit : bool
        True when the whole training run is one compiled call.
    peer : bool
        True for another framework's implementation, timed for comparison only.
    requires : tuple of str
        Importable packages it needs; a peer whose package is missing is skipped.
    compare_to : tuple of str
        Entries it is compared against in the report ("speed-up of this over that").
    sets_threads : bool
        False when its thread count is fixed at start-up (only "all cores" can be measured).
    min_m : int
        The fewest examples it can train on (a classifier that needs an example of each class
        cannot run at m = 1).
    reuses_buffers : bool
        True when its module returns its own work arrays, overwritten by its next call (the
        harness and the descent loop use them at once); the public methods then return copies.
    memory : str
        How its working set grows with m, one of :data:`MEMORY_MODELS` (the harness's
        ``grid.working_set_bytes`` gives each its formula).
    ladder : str
        What it adds over the rung before it on the ladder of the step's speed-up (the
        harness's ``bench.ladder``: the network's backends in registry order, each on one
        thread, then the headline backend on all cores), a phrase; "" when it is not a rung.
    """

    name: str
    module: str
    description: str
    ops: tuple = OPS
    dtypes: tuple = DTYPES
    hidden: tuple = tuple(ACTIVATIONS)
    outputs: tuple = OUTPUTS
    per_example: bool = False
    jit: bool = False
    fused_fit: bool = False
    peer: bool = False
    requires: tuple = ()
    compare_to: tuple = ()
    sets_threads: bool = True
    min_m: int = 1
    reuses_buffers: bool = False
    memory: str = "temporaries"
    ladder: str = ""
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def impl(self):
        """The module with the unchecked kernels (imported on first use)."""
        if "impl" not in self._cache:
            self._cache["impl"] = importlib.import_module(self.module)
        return self._cache["impl"]

    def release(self):
        """Free what this entry keeps between calls in the calling thread (numpy-inplace's
        work arrays, kept per thread; nothing for the others), so the next call allocates it
        again. The harness calls it before it measures a cell's step memory."""
        free = getattr(self.impl, "release", None)
        if free is not None:
            free()

    def missing(self):
        """None when every package in ``requires`` can be imported, else a one-line reason."""
        absent = [p for p in self.requires if importlib.util.find_spec(p) is None]
        return f"{', '.join(absent)} not installed" if absent else None

    def lacks(self, op="cost_and_grads", dtype="float64", hidden="tanh", output="sigmoid"):
        """None when this entry can run the combination, else (what, value) of the first part
        it does not declare: what is "op", "dtype", "hidden" or "output"."""
        for what, v, ok in (("op", op, self.ops), ("dtype", str(dtype), self.dtypes),
                            ("hidden", hidden, self.hidden), ("output", output, self.outputs)):
            if v not in ok:
                return what, v
        return None

    def unsupported(self, op="cost_and_grads", dtype="float64", hidden="tanh",
                    output="sigmoid"):
        """None when this entry can run the combination, else a one-line reason (a declaration,
        not a try): the message of the ``ValueError`` its public methods raise."""
        lack = self.lacks(op, dtype, hidden, output)
        if lack is None:
            return None
        what = "hidden activation" if lack[0] == "hidden" else lack[0]
        return f"{self.name} does not implement {what} {lack[1]!r}"

    def _require(self, op, hidden, output):
        """The public methods accept any float dtype (a backend converts what it cannot compute
        in); ``dtypes`` only says what the harness times. A combination found runnable is
        remembered (a missing package is looked for again on the next call)."""
        key = ("ok", op, hidden, output)
        if key in self._cache:
            return
        why = self.unsupported(op, self.dtypes[0], hidden, output) or self.missing()
        if why:
            raise ValueError(why)
        self._cache[key] = True

    def make_call(self, op, P, X, Y, hidden, output, threads=0, *, lr=FIT_LR, steps=1):
        """A zero-argument callable running ``op`` on prepared (validated) data; nothing is
        converted or checked inside it. Used by the harness for timing.

        Parameters
        ----------
        op : str
            One of :data:`OPS`.
        P : dict of ndarray
            W1 (n_h, n_x), b1 (n_h, 1), W2 (n_y, n_h), b2 (n_y, 1), validated.
        X : ndarray, shape (n_x, m)
        Y : ndarray, shape (n_y, m)
        hidden, output : str
        threads : int
            The thread count a peer sets for itself (0: all cores).
        lr, steps
            For ``fit`` only: the learning rate and the number of gradient-descent steps.

        Returns
        -------
        callable
            ``forward`` → (A2, cache); ``backward`` → grads; ``cost_and_grads`` → (J, grads);
            ``fit`` → (params, costs): the parameters after ``steps`` steps from P (a fresh
            run from P on every call) and costs, shape (steps,), J before each update. On the
            network's own backends ``fit`` is :meth:`descend` (what :func:`fastnn.fit` runs);
            a run that diverges returns its costs up to the first non-finite one.

        Raises
        ------
        ValueError, TypeError
            An unknown op or one this entry does not implement, a missing package; for ``fit``,
            ``lr`` not positive and finite, ``steps`` not an integer >= 1.
        """
        if op not in OPS:
            raise ValueError(f"unknown op {op!r}; valid: {', '.join(OPS)}")
        self._require(op, hidden, output)
        if op == FIT:
            lr, steps = check_lr(lr), check_iterations(steps)
            if steps < 1:
                raise ValueError(f"a timed training run needs steps >= 1, got {steps}")
        return self._call(op, P, X, Y, hidden, output, threads, lr, steps)

    def _call(self, op, P, X, Y, hidden, output, threads=0, lr=FIT_LR, steps=1):
        """:meth:`make_call` without its checks (the public methods have made them)."""
        impl = self.impl
        if op == FIT and not self.peer:
            return lambda: self.descend(P, X, Y, hidden, output, lr, steps, PARAM_NAMES)[:2]
        if hasattr(impl, "make_call"):
            more = dict(lr=lr, steps=steps) if op == FIT else {}
            return impl.make_call(op, P, X, Y, hidden, output, threads, **more)
        if op == "forward":
            return lambda: impl.forward(P, X, hidden, output)
        if op == "backward":
            _, cache = impl.forward(P, X, hidden, output)
            return lambda: impl.backward(P, cache, X, Y, hidden, output)
        return lambda: impl.cost_and_grads(P, X, Y, hidden, output)

    def descend(self, P, X, Y, hidden, output, lr, iterations, keys=PARAM_NAMES, every=1,
                report=None):
        """The whole gradient-descent run on prepared data, unchecked (:func:`fastnn.fit`
        validates, then calls this; the harness times it as the op ``fit``).

        With ``fused_fit`` the module's compiled ``fit`` runs every step in one call; where it
        does not fuse a shape it returns None, and the lecture's Python loop
        (:func:`._descent.loop`) over the module's ``cost_and_grads`` runs instead, as it does
        on every other backend.

        Parameters and returns are those of :func:`._descent.loop` without its ``step``:
        (params, costs, t), the trained parameters (new arrays; P is not modified), the costs
        J before each update, shape (iterations,), and t, None or the first step whose J is not
        finite (the run stopped there). ``report(t, J)`` is called every ``every`` steps, from
        step 0, with the cost J before update t, on either path (the compiled run then runs
        from report to report); without it the compiled run is one call.
        """
        args = (P, X, Y, hidden, output, lr, iterations, keys, every, report)
        return (self.fused_fit and self.impl.fit(*args)) or loop(self.impl.cost_and_grads, *args)

    # The public methods validate once, through ``prepare`` (same errors, same messages, on every
    # backend: see fastnn.validate), then call the unchecked kernels; what they return is the
    # caller's (copied from an entry that ``reuses_buffers``).

    def _owned(self, result):
        """``result``, or a copy of its arrays when this entry's module returns its work arrays."""
        return _copy(result) if self.reuses_buffers else result

    def forward(self, params, X, *, hidden="tanh", output="sigmoid"):
        """Forward pass: Z1 = W1 X + b1, A1 = g(Z1), Z2 = W2 A1 + b2, A2 = σ(Z2) or Z2.

        Parameters
        ----------
        params : dict
            W1 (n_h, n_x), b1 (n_h, 1), W2 (n_y, n_h), b2 (n_y, 1); for maxout W1 (k, n_h, n_x)
            and b1 (k, n_h, 1).
        X : array_like, shape (n_x, m)
        hidden, output : str

        Returns
        -------
        A2 : ndarray, shape (n_y, m)
        cache : dict
            Z1 (n_h, m) or (k, n_h, m) for maxout, A1 (n_h, m), Z2 and A2 (n_y, m).

        Raises
        ------
        ValueError, TypeError
            Bad names, shapes or dtypes; NaN or ±inf in params or X.
        """
        P, X, _, _ = prepare(params, X, None, hidden, output, needs_y=False)
        self._require("forward", hidden, output)
        return self._owned(self.impl.forward(P, X, hidden, output))

    def backward(self, params, cache, X, Y, *, hidden="tanh", output="sigmoid"):
        """Gradients with the 1/m, from the cache of :meth:`forward`.

        dZ2 = A2 − Y, dW2 = dZ2 A1ᵀ / m, db2 = Σ dZ2 / m, dZ1 = W2ᵀ dZ2 ⊙ g'(Z1),
        dW1 = dZ1 Xᵀ / m, db1 = Σ dZ1 / m.

        Parameters
        ----------
        params : dict
            As :meth:`forward`.
        cache : dict
            What :meth:`forward` returned for these params and X (shapes checked, not values).
        X : array_like, shape (n_x, m)
        Y : array_like, shape (n_y, m)
        hidden, output : str

        Returns
        -------
        dict
            dW1, db1, dW2, db2, each of its parameter's shape.

        Raises
        ------
        ValueError, TypeError
            As :meth:`cost_and_grads`, and a cache that does not fit.
        """
        P, X, Y, _ = prepare(params, X, Y, hidden, output)
        self._require("backward", hidden, output)
        cache = check_cache(cache, P, X.shape[1], hidden)
        return self._owned(self.impl.backward(P, cache, X, Y, hidden, output))

    def cost_and_grads(self, params, X, Y, *, hidden="tanh", output="sigmoid"):
        """One training step: the cost J and the gradients of :meth:`backward`.

        Parameters
        ----------
        params : dict
            As :meth:`forward`.
        X : array_like, shape (n_x, m)
        Y : array_like, shape (n_y, m)
            Labels in [0, 1] for a sigmoid output; a 1-D Y is one row.
        hidden, output : str

        Returns
        -------
        J : float
            Cross-entropy (sigmoid output) or ½ mean squared error (linear output); inf or NaN
            when finite inputs overflow (as on every backend).
        grads : dict
            dW1, db1, dW2, db2.

        Raises
        ------
        TypeError
            Y (or X) is None, or not real numbers; params not a dict.
        ValueError
            Bad names or shapes, m = 0, NaN or ±inf in params, X or Y, labels outside [0, 1]
            for a sigmoid output.
        """
        P, X, Y, _ = prepare(params, X, Y, hidden, output)
        self._require("cost_and_grads", hidden, output)
        if self._own_step:
            return self._owned(self.impl.cost_and_grads(P, X, Y, hidden, output))
        return self._owned(self._call("cost_and_grads", P, X, Y, hidden, output)())

    @property
    def _own_step(self):
        """True when ``cost_and_grads`` is the module's own function, not a ``make_call`` (a
        peer's, with its tensors); looked up once."""
        if "own_step" not in self._cache:
            self._cache["own_step"] = not hasattr(self.impl, "make_call")
        return self._cache["own_step"]


def _copy(x):
    """A copy of every array in a result: an array, or a tuple or dict of them (and floats)."""
    if isinstance(x, tuple):
        return tuple(_copy(v) for v in x)
    if isinstance(x, dict):
        return {k: _copy(v) for k, v in x.items()}
    return x.copy() if isinstance(x, np.ndarray) else x


_PKG = __name__
REGISTRY: dict[str, Backend] = {
    b.name: b
    for b in [
        Backend("python", f"{_PKG}.python_loop", "per-example loop over plain Python floats",
                dtypes=("float64",), per_example=True, memory="per_example",
                ladder="the lecture's loop over the examples in plain Python floats"),
        Backend("numpy-loop", f"{_PKG}.numpy_loop", "per-example loop over NumPy vectors",
                per_example=True, compare_to=("python",), memory="per_example",
                ladder="NumPy calls on one example's vectors instead of Python arithmetic"),
        Backend("numpy", f"{_PKG}.numpy_vec", "vectorised NumPy, the lecture's matrix form",
                compare_to=("python",),
                ladder="vectorisation: one matrix formula over all m examples instead of a "
                       "loop"),
        Backend("numpy-inplace", f"{_PKG}.numpy_inplace",
                "vectorised NumPy with its work arrays allocated once and reused",
                reuses_buffers=True, compare_to=("numpy",), memory="buffers",
                ladder="no temporaries: the work arrays allocated once and reused"),
        Backend("numba", f"{_PKG}.numba_fused", "fused parallel Numba kernels", jit=True,
                fused_fit=True, requires=("numba",), memory="fused",
                compare_to=("numpy", "numpy-inplace", "python"),
                ladder="fusion: one compiled pass over each example, with a compiled tanh and "
                       "SIMD"),
        Backend("torch", f"{_PKG}.peer_torch", "PyTorch (CPU, eager), the vectorised formulas",
                ops=("cost_and_grads", FIT), hidden=("tanh",), outputs=("sigmoid",), peer=True,
                requires=("torch",)),
        Backend("jax", f"{_PKG}.peer_jax", "JAX (CPU), the vectorised formulas under jax.jit",
                ops=("cost_and_grads", FIT), hidden=("tanh",), outputs=("sigmoid",), peer=True,
                jit=True, requires=("jax",), sets_threads=False),
        Backend("sklearn", f"{_PKG}.peer_sklearn", "scikit-learn MLPClassifier, full-batch SGD",
                ops=(FIT,), hidden=("tanh",), outputs=("sigmoid",), peer=True,
                requires=("sklearn",), min_m=2),
    ]
}

#: The network's own backends (the public contract: at least python, numpy-loop, numpy, numba).
BACKENDS = tuple(n for n, b in REGISTRY.items() if not b.peer)
#: Every backend is checked against this one before it is timed.
REFERENCE = "numpy"
#: The backend the study is about: its target shapes head the report.
HEADLINE = "numba"


def get_backend(name):
    """The :class:`Backend` called ``name`` (a peer too); an unknown name is a ``ValueError``
    listing the valid ones."""
    if isinstance(name, Backend):
        return name
    try:
        return REGISTRY[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown backend {name!r}; valid: {', '.join(REGISTRY)}") from None


def names(*, peers):
    """Registered names in registry order: the network's backends, or the peers. Read at call
    time, so an entry added to :data:`REGISTRY` is seen by the harness and the report."""
    return tuple(n for n, b in REGISTRY.items() if b.peer == peers)


def available_peers():
    """{peer name: None if usable, else why not (one line)}."""
    return {n: REGISTRY[n].missing() for n in names(peers=True)}


def comparisons(present):
    """(baseline, contender) pairs among the names ``present``, from the entries'
    ``compare_to``; each peer is compared with the headline backend."""
    present = set(present)
    out = [(base, n) for n, b in REGISTRY.items() if n in present for base in b.compare_to
           if base in present]
    out += [(p, HEADLINE) for p in names(peers=True) if p in present and HEADLINE in present]
    return out
