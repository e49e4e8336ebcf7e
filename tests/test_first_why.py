"""The first screen's why (fastnn.report.first): fusion is the ladder's factor, one thread each,
where the run has a ladder, so it does not mix in the threads; the table's cell otherwise, said
to be on all cores. The takeaway names m with n_x."""

import pathlib

import pytest

from fastnn.bench import paired, store
from fastnn.report import first

TARGETS = pathlib.Path(__file__).resolve().parent.parent / "reports" / "targets"
pytestmark = pytest.mark.skipif(not (TARGETS / "results.jsonl").exists(),
                                reason="no committed targets run")


def _doc():
    header, _ = store.load(str(TARGETS))
    return header, paired.load(str(TARGETS), header)


def test_fusion_is_the_ladders_factor_on_one_thread_each():
    header, doc = _doc()
    fs = first.numbers(header, doc)
    assert fs.fusion.kind == "factor" and fs.fusion.contender_threads == 1
    assert fs.fusion.baseline == "numpy-inplace" and fs.fusion.baseline_threads == 1
    text = " ".join(first.why(fs))
    assert first.FUSION_THREADS[True] in text and first.FUSION_THREADS[False] not in text


def test_without_a_ladder_fusion_is_the_tables_cell_on_all_cores():
    header, doc = _doc()
    doc.ladder = []
    fs = first.numbers(header, doc)
    assert fs.fusion.kind == "pair" and fs.fusion.contender_threads == 0
    assert first.FUSION_THREADS[False] in " ".join(first.why(fs))


def test_the_takeaway_names_m_with_n_x():
    header, doc = _doc()
    assert "at n_x = 2, m = 1e6" in first.takeaway(first.numbers(header, doc))


@pytest.mark.parametrize("half", [True, None])
def test_the_machine_line_says_when_the_widest_simd_runs_in_halves(half):
    """Zen 4 exposes AVX-512 but runs each 512-bit instruction as two 256-bit halves, so its
    FLOPs per cycle are AVX2's: the first line says so, as the machine facts record it."""
    header, doc = _doc()
    mi = header["machine_info"]
    header = dict(header, machine_info=dict(mi, cpu=dict(mi["cpu"], simd_half=half)))
    line = first.render(first.numbers(header, doc)).splitlines()
    machine = next(x for x in line if x.startswith("**Machine:**"))
    assert ("512-bit SIMD (run as two 256-bit halves)" in machine) == bool(half)


def test_the_details_step_table_gives_the_first_screens_times():
    """One number for numba's time at a headline shape: the detail's step table takes it from
    the rounds where every row has its pair, as the first screen does, and says so."""
    from fastnn.report import headline

    header, cells = store.load(str(TARGETS))
    doc = paired.load(str(TARGETS), header)
    table = headline.step_numbers(store.to_frame(cells), pairs=doc.pairs)
    fs = first.numbers(header, doc)
    steps = {(r.n_x, r.n_h, r.m): r.t_s for r in fs.rows if r.op == "cost_and_grads"}
    assert table.rounds and steps
    for r in table.rows:
        assert r.t_s == pytest.approx(steps[(r.n_x, r.n_h, r.m)])
    assert headline.COLUMNS["step"]["rounds"] in headline.render(table)


def test_without_every_rows_pair_the_step_table_keeps_the_cell_medians():
    from fastnn.report import headline

    header, cells = store.load(str(TARGETS))
    doc = paired.load(str(TARGETS), header)
    some = [c for c in doc.pairs if (c.n_x, c.n_h) != (784, 128)]  # one row without its pair
    for pairs in ([], some):
        table = headline.step_numbers(store.to_frame(cells), pairs=pairs)
        assert not table.rounds
        assert headline.COLUMNS["step"]["time"] in headline.render(table)


@pytest.mark.parametrize("env", [{"OPENBLAS_CORETYPE": "Haswell"}, {},
                                 {"OPENBLAS_CORETYPE": ""}])
def test_the_machine_line_says_when_the_environment_chose_the_blas_kernel(env):
    """OPENBLAS_CORETYPE picks OpenBLAS's kernel over what the CPU supports (Haswell's 256-bit
    kernel on an AVX-512 machine): the first line says the kernel is the environment's."""
    header, doc = _doc()
    mi = header["machine_info"]
    blas = [dict(b, architecture="Haswell") if b.get("internal_api") == "openblas" else b
             for b in mi.get("blas", [])]
    header = dict(header, machine_info=dict(mi, openblas_env=env, blas=blas))
    line = first.render(first.numbers(header, doc)).splitlines()
    machine = next(x for x in line if x.startswith("**Machine:**"))
    said = bool(env.get("OPENBLAS_CORETYPE"))  # an empty value lets OpenBLAS detect the CPU
    assert (" kernel " + first.BLAS_FORCED in machine) == said
    assert (first.BLAS_FORCED in machine) == said


def test_the_fit_and_float32_tables_give_the_rounds_times():
    """The training runs' table gives numba's time per step as the first screen does (the
    whole run's fastest round over its steps); the float32 table gives both of numba's times
    from the rounds its ratio is computed from, so the times shown divide to the ratio."""
    from fastnn.report import headline
    from fastnn.report.notes import find

    header, cells = store.load(str(TARGETS))
    doc = paired.load(str(TARGETS), header)
    df = store.to_frame(cells)
    fit = headline.fit_numbers(df, doc.pairs)
    fs = first.numbers(header, doc)
    steps = {(r.n_x, r.n_h, r.m): r.t_s for r in fs.rows if r.op == "fit" and not r.data}
    assert fit.rounds and steps
    for r in fit.rows:
        assert r.t_s == pytest.approx(steps[(r.n_x, r.n_h, r.m)])
    assert headline.COLUMNS["fit"]["rounds_whole"] in headline.render(fit)
    f32 = headline.float32_numbers(df, doc.pairs)
    assert f32.rounds and f32.rows
    for r in f32.rows:
        c = find(doc.pairs, r.n_x, r.n_h, r.m, "numba", dtype="float32", baseline_dtype="float64")
        assert r.t64_s / r.t_s == pytest.approx(c.ratio)
