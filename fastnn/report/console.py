"""The words of what ``fastnn bench`` says: while it runs, and of its grids in ``--help``.

The harness tells the console what happens as a :class:`fastnn.bench.progress.Event` and its
numbers (a phase begins, a pass of the rounds, the cell being measured, Ctrl-C); this module is
where they become lines, one template per event. The command line gives its
:class:`fastnn.bench.progress.Progress` these words (``Progress(words=console.words)``). The
grids (:data:`fastnn.bench.grid.GRIDS`) are declared as axes and budgets; what each is for and
how long it took is :data:`GRIDS` here (:func:`grids`).
"""

from __future__ import annotations

from ..backends import HEADLINE, REFERENCE
from ..bench.grid import FIT_OP, HEADLINE_BUDGET_S, HEADLINE_OP
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


#: What each grid of :data:`fastnn.bench.grid.GRIDS` is for, and how long it took (measured).
GRIDS = {
    "first": ("the README's first run: the training step at m = 1 … 1e6 (n_h = 4) on every "
              "backend, numba against numpy, numpy-inplace and the peers at the headline shapes "
              "and in the lecture's flower training run, in 6 interleaved rounds a shape "
              "(3 min 24 s - 3 min 35 s on a 2-core Intel Xeon VM with AVX-512 and the "
              "peers, warm Numba cache, measured)"),
    "quick": ("every backend and op, m = 1 … 1e6, n_h = 4 and 64, and the ladder at the "
              "headline shapes it covers (18 min with the peers on a 2-core Intel Xeon "
              "machine, 22 min on a 2-core AMD EPYC one, measured)"),
    "full": ("m = 1 … 1e7, n_h = 1 … 1024, both dtypes, 1 and all threads (35 min to over an "
             "hour on a 2-core machine without fit, measured; fit adds a fourth op, estimated "
             "a third more)"),
    "real": ("whole training runs on the real data sets (fastnn.datasets: digits 8 vs rest, "
             "breast cancer) on every backend and peer, numba against the vectorised backends "
             "and the peers in interleaved rounds (4 min 20 s on a quiet 2-core Intel Xeon VM "
             "with AVX-512, measured once)"),
    "targets": ("the training step and the training runs at the headline shapes, with the "
                "peers, the float32 step at its headline shape, the step at m up to 5e7 "
                "(LARGE_M) and the ladder at the three headline shapes and the real data sets "
                "(24 min on a quiet 2-core Intel Xeon VM with AVX-512, 2 runs, measured)"),
}
#: One grid in ``--grid``'s help: its name, :data:`GRIDS` and its budgets.
GRID = "{name}: {about}, budget {budget_s:g} s per cell, {headline_s:g} s per headline cell"
HEADLINE_CELLS = ("headline cells: {op} and {fit} at the target shapes on {headline}, "
                  "{reference} and the peers")


def grids(declared):
    """``--grid``'s help: one clause per grid of ``declared`` (:data:`fastnn.bench.grid.GRIDS`)
    with what it is for (:data:`GRIDS`) and its budgets (a headline cell's: the grid's
    ``headline_budget_s``, default :data:`fastnn.bench.grid.HEADLINE_BUDGET_S`, at least the
    per-cell one), then which cells are headline cells."""
    def clause(name, g):
        top = (g.get("run") or {}).get("headline_budget_s", HEADLINE_BUDGET_S)
        return GRID.format(name=name, about=GRIDS[name], budget_s=g["budget_s"],
                           headline_s=max(top, g["budget_s"]))
    return "; ".join([clause(n, g) for n, g in declared.items()] + [HEADLINE_CELLS.format(
        op=HEADLINE_OP, fit=FIT_OP, headline=HEADLINE, reference=REFERENCE)])


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


__all__ = ["ALREADY", "GRID", "GRIDS", "HEADLINE_CELLS", "NOW", "STEPS", "TEMPLATES", "clock",
           "grids", "words"]
