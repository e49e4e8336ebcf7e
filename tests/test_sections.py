"""Each report section is a small dataclass of numbers and a render: the render of a
hand-made dataclass says exactly its numbers, and the numbers of a results frame are the
frame's."""

import os

import pandas as pd
import pytest

from fastnn.backends import HEADLINE, REFERENCE
from fastnn.report import caveats as CV
from fastnn.report import facts, heads, sections
from fastnn.report.every_m import Crossover, render_crossover

ROOT_RUN = os.path.join(os.path.dirname(__file__), os.pardir, "reports", "targets")


def test_renders_say_their_numbers():
    b = sections.Breakeven(cold_s=3.7, cached_s=0.25,
                           rows=[dict(n_h=64, m=10**6, saved_s=0.5, steps=8)])
    text = sections.render_breakeven(b)
    assert f"at m = 1,000,000 {HEADLINE} saves 500 ms per step" in text
    assert "cold compile (3.7 s) pays off after 8 steps." in text and "costs 250 ms" in text
    assert sections.render_breakeven(sections.Breakeven(None, None)) == \
        sections.BREAKEVEN_NO_COMPILE
    assert REFERENCE in sections.render_breakeven(sections.Breakeven(1.0, None))
    i = sections.Intro(command="fastnn bench", datetime="2026-01-01", files=["a"], cells=10, ok=7,
                       runs=1, busy=2)
    first, busy = sections.render_intro(i)
    assert "`fastnn bench`, run on 2026-01-01 (`a`): 10 cells, 7 measured." in first
    assert "2 of 7 measured cells" in busy
    assert render_crossover(Crossover(n_h=4, m=2500.0)).endswith("from m ≈ 2,500 on.")
    assert render_crossover(Crossover(n_h=4, m=None)).endswith(sections.CROSSOVER_NEVER)
    f = heads.render_fit_head(heads.FitHead(partial=2, partial_m=20))
    assert "except 2 cell(s) at m ≤ 20" in f
    assert heads.render_fit_head(heads.FitHead(0, None)).endswith("timed.\n")
    assert "512-bit vector register holds 16 numbers instead of 8" in heads.render_float32_head(
        heads.Float32Head(bits=512))
    c = sections.render_comparison(sections.Comparison(cells=3, by_backend={"numba": 1.25}),
                                   ["one", "two"])
    assert "`one` ÷ `two`, over 3 cells" in c[0] and "1.25" in c[1]


def test_caveats_are_numbers_then_bullets():
    n = CV.Caveats(busy=[("numpy", 1000, 2), ("numba", 10, 1)], ok=5,
                   noisy=[("numpy m=1", 0.5)], n_noisy=1,
                   statuses=[("skipped", 3, ["too big"]), ("failed", 1, [])])
    text = CV.render(n).splitlines()
    assert text[0].startswith("- 3 cells were measured while the machine was busy")
    assert "numpy at m = 1,000 (2 cells); numba at m = 10 (1 cells)" in text[0]
    assert text[1].startswith("- 1 of 5 measured cells are noisy") and "(50 %)" in text[1]
    assert text[2:] == ["- 3 cells were skipped by declaration.", "  - e.g. “too big”",
                        "- 1 cells failed."]
    assert CV.render(CV.Caveats()) == CV.NONE


def test_a_caveat_that_lists_some_of_its_cells_says_how_many_more():
    n = CV.Caveats(split=[("a", "w")] * 2, n_split=5,
                   over_model=[("b", 2**30, 2**29)], n_over_model=1,
                   multimodal=["c"], n_multimodal=4)
    text = CV.render(n).splitlines()
    assert text[0].startswith("- 5 cells") and text[0].endswith("a: w; a: w; and 3 more.")
    assert text[1].endswith("(1,024 MiB measured, 512 MiB modelled).")  # all shown
    assert text[2].startswith("- 4 cells are multimodal") and text[2].endswith("c; and 3 more.")


def test_the_committed_runs_sections_are_their_numbers():
    from fastnn.report import load_results
    from fastnn.bench.store import load
    df, headers = load_results([ROOT_RUN])
    n = CV.numbers(df)
    assert sum(k for _, k, _ in n.statuses) == int((df.status != "ok").sum())
    assert n.n_split >= len(n.split) >= 1  # the first few cells whose workers disagree
    assert CV.caveats(df) == CV.render(n)
    header, _ = load(ROOT_RUN)
    m = facts.numbers(header)
    assert m.peaks[0] == facts.compute_peaks(header["peaks"], facts.blas_arch(header))[0]
    text = facts.render(m)
    assert text.startswith("- **CPU:** ") and f"cold {m.compile_cold_s:.3g} s" in text
    assert facts.render(facts.MachineFacts()).splitlines() == [
        "- **CPU:** unknown CPU", "- **Peers:** –", "- **BLAS (threadpoolctl):** –",
        "- **OPENBLAS_* variables:** none"]  # only what is always said
    t = heads.notes_numbers(header, [])
    assert t.rounds is None and t.tanh_ns == pytest.approx(1e9 * header["ceiling"]["float64"]
                                                           ["tanh_s"])
    v = sections.vectorise_numbers(pd.DataFrame(columns=df.columns), None)
    assert v is None and sections.vectorise(df.iloc[:0], None).startswith("_No")


def test_the_headline_tables_are_rows_of_numbers_then_markdown():
    from fastnn.bench.grid import FIT_TARGETS, TARGETS
    from fastnn.report import headline as H
    from fastnn.report import load_results
    df, _ = load_results([ROOT_RUN])
    t = H.step_numbers(df)
    assert [(r.n_x, r.n_h, r.m) for r in t.rows] == list(TARGETS)
    for r in t.rows:
        assert (r.t_s is None) == (r.missing is not None)
        assert all(s.pair is None and s.apart > 0 for s in r.speedups)  # no pairs given
    assert H.render(t) == H.headline(df, None, None)
    f = H.fit_numbers(df)
    assert [r.steps for r in f.rows] == [s[3] for s in FIT_TARGETS]
    missing = H.Table("fit", [H.Row(2, 4, 400, steps=10, missing=H.Missing("predicted", 2.5))])
    last = H.render(missing).splitlines()[-1].split("|")
    assert [c.strip() for c in last[1:-1]] == ["n_x=2, n_h=4, m=400", "10",
                                               "not measured: predicted 2.5 s"]
    assert H.share(None, 1.0) == "–" and H.share(2.0, 1.0) == "200 % (ceiling under-measured)"
