"""Report sections as numbers, then words: each ``*_numbers`` function computes a section's
numbers into a dict from the records, and a short template renders them, so what a sentence
says and what it computed can be read (and tested) apart.
"""

from __future__ import annotations

from ..backends import HEADLINE, REFERENCE
from ..bench.grid import TARGETS
from ..bench.ladder import summary, times
from . import select as S
from .text import fmt_ratio, fmt_s, paired_text

# --- the first screen: the result -------------------------------------------------------------

RESULT_HEAD = ("**The result.** Paired rounds on this machine, all cores, with a 95 % interval "
               "(the headline table and the ladder below say more):\n")
RESULT_ROW = ("- n_x={n_x}, n_h={n_h}, m={m:,}: {headline}'s training step is {speedup} [{lo:.3g}–"
              "{hi:.3g}] faster than {reference}'s{flag}{ladder}.")
RESULT_LADDER = ("; the ladder's biggest factor there is {what} (`{base}` → `{top}`, {times})")


def result_numbers(pairs, steps):
    """[{n_x, n_h, m, ratio, lo, hi, flag, biggest}] at each headline step shape with a paired
    headline-vs-reference ratio (the headline table's number, :func:`.text.paired_text`), with
    the ladder's biggest factor there (a :func:`fastnn.bench.ladder.summary` factor) or None."""
    out = []
    for nx, nh, m in TARGETS:
        p = [q for q in pairs or () if (q.get("op", S.STEP), q["n_x"], q["n_h"], q["m"],
                                         q["baseline"], q["threads"], q.get("dtype", "float64"))
             == (S.STEP, nx, nh, m, REFERENCE, 0, "float64")]
        if p:
            s = summary(steps, (nx, nh, m))
            out.append(dict(n_x=nx, n_h=nh, m=m, ratio=p[0]["ratio"], lo=p[0]["lo"],
                            hi=p[0]["hi"], biggest=s["biggest"] if s else None,
                            flag=paired_text(pairs, nx, nh, m, REFERENCE, 0).partition("⚠")[2]
                            .strip()))
    return out


def result(pairs, steps):
    """The first screen's lines (none without a paired headline ratio)."""
    rows = result_numbers(pairs, steps)
    if not rows:
        return []
    rows = [dict(r, flag=f" (⚠ {r['flag']})" if r["flag"] else "") for r in rows]
    lines = [RESULT_ROW.format(
        **r, headline=HEADLINE, reference=REFERENCE, speedup=fmt_ratio(r["ratio"]),
        
        ladder=RESULT_LADDER.format(
            what=r["biggest"]["adds"].split(":")[0], base=r["biggest"]["label_of"],
            top=r["biggest"]["label"], times=times(r["biggest"])) if r["biggest"] else "")
        for r in rows]
    return [RESULT_HEAD, *lines, ""]


# --- the JIT compile's break-even -------------------------------------------------------------

BREAKEVEN_ROW = ("- n_h = {n_h}: at m = {m:,} {headline} saves {saved} per step, so a cold compile "
                 "({cold}) pays off after {steps:,.0f} steps.")
BREAKEVEN_CACHED = "\nWith the on-disk cache, the first call of a later process costs {cached} instead."


def breakeven_numbers(df, header):
    """{cold_s, cached_s, rows: [{n_h, m, saved_s, steps}]}: per n_h, at the largest m where the
    headline backend saves time over the reference, the steps a cold compile needs to pay off."""
    comp = (header or {}).get("compile", {})
    cold = comp.get("compile_cold_s")
    saved = S.time_saved(S.step_view(df))
    saved = saved[saved > 0].reset_index()
    rows = []
    for nh, g in saved.groupby("n_h") if cold else ():
        row = g.loc[g.m.idxmax()]
        rows.append(dict(n_h=nh, m=int(row.m), saved_s=row.median_s, steps=cold / row.median_s))
    return dict(cold_s=cold, cached_s=comp.get("compile_cached_s"), rows=rows)


def breakeven(df, header):
    """The break-even section's text."""
    n = breakeven_numbers(df, header)
    if not n["cold_s"]:
        return "_The run recorded no compile time._"
    if not n["rows"]:
        return f"_{HEADLINE} saves no time over {REFERENCE} in any cell measured by both._"
    out = [BREAKEVEN_ROW.format(**r, headline=HEADLINE, saved=fmt_s(r["saved_s"]),
                                cold=fmt_s(n["cold_s"])) for r in n["rows"]]
    if n["cached_s"] is not None:
        out.append(BREAKEVEN_CACHED.format(cached=fmt_s(n["cached_s"])))
    return "\n".join(out)
