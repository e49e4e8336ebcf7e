"""Numba's threading layer for every parallel kernel of fastnn, chosen from measurements.

Measured with ``python bench/threading_layers.py`` (the numba step at n_x = 2, n_h = 64; 2-core
AMD EPYC, quiet, 2026-11-27; tbb from ``pip install tbb``):

| layer | m = 1e4 | m = 1e6 | + 1 competing process, m = 1e4 / 1e6 | fork after a parallel call |
|---|---|---|---|---|
| omp (libgomp) | 0.60 ms | 60.2 ms | 0.54 / 89 ms | hangs |
| tbb | 0.59 ms | 58.1 ms | 1.33 / 104 ms | ok |
| workqueue | 0.62 ms | 55.2 ms | 1.2 / 93 ms | ok |

Quiet, the three are equal within noise. Under contention libgomp's spinning threads are
unpredictable (in that run no slower; on a busy machine the same script measured omp at 20 ms
against 3 ms for workqueue at m = 1e4, and an earlier note 7.9 ms against 0.55 ms), and after one
parallel call a ``fork`` (``multiprocessing``'s default on Linux) hangs. So fastnn asks for
Numba's ``"forksafe"`` choice: tbb when its library loads, else a fork-safe OpenMP (Intel's, not
GNU's) if present, else workqueue; on a plain pip install that is workqueue.
``NUMBA_THREADING_LAYER`` in the environment still wins.

The price, measured later on the same machine (n_x = 2, n_h = 4, m = 1e4, the step alone): omp
0.07 ms, workqueue 0.27-0.31 ms, one thread 0.11 ms — workqueue starts a parallel region in
~0.2-0.4 ms where libgomp's spinning threads take tens of µs. So ``numba_fused.SERIAL_BELOW``
was raised (to where two threads start to win under workqueue), and between about 40k and 1M
hidden-unit evaluations per call numba is now up to ~1.6× slower than it would be on libgomp,
quiet; at m = 1e6 the layers are equal. Fork safety and graceful contention were judged worth
it; a user who wants the last µs and never forks can set ``NUMBA_THREADING_LAYER=omp``. Import this module before the first
parallel call (the kernels' modules do).
"""

import os

import numba

#: The layer fastnn asks for unless the environment names one.
LAYER = "forksafe"

def choose():
    """Ask Numba for :data:`LAYER` unless the user chose a layer (``NUMBA_THREADING_LAYER`` in
    the environment, or ``numba.config.THREADING_LAYER`` set in the program): the user's choice
    always wins. Called when a kernel module is first imported, i.e. when fastnn's kernels are
    first used, not by ``import fastnn``."""
    if "NUMBA_THREADING_LAYER" not in os.environ and numba.config.THREADING_LAYER == "default":
        numba.config.THREADING_LAYER = LAYER


choose()
