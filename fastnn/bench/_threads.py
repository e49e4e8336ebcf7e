"""The thread setting of one measurement: Numba's pool and the BLAS at one count."""

from __future__ import annotations

from contextlib import contextmanager

from .grid import max_threads


@contextmanager
def threads(n):
    """Numba and the BLAS at ``n`` threads (0: all cores) inside; Numba's count is restored.

    ``n`` above :func:`.grid.max_threads` is a ``ValueError`` (never a silently smaller count
    under a label that says ``n``); :func:`.grid.cells` refuses it before any work.
    """
    import numba
    from threadpoolctl import threadpool_limits
    n_max = numba.config.NUMBA_NUM_THREADS
    if n > max_threads():
        raise ValueError(f"threads {n}: this machine runs at most {max_threads()}")
    old = numba.get_num_threads()
    numba.set_num_threads(n or n_max)
    try:
        with threadpool_limits(limits=n if n else None):
            yield
    finally:
        numba.set_num_threads(old)
