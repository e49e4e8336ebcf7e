"""The report's small shared formats: a ratio of two times, "faster or slower", a Markdown table
and a cell in words. Seconds, ratios and lists themselves are :mod:`fastnn.fmt`'s."""

from __future__ import annotations

import numpy as np

from .. import fmt


def fmt_ratio(r):
    """A ratio of two times as "12.3×" (:func:`fastnn.fmt.ratio`); "–" unless finite and
    positive (a zero, negative or infinite time is not a speed-up)."""
    return fmt.ratio(r)


def faster_or_slower(t_fast, t_slow):
    """"4.2× faster" / "1.5× slower" for time t_fast against t_slow; None unless both finite and
    positive."""
    if not (np.isfinite(t_fast) and np.isfinite(t_slow) and t_fast > 0 and t_slow > 0):
        return None
    return fmt.faster(t_slow / t_fast)


def md_table(df, empty):
    """A Markdown table, or the sentence ``empty`` (in italics) when there are no rows."""
    return df.to_markdown(index=False) if len(df) else f"_{empty}_"


def describe_cell(r):
    """A cell in words, with every axis that tells it apart."""
    th = "all threads" if int(r.threads) == 0 else f"{int(r.threads)} thread" + (
        "s" if int(r.threads) > 1 else "")
    return (f"{r.backend} {r.op} m={int(r.m):,} n_h={int(r.n_h)}"
            + (f" n_x={int(r.n_x)}" if int(r.n_x) != 2 else "") + f" {r.dtype} {th}")


__all__ = ["describe_cell", "faster_or_slower", "fmt_ratio", "md_table"]
