"""Progress a reader can see in a terminal and in a log: named phases and a bar (or lines).

In a terminal a live ``rich`` bar; anywhere else (piped through ``tee``, a CI log) one plain line
every :data:`EVERY_S` seconds with done/total, elapsed time, ETA and the current cell. Each phase
is named before it starts and timed when it ends.

The harness says what happens as an :class:`Event` and its numbers, never in words: a
:class:`Progress` turns each into a line with its ``words`` (``fastnn bench`` gives it
:func:`fastnn.report.console.words`; without them a line is the event's code and numbers,
:func:`plain`). A text (the lecture page's phases, the command line's own lines) is printed as
it is::

    from fastnn.bench import progress
    from fastnn.report import console
    prog = progress.Progress(words=console.words)
    with prog.phase(progress.Event.PEAKS):
        ...
"""

from __future__ import annotations

import enum
import sys
import threading
import time
from contextlib import contextmanager

#: Seconds between plain progress lines.
EVERY_S = 5.0
#: Seconds between "still running" lines of a long phase.
HEARTBEAT_S = 10.0


class Event(enum.Enum):
    """What the harness tells the console, each with its numbers (keywords):

    ===========  =================================================================================
    event        numbers
    ===========  =================================================================================
    start        ``name`` (a phase's worded name): the phase begins
    running      ``name``, ``elapsed_s``: the phase is still running (every HEARTBEAT_S)
    done         ``name``, ``elapsed_s``: the phase ended
    bar          ``name``, ``done``, ``total``, ``elapsed_s``, ``eta_s`` (None before the first
                 item is done), ``current`` (the current item, worded; "" for none)
    machine      (a phase: reading the machine facts)
    peaks        (a phase: measuring the machine's peaks)
    ceiling      (a phase: measuring the step's own ceiling)
    compile      ``backend`` (a phase: timing its compile in fresh processes)
    probe        (a phase: timing the contention probe's quiet reference)
    rounds       ``shapes``, ``passes`` (a phase: the interleaved rounds)
    pass         ``k`` (1-based), ``passes``, ``op``, ``n_x``, ``n_h``, ``m``, ``sides``: one
                 pass of the rounds begins at a shape
    sweep        ``cells`` (to measure), ``seed`` (of their order), ``done`` (kept from before)
    sweeping     (the bar's name)
    cell         ``backend``, ``op``, ``steps`` (a training run's, else None), ``m``, ``n_h``,
                 ``n_x``, ``dtype``, ``threads``: the cell being measured
    disturbed    ``cells``: measured while other processes competed for the CPU
    interrupted  ``cells`` (finished, kept), ``path`` (the results file): Ctrl-C
    ===========  =================================================================================
    """
    START = "start"
    RUNNING = "running"
    DONE = "done"
    BAR = "bar"
    MACHINE = "machine"
    PEAKS = "peaks"
    CEILING = "ceiling"
    COMPILE = "compile"
    PROBE = "probe"
    ROUNDS = "rounds"
    PASS = "pass"
    SWEEP = "sweep"
    SWEEPING = "sweeping"
    CELL = "cell"
    DISTURBED = "disturbed"
    INTERRUPTED = "interrupted"


def plain(event, **numbers):
    """The line of a :class:`Progress` given no words: a text as it is, an event as its code
    and its numbers (``done name=peaks elapsed_s=0.412``).

    Parameters
    ----------
    event : Event or str
        What happened, or a text already worded.
    **numbers
        The event's numbers (:class:`Event`).
    """
    if isinstance(event, str):
        return event
    return " ".join([event.value] + [f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                                     for k, v in numbers.items()])


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
    words : callable, optional
        ``words(event, **numbers) -> str``: the line of an :class:`Event` (or a text, returned
        as it is); default :func:`plain`. ``fastnn bench`` passes
        :func:`fastnn.report.console.words`.
    """

    def __init__(self, stream=None, live=None, enabled=True, every_s=EVERY_S, words=None):
        self.stream = stream or sys.stdout
        isatty = getattr(self.stream, "isatty", lambda: False)
        self.live = isatty() if live is None else live
        self.enabled = enabled
        self.every_s = every_s
        self.words = words or plain

    def say(self, event, **numbers):
        """Print one line: ``event`` (an :class:`Event` or a text) in :attr:`words`."""
        if self.enabled:
            print(self.words(event, **numbers), file=self.stream, flush=True)

    @contextmanager
    def phase(self, event, **numbers):
        """Name a phase (``event`` and its numbers, or a text) before it starts (``start``),
        say every HEARTBEAT_S seconds that it is still running (``running``), and say how long
        it took when it ends (``done``)."""
        name = self.words(event, **numbers)
        self.say(Event.START, name=name)
        t0 = time.perf_counter()
        stop = threading.Event()

        def beat():
            while not stop.wait(max(self.every_s, HEARTBEAT_S)):
                self.say(Event.RUNNING, name=name, elapsed_s=time.perf_counter() - t0)

        ticker = threading.Thread(target=beat, daemon=True)
        if self.enabled:
            ticker.start()
        try:
            yield
        finally:
            stop.set()
            if ticker.is_alive():
                ticker.join()
        self.say(Event.DONE, name=name, elapsed_s=time.perf_counter() - t0)

    def bar(self, total, event=Event.SWEEPING, **numbers):
        """A context manager with ``update(event, **numbers)`` (the current item: an event and
        its numbers, or a text) and ``advance()``; ``event`` names the bar."""
        name = self.words(event, **numbers)
        if not self.enabled:
            return _Lines(total, name, None, self.every_s, self.words)
        if self.live:
            return _Live(total, name, self.stream, self.words)
        return _Lines(total, name, self.stream, self.every_s, self.words)


class _Lines:
    """Plain lines: the first item, then one line every ``every_s`` seconds, then the end."""

    def __init__(self, total, name, stream, every_s, words):
        self.total, self.name, self.stream, self.every_s = total, name, stream, every_s
        self.words = words
        self.done, self.current, self.t0, self.last = 0, "", time.perf_counter(), None

    def __enter__(self):
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        if exc[0] is None and self.total:
            self._line()
        return False

    def update(self, event, **numbers):
        self.current = self.words(event, **numbers)
        if self.last is None or time.perf_counter() - self.last >= self.every_s:
            self._line()

    def advance(self):
        self.done += 1

    def line(self):
        """The progress line as it would be printed now (a ``bar`` event)."""
        el = time.perf_counter() - self.t0
        eta = el / self.done * (self.total - self.done) if self.done else None
        return self.words(Event.BAR, name=self.name, done=self.done, total=self.total,
                          elapsed_s=el, eta_s=eta,
                          current=self.current if self.done < self.total else "")

    def _line(self):
        self.last = time.perf_counter()
        if self.stream is not None:
            print(self.line(), file=self.stream, flush=True)


class _Live:
    def __init__(self, total, name, stream, words):
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                   TimeElapsedColumn, TimeRemainingColumn)
        self._p = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                           TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                           console=Console(file=stream))
        self._task = self._p.add_task(name, total=total)
        self.words = words

    def __enter__(self):
        self._p.__enter__()
        return self

    def __exit__(self, *exc):
        return self._p.__exit__(*exc)

    def update(self, event, **numbers):
        self._p.update(self._task, description=self.words(event, **numbers))

    def advance(self):
        self._p.advance(self._task)


def phase(event, stream=None, enabled=True, words=None, **numbers):
    """Name a phase on stdout (or ``stream``) and time it: ``with phase("building the
    report", words=console.words):`` (:meth:`Progress.phase`)."""
    return Progress(stream, enabled=enabled, words=words).phase(event, **numbers)


def make(progress):
    """A :class:`Progress` from what callers pass: one already, or a bool (enabled or not, with
    :func:`plain` lines)."""
    return progress if isinstance(progress, Progress) else Progress(enabled=bool(progress))


__all__ = ["EVERY_S", "Event", "HEARTBEAT_S", "Progress", "make", "phase", "plain"]
