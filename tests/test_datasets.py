"""The real data sets (``fastnn.datasets``): layout, standardisation, the shipped copy."""

import importlib.util

import numpy as np
import pytest

import fastnn
from fastnn import datasets as ds

SHAPES = {"digits": (64, 1797, 174), "breast_cancer": (30, 569, 357)}


@pytest.mark.parametrize("name", sorted(ds.DATASETS))
def test_layout_and_standardisation(name):
    """X (n_x, m) float64 C-contiguous, each feature mean 0 and std 1 (or all 0 if constant);
    Y (1, m) of 0/1 with the known number of positives."""
    n_x, m, positives = SHAPES[name]
    X, Y = ds.load(name)
    assert X.shape == (n_x, m) and Y.shape == (1, m)
    assert (ds.DATASETS[name].n_x, ds.DATASETS[name].m) == (n_x, m)  # the declared shape
    assert X.dtype == Y.dtype == np.float64 and X.flags.c_contiguous
    assert set(np.unique(Y)) == {0.0, 1.0} and Y.sum() == positives
    np.testing.assert_allclose(X.mean(axis=1), 0, atol=1e-12)
    sd = X.std(axis=1)
    constant = sd == 0
    np.testing.assert_allclose(sd[~constant], 1, rtol=1e-12)
    assert np.all(X[constant] == 0)
    assert constant.any() == (name == "digits")  # digits has always-blank pixels


@pytest.mark.parametrize("name", sorted(ds.DATASETS))
def test_the_shipped_copy_is_used_without_sklearn_and_equals_it(name, monkeypatch):
    X, Y = ds.DATASETS[name].load(source="copy")
    if importlib.util.find_spec("sklearn") is not None:
        Xs, Ys = ds.DATASETS[name].load(source="sklearn")
        np.testing.assert_array_equal(X, Xs)
        np.testing.assert_array_equal(Y, Ys)
        for a, b in zip(ds._raw(name, source="copy"), ds._raw(name, source="sklearn")):
            np.testing.assert_array_equal(a, b)
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda n, *a: None if n == "sklearn" else real_find_spec(n, *a))
    Xa, Ya = ds.load(name)
    np.testing.assert_array_equal(Xa, X)
    np.testing.assert_array_equal(Ya, Y)


def test_registry_entries_and_unknown_name():
    for name, spec in ds.DATASETS.items():
        assert spec.name == name and spec.n_h >= 1 and spec.steps >= 1 and spec.lr > 0
        assert spec.description
    with pytest.raises(ValueError, match="unknown data set 'iris'; valid: digits, breast_cancer"):
        ds.load("iris")
    with pytest.raises(ValueError, match="valid: digits"):
        ds.load(None)


def test_standardise_constant_feature_is_zero():
    X = np.array([[1.0, 1.0, 1.0], [0.0, 1.0, 2.0]])
    Z = ds.standardise(X)
    assert np.all(Z[0] == 0)
    np.testing.assert_allclose(Z[1], [-np.sqrt(1.5), 0, np.sqrt(1.5)])


def test_the_recommended_run_learns_breast_cancer():
    """A short run of the recommended set-up learns: the cost falls well below log 2."""
    spec = ds.DATASETS["breast_cancer"]
    X, Y = spec.load()
    result = fastnn.fit(X, Y, n_h=spec.n_h, lr=spec.lr, iterations=200, seed=0)
    assert result.costs[-1] < 0.2 < np.log(2) - 0.1 < result.costs[0]
    assert (fastnn.predict(result, X) == Y).mean() > 0.95


def test_package_data_declared():
    """The shipped copy and its source note are package data, so a wheel carries them."""
    import tomllib
    from pathlib import Path
    root = Path(fastnn.__file__).parent
    conf = tomllib.loads((root.parent / "pyproject.toml").read_text())
    files = conf["tool"]["setuptools"]["package-data"]["fastnn"]
    assert ds.COPY in files and "data_files/SOURCE.txt" in files
    assert all((root / f).is_file() for f in files)
    assert (root / ds.COPY).stat().st_size < 200_000
