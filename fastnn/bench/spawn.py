"""The parent side of worker processes (as pyperf's ``_runner``): every cell's values come from
worker processes apart from the parent and from every other backend.

A worker is forked from a fork server (``multiprocessing``'s ``"forkserver"`` start method) that
has imported fastnn, NumPy, Numba and the installed peers once and run nothing: so each worker
starts in ~50 ms, and none inherits another's threads (OpenBLAS's, Numba's pool, a peer's),
allocator state or caches. Compiled Numba code comes from the on-disk cache (``fastnn._jitcache``):
the compile is paid once, by the first worker that needs a specialisation, and a later worker
loads it.

What reaches a worker is explicit: the parent's whole environment (``os.environ``, thread
variables included; pyperf's whitelist that drops them is not copied) is applied in the worker
before it runs anything, and each task sets its own thread counts (:func:`.worker.threads`). A
registry entry the worker's fastnn does not have (one a program or a test registered) is sent
with the task.

:class:`Worker` is one long-lived worker (the paired rounds keep one per side);
:func:`call` runs one task in a fresh worker; ``isolate=False`` runs it in this process instead
(for tests that replace parts of the harness in the parent).
"""

from __future__ import annotations

import dataclasses
import multiprocessing as mp
import os
import sys
from contextlib import contextmanager

from ..backends import REGISTRY

#: Modules the fork server imports before forking any worker: the harness and the kernels' modules
#: (no kernel is compiled or run there, so no thread pool exists to be forked).
PRELOAD = ("fastnn.bench.cell", "fastnn.bench.paired", "fastnn.backends.numba_fused",
           "fastnn.bench._warm")
#: Seconds a worker may take to exit when told to before it is killed.
EXIT_TIMEOUT_S = 10.0


class WorkerDied(RuntimeError):
    """A worker process ended without answering (killed, crashed, or out of memory)."""


def _preload():
    """:data:`PRELOAD` and the packages of the installed peers (imported, never run)."""
    peers = [b.module for b in REGISTRY.values() if b.peer and not b.missing()]
    pkgs = [p for b in REGISTRY.values() if b.peer and not b.missing() for p in b.requires]
    return list(PRELOAD) + peers + pkgs


_CTX = []


def context():
    """The fork-server context, its preload set once per process."""
    if not _CTX:
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(_preload())
        _CTX.append(ctx)
    return _CTX[0]


def _portable(names):
    """The registry entries named that a fresh fastnn may not have, without their imported
    modules (which cannot be pickled)."""
    return {n: dataclasses.replace(REGISTRY[n], _cache={}) for n in names if n in REGISTRY}


_IN_WORKER = []


def in_worker():
    """True in a worker process."""
    return bool(_IN_WORKER)


def _serve(conn, env, entries):
    """A worker's main loop: apply the parent's environment and registry entries, then run each
    task (function, args, kwargs) sent and send back ("ok", result) or ("error", message)."""
    _IN_WORKER.append(True)
    os.environ.clear()
    os.environ.update(env)
    for name, entry in entries.items():
        REGISTRY.setdefault(name, entry)
    while True:
        try:
            task = conn.recv()
        except EOFError:
            return
        if task is None:
            return
        fn, args, kwargs = task
        try:
            out = ("ok", fn(*args, **kwargs))
        except Exception as exc:  # noqa: BLE001 - the parent decides what a failure means
            out = ("error", f"{type(exc).__name__}: {exc}")
        conn.send(out)


@contextmanager
def _without_main():
    """Hide the parent's ``__main__`` file while a worker starts: multiprocessing would run it
    again in the worker (as ``__mp_main__``), which a script without an ``if __name__ ==
    "__main__"`` guard cannot survive. The workers run fastnn's functions only."""
    main = sys.modules.get("__main__")
    saved = {k: getattr(main, k) for k in ("__file__", "__spec__") if hasattr(main, k)}
    try:
        if "__file__" in saved:
            del main.__file__
        if "__spec__" in saved:
            main.__spec__ = None
        yield
    finally:
        for k, v in saved.items():
            setattr(main, k, v)


class Worker:
    """One worker process, forked from the fork server, alive until :meth:`close`.

    Parameters
    ----------
    backends : iterable of str
        The registry entries its tasks use (sent when the worker's fastnn lacks one).
    """

    def __init__(self, backends=()):
        ctx = context()
        self._conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_serve, daemon=True,
                                   args=(child, dict(os.environ), _portable(backends)))
        with _without_main():
            self.process.start()
        child.close()

    @property
    def pid(self):
        return self.process.pid

    def call(self, fn, *args, **kwargs):
        """Run ``fn(*args, **kwargs)`` in the worker and return its result. A task's exception
        is raised here as a ``RuntimeError`` with its message; a worker that dies is
        :class:`WorkerDied` with its exit code."""
        try:
            self._conn.send((fn, args, kwargs))
            status, out = self._conn.recv()
        except (EOFError, OSError, BrokenPipeError):
            self.process.join(EXIT_TIMEOUT_S)
            raise WorkerDied(f"the worker process ended without answering (exit code "
                             f"{self.process.exitcode})") from None
        if status == "error":
            raise RuntimeError(out)
        return out

    def close(self):
        try:
            self._conn.send(None)
        except (OSError, BrokenPipeError):
            pass
        self.process.join(EXIT_TIMEOUT_S)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self._conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def call(fn, *args, backends=(), isolate=True, **kwargs):
    """``fn(*args, **kwargs)`` in a fresh worker (``isolate``) or in this process."""
    if not isolate:
        return fn(*args, **kwargs)
    with Worker(backends) as w:
        return w.call(fn, *args, **kwargs)


__all__ = ["EXIT_TIMEOUT_S", "PRELOAD", "Worker", "WorkerDied", "call", "context"]
