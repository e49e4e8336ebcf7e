"""Machine facts recorded with every run (as pyperf's ``_collect_metadata`` and ``_cpu_utils``):
the CPU named precisely (:func:`cpu_record`), OS, versions, BLAS (threadpoolctl), the Numba
threading layer, the commit, and the headline backend's compile time in fresh processes. The
machine's peaks are measured in :mod:`.peaks`."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import numpy as np

from .. import __version__, init_params
from ..backends import HEADLINE, REGISTRY, get_backend


def compile_times(op="cost_and_grads"):
    """Numba compile time of the headline backend's first call in a fresh process: cold (empty
    cache dir), then cached (the same dir again), so ``cache=True``'s saving is measured, not
    assumed.

    Parameters
    ----------
    op : {"cost_and_grads", "fit"}
        The first call timed: one training step's ``cost_and_grads`` (m = 8), or a 1-step
        :func:`fastnn.fit` of the flower network (n_h = 4, tanh, m = 8), which compiles the
        fused training run.

    Returns
    -------
    dict
        ``compile_cold_s`` and ``compile_cached_s`` (s; None where the process failed).

    Raises
    ------
    ValueError
        For another ``op``.
    """
    import tempfile
    calls = {"cost_and_grads": f"fastnn.get_backend({HEADLINE!r}).cost_and_grads(P,X,Y)",
             "fit": f"fastnn.fit(X,Y,params=P,iterations=1,backend={HEADLINE!r})"}
    if op not in calls:
        raise ValueError(f"op must be one of {', '.join(calls)}, got {op!r}")
    code = ("import time,numpy as np;t=time.perf_counter();import fastnn;"
            "P=fastnn.init_params(2,4,1,seed=0);X=np.ones((2,8));Y=np.ones((1,8));"
            f"t1=time.perf_counter();{calls[op]};"
            "print(time.perf_counter()-t1)")
    out = {}
    with tempfile.TemporaryDirectory() as d:
        env = dict(os.environ, NUMBA_CACHE_DIR=d)
        for name in ("compile_cold_s", "compile_cached_s"):
            try:
                r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                                   text=True, timeout=600, check=True)
                out[name] = float(r.stdout.strip().splitlines()[-1])
            except (subprocess.SubprocessError, ValueError, IndexError):
                out[name] = None
    return out


def machine_info():
    """CPU, OS, versions, BLAS (threadpoolctl), OPENBLAS_* variables, Numba threading and the
    vector width its loops are compiled for (``cpu.numba_vector_bits``, :mod:`fastnn._simd`) and
    where the arrays they allocate start (``cpu.numba_array_align``, bytes)."""
    import numba
    import llvmlite
    from ..backends import _threading  # noqa: F401 - the layer fastnn asks for, before the pool starts
    info = {
        "node": platform.node(), "processor": platform.processor(), "machine": platform.machine(),
        "system": platform.system(), "release": platform.release(),
        "python_implementation": platform.python_implementation(),
        "python_version": platform.python_version(), "cpu": cpu_record(),
        "numpy": np.__version__, "numba": numba.__version__, "llvmlite": llvmlite.__version__,
        "fastnn": __version__,
        "peers": {n: _version(b) for n, b in REGISTRY.items() if b.peer and not b.missing()},
        "numba_threads": numba.get_num_threads(),
        "openblas_env": {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS")},
        "memory": memory_record(),
    }
    try:
        from threadpoolctl import threadpool_info
        info["blas"] = [{k: d.get(k) for k in ("internal_api", "version", "architecture",
                                                 "num_threads", "threading_layer", "filepath")}
                        for d in threadpool_info()]
    except ImportError:
        info["blas"] = []
    try:
        get_backend(HEADLINE).cost_and_grads(*_tiny())
        info["numba_threading_layer"] = numba.threading_layer()
    except Exception as exc:  # noqa: BLE001 - a fact, not a failure
        info["numba_threading_layer"] = f"unknown ({exc})"
    info["cpu"]["numba_threading_layer"] = info["numba_threading_layer"]
    info["cpu"]["numba_threads"] = info["numba_threads"]
    from .. import _simd
    info["cpu"]["numba_vector_bits"] = _simd.vector_bits()  # what the kernels were compiled for
    info["cpu"]["numba_array_align"] = _simd.array_alignment()  # where their work arrays start
    return info


def memory_record():
    """How the kernel and NumPy get memory for large arrays, which decides what a fresh
    temporary costs: the transparent-huge-page settings (``enabled``, ``defrag``: the bracketed
    choice in /sys/kernel/mm/transparent_hugepage/) and whether NumPy advises huge pages for
    its large allocations (``madvise(MADV_HUGEPAGE)``; NumPy's ``_set_madvise_hugepage``), and
    ``free_page_reporting`` (:func:`free_page_reporting`)."""
    out = {"free_page_reporting": free_page_reporting()}
    for k in ("enabled", "defrag"):
        try:
            with open(f"/sys/kernel/mm/transparent_hugepage/{k}") as f:
                text = f.read()
            out[f"thp_{k}"] = text[text.index("[") + 1:text.index("]")]
        except (OSError, ValueError):
            out[f"thp_{k}"] = None
    switch = numpy_hugepage_switch()
    if switch is None:
        out["numpy_madvise_hugepage"] = None
    else:
        now = switch(True)  # returns the setting it replaces
        switch(now)
        out["numpy_madvise_hugepage"] = bool(now)
    return out


def numpy_hugepage_switch():
    """NumPy's ``_set_madvise_hugepage`` (whether it advises huge pages for large arrays; it
    returns the setting it replaces), wherever this NumPy keeps it; None where it has none."""
    try:
        from numpy._core.multiarray import _set_madvise_hugepage
    except ImportError:
        try:
            from numpy.core.multiarray import _set_madvise_hugepage
        except ImportError:
            return None
    return _set_madvise_hugepage


#: virtio's device id of a memory balloon, and its feature bit "free page reporting".
BALLOON_ID, REPORTING_BIT = 0x0005, 5


def free_page_reporting(root="/sys/bus/virtio/devices"):
    """Whether this VM hands the memory it frees back to its host (a virtio balloon with free
    page reporting): the host then drops those pages, and touching them again waits for the host
    to back them, which makes a program that maps gigabytes of fresh memory per call (NumPy's
    temporaries at m = 1e6) slow on some calls and fast on others. True or False on Linux with
    virtio; None where that cannot be read."""
    try:
        devices = sorted(os.listdir(root))
    except OSError:
        return None
    for d in devices:
        try:
            with open(os.path.join(root, d, "device")) as f:
                if int(f.read().strip(), 16) != BALLOON_ID:
                    continue
            with open(os.path.join(root, d, "features")) as f:
                bits = f.read().strip()
        except (OSError, ValueError):
            return None
        return len(bits) > REPORTING_BIT and bits[REPORTING_BIT] == "1"
    return False


def _cpuinfo():
    """The first processor's fields of /proc/cpuinfo, and the number of distinct cores."""
    first, cores = {}, set()
    try:
        with open("/proc/cpuinfo") as f:
            text = f.read()
    except OSError:
        return first, 0
    for block in text.strip().split("\n\n"):
        d = {}
        for line in block.splitlines():
            k, _, v = line.partition(":")
            d[k.strip()] = v.strip()
        first = first or d
        cores.add((d.get("physical id"), d.get("core id")))
    return first, len(cores)


#: AMD families and model ranges by microarchitecture (family, first model, last model).
_AMD = (("Zen 5", 26, 0x00, 0xFF), ("Zen 4", 25, 0x10, 0x1F), ("Zen 4", 25, 0x60, 0x7F),
        ("Zen 4", 25, 0xA0, 0xAF), ("Zen 3", 25, 0x00, 0x0F), ("Zen 3", 25, 0x20, 0x5F),
        ("Zen 2", 23, 0x30, 0xFF), ("Zen / Zen+", 23, 0x00, 0x2F))


def microarchitecture(vendor, family, model):
    """'Zen 4' etc. for AMD from family/model; None where this table does not know."""
    if vendor == "AuthenticAMD":
        for name, fam, lo, hi in _AMD:
            if family == fam and lo <= model <= hi:
                return name
    return None


def simd(vendor, family, flags):
    """SIMD width from the CPU flags.

    Returns
    -------
    dict
        ``simd`` ('avx512f', 'avx2', 'avx', 'sse2' or None), ``simd_bits`` (register width) and
        ``simd_half``: True where the CPU is known to execute each widest instruction as two
        halves (Zen 4, AMD family 25 with avx512f, whose per-cycle FLOPs then equal AVX2's);
        None where the flags do not tell (full or half width per cycle is not visible in them;
        Intel server cores and Zen 5 server parts run 512 bits at full width). Files before
        ``simd_half`` hold a ``simd_note`` sentence instead.
    """
    if "avx512f" in flags:
        half = True if vendor == "AuthenticAMD" and family == 25 else None
        return {"simd": "avx512f", "simd_bits": 512, "simd_half": half}
    for flag, bits in (("avx2", 256), ("avx", 256), ("sse2", 128)):
        if flag in flags:
            return {"simd": flag, "simd_bits": bits, "simd_half": None}
    return {"simd": None, "simd_bits": None, "simd_half": None}


def cpu_record():
    """The CPU, named precisely enough to explain a ratio between machines.

    Returns a dict: ``brand_raw`` (model name), ``vendor``, ``family``, ``model``, ``stepping``,
    ``microarchitecture`` (from vendor/family/model, or None), ``mhz`` (current clock of CPU 0
    from /proc/cpuinfo), ``flags`` (the SIMD- and FMA-relevant ones), ``simd``, ``simd_bits``,
    ``simd_half`` (see :func:`simd`), ``count`` (logical CPUs), ``cores`` (physical cores).
    """
    d, cores = _cpuinfo()
    num = lambda k: int(d[k]) if d.get(k, "").isdigit() else None  # noqa: E731
    vendor, family, model = d.get("vendor_id"), num("cpu family"), num("model")
    flags = set(d.get("flags", "").split())
    uarch = microarchitecture(vendor, family, model)
    try:
        mhz = float(d["cpu MHz"])
    except (KeyError, ValueError):
        mhz = None
    return {"brand_raw": d.get("model name", platform.processor()), "vendor": vendor,
            "family": family, "model": model, "stepping": num("stepping"),
            "microarchitecture": uarch, "mhz": mhz,
            "flags": sorted(f for f in flags if f.startswith(("avx", "fma", "sse4", "amx"))),
            **simd(vendor, family, flags), "count": os.cpu_count(), "cores": cores or None}


def _version(be):
    try:
        return be.impl.version()
    except Exception as exc:  # noqa: BLE001 - a fact, not a failure
        return f"unknown ({type(exc).__name__})"


def _tiny():
    P = init_params(2, 64, 1, seed=0)
    X = np.ones((2, 4096))
    return P, X, np.ones((1, 4096))


def commit_info():
    def git(*a):
        try:
            return subprocess.run(["git", *a], capture_output=True, text=True, timeout=10,
                                  cwd=os.path.dirname(os.path.abspath(__file__))).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""
    return {"id": git("rev-parse", "HEAD"), "branch": git("rev-parse", "--abbrev-ref", "HEAD"),
            "dirty": bool(git("status", "--porcelain")), "time": git("log", "-1", "--format=%cI")}
