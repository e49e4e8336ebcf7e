"""The best FMA peak each machine kind has reached, kept across runs, so that a run whose host is
slow from its first second to its last is seen as slow: its canary is timed against its own
peak, which a slow host lowers too.

The history is one small JSON file in the user's cache folder (``$XDG_CACHE_HOME`` or
``~/.cache``, under ``fastnn/``), mapping a machine kind (:func:`key`) to the highest FMA peak
a full ``fastnn bench`` run measured on it, when, and over how many runs. A run records in its
header the best before it and itself (:func:`update`); the report divides the run's own peak
by it. A file that cannot be read or written is passed over: the run then has no earlier best,
and says nothing about the host beyond its own canary.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

#: The history file's name in the cache folder.
NAME = "peaks.json"


def path():
    """The history file: ``$XDG_CACHE_HOME/fastnn/peaks.json`` (``~/.cache`` by default)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "fastnn" / NAME


def key(cpu, method):
    """The machine kind a peak belongs to: the CPU's vendor, family, model and brand, the SIMD
    width it exposes, its cores, and the FMA loop's chains and dtype (``method``:
    :func:`.peaks.fma_peak`'s). Peaks of different kinds are never compared.

    The loop's winning vector width is left out: the peak is already the best over the widths
    the CPU exposes (``simd_bits`` is in the key), and where two widths run at one speed (Zen 4
    splits a 512-bit FMA in two halves) the winner changes from run to run."""
    cpu, method = cpu or {}, method or {}
    parts = [cpu.get("vendor"), cpu.get("family"), cpu.get("model"), cpu.get("brand_raw"),
             f"simd{cpu.get('simd_bits')}", f"cores{cpu.get('count')}",
             f"fma{method.get('dtype', 'float64')}x{method.get('chains')}"]
    return "/".join(str(p) for p in parts)


def _read(file):
    try:
        data = json.loads(Path(file).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def valid(entry):
    """Whether ``entry`` is a history entry as :func:`update` returns it (a positive
    ``fma_gflops`` and an integer ``runs``), so a damaged file or header is passed over."""
    return (isinstance(entry, dict) and isinstance(entry.get("fma_gflops"), (int, float))
            and entry["fma_gflops"] > 0 and isinstance(entry.get("runs"), int))


def update(kind, gflops, when, file=None):
    """Record one run's FMA peak and return the best of this machine kind, itself included.

    Parameters
    ----------
    kind : str
        :func:`key` of the run's machine.
    gflops : float or None
        The run's FMA peak (GFLOP/s); None (no FMA loop on this CPU) records nothing.
    when : str
        The run's ISO date and time.
    file : path-like, optional
        The history file (default :func:`path`).

    Returns
    -------
    dict or None
        ``fma_gflops`` (the best peak, GFLOP/s), ``datetime`` (the run that reached it) and
        ``runs`` (how many runs of this kind the history holds, this one included); None when
        ``gflops`` is None.
    """
    if gflops is None:
        return None
    file = Path(file) if file is not None else path()
    data = _read(file)
    old = data.get(kind)
    old = old if valid(old) else {"fma_gflops": 0.0, "datetime": None, "runs": 0}
    best = old if old["fma_gflops"] >= gflops else {"fma_gflops": float(gflops), "datetime": when}
    data[kind] = {**best, "runs": old["runs"] + 1}
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        tmp = file.with_name(file.name + f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
        os.replace(tmp, file)
    except OSError:
        pass  # a read-only cache: the best is still this run's and the file's
    return dict(data[kind])
