"""``numpy-inplace``: the lecture's vectorised step with its work arrays allocated once and reused.

The same formulas as ``numpy`` (:mod:`.numpy_vec`), in the same order and so to the same bits,
but every array of size (n_h, m) or (n_y, m) is a work array allocated on the first call at a
shape and written again on every later call: each formula is a ufunc or ``np.matmul`` with
``out=``, or an in-place operator (``+=``, ``*=``, ``/=``). A ufunc given ``out`` stores its
result there, and creates a new array only when ``out`` is None (NumPy reference, "Universal
functions (ufunc)", the ``out`` keyword argument, and ``numpy.matmul``'s ``out``:
https://numpy.org/doc/stable/reference/ufuncs.html). The activations, their derivatives and the
losses are the registry's (:mod:`fastnn.activations`), called with ``out=``.

"No temporaries" means: after one call at a shape, a call at the same shape (dtype, W1's and W2's
shapes, m) on the same thread allocates no array that grows with m; what remains is a few
Python objects and, for the results, nothing (the gradients are work arrays too). That is the
point of this rung: ``numpy`` maps and zeroes roughly 2 GB of fresh temporaries per step at
(n_x, n_h, m) = (2, 64, 1e6) (issue 15); this backend maps none, so the two differ only by
allocation, and ``numba`` differs from it by fusion.

``cost_and_grads`` needs two arrays of size (n_h, m), Z1 and A1 ((k + 1) for maxout): once A1
has given dW2, Z1 becomes g'(Z1) and A1 becomes W2ᵀ dZ2, and their product is dZ1, in Z1.

The contract for what is returned
---------------------------------
The module functions return the work arrays themselves: forward's A2 and cache, backward's and
cost_and_grads' gradients stay valid until the next call of this module at the same shape on the
same thread, which overwrites them. The lecture's descent loop (:func:`._descent.loop`) reads
the gradients before its next step, and the harness times these functions, so neither copies.
The public methods (:class:`fastnn.backends.Backend`, whose entry says ``reuses_buffers``) hand
back copies the caller owns (for the gradients, arrays of the parameters' sizes). Inputs are
never written. Work arrays are per thread (two threads never share one), and the
:data:`KEEP` most recently used shapes keep theirs; :func:`release` frees them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

from ..activations import ACTIVATIONS, OUTPUT_LAYERS

#: How many shapes per thread keep their work arrays (the most recently used).
KEEP = 2
_local = threading.local()


class Workspace(dict):
    """The work arrays of one call shape: name -> ndarray, each allocated on its first use."""

    def __init__(self, dtype):
        super().__init__()
        self.dtype = dtype

    def __call__(self, name, shape):
        """The array called ``name``, of ``shape`` and this workspace's dtype (its values are
        whatever the last call left)."""
        a = self.get(name)
        if a is None:
            a = self[name] = np.empty(shape, self.dtype)
        assert a.shape == shape, (name, a.shape, shape)  # the key fixes every shape
        return a


def workspace(P, X):
    """This thread's :class:`Workspace` for the shape of (P, X), keyed by (dtype, W1's shape,
    W2's shape, m); the least recently used beyond :data:`KEEP` is dropped."""
    spaces = getattr(_local, "spaces", None)
    if spaces is None:
        spaces = _local.spaces = OrderedDict()
    key = (X.dtype, P["W1"].shape, P["W2"].shape, X.shape[1])
    ws = spaces.get(key)
    if ws is None:
        ws = spaces[key] = Workspace(X.dtype)
        while len(spaces) > KEEP:
            spaces.popitem(last=False)
    else:
        spaces.move_to_end(key)
    return ws


def release():
    """Free this thread's work arrays (the next call allocates them again)."""
    _local.spaces = OrderedDict()


def _forward(P, X, hidden, output, ws):
    """Z1 = W1 X + b1, A1 = g(Z1), Z2 = W2 A1 + b2, A2 = σ(Z2) or Z2, into ``ws``."""
    W1, W2 = P["W1"], P["W2"]
    m = X.shape[1]
    Z1 = np.matmul(W1, X, out=ws("Z1", W1.shape[:-1] + (m,)))
    Z1 += P["b1"]
    A1 = ACTIVATIONS[hidden].g(Z1, out=ws("A1", (W2.shape[1], m)))
    Z2 = np.matmul(W2, A1, out=ws("Z2", (W2.shape[0], m)))
    Z2 += P["b2"]
    A2 = OUTPUT_LAYERS[output].g(Z2, out=ws("A2", Z2.shape))
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


def _grads(P, X, Y, Z1, A1, A2, hidden, ws, G, dA1):
    """The gradients, into ``ws``: dZ2 = A2 − Y; dW2 = dZ2 A1ᵀ/m; db2 = Σ dZ2/m;
    dZ1 = g'(Z1) ⊙ W2ᵀ dZ2 (g'(Z1) into G, then W2ᵀ dZ2 into dA1: either may be the
    cache's own Z1 or A1); dW1 = dZ1 Xᵀ/m; db1 = Σ dZ1/m."""
    W1, b1, W2, b2 = P["W1"], P["b1"], P["W2"], P["b2"]
    m = X.shape[1]
    dZ2 = np.subtract(A2, Y, out=ws("dZ2", A2.shape))
    dW2 = np.matmul(dZ2, A1.T, out=ws("dW2", W2.shape))
    dW2 /= m
    db2 = np.sum(dZ2, axis=1, keepdims=True, out=ws("db2", b2.shape))
    db2 /= m
    dZ1 = ACTIVATIONS[hidden].dg(Z1, A1, out=G)  # Activation.dZ, ordered so that dA1 may be A1
    dZ1 *= np.matmul(W2.T, dZ2, out=dA1)
    dW1 = np.matmul(dZ1, X.T, out=ws("dW1", W1.shape))
    dW1 /= m
    db1 = np.sum(dZ1, axis=-1, keepdims=True, out=ws("db1", b1.shape))
    db1 /= m
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def forward(P, X, hidden, output):
    """The forward pass into work arrays: (A2, cache) with Z1 (n_h, m) ((k, n_h, m) for
    maxout), A1 (n_h, m), Z2 and A2 (n_y, m), valid until the next call at this shape."""
    return _forward(P, X, hidden, output, workspace(P, X))


def backward(P, cache, X, Y, hidden, output):
    """The gradients dW1, db1, dW2, db2 from ``cache`` (read, never written; it may be this
    module's own), into work arrays valid until the next call at this shape."""
    ws = workspace(P, X)
    Z1, A1 = cache["Z1"], cache["A1"]
    return _grads(P, X, Y, Z1, A1, cache["A2"], hidden, ws, ws("G", Z1.shape),
                  ws("dA1", A1.shape))


def cost_and_grads(P, X, Y, hidden, output):
    """One training step: forward, J = (1/m) Σ L(Z2, Y) from the logits, then the gradients,
    computed over Z1 and A1 (see the module's docstring). Returns (J, grads), the gradients in
    work arrays valid until the next call at this shape."""
    ws = workspace(P, X)
    A2, c = _forward(P, X, hidden, output, ws)
    L = OUTPUT_LAYERS[output].loss(c["Z2"], Y, out=ws("L", A2.shape), work=ws("dZ2", A2.shape))
    J = float(np.sum(L) / X.shape[1])
    return J, _grads(P, X, Y, c["Z1"], c["A1"], A2, hidden, ws, c["Z1"], c["A1"])
