"""Report sections as numbers, then words: each ``*_numbers`` function computes a section's
numbers into a dict from the records, and a short template (the upper-case strings) renders
them, so what a sentence says and what it computed can be read (and tested) apart. The
headline tables' rows are :mod:`.text`'s (one row builder), the ladder's :mod:`.ladder`'s and
the modes' :mod:`.modes`'s.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..backends import FIT_LR, HEADLINE, REFERENCE, REGISTRY, comparisons
from ..bench.ceiling import ceiling_s
from ..bench.grid import FLOAT32_TARGETS, TARGETS, Cell, working_set_bytes
from ..bench.stats import ESTIMATOR, WIDE
from . import select as S
from .reasons import OLD_PARTIAL_CHECK
from .text import fmt_ratio, fmt_s, md_table, paired_text

# --- the JIT compile's break-even -------------------------------------------------------------

BREAKEVEN_ROW = ("- n_h = {n_h}: at m = {m:,} {headline} saves {saved} per step, so a cold compile "
                 "({cold}) pays off after {steps:,} step{plural}.")
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
        # whole steps: after int(x) steps the compile is not yet paid for
        rows.append(dict(n_h=nh, m=int(row.m), saved_s=row.median_s,
                         steps=int(np.ceil(cold / row.median_s))))
    return dict(cold_s=cold, cached_s=comp.get("compile_cached_s"), rows=rows)


def breakeven(df, header):
    """The break-even section's text."""
    n = breakeven_numbers(df, header)
    if not n["cold_s"]:
        return "_The run recorded no compile time._"
    if not n["rows"]:
        return f"_{HEADLINE} saves no time over {REFERENCE} in any cell measured by both._"
    out = [BREAKEVEN_ROW.format(**r, headline=HEADLINE, saved=fmt_s(r["saved_s"]),
                                plural="" if r["steps"] == 1 else "s",
                                cold=fmt_s(n["cold_s"])) for r in n["rows"]]
    if n["cached_s"] is not None:
        out.append(BREAKEVEN_CACHED.format(cached=fmt_s(n["cached_s"])))
    return "\n".join(out)


# --- the run: where the numbers come from -----------------------------------------------------

INTRO = ("This report was built from {source} ({file_list}): {cells} cells, {ok} measured."
         "{several} Every number below is computed from those records. A time is the median of one "
         "cell's repeated measurements; a band is their interquartile range.")
INTRO_SEVERAL = (" Figures and tables show the first run; the others are compared with it at the "
                 "end.")
INTRO_BUSY = ("\n**This run was disturbed.** {busy} of {ok} measured cells were measured while "
              "another process competed for the CPU. They are drawn hollow in the figures and "
              "listed under Caveats; no ratio, fit, crossover or headline number uses them.")


def intro_numbers(df, paths, headers):
    """{command, datetime, files, cells, ok, runs, busy}: the run the report was built from."""
    h = headers[0][1]
    m = S.measured(df)
    return dict(command=h.get("command"), datetime=h.get("datetime"), files=list(paths),
                cells=len(df), ok=int((df.status == "ok").sum()), runs=len(headers),
                busy=int(S.disturbed(m).sum()))


def intro(df, paths, headers):
    """The lines under the first screen: which run, how many cells, and whether it was busy."""
    n = intro_numbers(df, paths, headers)
    source = ((f"the results of `{n['command']}`" if n["command"] else "the results")
              + (f", run on {n['datetime']}" if n["datetime"] else ""))
    text = [INTRO.format(**n, source=source, file_list=", ".join(f"`{p}`" for p in n["files"]),
                         several=INTRO_SEVERAL if n["runs"] > 1 else "")]
    if n["busy"]:
        text.append(INTRO_BUSY.format(**n))
    return text


# --- the headline tables' words ---------------------------------------------------------------

HEADLINE_HEAD = ("The benchmark declares {shapes} headline shapes (n_x inputs, n_h hidden units, m "
                 "examples). For each: {headline}'s time per training step (float64, all cores), "
                 "how many times faster it is than {reference}{peers} on the same cell, and the "
                 "share of this machine's measured peaks it reaches.\n")
NOTES_PAIRED = ("Each speed-up is the ratio of the two sides' {estimator}s over the same "
                "interleaved rounds (at least {rounds}; every side of a shape in each round, in a "
                "random order, the rounds spread over the run in passes), with a 95 % bootstrap "
                "interval in brackets. A word after it links to a note: `wide` (the interval "
                "reaches beyond ±{wide:.0f} %), `cases` (the baseline's rounds fell into memory "
                "cases, each given with its own ratio: NumPy's fresh temporaries, "
                "~{temps_gb:.1f} GB per step at n_h = 64, m = 1e6, are mapped and zeroed by the "
                "kernel, quickly or slowly depending on the machine's free memory), `busy` "
                "(another process competed for the CPU) or `host` (the canary ran slow). "
                "(unpaired): the ratio of two separately measured medians, where no rounds were "
                "timed.")
NOTES_CEILING = ("The step's ceiling is the time it would take doing nothing but its unavoidable "
                 "work: one tanh ({tanh_ns:.2g} ns per value on all cores, measured) and 2·n_x + 4 "
                 "multiply-adds ({fma}) per example and hidden unit; \"% of the step's ceiling\" "
                 "is that time over the measured one.")
NOTES_FMA_PEAK = "{ns:.2g} ns each at the machine's FMA peak"
NOTES_FMA_L1 = "{ns:.2g} ns each, streamed through L1"


def headline_head(df):
    """The paragraph above the headline table."""
    peers = any(REGISTRY[b].peer for b in set(df.backend) if b in REGISTRY)
    return HEADLINE_HEAD.format(shapes=len(TARGETS), headline=HEADLINE, reference=REFERENCE,
                                peers=" and each peer" if peers else "")


def notes_numbers(header, pairs):
    """{rounds (fewest paired rounds, or None), tanh_ns, fma_ns, fma_at_peak}: what the headline
    table's columns rest on."""
    out = dict(rounds=min(p.rounds for p in pairs) if pairs else None, tanh_ns=None)
    c = (header.get("ceiling") or {}).get("float64")
    if c:
        fma = (header.get("peaks") or {}).get("fma_gflops")
        out.update(tanh_ns=1e9 * c["tanh_s"], fma_at_peak=bool(fma),
                   fma_ns=2 / fma if fma else 1e9 * c["fma_s"])
    return out


def headline_notes(header, pairs):
    """What the headline table's columns mean, for a reader who never saw the harness."""
    n = notes_numbers(header, pairs)
    out = []
    if n["rounds"] is not None:
        out.append(NOTES_PAIRED.format(
            rounds=n["rounds"], estimator=ESTIMATOR, wide=100 * WIDE,
            temps_gb=working_set_bytes(Cell(REFERENCE, "cost_and_grads", 10**6, 64)) / 1e9))
    if n["tanh_ns"] is not None:
        fma = (NOTES_FMA_PEAK if n["fma_at_peak"] else NOTES_FMA_L1).format(ns=n["fma_ns"])
        out.append(NOTES_CEILING.format(tanh_ns=n["tanh_ns"], fma=fma))
    return "\n" + "\n\n".join(out) + "\n" if out else ""


FLOAT32_HEAD = ("The same training step with float32 data and parameters: {headline}'s time, its "
                "own float64 step at the same shape, and how many times faster the float32 step "
                "is than that and than {reference}'s float32 step (paired rounds as above). In "
                "float32 {vector}, and the float32 tanh needs a shorter polynomial{ceiling}.\n")
FLOAT32_VECTOR = "a {bits}-bit vector register holds {f32} numbers instead of {f64}"
FLOAT32_NO_VECTOR = "a vector register holds twice as many numbers"
FLOAT32_CEILING = (": on this machine the float32 step's own ceiling (its fastest possible "
                   "time) is {ratio:.2f}× shorter than the float64 one at n_x={n_x}, n_h={n_h} "
                   "(tanh {tanh32_ns:.2g} ns per value in float32 against {tanh64_ns:.2g} ns in "
                   "float64, on all cores)")


def float32_numbers(header):
    """{ratio, n_x, n_h, tanh64_ns, tanh32_ns}: the float64 ceiling over the float32 one at the
    first float32 target shape, from the header's ceiling and FMA peaks; None when not
    measured."""
    ceil, pk = header.get("ceiling"), header.get("peaks") or {}
    nx, nh, m = FLOAT32_TARGETS[0]
    c = [ceiling_s(ceil, m, nh, nx, dt, pk.get(k))
         for dt, k in (("float64", "fma_gflops"), ("float32", "fma32_gflops"))]
    if not all(c):
        return None
    return dict(ratio=c[0] / c[1], n_x=nx, n_h=nh, tanh64_ns=ceil["float64"]["tanh_s"] * 1e9,
                tanh32_ns=ceil["float32"]["tanh_s"] * 1e9)


def float32_head(header):
    """The paragraph above the float32 headline table."""
    n = float32_numbers(header)
    bits = ((header.get("machine_info") or {}).get("cpu") or {}).get("simd_bits")
    vector = (FLOAT32_VECTOR.format(bits=bits, f32=bits // 32, f64=bits // 64) if bits else
              FLOAT32_NO_VECTOR)
    return FLOAT32_HEAD.format(headline=HEADLINE, reference=REFERENCE, vector=vector,
                               ceiling=FLOAT32_CEILING.format(**n) if n else "")


FIT_HEAD = ("A whole gradient-descent run (lr {lr:g}, tanh hidden layer, sigmoid output) from the "
            "same initial parameters on the lecture's flower data: {headline}'s time per step and "
            "for the whole run, and how many times faster it is than {reference} and each peer "
            "over the same steps (paired rounds as above, each round a whole run). Every run's "
            "parameters and costs were checked against {reference}'s before it was timed{partial}")
FIT_PARTIAL = (", except {n} cell(s) at m ≤ {m:,} where {reference}'s own run is chaotic: there "
               "only the costs up to that point were compared (each such cell's note says how "
               "many steps).")


def fit_numbers(df):
    """{partial, partial_m}: the training-run cells whose check compared the costs only (and the
    largest m among them)."""
    fits = df[(df.op == S.FIT) & (df.status == "ok")]
    flag = (fits.partial_check.fillna(False).astype(bool) if "partial_check" in fits else
            fits.message.fillna("").str.startswith(OLD_PARTIAL_CHECK))
    part = fits[flag]
    return dict(partial=len(part), partial_m=int(part.m.max()) if len(part) else None)


def fit_head(df):
    """The paragraph above the training-run headline table."""
    n = fit_numbers(df)
    partial = (FIT_PARTIAL.format(n=n["partial"], m=n["partial_m"], reference=REFERENCE)
               if n["partial"] else ".")
    return FIT_HEAD.format(lr=FIT_LR, headline=HEADLINE, reference=REFERENCE,
                           partial=partial) + "\n"


# --- every m measured: ratios of the network's backends ---------------------------------------

VECTORISE_ROW = ("- At m = {m:,}, n_h = {n_h}: `{b}` takes {t_b} per step and `{a}` {t_a}: "
                 "{a} ÷ {b} = {said}.")


def vectorise_numbers(df, pairs, notes=None):
    """{rows: the table's rows ({n_h, m, "A ÷ B": text}), lines: [{n_h, m, a, b, t_a_s, t_b_s,
    said}] (each comparison at its n_h's largest m)} for the network's backends at the step, per
    n_h and m (at the headline shapes' n_x); against the headline backend, the paired ratio of
    the headline table (:func:`.text.paired_text`), so the report quotes one number per
    question. None without a quiet step cell; rows empty when no two backends share cells."""
    nx = TARGETS[0][0]
    d = S.reliable(S.step_view(df))
    d = d[d.n_x == nx]
    if d.empty:
        return None
    targets = sorted({t[1] for t in TARGETS if t[0] == nx} & set(d.n_h))
    shown = targets or sorted(d.n_h.unique())[:2]
    t = d[d.n_h.isin(shown)].pivot_table(index=["n_h", "m"], columns="backend",
                                         values="median_s")
    comps = [(a, b) for a, b in comparisons(d.backend.unique()) if not REGISTRY[a].peer]
    rows, said = [], {}
    for (nh, m), row in t.iterrows():
        r = {"n_h": nh, "m": f"{m:,}"}
        for a, b in comps:
            if a in row and b in row and np.isfinite(row[a] / row[b]):
                r[f"{a} ÷ {b}"] = said[nh, m, a, b] = (
                    paired_text(pairs, nx, nh, m, a, 0, row[a] / row[b], notes=notes)
                    if b == HEADLINE
                    else fmt_ratio(row[a] / row[b]))
        if len(r) > 2:
            rows.append(r)
    lines = []
    for nh, g in t.reset_index().groupby("n_h"):
        for a, b in comps:
            if a not in g or b not in g or g.dropna(subset=[a, b]).empty:
                continue
            both = g.dropna(subset=[a, b])
            row = both.loc[both.m.idxmax()]
            lines.append(dict(n_h=int(nh), m=int(row.m), a=a, b=b, t_a_s=row[a], t_b_s=row[b],
                              said=said[nh, row.m, a, b]))
    return dict(rows=rows, lines=lines)


def vectorise(df, pairs, notes=None):
    """The "every m measured" table and a sentence per comparison at its largest m."""
    n = vectorise_numbers(df, pairs, notes)
    if n is None:
        return "_No training-step cell was measured on a quiet machine._"
    if not n["rows"]:
        return "_No two backends were measured on the same cells._"
    lines = [VECTORISE_ROW.format(**r, t_a=fmt_s(r["t_a_s"]), t_b=fmt_s(r["t_b_s"]))
             for r in n["lines"]]
    return md_table(pd.DataFrame(n["rows"]).fillna("–"), "") + "\n\n" + "\n".join(lines)


# --- scaling fits and crossovers --------------------------------------------------------------

SCALING_FEW = ("Not fitted, with too few measured m (a fit of {params} parameters needs at least "
               "{points} points; counts in brackets): {few}.")
CROSSOVER_ROW = "- n_h = {n_h}: by the fits, {headline} is faster than {reference} {where}"
CROSSOVER_FROM = "from m ≈ {m:,.0f} on."
CROSSOVER_ALWAYS = ("from m = 1 on (the fits do not cross up to m = 10⁸, beyond the largest m "
                    "measured).")
CROSSOVER_NEVER = "nowhere in m = 1 … 10⁸ (the fits do not cross)."


def scaling_numbers(df, fit_scaling):
    """{fits: {(backend, n_h): scaling fit}, points: {(backend, n_h): measured m}, few: [(backend,
    n_h, points)] left without a fit}, from ``fit_scaling(m, t)`` on each (backend, n_h)'s
    quiet training-step medians."""
    d = S.reliable(S.step_view(df))
    fits, points, few = {}, {}, []
    for (b, nh), g in d.groupby(["backend", "n_h"]):
        f = fit_scaling(g.m, g.median_s)
        if f:
            fits[b, nh], points[b, nh] = f, len(g)
        else:
            few.append((b, nh, len(g)))
    return dict(fits=fits, points=points, few=few)


def scaling(n, params):
    """(the scaling-fit table, the sentence on the (backend, n_h) left without a fit) from
    :func:`scaling_numbers` ``n``; ``params``: the fit's parameter count."""
    rows = [{"backend": b, "n_h": nh, "a (fixed cost)": fmt_s(f["a"]), "b": f"{f['b']:.3g}",
             "k (slope)": f"{f['k']:.2f}", "fit rel. RMS": f"{100 * f['rel_rms']:.1f} %",
             "points": n["points"][b, nh]} for (b, nh), f in n["fits"].items()]
    few = (SCALING_FEW.format(params=params, points=params + 1, few=", ".join(
        f"{b} n_h={nh} ({k})" for b, nh, k in n["few"])) if n["few"] else "")
    return md_table(pd.DataFrame(rows), "No backend and n_h has enough measured m for a fit."), few


def crossover_numbers(fits, crossover):
    """[{n_h, m}]: per n_h with scaling fits of both the reference and the headline backend, the
    m from which the headline backend is faster by ``crossover(f_ref, f_head)`` (None: never;
    at most 1: everywhere)."""
    return [dict(n_h=nh, m=crossover(fits[REFERENCE, nh], fits[HEADLINE, nh]))
            for nh in sorted({k[1] for k in fits})
            if (REFERENCE, nh) in fits and (HEADLINE, nh) in fits]


def crossovers(fits, crossover):
    """A sentence per n_h on where the headline backend overtakes the reference, by the fits."""
    return [CROSSOVER_ROW.format(
        n_h=r["n_h"], headline=HEADLINE, reference=REFERENCE,
        where=(CROSSOVER_FROM.format(m=r["m"]) if r["m"] and r["m"] > 1 else
               CROSSOVER_ALWAYS if r["m"] else CROSSOVER_NEVER))
        for r in crossover_numbers(fits, crossover)]


# --- two runs compared ------------------------------------------------------------------------

COMPARISON_HEAD = ("Median ratio of times, `{first}` ÷ `{second}`, over {cells} cells both runs "
                   "measured on a quiet machine:\n")


def comparison_numbers(r):
    """{cells, by_backend: {backend: median ratio}} from the comparison figure's per-cell ratios
    ``r`` (a frame with ``backend`` and ``ratio``)."""
    return dict(cells=len(r), by_backend=r.groupby("backend").ratio.median().to_dict())


def comparison(r, labels):
    """The comparison table's heading and table."""
    n = comparison_numbers(r)
    g = pd.DataFrame({"backend": list(n["by_backend"]),
                      "ratio": [f"{v:.3g}" for v in n["by_backend"].values()]})
    return [COMPARISON_HEAD.format(first=labels[0], second=labels[1], cells=n["cells"]),
            md_table(g, "")]
