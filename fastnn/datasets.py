"""Real data sets for the network: scikit-learn's bundled digits (8 vs rest) and breast cancer.

Each loader returns the lecture's layout, standardised:

    X (n_x, m) float64, C-contiguous: each feature (row) scaled to mean 0 and standard deviation 1
      over the m examples, x := (x − mean) / std; a constant feature (std 0) becomes all 0.
    Y (1, m) float64 of labels 0/1.

The raw data come from ``sklearn.datasets`` when scikit-learn is installed, else from the copy
shipped with fastnn (``fastnn/data_files/sklearn_datasets.npz``; its sources and licences are in
``SOURCE.txt`` beside it). ``tests/test_datasets.py`` checks the two are equal wherever
scikit-learn is installed.

>>> import fastnn.datasets as ds
>>> X, Y = ds.load("breast_cancer")
>>> X.shape, Y.shape
((30, 569), (1, 569))
>>> spec = ds.DATASETS["digits"]
>>> result = fastnn.fit(*spec.load(), n_h=spec.n_h, lr=spec.lr, iterations=spec.steps)  # doctest: +SKIP
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from importlib import resources
from typing import Callable

import numpy as np

#: The copy shipped with the package (package data), read where scikit-learn is absent.
COPY = "data_files/sklearn_datasets.npz"


def _raw(name, *, source="auto"):
    """(data (m, n_x) float64, target (m,) int64) of one data set, examples as rows.

    ``source``: "sklearn", "copy" (the shipped one), or "auto" (scikit-learn when it is installed).
    """
    if source == "auto":
        source = "sklearn" if importlib.util.find_spec("sklearn") is not None else "copy"
    if source == "sklearn":
        from sklearn import datasets
        bunch = getattr(datasets, f"load_{name}")()
        return bunch.data.astype(np.float64), bunch.target.astype(np.int64)
    with resources.files("fastnn").joinpath(COPY).open("rb") as f, np.load(f) as npz:
        return npz[f"{name}_X"].astype(np.float64), npz[f"{name}_y"].astype(np.int64)


def standardise(X):
    """Each row (feature) of X (n_x, m) to mean 0 and standard deviation 1 over its m columns.

    .. math:: x_f := (x_f - \\mu_f) / \\sigma_f

    A constant feature (σ_f = 0) becomes 0. Returns a new C-contiguous float64 array.
    """
    X = np.asarray(X, dtype=np.float64)
    mu = X.mean(axis=1, keepdims=True)
    sd = X.std(axis=1, keepdims=True)
    return np.ascontiguousarray((X - mu) / np.where(sd > 0, sd, 1.0))


def digits(*, source="auto"):
    """scikit-learn's digits, the 8s against the rest: 8×8 images of handwritten digits.

    Returns
    -------
    X : ndarray, shape (64, 1797)
        The 64 pixel intensities (0 … 16), standardised (the always-blank pixels are 0).
    Y : ndarray, shape (1, 1797)
        1 for an 8 (174 examples), 0 for any other digit.
    """
    data, target = _raw("digits", source=source)
    return standardise(data.T), (target == 8).astype(np.float64)[None, :]


def breast_cancer(*, source="auto"):
    """scikit-learn's breast-cancer (Wisconsin diagnostic) data: 30 measurements of cell nuclei.

    Returns
    -------
    X : ndarray, shape (30, 569)
        The measurements, standardised.
    Y : ndarray, shape (1, 569)
        scikit-learn's target: 1 benign (357 examples), 0 malignant (212).
    """
    data, target = _raw("breast_cancer", source=source)
    return standardise(data.T), target.astype(np.float64)[None, :]


@dataclass(frozen=True)
class Dataset:
    """One registered data set and the training run recommended for it (tanh hidden layer,
    sigmoid output, as :func:`fastnn.fit` defaults).

    Attributes
    ----------
    name : str
    load : callable
        ``load() -> (X, Y)``, X (n_x, m) standardised float64, Y (1, m) labels 0/1.
    n_x, m : int
        Its features and examples (the shape of X, declared so that a grid can name the shape
        without loading the data; ``tests/test_datasets.py`` checks them).
    n_h : int
        Hidden units.
    steps : int
        Gradient-descent steps (``iterations``).
    lr : float
        The learning rate α.
    description : str
        One line for reports.
    """

    name: str
    load: Callable
    n_x: int
    m: int
    n_h: int
    steps: int
    lr: float
    description: str


#: The real data sets by name.
DATASETS = {d.name: d for d in [
    Dataset("digits", digits, n_x=64, m=1797, n_h=16, steps=2000, lr=0.5,
            description="scikit-learn digits, 8 vs rest (n_x = 64, m = 1,797)"),
    Dataset("breast_cancer", breast_cancer, n_x=30, m=569, n_h=16, steps=2000, lr=0.5,
            description="scikit-learn breast cancer, benign vs malignant (n_x = 30, m = 569)"),
]}


def load(name):
    """(X, Y) of the data set called ``name``: X (n_x, m) standardised, Y (1, m) labels 0/1.

    Raises
    ------
    ValueError
        An unknown name, listing the valid ones.
    """
    if not isinstance(name, str) or name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; valid: {', '.join(DATASETS)}")
    return DATASETS[name].load()
