"""The vector width of fastnn's compiled code: the full 512 bits where the CPU has AVX-512.

LLVM tunes code for Intel's AVX-512 cores (Skylake-X, Ice Lake, Rocket Lake, Sapphire Rapids …)
to prefer 256-bit vectors (its ``prefer-256-bit`` tuning: on the first of them a 512-bit
instruction lowered the core's clock), and Numba passes the host's tuning on, so its loops use
half of each register. fastnn's kernels are many short element-wise and multiply-add loops; at
the full width its n_x = 2 step runs 14–18 % faster on an AVX-512 Xeon (DESIGN.md, "Measurements behind
the backends").

So, when imported before Numba's compiler starts (``fastnn._jitcache`` imports it, and every
``@njit`` of fastnn imports that), this module sets ``numba.config.CPU_FEATURES`` to the host's
own features plus ``-prefer-256-bit``, unless

- the user chose (``NUMBA_CPU_NAME`` or ``NUMBA_CPU_FEATURES`` in the environment, or
  ``numba.config.CPU_FEATURES`` set in the program): the user's choice always wins;
- the CPU has no AVX-512 (then there is nothing to widen).

With the full width, the arrays Numba allocates (fastnn's per-block work arrays among them)
start on 64 bytes, a cache line, instead of Numba's 32 (:func:`align_arrays`): from 32, every
other allocation put them across cache lines, and a 512-bit load there splits two, so the
n_x = 2 step's time at (2, 64, 1e6) moved by ~15 % with where the heap placed them
(DESIGN.md, "Where numba's data sits").

The setting is the process's, as Numba's config is: Numba code of the same process compiled
after it also gets the full width, and its on-disk cache entries, which Numba keys by the CPU
features, compile once more for the new key. Where Numba's compiler had already started (Numba code
compiled before fastnn was imported), it has no effect; :func:`vector_bits` says what the
compiler in force uses.
"""

from __future__ import annotations

import os

from numba.core import config

#: The LLVM tuning feature that halves the vectors on Intel's AVX-512 cores, switched off.
WIDEN = "-prefer-256-bit"
#: Where an array Numba allocates starts once the loops are 512 bits wide (bytes): one 512-bit
#: vector, one cache line.
ALIGN = 64


def _host_features():
    from llvmlite import binding as ll
    return ll.get_host_cpu_features().flatten()


def choose():
    """Set ``numba.config.CPU_FEATURES`` to the host's features plus :data:`WIDEN` (see the
    module note for when it does not). Returns the features string set, or None."""
    if ("NUMBA_CPU_NAME" in os.environ or "NUMBA_CPU_FEATURES" in os.environ
            or config.CPU_FEATURES is not None):
        return None
    features = _host_features()
    if "+avx512f" not in features.split(","):
        return None
    config.CPU_FEATURES = f"{features},{WIDEN}"
    align_arrays()
    return config.CPU_FEATURES


def align_arrays(nbytes=ALIGN):
    """Make Numba start every array it allocates from now on (``np.empty`` and the like inside
    compiled code) on a multiple of ``nbytes``, and at least on its own preference (32 bytes):
    it wraps ``numba.core.base.BaseContext.get_preferred_array_alignment``, once per process.
    Code compiled before keeps the alignment it was compiled with."""
    from numba.core import base
    old = base.BaseContext.get_preferred_array_alignment
    if getattr(old, "fastnn_align", None) == nbytes:
        return

    def preferred(context, ty):
        return max(old(context, ty), nbytes)
    preferred.fastnn_align = nbytes
    base.BaseContext.get_preferred_array_alignment = preferred


def array_alignment():
    """The bytes an array Numba allocates starts on (a multiple of), as its compiler in force
    aligns them: 64 after :func:`align_arrays`, else Numba's own (32)."""
    from numba import types
    from numba.core.registry import cpu_target
    return cpu_target.target_context.get_preferred_array_alignment(types.float64)


def vector_bits():
    """The widest vector (bits) the loops of Numba's compiler in force may use: 512 with
    AVX-512 and no 256-bit preference, 256 with AVX or AVX2 (or AVX-512 tuned to 256), else
    128. Starts Numba's compiler if it was not yet started."""
    from numba.core.registry import cpu_target
    feats = cpu_target.target_context.codegen()._tm_features.split(",")
    if "+avx512f" in feats and WIDEN in feats:
        return 512
    return 256 if "+avx" in feats else 128


choose()
