"""``fastnn report``: a Markdown report with figures, generated only from results files.

Every number in ``index.md`` is computed here from the records; nothing is typed in by hand.
Backend names come from the registry and the headline shapes from :data:`fastnn.bench.grid.TARGETS`.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from ..backends import HEADLINE, REFERENCE
from ..bench import paired, store
from ..bench.grid import FLOAT32_TARGETS
from ..bench.store import ResultsError, load, to_frame
from ..plotting import colours
from . import figures as F
from . import runs as R
from . import select as S
from . import ladder as RL
from . import modes as RM
from . import first as FS
from . import real as RD
from . import reasons, sections
from .headline import render as render_step, step_numbers
from .notes import Notes
from .text import (caveats, compute_peaks, blas_arch, headline_fit, headline_float32,
                   machine_md)

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


def load_results(paths):
    """Load and stack results files; a bad file is a ResultsError naming it.

    Returns (frame, [(label, header), ...]); the frame's ``source`` column holds the label,
    ``disturbed`` whether a cell was measured on a busy machine, ``partial_check`` whether a
    training run was checked on its first costs only, and ``message``, ``workers_disagree`` and
    ``contention_reason`` the words of the records' codes (:mod:`.reasons`; an older file's own
    words as they are).
    """
    loaded = [load(p) for p in paths]
    labels = _labels(paths, [h for h, _ in loaded])
    frames = []
    for lab, (header, cells) in zip(labels, loaded):
        df = to_frame(cells)
        df["disturbed"] = [bool(c.get("disturbed", False)) for c in cells]
        df["modes"] = [c.get("modes") for c in cells]
        df["message"] = [reasons.message(c) for c in cells]
        df["workers_disagree"] = [reasons.workers_apart(c) for c in cells]
        df["contention_reason"] = [reasons.contention_words(c.get("contention")) for c in cells]
        df["partial_check"] = [reasons.partial_check(c) for c in cells]
        df["source"] = lab
        frames.append(df)
    return pd.concat(frames, ignore_index=True), [(lab, h) for lab, (h, _) in zip(labels, loaded)]


# --- sections ---------------------------------------------------------------------------------

def _float32_headline(df, header, pairs, notes):
    """The float32 headline: a heading, what the table shows, the table; nothing when the
    results hold no float32 step at a float32 target shape."""
    at = S.measured(df)
    at = at[(at.op == S.STEP) & (at.dtype == "float32")]
    if not any(((at.n_x == nx) & (at.n_h == nh) & (at.m == m)).any()
               for nx, nh, m in FLOAT32_TARGETS):
        return []
    return [f"\n## Headline: {HEADLINE} in float32\n", sections.float32_head(header),
            headline_float32(df, pairs, header.get("ceiling"),
                             header.get("peaks", {}).get("fma32_gflops"), notes)]


def _fit_headline(df, pairs, notes):
    """The training-run headline: a heading, what the table shows, the table; nothing when the
    results hold no training run."""
    if not (df.op == S.FIT).any():
        return []
    return [f"\n## Headline: training runs ({S.FIT})\n", sections.fit_head(df),
            headline_fit(df, pairs, notes)]


def _empty(paths, df):
    return ("# fastnn performance report\n" + f"\nThe results ({', '.join(paths)}) hold no "
            f"measured cells ({len(df)} records), so there is nothing to plot.\n")


def build(paths, out):
    """Build ``out/index.md`` (+ PNGs and results.csv) from results files. Returns the index path."""
    paths = [paths] if isinstance(paths, str) else list(paths)
    if not paths:
        raise ResultsError("no results files given")
    both, headers = load_results(paths)
    docs = [paired.load(p, h) for p, (_, h) in zip(paths, headers)]
    doc = docs[0]
    sharded = R.shards([h for _, h in headers])
    where, parts = "", headers
    if sharded:  # the N parts of one run: one source, each shape's machine said
        where = R.where_table([(lab, h, both[both.source == lab]) for lab, h in headers])
        label = " + ".join(lab for lab, _ in headers)
        both = both.assign(source=label)
        headers = [(label, headers[0][1])]
        doc = type(doc)(run_id=doc.run_id, estimator=doc.estimator, fma_gflops=doc.fma_gflops,
                        series=[x for d in docs for x in d.series],
                        pairs=[x for d in docs for x in d.pairs],
                        ladder=[x for d in docs for x in d.ladder])
    os.makedirs(out, exist_ok=True)
    store.write_atomic(os.path.join(out, "results.csv"), both.to_csv(index=False))
    df_all = both[both.source == headers[0][0]]
    # the real data sets' runs have their own section (report.real); the rest reads synthetic data
    df = df_all[df_all.data.fillna("") == ""] if "data" in df_all else df_all
    path = os.path.join(out, "index.md")
    if S.measured(df_all).empty:
        store.write_atomic(path, _empty(paths, df_all))
        store.write_manifest(out, "report", ["index.md", "results.csv"])
        return path
    if S.measured(df).empty:  # real data sets only (the ``real`` grid)
        h0 = headers[0][1]
        notes = Notes("n")
        fs = FS.numbers(h0, doc)
        text = ["# fastnn performance report\n", FS.BEGIN, FS.render(fs, report=""), FS.END,
                "", FS.detail(fs), "\n## Real data and wide inputs\n",
                RD.render(RD.numbers(df_all, doc.pairs, h0), doc.pairs, notes)]
        if notes.items:
            text += ["\n### Notes on the tables\n", notes.render()]
        text += ["\n## Machine\n", machine_md(h0)]
        store.write_atomic(path, "\n".join(text) + "\n")
        store.write_manifest(out, "report", ["index.md", "results.csv"])
        return path
    cols, figures = colours(both.backend.unique()), []
    h0 = headers[0][1]
    cps = compute_peaks(h0.get("peaks", {}), blas_arch(h0))
    peaks = h0.get("peaks", {})
    step = step_numbers(df, cps[0][0] if cps else None, peaks.get("peak_gbs"), doc.pairs,
                        h0.get("ceiling"), peaks.get("fma_gflops"), peaks.get("gemm_gflops"))
    rounds = {(r.n_x, r.n_h, r.m): r.t_s for r in step.rows if r.t_s} if step.rounds else None
    specs = [
        ("Time per training step vs m", lambda: F.fig_time_vs_m(df, out, cols, figures)),
        (f"{HEADLINE}'s speed-up at the headline shapes (paired)",
         lambda: F.fig_paired(h0, doc, out, cols, figures)),
        (f"Speed-up over {REFERENCE} vs m (cell medians, unpaired)",
         lambda: F.fig_speedup(df, out, cols, figures)),
        (f"{HEADLINE} ÷ {REFERENCE} heat map (cell medians, unpaired)",
         lambda: F.fig_heatmap(df, out, cols, figures)),
        ("Time vs n_h", lambda: F.fig_time_vs_nh(df, out, cols, figures)),
        ("Peak extra memory vs m", lambda: F.fig_memory(df, out, cols, figures)),
        ("JIT compile time and break-even",
         lambda: F.fig_compile(df, headers, out, cols, figures)),
        ("Roofline", lambda: F.fig_roofline(df, headers, out, cols, figures, rounds)),
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
    scaling = sections.scaling_numbers(df, fit_scaling)
    fit_table, fit_note = sections.scaling(scaling, N_PARAMS)
    pairs, notes = doc.pairs, Notes("n")
    modes = RM.statements(df, pairs)
    ladder_fig = RL.figure(doc.ladder, out, cols, figures)
    detail = [f"\n## Headline: {HEADLINE} at the headline shapes\n",
              sections.headline_head(df),
              render_step(step, notes),
              sections.headline_notes(h0, pairs),
              *_float32_headline(df, h0, pairs, notes),
              *_fit_headline(df, pairs, notes)]
    real = RD.render(RD.numbers(df_all, pairs, h0), pairs, notes)
    if real:
        detail += ["\n## Real data and wide inputs\n", real]
    every_m = sections.vectorise(df, pairs, notes)
    if notes.items:
        detail += ["\n### Notes on the tables\n", notes.render()]
    fs = FS.numbers(h0, doc)
    text = ["# fastnn performance report\n",
            FS.BEGIN, FS.render(fs, figure=ladder_fig, report=""), FS.END, "", FS.detail(fs),
            "\n## Details\n", *sections.intro(df, paths, headers), *detail,
            "\n## Why vectorisation matters: the speed-up rung by rung\n",
            RL.section(doc.ladder),
            "\n### Every m measured\n",
            "The same training step (forward, cost and all four gradients), as ratios of median "
            "times in the same run (above 1: the second backend is faster); against "
            f"{HEADLINE} at a headline shape, the comparison of the headline table, and "
            "between two others there the ratio of their fastest rounds in it, as the first "
            "screen gives it:\n",
            every_m,
            *(["\n## Modes: cells whose values fall into groups\n",
               RM.INTRO.format(headline=HEADLINE, estimator=doc.estimator), *modes]
              if modes else []),
            "\n## Figures\n", *blocks,
            "\n## JIT compile break-even\n", sections.breakeven(df, headers[0][1]),
            "\n## Scaling fits: t(m) = a + b·m^k\n",
            "Fitted per backend and n_h to the measured training-step times (relative "
            "least squares). k ≈ 1 is linear work; a is the fixed cost per call.\n",
            fit_table, "", fit_note, "", *sections.crossovers(scaling.fits, crossover)]
    if len(headers) > 1:
        text += _comparison(both, [lab for lab, _ in headers], out, figures)
        if len({h.get("grid") for _, h in headers[:2]}) == 1:
            text += ["\n### Run to run\n", R.machine_drift(headers),
                     R.run_to_run(both, [lab for lab, _ in headers], docs[:2])]
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
    return text + [*sections.comparison(r, labels),
                   f"\n![comparison]({fig.file})\n\n{fig.caption}\n"]
