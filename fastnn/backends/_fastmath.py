"""exp and tanh for the Numba kernels."""

import math

from numba import njit


@njit(cache=True, inline="always")
def exp_(x):
    return math.exp(x)


@njit(cache=True, inline="always")
def tanh_(x):
    return math.tanh(x)
