"""Several results folders in one report: the shards of one run merged, or two runs of the same
grid compared cell by cell (run to run).

A sharded run (``fastnn bench --shard K/N``, each part maybe on another machine) is one run whose
shapes are spread over N folders: :func:`shards` recognises it and :func:`where_table` says which
machine each shape ran on. Two runs of the same grid on the same machine should agree within
their spread: :func:`run_to_run` puts each time and each ratio of both runs side by side.
"""

from __future__ import annotations

import math

import pandas as pd

from .. import fmt
from ..backends import REFERENCE, comparisons
from ..bench.stats import Flag
from . import select as S
from .text import fmt_ratio, fmt_s, md_table

#: Two runs agree on a time or a ratio when the second is within this fraction of the first.
AGREE = 0.10


def shards(headers):
    """True when the headers are the N parts of one sharded run of one grid (each K once)."""
    parts = [h.get("shard") for h in headers]
    if len(headers) < 2 or not all(isinstance(p, dict) for p in parts):
        return False
    return (len({h.get("grid") for h in headers}) == 1 and len({p["n"] for p in parts}) == 1
            and len({p["k"] for p in parts}) == len(parts))


def where_table(frames):
    """Which folder and machine each shape ran on: ``frames`` is [(label, header, frame)]."""
    rows = []
    for label, h, df in frames:
        mi = h.get("machine_info", {})
        cpu = mi.get("cpu", {}).get("brand_raw") or mi.get("processor") or "?"
        for (op, nx, nh, m), _ in df.groupby(["op", "n_x", "n_h", "m"]):
            rows.append({"op": op, "n_x": nx, "n_h": nh, "m": f"{m:,}",
                         "shard": f"{h['shard']['k']}/{h['shard']['n']}", "folder": label,
                         "machine": f"{mi.get('node', '?')} ({cpu})"})
    return md_table(pd.DataFrame(rows), "no shapes")


def _agree(a, b):
    return abs(b / a - 1) <= AGREE


def _unimodal(d):
    return d[d.n_modes.fillna(0) <= 1] if "n_modes" in d else d


def machine_drift(headers):
    """Markdown: the machine's own measurements in each run's header (FMA and GEMM peaks,
    streaming copy, the contention probe's quiet time), second ÷ first, and a sentence when one
    moved by more than ±:data:`AGREE`: then the machine itself ran at another speed, and a time
    that moved with it is the machine's drift, not the harness's noise."""
    def facts(h):
        pk, probe = h.get("peaks", {}), h.get("contention_probe", {})
        return {"FMA peak (GFLOP/s)": pk.get("fma_gflops"), "GEMM (GFLOP/s)": pk.get("gemm_gflops"),
                "streaming copy (GB/s)": pk.get("peak_gbs"),
                "contention probe, quiet (ms)": probe.get("probe_quiet_s") and
                1e3 * probe["probe_quiet_s"]}
    (la, ha), (lb, hb) = headers[:2]
    fa, fb = facts(ha), facts(hb)
    rows, moved = [], []
    for k in fa:
        if fa[k] and fb[k]:
            r = fb[k] / fa[k]
            rows.append({"the machine's own": k, la: f"{fa[k]:.3g}", lb: f"{fb[k]:.3g}",
                         "second ÷ first": f"{r:.3f}"})
            if abs(r - 1) > AGREE:
                moved.append(f"{k} {r:.2f}×")
    if not rows:
        return ""
    text = ["The machine itself, measured at the start of each run:\n",
            md_table(pd.DataFrame(rows), "")]
    if moved:
        text.append(f"\n**The machine ran at another speed in the second run** ({', '.join(moved)}):"
                    " times that moved by as much reflect the machine, not the measurement; "
                    "ratios between backends measured in the same run (above all the paired "
                    "ones) are what to compare.\n")
    return "\n".join(text) + "\n"


def run_to_run(both, labels, pairs=(None, None)):
    """Markdown: every cell measured on a quiet machine in both runs (time in each, second ÷
    first, whether they agree within ±:data:`AGREE`), every ratio between two backends'
    cells at one shape (unpaired, from the medians), and every paired ratio both runs measured;
    a sentence counts the agreements among unimodal cells (a multimodal cell, whose values fall
    into groups, is listed but not counted: its median depends on which group the run hit)."""
    keys = ["backend", *S.KEYS]
    a, b = (S.reliable(both[both.source == lab]).set_index(keys) for lab in labels[:2])
    common = a.index.intersection(b.index)
    if not len(common):
        return "_The two runs share no cell measured on a quiet machine._\n"
    uni = set(_unimodal(a.loc[common]).index) & set(_unimodal(b.loc[common]).index)
    rows, n_ok, n = [], 0, 0
    for k in common:
        ta, tb = a.loc[k].median_s, b.loc[k].median_s
        ok = _agree(ta, tb)
        n, n_ok = n + (k in uni), n_ok + (k in uni and ok)
        rows.append({"backend": k[0], "op": k[1], "m": f"{k[2]:,}", "n_h": k[3], "n_x": k[4],
                     "dtype": k[5], labels[0]: fmt_s(ta), labels[1]: fmt_s(tb),
                     "second ÷ first": f"{tb / ta:.3f}",
                     "agree": ("yes" if ok else "**no**") + ("" if k in uni else " (multimodal)")})
    ratios, r_ok, r_n = [], 0, 0
    shapes = {k[1:] for k in common}
    for shape in sorted(shapes, key=str):
        present = [k[0] for k in common if k[1:] == shape]
        for base, cont in comparisons(present):
            ka, kc = (base, *shape), (cont, *shape)
            ra = a.loc[ka].median_s / a.loc[kc].median_s
            rb = b.loc[ka].median_s / b.loc[kc].median_s
            ok = _agree(ra, rb)
            counted = ka in uni and kc in uni
            r_n, r_ok = r_n + counted, r_ok + (counted and ok)
            ratios.append({"ratio": f"{base} ÷ {cont}", "op": shape[0], "m": f"{shape[1]:,}",
                           "n_h": shape[2], "n_x": shape[3], "dtype": shape[4],
                           labels[0]: fmt_ratio(ra),
                           labels[1]: fmt_ratio(rb), "second ÷ first": f"{rb / ra:.3f}",
                           "agree": ("yes" if ok else "**no**")
                           + ("" if counted else " (multimodal)")})
    text = [compared(pairs[0], pairs[1], labels),
            f"Cells measured apart, `{labels[0]}` then `{labels[1]}`: {n_ok} of {n} unimodal "
            f"cells' times and {r_ok} of {r_n} ratios between unimodal cells agree within "
            f"±{100 * AGREE:.0f} %.\n",
            "#### Times\n", md_table(pd.DataFrame(rows), ""),
            "\n#### Ratios of medians at one shape (above 1: the second backend is faster)\n",
            md_table(pd.DataFrame(ratios), "no shape has two backends in both runs")]
    return "\n".join(text) + "\n"


def _key(c):
    return (c.kind, c.op, c.n_x, c.n_h, c.m, c.baseline, c.baseline_dtype, c.baseline_threads,
            c.contender, c.dtype, c.contender_threads, c.case)


def _groups(d, k):
    """The comparisons of base key ``k`` (case "") in ``d``: its memory cases where the baseline's
    rounds split (flag ``cases``), else the one over all rounds."""
    split = [x for x in d.values() if _key(x)[:-1] == k[:-1] and x.case]
    return split if Flag.CASES.value in d[k].flags and split else [d[k]]


def _state_s(c):
    """The time of the side whose rounds were split into memory cases: the baseline of a
    headline comparison; NumPy's rung in a ladder factor (its contender in the factor into it,
    :func:`.paired._ladder_cases`)."""
    return c.t_contender_s if c.kind == "factor" and c.contender == REFERENCE else c.t_baseline_s


def _nearest(c, others):
    """The comparison among ``others`` whose split side's time (:func:`_state_s`) is nearest
    ``c``'s, in log: the same memory state, told apart by that side's own time, not by the
    ratio compared."""
    def gap(o):
        if _state_s(c) > 0 and _state_s(o) > 0:
            return abs(math.log(_state_s(o) / _state_s(c)))
        return math.inf
    return min(others, key=gap)


def agreement(first, second):
    """[(key, comparison in the first run, in the second, second ÷ first, agree)] for every
    headline comparison and ladder factor both runs measured, of two
    :class:`~fastnn.bench.records.PairedDoc`.

    Where a baseline's rounds fell into memory cases (:func:`.stats.cases`), a ratio over all
    rounds depends on how many rounds fell in each, so cases are compared instead: by name where
    both runs give the same cases (both unsplit included); else each case (or the whole,
    unsplit run) of the run with fewer is matched with the other run's case (or whole) whose
    split side's time is nearest (:func:`_nearest`), the memory state both runs saw."""
    a = {_key(c): c for c in (first.pairs + first.ladder) if c.kind != "direct"}
    b = {_key(c): c for c in (second.pairs + second.ladder) if c.kind != "direct"}
    out = []
    for k in [k for k in a if not k[-1] and k in b]:
        ga, gb = _groups(a, k), _groups(b, k)
        # the other run's candidates add its whole where it split: a case of a single round
        # is not kept, and the whole (its minimum) is then the only comparison in that state
        ca, cb = ga + [a[k]] * (ga[0] is not a[k]), gb + [b[k]] * (gb[0] is not b[k])
        if [x.case for x in ga] == [y.case for y in gb]:
            pairs = list(zip(ga, gb))
        elif (len(ga), len(ca)) <= (len(gb), len(cb)):
            pairs = [(x, _nearest(x, cb)) for x in ga]
        else:
            pairs = [(_nearest(y, ca), y) for y in gb]
        for x, y in pairs:
            out.append((_key(y if y.case else x), x, y, y.ratio / x.ratio,
                        _agree(x.ratio, y.ratio)))
    return out


def _moved(a, b):
    """A side's time, second run over first ("1.02"), or "–" where either is not recorded."""
    return f"{b / a:.3f}" if a and b and a > 0 and b > 0 else "–"


def compared(first, second, labels):
    """The run-to-run table of the two runs' comparisons (:func:`agreement`), with a count."""
    from .notes import label
    if first is None or second is None:
        return ""
    rows = agreement(first, second)
    if not rows:
        return "_The two runs share no headline comparison or ladder factor._\n"
    ok = sum(r[4] for r in rows)
    lines = [f"{ok} of {len(rows)} headline ratios and ladder factors agree within "
             f"±{100 * AGREE:.0f} %, `{labels[0]}` then `{labels[1]}` (a baseline's memory "
             "cases each on its own: by name where both runs split its rounds into as many "
             "cases, else matched by the baseline's time):\n",
             "Each side's own time is set beside the ratio, second run over first, so that a "
             "ratio that moved names the side that moved.\n",
             f"| comparison | {labels[0]} | {labels[1]} | second ÷ first | agree | "
             "baseline's time, second ÷ first | contender's time, second ÷ first |",
             "|---|---|---|---|---|---|---|"]
    for k, x, y, r, good in rows:
        lines.append(f"| {label(y if y.case else x)} | {fmt.speed(x.ratio, x.lo, x.hi)} | "
                     f"{fmt.speed(y.ratio, y.lo, y.hi)} | {r:.3f} | "
                     f"{'yes' if good else '**no**'} | {_moved(x.t_baseline_s, y.t_baseline_s)} | "
                     f"{_moved(x.t_contender_s, y.t_contender_s)} |")
    return "\n".join(lines) + "\n"


__all__ = ["AGREE", "agreement", "compared", "machine_drift", "run_to_run", "shards", "where_table"]
