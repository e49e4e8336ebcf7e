"""The words of the harness's codes: why a cell was not measured and what to know about one that
was (:mod:`fastnn.bench.codes`), whose workers disagreed, and which contention thresholds a cell
or a group of rounds exceeded.

The harness stores codes and numbers; this module is where they become words, one template per
code. A record of an older file carries its words instead (``message``, ``workers_disagree``,
the contention ``reason``): they are shown as they are.
"""

from __future__ import annotations

from .. import fmt
from ..backends import REFERENCE
from ..bench import contention
from ..bench.codes import Why
from ..bench.grid import FIT_OP, Cell

#: How an older file's note of a training run checked on its first steps only begins (newer
#: records say it with the ``partial_fit_check`` code).
OLD_PARTIAL_CHECK = "checked on the first"

#: One template per code; the fields are the code's numbers, worded (:func:`words`).
TEMPLATES = {
    Why.UNSUPPORTED.value: "{backend} does not implement {what} {value!r}",
    Why.FEW_EXAMPLES.value: "{backend} needs at least {min_m} examples (m = {m:,})",
    Why.FIXED_THREADS.value: ("{backend} fixes its thread count at start-up; only 'all cores' "
                              "is measured"),
    Why.MEMORY.value: ("working set ~{need} GiB ({model} model) exceeds the memory limit, "
                       "{limit} GiB here"),
    Why.OVER_BUDGET.value: "not measured: predicted {per} ({how}); {calls} {runs} exceed the "
                           "{budget} budget",
    Why.DIVERGED.value: ("the training run diverged at step {step} of {steps} (its cost is not "
                         "finite): it has no time per step"),
    Why.ERROR.value: "{error}: {text}",
    Why.INVALID_RECORD.value: "invalid measurement record: it {problem}",
    Why.DISAGREES.value: "disagrees with {reference} ({diff}){onset}",
    Why.PREFIX_CHECK.value: ("checked against {reference} on the first {m_check:,} examples "
                             "({reference}'s working set at m = {m:,} exceeds this machine's "
                             "memory limit)"),
    Why.PARTIAL_FIT_CHECK.value: (OLD_PARTIAL_CHECK + " {onset:,} of {steps:,} steps (costs): "
                                  "beyond, {reference}'s own run is chaotic here (a "
                                  "rounding-level change of the initial parameters changes it "
                                  "by more than the tolerance)"),
    Why.FURTHER_WORKER.value: "a further worker: {status}{why}",
}
#: How an over-budget time was predicted, by its ``source``.
PREDICTED = {
    "smaller_m": "from the largest smaller m measured",
    "probe": "from a probe at a 100× smaller m",
    "probe_fit": "from probe runs of 1 and {probe_steps} steps at m = {probe_m:,}",
}
LINEAR = ", linear in m"
ONSET = ", and already in the first {onset:,} steps"
#: A contention fact over its threshold, by the fact's name (:func:`.contention.exceeded`).
CONTENTION = {
    "others_cpus": "other processes used {value:.2f} CPUs (> {limit:g}) during the cell",
    "steal": "the hypervisor stole {percent} of CPU time (> {limit_percent})",
    "probe_ratio": "the reference probe took {value:.1f}× its quiet time (> {limit:g}×)",
}
WORKERS = ("its {n} workers disagree: medians {medians} s (spread {spread}, beyond their own "
           "IQR of at most {own})")


def _fields(w, rec):
    """A why's numbers, and its cell's backend, as the fields its template names."""
    code, f = w.get("code"), dict(w, backend=rec.get("backend", ""))
    f.setdefault("reference", REFERENCE)
    if code == Why.UNSUPPORTED.value:
        f["what"] = "hidden activation" if f.get("what") == "hidden" else f.get("what")
    elif code == Why.MEMORY.value:
        f.update(need=f"{f['need_bytes'] / 2**30:.1f}", limit=f"{f['limit_bytes'] / 2**30:.1f}")
    elif code == Why.OVER_BUDGET.value:
        fit = rec.get("op") == FIT_OP
        pred = fmt.seconds(f.get("predicted_s"))
        f["per"] = (f"{pred} per step × {f['steps']:,} steps per run" if fit else
                    f"{pred} per call")
        how = PREDICTED["probe_fit" if fit and f.get("source") == "probe" else f.get("source")]
        f["how"] = how.format(**f) + (LINEAR if f.get("linear") else "")
        f.update(runs="runs" if fit else "calls", budget=fmt.seconds(f.get("budget_s")))
    elif code == Why.DISAGREES.value:
        d = f.get("max_diff")
        f["diff"] = "the shapes differ" if d is None else f"max abs diff {d:.3g}"
        f["onset"] = ONSET.format(onset=f["onset"]) if f.get("onset") else ""
    elif code == Why.FURTHER_WORKER.value:
        inner = f.get("why")
        f["why"] = f" ({words(inner, rec)})" if inner else ""
    return f


def words(w, rec=None):
    """The words of one why or note ``w`` (a :func:`.codes.why` dict) of the cell record (or
    cell parameters) ``rec``, whose ``backend`` and ``op`` it may name; an older file's text (a
    str) as it is; "" for None.

    Raises
    ------
    TypeError
        ``w`` is neither a dict, a str nor None.
    ValueError
        ``w`` has a code this module does not word.
    """
    if w is None or isinstance(w, str):
        return w or ""
    if not isinstance(w, dict):
        raise TypeError(f"a why is a dict with a code, got {type(w).__name__}")
    template = TEMPLATES.get(w.get("code"))
    if template is None:
        raise ValueError(f"no words for code {w.get('code')!r}")
    return template.format(**_fields(w, rec or {}))


def message(rec):
    """A cell record's words: its ``why``, else its ``notes`` joined by "; ", else the
    ``message`` an older file stored (as it is)."""
    if rec.get("why"):
        return words(rec["why"], rec)
    if rec.get("notes"):
        return "; ".join(words(n, rec) for n in rec["notes"])
    return rec.get("message") or ""


def workers_apart(rec):
    """Why a cell's workers disagree, or "": its workers' medians, their spread and their own
    IQR; an older file's ``workers_disagree`` as it is."""
    if isinstance(rec.get("workers_disagree"), str) and rec["workers_disagree"]:
        return rec["workers_disagree"]
    if not rec.get("workers_apart"):
        return ""
    meds = [w["median_s"] for w in rec.get("workers") or ()]
    return WORKERS.format(n=len(meds), medians=", ".join(f"{m:.3g}" for m in meds),
                          spread=fmt.percent(rec.get("workers_spread")),
                          own=fmt.percent(rec.get("workers_iqr")))


def apart_lines(cells):
    """A line per cell record whose workers disagree: the cell, then :func:`workers_apart`
    (what ``fastnn bench`` says at the end of a sweep)."""
    from .tables import describe_cell
    return [f"{describe_cell(Cell.of(r))}: {workers_apart(r)}" for r in cells
            if workers_apart(r)]


def over(facts):
    """The contention thresholds exceeded, worded and joined by "; ": ``facts`` is a
    :func:`.contention.exceeded` dict ``{fact: value}``."""
    limits = contention.thresholds()
    out = []
    for k, v in (facts or {}).items():
        out.append(CONTENTION[k].format(value=v, limit=limits[k], percent=fmt.percent(v),
                                        limit_percent=fmt.percent(limits[k])))
    return "; ".join(out)


def contention_words(con):
    """A cell's contention facts (its ``contention`` dict) as words: the thresholds exceeded,
    or an older file's ``reason``; "" when quiet or not read."""
    if not isinstance(con, dict):
        return ""
    return over(con.get("over")) if con.get("over") else (con.get("reason") or "")


def busy(c):
    """Why a comparison's rounds were busy: its ``over`` worded, or an older file's
    ``reason``."""
    return over(c.over) if getattr(c, "over", None) else (c.reason or "")


def partial_check(rec):
    """True when a training run's check compared its first costs only (the
    ``partial_fit_check`` note, or an older file's note saying so)."""
    if any((n or {}).get("code") == Why.PARTIAL_FIT_CHECK.value for n in rec.get("notes") or ()):
        return True
    return (rec.get("message") or "").startswith(OLD_PARTIAL_CHECK)


__all__ = ["CONTENTION", "PREDICTED", "TEMPLATES", "apart_lines", "busy", "contention_words", "message", "over",
           "partial_check", "words", "workers_apart"]
