"""The report's ladder: the training step's speed-up rung by rung, from the run's series.

Numbers come from :func:`fastnn.bench.ladder.summary` (one dict per shape); this module renders
them as the figure (:func:`fastnn.plotting.ladder_figure`, the one the first screen and the
lecture page show) and a table per shape whose cells are numbers with flag words (:mod:`.notes`).
"""

from __future__ import annotations

from .. import fmt
from ..bench import ladder as L
from ..plotting import factor_adds, ladder_figure, rung_adds, rung_label, save
from .notes import Notes, cases_of

#: The figure's file name.
FIGURE = "fig0_ladder.png"

INTRO = ("Each bar is one rung's time per training step (log scale), every rung timed in the "
         "same interleaved rounds (each in its own worker process, in a random order each "
         "round), so each factor under a bar is the ratio of two {estimator}s over the same "
         "rounds and the factors multiply to the direct ratio exactly. Every rung runs on one "
         "thread except the last. Hatched: a per-example loop timed at a smaller m, its time "
         "scaled to m (one pass of the same code per example).")
SHAPE = ("{first} ÷ {last}: {direct}; the factors multiply to {product}. The biggest factor "
         "is {biggest} ({what}).")


def numbers(entries):
    """{shape: :func:`fastnn.bench.ladder.summary`} for every shape the entries cover."""
    return {s: L.summary(entries, s) for s in L.shapes(entries)}


def figure(entries, out, cols, figures):
    """The ladder figure's file name in ``out``, or None without a ladder."""
    nums = [s for s in numbers(entries).values() if s]
    return save(ladder_figure(nums, cols), out, FIGURE, figures) if nums else None


def table(s, notes, entries=()):
    """One shape's ladder as a Markdown table of short cells (a factor whose NumPy rung fell
    into memory cases: each case's factor, from ``entries``)."""
    m = s["shape"][2]
    lines = ["| rung | time per step | factor over the rung before | what it adds |",
             "|---|---|---|---|"]
    for r, f in zip(s["rungs"], [None] + s["factors"]):
        t = fmt.seconds(r["t_s"]) + (f" (scaled from m = {fmt.count(r['m_run'])})"
                                     if r["m_run"] < m else "")
        what = (factor_adds(f) if f else rung_adds(r["backend"], r["threads"])).split(":")[0]
        lines.append(f"| {rung_label(r['backend'], r['threads'])} | {t} | "
                     f"{notes.cell(f, cases_of(entries, f)) if f else '–'} | {what} |")
    return "\n".join(lines)


def section(entries, notes=None):
    """The ladder section's Markdown below the figure: per shape a table and one line, or a
    line saying the run measured none."""
    nums = {k: v for k, v in numbers(entries).items() if v}
    if not nums:
        return ("_This run measured no ladder (the `targets` grid does, at the headline "
                "shapes)._")
    notes = notes or Notes("l")
    est = next(iter(nums.values()))["estimator"]
    text = [INTRO.format(estimator=est)]
    for (nx, nh, m), s in nums.items():
        d, b = s["direct"], s["biggest"]
        text += [f"\n### n_x={nx}, n_h={nh}, m={m:,}\n", table(s, notes, entries), "",
                 SHAPE.format(first=rung_label(s["rungs"][0]["backend"], s["rungs"][0]["threads"]),
                              last=rung_label(s["rungs"][-1]["backend"], s["rungs"][-1]["threads"]),
                              direct=notes.cell(d) if d else "–", product=fmt.ratio(s["product"]),
                              biggest=fmt.ratio(b.ratio), what=factor_adds(b).split(":")[0])]
    if notes.items:
        text += ["", notes.render()]
    return "\n".join(text)
