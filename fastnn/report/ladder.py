"""The report's ladder: the training step's speed-up rung by rung, from the run's paired rounds.

Numbers come from :func:`fastnn.bench.ladder.summary` (one dict per headline shape); this module
renders them as a table, one sentence per factor and a figure (:func:`fastnn.plotting.ladder_figure`,
the same figure the lecture page shows).
"""

from __future__ import annotations

import pandas as pd

from ..bench import ladder as L
from ..bench.ladder import factor_sentence, times
from ..plotting import ladder_figure, save
from .text import fmt_s, md_table

#: The figure's file name.
FIGURE = "fig0_ladder.png"


def _rung_time(r, m):
    t = fmt_s(r["t_s"])
    return t if r["m_run"] >= m else f"{t} (extrapolated from m = {r['m_run']:,})"


def numbers(entries):
    """{shape: :func:`fastnn.bench.ladder.summary`} for every shape the entries cover."""
    return {s: L.summary(entries, s) for s in L.shapes(entries)}


def section(entries, out, cols, figures):
    """The ladder section's Markdown (a figure, then per shape a table and one sentence per
    factor, the product against the direct ratio), or a line saying the run measured none."""
    nums = numbers(entries)
    if not nums:
        return ("_This run measured no ladder (the `targets` and `quick` grids do, at the "
                "headline shapes they cover)._")
    name = save(ladder_figure(list(nums.values()), cols), out, FIGURE, figures)
    text = [f"![the ladder]({name})\n",
            "Each bar is one rung's time per training step (log scale); under each bar, its "
            "factor over the bar to its left (*: its rounds fell into groups, which the "
            "table below gives): a paired ratio (the two rungs timed in alternating "
            "rounds, each in its own worker process; median with a 95 % bootstrap interval). "
            "Every rung runs on one thread except the last, so the threads are one factor of "
            "their own (NumPy's BLAS on all cores is in the headline table). Hatched bars: a "
            "per-example loop timed at a smaller m and scaled linearly to m (its work is one "
            "pass of the same code per example).\n"]
    for (nx, nh, m), s in nums.items():
        rows = [{"rung": r["label"], "time per step": _rung_time(r, m),
                 "factor over the rung before": times(f) if f else "–",
                 "what it adds": f["adds"] if f else L.adds(r["backend"], r["threads"])}
                for r, f in zip(s["rungs"], [None] + s["factors"])]
        d = s["direct"]
        direct = (f"the direct paired ratio `{s['rungs'][0]['label']}` ÷ "
                  f"`{s['rungs'][-1]['label']}` is {times(d)}" if d else
                  "the direct ratio was not measured")
        text += [f"\n### n_x={nx}, n_h={nh}, m={m:,}\n", md_table(pd.DataFrame(rows), ""), "",
                 *(factor_sentence(f) for f in s["factors"]),
                 f"\nThe product of the factors is {L.factor_text(s['product'])}×; {direct}. The biggest "
                 f"factor is {s['biggest']['adds'].split(':')[0]} "
                 f"({L.factor_text(s['biggest']['ratio'])}×).\n"]
    return "\n".join(text)
