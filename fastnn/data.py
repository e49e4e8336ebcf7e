"""Data sets for the lecture's demonstrations."""

from __future__ import annotations

import numpy as np

from .init import _positive_int


def flower(m=400, *, petals=4, a=4.0, noise=0.2, seed=None):
    """The planar "flower": two classes of 2-D points along the petals r = a·sin(petals·t).

    Half the points (class 0) take t in [0, 3.12], the other half (class 1) t in [3.12, 6.24], so
    the classes alternate petal by petal and no straight line separates them.

    Parameters
    ----------
    m : int
        Number of examples (even; an odd m gives class 1 the extra point).
    petals : int
        The sine's frequency (4 gives 8 petals, as in the course).
    a : float
        Petal length.
    noise : float
        Standard deviation of the Gaussian noise added to t and to r.
    seed : int or numpy.random.Generator, optional

    Returns
    -------
    X : ndarray, shape (2, m)
    Y : ndarray, shape (1, m)
        Labels 0/1.
    """
    m = _positive_int(m, "m", 2)
    rng = np.random.default_rng(seed)
    X = np.empty((2, m))
    Y = np.empty((1, m))
    edges = [0, m // 2, m]
    for j in range(2):
        lo, hi = edges[j], edges[j + 1]
        n = hi - lo
        t = np.linspace(j * 3.12, (j + 1) * 3.12, n) + rng.standard_normal(n) * noise
        r = a * np.sin(petals * t) + rng.standard_normal(n) * noise
        X[0, lo:hi] = r * np.sin(t)
        X[1, lo:hi] = r * np.cos(t)
        Y[0, lo:hi] = j
    return X, Y
