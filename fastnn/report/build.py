"""``fastnn report``: a Markdown report with figures, generated only from results files.

Every number in ``index.md`` is computed here from the records; nothing is typed in by hand.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from ..backends import HEADLINE, REFERENCE, REGISTRY, comparisons, names
from ..bench.grid import TARGETS
from ..bench.store import ResultsError, load, to_frame
from ..plotting import colours
from .figures import (STEP, _fmt_s, _ok, _step_view, fig_compare, fig_compile, fig_heatmap,
                      fig_memory, fig_roofline, fig_speedup, fig_threads, fig_time_vs_m,
                      fig_time_vs_nh, time_saved)

# --- scaling fits -----------------------------------------------------------------------------

def fit_scaling(m, t):
    """Fit t(m) = a + b·m^k (a, b >= 0) minimising relative error.

    For each k on a fine grid, a and b solve a weighted linear least-squares problem; the best k
    wins. Returns dict a, b, k and ``rel_rms`` (root-mean-square relative residual), or None with
    fewer than 3 points.
    """
    m = np.asarray(m, float)
    t = np.asarray(t, float)
    if len(m) < 3:
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

def load_results(paths):
    """Load and stack results files; a bad file is a ResultsError naming it."""
    frames, headers = [], []
    for p in paths:
        header, cells = load(p)
        df = to_frame(cells)
        df["source"] = os.path.basename(os.path.dirname(os.path.abspath(p))) or p
        frames.append(df)
        headers.append((p, header))
    return pd.concat(frames, ignore_index=True), headers


def _md(df):
    return df.to_markdown(index=False) if len(df) else "_(no rows)_"


# --- text -------------------------------------------------------------------------------------

def _machine_md(header):
    mi = header.get("machine_info", {})
    blas = "; ".join(f"{b.get('internal_api')} {b.get('version')} ({b.get('architecture')}, "
                     f"{b.get('num_threads')} threads)" for b in mi.get("blas", [])) or "–"
    pk = header.get("peaks", {})
    comp = header.get("compile", {})
    rows = [
        ("CPU", f"{mi.get('cpu', {}).get('brand_raw', mi.get('processor', '?'))}, "
                f"{mi.get('cpu', {}).get('count')} logical cores"),
        ("OS", f"{mi.get('system')} {mi.get('release')}"),
        ("Python / NumPy / Numba / llvmlite", f"{mi.get('python_version')} / {mi.get('numpy')} / "
                                              f"{mi.get('numba')} / {mi.get('llvmlite')}"),
        ("BLAS (threadpoolctl)", blas),
        ("OPENBLAS_* variables", ", ".join(f"{k}={v}" for k, v in
                                           mi.get("openblas_env", {}).items()) or "none"),
        ("Numba threads / layer", f"{mi.get('numba_threads')} / "
                                  f"{mi.get('numba_threading_layer')}"),
        ("Measured peaks", f"{pk.get('peak_gflops', float('nan')):.1f} GFLOP/s (float64 GEMM "
                           f"n={pk.get('gemm_n')}), {pk.get('peak_gbs', float('nan')):.1f} GB/s "
                           "(streaming copy)" if pk else "–"),
        ("Numba compile (new process)", f"cold {_fmt_s(comp.get('compile_cold_s'))}, cached "
                                        f"{_fmt_s(comp.get('compile_cached_s'))}"
         if comp else "–"),
        ("Commit", f"{header.get('commit_info', {}).get('id', '')[:10]}"
                   f"{' (dirty)' if header.get('commit_info', {}).get('dirty') else ''}"),
        ("Run", f"{header.get('datetime')} — `{header.get('command')}`"),
    ]
    return _md(pd.DataFrame(rows, columns=["", "value"]))


def _fits(df):
    d = _ok(_step_view(df))
    rows, fits = [], {}
    for (b, nh), g in d.groupby(["backend", "n_h"]):
        f = fit_scaling(g.m, g.median_s)
        if f:
            fits[(b, nh)] = f
            rows.append({"backend": b, "n_h": nh, "a (fixed overhead)": _fmt_s(f["a"]),
                         "b": f"{f['b']:.3g}", "k (slope)": f"{f['k']:.2f}",
                         "fit rel. RMS": f"{100 * f['rel_rms']:.1f} %", "points": len(g)})
    return pd.DataFrame(rows), fits


def _why_vectorise(df):
    d = _ok(_step_view(df))
    lines = []
    if d.empty:
        return "_No training-step cells were measured._"
    shown = [n for n in (4, 64) if n in set(d.n_h)] or sorted(d.n_h.unique())[:2]
    t = d[d.n_h.isin(shown)].pivot_table(index=["n_h", "m"], columns="backend",
                                         values="median_s")
    pairs = [(a, b) for a, b in comparisons(d.backend.unique()) if not REGISTRY[a].peer]
    rows = []
    for (nh, m), row in t.iterrows():
        r = {"n_h": nh, "m": f"{m:,}"}
        for a, b in pairs:
            if a in row and b in row and np.isfinite(row[a]) and np.isfinite(row[b]):
                r[f"{a} ÷ {b}"] = f"{row[a] / row[b]:.3g}×"
        if len(r) > 2:
            rows.append(r)
    if not rows:
        return "_Not enough backends measured on common cells for ratios._"
    flat = t.reset_index()
    for nh, g in flat.groupby("n_h"):
        for a, b in pairs:
            if a not in g or b not in g:
                continue
            both = g.dropna(subset=[a, b])
            if both.empty:
                continue
            row = both.loc[both.m.idxmax()]
            ratio = row[a] / row[b]
            lines.append(f"- At m = {int(row.m):,}, n_h = {int(nh)}: `{b}` takes "
                         f"{_fmt_s(row[b])} per step, {max(ratio, 1 / ratio):.3g}× "
                         f"{'faster' if ratio >= 1 else 'slower'} than `{a}` "
                         f"({_fmt_s(row[a])}).")
    return _md(pd.DataFrame(rows).fillna("–")) + "\n\n" + "\n".join(lines)


def _caveats(df):
    out = []
    ok = _ok(df)
    if len(ok):
        rel = ok.iqr_s / ok.median_s
        noisy = ok[rel > 0.2]
        if len(noisy):
            w = noisy.assign(rel=rel[noisy.index]).sort_values("rel", ascending=False).head(5)
            out.append(f"- {len(noisy)} of {len(ok)} measured cells are noisy (IQR > 20 % of the "
                       "median; this machine is shared). Worst: " + "; ".join(
                           f"{r.backend} {r.op} m={r.m:,} n_h={r.n_h} ({100 * r.rel:.0f} %)"
                           for r in w.itertuples()) + ".")
    for status, what in (("over_budget", "were over their time budget and are extrapolated "
                                         "(dashed in figure 1), not measured"),
                         ("skipped", "were skipped by declaration"),
                         ("failed", "failed"), ("wrong", "disagreed with numpy and were not "
                                                         "timed")):
        n = int((df.status == status).sum())
        if n:
            msg = df[df.status == status].message.dropna().astype(str)
            msg = msg[msg != ""].value_counts().index[:2]
            out.append(f"- {n} cells {what}" + (f" (e.g. {'; '.join(msg)})" if len(msg) else "")
                       + ".")
    return "\n".join(out) or "- None found in the data."


def _breakeven(df, headers):
    """One sentence per n_h: calls needed at the largest m for a cold compile to pay off."""
    cold = (headers[0][1].get("compile", {}) if headers else {}).get("compile_cold_s")
    d = _ok(_step_view(df))
    if not cold or d.empty:
        return ""
    saved = time_saved(d)
    saved = saved[saved > 0].reset_index()
    out = []
    for nh, g in saved.groupby("n_h"):
        row = g.loc[g.m.idxmax()]
        out.append(f"- n_h = {nh}: at m = {int(row.m):,} {HEADLINE} saves "
                   f"{_fmt_s(row.median_s)} per step, so a cold compile ({_fmt_s(cold)}) pays off after "
                   f"{cold / row.median_s:,.0f} steps; with the on-disk cache the first call of "
                   "a later process costs "
                   f"{_fmt_s(headers[0][1]['compile'].get('compile_cached_s'))}.")
    return "\n".join(out)


def _targets(df, headers):
    """The headline backend at the target shapes, with the fraction of peak achieved."""
    pk = headers[0][1].get("peaks", {}) if headers else {}
    d = _ok(df[(df.op == STEP) & (df.hidden == "tanh") & (df.dtype == "float64")])
    rows = []
    H, R = HEADLINE, REFERENCE
    for nx, nh, m in TARGETS:
        g = d[(d.n_h == nh) & (d.m == m) & (d.n_x == nx)]
        if g.empty:
            continue
        g = g[g.threads == g.threads.min()] if (g.threads == 0).sum() == 0 else g[g.threads == 0]
        t = g.set_index("backend").median_s
        row = {"shape": f"n_x={nx}, n_h={nh}, m={m:,}"}
        for base in (R,) + names(peers=True):
            if base in t and H in t:
                row[f"{H} ÷ {base} speed-up"] = f"{t[base] / t[H]:.2f}×"
        if H in t.index and pk:
            nb = g[g.backend == H].iloc[0]
            row[f"{H} GFLOP/s (% of peak)"] = (f"{nb.gflops:.1f} "
                                               f"({100 * nb.gflops / pk['peak_gflops']:.0f} %)")
            row[f"{H} GB/s (% of peak)"] = f"{nb.gbs:.2f} ({100 * nb.gbs / pk['peak_gbs']:.1f} %)"
        rows.append(row)
    if not rows:
        return "_None of the target shapes were measured._"
    return _md(pd.DataFrame(rows).fillna("–"))


def build(paths, out):
    """Build ``out/index.md`` (+ PNGs and results.csv) from results files. Returns the index path."""
    paths = [paths] if isinstance(paths, str) else list(paths)
    if not paths:
        raise ResultsError("no results files given")
    both, headers = load_results(paths)
    os.makedirs(out, exist_ok=True)
    both.to_csv(os.path.join(out, "results.csv"), index=False)
    df = both[both.source == both.source.iloc[0]] if len(both) else both  # main sections: run 1
    cols = colours(df.backend.unique())
    figures, missing = [], []
    title = "# fastnn performance report\n"
    if df.empty or _ok(df).empty:
        text = (title + f"\nThe results ({', '.join(paths)}) hold no measured cells "
                f"({len(df)} records), so there is nothing to plot.\n")
        path = os.path.join(out, "index.md")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path
    specs = [
        ("Time per training step vs m", lambda: fig_time_vs_m(df, out, cols, figures)),
        ("Speed-up vs m", lambda: fig_speedup(df, out, cols, figures)),
        (f"{HEADLINE} ÷ {REFERENCE} heat map", lambda: fig_heatmap(df, out, cols, figures)),
        ("Time vs n_h", lambda: fig_time_vs_nh(df, out, cols, figures)),
        ("Peak extra memory vs m", lambda: fig_memory(df, out, cols, figures)),
        ("JIT compile time and break-even", lambda: fig_compile(df, headers, out, cols, figures)),
        ("Roofline", lambda: fig_roofline(df, headers, out, cols, figures)),
        ("Thread scaling", lambda: fig_threads(df, out, cols, figures)),
    ]
    blocks = []
    for name, make in specs:
        f = make()
        if f:
            blocks.append(f"### {name}\n\n![{name}]({f})\n")
        else:
            missing.append(name)
            blocks.append(f"### {name}\n\n_Left out: the results hold no data for it._\n")
    fit_table, fits = _fits(df)
    cross = []
    for nh in sorted({k[1] for k in fits}):
        if (REFERENCE, nh) in fits and (HEADLINE, nh) in fits:
            mx = crossover(fits[(REFERENCE, nh)], fits[(HEADLINE, nh)])
            cross.append(f"- n_h = {nh}: by the fits, {HEADLINE} is faster than {REFERENCE} "
                         + (f"from m ≈ {mx:,.0f} on." if mx and mx > 1 else
                            "from m = 1 on." if mx else "nowhere in m = 1 … 10⁸."))
    n_ok = int((df.status == "ok").sum())
    text = [title,
            f"Generated by `fastnn report` from {', '.join(f'`{p}`' for p in paths)}: "
            f"{len(df)} cells, {n_ok} measured (figures and tables: the first file). "
            "Every number below is computed from those "
            "records. Times are the median of the samples of one run; band = interquartile range.",
            f"\n## Headline: {HEADLINE} at the target shapes\n", _targets(df, headers),
            "\n## Why vectorisation matters\n",
            "The same training step (forward, cost and all four gradients), as ratios of median "
            "times in the same run:\n", _why_vectorise(df),
            "\n## Figures\n", *blocks,
            "\n## JIT compile break-even\n", _breakeven(df, headers) or "_No compile data._",
            "\n## Scaling fits: t(m) = a + b·m^k\n",
            "Fitted per backend and n_h to the measured training-step times (relative "
            "least squares). k ≈ 1 is linear work; a is the fixed cost per call.\n",
            _md(fit_table), "", *cross]
    if len(headers) > 1:
        fname, r = fig_compare(both, out, figures)
        text += ["\n## Comparison of runs\n"]
        if fname:
            srcs = list(dict.fromkeys(both.source))
            g = r.groupby("backend").ratio.median().reset_index()
            g["ratio"] = g.ratio.map(lambda v: f"{v:.3g}")
            text += [f"Median ratio of times, `{srcs[0]}` ÷ `{srcs[1]}`, over {len(r)} common "
                     "cells:\n", _md(g), f"\n![comparison]({fname})\n"]
        else:
            text += ["_The runs share no measured cells._"]
    text += ["\n## Caveats the data shows\n", _caveats(df)]
    for p, h in headers:
        text += [f"\n## Machine ({os.path.basename(os.path.dirname(os.path.abspath(p)))})\n",
                 _machine_md(h)]
    path = os.path.join(out, "index.md")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(text) + "\n")
    return path
