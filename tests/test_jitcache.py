"""fastnn's Numba cache (``fastnn._jitcache``): keyed to the code, and never in the way.

The subprocess tests copy the package into a fresh folder, so they compile from an empty cache
(a few seconds each): they are ``slow``.
"""

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

import fastnn
from fastnn import _jitcache as J

PROBE = textwrap.dedent("""
    import json, warnings
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        import fastnn
        from fastnn import _jitcache as J
        from fastnn.backends import numba_fused as NF
        X, Y = fastnn.flower(60, seed=1)
        out = {}
        for name in fastnn.BACKENDS:
            r = fastnn.fit(X, Y, n_h=3, backend=name, iterations=5, seed=2)
            out[name] = float(r.costs[-1])
    run = NF._kernels(*NF._codes("tanh", "sigmoid")).fit_serial
    print(json.dumps({
        "costs": out, "folder": str(J.FOLDER), "cache": J.CACHE,
        "hits": sum(run.stats.cache_hits.values()),
        "misses": sum(run.stats.cache_misses.values()),
        "warnings": [str(x.message) for x in w if "fastnn" in str(x.message)],
    }))
""")


def _copy_package(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(os.path.dirname(fastnn.__file__), src / "fastnn",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return src


def _env(src, home):
    env = {k: v for k, v in os.environ.items()
           if k not in ("NUMBA_CACHE_DIR", "XDG_CACHE_HOME", "PYTHONPATH")}
    return dict(env, PYTHONPATH=str(src), HOME=str(home))


def _probe(src, home, wrap=()):
    r = subprocess.run([*wrap, sys.executable, "-c", PROBE], env=_env(src, home), cwd=str(home),
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_the_key_changes_with_any_source_file(tmp_path):
    src = _copy_package(tmp_path) / "fastnn"
    before = J.source_key(src)
    assert before == J.source_key(src) and len(before) == 16
    path = src / "backends" / "_fastmath.py"
    path.write_text(path.read_text() + "\n# an edit\n")
    assert J.source_key(src) != before


def test_the_users_numba_cache_dir_comes_first(monkeypatch, tmp_path):
    monkeypatch.setattr(J.config, "CACHE_DIR", str(tmp_path))
    first = J.candidates()[0]
    assert first.parent == tmp_path and J.KEY in first.name
    assert J.PACKAGE / "__pycache__" in [p.parent for p in J.candidates()]


def test_only_fastnns_files_use_the_keyed_folder(tmp_path):
    def f():
        return 1
    other = tmp_path / "mod.py"
    other.write_text("x = 1\n")
    assert J._Locator.from_function(f, str(other)) is None
    loc = J._Locator.from_function(J.find_folder, J.__file__)
    assert (loc is None) == (J.FOLDER is None)
    if loc is not None:
        assert loc.get_cache_path() == str(J.FOLDER)
        assert J._Locator(f, os.path.join(str(J.PACKAGE), "backends", "x.py")).get_disambiguator(
        ).startswith("backends.")


@pytest.mark.slow
def test_an_edited_kernel_never_reuses_an_old_cache_entry(tmp_path):
    src = _copy_package(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    first = _probe(src, home)
    assert first["cache"] and first["folder"].startswith(str(src)) and first["misses"] == 1
    again = _probe(src, home)
    assert again["hits"] == 1 and again["misses"] == 0 and again["costs"] == first["costs"]
    # change tanh in _fastmath.py only (the kernels' own files are untouched): tanh(x) -> tanh(x)/2
    path = src / "fastnn" / "backends" / "_fastmath.py"
    text = path.read_text()
    old = "return math.copysign(abs(q) / (2.0 + q), x)"
    assert text.count(old) == 1
    path.write_text(text.replace(old, "return 0.5 * math.copysign(abs(q) / (2.0 + q), x)"))
    edited = _probe(src, home)
    assert edited["folder"] != first["folder"]
    assert edited["hits"] == 0 and edited["misses"] == 1
    assert edited["costs"]["numba"] != pytest.approx(first["costs"]["numba"], rel=1e-6)


def _read_only(paths):
    """A command prefix running a program with ``paths`` mounted read-only (root: a private
    mount namespace; root ignores file modes), or None where that cannot be done here."""
    if os.geteuid() != 0:
        for p in paths:
            for d, _, files in os.walk(p):
                os.chmod(d, 0o555)
                for f in files:
                    os.chmod(os.path.join(d, f), 0o444)
        return ()
    if not shutil.which("unshare"):
        return None
    mounts = " && ".join(f"mount --bind -o ro '{p}' '{p}'" for p in paths)
    if subprocess.run(["unshare", "-m", "sh", "-c", f"{mounts} && true"]).returncode != 0:
        return None
    return ("unshare", "-m", "sh", "-c", f'{mounts} && exec "$0" "$@"')


@pytest.mark.slow
def test_a_read_only_install_imports_and_trains_on_every_backend(tmp_path):
    src = _copy_package(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    wrap = _read_only([src, home])
    if wrap is None:
        pytest.skip("cannot make a read-only folder here (no unshare/mount as root)")
    out = _probe(src, home, wrap)
    assert out["cache"] is False and out["folder"] == "None"
    assert set(out["costs"]) == set(fastnn.BACKENDS)
    numpy_cost = out["costs"]["numpy"]
    for name, c in out["costs"].items():
        assert c == pytest.approx(numpy_cost, rel=1e-7), name
    assert len(out["warnings"]) == 1 and "not cached" in out["warnings"][0]
    assert not any((src / "fastnn").rglob("*.nbi"))


def test_an_unwritable_numba_cache_dir_is_said_not_passed_over(monkeypatch):
    monkeypatch.setattr(J.config, "CACHE_DIR", "/proc/fastnn-cannot-write-here")
    with pytest.warns(RuntimeWarning, match="NUMBA_CACHE_DIR=/proc/fastnn-cannot-write-here is "
                                            "not writable"):
        found = J.find_folder()
    assert found is None or "/proc/" not in str(found)
