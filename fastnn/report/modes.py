"""Cells whose values fall into groups (modes): each group stated, with the cause its counters
show, and the comparison against the headline backend: the paired one the tables quote where
one was measured at the cell's shape (per memory case, as the tables give it), else the ratio
of cell medians per group, marked unpaired.

A cell's modes are :func:`fastnn.bench.worker.modes`: its values split where sorted neighbours
are more than 25 % apart, each group with its median, share, and (recorded since the counters
were added) its median minor page faults and kernel CPU seconds per call.
"""

from __future__ import annotations

from ..backends import HEADLINE
from .notes import cases_of, find, speed
from .select import STEP, reliable
from .text import describe_cell, fmt_s

#: The section's intro, under its heading.
INTRO = ("A cell's values split where sorted neighbours are more than 25 % apart; each group "
         "with its share of the values and, where recorded, the kernel's CPU time and the page "
         "faults per call, which show the cause. Against {headline}: where rounds were paired "
         "at the cell's shape, the comparison the tables quote (the ratio of the two sides' "
         "{estimator} times over the same interleaved rounds, per memory case where its "
         "rounds fell into cases); elsewhere the ratio of cell medians per group, marked "
         "unpaired:\n")

#: A slower group's extra time is the kernel's when its extra system time is at least this share
#: of the gap between the groups.
KERNEL_SHARE = 0.5


def cause(ms, working_set=None):
    """The cause the counters show for a cell's groups ``ms`` (fastest first), as a clause, or
    "" when they show none: the kernel's time (mapping and zeroing fresh memory) or page
    faults; None when the groups carry no counters (a run before they were recorded)."""
    if len(ms) < 2 or "system_s" not in ms[0] or "system_s" not in ms[-1]:
        return None
    fast, slow = ms[0], ms[-1]
    gap = slow["value"] - fast["value"]
    extra_sys = slow["system_s"] - fast["system_s"]
    size = f" (~{working_set / 2**30:.1f} GiB of working set per call)" if working_set else ""
    if extra_sys >= KERNEL_SHARE * gap:
        return (f"the slower group's extra {fmt_s(gap)} per call is the kernel's "
                f"({fmt_s(extra_sys)} more system time; page faults per call "
                f"{fast['faults']:,.0f} and {slow['faults']:,.0f}): it is preparing fresh "
                f"memory for the call's arrays{size} — compacting it into huge pages, or "
                "mapping and zeroing small ones — which takes long when free huge pages are "
                "scarce")
    if slow["faults"] > 2 * max(fast["faults"], 1):
        return (f"the slower group takes {slow['faults']:,.0f} page faults per call against "
                f"{fast['faults']:,.0f}: its arrays were mapped in small pages")
    return ""


def _groups(ms):
    return ", ".join(f"{fmt_s(g['value'])} in {100 * g['share']:.0f} % of values"
                     + (f" ({fmt_s(g['system_s'])} of CPU time in the kernel, all threads, "
                        f"{g['faults']:,.0f} faults per call)" if "system_s" in g else "")
                     for g in ms)


def _paired(pairs, r):
    """The words of the paired comparison of cell ``r``'s backend against the headline one at
    its op, shape and dtype (both on all cores), as the tables' cell gives it, or None."""
    if r.backend == HEADLINE or r.threads != 0 or getattr(r, "hidden", "tanh") != "tanh":
        return None
    c = find(pairs, r.n_x, r.n_h, r.m, r.backend, op=r.op, dtype=r.dtype)
    if c is None:
        return None
    cases = cases_of(pairs, c)
    number = (" or ".join(f"{k.case} case {speed(k)} ({k.rounds} of {c.rounds} rounds)"
                          for k in cases) if cases else speed(c))
    return (f". Against {HEADLINE} over the same interleaved rounds (paired {c.estimator} "
            f"times, as the tables quote): {number}")


def statements(df, pairs=None):
    """One bullet per multimodal measured cell: its groups, their cause, and at a shape where the
    headline backend ran, its comparison against it: the paired one of ``pairs`` (the run's
    :class:`~fastnn.bench.records.Comparison` list) where there is one, else (a training step)
    the ratio to the headline backend's cell median per group, marked unpaired."""
    ok = reliable(df)
    if "modes" not in ok:
        return []
    out = []
    for r in ok.itertuples():
        ms = r.modes if isinstance(r.modes, list) else []
        if len(ms) < 2:
            continue
        why = cause(ms, getattr(r, "working_set_bytes", None))
        line = f"- {describe_cell(r)}: {_groups(ms)}" + (
            f"; {why}" if why else "; the counters show no cause" if why == "" else
            "; this run did not record the counters per value")
        head = ok[(ok.backend == HEADLINE) & (ok.op == r.op) & (ok.m == r.m) & (ok.n_h == r.n_h)
                  & (ok.n_x == r.n_x) & (ok.dtype == r.dtype) & (ok.threads == r.threads)
                  & (ok.hidden == r.hidden)]
        quoted = _paired(pairs, r)
        if quoted:
            line += quoted
        elif r.backend != HEADLINE and r.op == STEP and len(head):
            t = head.median_s.iloc[0]
            line += (f". Against {HEADLINE}'s cell median {fmt_s(t)} (unpaired): " +
                     ", ".join(f"{g['value'] / t:.3g}×" for g in ms) + " by group")
        out.append(line + ".")
    return out
