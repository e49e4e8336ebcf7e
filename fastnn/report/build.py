"""``fastnn report``: a Markdown report with figures, generated only from results files.

Every number in ``index.md`` is computed here from the records; nothing is typed in by hand.
Backend names come from the registry and the headline shapes from :data:`fastnn.bench.grid.TARGETS`.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd

from ..backends import FIT_LR, HEADLINE, REFERENCE, REGISTRY, comparisons
from ..bench import store
from ..bench.ceiling import ceiling_s
from ..bench.grid import FLOAT32_TARGETS, TARGETS
from ..bench.checks import PARTIAL_CHECK
from ..bench.paired import PAIRED
from ..bench.store import ResultsError, load, to_frame
from ..plotting import colours
from . import figures as F
from . import runs as R
from . import select as S
from . import ladder as RL
from . import modes as RM
from . import sections
from .text import (UNRELIABLE, caveats, compute_peaks, blas_arch, fmt_ratio, fmt_s, headline,
                   headline_fit, headline_float32, machine_md, md_table, paired_text)

#: Parameters of t(m) = a + b·m^k; a fit needs more points than this.
N_PARAMS = 3


# --- scaling fits -----------------------------------------------------------------------------

def fit_scaling(m, t):
    """Fit t(m) = a + b·m^k (a, b >= 0) minimising relative error.

    For each k on a fine grid, a and b solve a weighted linear least-squares problem; the best k
    wins. Returns dict a, b, k and ``rel_rms`` (root-mean-square relative residual), or None
    unless there are more points than the three parameters (and every time is positive).
    """
    m = np.asarray(m, float)
    t = np.asarray(t, float)
    if len(m) <= N_PARAMS or not (np.isfinite(t).all() and (t > 0).all()):
        return None
    best = None
    for k in np.linspace(0.3, 2.0, 1701):
        A = np.column_stack([np.ones_like(m), m**k]) / t[:, None]
        coef, *_ = np.linalg.lstsq(A, np.ones_like(t), rcond=None)
        coef = np.maximum(coef, 0.0)
        res = A @ coef - 1.0
        err = float(np.sqrt(np.mean(res**2)))
        if best is None or err < best["rel_rms"]:
            best = {"a": float(coef[0]), "b": float(coef[1]), "k": float(k), "rel_rms": err}
    return best


def crossover(f1, f2, lo=1.0, hi=1e8):
    """Smallest m in [lo, hi] from which f2 is faster than f1 (both fits), or None."""
    ms = np.logspace(np.log10(lo), np.log10(hi), 2000)
    t1 = f1["a"] + f1["b"] * ms ** f1["k"]
    t2 = f2["a"] + f2["b"] * ms ** f2["k"]
    faster = t2 < t1
    if faster.all():
        return float(lo)
    if not faster[-1]:
        return None
    return float(ms[np.where(~faster)[0][-1] + 1])


# --- loading ----------------------------------------------------------------------------------

def _labels(paths, headers):
    """One name per run: the shortest folder path that tells the files apart (``hostA/latest``
    vs ``hostB/latest``), so two folders with the same name are never merged; the same file
    twice with the same run id is one run."""
    dirs = [os.path.dirname(os.path.abspath(store.results_path(p))).split(os.sep)
            for p in paths]
    ids = [h.get("run_id") for h in headers]
    out = []
    for i, d in enumerate(dirs):
        n = 1
        while n < len(d) and any(e[-n:] == d[-n:] for j, e in enumerate(dirs) if j != i):
            n += 1
        out.append("/".join(d[-n:]) or paths[i])
    for i, lab in enumerate(out):  # the same file given twice: one run, unless ids differ
        if out[:i].count(lab) and ids[i] != ids[out.index(lab)]:
            out[i] = f"{lab} ({ids[i]})"
    return out


def _paired_doc(path, header):
    """The paired rounds written next to a results file by the same run: {"pairs": the headline
    speed-ups, "ladder": the ladder's factors}, or {}."""
    p = store.member(os.path.dirname(os.path.abspath(store.results_path(path))), PAIRED)
    try:  # p is None for a link: nothing is read through one
        with open(p, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError, TypeError):
        return {}
    if not isinstance(doc, dict) or doc.get("run_id") != header.get("run_id"):
        return {}
    return doc


def _headline_notes(header, pairs):
    """What the headline table's columns mean, for a reader who never saw the harness."""
    out = []
    if pairs:
        n = min(p["rounds"] for p in pairs)
        out.append(f"Speed-ups are medians of at least {n} paired rounds (the two backends timed "
                   "in alternation, so a slow moment of the machine slows both), with a 95 % "
                   "bootstrap interval in brackets; ⚠ wide marks an interval beyond ±10 %, "
                   f"⚠ rounds disagree one reaching beyond ×/÷ {UNRELIABLE:g} (the rounds spread "
                   "too widely, or fell into groups, for the median to be quoted as one "
                   "number). "
                   "(unpaired): the ratio of two separately measured medians; \"apart … ⚠\": "
                   "that ratio too, where it falls more than 10 % outside the paired interval — the two "
                   "methods disagree there, and neither number should be quoted alone.")
    if header.get("ceiling"):
        c = header["ceiling"]["float64"]
        fma = header.get("peaks", {}).get("fma_gflops")
        each = (f"{2 / fma:.2g} ns each at the machine's FMA peak" if fma else
                f"{1e9 * c['fma_s']:.2g} ns each, streamed through L1")
        out.append(f"The step's ceiling is the time it would take doing nothing but its "
                   f"unavoidable work: one tanh ({1e9 * c['tanh_s']:.2g} ns per value on all "
                   f"cores, measured) and 2·n_x + 4 multiply-adds ({each}) per example and "
                   "hidden unit; \"% of the step's "
                   "ceiling\" is that time over the measured one (shown for the fused kernels, "
                   "not for the wide inputs whose products go to BLAS).")
    return "\n" + "\n\n".join(out) + "\n" if out else ""


def load_results(paths):
    """Load and stack results files; a bad file is a ResultsError naming it.

    Returns (frame, [(label, header), ...]); the frame's ``source`` column holds the label and
    ``disturbed`` whether a cell was measured on a busy machine.
    """
    loaded = [load(p) for p in paths]
    labels = _labels(paths, [h for h, _ in loaded])
    frames = []
    for lab, (header, cells) in zip(labels, loaded):
        df = to_frame(cells)
        df["disturbed"] = [bool(c.get("disturbed", False)) for c in cells]
        df["modes"] = [c.get("modes") for c in cells]
        df["source"] = lab
        frames.append(df)
    return pd.concat(frames, ignore_index=True), [(lab, h) for lab, (h, _) in zip(labels, loaded)]


# --- sections ---------------------------------------------------------------------------------

def _scaling_fits(df):
    """Scaling-fit table, {(backend, n_h): scaling fit} and a sentence on the (backend, n_h)
    left without one."""
    d = S.reliable(S.step_view(df))
    rows, fits, few = [], {}, []
    for (b, nh), g in d.groupby(["backend", "n_h"]):
        f = fit_scaling(g.m, g.median_s)
        if not f:
            few.append(f"{b} n_h={nh} ({len(g)})")
            continue
        fits[(b, nh)] = f
        rows.append({"backend": b, "n_h": nh, "a (fixed cost)": fmt_s(f["a"]),
                     "b": f"{f['b']:.3g}", "k (slope)": f"{f['k']:.2f}",
                     "fit rel. RMS": f"{100 * f['rel_rms']:.1f} %", "points": len(g)})
    note = ""
    if few:
        note = (f"Not fitted, with too few measured m (a fit of {N_PARAMS} parameters needs at "
                f"least {N_PARAMS + 1} points; counts in brackets): " + ", ".join(few) + ".")
    table = md_table(pd.DataFrame(rows), "No backend and n_h has enough measured m for a fit.")
    return table, fits, note


def _why_vectorise(df, pairs):
    """Ratios of the network's backends at the step, per n_h and m (at the headline shapes'
    n_x); where the headline table has a paired ratio for the same comparison, that one
    (:func:`.text.paired_text`), so the report quotes one number per question."""
    nx = TARGETS[0][0]
    d = S.reliable(S.step_view(df))
    d = d[d.n_x == nx]
    if d.empty:
        return "_No training-step cell was measured on a quiet machine._"
    targets = sorted({t[1] for t in TARGETS if t[0] == nx} & set(d.n_h))
    shown = targets or sorted(d.n_h.unique())[:2]
    t = d[d.n_h.isin(shown)].pivot_table(index=["n_h", "m"], columns="backend",
                                         values="median_s")
    comps = [(a, b) for a, b in comparisons(d.backend.unique()) if not REGISTRY[a].peer]
    rows, lines = [], []
    for (nh, m), row in t.iterrows():
        r = {"n_h": nh, "m": f"{m:,}"}
        for a, b in comps:
            if a in row and b in row and np.isfinite(row[a] / row[b]):
                r[f"{a} ÷ {b}"] = (paired_text(pairs, nx, nh, m, a, 0, row[a] / row[b])
                                   if b == HEADLINE else fmt_ratio(row[a] / row[b]))
        if len(r) > 2:
            rows.append(r)
    if not rows:
        return "_No two backends were measured on the same cells._"
    table = pd.DataFrame(rows)
    for nh, g in t.reset_index().groupby("n_h"):
        for a, b in comps:
            if a not in g or b not in g or g.dropna(subset=[a, b]).empty:
                continue
            both = g.dropna(subset=[a, b])
            row = both.loc[both.m.idxmax()]
            said = table[(table.n_h == nh) & (table.m == f"{int(row.m):,}")][f"{a} ÷ {b}"]
            lines.append(f"- At m = {int(row.m):,}, n_h = {int(nh)}: `{b}` takes "
                         f"{fmt_s(row[b])} per step and `{a}` {fmt_s(row[a])}: "
                         f"{a} ÷ {b} = {said.iloc[0]}.")
    return md_table(table.fillna("–"), "") + "\n\n" + "\n".join(lines)


def _crossovers(fits):
    out = []
    for nh in sorted({k[1] for k in fits}):
        if (REFERENCE, nh) in fits and (HEADLINE, nh) in fits:
            mx = crossover(fits[(REFERENCE, nh)], fits[(HEADLINE, nh)])
            out.append(f"- n_h = {nh}: by the fits, {HEADLINE} is faster than {REFERENCE} "
                       + (f"from m ≈ {mx:,.0f} on." if mx and mx > 1 else
                          "from m = 1 on (the fits do not cross up to m = 10⁸, beyond the "
                          "largest m measured)." if mx else
                          "nowhere in m = 1 … 10⁸ (the fits do not cross)."))
    return out


def _ceiling_ratio(header):
    """", so …": how many times the float64 ceiling the float32 one is at the first float32
    target shape, from the header's ceiling and FMA peaks ("" when not measured)."""
    ceil, pk = header.get("ceiling"), header.get("peaks") or {}
    nx, nh, m = FLOAT32_TARGETS[0]
    c = [ceiling_s(ceil, m, nh, nx, dt, pk.get(k))
         for dt, k in (("float64", "fma_gflops"), ("float32", "fma32_gflops"))]
    if not all(c):
        return ""
    return (f": on this machine the float32 step's own ceiling is {c[0] / c[1]:.2f}× the "
            f"float64 one at n_x={nx}, n_h={nh} (its tanh {ceil['float64']['tanh_s'] * 1e9:.2g} "
            f"vs {ceil['float32']['tanh_s'] * 1e9:.2g} ns per value on all cores)")


def _float32_headline(df, header, pairs):
    """The float32 headline: a heading, what the table shows, the table; nothing when the
    results hold no float32 step at a float32 target shape."""
    at = S.measured(df)
    at = at[(at.op == S.STEP) & (at.dtype == "float32")]
    if not any(((at.n_x == nx) & (at.n_h == nh) & (at.m == m)).any()
               for nx, nh, m in FLOAT32_TARGETS):
        return []
    return [f"\n## Headline: {HEADLINE} in float32\n",
            f"The same training step with float32 data and parameters: {HEADLINE}'s time, its "
            f"own float64 step at the same shape, and how many times faster the float32 step "
            f"is than that and than {REFERENCE}'s float32 step (paired rounds as above). In "
            "float32 a 512-bit vector holds 16 numbers instead of 8, and the float32 tanh "
            "needs a shorter polynomial" + _ceiling_ratio(header) + ".\n",
            headline_float32(df, pairs, header.get("ceiling"),
                             header.get("peaks", {}).get("fma32_gflops"))]


def _fit_headline(df, pairs):
    """The training-run headline: a heading, what the table shows, the table; nothing when the
    results hold no training run."""
    if not (df.op == S.FIT).any():
        return []
    fits = df[(df.op == S.FIT) & (df.status == "ok")]
    part = fits[fits.message.fillna("").str.startswith(PARTIAL_CHECK)]
    checked = (f"Every run's parameters and costs were checked against {REFERENCE}'s before it "
               "was timed" + (
                   f", except {len(part)} cell(s) at m ≤ {int(part.m.max()):,} where "
                   f"{REFERENCE}'s own run is chaotic: there only the costs up to that point "
                   "were compared (each such cell's note says how many steps)."
                   if len(part) else "."))
    return [f"\n## Headline: training runs ({S.FIT})\n",
            f"A whole gradient-descent run (lr {FIT_LR:g}, tanh hidden layer, sigmoid output) "
            f"from the same initial parameters on the lecture's flower data: {HEADLINE}'s time "
            f"per step and for the whole run, and how many times faster it is than "
            f"{REFERENCE} and each peer over the same steps (paired rounds as above, "
            f"each round a whole run). {checked}\n",
            headline_fit(df, pairs)]


def _intro(df, paths, headers):
    h = headers[0][1]
    n_ok = int((df.status == "ok").sum())
    src = (f"the results of `{h['command']}`" if h.get("command") else "the results") + \
        (f", run on {h['datetime']}" if h.get("datetime") else "")
    files = ", ".join(f"`{p}`" for p in paths)
    text = [f"This report was built from {src} ({files}): {len(df)} cells, {n_ok} measured."
            + (" Figures and tables show the first run; the others are compared with it at the "
               "end." if len(headers) > 1 else "")
            + " Every number below is computed from those records. A time is the median of one "
            "cell's repeated measurements; a band is their interquartile range."]
    busy = S.measured(df)[S.disturbed(S.measured(df))]
    if len(busy):
        text.append(f"\n**This run was disturbed.** {len(busy)} of {n_ok} measured cells were "
                    "measured while another process competed for the CPU. They are drawn hollow "
                    "in the figures and listed under Caveats; no ratio, fit, crossover or "
                    "headline number uses them.")
    return text


def _empty(paths, df):
    return ("# fastnn performance report\n" + f"\nThe results ({', '.join(paths)}) hold no "
            f"measured cells ({len(df)} records), so there is nothing to plot.\n")


def build(paths, out):
    """Build ``out/index.md`` (+ PNGs and results.csv) from results files. Returns the index path."""
    paths = [paths] if isinstance(paths, str) else list(paths)
    if not paths:
        raise ResultsError("no results files given")
    both, headers = load_results(paths)
    docs = [_paired_doc(p, h) for p, (_, h) in zip(paths, headers)]
    all_pairs = [d.get("pairs") for d in docs]
    steps = docs[0].get("ladder") or []
    sharded = R.shards([h for _, h in headers])
    where, parts = "", headers
    if sharded:  # the N parts of one run: one source, each shape's machine said
        where = R.where_table([(lab, h, both[both.source == lab]) for lab, h in headers])
        label = " + ".join(lab for lab, _ in headers)
        both = both.assign(source=label)
        headers = [(label, headers[0][1])]
        all_pairs = [[p for ps in all_pairs for p in (ps or [])] or None]
        steps = [e for d in docs for e in d.get("ladder") or []]
    os.makedirs(out, exist_ok=True)
    store.write_atomic(os.path.join(out, "results.csv"), both.to_csv(index=False))
    df = both[both.source == headers[0][0]]
    path = os.path.join(out, "index.md")
    if S.measured(df).empty:
        store.write_atomic(path, _empty(paths, df))
        store.write_manifest(out, "report", ["index.md", "results.csv"])
        return path
    cols, figures = colours(both.backend.unique()), []
    h0 = headers[0][1]
    cps = compute_peaks(h0.get("peaks", {}), blas_arch(h0))
    specs = [
        ("Time per training step vs m", lambda: F.fig_time_vs_m(df, out, cols, figures)),
        (f"Speed-up over {REFERENCE} vs m", lambda: F.fig_speedup(df, out, cols, figures)),
        (f"{HEADLINE} ÷ {REFERENCE} heat map", lambda: F.fig_heatmap(df, out, cols, figures)),
        ("Time vs n_h", lambda: F.fig_time_vs_nh(df, out, cols, figures)),
        ("Peak extra memory vs m", lambda: F.fig_memory(df, out, cols, figures)),
        ("JIT compile time and break-even",
         lambda: F.fig_compile(df, headers, out, cols, figures)),
        ("Roofline", lambda: F.fig_roofline(df, headers, out, cols, figures)),
        ("Thread scaling", lambda: F.fig_threads(
            df, out, cols, figures, h0.get("machine_info", {}).get("cpu", {}).get("count"))),
        ("Time per step of a training run vs m",
         lambda: F.fig_fit_time_vs_m(df, out, cols, figures)),
        ("The sizes only fusion reaches: time and memory vs m",
         lambda: F.fig_large_m(df, out, cols, figures)),
    ]
    blocks, left_out = [], []
    for name, make in specs:
        fig = make()
        if fig.file:
            blocks.append(f"### {name}\n\n![{name}]({fig.file})\n\n{fig.caption}\n")
        else:
            left_out.append(f"- {name}: {fig.why_not}")
    if left_out:
        blocks.append("Left out, with nothing meaningful to show in these results:\n\n"
                      + "\n".join(left_out) + "\n")
    fit_table, scaling, fit_note = _scaling_fits(df)
    modes = RM.statements(df)
    text = ["# fastnn performance report\n", *sections.result(all_pairs[0], steps),
            *_intro(df, paths, headers),
            f"\n## Headline: {HEADLINE} at the headline shapes\n",
            f"The benchmark declares {len(TARGETS)} headline shapes (n_x inputs, n_h hidden "
            f"units, m examples). For each: {HEADLINE}'s time per training step (float64, all "
            f"cores), how many times faster it is than {REFERENCE}"
            + (" and each peer" if any(REGISTRY[b].peer for b in set(df.backend) if b in REGISTRY)
               else "") + " on the same cell, and the share of this machine's measured peaks "
            "it reaches.\n",
            headline(df, cps[0][0] if cps else None, h0.get("peaks", {}).get("peak_gbs"),
                     all_pairs[0], h0.get("ceiling"),
                     h0.get("peaks", {}).get("fma_gflops")),
            _headline_notes(h0, all_pairs[0]),
            *_float32_headline(df, h0, all_pairs[0]),
            *_fit_headline(df, all_pairs[0]),
            "\n## Why vectorisation matters: the speed-up rung by rung\n",
            RL.section(steps, out, cols, figures),
            "\n### Every m measured\n",
            "The same training step (forward, cost and all four gradients), as ratios of median "
            "times in the same run (above 1: the second backend is faster); against "
            f"{HEADLINE} at a headline shape, the paired ratio of the headline table:\n",
            _why_vectorise(df, all_pairs[0]),
            *(["\n## Modes: cells whose values fall into groups\n",
               "A cell's values split where sorted neighbours are more than 25 % apart; each "
               "group with its share of the values and, where recorded, the kernel's CPU time "
               "and the page faults per call, which show the cause:\n", *modes]
              if modes else []),
            "\n## Figures\n", *blocks,
            "\n## JIT compile break-even\n", sections.breakeven(df, headers[0][1]),
            "\n## Scaling fits: t(m) = a + b·m^k\n",
            "Fitted per backend and n_h to the measured training-step times (relative "
            "least squares). k ≈ 1 is linear work; a is the fixed cost per call.\n",
            fit_table, "", fit_note, "", *_crossovers(scaling)]
    if len(headers) > 1:
        text += _comparison(both, [lab for lab, _ in headers], out, figures)
        if len({h.get("grid") for _, h in headers[:2]}) == 1:
            text += ["\n### Run to run\n", R.machine_drift(headers),
                     R.run_to_run(both, [lab for lab, _ in headers], all_pairs[:2])]
    if sharded:
        text += [f"\n## Where each shape ran\n\nThis run was split into {len(parts)} shards "
                 "by shape (`fastnn bench --shard K/N`), so every comparison at a shape was "
                 "measured on one machine:\n", where]
    text += ["\n## Caveats the data shows\n", caveats(df)]
    for lab, h in parts if sharded else headers:
        text += [f"\n## Machine{f' ({lab})' if len(parts) > 1 else ''}\n", machine_md(h)]
    store.write_atomic(path, "\n".join(text) + "\n")
    store.write_manifest(out, "report", ["index.md", "results.csv", *figures])  # drops stale
    return path


def _comparison(both, labels, out, figures):
    fig, r = F.fig_compare(both, labels[:2], out, figures)
    text = ["\n## Comparison of runs\n"]
    if not fig.file:
        return text + [f"_{fig.why_not[:1].upper()}{fig.why_not[1:]}_"]
    g = r.groupby("backend").ratio.median().reset_index()
    g["ratio"] = g.ratio.map(lambda v: f"{v:.3g}")
    return text + [f"Median ratio of times, `{labels[0]}` ÷ `{labels[1]}`, over {len(r)} cells "
                   "both runs measured on a quiet machine:\n", md_table(g, ""),
                   f"\n![comparison]({fig.file})\n\n{fig.caption}\n"]
