"""The report's figures (matplotlib), each drawn only from the data present; a figure returns
its file name, or None when its data is missing."""

from __future__ import annotations


import numpy as np
import pandas as pd

from ..backends import HEADLINE, REFERENCE, REGISTRY, comparisons
from ..plotting import colours, plt as _plt, save

STEP = "cost_and_grads"


def _ok(df):
    return df[df.status == "ok"].copy()


# --- figures ----------------------------------------------------------------------------------

def _fmt_s(x):
    if x is None or not np.isfinite(x):
        return "–"
    for unit, f in (("s", 1), ("ms", 1e3), ("µs", 1e6), ("ns", 1e9)):
        if x * f >= 1:
            return f"{x * f:.3g} {unit}"
    return f"{x * 1e9:.3g} ns"


def _step_view(df):
    """The training step at the default threads and the first dtype present, for figures 1–4."""
    d = df[(df.op == STEP) & (df.hidden == "tanh")]
    if d.empty:
        return d
    dt = "float64" if (d.dtype == "float64").any() else d.dtype.iloc[0]
    th = 0 if (d.threads == 0).any() else d.threads.max()
    return d[(d.dtype == dt) & (d.threads == th)]


def fig_time_vs_m(df, out, cols, figures):
    d = _step_view(df)
    d = d[d.status.isin(["ok", "over_budget"])]
    if d.empty:
        return None
    plt = _plt()
    nhs = sorted(d.n_h.unique())
    ncols = min(3, len(nhs))
    nrows = -(-len(nhs) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.6 * nrows), squeeze=False,
                             sharey=True, layout="constrained")
    for ax in axes.flat[len(nhs):]:
        ax.set_visible(False)
    for ax, nh in zip(axes.flat, nhs):
        for b, g in d[d.n_h == nh].groupby("backend"):
            ok = g[g.status == "ok"].sort_values("m")
            ax.plot(ok.m, ok.median_s, "o-", color=cols[b], label=b, ms=3)
            ax.fill_between(ok.m, ok.q1_s, ok.q3_s, color=cols[b], alpha=0.25, lw=0)
            ex = g[g.status == "over_budget"].sort_values("m")
            if len(ex):
                last = ok.tail(1)
                xs = list(last.m) + list(ex.m)
                ys = list(last.median_s) + list(ex.predicted_s)
                ax.plot(xs, ys, "--", color=cols[b], alpha=0.8)
                ax.plot(ex.m, ex.predicted_s, "x", color=cols[b], ms=6)
        ax.set(xscale="log", yscale="log", title=f"n_h = {nh}", xlabel="m (examples)")
        ax.grid(True, which="major", alpha=0.3)
    for row in axes:
        row[0].set_ylabel("time per training step (s)")
    axes[0][0].legend(fontsize=8, title="median; band = IQR;\n× dashed = extrapolated",
                      title_fontsize=7)
    fig.suptitle("Time per training step (cost_and_grads) vs m")
    return save(fig, out, "fig1_time_vs_m.png", figures)


_KEYS = ("op", "m", "n_h", "n_x", "dtype", "threads", "hidden", "output")


def _ratio(df, num, den, keys=_KEYS):
    """Speed-up of backend ``den`` over ``num``: t_num / t_den per common cell."""
    a = _ok(df[df.backend == num]).set_index(list(keys)).median_s
    b = _ok(df[df.backend == den]).set_index(list(keys)).median_s
    r = (a / b).dropna()
    return r.reset_index(name="speedup")


def fig_speedup(df, out, cols, figures):
    d = _step_view(df)
    if d.empty:
        return None
    plt = _plt()
    bases = dict.fromkeys(a for a, _ in comparisons(d.backend.unique()) if not REGISTRY[a].peer)
    panels = [(base, [b for b in d.backend.unique() if b != base]) for base in bases]
    if not panels:
        return None
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 3.8), squeeze=False)
    for ax, (base, others) in zip(axes[0], panels):
        for b in others:
            r = _ratio(d, base, b)
            for nh, g in r.groupby("n_h"):
                g = g.sort_values("m")
                ax.plot(g.m, g.speedup, "o-", ms=3, color=cols[b],
                        alpha=0.4 + 0.6 * (nh == r.n_h.max()),
                        label=f"{b}, n_h={nh}")
        ax.axhline(1.0, color="grey", lw=1, ls=":")
        ax.set(xscale="log", yscale="log", xlabel="m (examples)",
               ylabel=f"speed-up over {base} (×)", title=f"Speed-up over {base}")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    return save(fig, out, "fig2_speedup_vs_m.png", figures)


def fig_heatmap(df, out, cols, figures):
    d = _step_view(df)
    r = _ratio(d, REFERENCE, HEADLINE) if not d.empty else pd.DataFrame()
    if r.empty or r.m.nunique() < 2 or r.n_h.nunique() < 2:
        return None
    plt = _plt()
    piv = r.pivot_table(index="n_h", columns="m", values="speedup")
    fig, ax = plt.subplots(figsize=(1.0 + 0.9 * piv.shape[1], 1.2 + 0.6 * piv.shape[0]))
    L = np.log2(piv.values)
    lim = max(1.0, np.nanmax(np.abs(L)))
    im = ax.imshow(L, cmap="PuOr", vmin=-lim, vmax=lim, origin="lower", aspect="auto")
    for (i, j), v in np.ndenumerate(piv.values):
        if np.isfinite(v):
            dark = abs(np.log2(v)) > lim / 2
            ax.text(j, i, f"{v:.2g}×", ha="center", va="center", fontsize=7,
                    color="white" if dark else "black")
    crosses = np.nanmin(L) < 0 < np.nanmax(L)
    if crosses:
        ax.contour(np.nan_to_num(L), levels=[0.0], colors="k", linewidths=1.5)
    ax.set_xticks(range(piv.shape[1]), [f"{m:.0e}" if m >= 1000 else str(m) for m in piv.columns],
                  rotation=45)
    ax.set_yticks(range(piv.shape[0]), piv.index)
    where = ("black line: the 1× crossover" if crosses else
             f"{HEADLINE} faster in every cell" if np.nanmin(L) >= 0 else
             f"{HEADLINE} slower in every cell")
    ax.set(xlabel="m (examples)", ylabel="n_h (hidden units)",
           title=f"{HEADLINE} ÷ {REFERENCE} speed-up ({where})")
    fig.colorbar(im, ax=ax, label="log₂ speed-up")
    return save(fig, out, f"fig3_heatmap_{HEADLINE}_vs_{REFERENCE}.png", figures)


def fig_time_vs_nh(df, out, cols, figures):
    d = _ok(_step_view(df))
    if d.empty or d.n_h.nunique() < 2:
        return None
    counts = d.groupby("m").n_h.nunique()
    m_fix = counts[counts == counts.max()].index.max()
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for b, g in d[d.m == m_fix].groupby("backend"):
        g = g.sort_values("n_h")
        ax.plot(g.n_h, g.median_s, "o-", color=cols[b], label=b, ms=3)
        ax.fill_between(g.n_h, g.q1_s, g.q3_s, color=cols[b], alpha=0.25, lw=0)
    ax.set(xscale="log", yscale="log", xlabel="n_h (hidden units)",
           ylabel="time per training step (s)", title=f"Time vs n_h at m = {m_fix:,}")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return save(fig, out, "fig4_time_vs_nh.png", figures)


def _mem_col(d):
    rss = pd.to_numeric(d.mem_rss_bytes, errors="coerce")
    tr = pd.to_numeric(d.mem_traced_bytes, errors="coerce")
    return np.fmax(rss.fillna(0), tr.fillna(0))


def fig_memory(df, out, cols, figures):
    d = _ok(_step_view(df))
    if d.empty or d.mem_traced_bytes.isna().all():
        return None
    d = d.assign(mem=_mem_col(d))
    span = d.groupby("n_h").m.nunique()
    nh = span[span == span.max()].index.max()  # the widest range of m, then the largest n_h
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for b, g in d[d.n_h == nh].groupby("backend"):
        g = g.sort_values("m")
        ax.plot(g.m, g.mem.clip(lower=1), "o-", color=cols[b], label=b, ms=3)
    ax.set(xscale="log", yscale="log", xlabel="m (examples)",
           ylabel="peak extra memory (bytes)",
           title=f"Peak extra memory per training step, n_h = {nh}\n(max of tracemalloc peak and "
                 "resident-set rise)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return save(fig, out, "fig5_memory_vs_m.png", figures)


def time_saved(d):
    """Seconds the headline backend saves over the reference per training step, indexed by (m, n_h)."""
    a = d[d.backend == REFERENCE].set_index(["m", "n_h"]).median_s
    b = d[d.backend == HEADLINE].set_index(["m", "n_h"]).median_s
    return (a - b).dropna()


def fig_compile(df, headers, out, cols, figures):
    d = _ok(_step_view(df))
    comp = headers[0][1].get("compile", {}) if headers else {}
    cold = comp.get("compile_cold_s")
    if cold is None or d.empty or not {HEADLINE, REFERENCE} <= set(d.backend):
        return None
    saved = time_saved(d)
    plt = _plt()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
    names = ["cold (empty cache)", "cached (cache=True)"]
    vals = [cold, comp.get("compile_cached_s") or 0.0]
    ax1.bar(names, vals, color=[cols[HEADLINE], "#999999"])
    for i, v in enumerate(vals):
        ax1.text(i, v, _fmt_s(v), ha="center", va="bottom", fontsize=8)
    ax1.set(ylabel="first call in a new process (s)", title="Numba JIT compile time")
    for nh, g in saved.reset_index().groupby("n_h"):
        g = g[g.median_s > 0].sort_values("m")
        if len(g):
            ax2.plot(g.m, cold / g.median_s, "o-", ms=3, label=f"n_h={nh}")
    ax2.set(xscale="log", yscale="log", xlabel="m (examples)",
            ylabel="calls to repay a cold compile", title="Break-even: compile ÷ time saved per "
            "call")
    ax2.grid(True, alpha=0.3)
    ax2.legend(fontsize=8)
    return save(fig, out, "fig6_compile_breakeven.png", figures)


def fig_roofline(df, headers, out, cols, figures):
    peaks = headers[0][1].get("peaks", {}) if headers else {}
    d = _ok(df)
    d = d[(d.gflops > 0) & (d.bytes > 0)]
    if not peaks or d.empty:
        return None
    P, B = peaks["peak_gflops"], peaks["peak_gbs"]
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4.2))
    x = np.logspace(-2, 3, 200)
    ax.plot(x, np.minimum(P, B * x), "k-", lw=1.5, label=f"roof: {P:.0f} GFLOP/s, {B:.0f} GB/s")
    for b, g in d.groupby("backend"):
        ax.scatter(g.flops / g.bytes, g.gflops, s=8 + 4 * np.log2(g.n_h), color=cols[b],
                   alpha=0.6, label=b)
    ax.set(xscale="log", yscale="log", xlabel="arithmetic intensity (FLOP / compulsory byte)",
           ylabel="achieved GFLOP/s", title="Roofline (every measured cell; size ∝ n_h)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    return save(fig, out, "fig7_roofline.png", figures)


def fig_threads(df, out, cols, figures):
    d = _ok(df[(df.op == STEP)])
    if d.threads.nunique() < 2:
        return None
    m_max = d.m.max()
    d = d[d.m == m_max]
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for (b, nh), g in d.groupby(["backend", "n_h"]):
        one = g[g.threads == 1].median_s
        if one.empty:
            continue
        g = g.sort_values("threads")
        label = ["all" if t == 0 else str(t) for t in g.threads]
        ax.plot(label, one.iloc[0] / g.median_s, "o-", color=cols[b], ms=3,
                alpha=0.4 + 0.6 * (nh == d.n_h.max()), label=f"{b}, n_h={nh}")
    ax.set(xlabel="threads", ylabel="speed-up over 1 thread (×)",
           title=f"Thread scaling at m = {m_max:,}")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    return save(fig, out, "fig8_threads.png", figures)


def fig_compare(df, out, figures):
    srcs = list(dict.fromkeys(df.source))
    if len(srcs) < 2:
        return None, None
    keys = ["backend", "op", "m", "n_h", "n_x", "dtype", "threads", "hidden", "output"]
    a = _ok(df[df.source == srcs[0]]).set_index(keys).median_s
    b = _ok(df[df.source == srcs[1]]).set_index(keys).median_s
    r = (a / b).dropna().rename("ratio").reset_index()
    if r.empty:
        return None, r
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    cols = colours(r.backend.unique())
    for be, g in r.groupby("backend"):
        ax.scatter(g.m, g.ratio, s=10, color=cols[be], label=be)
    ax.axhline(1, color="grey", ls=":")
    ax.set(xscale="log", yscale="log", xlabel="m (examples)",
           ylabel=f"time {srcs[0]} ÷ time {srcs[1]}", title="Run comparison, per common cell")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    return save(fig, out, "fig9_comparison.png", figures), r
