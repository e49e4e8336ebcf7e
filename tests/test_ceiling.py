"""The workload ceiling: its microkernels compute what they claim, and the arithmetic is right."""

import numpy as np
import pytest

from fastnn.bench import ceiling as C


def test_microkernels_compute_tanh_and_multiply_add():
    x = np.linspace(-3, 3, 2 * 64).reshape(2, 64)
    out = np.empty_like(x)
    C._tanh_rounds(x, out, 2)
    np.testing.assert_allclose(out, np.tanh(x), rtol=1e-15, atol=1e-300)
    z = np.zeros_like(x)
    C._fma_rounds(x, z, 0.5, 3)
    np.testing.assert_allclose(z, 1.5 * x, rtol=1e-15)


def test_measure_gives_positive_times_per_element_for_both_dtypes():
    r = C.measure(0.01)
    for dt in ("float64", "float32"):
        assert 0 < r[dt]["tanh_s"] < 1e-6 and 0 < r[dt]["fma_s"] < 1e-6


def test_ceiling_time_is_work_times_unit_costs():
    c = {"float64": {"tanh_s": 1e-9, "fma_s": 1e-10}}
    assert C.fmas_per_unit(2) == 8
    assert C.ceiling_s(c, 1000, 4, 2) == pytest.approx(1000 * 4 * (1e-9 + 8e-10))
    assert C.ceiling_s(c, 1000, 4, 2, "float32") is None and C.ceiling_s(None, 1, 1, 1) is None
