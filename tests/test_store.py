"""The results store: records round-trip exactly, bad ones are named by line, a cut file keeps every
complete line, one writer per folder, run ids, and a folder's manifest of what fastnn wrote."""

import json
import math
import os
import re
import subprocess
import sys
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fastnn.bench import store as S
from fastnn.bench.store import (FORMAT, RESULTS, FolderBusyError, ResultsError, Store, export,
                                load, stale_files, write_manifest)

FAST = settings(max_examples=40, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])

# --- strategies -------------------------------------------------------------------------------

pos = st.floats(min_value=0, exclude_min=True, allow_nan=False, allow_infinity=False)
nonneg = st.floats(min_value=0, allow_nan=False, allow_infinity=False) | st.integers(0, 10**400)
json_scalar = st.none() | st.booleans() | st.integers() | st.text(max_size=8) | st.floats(
    allow_nan=False, allow_infinity=False)
OPTIONAL_NUMBERS = {k: nonneg | st.none() for k in S.NON_NEGATIVE if k != "predicted_s"}


@st.composite
def records(draw, status=None):
    """A valid cell record: identity, status, and a random subset of the optional fields."""
    status = status or draw(st.sampled_from(S.STATUSES))
    rec = {"backend": draw(st.text(max_size=10)), "op": draw(st.text(max_size=10)),
           "m": draw(st.integers(1, 10**12)), "n_h": draw(st.integers(1, 4096)),
           "n_x": draw(st.integers(1, 1000)), "n_y": draw(st.integers(1, 4)),
           "dtype": draw(st.sampled_from(["float64", "float32"])),
           "threads": draw(st.integers(0, 64)), "hidden": draw(st.text(max_size=6)),
           "output": draw(st.text(max_size=6)), "status": status}
    extra = draw(st.fixed_dictionaries({}, optional={
        "message": st.text(max_size=20), "extrapolated": st.booleans(),
        "rounds": st.integers(1, 100), "calls_per_round": st.integers(1, 10**6),
        "disturbed": st.booleans(), "headline": st.booleans(),
        "contention": st.none() | st.dictionaries(st.text(max_size=6), json_scalar, max_size=3),
        "future_field": json_scalar, **OPTIONAL_NUMBERS}))
    rec.update(extra)
    if status == "ok":
        rec.update({k: draw(pos) for k in S.TIMINGS})
        rec["samples"] = draw(st.lists(pos, min_size=1, max_size=6))
    elif status == "over_budget":
        rec["predicted_s"] = draw(pos)
    else:
        rec["median_s"] = None
    return rec


def keyed(recs):
    return [dict(r, key=f"cell{i}") for i, r in enumerate(recs)]


headers = st.dictionaries(st.text(max_size=6).filter(lambda k: k not in ("format", "run_id")),
                          json_scalar, max_size=4)


def _write(path, lines):
    with open(path, "w", encoding="utf-8") as f:
        for r in lines:
            f.write(json.dumps(r) + "\n")


# --- round trip -------------------------------------------------------------------------------

@FAST
@given(header=headers, recs=st.lists(records(), max_size=6), more=records())
def test_valid_records_round_trip_through_append_load_export_and_resume(header, recs, more):
    recs, (more,) = keyed(recs), [dict(more, key="last")]
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, RESULTS)
        with Store(path, header, resume=False) as s:
            for r in recs:
                assert s.append(r) == r  # a valid record is stored as given
        h, cells = load(path)
        assert cells == recs
        assert h == dict(header, format=FORMAT, run_id=h["run_id"])
        assert re.fullmatch(r"[0-9a-f]{32}", h["run_id"])

        export(path, d)  # every record load accepts can be exported
        with open(os.path.join(d, "results-benchmark.json")) as f:
            bench = json.load(f)["benchmarks"]
        ok = [r for r in recs if r["status"] == "ok"]
        assert [b["stats"]["data"] for b in bench] == [r["samples"] for r in ok]
        # pytest-benchmark's stats of each record's own samples (their meanings, ops = 1/mean,
        # are checked against pytest-benchmark itself in tests/test_benchmark_json.py)
        assert [b["stats"] for b in bench] == [
            S.benchmark_stats(r["samples"], r.get("calls_per_round") or 1) for r in ok]
        with open(os.path.join(d, "results.csv"), encoding="utf-8") as f:
            assert f.readline().strip() == ",".join(S.COLUMNS)

        with Store(path, {"ignored": 1}, resume=True) as s:
            assert s.header == h and s.done == {r["key"]: r for r in recs}
            s.append(more)
        assert load(path) == (h, recs + [more])


@FAST
@given(recs=st.lists(records(), min_size=1, max_size=5), data=st.data())
def test_a_file_cut_at_any_byte_keeps_every_complete_line(recs, data):
    recs = keyed(recs)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, RESULTS)
        with Store(path, {"grid": "t"}, resume=False) as s:
            for r in recs:
                s.append(r)
        with open(path, "rb") as f:
            full = f.read()
        header = load(path)[0]
        ends = [i for i, b in enumerate(full) if b == ord("\n")]  # end of each line's JSON
        edges = sorted({e + k for e in ends for k in (-1, 0, 1)})  # just before/after a newline
        cut = data.draw(st.sampled_from(edges) | st.integers(0, len(full)), label="cut")
        with open(path, "wb") as f:
            f.write(full[:cut])
        if cut < ends[0]:  # not even the header is complete
            with pytest.raises(ResultsError, match=re.escape(path)):
                load(path)
            return
        kept = recs[:sum(1 for e in ends[1:] if e <= cut)]
        assert load(path) == (header, kept)
        with Store(path, {}, resume=True) as s:  # resume keeps each, and can append after them
            assert list(s.done.values()) == kept and s.header == header
            s.append(dict(recs[0], key="new"))
        assert load(path)[1] == kept + [dict(recs[0], key="new")]


def test_a_complete_last_line_without_newline_is_kept_on_resume(tmp_path):
    # the reported case: 12 cells, the last without its newline; resume must keep all 12
    path = tmp_path / RESULTS
    recs = keyed([{"backend": "numpy", "op": "forward", "m": m, "n_h": 4, "n_x": 2, "n_y": 1,
                   "dtype": "float64", "threads": 0, "hidden": "tanh", "output": "sigmoid",
                   "status": "skipped", "median_s": None} for m in range(1, 13)])
    with Store(path, {}, resume=False) as s:
        for r in recs:
            s.append(r)
    path.write_bytes(path.read_bytes()[:-1])
    assert len(load(path)[1]) == 12
    with Store(path, {}, resume=True) as s:
        assert len(s.done) == 12
    assert path.read_bytes().endswith(b"}\n") and len(load(path)[1]) == 12


# --- validation -------------------------------------------------------------------------------

BAD = {
    "missing field": lambda r: r.pop("dtype"),
    "m a string": lambda r: r.update(m="100"),
    "m zero": lambda r: r.update(m=0),
    "m a float": lambda r: r.update(m=100.0),
    "n_h a bool": lambda r: r.update(n_h=True),
    "threads negative": lambda r: r.update(threads=-1),
    "backend a number": lambda r: r.update(backend=3),
    "status unknown": lambda r: r.update(status="done"),
    "samples empty": lambda r: r.update(status="ok", samples=[], median_s=1.0, min_s=1.0,
                                        q1_s=1.0, q3_s=1.0),
    "median zero": lambda r: r.update(status="ok", samples=[1.0], median_s=0.0, min_s=1.0,
                                      q1_s=1.0, q3_s=1.0),
    "min negative": lambda r: r.update(status="ok", samples=[1.0], median_s=1.0, min_s=-0.5,
                                       q1_s=1.0, q3_s=1.0),
    "q3 infinite": lambda r: r.update(status="ok", samples=[1.0], median_s=1.0, min_s=1.0,
                                      q1_s=1.0, q3_s=math.inf),
    "sample nan": lambda r: r.update(status="ok", samples=[1.0, math.nan], median_s=1.0,
                                     min_s=1.0, q1_s=1.0, q3_s=1.0),
    "ok without q1": lambda r: (r.update(status="ok", samples=[1.0], median_s=1.0, min_s=1.0,
                                         q3_s=1.0), r.pop("q1_s", None)),
    "over budget without prediction": lambda r: (r.update(status="over_budget"),
                                                 r.pop("predicted_s", None)),
    "negative stddev": lambda r: r.update(stddev_s=-1e-9),
    "flops a string": lambda r: r.update(flops="many"),
    "not an object": lambda r: r.clear(),
}


@FAST
@given(good=st.lists(records(), max_size=4), rec=records(), bad=st.sampled_from(sorted(BAD)),
       data=st.data())
def test_an_invalid_record_is_rejected_naming_file_and_line(good, rec, bad, data):
    BAD[bad](rec)
    line = rec if rec else [1, 2]  # "not an object": a JSON array
    at = data.draw(st.integers(0, len(good)), label="position")
    lines = [{"format": FORMAT}] + good[:at] + [line] + good[at:]
    assert S.check_record(line) is not None
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, RESULTS)
        _write(path, lines)
        with pytest.raises(ResultsError, match=rf"{re.escape(path)}: line {at + 2}\b"):
            load(path)


@pytest.mark.parametrize("header, msg", [
    ({"format": "other"}, "not a fastnn results file"),
    ({"format": FORMAT, "run_id": ""}, "run_id"),
    ({"format": FORMAT, "run_id": 7}, "run_id"),
])
def test_bad_headers(tmp_path, header, msg):
    _write(tmp_path / RESULTS, [header])
    with pytest.raises(ResultsError, match=msg):
        load(tmp_path / RESULTS)


def test_torn_line_in_the_middle_is_an_error_not_a_silent_loss(tmp_path):
    p = tmp_path / RESULTS
    p.write_text(f'{{"format": "{FORMAT}"}}\n{{"backend": "nu\n')
    with pytest.raises(ResultsError, match="line 2 is not JSON"):
        load(p)


def test_append_stores_an_invalid_measurement_as_failed(tmp_path):
    # a writer never makes a file its reader rejects: the sweep goes on, the record says why
    rec = {"backend": "numba", "op": "forward", "m": 10, "n_h": 4, "n_x": 2, "n_y": 1,
           "dtype": "float64", "threads": 0, "hidden": "tanh", "output": "sigmoid",
           "status": "ok", "key": "k", "median_s": 0.0, "min_s": 0.0, "q1_s": 0.0, "q3_s": 0.0,
           "samples": [0.0]}
    with Store(tmp_path / RESULTS, {}, resume=False) as s:
        stored = s.append(rec)
        with pytest.raises(ResultsError, match="refusing"):
            s.append({"backend": "numba"})
    assert stored["status"] == "failed" and stored["why"]["code"] == "invalid_record"
    assert "median_s = 0.0" in stored["why"]["problem"]
    assert load(tmp_path / RESULTS)[1] == [stored] and s.done == {"k": stored}


def test_load_accepts_a_folder(tmp_path):
    with Store(tmp_path / RESULTS, {}, resume=False):
        pass
    assert load(tmp_path)[0]["format"] == FORMAT
    (tmp_path / "sub").mkdir()
    with pytest.raises(ResultsError, match=f"sub/{RESULTS}: no such results file"):
        load(tmp_path / "sub")


# --- run ids ----------------------------------------------------------------------------------

def test_every_new_file_has_its_own_run_id_and_resume_keeps_it(tmp_path):
    ids = []
    for name in ("a", "b"):
        with Store(tmp_path / name / RESULTS, {"same": "header"}, resume=False) as s:
            ids.append(s.header["run_id"])
        assert load(tmp_path / name)[0]["run_id"] == ids[-1]
    assert ids[0] != ids[1]
    with Store(tmp_path / "a" / RESULTS, {}, resume=True) as s:
        assert s.header["run_id"] == ids[0]


def test_an_old_file_without_run_id_gets_a_stable_one_from_its_header(tmp_path):
    for name in ("hostA", "hostB"):
        (tmp_path / name / "latest").mkdir(parents=True)
        _write(tmp_path / name / "latest" / RESULTS, [{"format": FORMAT, "host": name}])
    a1 = load(tmp_path / "hostA" / "latest")[0]["run_id"]
    assert a1 == load(tmp_path / "hostA" / "latest")[0]["run_id"]
    assert a1 != load(tmp_path / "hostB" / "latest")[0]["run_id"]
    with Store(tmp_path / "hostA" / "latest" / RESULTS, {}, resume=True) as s:
        assert s.header["run_id"] == a1


# --- one writer per folder --------------------------------------------------------------------

HOLD = """
import sys
from fastnn.bench.store import Store
with Store(sys.argv[1], {"holder": True}, resume=False):
    print("locked", flush=True)
    sys.stdin.readline()
"""

TRY = """
import sys
from fastnn.bench.store import FolderBusyError, Store
try:
    Store(sys.argv[1], {}, resume=True).close()
except FolderBusyError as e:
    print(e); sys.exit(3)
"""


def holder(path):
    """A second process holding the folder's Store until its stdin is closed."""
    p = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "locked"
    return p


@pytest.mark.slow
def test_one_writer_per_folder_across_two_processes(tmp_path):
    out = tmp_path / "out"
    path = out / RESULTS
    p = holder(path)
    try:
        before = path.read_bytes()
        with pytest.raises(FolderBusyError, match=rf"{re.escape(str(out))}: another fastnn run "
                                                  rf"\(pid {p.pid}\) is writing this folder"):
            Store(path, {}, resume=False)
        assert path.read_bytes() == before  # the refused writer touched nothing
    finally:
        p.stdin.close()
        p.wait(timeout=30)
    with Store(path, {}, resume=True) as s:  # released when the holder ended
        assert s.header["holder"] is True
        r = subprocess.run([sys.executable, "-c", TRY, str(path)], capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 3 and "another fastnn run" in r.stdout
    r = subprocess.run([sys.executable, "-c", TRY, str(path)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr  # closed: the other process may write


def test_the_lock_is_reentrant_within_a_process(tmp_path):
    with S.FolderLock(tmp_path):
        with Store(tmp_path / RESULTS, {}, resume=False) as s:
            s.append(dict(keyed([{"backend": "x", "op": "y", "m": 1, "n_h": 1, "n_x": 1,
                                  "n_y": 1, "dtype": "float64", "threads": 0, "hidden": "tanh",
                                  "output": "sigmoid", "status": "skipped"}])[0]))
        assert S._HELD  # the outer holder still has it
    assert not S._HELD


# --- manifest ---------------------------------------------------------------------------------

def _files(d, **content):
    for name, text in content.items():
        (d / name).write_text(text)
    return sorted(content)


def test_a_new_report_removes_only_the_old_reports_leftovers(tmp_path):
    d = tmp_path
    assert write_manifest(d, "report", _files(d, **{"index.md": "1", "a.png": "A",
                                                    "b.png": "B", "c.png": "C"})) == []
    _files(d, **{"mine.txt": "user", "results.jsonl": "data"})
    write_manifest(d, "bench", ["results.jsonl"])
    (d / "c.png").write_text("edited by the user")
    names = _files(d, **{"index.md": "2", "a.png": "A2"})
    assert stale_files(d, "report", names) == ["b.png"]  # c.png was edited: not ours any more
    assert write_manifest(d, "report", names) == ["b.png"]
    assert sorted(os.listdir(d)) == [".fastnn-files", "a.png", "c.png", "index.md", "mine.txt",
                                     "results.jsonl"]
    # the bench's files are never the report's leftovers, and the report leaves them be
    assert write_manifest(d, "report", []) == ["a.png", "index.md"]
    assert (d / "results.jsonl").exists() and (d / "mine.txt").exists()


def test_without_a_trustworthy_manifest_nothing_is_removed(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    _files(d, **{"old.png": "x", "index.md": "y"})
    assert write_manifest(d, "report", ["index.md"]) == []  # an old folder with no manifest
    outside = tmp_path / "outside.txt"
    outside.write_text("z")
    digest = S._digest(outside)
    (d / S.MANIFEST).write_text(json.dumps({"report": {"../outside.txt": digest,
                                                       "/etc/hostname": digest}}))
    assert write_manifest(d, "report", []) == [] and outside.exists()
    (d / S.MANIFEST).write_text("not json")
    assert stale_files(d, "report", []) == []
