"""The report on training runs (op ``fit``): the figure's data and its knees, the sentence
saying where per-call overhead dominates, the headline table, and a whole report."""

import json

import pandas as pd

from fastnn.backends import HEADLINE, REFERENCE
from fastnn.bench import grid as G
from fastnn.report import select as S
from fastnn.report.text import fmt_s, headline_fit, overhead_sentence

FIT = G.FIT_OP


def _cell(backend, m, n_h, t, op=FIT, status="ok", disturbed=False, steps=100, **kw):
    rec = dict(backend=backend, op=op, m=m, n_h=n_h, n_x=2, dtype="float64", threads=0,
               hidden="tanh", output="sigmoid", status=status, disturbed=disturbed,
               median_s=t if status == "ok" else None, q1_s=t, q3_s=t,
               predicted_s=None if status == "ok" else t, steps=steps, message="")
    rec.update(kw)
    return rec


def _overhead_then_kernel(a, b):
    """Time per step a + b·m at m = 1 … 1e6."""
    return {m: a + b * m for m in (1, 100, 10_000, 1_000_000)}


def test_fit_figure_data_and_knees():
    recs = []
    for m, t in _overhead_then_kernel(1e-6, 1e-9).items():  # flat to m = 100, then grows
        recs.append(_cell(HEADLINE, m, 4, t))
    for m, t in _overhead_then_kernel(3e-5, 1e-10).items():  # flat to m = 10,000
        recs.append(_cell(REFERENCE, m, 4, t))
    recs.append(_cell(HEADLINE, 100, 4, 1.0, op="cost_and_grads"))  # another op: not drawn
    recs.append(_cell("python", 1, 4, 1e-5))
    recs.append(_cell("python", 100, 4, 1e-3, status="over_budget"))  # drawn, not a knee
    recs.append(_cell(HEADLINE, 100, 64, 1e-6))  # one m only at n_h = 64: dropped
    d = S.select_fit_vs_m(pd.DataFrame(recs))
    assert set(d.op) == {FIT} and set(d.n_h) == {4}
    assert set(d.backend) == {HEADLINE, REFERENCE, "python"}
    k = S.overhead_knees(d).set_index("backend")
    assert k.loc[HEADLINE, "m_knee"] == 100 and not k.loc[HEADLINE, "flat"]
    assert k.loc[REFERENCE, "m_knee"] == 10_000
    assert "python" not in k.index  # one measured m
    assert set(d[d.knee].m) == {100, 10_000}
    text = overhead_sentence(S.overhead_knees(d))
    assert text.startswith("At n_h = 4,") and text.endswith(".") and ". " not in text
    assert (f"up to m = 10,000 on {REFERENCE} and up to m = 100 on {HEADLINE} (" in text
            and "the kernel's work dominates" in text)


def test_overhead_sentence_when_every_line_stays_flat():
    d = pd.DataFrame([_cell(HEADLINE, m, 4, 1e-6) for m in (1, 100)])
    text = overhead_sentence(S.overhead_knees(S.select_fit_vs_m(d)))
    assert f"at every m measured (to m = 100) on {HEADLINE}" in text
    assert "dominates" in text and "kernel" not in text
    assert overhead_sentence(S.overhead_knees(d.iloc[:0])) == ""


def test_fit_headline_table_uses_paired_ratios_of_the_fit_op():
    nx, nh, m, steps = G.FIT_TARGETS[0]
    recs = [_cell(HEADLINE, m, nh, 2e-6, steps=steps), _cell(REFERENCE, m, nh, 8e-5, steps=steps),
            _cell(REFERENCE, m, nh, 1.0, op="cost_and_grads", steps=None)]
    from fastnn.bench.records import Comparison
    pair = dict(n_x=nx, n_h=nh, m=m, baseline=REFERENCE, contender=HEADLINE, ratio=30.0,
                lo=28.0, hi=32.0, rounds=15)
    md = headline_fit(pd.DataFrame(recs), [Comparison(**dict(pair, op="cost_and_grads", ratio=5.0)),
                                           Comparison(**dict(pair, op=FIT))])
    row = md.splitlines()[2]
    assert f"{steps:,}" in row and "2 µs" in row and fmt_s(steps * 2e-6) in row
    assert "30× [28–32]" in row and "5×" not in row
    assert "40×" not in row  # one comparison, one number: the medians' ratio is not shown
    rows = md.splitlines()[2:]
    assert len(rows) == len(G.FIT_TARGETS)
    if len(G.FIT_TARGETS) > 1:
        assert "not in these results" in rows[1]
    unpaired = headline_fit(pd.DataFrame(recs))
    assert "40× (unpaired)" in unpaired


def test_report_has_the_fit_table_and_figure(tmp_path):
    from fastnn.bench.store import FORMAT
    from fastnn.report import build
    recs = []
    for b, (a, k) in {HEADLINE: (1e-6, 1e-9), REFERENCE: (3e-5, 1e-9)}.items():
        for m, t in _overhead_then_kernel(a, k).items():
            c = G.Cell(b, FIT, m, 4)
            recs.append(dict(c.params(), key=c.key, status="ok", steps=100, message="",
                             median_s=t, min_s=t, q1_s=t, q3_s=t, iqr_s=0.0, samples=[t] * 3,
                             rounds=3, flops=10 * m, bytes=24 * m))
    path = tmp_path / "results.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in [{"format": FORMAT}] + recs) + "\n")
    text = open(build([str(path)], str(tmp_path / "out"))).read()
    assert f"## Headline: training runs ({FIT})" in text
    assert "![Time per step of a training run vs m](fig10_fit_time_vs_m.png)" in text
    assert (tmp_path / "out" / "fig10_fit_time_vs_m.png").exists()
    assert f"up to m = 100 on {HEADLINE}" in text
