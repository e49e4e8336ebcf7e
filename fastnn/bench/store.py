"""Results on disk: one JSON line per finished cell, appended and flushed as it finishes, so a sweep
killed at any moment keeps every finished cell. Exports: a tidy CSV and pytest-benchmark JSON.

Guarantees:

- a complete line is never lost: only a last line cut short by a kill (not JSON) is dropped;
- one writer per output folder: a :class:`Store` holds an exclusive lock on ``OUT/.lock``;
- every record :func:`load` returns has been validated (fields, types, finite positive timings),
  so everything downstream (:func:`export`, the report) can trust it;
- every file has a ``run_id`` that tells runs apart (an old file without one gets a stable id
  derived from its header);
- a folder's manifest (:data:`MANIFEST`) lists what fastnn wrote there, so a new run removes its
  predecessor's leftovers and nothing else (:func:`write_manifest`);
- a results folder is shared between machines and people as an archive, so nothing read from
  one makes fastnn read, write or delete outside it: every name in it (manifest entries, the
  results file, ``paired.json``, the lock) is resolved against the folder's real path and used
  only when no symbolic link lies on the way (:func:`member`); fastnn writes its files by
  atomic replacement (:func:`write_atomic`), which replaces a link in their place instead of
  writing through it; a manifest never names the manifest, the lock or a results file for
  removal.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import math
import os
import stat
import statistics
import tempfile
import threading
import uuid

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no folder lock
    fcntl = None

from ..datasets import DATASETS
from .codes import Why, why
from .grid import FIT_OP

FORMAT = "fastnn-bench/1"
RESULTS = "results.jsonl"
LOCK = ".lock"
MANIFEST = ".fastnn-files"

#: Columns of the tidy CSV, in order (one row per cell).
COLUMNS = ["backend", "op", "m", "n_h", "n_x", "n_y", "dtype", "threads", "hidden", "output",
           "steps", "status", "extrapolated", "message", "median_s", "min_s", "q1_s", "q3_s", "iqr_s",
           "mean_s", "stddev_s", "rounds", "calls_per_round", "predicted_s", "first_call_s",
           "compile_s", "mem_traced_bytes", "mem_rss_bytes", "flops", "bytes", "gflops", "gbs",
           "headline", "budget_s", "disturbed", "contention_reason", "order", "workers_spread",
           "workers_disagree", "n_modes", "faults_minor", "faults_major", "working_set_bytes",
           "mem_step_bytes", "why", "notes", "contention_over", "workers_apart", "workers_iqr",
           "data", "final_cost"]
#: Columns of :data:`COLUMNS` that hold codes (:mod:`.codes`), not numbers: ``why`` a record's
#: why code, ``notes`` its notes' codes and ``contention_over`` the contention facts over their
#: threshold, each list joined by ",". ``message``, ``contention_reason`` and
#: ``workers_disagree`` are the words of files written before the codes (empty since).
CODES = ("why", "notes", "contention_over")
STATUSES = ("ok", "over_budget", "skipped", "failed", "wrong")
#: Required in every record (the cell's identity and its status): field -> (type, smallest
#: value). ``threads`` 0 means all cores.
REQUIRED = {"backend": (str, None), "op": (str, None), "m": (int, 1), "n_h": (int, 1),
            "n_x": (int, 1), "n_y": (int, 1), "dtype": (str, None), "threads": (int, 0),
            "hidden": (str, None), "output": (str, None), "status": (str, None)}
#: Checked when present and not None. ``steps``: the gradient-descent steps of one timed run,
#: required for the op ``fit``, whose timings (and ``predicted_s``) are per step.
OPTIONAL = {"key": (str, None), "message": (str, None), "why": (dict, None), "notes": (list, None),
            "workers_apart": (bool, None), "extrapolated": (bool, None),
            "rounds": (int, 1), "calls_per_round": (int, 1), "disturbed": (bool, None),
            "headline": (bool, None), "contention": (dict, None), "steps": (int, 1),
            "order": (int, 0), "worker_pid": (int, 1), "workers": (list, None),
            "workers_disagree": (str, None), "modes": (list, None),
            "value_faults": (list, None), "value_system_s": (list, None),
            "data": (str, None)}
#: Timings a measured (``ok``) cell must have: finite and > 0.
TIMINGS = ("median_s", "min_s", "q1_s", "q3_s")
#: Other quantities: finite and >= 0 when present and not None.
NON_NEGATIVE = ("iqr_s", "mean_s", "stddev_s", "predicted_s", "first_call_s", "compile_s",
                "workers_spread", "workers_iqr", "faults_minor", "faults_major", "working_set_bytes",
                "mem_traced_bytes", "mem_rss_bytes", "mem_step_bytes", "flops", "bytes", "gflops", "gbs",
                "budget_s", "final_cost")


class ResultsError(ValueError):
    """A results file that cannot be read: names the file and the problem."""


class FolderBusyError(ResultsError):
    """Another process holds the output folder's lock."""


def _error(path, problem):
    """The :class:`ResultsError` of ``path`` with ``problem`` (a phrase), for the caller to
    raise."""
    return ResultsError(f"{path}: {problem}")


# --- validation -------------------------------------------------------------------------------

def _is(v, typ):
    if typ is int:
        return isinstance(v, int) and not isinstance(v, bool)
    return isinstance(v, typ)


def _positive_number(v, strict=True):
    """A finite number > 0 (>= 0 unless strict); an int of any size is finite."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return False
    if isinstance(v, float) and not math.isfinite(v):
        return False
    return v > 0 if strict else v >= 0


def check_record(rec):
    """The first problem with a cell record, as a phrase, or None if it is valid."""
    if not isinstance(rec, dict):
        return "is not a JSON object"
    missing = [k for k in REQUIRED if k not in rec]
    if missing:
        return f"is missing {', '.join(missing)}"
    for spec, required in ((REQUIRED, True), (OPTIONAL, False)):
        for k, (typ, low) in spec.items():
            v = rec.get(k)
            if v is None and not required:
                continue
            if not _is(v, typ):
                return f"has {k} = {v!r}, expected {'an integer' if typ is int else typ.__name__}"
            if low is not None and v < low:
                return f"has {k} = {v!r}, expected >= {low}"
    if rec["status"] not in STATUSES:
        return f"has status {rec['status']!r}, expected one of {', '.join(STATUSES)}"
    if rec.get("data") and rec["data"] not in DATASETS:
        return f"has data = {rec['data']!r}, expected one of {', '.join(DATASETS)} or none"
    if rec["op"] == FIT_OP and rec.get("steps") is None:
        return f"is a {FIT_OP} record without steps (the steps of one timed training run)"
    for k in NON_NEGATIVE:
        if rec.get(k) is not None and not _positive_number(rec[k], strict=False):
            return f"has {k} = {rec[k]!r}, expected a finite number >= 0"
    if rec["status"] == "over_budget" and not _positive_number(rec.get("predicted_s")):
        return f"is over_budget with predicted_s = {rec.get('predicted_s')!r}, expected > 0"
    if rec["status"] == "ok":
        for k in TIMINGS:
            if k not in rec:
                return f"is missing {k} (required with status ok)"
            if not _positive_number(rec[k]):
                return f"is ok with {k} = {rec.get(k)!r}, expected a finite number > 0"
        s = rec.get("samples")
        if not isinstance(s, list) or not s or not all(_positive_number(v) for v in s):
            return "is ok but samples is not a non-empty list of finite numbers > 0"
    return None


def _check_header(path, header):
    if header.get("format") != FORMAT:
        raise _error(path, "not a fastnn results file (expected a first line with format "
                     f"{FORMAT!r})")
    rid = header.get("run_id")
    if rid is not None and (not isinstance(rid, str) or not rid):
        raise _error(path, f"line 1 has run_id = {rid!r}, expected a non-empty string")


def derived_run_id(header):
    """A stable id for a header written before run ids existed: a hash of its content."""
    text = json.dumps(header, sort_keys=True, default=str)
    return "h" + hashlib.sha256(text.encode()).hexdigest()[:31]


# --- reading ----------------------------------------------------------------------------------

def results_path(path):
    """A results file, or a folder holding :data:`RESULTS` (not through a link: see
    :func:`member`)."""
    path = os.fspath(path)
    if not os.path.isdir(path):
        return path
    if member(path, RESULTS) is None:
        raise _error(os.path.join(path, RESULTS), "is a symbolic link; fastnn reads a results "
                     "folder's own files only, never through a link")
    return os.path.join(path, RESULTS)


def _parse(path):
    """(header, cells, tail) where tail is "" (file ends with a newline), "complete" (a valid last
    line without its newline) or "torn" (a last line cut short, dropped)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise _error(path, "no such results file")
    except IsADirectoryError:
        raise _error(path, "is a folder, not a results file")
    parts = data.split(b"\n")
    records, tail = [], ""
    for i, part in enumerate(parts):
        if not part.strip():
            continue
        last = i == len(parts) - 1  # a line with no newline after it
        try:
            rec = json.loads(part)
        except ValueError:
            if last and records:
                tail = "torn"  # a write cut short by a kill: that cell was not finished
                break
            raise _error(path, f"line {i + 1} is not JSON; is this a fastnn results file?")
        if not records:
            if not isinstance(rec, dict):
                raise _error(path, "line 1 is not a JSON object; is this a fastnn results "
                             "file?")
            _check_header(path, rec)
        else:
            problem = check_record(rec)
            if problem:
                raise _error(path, f"line {i + 1} {problem}")
        records.append(rec)
        tail = "complete" if last else ""
    if not records:
        raise _error(path, "the file is empty")
    return records[0], records[1:], tail


def load(path):
    """Read a results file (or a folder holding one). Returns (header dict, list of cell records).

    Every record is validated (:func:`check_record`); the first invalid one is a
    :class:`ResultsError` naming the file and line. A last line cut short by a kill is dropped.
    The header always has a ``run_id``.
    """
    path = results_path(path)
    header, cells, _ = _parse(path)
    header.setdefault("run_id", derived_run_id(header))
    return header, cells


# --- writing ----------------------------------------------------------------------------------

_HELD = {}  # realpath of a lock file -> [fd, holders in this process]
_HELD_GUARD = threading.Lock()


class FolderLock:
    """An exclusive, non-blocking lock on ``out_dir/.lock``, re-entrant within one process.

    A second process gets a :class:`FolderBusyError` naming the folder. The lock file stays (removing
    it would let two processes lock two different files).
    """

    def __init__(self, out_dir):
        self.out_dir = os.fspath(out_dir) or "."
        self._key = None

    def acquire(self):
        if self._key is not None:
            return self
        os.makedirs(self.out_dir, exist_ok=True)
        key = os.path.join(os.path.realpath(self.out_dir), LOCK)
        with _HELD_GUARD:
            if key in _HELD:
                _HELD[key][1] += 1
            else:
                try:  # never through a link: the lock file is truncated and written
                    fd = os.open(key, os.O_RDWR | os.O_CREAT | _NOFOLLOW, 0o644)
                except OSError as exc:
                    if not os.path.islink(key):
                        raise
                    raise ResultsError(f"{key}: the lock file is a symbolic link; fastnn never "
                                       "writes through a link in a results folder") from exc
                try:
                    if fcntl is not None:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    holder = os.read(fd, 64).decode(errors="replace").strip()
                    os.close(fd)
                    raise FolderBusyError(
                        f"{self.out_dir}: another fastnn run{f' (pid {holder})' if holder else ''}"
                        " is writing this folder; wait for it to finish or choose another --out")
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode())
                _HELD[key] = [fd, 1]
        self._key = key
        return self

    def release(self):
        if self._key is None:
            return
        with _HELD_GUARD:
            held = _HELD[self._key]
            held[1] -= 1
            if held[1] == 0:
                del _HELD[self._key]
                os.close(held[0])  # closing the descriptor releases the flock
        self._key = None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()
        return False


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def write_atomic(path, data):
    """Write ``data`` (bytes or str) to ``path`` by replacing it whole: a reader sees the old
    file or the new one, and a symbolic link at ``path`` is replaced, never written through.

    The temporary file is created exclusively (``mkstemp``) beside ``path``, so no link planted
    under a predictable name is followed either.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    folder, name = os.path.split(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.lexists(tmp):
            os.remove(tmp)
        raise



class Store:
    """An append-only results file with its header (machine facts), locked for its life.

    Use as a context manager, or call :meth:`close`. With ``resume`` and an existing file, its header
    (and ``run_id``) and records are kept and ``done`` maps each record's key to it; otherwise a new
    file is written with ``header`` plus ``format`` and a fresh ``run_id``.
    """

    def __init__(self, path, header, resume):
        self.path = os.fspath(path)
        self.done = {}
        self._lock = FolderLock(os.path.dirname(os.path.abspath(self.path))).acquire()
        try:
            self._open(header, resume)
        except BaseException:
            self.close()
            raise

    def _open(self, header, resume):
        if os.path.islink(self.path):  # appended to: never through a link
            raise _error(self.path, "is a symbolic link; fastnn writes a results folder's own "
                         "files only, never through a link")
        if resume and os.path.exists(self.path):
            old, cells, tail = _parse(self.path)
            self.header = dict(old, run_id=old.get("run_id") or derived_run_id(old))
            self.done = {r["key"]: r for r in cells if "key" in r}
            if tail:
                with open(self.path, "rb+") as f:
                    data = f.read()
                    if tail == "torn":  # drop the cut line before appending
                        f.truncate(data.rfind(b"\n") + 1)
                    else:  # a complete record that lost only its newline: keep it
                        f.write(b"\n")
                    f.flush()
                    os.fsync(f.fileno())
        else:
            self.header = dict(header, format=FORMAT,
                               run_id=header.get("run_id") or uuid.uuid4().hex)
            write_atomic(self.path, (json.dumps(self.header) + "\n").encode())

    def append(self, rec):
        """Append one cell record and flush it to disk.

        A record that :func:`load` would reject is stored as ``failed`` with the reason, so the
        file stays readable and the sweep goes on.
        """
        problem = check_record(rec)
        if problem and isinstance(rec, dict):
            rec = {k: rec[k] for k in (*REQUIRED, *OPTIONAL) if k in rec}
            rec.update(status="failed", median_s=None, notes=[],
                       why=why(Why.INVALID_RECORD, problem=problem))
            problem = check_record(rec)
        if problem:
            raise ResultsError(f"{self.path}: refusing to append a record that {problem}")
        line = json.dumps(rec) + "\n"
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())
        if "key" in rec:
            self.done[rec["key"]] = rec
        return rec

    def close(self):
        self._lock.release()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __del__(self):
        lock = getattr(self, "_lock", None)
        if lock is not None:
            lock.release()


# --- outputs ----------------------------------------------------------------------------------

def _digest(path):
    """SHA-256 of the regular file at ``path``, opened without following a link."""
    h = hashlib.sha256()
    with os.fdopen(os.open(path, os.O_RDONLY | _NOFOLLOW), "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def member(folder, name):
    """The path of ``name`` inside ``folder``, resolved against the folder's real path, or None.

    None unless ``name`` is a plain relative path (a non-empty str, not absolute, no ``.`` or
    ``..`` part, no NUL) and no symbolic link lies anywhere on the way to it, the last part
    included: a name read from a results folder (a manifest entry, the results file, paired.json)
    then cannot lead fastnn out of the folder, whatever links the folder holds.

    Parameters
    ----------
    folder : str or os.PathLike
    name : object
        As read from a file: anything that is not such a str gives None.

    Returns
    -------
    str or None
        An absolute path below ``os.path.realpath(folder)`` (the entry need not exist).
    """
    if not isinstance(name, str) or not name or "\0" in name or os.path.isabs(name):
        return None
    parts = name.replace(os.altsep or os.sep, os.sep).split(os.sep)
    if any(p in ("", ".", "..") for p in parts):
        return None
    root = os.path.realpath(folder)
    path = os.path.join(root, *parts)
    return path if os.path.realpath(path) == path else None


def _removable(name):
    """A manifest may name a file for removal only if it is not the manifest itself, the lock or
    a results file (``*.jsonl``): those are never removed by a manifest, whatever it says."""
    last = name.replace(os.altsep or os.sep, os.sep).split(os.sep)[-1]
    return last not in (MANIFEST, LOCK) and not last.endswith(".jsonl")


def _regular(path):
    """True for a regular file (not a link, folder or device) at ``path``."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def _read_manifest(out_dir):
    path = member(out_dir, MANIFEST)
    if path is None or not _regular(path):
        return {}  # no manifest, or a link: nothing is known to be ours, nothing is removed
    try:
        with os.fdopen(os.open(path, os.O_RDONLY | _NOFOLLOW), encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError):
        return {}  # unreadable: likewise
    if not isinstance(doc, dict):
        return {}
    return {k: v for k, v in doc.items() if isinstance(v, dict)}


def stale_files(out_dir, kind, names):
    """Files an earlier fastnn ``kind`` ("report", "bench") wrote in ``out_dir`` that are not in
    ``names``, no other kind claims, and are unchanged since fastnn wrote them (sorted).

    Only entries that :func:`member` resolves inside the folder, that are regular files (not
    links) and that :func:`_removable` allows are candidates; the digest is of the file itself.
    """
    doc = _read_manifest(out_dir)
    keep = set(names).union(*(set(v) for k, v in doc.items() if k != kind))
    out = []
    for name, digest in doc.get(kind, {}).items():
        if name in keep or not isinstance(digest, str) or not _removable(name):
            continue
        p = member(out_dir, name)
        if p is not None and _regular(p) and _digest(p) == digest:
            out.append(name)
    return sorted(out)


def write_manifest(out_dir, kind, names):
    """Call after writing ``names`` (paths relative to ``out_dir``) as ``kind``: removes the
    :func:`stale_files` of an earlier run and records ``names`` in ``out_dir/.fastnn-files``.

    Returns the names removed. A file fastnn did not write (or that was edited since), a file
    outside the folder or reached through a link, the manifest, the lock and the results files
    are never removed.
    """
    removed = stale_files(out_dir, kind, names)
    for name in removed:
        os.remove(member(out_dir, name))
    doc = _read_manifest(out_dir)
    doc[kind] = {n: _digest(p) for n in names if n != MANIFEST
                 and (p := member(out_dir, n)) is not None and _regular(p)}
    write_atomic(os.path.join(out_dir, MANIFEST),
                 (json.dumps(doc, indent=1, sort_keys=True) + "\n").encode())
    return removed


# --- exports ----------------------------------------------------------------------------------

def to_frame(cells):
    """The records as a tidy frame with :data:`COLUMNS`: the contention facts as the codes of
    those over their threshold (and an older file's reason), a record's why and notes as their
    codes (:data:`CODES`)."""
    import pandas as pd
    df = pd.DataFrame(cells)
    if "contention" in df:
        df["contention_reason"] = [c.get("reason") if isinstance(c, dict) else None
                                   for c in df["contention"]]
        df["contention_over"] = [",".join(c.get("over") or ()) if isinstance(c, dict) else None
                                 for c in df["contention"]]
    if "why" in df:
        df["why"] = [w.get("code") if isinstance(w, dict) else None for w in df["why"]]
    if "notes" in df:
        df["notes"] = [",".join(n.get("code", "") for n in v) if isinstance(v, list) else None
                       for v in df["notes"]]
    if "modes" in df:  # groups of a cell's values (.worker.modes); 0 when not recorded
        df["n_modes"] = [len(v) if isinstance(v, list) else 0 for v in df["modes"]]
    for col in COLUMNS:
        if col not in df:
            df[col] = None
    return df[COLUMNS]


#: The ``stats`` of one benchmark as pytest-benchmark 5 writes them (``Stats.fields``, then
#: ``data`` and ``iterations``), each with what it means. fastnn computes every one from the
#: cell's samples (seconds per call, one per round) by pytest-benchmark's own definitions
#: (``pytest_benchmark/stats.py``), so its ``compare`` (table, ``--csv``, histograms) reads them
#: as its own; fastnn's own quartiles (``numpy.percentile``) stay in results.csv.
BENCHMARK_STATS = (
    "min",              # the fastest sample
    "max",              # the slowest sample
    "mean",             # the mean of the samples
    "stddev",           # their sample standard deviation (n − 1 in the denominator; 0 for one)
    "rounds",           # the number of samples
    "median",           # the median sample
    "iqr",              # q3 − q1
    "q1",               # the first quartile, by pytest-benchmark's method (Tukey's hinges:
                        # Wikipedia's method 3 for an odd number of samples, 2 for an even one)
    "q3",               # the third quartile, by the same method
    "iqr_outliers",     # how many samples lie outside [q1 − 1.5 iqr, q3 + 1.5 iqr]
    "stddev_outliers",  # how many samples lie outside [mean − stddev, mean + stddev]
    "outliers",         # the two counts as pytest-benchmark shows them, 'stddev;iqr'
    "ld15iqr",          # the lowest sample at or above q1 − 1.5 iqr
    "hd15iqr",          # the highest sample at or below q3 + 1.5 iqr (pytest-benchmark >= 5.3;
                        # 5.2 took the first sample above that fence)
    "ops",              # calls per second, rounds / total = 1 / mean (0 when total is 0)
    "total",            # the sum of the samples
    "data",             # the samples themselves, seconds per call
    "iterations",       # calls per sample (each sample is a round's time divided by them)
)


def _quartiles(d):
    """(q1, q3) of sorted data, as pytest-benchmark's ``Stats.q1``/``q3``."""
    n = len(d)
    if n == 1:
        return d[0], d[0]
    if n % 2 == 0:  # method 2: medians of the lower and upper halves
        return statistics.median(d[:n // 2]), statistics.median(d[n // 2:])
    k, q = n // 4, n % 4  # method 3
    if q == 1:
        return 0.25 * d[k - 1] + 0.75 * d[k], 0.75 * d[3 * k] + 0.25 * d[3 * k + 1]
    return 0.75 * d[k] + 0.25 * d[k + 1], 0.25 * d[3 * k + 1] + 0.75 * d[3 * k + 2]


def benchmark_stats(samples, iterations=1):
    """pytest-benchmark 5's ``stats`` of one benchmark from its samples: every key of
    :data:`BENCHMARK_STATS`, computed as ``pytest_benchmark.stats.Stats`` computes it.

    Parameters
    ----------
    samples : list of float
        Seconds per call, one per round (finite, > 0; at least one).
    iterations : int
        Calls per round.

    Returns
    -------
    dict
        The keys of :data:`BENCHMARK_STATS` in that order. A sum that overflows (samples near
        the largest float, never a measurement) is written as None rather than inf.
    """
    d = sorted(samples)
    n, total = len(d), sum(samples)
    mean = statistics.mean(samples)
    std = statistics.stdev(samples) if n > 1 else 0
    q1, q3 = _quartiles(d)
    iqr = q3 - q1
    lo, hi = q1 - 1.5 * iqr, q3 + 1.5 * iqr
    pos = bisect.bisect_right(d, hi)
    stats = {
        "min": d[0], "max": d[-1], "mean": mean, "stddev": std, "rounds": n,
        "median": statistics.median(samples), "iqr": iqr, "q1": q1, "q3": q3,
        "iqr_outliers": sum(1 for v in samples if v < lo or v > hi),
        "stddev_outliers": sum(1 for v in samples if v < mean - std or v > mean + std),
        "outliers": None,
        "ld15iqr": d[0] if n == 1 else d[bisect.bisect_left(d, lo)],
        "hd15iqr": d[0] if n == 1 else d[pos - 1],
        "ops": n / total if total else 0, "total": total,
        "data": list(samples), "iterations": iterations,
    }
    stats["outliers"] = f"{stats['stddev_outliers']};{stats['iqr_outliers']}"
    return {k: None if isinstance(v, float) and not math.isfinite(v) else v
            for k, v in stats.items()}


def _benchmark(r):
    """One record in pytest-benchmark's format (any record :func:`load` accepts with status ok)."""
    steps = f"-s{r['steps']}" if r.get("steps") else ""  # a training run: stats are per step
    name = (f"{r['op']}[{r['backend']}-m{r['m']}-nh{r['n_h']}-{r['dtype']}-t{r['threads']}"
            f"{steps}]")
    return {
        "group": r["op"], "name": name, "fullname": f"fastnn bench::{name}",
        "params": {k: r[k] for k in ("backend", "m", "n_h", "n_x", "dtype", "threads", "steps")
                   if k in r},
        "param": name,
        "extra_info": {k: r.get(k) for k in ("compile_s", "first_call_s", "mem_traced_bytes",
                                             "mem_rss_bytes", "flops", "bytes", "gflops", "gbs")},
        "options": {"timer": "perf_counter", "min_time": 0.02},
        "stats": benchmark_stats(r["samples"], r.get("calls_per_round") or 1),
    }


def export(path, out_dir, also=()):
    """Write results.csv and results-benchmark.json in ``out_dir``.

    results-benchmark.json is pytest-benchmark 5's file format, one benchmark per measured
    (``ok``) cell, its ``stats`` those of :func:`benchmark_stats`; ``pytest-benchmark compare``
    reads it (with ``--csv`` too).
    """
    header, cells = load(path)
    write_atomic(os.path.join(out_dir, "results.csv"), to_frame(cells).to_csv(index=False))
    doc = {"machine_info": header.get("machine_info", {}),
           "commit_info": header.get("commit_info", {}),
           "benchmarks": [_benchmark(r) for r in cells if r["status"] == "ok"],
           "datetime": header.get("datetime"), "run_id": header["run_id"], "version": "5.1.0"}
    write_atomic(os.path.join(out_dir, "results-benchmark.json"), json.dumps(doc, indent=1))
    written = ["results.csv", "results-benchmark.json", *also]
    if os.path.samefile(os.path.dirname(os.path.abspath(results_path(path))), out_dir):
        written.append(RESULTS)
    write_manifest(out_dir, "bench", written)


def reexport(out_dir):
    """Rewrite ``out_dir``'s results.csv and results-benchmark.json from its own results file,
    as the sweep that wrote them did (:func:`export`), without measuring anything.

    The other files that sweep listed in the manifest (``paired.json``) are kept in its list,
    so they are not taken for stale. ``fastnn report DIR --out DIR`` calls this first, so a
    folder rebuilt from its results.jsonl gets every derived file of the current code.
    """
    own = {"results.csv", "results-benchmark.json", RESULTS}
    also = [n for n in _read_manifest(out_dir).get("bench", {}) if n not in own]
    export(os.path.join(out_dir, RESULTS), out_dir, also)



# --- paired.json: the rounds and the comparisons (typed: :mod:`.records`) --------------------

PAIRED = "paired.json"


def write_paired(out_dir, doc):
    """Write a :class:`.records.PairedDoc` as ``out_dir/paired.json``."""
    write_atomic(os.path.join(out_dir, PAIRED), json.dumps(doc.to_json(), indent=1))


def load_paired(path, header=None):
    """The :class:`.records.PairedDoc` written beside a results file (``path``: the file or
    its folder) by the same run, or an empty one (no file, another run's, a link in the way,
    not JSON). ``header``: the results file's, when already loaded. A malformed record is a
    :class:`ResultsError` naming the file."""
    from .records import PairedDoc
    if header is None:
        header, _ = load(path)
    p = member(os.path.dirname(os.path.abspath(results_path(path))), PAIRED)
    try:  # p is None for a link: nothing is read through one
        with open(p, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError, TypeError):
        return PairedDoc(run_id=header.get("run_id"))
    if not isinstance(doc, dict) or doc.get("run_id") != header.get("run_id"):
        return PairedDoc(run_id=header.get("run_id"))
    try:
        return PairedDoc.from_json(doc)
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise ResultsError(f"{p}: a paired record is malformed ({type(exc).__name__}: {exc})")
