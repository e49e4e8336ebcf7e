"""The words of what ``fastnn bench`` says while it runs.

The harness tells the console what happens as a :class:`fastnn.bench.progress.Event` and its
numbers (a phase begins, a pass of the rounds, the cell being measured, Ctrl-C); this module is
where they become lines, one template per event. The command line gives its
:class:`fastnn.bench.progress.Progress` these words (``Progress(words=console.words)``).
"""

from __future__ import annotations

from .. import fmt
from ..bench.progress import Event

#: One template per event; the fields are the event's numbers, worded by :func:`words`.
TEMPLATES = {
    Event.START: "{name} …",
    Event.RUNNING: "{name}: still running, {elapsed} so far",
    Event.DONE: "{name}: done in {elapsed_s:.1f} s",
    Event.BAR: "{name}: {done}/{total} ({percent:.0f} %), {elapsed} elapsed, ETA {eta}{now}",
    Event.MACHINE: "reading the machine facts (CPU, BLAS, Numba threading layer)",
    Event.PEAKS: "measuring machine peaks (FMA microkernel, GEMM, streaming copy)",
    Event.CEILING: "measuring the step's own ceiling (vectorised tanh, multiply-add)",
    Event.COMPILE: "timing the {backend} compile (fresh processes)",
    Event.PROBE: "timing the contention probe (quiet reference)",
    Event.ROUNDS: ("interleaved rounds: {shapes} shapes, every side in its own worker, "
                   "{passes} passes"),
    Event.PASS: "rounds, pass {k} of {passes}: {op} n_x={n_x} n_h={n_h} m={m:,}, {sides} sides",
    Event.SWEEP: "sweeping {cells} cells in shuffled order (seed {seed}){already}",
    Event.SWEEPING: "sweeping",
    Event.CELL: "{backend} {op}{run} m={m:,} n_h={n_h} n_x={n_x} {dtype} threads={all}",
    Event.DISTURBED: ("{cells} cells were measured while other processes competed for the CPU "
                      "(marked disturbed; see their contention field)"),
    Event.INTERRUPTED: ("\ninterrupted: {cells} finished cells are kept in {path}.\n"
                        "Resume with the same command plus --resume."),
}
#: The bar's current item, after the ETA.
NOW = ", now {current}"
#: A sweep that goes on from an earlier one.
ALREADY = " ({done} already done)"
#: A training run's steps, after its op.
STEPS = " ({steps:,} steps)"


def clock(s):
    """Seconds as a clock, "m:ss" or "h:mm:ss" ("?" when unknown)."""
    if s is None:
        return "?"
    s = int(round(s))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def words(event, **numbers):
    """The line of ``event`` with its numbers (:class:`fastnn.bench.progress.Event`); a text is
    returned as it is.

    Parameters
    ----------
    event : Event or str
        What happened, or a line already worded (the lecture page's phases, the command line's
        own lines).
    **numbers
        The event's numbers.

    Returns
    -------
    str
        One line (the ``interrupted`` message is three).
    """
    if isinstance(event, str):
        return event
    f = dict(numbers)
    if event in (Event.RUNNING, Event.BAR):
        f["elapsed"] = clock(f["elapsed_s"])
    if event is Event.BAR:
        f.update(percent=100 * f["done"] / f["total"] if f["total"] else 100.0,
                 eta=clock(f["eta_s"]),
                 now=NOW.format(current=f["current"]) if f.get("current") else "")
    elif event is Event.SWEEP:
        f["already"] = ALREADY.format(done=f["done"]) if f.get("done") else ""
    elif event is Event.CELL:
        f.update(run=STEPS.format(steps=f["steps"]) if f.get("steps") else "",
                 all=f["threads"] or "all")
    return TEMPLATES[event].format(**f)


__all__ = ["ALREADY", "NOW", "STEPS", "TEMPLATES", "clock", "words"]
