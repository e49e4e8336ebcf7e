"""Progress a reader can see in a terminal and in a log: named phases and a bar (or lines).

In a terminal a live ``rich`` bar; anywhere else (piped through ``tee``, a CI log) one plain line
every :data:`EVERY_S` seconds with done/total, elapsed time, ETA and the current cell. Each phase
is named before it starts and timed when it ends::

    from fastnn.bench import progress
    with progress.phase("building the report"):
        build(...)
"""

from __future__ import annotations

import sys
import threading
import time
from contextlib import contextmanager

#: Seconds between plain progress lines.
EVERY_S = 5.0
#: Seconds between "still running" lines of a long phase.
HEARTBEAT_S = 10.0


def _clock(s):
    s = int(round(s))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


class Progress:
    """Phases and a bar on ``stream`` (default stdout).

    Parameters
    ----------
    stream : file-like, optional
        Where progress goes; default ``sys.stdout``, so ``| tee log`` keeps it in order with the
        command's other lines.
    live : bool, optional
        A rich live bar (True) or plain lines (False); default: whether ``stream`` is a terminal.
    enabled : bool
        False: nothing at all (tests, ``--no-progress``).
    every_s : float
        Seconds between plain lines.
    """

    def __init__(self, stream=None, live=None, enabled=True, every_s=EVERY_S):
        self.stream = stream or sys.stdout
        isatty = getattr(self.stream, "isatty", lambda: False)
        self.live = isatty() if live is None else live
        self.enabled = enabled
        self.every_s = every_s

    def say(self, text):
        if self.enabled:
            print(text, file=self.stream, flush=True)

    @contextmanager
    def phase(self, name):
        """Name a phase before it starts ("name …"), say every HEARTBEAT_S seconds that it is
        still running, and say how long it took when it ends."""
        self.say(f"{name} …")
        t0 = time.perf_counter()
        stop = threading.Event()

        def beat():
            while not stop.wait(max(self.every_s, HEARTBEAT_S)):
                self.say(f"{name}: still running, {_clock(time.perf_counter() - t0)} so far")

        ticker = threading.Thread(target=beat, daemon=True)
        if self.enabled:
            ticker.start()
        try:
            yield
        finally:
            stop.set()
            if ticker.is_alive():
                ticker.join()
        self.say(f"{name}: done in {time.perf_counter() - t0:.1f} s")

    def bar(self, total, name="sweeping"):
        """A context manager with ``update(text)`` (the current item) and ``advance()``."""
        if not self.enabled:
            return _Lines(total, name, None, self.every_s)
        if self.live:
            return _Live(total, name, self.stream)
        return _Lines(total, name, self.stream, self.every_s)


class _Lines:
    """Plain lines: the first item, then one line every ``every_s`` seconds, then the end."""

    def __init__(self, total, name, stream, every_s):
        self.total, self.name, self.stream, self.every_s = total, name, stream, every_s
        self.done, self.current, self.t0, self.last = 0, "", time.perf_counter(), None

    def __enter__(self):
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        if exc[0] is None and self.total:
            self._line()
        return False

    def update(self, text):
        self.current = text
        if self.last is None or time.perf_counter() - self.last >= self.every_s:
            self._line()

    def advance(self):
        self.done += 1

    def line(self):
        """The progress line as it would be printed now."""
        el = time.perf_counter() - self.t0
        pct = 100 * self.done / self.total if self.total else 100.0
        eta = _clock(el / self.done * (self.total - self.done)) if self.done else "?"
        now = f", now {self.current}" if self.current and self.done < self.total else ""
        return (f"{self.name}: {self.done}/{self.total} ({pct:.0f} %), {_clock(el)} elapsed, "
                f"ETA {eta}{now}")

    def _line(self):
        self.last = time.perf_counter()
        if self.stream is not None:
            print(self.line(), file=self.stream, flush=True)


class _Live:
    def __init__(self, total, name, stream):
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                   TimeElapsedColumn, TimeRemainingColumn)
        self._p = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                           TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                           console=Console(file=stream))
        self._task = self._p.add_task(name, total=total)

    def __enter__(self):
        self._p.__enter__()
        return self

    def __exit__(self, *exc):
        return self._p.__exit__(*exc)

    def update(self, text):
        self._p.update(self._task, description=text)

    def advance(self):
        self._p.advance(self._task)


def phase(name, stream=None, enabled=True):
    """Name a phase on stdout (or ``stream``) and time it: ``with phase("building the report"):``."""
    return Progress(stream, enabled=enabled).phase(name)


def make(progress):
    """A :class:`Progress` from what callers pass: one already, or a bool (enabled or not)."""
    return progress if isinstance(progress, Progress) else Progress(enabled=bool(progress))


__all__ = ["EVERY_S", "HEARTBEAT_S", "Progress", "make", "phase"]
