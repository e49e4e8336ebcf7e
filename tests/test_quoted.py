"""One source of numbers: the README's result block, the report's first screen and the lecture
page's ladder are the committed ``reports/targets`` run's comparisons, to the printed digit; and
no table cell of a committed document holds a paragraph."""

import pathlib
import re

import pytest

from fastnn import fmt
from fastnn.bench import ladder, paired
from fastnn.report.notes import cases_of
from fastnn.report.first import block_of, of_folder

ROOT = pathlib.Path(__file__).resolve().parent.parent
TARGETS = ROOT / "reports" / "targets"
DOCS = [ROOT / "README.md", TARGETS / "index.md", ROOT / "reports" / "lecture" / "index.md"]
#: The widest table cell a committed document may hold (characters).
CELL_MAX = 80

pytestmark = pytest.mark.skipif(not (TARGETS / "results.jsonl").exists(),
                                reason="no committed targets run")


def test_the_readmes_result_block_is_the_targets_runs_first_screen():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert block_of(readme) == of_folder(str(TARGETS), "reports/targets/fig0_ladder.png"), (
        "README.md quotes other numbers than reports/targets: rebuild the block with "
        "`fastnn report reports/targets --out reports/targets --readme README.md`")


def test_the_reports_first_screen_is_its_own_runs():
    index = (TARGETS / "index.md").read_text(encoding="utf-8")
    assert block_of(index) == of_folder(str(TARGETS), "fig0_ladder.png")


def test_the_lecture_pages_ladder_quotes_the_targets_runs_factors():
    page = (ROOT / "reports" / "lecture" / "index.md").read_text(encoding="utf-8")
    entries = paired.load(str(TARGETS)).ladder
    assert entries
    for shape in ladder.shapes(entries):
        s = ladder.summary(entries, shape)
        assert f"{fmt.ratio(s['product'])} from the first rung to the last" in page
        for f in s["factors"]:  # a factor next to NumPy's rung: each of its memory cases
            cases = cases_of(entries, f) if "cases" in f.flags else []
            want = (" or ".join(fmt.interval(k.ratio, k.lo, k.hi) for k in cases) if cases
                    else fmt.interval(f.ratio, f.lo, f.hi))
            assert want in page, (shape, f.baseline, f.contender)


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_table_cell_holds_a_paragraph(doc):
    if not doc.exists():
        pytest.skip(f"{doc} is not committed")
    for line in doc.read_text(encoding="utf-8").splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            assert max(map(len, cells), default=0) <= CELL_MAX, line
