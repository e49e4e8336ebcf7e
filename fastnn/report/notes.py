"""A comparison in a table cell, and its flags as notes: a cell holds "R× [lo–hi]" and at most
one word per flag, each a link to a numbered note under the table's section that says what the
flag means for this comparison, with its numbers.

The flags are data (:class:`fastnn.bench.stats.Flag` in a :class:`~fastnn.bench.records.Comparison`);
this module is where they become words.
"""

from __future__ import annotations

from .. import fmt
from ..backends import REFERENCE
from ..bench.paired import cases_of
from ..bench.stats import Cause, Flag
from .reasons import busy

#: The words of a side's extra time, by its cause.
CAUSE = {
    Cause.KERNEL.value: "of which {kernel} was the kernel's CPU time, summed over its threads "
                        "(fresh memory for its arrays)",
    Cause.OTHERS.value: "while other processes took {others} more CPU time per call",
    Cause.OUTSIDE.value: "with neither its kernel time nor other processes' CPU time grown: "
                         "time lost outside this machine (the host's other guests)",
    Cause.NOT_KERNEL.value: "not in the kernel",
    Cause.UNKNOWN.value: "",
}


def who(c, side):
    """A side's name: its backend, with its dtype or thread count when both sides share it."""
    name = c.baseline if side == "baseline" else c.contender
    if c.baseline != c.contender:
        return name
    if c.baseline_dtype != c.dtype:
        return f"{name} ({c.baseline_dtype if side == 'baseline' else c.dtype})"
    n = c.baseline_threads if side == "baseline" else c.contender_threads
    return f"{name} ({fmt.threads(n)})"


def label(c):
    """"numba ÷ numpy at (2, 64, 1e6)" — which comparison a note speaks of."""
    op = "" if c.op == "cost_and_grads" else f" {c.op}"
    case = f", {c.case} case" if c.case else ""
    kind = "ladder: " if c.kind != "pair" else ""
    dtype = (f" in {c.dtype}" if c.dtype == c.baseline_dtype and c.dtype != "float64" else "")
    return (f"{kind}{who(c, 'contender')} vs {who(c, 'baseline')}{op}{dtype} at "
            f"{fmt.shape(c.n_x, c.n_h, c.m)}{case}")


def moved_words(c):
    """The side whose time moved across a comparison's rounds and why, or ""."""
    mv = c.moved
    if not mv:
        return ""
    grew = mv["hi_s"] - mv["lo_s"]
    why = CAUSE.get(mv["cause"], "").format(kernel=fmt.seconds(mv.get("kernel_s")),
                                            others=fmt.seconds(mv.get("others_s")))
    return (f"{who(c, mv['side'])}'s time per call moved from {fmt.seconds(mv['lo_s'])} to "
            f"{fmt.seconds(mv['hi_s'])} across rounds (+{fmt.seconds(grew)}"
            + (f", {why}" if why else "") + ")")


def flag_text(c, flag, cases=()):
    """The note of one flag of comparison ``c``; ``cases``: its per-case comparisons."""
    if flag == Flag.WIDE.value:
        moved = moved_words(c)
        return (f"{label(c)}: the interval of {speed(c)} reaches beyond "
                f"±10 % of the ratio" + (f"; {moved}" if moved else "") + ".")
    if flag == Flag.CASES.value:
        parts = [f"{k.case} case {speed(k)} in {k.rounds} of "
                 f"{c.rounds} rounds ({who(k, 'baseline')} {fmt.seconds(k.t_baseline_s)})"
                 for k in cases]
        side = REFERENCE if c.kind == "factor" else who(c, "baseline")  # a ladder factor:
        # the cases are the NumPy rung's (paired._ladder_cases), whichever side it is here
        return (f"{label(c)}: {side}'s rounds fell into {len(cases)} memory "
                f"cases (how fast the kernel maps its fresh temporaries; the report's Modes "
                f"section): " + "; ".join(parts) + ".")
    if flag == Flag.BUSY.value:
        return (f"The rounds at {fmt.shape(*c.shape)} were measured while other processes "
                f"competed for the CPU ({busy(c)}).")
    if flag == Flag.SLOW_HOST.value:
        return (f"During the rounds at {fmt.shape(*c.shape)} the host ran at "
                f"{fmt.percent(c.canary)} of this run's FMA peak (the canary).")
    if flag == Flag.SCALED.value:
        short = [f"{who(c, s)} at m = {getattr(c, s + '_m'):,}" for s in ("baseline", "contender")
                 if 0 < getattr(c, s + "_m") < c.m]
        return (f"{label(c)}: a per-example side ran at a shorter m ({fmt.listed(short)}), its "
                f"time scaled to m = {c.m:,}.")
    return f"{label(c)}: {flag}."


def speed(c):
    """"R× [lo–hi]", or "R× slower [lo–hi]" below 1 (the contender the slower)."""
    if c.ratio >= 1:
        return fmt.interval(c.ratio, c.lo, c.hi)
    return f"{fmt.ratio(1 / c.ratio)} slower [{fmt.factor(1 / c.hi)}–{fmt.factor(1 / c.lo)}]"


#: The flag a cell shows when it has several (each note says them all).
PRIORITY = [Flag.BUSY.value, Flag.SLOW_HOST.value, Flag.CASES.value, Flag.WIDE.value,
            Flag.SCALED.value]


class Notes:
    """The numbered notes of one document; :meth:`cell` adds a comparison's and returns its
    cell. ``prefix`` makes the anchors unique in the document."""

    def __init__(self, prefix="n", quiet=(Flag.SCALED.value,)):
        self.prefix, self.items, self.quiet = prefix, [], set(quiet)

    def add(self, text):
        """A note's anchor link text target: its number (1-based)."""
        for i, t in enumerate(self.items):
            if t == text:
                return i + 1
        self.items.append(text)
        return len(self.items)

    def cell(self, c, cases=()):
        """"R× [lo–hi]" of comparison ``c`` (or "–") and, when it has flags, the first of
        :data:`PRIORITY` as one word linking to a note that says every flag's meaning."""
        if c is None:
            return "–"
        flags = sorted((f for f in c.flags if f in PRIORITY and f not in self.quiet),
                       key=PRIORITY.index)
        if not cases and Flag.CASES.value in flags:  # nothing to give per case: say it is wide
            flags = [f for f in flags if f != Flag.CASES.value]
            if Flag.WIDE.value not in flags:
                flags.append(Flag.WIDE.value)
        if Flag.CASES.value in flags and Flag.WIDE.value in flags:
            flags.remove(Flag.WIDE.value)  # the cases' own ratios are why it is wide
        number = speed(c)
        if Flag.CASES.value in flags and cases:  # every case's number, not the flag alone
            number = " or ".join(speed(k) for k in cases)
        if not flags:
            return number
        n = self.add(" ".join(flag_text(c, f, cases) for f in flags))
        return f"{number} [{flags[0]}](#{self.prefix}{n})"

    def render(self):
        """The notes as a list with their anchors, or "" with none."""
        return "\n".join(f"{i}. <a id=\"{self.prefix}{i}\"></a>{t}"
                         for i, t in enumerate(self.items, 1))


def find(comps, n_x, n_h, m, baseline, *, op="cost_and_grads", dtype="float64",
         baseline_dtype=None, case="", threads=0, data=""):
    """The comparison of ``baseline`` against the headline backend (or the contender at
    ``threads``) at one shape (on the data set ``data``; "" synthetic), or None."""
    for c in comps or ():
        if ((c.op, c.n_x, c.n_h, c.m, c.baseline, c.dtype, c.baseline_dtype, c.case, c.data)
                == (op, n_x, n_h, m, baseline, dtype, baseline_dtype or dtype, case, data)
                and c.kind == "pair" and c.contender_threads == threads):
            return c
    return None


__all__ = ["Notes", "cases_of", "find", "flag_text", "label", "moved_words", "who"]
