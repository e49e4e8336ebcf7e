"""fastnn's parallel kernels leave a process that can still fork (issue 11: with libgomp,
``multiprocessing.Pool`` hung after one parallel Numba call)."""

import os
import subprocess
import sys

import pytest



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


@pytest.mark.slow  # a fresh Python process
def test_a_fork_after_a_parallel_call_does_not_hang():
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_THREADING_LAYER"}
    r = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=120,
                       env=env)
    assert r.returncode == 0, r.stderr
    layer, total = r.stdout.split()
    assert total == "6" and layer in ("tbb", "omp", "workqueue")  # omp only if not libgomp
    from fastnn.backends._threading import TBB_LIBRARY
    if os.path.exists(TBB_LIBRARY):  # the tbb wheel (a dependency) is found and chosen
        assert layer == "tbb"


@pytest.mark.slow  # a fresh Python process
def test_the_environment_still_chooses_the_layer():
    env = dict(os.environ, NUMBA_THREADING_LAYER="workqueue")
    code = CODE.split("with mp")[0]
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       env=env)
    assert r.returncode == 0 and r.stdout.split() == ["workqueue"], r.stderr


@pytest.mark.parametrize("side", ["below", "at"])
def test_a_call_goes_parallel_from_its_layers_threshold(side):
    """The serial/parallel switch follows the measured threshold of the layer in force."""
    from fastnn.backends import _threading
    from fastnn.backends.numba_fused import _chunks
    n_h = 4
    m = _threading.serial_below() // n_h - (side == "below")
    want = 1 if side == "below" else min(_threading.numba.get_num_threads(), m // 64)
    assert _chunks(m, n_h, 1) == want


@pytest.mark.slow  # two fresh Python processes
def test_machine_facts_name_the_layer_the_kernels_run_on():
    """machine_info asks Numba for its thread count, which starts the pool: fastnn's layer must
    be chosen before, or the facts name Numba's default (omp) where the kernels run on tbb."""
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_THREADING_LAYER"}
    facts = ("from fastnn.bench import machine\n"
             "print(machine.machine_info()['cpu']['numba_threading_layer'])")
    out = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env=env) for code in (facts, CODE.split("with mp")[0])]
    assert all(r.returncode == 0 for r in out), [r.stderr for r in out]
    assert out[0].stdout.split() == out[1].stdout.split()
