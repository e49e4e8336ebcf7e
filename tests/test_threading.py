"""fastnn's parallel kernels leave a process that can still fork (issue 11: with libgomp,
``multiprocessing.Pool`` hung after one parallel Numba call)."""

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow  # each test starts a fresh Python process

CODE = """
import multiprocessing as mp
import numpy as np
import numba
import fastnn
P = fastnn.init_params(2, 64, 1, seed=0)
X = np.random.default_rng(0).standard_normal((2, 200_000))
Y = (X[:1] > 0).astype(float)
fastnn.get_backend("numba").cost_and_grads(P, X, Y)   # a parallel call
print(numba.threading_layer())
with mp.get_context("fork").Pool(2) as pool:
    print(sum(pool.map(abs, [-1, -2, -3])))
"""


def test_a_fork_after_a_parallel_call_does_not_hang():
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_THREADING_LAYER"}
    r = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=120,
                       env=env)
    assert r.returncode == 0, r.stderr
    layer, total = r.stdout.split()
    assert total == "6" and layer in ("tbb", "omp", "workqueue")  # omp only if not libgomp


def test_the_environment_still_chooses_the_layer():
    env = dict(os.environ, NUMBA_THREADING_LAYER="workqueue")
    code = CODE.split("with mp")[0]
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       env=env)
    assert r.returncode == 0 and r.stdout.split() == ["workqueue"], r.stderr
