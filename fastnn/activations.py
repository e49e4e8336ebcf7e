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

Where each formula lives, per backend family: the NumPy backends (``numpy``, ``numpy-loop``) use
``g``, ``dg`` (through :meth:`Activation.dZ`) and ``Output.loss``; the ``python`` backend uses the
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


# --- vectorised forms: Z, A arrays of any shape --------------------------------------------------

def sigmoid(Z):
    r""":math:`\sigma(z) = 1 / (1 + e^{-z})`, overflow-free for any finite or infinite z."""
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-Z))


def d_sigmoid(Z, A):
    r""":math:`\sigma'(z) = \sigma(z)(1 - \sigma(z))`, in one new array of A's shape."""
    T = np.subtract(1.0, A, out=np.empty_like(A))
    T *= A
    return T


def tanh(Z):
    r""":math:`\tanh z = (e^z - e^{-z}) / (e^z + e^{-z})`."""
    return np.tanh(Z)


def d_tanh(Z, A):
    r""":math:`\tanh'(z) = 1 - \tanh^2 z`, in one new array of A's shape."""
    T = np.multiply(A, A, out=np.empty_like(A))
    return np.subtract(1.0, T, out=T)


def relu(Z):
    r""":math:`\max(0, z)`."""
    return np.maximum(Z, 0.0)


def d_relu(Z, A):
    r"""0 for z < 0, 1 for z >= 0 (the lecture takes 1 at z = 0)."""
    return (Z >= 0).astype(Z.dtype)


def leaky_relu(Z):
    r""":math:`\max(0.01 z, z)`."""
    return np.where(Z >= 0, Z, LEAKY_SLOPE * Z)


def d_leaky_relu(Z, A):
    r"""0.01 for z < 0, 1 for z >= 0."""
    return np.where(Z >= 0, 1.0, LEAKY_SLOPE).astype(Z.dtype, copy=False)


def elu(Z):
    r""":math:`z` for z >= 0, :math:`\alpha(e^z - 1)` for z < 0, with :math:`\alpha = 1`."""
    return np.where(Z >= 0, Z, ELU_ALPHA * np.expm1(np.minimum(Z, 0.0)))


def d_elu(Z, A):
    r"""1 for z >= 0, :math:`\alpha e^z = A + \alpha` for z < 0."""
    return np.where(Z >= 0, 1.0, A + ELU_ALPHA).astype(Z.dtype, copy=False)


def linear(Z):
    r"""The identity, :math:`g(z) = z`."""
    return Z.copy()


def d_linear(Z, A):
    r""":math:`g'(z) = 1`."""
    return np.ones_like(Z)


def maxout(Z):
    r"""Maxout over pieces: ``A1 = max_k Z[k]``.

    Parameters
    ----------
    Z : ndarray, shape (k, n_h, m)
        The k pieces :math:`Z_k = W_{1,k} X + b_{1,k}`.

    Returns
    -------
    A : ndarray, shape (n_h, m)
    """
    return Z.max(axis=0)


def maxout_route(Z):
    r"""One-hot mask of the winning piece (the first one on a tie), of Z's shape (k, …).

    The maxout derivative: :math:`\partial A / \partial Z_k = [k = \arg\max_j Z_j]`. Z is
    (k, n_h, m) for a batch or (k, n_h) for one example.
    """
    win = Z.argmax(axis=0)
    k = np.arange(Z.shape[0]).reshape((-1,) + (1,) * (Z.ndim - 1))
    return (k == win).astype(Z.dtype)


# --- scalar forms: plain Python floats, for the per-example loop --------------------------------

def _s_sigmoid(z):
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def _s_elu(z):
    return z if z >= 0 else ELU_ALPHA * math.expm1(z)


def softplus(Z):
    r""":math:`\log(1 + e^z) = \max(z, 0) + \log(1 + e^{-|z|})`, finite for any finite z."""
    return np.maximum(Z, 0.0) + np.log1p(np.exp(-np.abs(Z)))


def _s_softplus(z):
    return max(z, 0.0) + math.log1p(math.exp(-abs(z)))


@dataclass(frozen=True)
class Activation:
    """One activation: vectorised ``g``/``dg`` and scalar ``g1``/``dg1`` (``dg`` takes (Z, A))."""

    name: str
    g: Callable
    dg: Callable
    g1: Callable
    dg1: Callable
    code: int  # the integer the Numba kernels dispatch on

    def dZ(self, dA, Z, A):
        r"""Backprop through g: :math:`dZ = dA \odot g'(Z)`, into g′'s new array.

        Parameters
        ----------
        dA : ndarray, shape (n_h, m) or (n_h,)
            The gradient with respect to A = g(Z) (here :math:`W_2^T dZ_2`).
        Z : ndarray, shape (n_h, m) or (n_h,); (k, n_h, m) or (k, n_h) for maxout
        A : ndarray, shape of dA

        Returns
        -------
        dZ : ndarray, the shape of Z (maxout: the gradient routed to each piece)
        """
        T = self.dg(Z, A)
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
        Activation("maxout", maxout, lambda Z, A: maxout_route(Z), max,
                   lambda zs, a: [1.0 if j == zs.index(a) else 0.0 for j in range(len(zs))], 6),
    ]
}



@dataclass(frozen=True)
class Output:
    r"""One output layer: A2 = g(Z2) and the loss it implies, both from the logits Z2.

    Either pair gives :math:`dZ_2 = A_2 - Y`. ``loss(Z2, Y)`` is element-wise (shape (n_y, m));
    ``g1``/``loss1`` are the scalar forms; ``code`` is the output activation's kernel code.
    ``labels`` says whether predictions are labels (A2 > 0.5) rather than values.
    """

    name: str
    g: Callable
    g1: Callable
    loss: Callable
    loss1: Callable
    code: int
    labels: bool


def _output(name, loss, loss1, labels):
    a = ACTIVATIONS[name]
    return Output(name, a.g, a.g1, loss, loss1, a.code, labels)


#: The output branch, decided once: sigmoid with the cross-entropy
#: :math:`L = \text{softplus}(z) - y z` (exact for any logit z), or linear with ½MSE.
OUTPUT_LAYERS: dict[str, Output] = {
    o.name: o
    for o in [
        _output("sigmoid", lambda Z, Y: softplus(Z) - Y * Z,
                lambda z, y: _s_softplus(z) - y * z, True),
        _output("linear", lambda Z, Y: 0.5 * (Z - Y) ** 2, lambda z, y: 0.5 * (z - y) ** 2, False),
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
