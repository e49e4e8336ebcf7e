"""The report's sentences and small tables: number formats, the machine table, the caveats and the
headline table. Everything is computed from the records; a missing field is left out, not
printed as ``None``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..backends import HEADLINE, REFERENCE, names
from ..bench import store
from ..bench.ceiling import ceiling_s
from ..bench.grid import FIT_TARGETS, FLOAT32_TARGETS, TARGETS
from ..fmt import seconds as fmt_s
from .notes import Notes, cases_of, find
from .select import FIT, OVERHEAD_FACTOR, STEP, disturbed, measured, reliable


def fmt_ratio(r):
    """A ratio of two times as "12.3×"; "–" unless finite and positive (a zero, negative or
    infinite time is not a speed-up)."""
    try:
        r = float(r)
    except (TypeError, ValueError):
        return "–"
    return _x(r) if np.isfinite(r) and r > 0 else "–"


def _x(r):
    return f"{r:,.0f}×" if r >= 1000 else f"{r:.3g}×"


def faster_or_slower(t_fast, t_slow):
    """"4.2× faster" / "1.5× slower" for time t_fast against t_slow; None unless both finite and
    positive."""
    if not (np.isfinite(t_fast) and np.isfinite(t_slow) and t_fast > 0 and t_slow > 0):
        return None
    r = t_slow / t_fast
    return f"{_x(r)} faster" if r >= 1 else f"{_x(1 / r)} slower"


def md_table(df, empty):
    """A Markdown table, or the sentence ``empty`` (in italics) when there are no rows."""
    return df.to_markdown(index=False) if len(df) else f"_{empty}_"


def describe_cell(r):
    """A cell in words, with every axis that tells it apart."""
    th = "all threads" if int(r.threads) == 0 else f"{int(r.threads)} thread" + (
        "s" if int(r.threads) > 1 else "")
    return (f"{r.backend} {r.op} m={int(r.m):,} n_h={int(r.n_h)}"
            + (f" n_x={int(r.n_x)}" if int(r.n_x) != 2 else "") + f" {r.dtype} {th}")


# --- machine ----------------------------------------------------------------------------------

def _join(*parts, sep=", "):
    """The parts that are present (not None, False or empty), joined."""
    return sep.join(str(p) for p in parts if p is not None and p is not False
                    and p not in ("", [], {}))


def _blas(mi):
    seen = {}
    for b in mi.get("blas", []) or []:
        lib = (b.get("filepath") or "").rsplit("/", 1)[-1].split(".so")[0]
        detail = _join(b.get("architecture") and f"{b['architecture']} kernel",
                       b.get("threading_layer"),
                       b.get("num_threads") and f"{b['num_threads']} threads")
        what = _join(b.get("internal_api"), b.get("version"), sep=" ")
        if not b.get("version") and lib:
            what += f" ({lib})"
        s = what + (f" — {detail}" if detail else "")
        seen[s] = seen.get(s, 0) + 1
    return "; ".join(s + (f" (×{n})" if n > 1 else "") for s, n in seen.items()) or "–"


def compute_peaks(peaks, blas_arch=None, dtype="float64"):
    """The compute peaks of one dtype in a header's ``peaks``, as (GFLOP/s, what measured it),
    highest first: the roofline's ceiling is the first.

    Reads ``<name>_gflops`` with ``<name>_kernel`` (``fma``, ``gemm``; a ``32`` in the name
    marks float32), and an older file's single ``peak_gflops`` (OpenBLAS's float64 GEMM).
    """
    peaks = peaks or {}
    out = []
    for k, v in peaks.items():
        if not (k.endswith("_gflops") and k != "peak_gflops" and isinstance(v, (int, float))):
            continue
        name = k[:-len("_gflops")]
        if ("32" in name) != (dtype == "float32") or not v > 0:
            continue
        out.append((float(v), peaks.get(f"{name}_kernel") or _default_kernel(name, peaks,
                                                                             blas_arch)))
    if not out and dtype == "float64" and peaks.get("peak_gflops"):
        out.append((float(peaks["peak_gflops"]),
                    peaks.get("peak_kernel") or _default_kernel("gemm", peaks, blas_arch)))
    return sorted(out, key=lambda p: -p[0])


def _default_kernel(name, peaks, arch):
    if name.endswith("32") and peaks.get(f"{name[:-2]}_kernel"):
        k = peaks[name[:-2] + "_kernel"]  # the float64 kernel's label, in float32
        return k.replace("float64", "float32") if "float64" in k else f"{k}, float32"
    if name != "gemm":
        return f"{name} kernel"
    how = f"float64 GEMM, n = {peaks['gemm_n']}" if peaks.get("gemm_n") else "float64 GEMM"
    return f"{how}, OpenBLAS's {arch} kernel" if arch else f"{how}, NumPy's BLAS"


def blas_arch(header):
    for b in header.get("machine_info", {}).get("blas", []) or []:
        if b.get("internal_api") == "openblas" and b.get("architecture"):
            return b["architecture"]
    return None


def _cpu(mi):
    cpu = mi.get("cpu", {}) or {}
    name = cpu.get("brand_raw") or mi.get("processor") or "unknown CPU"
    fam = _join(cpu.get("vendor") or cpu.get("vendor_id"),
                cpu.get("family") is not None and f"family {cpu['family']}",
                cpu.get("model") is not None and f"model {cpu['model']}")
    mhz = cpu.get("mhz") or cpu.get("MHz") or cpu.get("hz_advertised")
    simd = cpu.get("simd") or cpu.get("SIMD")
    if isinstance(simd, (list, tuple)):
        simd = " ".join(simd)
    return _join(name, fam, mhz and f"{float(mhz):,.0f} MHz",
                 cpu.get("count") and f"{cpu['count']} logical cores", simd and f"SIMD: {simd}")


def _peers(header):
    mi = header.get("machine_info", {})
    peers = mi.get("peers") or header.get("peers") or {}
    return _join(*(f"{k} {v}" if v else f"{k} (not installed)" for k, v in peers.items()),
                 sep="; ") or "–"


def _real_id(header):
    """The header's run id, unless the loader derived it from an old file's content."""
    rid = header.get("run_id")
    derive = getattr(store, "derived_run_id", None)
    if not rid or (derive and rid == derive({k: v for k, v in header.items() if k != "run_id"})):
        return None
    return rid


def _memory(m):
    """The transparent-huge-page settings and NumPy's huge-page advice, in words."""
    if not m:
        return None
    advice = m.get("numpy_madvise_hugepage")
    return _join(m.get("thp_enabled") and f"transparent huge pages {m['thp_enabled']}",
                 m.get("thp_defrag") and f"defrag {m['thp_defrag']}",
                 advice is not None and ("NumPy advises huge pages for large arrays" if advice
                                         else "NumPy does not advise huge pages"), sep="; ")


def machine_md(header):
    """The machine facts of one run as a list (a table cell would hold a paragraph): only the
    fields the header has."""
    mi = header.get("machine_info", {})
    pk = header.get("peaks", {})
    comp = header.get("compile", {})
    ci = header.get("commit_info", {})
    cps = compute_peaks(pk, blas_arch(header)) + compute_peaks(pk, blas_arch(header), "float32")
    peaks = _join(*(f"{g:.1f} GFLOP/s ({w})" for g, w in cps),
                  pk.get("peak_gbs") and f"{pk['peak_gbs']:.1f} GB/s (streaming copy)", sep="; ")
    rows = [
        ("CPU", _cpu(mi)),
        ("OS", _join(mi.get("system"), mi.get("release"), sep=" ")),
        ("Python / NumPy / Numba / llvmlite",
         _join(mi.get("python_version"), mi.get("numpy"), mi.get("numba"), mi.get("llvmlite"),
               sep=" / ")),
        ("Peers", _peers(header)),
        ("BLAS (threadpoolctl)", _blas(mi)),
        ("OPENBLAS_* variables", _join(*(f"{k}={v}" for k, v in
                                         (mi.get("openblas_env") or {}).items())) or "none"),
        ("Numba threads / layer", _join(mi.get("numba_threads"),
                                        mi.get("numba_threading_layer"), sep=" / ")),
        ("Memory for large arrays", _memory(mi.get("memory"))),
        ("Measured peaks", peaks),
        ("Numba compile (new process)", comp and _join(
            comp.get("compile_cold_s") is not None and f"cold {fmt_s(comp['compile_cold_s'])}",
            comp.get("compile_cached_s") is not None and
            f"cached {fmt_s(comp['compile_cached_s'])}")),
        ("Commit", ci.get("id") and (ci["id"][:10] + (" (uncommitted changes)"
                                                      if ci.get("dirty") else ""))),
        ("Run", _join(_real_id(header) and f"id {header['run_id']}", header.get("datetime"),
                      header.get("command") and f"`{header['command']}`", sep=" — ")),
    ]
    rows = [(k, v) for k, v in rows if v not in (None, "", False)]
    return "\n".join(f"- **{k}:** {v}" for k, v in rows) or "_No machine facts recorded._"


# --- caveats ----------------------------------------------------------------------------------

def _examples(msgs, n=2):
    msgs = msgs.dropna().astype(str)
    msgs = msgs[msgs != ""].value_counts().index[:n]
    return "".join(f"\n  - e.g. “{m}”" for m in msgs)


def caveats(df):
    """Bullets on what the data itself says about its reliability."""
    out = []
    dist = measured(df)[disturbed(measured(df))]
    if len(dist):
        out.append(f"- {len(dist)} cells were measured while the machine was busy and are not "
                   "used for any ratio, fit or conclusion (hollow markers in the figures): "
                   + "; ".join(f"{b} at m = {m:,} ({n} cells)" for (b, m), n in
                               dist.groupby(["backend", "m"]).size().items()) + ".")
    ok = reliable(df)
    if len(ok):
        rel = ok.iqr_s / ok.median_s
        noisy = ok.assign(rel=rel)[rel > 0.2].sort_values("rel", ascending=False)
        if len(noisy):
            out.append(f"- {len(noisy)} of {len(ok)} measured cells are noisy: their interquartile "
                       "range exceeds 20 % of the median. Worst: " + "; ".join(
                           f"{describe_cell(r)} ({100 * r.rel:.0f} %)"
                           for r in noisy.head(5).itertuples()) + ".")
        if "workers_disagree" in ok:
            split = ok[ok.workers_disagree.fillna("").astype(str) != ""]
            if len(split):
                out.append(f"- {len(split)} cells were measured in several worker processes "
                           "whose medians differ by more than each worker's own spread (the "
                           "cell's time is the median of all their values; the spread between "
                           "workers is what a quoted interval must cover): " + "; ".join(
                               f"{describe_cell(r)}: {r.workers_disagree}"
                               for r in split.head(5).itertuples()) + ".")
        if "working_set_bytes" in ok:
            over = _over_model(ok)
            if len(over):
                out.append(f"- {len(over)} cells' measured step memory exceeded their "
                           f"backend's working-set model (grid.working_set_bytes) by more than "
                           f"{100 * MODEL_SLACK:.0f} % and {MODEL_FLOOR >> 20} MiB, which the "
                           "harness uses to skip a cell that would not fit; the largest excess "
                           "first: " + "; ".join(
                               f"{describe_cell(r)} ({r.step / 2**20:,.0f} MiB measured, "
                               f"{r.working_set_bytes / 2**20:,.0f} MiB modelled)"
                               for r in over.head(5).itertuples()) + ".")
        multi = ok[ok.n_modes.fillna(0) > 1] if "n_modes" in ok else ok.iloc[:0]
        if len(multi):
            out.append(f"- {len(multi)} {'cells are' if len(multi) > 1 else 'cell is'} "
                       "multimodal: their values fall into groups "
                       "more than 25 % apart, so their median depends on which group a run "
                       "hit: " + "; ".join(describe_cell(r) for r in multi.head(5).itertuples())
                       + ".")
    for status, what in (("over_budget", "were over their time budget, so they were predicted, "
                                         "not measured (dashed in the time-vs-m figure)"),
                         ("skipped", "were skipped by declaration"),
                         ("failed", "failed"),
                         ("wrong", "disagreed with the reference and were not timed")):
        sel = df[df.status == status]
        if len(sel):
            out.append(f"- {len(sel)} cells {what}." + _examples(sel.message))
    return "\n".join(out) or "- None found in the data."


# --- headline ---------------------------------------------------------------------------------

def _pick_threads(g):
    return g[g.threads == 0] if (g.threads == 0).any() else g[g.threads == g.threads.min()]


def paired_text(pairs, nx, nh, m, base, threads, apart=None, op=STEP, dtype="float64",
                base_dtype=None, notes=None):
    """The comparison of ``base`` against the headline backend at one op, shape and thread
    count as a cell: "R× [lo–hi]" and a one-word link per flag (its note added to ``notes``);
    without a comparison, the ratio of the medians ``apart`` marked "(unpaired)", else "–".
    ``dtype`` is the contender's, ``base_dtype`` the baseline's (default: the same)."""
    p = find(pairs, nx, nh, m, base, op=op, dtype=dtype, baseline_dtype=base_dtype,
             threads=threads)
    if p is None:
        return f"{fmt_ratio(apart)} (unpaired)" if apart is not None else "–"
    return (notes or Notes()).cell(p, cases_of(pairs, p))


#: A cell's step memory is said to exceed its model beyond this share and this many bytes
#: (below them: page granularity, the interpreter's own allocations).
MODEL_SLACK = 0.10
MODEL_FLOOR = 8 * 2**20


def _over_model(ok):
    """The cells whose measured step memory (``mem_step_bytes``; in a run before it was
    recorded, X and Y plus the call's peak extra) exceeds their working-set model by more than
    :data:`MODEL_SLACK` and :data:`MODEL_FLOOR`, largest excess first, with a ``step`` column."""
    step = pd.to_numeric(ok.get("mem_step_bytes"), errors="coerce") if "mem_step_bytes" in ok \
        else pd.Series(np.nan, index=ok.index)
    extra = np.fmax(pd.to_numeric(ok.mem_rss_bytes, errors="coerce"),
                    pd.to_numeric(ok.mem_traced_bytes, errors="coerce"))
    item = np.where(ok.dtype.astype(str) == "float32", 4, 8)
    step = step.where(step.notna(), extra + item * ok.m * (ok.n_x + ok.n_y))
    model = pd.to_numeric(ok.working_set_bytes, errors="coerce")
    excess = step - model
    sel = (excess > MODEL_SLACK * model) & (excess > MODEL_FLOOR)
    return ok.assign(step=step, excess=excess)[sel].sort_values("excess", ascending=False)


def _table(shapes, d, ok, column, fill, empty, first=None):
    """The headline tables' one row builder: a row per shape (n_x, n_h, m[, steps]) starting
    with its ``shape``; where the headline backend has a reliable cell, ``fill(row, g, t,
    shape)`` adds the columns (g: the cells there, t: their times by backend), else ``column``
    says why it has no number. ``empty``: the table's text when no shape is declared;
    ``first(shape)``: columns that follow ``shape`` in every row."""
    rows = []
    for shape in shapes:
        nx, nh, m = shape[:3]
        row = {"shape": f"n_x={nx}, n_h={nh}, m={m:,}", **(first(shape) if first else {})}
        g, t = _at(d, ok, nx, nh, m, row, column)
        if g is not None:
            fill(row, g, t, shape)
        rows.append(row)
    return md_table(pd.DataFrame(rows).fillna("–"), empty)


def headline(df, peaks_gflops, peak_gbs, pairs=None, ceiling=None, fma_gflops=None,
             notes=None):
    """One row per target shape: the headline backend's speed-ups over the reference and the
    peers, and its share of the peaks; a shape without a reliable headline cell says why.

    ``pairs`` (from ``paired.json``): speed-ups measured by paired A/B rounds, shown with their
    95 % interval in place of the ratio of two separately measured medians. ``ceiling`` (the
    header's): the step's own ceiling time, as a percentage reached; ``fma_gflops``: the
    machine's float64 FMA peak, which prices the multiply-adds."""
    def fill(row, g, t, shape):
        nx, nh, m = shape
        row[f"{HEADLINE} time (cell median)"] = fmt_s(t[HEADLINE])
        row.update(_speedups(df, g, t, pairs, nx, nh, m, STEP, notes))
        nb = g[g.backend == HEADLINE].iloc[0]
        if ceiling:
            row["% of the step's ceiling"] = _share_of_ceiling(
                ceiling, nx, nh, m, "float64", fma_gflops, t[HEADLINE])
        if peaks_gflops:
            row["GFLOP/s (% of peak)"] = f"{nb.gflops:.1f} ({100 * nb.gflops / peaks_gflops:.0f} %)"
        if peak_gbs:
            row["GB/s (% of peak)"] = f"{nb.gbs:.2f} ({100 * nb.gbs / peak_gbs:.1f} %)"
    return _table(TARGETS, *_target_cells(df, STEP), f"{HEADLINE} time (cell median)", fill,
                  "No target shapes are declared.")


def _share_of_ceiling(ceiling, nx, nh, m, dtype, fma_gflops, t):
    """The step's ceiling time at one shape as a percentage of the measured time ``t`` ("–"
    where there is none: BLAS-width inputs, or no ceiling for ``dtype``). ``fma_gflops``: the
    machine's FMA peak in ``dtype``, which prices the multiply-adds."""
    c = ceiling_s(ceiling, m, nh, nx, dtype, fma_gflops)
    if not c:
        return "–"
    if c > t:  # faster than its own ceiling: the ceiling was under-measured, not beaten
        return f"{100 * c / t:.0f} % (ceiling under-measured)"
    return f"{100 * c / t:.0f} %"


def headline_float32(df, pairs=None, ceiling=None, fma32_gflops=None, notes=None):
    """One row per :data:`FLOAT32_TARGETS` shape: the headline backend's float32 step, its own
    float64 step there, and how many times faster the float32 step is than both and than the
    reference's float32 step (paired, with their interval, as in :func:`headline`); its share of
    the float32 ceiling. A shape without a reliable float32 cell says why."""
    d = df[(df.op == STEP) & (df.hidden == "tanh") & (df.dtype == "float32")]
    ok64 = reliable(_target_cells(df, STEP)[0])

    def fill(row, g, t, shape):
        nx, nh, m = shape
        th = int(g.threads.iloc[0])
        row[f"{HEADLINE} float32"] = fmt_s(t[HEADLINE])
        h64 = ok64[(ok64.n_x == nx) & (ok64.n_h == nh) & (ok64.m == m)
                   & (ok64.backend == HEADLINE) & (ok64.threads == th)].median_s
        row[f"{HEADLINE} float64"] = fmt_s(h64.iloc[0]) if len(h64) else "–"
        apart = h64.iloc[0] / t[HEADLINE] if len(h64) else None
        row["speed-up over its float64 step"] = paired_text(
            pairs, nx, nh, m, HEADLINE, th, apart, STEP, "float32", "float64", notes=notes)
        apart = t[REFERENCE] / t[HEADLINE] if REFERENCE in t.index else None
        row[f"speed-up over {REFERENCE} float32"] = paired_text(
            pairs, nx, nh, m, REFERENCE, th, apart, STEP, "float32", notes=notes)
        if ceiling:
            row["% of the float32 ceiling"] = _share_of_ceiling(
                ceiling, nx, nh, m, "float32", fma32_gflops, t[HEADLINE])
    return _table(FLOAT32_TARGETS, d, reliable(d), f"{HEADLINE} float32", fill,
                  "No float32 target shapes are declared.")


def headline_fit(df, pairs=None, notes=None):
    """One row per training-run target (:data:`FIT_TARGETS`): the steps of one run, the
    headline backend's time per step and for the whole run, and its speed-ups over the reference
    and the peers (paired, with their interval, as in :func:`headline`); a shape without a
    reliable headline cell says why."""
    def fill(row, g, t, shape):
        nx, nh, m, _ = shape
        steps = int(g[g.backend == HEADLINE].steps.iloc[0])  # what was run
        row.update({"steps": f"{steps:,}", f"{HEADLINE} per step": fmt_s(t[HEADLINE]),
                    f"{HEADLINE} whole run": fmt_s(steps * t[HEADLINE])})
        row.update(_speedups(df, g, t, pairs, nx, nh, m, FIT, notes))
    return _table(FIT_TARGETS, *_target_cells(df, FIT), f"{HEADLINE} per step", fill,
                  "No training-run targets are declared.", lambda s: {"steps": f"{s[3]:,}"})


def _target_cells(df, op):
    """The cells of ``op`` a headline table reads (tanh, float64), and the reliable ones."""
    d = df[(df.op == op) & (df.hidden == "tanh") & (df.dtype == "float64")]
    return d, reliable(d)


def _at(d, ok, nx, nh, m, row, column):
    """(reliable cells at one shape and thread count, their times by backend), or (None, None)
    after writing into ``row[column]`` why the headline backend has no number there."""
    here = ok[(ok.n_x == nx) & (ok.n_h == nh) & (ok.m == m)]
    g = _pick_threads(here) if len(here) else here
    t = g.set_index("backend").median_s
    if HEADLINE in t.index:
        return g, t
    row[column] = _why_missing(d[(d.n_x == nx) & (d.n_h == nh) & (d.m == m)
                                 & (d.backend == HEADLINE)])
    return None, None


def _speedups(df, g, t, pairs, nx, nh, m, op, notes=None):
    """{"speed-up over B": cell} for the reference, the other backends the headline one is
    compared with and each peer in ``df``: the comparison with its interval and flag words,
    else the ratio of the medians (unpaired), else "–"."""
    from ..backends import REGISTRY
    out = {}
    th = int(g.threads.iloc[0])
    own = [b for b in REGISTRY[HEADLINE].compare_to if not REGISTRY[b].per_example]
    for base in [b for b in dict.fromkeys((REFERENCE, *own) + names(peers=True))
                 if b in set(df.backend)]:
        apart = t[base] / t[HEADLINE] if base in t.index else None
        if find(pairs, nx, nh, m, base, op=op, threads=th) is None and apart is None:
            continue
        out[f"speed-up over {base}"] = paired_text(pairs, nx, nh, m, base, th, apart, op,
                                                   notes=notes)
    return out


def _why_missing(cells):
    """Why a target shape has no headline number: predicted, busy, failed or absent."""
    if cells.empty:
        return "not in these results"
    pred = cells[cells.status == "over_budget"]
    if len(pred):
        p = pd.to_numeric(pred.predicted_s, errors="coerce").dropna()
        return f"not measured: predicted {fmt_s(p.iloc[0])}" if len(p) else "not measured"
    if (disturbed(cells) & (cells.status == "ok")).any():
        return "measured while the machine was busy: not used"
    return f"not measured ({cells.status.iloc[0]})"


def overhead_sentence(knees, factor=OVERHEAD_FACTOR):
    """One sentence on where per-call overhead dominates a training run's step, from
    :func:`.select.overhead_knees` (at its smallest n_h, where overhead shows most); "" when
    there is no line with two measured m."""
    if knees.empty:
        return ""
    nh = int(knees.n_h.min())
    k = knees[knees.n_h == nh].sort_values(["flat", "m_knee", "backend"],
                                           ascending=[False, False, True])
    where = [f"at every m measured (to m = {r.m_max:,})" if r.flat else
             f"up to m = {r.m_knee:,}" for r in k.itertuples()]
    parts = [f"{w} on {_and(list(k.backend[[x == w for x in where]]))}"
             for w in dict.fromkeys(where)]
    listed = _and(parts)
    tail = ("" if k.flat.all() else "; beyond, it grows with m: the kernel's work dominates")
    return (f"At n_h = {nh}, per-call overhead dominates a training run's step {listed} (its "
            f"time stays within {factor:g}× of its value at the smallest m){tail}.")


def _and(words):
    """"a, b and c"."""
    return ", ".join(words[:-1]) + (" and " if len(words) > 1 else "") + words[-1]
