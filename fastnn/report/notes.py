"""A comparison in a table cell, and its flags as notes: a cell holds "R× [lo–hi]" and at most
one word per flag, each a link to a numbered note under the table's section that says what the
flag means for this comparison, with its numbers: in full (:func:`flag_text`, the report's
detailed tables) or in one short sentence (:func:`flag_brief`, the first screen).

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
                 f"{c.rounds} rounds ({who(k, 'baseline')} "
                 f"{fmt.seconds(k.t_baseline_s / max(k.steps, 1))}, {who(k, 'contender')} "
                 f"{fmt.seconds(k.t_contender_s / max(k.steps, 1))}"
                 f"{' per step' if k.steps > 1 else ''} in those rounds)" for k in cases]
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
                f"{fmt.percent(c.canary)} of the FMA peak the first line names (the canary).")
    if flag == Flag.SCALED.value:
        short = [f"{who(c, s)} at m = {getattr(c, s + '_m'):,}" for s in ("baseline", "contender")
                 if 0 < getattr(c, s + "_m") < c.m]
        return (f"{label(c)}: a per-example side ran at a shorter m ({fmt.listed(short)}), its "
                f"time scaled to m = {c.m:,}.")
    return f"{label(c)}: {flag}."


#: A side's extra time by its cause, in a few words (the first screen's notes).
CAUSE_BRIEF = {
    Cause.KERNEL.value: "the OS mapping fresh memory",
    Cause.OTHERS.value: "other processes taking the CPU",
    Cause.OUTSIDE.value: "time lost outside this machine",
    Cause.NOT_KERNEL.value: "not in the OS",
    Cause.UNKNOWN.value: "",
}


def flag_brief(c, flag, cases=()):
    """The first screen's note of one flag of comparison ``c``: one sentence, the flag word
    first, its numbers and nothing else (:func:`flag_text` words it in full)."""
    where = (f"**{flag}**{' interval' if flag == Flag.WIDE.value else ''} at "
             f"{fmt.shape(c.n_x, c.n_h, c.m)}"
             + ("" if c.op == "cost_and_grads" else ", training run"))
    if flag == Flag.WIDE.value and c.moved:
        mv = c.moved
        why = CAUSE_BRIEF.get(mv["cause"], "")
        return (f"{where}: {who(c, mv['side'])}'s rounds took {fmt.seconds(mv['lo_s'])} to "
                f"{fmt.seconds(mv['hi_s'])} per call" + (f" ({why})" if why else "") + ".")
    if flag == Flag.WIDE.value:
        return f"{where}: it reaches beyond ±10 % of the ratio."
    if flag == Flag.CASES.value and cases:
        side = REFERENCE if c.kind == "factor" else who(c, "baseline")
        parts = [f"{k.rounds} at {times(k.ratio)}" for k in cases]
        parts[0] = f"{cases[0].rounds} of {c.rounds} at {times(cases[0].ratio)}"
        return f"{where}: {side}'s rounds fell into {len(cases)} memory cases: {fmt.listed(parts)}."
    if flag == Flag.BUSY.value:
        return f"{where}: {busy(c) or 'other processes competed for the CPU'}."
    if flag == Flag.SLOW_HOST.value:
        return f"{where}: the host ran at {fmt.percent(c.canary)} of its FMA peak."
    if flag == Flag.SCALED.value:
        return f"{where}: a per-example side ran at a shorter m, its time scaled."
    return f"{where}."


def speed(c):
    """"R× [lo–hi]", or "R× slower [lo–hi]" below 1 (the contender the slower; not where R
    shows as 1×: :func:`fastnn.fmt.slower`)."""
    return fmt.speed(c.ratio, c.lo, c.hi)


def times(r):
    """"R×", or "R× slower" below 1: a ratio without its interval."""
    return f"{fmt.ratio(1 / r)} slower" if fmt.slower(r) else fmt.ratio(r)


#: The flag a cell shows when it has several (each note says them all).
PRIORITY = [Flag.BUSY.value, Flag.SLOW_HOST.value, Flag.CASES.value, Flag.WIDE.value,
            Flag.SCALED.value]


class Notes:
    """The numbered notes of one document; :meth:`cell` adds a comparison's and returns its
    cell. ``prefix`` makes the anchors unique in the document; ``words`` words a flag
    (:func:`flag_text`, in full, or :func:`flag_brief`)."""

    def __init__(self, prefix="n", quiet=(Flag.SCALED.value,), words=None):
        self.prefix, self.items, self.quiet = prefix, [], set(quiet)
        self.words = words or flag_text

    def add(self, text):
        """A note's anchor link text target: its number (1-based)."""
        for i, t in enumerate(self.items):
            if t == text:
                return i + 1
        self.items.append(text)
        return len(self.items)

    def flags(self, c, cases=()):
        """The flags the cell of ``c`` words, in :data:`PRIORITY` order (the first is its word)."""
        flags = sorted((f for f in c.flags if f in PRIORITY and f not in self.quiet),
                       key=PRIORITY.index)
        if not cases and Flag.CASES.value in flags:  # nothing to give per case: say it is wide
            flags = [f for f in flags if f != Flag.CASES.value]
            if Flag.WIDE.value not in flags:
                flags.append(Flag.WIDE.value)
        if Flag.CASES.value in flags and Flag.WIDE.value in flags:
            flags.remove(Flag.WIDE.value)  # the cases' own ratios are why it is wide
        return flags

    def shown(self, c, cases=()):
        """The comparisons whose numbers the cell of ``c`` prints: each memory case's where it
        is flagged ``cases``, else ``c`` alone."""
        return list(cases) if cases and Flag.CASES.value in self.flags(c, cases) else [c]

    def cell(self, c, cases=()):
        """"R× [lo–hi]" of comparison ``c`` (or "–") and, when it has flags, the first of
        :data:`PRIORITY` as one word linking to a note that says every flag's meaning."""
        if c is None:
            return "–"
        flags = self.flags(c, cases)
        number = " or ".join(speed(k) for k in self.shown(c, cases))
        if not flags:
            return number
        n = self.add(" ".join(self.words(c, f, cases) for f in flags))
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


__all__ = ["Notes", "cases_of", "find", "flag_brief", "flag_text", "label", "moved_words", "speed",
           "times", "who"]
