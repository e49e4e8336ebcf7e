"""Numba's threading layer for every parallel kernel of fastnn, chosen from measurements.

Measured with ``python bench/threading_layers.py`` (each layer in fresh processes; the numba
step, all threads; 2-core Intel Xeon VM, quiet, 2026-12-02; tbb 2023.2 from ``pip install tbb``,
its ``libtbb.so.12`` preloaded by :func:`preload_tbb`). Times in ms, median of the samples:

| layer | (2, 64, 1e6) | (2, 4, 1e6) | (784, 128, 1e4) | the same + 1 competing process | fork after a parallel call |
|---|---|---|---|---|---|
| omp (libgomp) | 52.1 | 4.78 | 34.8 | 92.4 / 11.6 / 157 | hangs |
| tbb | 56.5 | 5.27 | 36.2 | 87.1 / 11.1 / 73.2 | ok |
| workqueue | 54.0 | 6.51 | 33.8 | 88.6 / 10.3 / 75.0 | ok |

At the headline shapes the layers are equal within noise, quiet; with a competitor libgomp's
spinning threads cost 2× at the BLAS shape, and after one parallel call a ``fork``
(``multiprocessing``'s default on Linux) hangs. Where they differ is the cost of starting a
parallel region, which sets the size below which a call should stay serial (n_x = 2, n_h = 4;
serial / all threads, quiet; with one competitor in brackets):

| m · n_h | serial | omp | tbb | workqueue |
|---|---|---|---|---|
| 20k | 0.057 | 0.041 (0.042) | 0.047 (0.066) | 0.155 (0.082) |
| 40k | 0.105 | 0.065 (0.066) | 0.074 (0.110) | 0.201 (0.123) |
| 100k | 0.245 | 0.137 (0.309) | 0.151 (0.257) | 0.274 (0.256) |
| 200k | 0.50 | 0.260 (0.283) | 0.278 (0.516) | 0.388 (0.493) |
| 400k | 0.98 | 0.525 (1.89) | 0.530 (1.00) | 0.658 (1.00) |
| 1M | 2.5 | 1.48 (3.05) | 1.32 (2.04) | 1.44 (2.68) |

tbb starts a region about as fast as libgomp (two threads win from ~20k evaluations, against
~150k on workqueue, which is up to 2.7× slower there), is fork-safe and degrades gracefully
under contention (with a competitor, two threads cost what one does). So fastnn asks for
Numba's ``"forksafe"`` choice, which takes tbb when its library loads (the ``tbb`` wheel is a
dependency; :func:`preload_tbb` makes its library findable), else a fork-safe OpenMP (Intel's,
not GNU's), else workqueue; and :func:`serial_below` gives the threshold of the layer in force.
``NUMBA_THREADING_LAYER`` in the environment, or ``numba.config.THREADING_LAYER`` set by the
program, still wins. Import this module before the first parallel call (the kernels' modules do).
"""

import ctypes
import os
import sys

import numba

#: The layer fastnn asks for unless the environment names one.
LAYER = "forksafe"

#: Where ``pip install tbb`` puts Intel's TBB runtime: the environment's ``lib/``, which the
#: dynamic linker does not search, so Numba's tbb layer fails to load ("No threading layer could
#: be loaded") unless the library is loaded first.
TBB_LIBRARY = os.path.join(sys.prefix, "lib", "libtbb.so.12")


def preload_tbb(path=TBB_LIBRARY):
    """Load TBB's runtime from ``path`` into the process (``RTLD_GLOBAL``), so that Numba's tbb
    layer, which links ``libtbb.so.12`` by name, finds it. Returns the path loaded, or ``None``
    when there is no such file or it does not load (then Numba falls back as it always did)."""
    if not os.path.exists(path):
        return None
    try:
        ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
    except OSError:
        return None
    return path


#: Below this many hidden-unit evaluations (m · n_h · k) a call of a fused kernel runs serially,
#: per layer: where two threads start to beat one in the table above (tbb: 1.4× faster quiet at
#: 40k, no slower with a competitor; workqueue: slower at 100k, 1.3× faster at 200k).
SERIAL_BELOW = {"tbb": 32_768, "omp": 32_768, "workqueue": 131_072}


def layer():
    """The threading layer in force (Numba's thread pool is started if it was not yet)."""
    if "layer" not in _state:
        try:  # Numba's own start-up of its pool (private; present since 0.4x)
            from numba.np.ufunc.parallel import _launch_threads
            _launch_threads()
            _state["layer"] = numba.threading_layer()
        except Exception:  # noqa: BLE001 - unknown: serial_below takes the safest threshold
            _state["layer"] = "unknown"
    return _state["layer"]


_state = {}


def serial_below():
    """:data:`SERIAL_BELOW` of the layer in force (the largest for a layer not in the table)."""
    return SERIAL_BELOW.get(layer(), max(SERIAL_BELOW.values()))


def choose():
    """Ask Numba for :data:`LAYER` unless the user chose a layer (``NUMBA_THREADING_LAYER`` in
    the environment, or ``numba.config.THREADING_LAYER`` set in the program): the user's choice
    always wins. When the layer in force may be tbb, TBB's runtime is preloaded
    (:func:`preload_tbb`). Called when a kernel module is first imported, i.e. when fastnn's
    kernels are first used, not by ``import fastnn``."""
    if "NUMBA_THREADING_LAYER" not in os.environ and numba.config.THREADING_LAYER == "default":
        numba.config.THREADING_LAYER = LAYER
    if numba.config.THREADING_LAYER not in ("omp", "workqueue"):
        preload_tbb()

choose()
