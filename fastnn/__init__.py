"""fastnn: the lecture's 2-layer neural network on interchangeable backends, and how fast each is.

>>> import fastnn
>>> fastnn.BACKENDS
('python', 'numpy-loop', 'numpy', 'numpy-inplace', 'numba')
"""

from .activations import ACTIVATIONS, OUTPUTS, get_activation
from .backends import BACKENDS, Backend, get_backend
from .init import INIT_METHODS, init_params
from .data import flower
from .train import DivergenceError, FitResult, cost, fit, fit_logistic, predict

__all__ = ["ACTIVATIONS", "BACKENDS", "INIT_METHODS", "OUTPUTS", "Backend", "DivergenceError",
           "FitResult", "cost", "fit", "fit_logistic", "flower", "get_activation", "get_backend",
           "init_params", "predict"]
__version__ = "0.1.0"
