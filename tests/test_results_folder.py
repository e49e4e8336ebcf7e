"""Nothing read from a results folder makes fastnn read, write or delete outside it.

Issue 19, case 6: rebuilding a report into a folder (``fastnn report DIR --out DIR``) removed the
stale files listed in ``DIR/.fastnn-files`` whose digest still matched; an entry running through
a symbolic link inside DIR (``link/notes.txt``, ``link`` pointing elsewhere, with that file's
SHA-256) passed the ``..``/absolute check and the file outside DIR was deleted. Results folders
are shared as archives between machines and people.

Every file operation during a rebuild is watched with an audit hook (``open``, ``os.remove``,
``os.rename``, ``os.replace``...): none may reach a path outside the folder.
"""

import hashlib
import json
import os
import shutil
import sys

import pytest

from fastnn.bench import store as S
from fastnn.bench.store import (LOCK, MANIFEST, RESULTS, ResultsError, member, results_path,
                                stale_files, write_manifest)
from fastnn.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGETS = os.path.join(ROOT, "reports", "targets")

# --- watching every file operation --------------------------------------------------------

_WATCH = []  # while a list is in here, file events are appended to it


def _hook(event, args):
    if _WATCH and event in ("open", "os.remove", "os.rename", "os.replace", "os.unlink",
                            "os.rmdir", "os.truncate", "os.chmod", "os.symlink", "os.link",
                            "shutil.rmtree", "os.mkdir"):
        path = args[0] if args else None
        if isinstance(path, (str, bytes, os.PathLike)):
            _WATCH[-1].append((event, os.fsdecode(path), args[1:]))


sys.addaudithook(_hook)


class Watch:
    def __enter__(self):
        self.events = []
        _WATCH.append(self.events)
        return self

    def __exit__(self, *exc):
        _WATCH.pop()
        return False

    def reached(self, outside):
        """Events whose target lies in ``outside``: a file opened is its real path (an open
        follows links); a name removed or replaced is the link itself, in its real folder."""
        out, hits = os.path.realpath(outside), []
        for event, path, rest in self.events:
            targets = [path] + [os.fsdecode(a) for a in rest[:1]
                                if event in ("os.rename", "os.replace")
                                and isinstance(a, (str, bytes, os.PathLike))]
            for p in targets:
                if event == "open":
                    real = os.path.realpath(p)
                else:
                    real = os.path.join(os.path.realpath(os.path.dirname(os.path.abspath(p))),
                                        os.path.basename(p))
                if real == out or real.startswith(out + os.sep):
                    hits.append((event, p))
        return hits


def _sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def _tree(folder):
    """{relative path: bytes} of every file below ``folder`` (links not followed)."""
    out = {}
    for dirpath, _, files in os.walk(folder):
        for f in files:
            p = os.path.join(dirpath, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, folder)] = fh.read()
    return out


# --- the crafted folder -------------------------------------------------------------------

@pytest.fixture
def crafted(tmp_path):
    """A shared folder ``d`` built from the targets report, booby-trapped, next to ``outside``.

    Its manifest claims, each with the right SHA-256: a file through a link to a folder outside
    (the issue's ``link/notes.txt``), a link to a file outside, ``..`` and absolute names, the
    manifest itself, the results file (in the folder and in a subfolder); and fastnn's own
    output names (index.md, results.csv, results-benchmark.json, a figure, paired.json) are
    links to files outside.
    """
    d, outside = tmp_path / "d", tmp_path / "outside"
    d.mkdir()
    outside.mkdir()
    shutil.copy(os.path.join(TARGETS, RESULTS), d / RESULTS)
    shutil.copy(os.path.join(TARGETS, "paired.json"), outside / "paired.json")
    for name in ("notes.txt", "secret.txt", "other.txt", "abs.txt", "index.md", "results.csv",
                 "bench.json", "fig.png"):
        (outside / name).write_text(f"the owner's {name}\n")
    (d / "old").mkdir()
    (d / "old" / RESULTS).write_text((d / RESULTS).read_text())
    os.symlink(outside, d / "link")
    os.symlink(outside / "secret.txt", d / "secret-link.txt")
    os.symlink(outside / "index.md", d / "index.md")
    os.symlink(outside / "results.csv", d / "results.csv")
    os.symlink(outside / "bench.json", d / "results-benchmark.json")
    os.symlink(outside / "fig.png", d / "fig4_time_vs_nh.png")
    os.symlink(outside / "paired.json", d / "paired.json")
    claims = {
        "link/notes.txt": _sha(outside / "notes.txt"),
        "secret-link.txt": _sha(outside / "secret.txt"),
        "../outside/other.txt": _sha(outside / "other.txt"),
        "./../outside/other.txt": _sha(outside / "other.txt"),
        "old/../../outside/other.txt": _sha(outside / "other.txt"),
        str(outside / "abs.txt"): _sha(outside / "abs.txt"),
        "//" + str(outside / "abs.txt"): _sha(outside / "abs.txt"),
        RESULTS: _sha(d / RESULTS),
        "old/" + RESULTS: _sha(d / "old" / RESULTS),
        MANIFEST: "0" * 64,
        LOCK: "0" * 64,
        "index.md": _sha(outside / "index.md"),
        "fig4_time_vs_nh.png": _sha(outside / "fig.png"),
    }
    (d / MANIFEST).write_text(json.dumps({"report": claims, "bench": {
        "paired.json": _sha(outside / "paired.json"), "results.csv": _sha(outside / "results.csv"),
        "results-benchmark.json": _sha(outside / "bench.json"), "gone.txt": "0" * 64}}))
    return d, outside


@pytest.mark.slow  # a real report rebuild (~4 s)
def test_a_crafted_folder_touches_nothing_outside_it(crafted, capsys):
    d, outside = crafted
    before_out, results = _tree(outside), (d / RESULTS).read_bytes()
    old_results = (d / "old" / RESULTS).read_bytes()
    with Watch() as w:
        assert main(["report", str(d), "--out", str(d)]) == 0, capsys.readouterr().err
    assert w.reached(outside) == []  # nothing opened, written, replaced or removed out there
    assert _tree(outside) == before_out  # so every file outside is as it was, none added
    assert (d / RESULTS).read_bytes() == results  # the results files are never touched
    assert (d / "old" / RESULTS).read_bytes() == old_results
    assert os.path.islink(d / "link") and os.path.islink(d / "secret-link.txt")
    for name in ("index.md", "results.csv", "results-benchmark.json", "fig4_time_vs_nh.png"):
        assert not os.path.islink(d / name) and os.path.isfile(d / name)  # replaced, not followed
    doc = json.loads((d / MANIFEST).read_text())
    listed = [n for kind in doc.values() for n in kind]
    assert all(member(d, n) is not None and not os.path.islink(d / n) for n in listed)
    assert MANIFEST not in listed and "paired.json" not in listed  # a link is not recorded


# --- each trap on its own (fast) ------------------------------------------------------------

def test_the_issues_case_a_link_inside_to_a_file_outside(tmp_path):
    """``link/notes.txt`` with ``link`` pointing out of the folder and the outside file's
    SHA-256 in the manifest: it survives (it was deleted)."""
    d, outside = tmp_path / "d", tmp_path / "elsewhere"
    d.mkdir()
    outside.mkdir()
    (outside / "notes.txt").write_text("precious")
    os.symlink(outside, d / "link")
    (d / MANIFEST).write_text(json.dumps({"report": {"link/notes.txt":
                                                     S._digest(outside / "notes.txt")}}))
    with Watch() as w:
        assert stale_files(d, "report", []) == []
        assert write_manifest(d, "report", []) == []
    assert (outside / "notes.txt").read_text() == "precious"
    assert w.reached(outside) == []


@pytest.mark.parametrize("name", ["../x.txt", "a/../../x.txt", "/abs/x.txt", "", ".", "a//b",
                                  "a/./b", 3, None, "nul\0.txt"])
def test_member_refuses_names_that_are_not_plain(tmp_path, name):
    assert member(tmp_path, name) is None


def test_member_resolves_against_the_real_path_and_refuses_any_link(tmp_path):
    real = tmp_path / "real"
    (real / "sub").mkdir(parents=True)
    (real / "sub" / "f.txt").write_text("x")
    os.symlink(real, tmp_path / "alias")  # the folder itself reached through a link: fine
    assert member(tmp_path / "alias", "sub/f.txt") == str(real / "sub" / "f.txt")
    assert member(real, "not/yet/there.txt") == str(real / "not" / "yet" / "there.txt")
    os.symlink(real / "sub", real / "inner")  # a link, even one staying inside: refused
    os.symlink(real / "sub" / "f.txt", real / "f-link.txt")
    assert member(real, "inner/f.txt") is None and member(real, "f-link.txt") is None


def test_a_manifest_never_removes_itself_the_lock_or_a_results_file(tmp_path):
    d = tmp_path
    for name in (RESULTS, "old.jsonl", LOCK):
        (d / name).write_text(name)
    (d / "sub").mkdir()
    (d / "sub" / RESULTS).write_text("r")
    claims = {n: S._digest(d / n) for n in (RESULTS, "old.jsonl", LOCK, "sub/" + RESULTS)}
    (d / MANIFEST).write_text(json.dumps({"bench": dict(claims, **{MANIFEST: "0" * 64})}))
    assert stale_files(d, "bench", []) == []
    assert write_manifest(d, "bench", []) == []
    assert sorted(os.listdir(d)) == sorted([MANIFEST, RESULTS, "old.jsonl", LOCK, "sub"])


def test_a_linked_manifest_is_not_read(tmp_path):
    d, outside = tmp_path / "d", tmp_path / "o"
    d.mkdir()
    outside.mkdir()
    (d / "a.png").write_text("A")
    (outside / "m.json").write_text(json.dumps({"report": {"a.png": S._digest(d / "a.png")}}))
    os.symlink(outside / "m.json", d / MANIFEST)
    with Watch() as w:
        assert stale_files(d, "report", []) == []
        write_manifest(d, "report", ["a.png"])
    assert (d / "a.png").exists() and w.reached(outside) == []
    assert not os.path.islink(d / MANIFEST)  # replaced by the folder's own manifest
    assert json.loads((outside / "m.json").read_text())["report"]  # the outside file is as was


def test_a_linked_results_file_or_lock_is_refused(tmp_path, capsys):
    d, outside = tmp_path / "d", tmp_path / "o"
    d.mkdir()
    outside.mkdir()
    shutil.copy(os.path.join(TARGETS, RESULTS), outside / RESULTS)
    os.symlink(outside / RESULTS, d / RESULTS)
    with pytest.raises(ResultsError, match="is a symbolic link"):
        results_path(d)
    with pytest.raises(ResultsError, match="is a symbolic link"):
        S.Store(d / RESULTS, {}, resume=True)
    assert main(["report", str(d), "--out", str(tmp_path / "r")]) == 2
    assert "is a symbolic link" in capsys.readouterr().err
    os.remove(d / RESULTS)
    if os.path.lexists(d / LOCK):
        os.remove(d / LOCK)
    (outside / "lock").write_text("the owner's file\n")
    os.symlink(outside / "lock", d / LOCK)
    with pytest.raises(ResultsError, match="lock file is a symbolic link"):
        S.FolderLock(d).acquire()
    assert (outside / "lock").read_text() == "the owner's file\n"  # not truncated


def test_report_rebuild_reexports_and_keeps_the_runs_other_files(tmp_path):
    """``fastnn report DIR --out DIR`` first rewrites DIR's results-benchmark.json from its
    results.jsonl (store.reexport), keeping paired.json in the bench run's list."""
    d = tmp_path
    for name in (RESULTS, "paired.json", MANIFEST):
        shutil.copy(os.path.join(TARGETS, name), d / name)
    (d / "results-benchmark.json").write_text("{}")  # an old file, claimed by no one now
    S.reexport(d)
    doc = json.loads((d / "results-benchmark.json").read_text())
    assert len(doc["benchmarks"]) == sum(r["status"] == "ok" for r in S.load(d)[1])
    assert {"outliers", "ops", "total"} <= set(doc["benchmarks"][0]["stats"])
    assert (d / "paired.json").exists()
    assert "paired.json" in json.loads((d / MANIFEST).read_text())["bench"]
