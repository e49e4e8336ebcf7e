"""One formatter for the numbers the report and the lecture page print: seconds, ratios,
intervals, thread counts and lists. A missing or non-finite number prints as "–"."""

from __future__ import annotations

import math


def _num(x):
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def seconds(x):
    """A duration with a unit, 3 significant digits ("119 ms", "6.1 s"); "0 s" for a measured
    zero; "–" when missing, negative or not finite."""
    x = _num(x)
    if x is None or x < 0:
        return "–"
    if x == 0:
        return "0 s"
    for unit, f in (("s", 1), ("ms", 1e3), ("µs", 1e6)):
        if x * f >= 1:
            return f"{x * f:.3g} {unit}"
    return f"{x * 1e9:.3g} ns"


def factor(v):
    """A ratio's digits: 3 significant digits, whole numbers with thousands separators from
    100 ("7.66", "412", "1,348"); "–" unless finite and positive."""
    v = _num(v)
    if v is None or v <= 0:
        return "–"
    return f"{v:,.0f}" if v >= 100 else f"{v:.3g}"


def ratio(v):
    """"7.66×"."""
    f = factor(v)
    return f if f == "–" else f + "×"


def interval(r, lo, hi):
    """"7.66× [6.64–9.6]": a ratio with its interval."""
    return f"{ratio(r)} [{factor(lo)}–{factor(hi)}]"


def slower(r):
    """Whether ratio ``r`` (the other side's time over this side's) is worded "slower": below 1
    by enough that its inverse shows above 1×, so 0.999 is never "1× slower"."""
    return r < 1 and ratio(1 / r) != ratio(1)


def speed(r, lo, hi):
    """"7.66× [6.64–9.6]", or "3.67× slower [2.59–3.67]" for a ratio worded slower
    (:func:`slower`): a table cell's ratio with its interval, turned as its words are."""
    if not slower(r):
        return interval(r, lo, hi)
    return f"{ratio(1 / r)} slower [{factor(1 / hi)}–{factor(1 / lo)}]"


def faster(r, lo=None, hi=None):
    """"7.66× faster" or "1.2× slower" (with the interval, turned the same way, when given);
    "0.998× (as fast)" for a ratio below 1 whose inverse shows as 1× (:func:`slower`)."""
    r = _num(r)
    if r is None or r <= 0:
        return "–"
    if not slower(r):
        word = " faster" if r >= 1 else " (as fast)"
        return (interval(r, lo, hi) if lo is not None else ratio(r)) + word
    return (interval(1 / r, 1 / hi, 1 / lo) if lo is not None else ratio(1 / r)) + " slower"


def threads(n):
    """A thread count: "all cores" for 0 (or None), "1 thread", "2 threads"."""
    return "all cores" if not n else f"{n} thread{'s' if n > 1 else ''}"


def percent(x, digits=0):
    """A share as a percentage ("83 %"); "–" when missing."""
    x = _num(x)
    return "–" if x is None else f"{100 * x:.{digits}f} %"


def listed(words):
    """"a, b and c"."""
    words = [str(w) for w in words]
    if not words:
        return ""
    return ", ".join(words[:-1]) + (" and " if len(words) > 1 else "") + words[-1]


def shape(n_x, n_h, m):
    """"(2, 64, 1e6)": a shape with m as a power of ten where it is one."""
    return f"({n_x}, {n_h}, {count(m)})"


def count(m):
    """1000000 → "1e6", 400 → "400", 3000000 → "3e6"."""
    m = int(m)
    if m >= 10_000:
        e = len(str(m)) - 1
        lead = m / 10**e
        if lead == int(lead):
            return f"{int(lead)}e{e}" if lead != 1 else f"1e{e}"
    return f"{m:,}"


__all__ = ["count", "factor", "faster", "interval", "listed", "percent", "ratio", "seconds",
           "shape", "slower", "speed", "threads"]
