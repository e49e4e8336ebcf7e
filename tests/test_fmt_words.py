"""The words of a ratio (fastnn.fmt.faster, fastnn.report.notes.speed): "slower" only where the
inverse shows as more than 1×, so a ratio of 0.999 is never "1× slower"."""

import re

from hypothesis import example, given
from hypothesis import strategies as st

from fastnn import fmt
from fastnn.report import notes


def test_a_ratio_that_rounds_to_one_is_not_slower():
    assert fmt.faster(0.999, 0.951, 1.01) == "0.999× [0.951–1.01] (as fast)"
    assert fmt.faster(1.004) == "1× faster"
    assert fmt.faster(0.955, 0.94, 0.97) == "1.05× [1.03–1.06] slower"
    assert notes.times(0.999) == "0.999×" and notes.times(0.5) == "2× slower"


@given(st.floats(0.01, 100.0))
@example(1 / 11)
@example(0.9951)
def test_slower_is_said_only_of_a_ratio_shown_above_one(r):
    text = fmt.faster(r)
    assert not re.search(r"(?<![\d.])1× slower", text)
    assert ("slower" in text) == (r < 1 and fmt.ratio(1 / r) != "1×")
    assert ("slower" in notes.times(r)) == ("slower" in text)


def test_a_cell_below_one_is_turned_as_its_words_everywhere():
    """The report's cells (notes.speed) and the lecture page's ladder (fmt.speed) print one
    number for one factor: numpy-loop over python at 0.272 is "3.67× slower", never 0.272×."""
    assert fmt.speed(0.2725, 0.2725, 0.386) == "3.67× slower [2.59–3.67]"
    assert fmt.speed(7.66, 6.64, 9.6) == "7.66× [6.64–9.6]"
    assert fmt.speed(0.999, 0.95, 1.01) == "0.999× [0.95–1.01]"
