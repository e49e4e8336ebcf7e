"""The float32 headline: its cells in the targets grid, its pairs, and its table, kept apart
from the float64 headline."""

import pandas as pd

from fastnn.backends import HEADLINE, REFERENCE
from fastnn.bench import grid as G
from fastnn.report.text import headline, headline_float32

STEP = G.HEADLINE_OP


def _cell(backend, dtype, t, shape=G.FLOAT32_TARGETS[0], status="ok"):
    nx, nh, m = shape
    return dict(backend=backend, op=STEP, m=m, n_h=nh, n_x=nx, dtype=dtype, threads=0,
                hidden="tanh", output="sigmoid", status=status, disturbed=False,
                median_s=t, q1_s=t, q3_s=t, predicted_s=None, steps=1, message="")


def _pair(base, dtype, base_dtype, ratio, lo, hi, flags=()):
    from fastnn.bench.records import Comparison
    nx, nh, m = G.FLOAT32_TARGETS[0]
    return Comparison(op=STEP, n_x=nx, n_h=nh, m=m, dtype=dtype, baseline_dtype=base_dtype,
                      baseline=base, contender=HEADLINE, ratio=ratio, lo=lo, hi=hi, rounds=15,
                      flags=list(flags))


def test_the_targets_grid_measures_the_float32_step_on_the_headline_and_reference():
    cells, _ = G.cells("targets")
    f32 = [c for c in cells if c.dtype == "float32"]
    assert {c.backend for c in f32} == {HEADLINE, REFERENCE}
    assert {(c.n_x, c.n_h, c.m) for c in f32} == set(G.FLOAT32_TARGETS)
    assert all(c.op == STEP and G.is_headline(c) for c in f32)
    # a float32 cell at a float64-only target shape is not a headline cell
    other = [s for s in G.TARGETS if s not in G.FLOAT32_TARGETS]
    if other:
        nx, nh, m = other[0]
        assert not G.is_headline(G.Cell(HEADLINE, STEP, m, nh, nx, dtype="float32"))
    # an explicit dtype override is the grid's whole dtype axis, nothing added
    cells, _ = G.cells("targets", dtype=["float64"])
    assert all(c.dtype == "float64" for c in cells)


def test_float32_table_uses_the_float32_pairs_and_the_float64_table_ignores_them():
    recs = [_cell(HEADLINE, "float32", 0.030), _cell(HEADLINE, "float64", 0.060),
            _cell(REFERENCE, "float32", 0.330), _cell(REFERENCE, "float64", 0.600)]
    pairs = [_pair(HEADLINE, "float32", "float64", 1.9, 1.85, 1.95),
             _pair(REFERENCE, "float32", "float32", 10.5, 10.0, 11.2),
             _pair(REFERENCE, "float64", "float64", 9.8, 9.5, 10.1)]
    df = pd.DataFrame(recs)
    md = headline_float32(df, pairs)
    row = md.splitlines()[2]
    assert "30 ms" in row and "60 ms" in row
    assert "1.9× [1.85–1.95]" in row and "10.5× [10–11.2]" in row
    assert "9.8×" not in row  # the float64 pair is not the float32 one
    f64 = headline(df, None, None, pairs)
    shape_row = [r for r in f64.splitlines() if f"m={G.FLOAT32_TARGETS[0][2]:,}" in r
                 and f"n_h={G.FLOAT32_TARGETS[0][1]}," in r][0]
    assert "9.8× [9.5–10.1]" in shape_row and "10.5×" not in shape_row and "1.9×" not in shape_row


def test_float32_table_without_pairs_shows_the_ratios_of_the_medians_and_says_so():
    md = headline_float32(pd.DataFrame([_cell(HEADLINE, "float32", 0.030),
                                        _cell(HEADLINE, "float64", 0.060),
                                        _cell(REFERENCE, "float32", 0.330)]))
    row = md.splitlines()[2]
    assert "2× (unpaired)" in row and "11× (unpaired)" in row


def test_float32_table_says_why_a_shape_has_no_number():
    md = headline_float32(pd.DataFrame([_cell(REFERENCE, "float32", 0.330)]))
    assert "not in these results" in md.splitlines()[2]


def test_a_share_above_the_ceiling_is_flagged_not_shown_as_plain():
    from fastnn.report.text import _share_of_ceiling
    nx, nh, m = G.FLOAT32_TARGETS[0]
    ceiling = {"float32": {"tanh_s": 1e-9, "fma_s": 1e-11}}
    t_ceiling = m * nh * (1e-9 + (2 * nx + 4) * 1e-11)
    assert _share_of_ceiling(ceiling, nx, nh, m, "float32", None, 2 * t_ceiling) == "50 %"
    assert "(ceiling under-measured)" in _share_of_ceiling(ceiling, nx, nh, m, "float32",
                                                              None, t_ceiling / 2)
    assert _share_of_ceiling(ceiling, nx, nh, m, "float64", None, t_ceiling) == "–"


def test_a_flagged_pair_shows_one_word_that_links_to_its_note():
    from fastnn.report.notes import Notes
    recs = [_cell(HEADLINE, "float32", 0.030), _cell(REFERENCE, "float32", 0.330)]
    spread = _pair(REFERENCE, "float32", "float32", 18.4, 10.4, 26.4, flags=["wide"])
    notes = Notes("n")
    md = headline_float32(pd.DataFrame(recs), [spread], notes=notes)
    assert "18.4× [10.4–26.4] [wide](#n1)" in md
    assert len(notes.items) == 1 and "reaches beyond ±10 %" in notes.items[0]
    narrow = _pair(REFERENCE, "float32", "float32", 11.0, 10.0, 12.5)
    assert "[wide]" not in headline_float32(pd.DataFrame(recs), [narrow])
