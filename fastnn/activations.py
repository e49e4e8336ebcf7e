"""Activation functions and their derivatives (lecture §3), once, by name.

Each activation has a vectorised NumPy form and a scalar form over plain Python floats (for the
``python`` backend). Derivatives take both ``Z`` and ``A = g(Z)`` and use whichever is cheaper and
exact, as scikit-learn does: tanh' = 1 - A², sigmoid' = A(1 - A), ReLU' = [Z >= 0].

``maxout`` is not an element-wise function of one ``Z``: the hidden layer has ``k`` weight sets and
``A1 = max_k Z1[k]``; the derivative routes the gradient to the winning piece. Its vectorised form
takes the stacked pieces ``Z`` of shape (k, n_h, m).

The table below is the registry :data:`ACTIVATIONS`; ``"maxout"`` is listed in it with the helpers
:func:`maxout` and :func:`maxout_route`. Beside it, :data:`OUTPUT_LAYERS` decides the output branch
once: each output's activation and the loss it implies, both from the logits Z2.

Each vectorised form takes an optional ``out=`` array and then writes its result there, allocating
nothing (every step a ufunc with ``out=`` or an in-place operator): one formula, used by the
backends that allocate per call and by ``numpy-inplace``, which reuses its arrays.

Where each formula lives, per backend family: the NumPy backends (``numpy``, ``numpy-loop``,
``numpy-inplace``) use ``g``, ``dg`` (directly or through :meth:`Activation.dZ`) and
``Output.loss``; the ``python`` backend uses the
scalar ``g1``, ``dg1`` and ``Output.loss1``; the Numba kernels have their own per-element
formulas, the tables ``_G`` and ``_DG`` in ``backends/_numba_kernels.py``, picked by ``code``
while compiling (``_pick``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

#: Slope of leaky ReLU for z < 0 (the lecture's main value; it also shows 0.1).
LEAKY_SLOPE = 0.01
#: ELU's alpha.
ELU_ALPHA = 1.0


# --- vectorised forms: Z, A arrays of any shape; ``out`` an optional array to write into ---------
#
# With ``out=None`` each function returns a new array; with ``out`` (Z's shape and dtype) it
# writes there and returns it, allocating nothing: every step is a ufunc with ``out=`` or an
# in-place operator. A forward form's ``out`` must not overlap Z; a derivative's ``out`` may be Z
# itself (``numpy-inplace`` turns its Z1 into g'(Z1) that way). The values do not depend on
# ``out``: it is the same formula either way.

def _into(out, like):
    """``out``, or a new array of ``like``'s shape and dtype."""
    return np.empty_like(like) if out is None else out


def sigmoid(Z, out=None):
    r""":math:`\sigma(z) = 1 / (1 + e^{-z})`, overflow-free for any finite or infinite z."""
    T = np.negative(Z, out=out)
    with np.errstate(over="ignore"):
        np.exp(T, out=T)
    T += 1.0
    return np.divide(1.0, T, out=T)


def d_sigmoid(Z, A, out=None):
    r""":math:`\sigma'(z) = \sigma(z)(1 - \sigma(z))`."""
    T = np.subtract(1.0, A, out=_into(out, A))
    T *= A
    return T


def tanh(Z, out=None):
    r""":math:`\tanh z = (e^z - e^{-z}) / (e^z + e^{-z})`."""
    return np.tanh(Z, out=out)


def d_tanh(Z, A, out=None):
    r""":math:`\tanh'(z) = 1 - \tanh^2 z`."""
    T = np.multiply(A, A, out=_into(out, A))
    return np.subtract(1.0, T, out=T)


def relu(Z, out=None):
    r""":math:`\max(0, z)`."""
    return np.maximum(Z, 0.0, out=out)


def d_relu(Z, A, out=None):
    r"""0 for z < 0, 1 for z >= 0 (the lecture takes 1 at z = 0): the comparison cast to Z's
    dtype."""
    return np.greater_equal(Z, 0.0, out=_into(out, Z))


def leaky_relu(Z, out=None):
    r""":math:`\max(0.01 z, z)` (0.01 z < z exactly when z > 0)."""
    T = np.multiply(Z, LEAKY_SLOPE, out=out)
    return np.maximum(T, Z, out=T)


def d_leaky_relu(Z, A, out=None):
    r"""0.01 for z < 0, 1 for z >= 0: :math:`\max([z \ge 0], 0.01)`."""
    T = np.greater_equal(Z, 0.0, out=_into(out, Z))
    return np.maximum(T, LEAKY_SLOPE, out=T)


def elu(Z, out=None):
    r""":math:`z` for z >= 0, :math:`\alpha(e^z - 1)` for z < 0, with :math:`\alpha = 1`.

    Computed as :math:`\max(z, \alpha\,\mathrm{expm1}(\min(z, 0)))`: the second term is 0 for
    z >= 0, and for z < 0 it exceeds z (:math:`e^z - 1 > z`; this needs :math:`\alpha \le 1`).
    """
    T = np.minimum(Z, 0.0, out=out)
    np.expm1(T, out=T)
    T *= ELU_ALPHA
    return np.maximum(T, Z, out=T)


def d_elu(Z, A, out=None):
    r"""1 for z >= 0, :math:`\alpha e^z = A + \alpha` for z < 0.

    Computed as :math:`\min(A + \alpha, 1)`: for z >= 0, A + 1 = z + 1 >= 1; for z < 0,
    A + 1 = e^z < 1 (this needs :math:`\alpha = 1`, the lecture's).
    """
    T = np.add(A, ELU_ALPHA, out=_into(out, A))
    return np.minimum(T, 1.0, out=T)


def linear(Z, out=None):
    r"""The identity, :math:`g(z) = z` (a copy)."""
    if out is None:
        return Z.copy()
    np.copyto(out, Z)
    return out


def d_linear(Z, A, out=None):
    r""":math:`g'(z) = 1`."""
    T = _into(out, Z)
    T.fill(1.0)
    return T


def maxout(Z, out=None):
    r"""Maxout over pieces: ``A1 = max_k Z[k]``.

    Parameters
    ----------
    Z : ndarray, shape (k, n_h, m)
        The k pieces :math:`Z_k = W_{1,k} X + b_{1,k}`.
    out : ndarray, shape (n_h, m), optional

    Returns
    -------
    A : ndarray, shape (n_h, m)
    """
    return np.max(Z, axis=0, out=out)


def maxout_route(Z, A=None, out=None):
    r"""One-hot mask of the winning piece (the first one on a tie), of Z's shape (k, …).

    The maxout derivative: :math:`\partial A / \partial Z_k = [k = \arg\max_j Z_j]`, built
    piece by piece as :math:`[Z_k = A] - \sum_{j<k} \text{mask}_j`, clipped at 0 (a piece
    equal to the max after an earlier winner gets 0). Z is (k, n_h, m) for a batch or (k, n_h)
    for one example; A = max_k Z[k] (computed when None).
    """
    A = maxout(Z) if A is None else A
    T = _into(out, Z)
    for k in range(Z.shape[0]):
        np.equal(Z[k], A, out=T[k])
        for j in range(k):
            T[k] -= T[j]
        np.maximum(T[k], 0.0, out=T[k])
    return T


# --- scalar forms: plain Python floats, for the per-example loop --------------------------------

def _s_sigmoid(z):
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def _s_elu(z):
    return z if z >= 0 else ELU_ALPHA * math.expm1(z)


def softplus(Z, out=None, work=None):
    r""":math:`\log(1 + e^z) = \max(z, 0) + \log(1 + e^{-|z|})`, finite for any finite z.

    ``out`` takes the result, ``work`` (Z's shape) the term max(z, 0); either may be None.
    """
    T = np.abs(Z, out=out)
    np.negative(T, out=T)
    np.exp(T, out=T)
    np.log1p(T, out=T)
    T += np.maximum(Z, 0.0, out=work)
    return T


def _s_softplus(z):
    return max(z, 0.0) + math.log1p(math.exp(-abs(z)))


@dataclass(frozen=True)
class Activation:
    """One activation: vectorised ``g(Z, out=None)``/``dg(Z, A, out=None)`` and scalar
    ``g1``/``dg1`` (``dg`` takes (Z, A))."""

    name: str
    g: Callable
    dg: Callable
    g1: Callable
    dg1: Callable
    code: int  # the integer the Numba kernels dispatch on

    def dZ(self, dA, Z, A, out=None):
        r"""Backprop through g: :math:`dZ = dA \odot g'(Z)`, into g′'s array (``out`` or new).

        Parameters
        ----------
        dA : ndarray, shape (n_h, m) or (n_h,)
            The gradient with respect to A = g(Z) (here :math:`W_2^T dZ_2`).
        Z : ndarray, shape (n_h, m) or (n_h,); (k, n_h, m) or (k, n_h) for maxout
        A : ndarray, shape of dA
        out : ndarray, shape of Z, optional
            Where to write dZ (it may be Z itself, not dA).

        Returns
        -------
        dZ : ndarray, the shape of Z (maxout: the gradient routed to each piece)
        """
        T = self.dg(Z, A, out=out)
        T *= dA
        return T


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in [
        Activation("sigmoid", sigmoid, d_sigmoid, _s_sigmoid, lambda z, a: a * (1.0 - a), 0),
        Activation("tanh", tanh, d_tanh, math.tanh, lambda z, a: 1.0 - a * a, 1),
        Activation("relu", relu, d_relu, lambda z: z if z > 0 else 0.0,
                   lambda z, a: 1.0 if z >= 0 else 0.0, 2),
        Activation("leaky_relu", leaky_relu, d_leaky_relu,
                   lambda z: z if z >= 0 else LEAKY_SLOPE * z,
                   lambda z, a: 1.0 if z >= 0 else LEAKY_SLOPE, 3),
        Activation("elu", elu, d_elu, _s_elu, lambda z, a: 1.0 if z >= 0 else a + ELU_ALPHA, 4),
        Activation("linear", linear, d_linear, lambda z: z, lambda z, a: 1.0, 5),
        # maxout: g is the max over the pieces, its derivative the routing mask; the scalar
        # forms take the list of k piece values of one unit.
        Activation("maxout", maxout, maxout_route, max,
                   lambda zs, a: [1.0 if j == zs.index(a) else 0.0 for j in range(len(zs))], 6),
    ]
}


@dataclass(frozen=True)
class Output:
    r"""One output layer: A2 = g(Z2) and the loss it implies, both from the logits Z2.

    Either pair gives :math:`dZ_2 = A_2 - Y`. ``loss(Z2, Y, out=None, work=None)`` is
    element-wise (shape (n_y, m)), into ``out`` when given, with ``work`` (Z2's shape) as scratch
    when given; ``g1``/``loss1`` are the scalar forms; ``code`` is the output activation's
    kernel code. ``labels`` says whether predictions are labels (A2 > 0.5) rather than values.
    """

    name: str
    g: Callable
    g1: Callable
    loss: Callable
    loss1: Callable
    code: int
    labels: bool


def cross_entropy(Z, Y, out=None, work=None):
    r"""The cross-entropy from the logits, :math:`L = \text{softplus}(z) - y z`, element-wise."""
    L = softplus(Z, out, work)
    L -= np.multiply(Y, Z, out=work)
    return L


def half_squared_error(Z, Y, out=None, work=None):
    r""":math:`L = \tfrac12 (z - y)^2`, element-wise (``work`` is not needed)."""
    L = np.subtract(Z, Y, out=out)
    np.square(L, out=L)
    L *= 0.5
    return L


def _output(name, loss, loss1, labels):
    a = ACTIVATIONS[name]
    return Output(name, a.g, a.g1, loss, loss1, a.code, labels)


#: The output branch, decided once: sigmoid with the cross-entropy
#: :math:`L = \text{softplus}(z) - y z` (exact for any logit z), or linear with ½MSE.
OUTPUT_LAYERS: dict[str, Output] = {
    o.name: o
    for o in [
        _output("sigmoid", cross_entropy, lambda z, y: _s_softplus(z) - y * z, True),
        _output("linear", half_squared_error, lambda z, y: 0.5 * (z - y) ** 2, False),
    ]
}
#: The output names (both give dZ2 = A2 - Y).
OUTPUTS = tuple(OUTPUT_LAYERS)


def get_activation(name):
    """Look up an activation by name; an unknown name is a ``ValueError`` listing the valid ones."""
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown activation {name!r}; valid: {', '.join(ACTIVATIONS)}") from None
