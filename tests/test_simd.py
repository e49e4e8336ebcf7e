"""fastnn._simd: the kernels use the full vector width on AVX-512, and the user's choice wins."""

import os
import subprocess
import sys

import numpy as np
import pytest

from fastnn import _simd

AVX512 = "+avx512f" in _simd._host_features().split(",")


def _in_fresh_process(code, **env):
    """Run ``code`` in a new interpreter with ``env`` added; its stdout, stripped."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_CPU_")}
    full.update(env)
    out = subprocess.run([sys.executable, "-c", code], env=full, capture_output=True, text=True,
                         check=True)
    return out.stdout.strip()


@pytest.mark.skipif(not AVX512, reason="the CPU has no AVX-512: nothing to widen")
def test_loops_compile_to_512_bit_vectors_on_avx512():
    import fastnn.backends.numba_fused  # noqa: F401  (fastnn's kernels loaded: the setting is in)
    from numba import njit

    @njit(fastmath={"contract"})  # not cached: compiled here, as the kernels were
    def axpy(a, x, y):
        for i in range(x.size):
            y[i] += a * x[i]

    axpy(2.0, np.ones(64), np.ones(64))
    asm = "".join(axpy.inspect_asm().values())
    assert _simd.vector_bits() == 512
    assert "zmm" in asm


@pytest.mark.skipif(not AVX512, reason="the CPU has no AVX-512: nothing to widen")
def test_the_users_features_win():
    code = "import fastnn._simd as s; from numba.core import config; print(config.CPU_FEATURES)"
    assert _in_fresh_process(code, NUMBA_CPU_FEATURES="+avx2,+fma") == "+avx2,+fma"
    assert _simd.WIDEN in _in_fresh_process(code)
    code_bits = "import fastnn._simd as s; print(s.vector_bits())"
    assert _in_fresh_process(code_bits, NUMBA_CPU_FEATURES="+avx,+avx2,+fma") == "256"


def test_no_avx512_leaves_numba_alone(monkeypatch):
    from numba.core import config
    monkeypatch.setattr(config, "CPU_FEATURES", None)
    monkeypatch.delenv("NUMBA_CPU_FEATURES", raising=False)
    monkeypatch.delenv("NUMBA_CPU_NAME", raising=False)
    monkeypatch.setattr(_simd, "_host_features", lambda: "+sse2,+avx,+avx2,-avx512f,+fma")
    assert _simd.choose() is None and config.CPU_FEATURES is None
    monkeypatch.setattr(_simd, "_host_features", lambda: "+avx2,+avx512f")
    assert _simd.choose() == "+avx2,+avx512f," + _simd.WIDEN


@pytest.mark.skipif(not AVX512, reason="the CPU has no AVX-512: nothing to widen")
def test_arrays_numba_allocates_start_on_a_cache_line_with_512_bit_loops():
    """With the full width every array Numba allocates starts on 64 bytes (its own 32 put half
    of them across cache lines); where the user chose the features, Numba keeps its own."""
    code = ("import fastnn._simd as s, numba, numpy as np\n"
            "f = numba.njit(lambda k: np.empty(k).ctypes.data % 64)\n"
            "print(s.array_alignment(), sorted({int(f(k)) for k in range(1, 400, 7)}))")
    assert _in_fresh_process(code) == "64 [0]"
    assert _in_fresh_process(code, NUMBA_CPU_FEATURES="+avx2,+fma").startswith("32 ")


def test_aligning_twice_wraps_numba_once():
    from numba.core import base
    _simd.align_arrays()
    once = base.BaseContext.get_preferred_array_alignment
    _simd.align_arrays()
    assert base.BaseContext.get_preferred_array_alignment is once


@pytest.mark.parametrize("n_x", [8, 30, 64, 784])
@pytest.mark.parametrize("n_h", [4, 16, 64, 128])
@pytest.mark.parametrize("k", [1, 2])
def test_a_wide_blocks_rows_are_not_a_multiple_of_4_kib(n_x, n_h, k):
    """Rows a multiple of 4 KiB apart fall in the same L1 sets (4K aliasing): a wide step's
    block of float64 examples must not make every row of its work arrays 4 KiB long."""
    from fastnn.backends.numba_fused import _step_block
    B = _step_block(n_x, n_h, k, True)
    assert 128 <= B and (B * 8) % 4096 != 0
