"""One source of numbers: the README's result block, the report's first screen and the lecture
page's ladder are the committed ``reports/targets`` run's comparisons, to the printed digit; no
table cell of a committed document holds a paragraph; and the first screen stays one screen."""

import pathlib
import re

import pytest

from fastnn import fmt
from fastnn.bench import ladder, paired
from fastnn.bench import store
from fastnn.backends import REFERENCE
from fastnn.report.notes import cases_of
from fastnn.report.first import block_of, numbers, of_folder, takeaway, why

ROOT = pathlib.Path(__file__).resolve().parent.parent
TARGETS = ROOT / "reports" / "targets"
DOCS = [ROOT / "README.md", TARGETS / "index.md", ROOT / "reports" / "lecture" / "index.md"]
#: The widest table cell a committed document may hold (characters).
CELL_MAX = 80
#: The README's result block without its notes (the machine, caption, table, takeaway, figure
#: and why), in words as ``wc -w`` counts them (each "|" of the table is one); 746 with its
#: notes before the first screen was cut to one screen, 409 without them in the run of
#: 2026-12-07 21:13 UTC. The notes are one per flagged cell, so a run decides how many: each is
#: held to NOTE_WORDS, and together to NOTES_MAX lines, so that the block stays one screen.
BLOCK_WORDS, NOTES_MAX = 460, 8
#: The longest sentence of why, note and caption above the table (words).
WHY_WORDS, NOTE_WORDS, CAPTION_WORDS = 35, 30, 45

pytestmark = pytest.mark.skipif(not (TARGETS / "results.jsonl").exists(),
                                reason="no committed targets run")


def test_the_readmes_result_block_is_the_targets_runs_first_screen():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert block_of(readme) == of_folder(str(TARGETS), "reports/targets/fig0_ladder.png",
                                         "reports/targets/index.md"), (
        "README.md quotes other numbers than reports/targets: rebuild the block with "
        "`fastnn report reports/targets --out reports/targets --readme README.md`")


def test_the_reports_first_screen_is_its_own_runs():
    index = (TARGETS / "index.md").read_text(encoding="utf-8")
    assert block_of(index) == of_folder(str(TARGETS), "fig0_ladder.png", "")
    assert index.index(block_of(index)) < index.index("\n## ")  # the first screen comes first


def test_the_lecture_pages_ladder_quotes_the_targets_runs_factors():
    page = (ROOT / "reports" / "lecture" / "index.md").read_text(encoding="utf-8")
    entries = paired.load(str(TARGETS)).ladder
    assert entries
    for shape in ladder.shapes(entries):
        s = ladder.summary(entries, shape)
        assert f"{fmt.ratio(s['product'])} from the first rung to the last" in page
        for f in s["factors"]:  # a factor next to NumPy's rung: each of its memory cases
            cases = cases_of(entries, f) if "cases" in f.flags else []
            want = (" or ".join(fmt.speed(k.ratio, k.lo, k.hi) for k in cases) if cases
                    else fmt.speed(f.ratio, f.lo, f.hi))  # as the report's ladder table turns it
            assert want in page, (shape, f.baseline, f.contender)


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_table_cell_holds_a_paragraph(doc):
    if not doc.exists():
        pytest.skip(f"{doc} is not committed")
    for line in doc.read_text(encoding="utf-8").splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            assert max(map(len, cells), default=0) <= CELL_MAX, line


def _targets_screen():
    header, _ = store.load(str(TARGETS))
    return numbers(header, paired.load(str(TARGETS), header))


def _sentences(text):
    return [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z*_])", text.strip()) if s]


def test_the_readmes_first_screen_is_one_screen():
    block = block_of((ROOT / "README.md").read_text(encoding="utf-8"))
    lines = [x for x in block.splitlines()[1:-1] if x]
    fixed = [x for x in lines if not re.match(r"\d+\. <a id=", x)]
    assert len(" ".join(fixed).split()) <= BLOCK_WORDS, "the result block grew past its budget"
    assert lines[0].startswith("**Machine:**") and len(_sentences(lines[0])) == 1
    caption = lines[1]
    assert len(_sentences(caption)) <= 2 and len(caption.split()) <= CAPTION_WORDS
    sentences = why(_targets_screen())
    assert 1 <= len(sentences) <= 3 and " ".join(sentences) in lines
    for s in sentences:
        assert len(_sentences(s)) == 1 and len(s.split()) <= WHY_WORDS, s
    notes = [re.sub(r"^\d+\. <a id=\"r\d+\"></a>", "", x) for x in lines
             if re.match(r"\d+\. <a id=", x)]
    assert notes and len(notes) <= NOTES_MAX
    for n in notes:
        assert len(_sentences(n)) == 1 and len(n.split()) <= NOTE_WORDS, n


def test_the_takeaway_quotes_the_reference_columns_cells():
    fs = _targets_screen()
    short = takeaway(fs)
    block = block_of((ROOT / "README.md").read_text(encoding="utf-8"))
    assert short and short in block and len(_sentences(short)) == 1
    col = 3 + fs.columns.index(REFERENCE)  # before it: the line's start, the label, the time
    cells = [re.split(r"(?<!\\)\|", x)[col] for x in block.splitlines() if x.startswith("| ")]
    quoted = re.findall(r"(\d[\d.,]*)(?=×|–\d[\d.,]*×)", short)
    assert len(quoted) >= 3
    for r in quoted:
        assert any(re.search(rf"(?<![\d.]){re.escape(r)}× ", c) for c in cells), r


def test_the_takeaway_takes_a_cells_lowest_memory_case(monkeypatch):
    """A reference cell split into memory cases counts with its lowest ratio (the reference at
    its best), not the slow case's (103x against 19.7x in one run)."""
    import dataclasses

    from fastnn.bench.stats import Flag
    from fastnn.report import first
    from fastnn.report.notes import Notes

    fs = _targets_screen()
    c = next(r.cells[REFERENCE] for r in fs.rows
             if r.op == "cost_and_grads" and r.n_x == 2 and r.cells.get(REFERENCE))
    fast, slow = (dataclasses.replace(c, ratio=c.ratio * k, case=n)
                  for k, n in ((1.0, "fast"), (7.0, "slow")))
    monkeypatch.setattr(first, "cases_of", lambda comps, x: [fast, slow] if x is c else [])
    monkeypatch.setattr(Notes, "flags", lambda self, x, cases=(): [Flag.CASES.value] if cases
                        else [])
    short = takeaway(fs)
    assert fmt_ratio(c.ratio * 7.0) not in short and short


def fmt_ratio(r):
    from fastnn import fmt
    return fmt.ratio(r)
