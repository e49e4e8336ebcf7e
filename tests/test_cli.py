"""The command line: bad input is one line on stderr and exit 2, before any work; report takes a
file or a folder; --version; help that says what each grid holds; Ctrl-C is 130."""

import re
import subprocess
import sys
import types

import pytest

import fastnn
from fastnn.bench.grid import GRIDS
from fastnn.bench.store import RESULTS, ResultsError, Store, load
from fastnn.cli import main, parser
from fastnn.report.console import GRIDS as ABOUT

from test_store import holder  # noqa: E402 - tests/ is on sys.path (rootdir import)


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err):
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err and "error" in lines[0]
    return lines[0]


@pytest.mark.parametrize("argv, msg", [
    (["--m", "1e400"], "--m: '1e400' is not a finite whole number"),
    (["--n-h", "1e400"], "--n-h: '1e400' is not a finite whole number"),
    (["--threads", "1e999"], "--threads: '1e999' is not a finite whole number"),
    (["--m", "nan"], "--m: 'nan' is not a finite whole number"),
    (["--n-x", "inf"], "--n-x: 'inf' is not a finite whole number"),
    (["--m", "2.5"], "--m: '2.5' is not a finite whole number"),
    (["--m", "ten"], "--m: 'ten' is not a number"),
    (["--m=-3"], "--m: '-3' is below 1"),
    (["--n-h", "100,0"], "--n-h: '0' is below 1"),
    (["--threads=-1"], "--threads: '-1' is below 0"),
    (["--m", ","], "--m: expected comma-separated integers"),
    (["--budget", "nan"], "--budget: 'nan': the budget must be a finite number > 0"),
    (["--budget", "inf"], "--budget: 'inf': the budget must be a finite number > 0"),
    (["--budget", "0"], "--budget: '0': the budget must be a finite number > 0"),
    (["--budget=-2"], "--budget: '-2': the budget must be a finite number > 0"),
    (["--budget", "soon"], "--budget: 'soon' is not a number of seconds"),
    (["--grid", "huge"], "unknown grid 'huge'"),
])
def test_bad_bench_input_is_one_line_exit_2_before_any_work(capsys, tmp_path, argv, msg):
    out = tmp_path / "out"
    code, _, err = run(capsys, "bench", "--out", str(out), "--no-progress", *argv)
    assert code == 2
    assert msg in one_error_line(err)
    assert err.startswith("fastnn bench: error:")
    assert not out.exists()


def test_numbers_are_read_as_integers():
    a = parser().parse_args(["bench", "--m", "1e4,100,1_000", "--n-h", "64", "--threads", "0,1",
                             "--budget", "0.5"])
    assert a.m == [10_000, 100, 1_000] and a.n_h == [64] and a.threads == [0, 1]
    assert a.budget == 0.5


def test_no_command_and_unknown_options_are_one_line(capsys):
    for argv in ([], ["bench", "--fast"], ["frobnicate"]):
        code, _, err = run(capsys, *argv)
        assert code == 2
        one_error_line(err)


def test_version(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.strip() == f"fastnn {fastnn.__version__}"


@pytest.mark.slow
def test_version_as_a_module():
    r = subprocess.run([sys.executable, "-m", "fastnn.cli", "--version"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.strip() == f"fastnn {fastnn.__version__}"


def test_bench_help_lists_each_grid_with_its_contents_and_budget(capsys):
    code, out, _ = run(capsys, "bench", "--help")
    assert code == 0
    text = " ".join(out.split())
    for name, g in GRIDS.items():
        assert f"{name}: " in text and ABOUT[name] in text
        assert f"budget {g['budget_s']:g} s per cell" in text
        assert f"dtype: {', '.join(g['dtype'])}" in text
    assert "m: 1, 100, 1e4, 1e6;" in text  # the quick grid's m, written as --m accepts it
    assert "default first." in text  # the README's three-minute run
    assert set(ABOUT) == set(GRIDS)  # a new grid is described, an old one's words go
    for name in GRIDS:  # each grid says how long it takes, measured
        assert "measured" in ABOUT[name] and re.search(r"\d+ (min|s)\b", ABOUT[name]), name


def test_an_interrupted_bench_says_what_it_kept_and_how_to_resume(capsys, tmp_path,
                                                                  monkeypatch):
    from fastnn.bench import run as bench_run

    def stop(*a, **k):  # the sweep's Ctrl-C: the count and the path, no words
        raise bench_run.Interrupted(3, "o/results.jsonl")
    monkeypatch.setattr(bench_run, "sweep", stop)
    code, _, err = run(capsys, "bench", "--backends", "numpy", "--ops", "forward", "--m", "1",
                       "--n-h", "1", "--out", str(tmp_path / "o"), "--no-peers",
                       "--no-progress", "--no-report")
    assert code == 130
    assert err.splitlines() == ["", "interrupted: 3 finished cells are kept in o/results.jsonl.",
                                "Resume with the same command plus --resume.",
                                "fastnn bench: interrupted"]


def test_demo_has_a_description(capsys):
    code, out, _ = run(capsys, "demo", "--help")
    assert code == 0 and "lecture" in out.split("options:")[0].split("\n", 2)[2]


# --- report -----------------------------------------------------------------------------------

@pytest.fixture
def fake_report(monkeypatch, tmp_path):
    """``fastnn.report`` replaced by one that loads its inputs: the CLI is tested on its own."""
    calls = []

    def build(paths, out):
        calls.append(list(paths))
        for p in paths:
            load(p)
        if getattr(build, "raises", None):
            raise build.raises
        return str(tmp_path / "index.md")

    from fastnn.report import console  # the CLI's words stay real: only the build is faked
    monkeypatch.setitem(sys.modules, "fastnn.report",
                        types.SimpleNamespace(build=build, console=console))
    build.calls = calls
    return build


def _results(folder):
    with Store(folder / RESULTS, {"grid": "t"}, resume=False):
        pass
    return folder


def test_report_takes_a_results_file_or_a_folder_holding_one(capsys, tmp_path, fake_report):
    a, b = _results(tmp_path / "a"), _results(tmp_path / "b")
    code, out, err = run(capsys, "report", str(a), str(b / RESULTS), "--out", str(tmp_path / "o"))
    assert code == 0 and err == "" and "\nreport: " in "\n" + out
    assert fake_report.calls == [[str(a / RESULTS), str(b / RESULTS)]]


@pytest.mark.parametrize("make, msg", [
    (lambda d: d / "missing.jsonl", "missing.jsonl: no such results file"),
    (lambda d: d, f"{RESULTS}: no such results file"),  # a folder without results
    (lambda d: (d / "x.jsonl").write_text('{"format": "fastnn-bench/1"}\n{"op": 1}\n') and
     d / "x.jsonl", "x.jsonl: line 2 is missing backend"),
])
def test_report_errors_are_one_line(capsys, tmp_path, fake_report, make, msg):
    code, _, err = run(capsys, "report", str(make(tmp_path)), "--out", str(tmp_path / "o"))
    assert code == 2 and msg in one_error_line(err)
    assert err.startswith("fastnn report: error:")


@pytest.mark.parametrize("exc, code, msg", [
    (KeyboardInterrupt(), 130, "fastnn report: interrupted"),
    (ResultsError("r.jsonl: bad"), 2, "fastnn report: error: r.jsonl: bad"),
    (RuntimeError("kernel died\n  in a long\n  traceback-like message"), 2,
     "fastnn report: error: RuntimeError: kernel died"),
    (MemoryError(), 2, "fastnn report: error: MemoryError"),
])
def test_anything_reaching_main_is_one_line(capsys, tmp_path, fake_report, exc, code, msg):
    fake_report.raises = exc
    got, _, err = run(capsys, "report", str(_results(tmp_path / "a")), "--out",
                      str(tmp_path / "o"))
    assert got == code
    assert err.splitlines() == [msg]


# --- a busy output folder ---------------------------------------------------------------------

@pytest.mark.slow
def test_a_second_run_on_a_busy_folder_is_refused_at_once(capsys, tmp_path, fake_report):
    out = tmp_path / "out"
    p = holder(out / RESULTS)  # another process is writing out/
    try:
        code, stdout, err = run(capsys, "bench", "--backends", "numpy", "--ops", "forward",
                                "--m", "1", "--n-h", "1", "--out", str(out), "--no-peers",
                                "--no-progress", "--no-report")
        assert code == 2 and stdout == ""
        line = one_error_line(err)
        assert f"{out}: another fastnn run (pid {p.pid}) is writing this folder" in line
        code, _, err = run(capsys, "report", str(out), "--out", str(out))
        assert code == 2 and "another fastnn run" in one_error_line(err)
        assert fake_report.calls == []
    finally:
        p.stdin.close()
        p.wait(timeout=30)
    code, _, _ = run(capsys, "report", str(out), "--out", str(out))
    assert code == 0
