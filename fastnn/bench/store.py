"""Results on disk: one JSON line per finished cell, appended and flushed as it finishes, so a sweep
killed at any moment keeps every finished cell. Exports: a tidy CSV and pytest-benchmark JSON."""

from __future__ import annotations

import json
import os

FORMAT = "fastnn-bench/1"
RESULTS = "results.jsonl"

#: Columns of the tidy CSV, in order (one row per cell).
COLUMNS = ["backend", "op", "m", "n_h", "n_x", "n_y", "dtype", "threads", "hidden", "output",
           "status", "extrapolated", "message", "median_s", "min_s", "q1_s", "q3_s", "iqr_s",
           "mean_s", "stddev_s", "rounds", "calls_per_round", "predicted_s", "first_call_s",
           "compile_s", "mem_traced_bytes", "mem_rss_bytes", "flops", "bytes", "gflops", "gbs"]
REQUIRED = ["backend", "op", "m", "n_h", "status", "median_s"]


class ResultsError(ValueError):
    """A results file that cannot be read: names the file and the problem."""


def _fail(path, problem):
    raise ResultsError(f"{path}: {problem}")


def load(path):
    """Read a results file. Returns (header dict, list of cell records).

    A last line cut short by a kill is dropped; anything else unreadable is a :class:`ResultsError`.
    """
    if not os.path.exists(path):
        _fail(path, "no such results file")
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = f.read().splitlines()
    if not lines or not any(ln.strip() for ln in lines):
        _fail(path, "the file is empty")
    records = []
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            if i == len(lines) - 1 and i > 0:
                break  # a write cut short by a kill: that cell was not finished
            _fail(path, f"line {i + 1} is not JSON; is this a fastnn results file?")
        if not isinstance(rec, dict):
            _fail(path, f"line {i + 1} is not a JSON object")
        records.append(rec)
    header = records[0]
    if header.get("format") != FORMAT:
        _fail(path, f"not a fastnn results file (expected a first line with format {FORMAT!r})")
    cells = records[1:]
    for j, rec in enumerate(cells):
        missing = [k for k in REQUIRED if k not in rec]
        if missing:
            _fail(path, f"record {j + 1} is missing {', '.join(missing)}")
    return header, cells


class Store:
    """An append-only results file with its header (machine facts)."""

    def __init__(self, path, header, resume):
        self.path = path
        self.done = {}
        if resume and os.path.exists(path):
            old, cells = load(path)
            self.header = old
            self.done = {r["key"]: r for r in cells if "key" in r}
            with open(path, "rb+") as f:  # drop a torn last line before appending
                data = f.read()
                if data and not data.endswith(b"\n"):
                    f.truncate(data.rfind(b"\n") + 1)
        else:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            self.header = dict(header, format=FORMAT)
            with open(path, "w", encoding="utf-8") as f:
                f.write(json.dumps(self.header) + "\n")

    def append(self, rec):
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(rec) + "\n")
            f.flush()
            os.fsync(f.fileno())
        self.done[rec["key"]] = rec


def to_frame(cells):
    import pandas as pd
    df = pd.DataFrame(cells)
    for col in COLUMNS:
        if col not in df:
            df[col] = None
    return df[COLUMNS]


def export(path, out_dir):
    """Write results.csv and results-benchmark.json (pytest-benchmark's format) next to it."""
    header, cells = load(path)
    to_frame(cells).to_csv(os.path.join(out_dir, "results.csv"), index=False)
    benchmarks = []
    for r in cells:
        if r["status"] != "ok":
            continue
        name = f"{r['op']}[{r['backend']}-m{r['m']}-nh{r['n_h']}-{r['dtype']}-t{r['threads']}]"
        benchmarks.append({
            "group": r["op"], "name": name, "fullname": f"fastnn bench::{name}",
            "params": {k: r[k] for k in ("backend", "m", "n_h", "n_x", "dtype", "threads")},
            "param": name,
            "stats": {"min": r["min_s"], "max": max(r.get("samples", [r["median_s"]])),
                      "mean": r["mean_s"], "stddev": r["stddev_s"], "median": r["median_s"],
                      "iqr": r["iqr_s"], "q1": r["q1_s"], "q3": r["q3_s"], "rounds": r["rounds"],
                      "iterations": r["calls_per_round"], "data": r.get("samples", []),
                      "ops": 1.0 / r["median_s"] if r["median_s"] else None},
            "extra_info": {k: r.get(k) for k in ("compile_s", "first_call_s", "mem_traced_bytes",
                                                 "mem_rss_bytes", "flops", "bytes", "gflops",
                                                 "gbs")},
            "options": {"timer": "perf_counter", "min_time": 0.02},
        })
    doc = {"machine_info": header.get("machine_info", {}),
           "commit_info": header.get("commit_info", {}),
           "benchmarks": benchmarks, "datetime": header.get("datetime"), "version": "5.1.0"}
    with open(os.path.join(out_dir, "results-benchmark.json"), "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1)
