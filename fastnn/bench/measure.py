"""How one cell is measured: data, correctness check, timing, memory, work counts, machine facts
(the CPU named precisely: :func:`cpu_record`; the peaks are in :mod:`.peaks`)."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
import tracemalloc
from contextlib import contextmanager
from statistics import median

import numpy as np

from .. import __version__, flower, init_params
from ..backends import HEADLINE, REFERENCE, REGISTRY, get_backend
from ..validate import prepare
from .grid import FIT_OP, fit_steps, max_threads
from .peaks import machine_peaks  # noqa: F401 - part of this module's interface

#: A sample is timed over enough calls to last at least this long (the timer's resolution is ~50 ns).
MIN_SAMPLE_S = 0.02
SAMPLES = 7
#: Untimed warm-up before sampling (as pyperf does): lets the caches, the allocator and other
#: libraries' spinning threads settle after the correctness check; measured here to matter (a
#: NumPy step just before slowed the next Numba calls by up to 2×).
WARMUP_S = 0.1
#: Idle seconds before a cell's warm-up: the correctness check just ran the reference (NumPy),
#: whose OpenBLAS threads spin for ~0.1 s afterwards and, on 2 cores, slowed the next parallel
#: calls by up to 2× (measured: a numba step right after a NumPy step took 53 then 47 ms, then
#: 28 ms). The paired rounds idle as long before each batch (in the first paired runs the
#: spinning threads slowed the Numba batch after a NumPy one: numpy ÷ numba 4.7× paired against
#: 9.0× measured apart, at n_h = 4, m = 1e6).
SETTLE_S = 0.15


#: A cell with no smaller m measured yet is first probed at m / PROBE_RATIO (at least PROBE_M).
PROBE_M = 1000
PROBE_RATIO = 100
#: A ``fit`` cell is probed with runs of 1 and of 1 + PROBE_STEPS steps (at its own m when that
#: is small), which tell a run's fixed cost from its cost per step.
PROBE_STEPS = 4


def probe_m(c):
    """The m a probe of cell c runs at: m / PROBE_RATIO, at least PROBE_M; a ``fit`` cell's
    probe runs at most at its own m (a small m may still take many steps)."""
    m_p = max(PROBE_M, c.m // PROBE_RATIO)
    return min(m_p, c.m) if c.op == FIT_OP else m_p


def _fastest(fn, budget_s, jit):
    """The fastest of up to three calls of ``fn`` (so a cold thread pool does not count; a JIT
    backend compiles first, untimed), stopping once a quarter of ``budget_s`` is spent."""
    if jit:
        fn()  # the compile is not a call's time
    best, spent = float("inf"), 0.0
    for _ in range(3):
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        best, spent = min(best, dt), spent + dt
        if spent > budget_s / 4:
            break
    return best


def probe(c, budget_s):
    """Seconds per call predicted for cell c from up to three calls at a 100× smaller m (the
    fastest), scaled linearly in m; None when c.m is too small to probe. A ``fit`` cell:
    :func:`probe_fit`."""
    if c.op == FIT_OP:
        return probe_fit(c, budget_s)
    m_p = probe_m(c)
    if c.m <= m_p:
        return None
    small = type(c)(**dict(c.params(), m=m_p))
    return _fastest(step_fn(small, *make_data(small)), budget_s,
                    get_backend(c.backend).jit) * c.m / m_p


def probe_fit(c, budget_s):
    """Seconds per step predicted for a ``fit`` cell's run of :func:`.grid.fit_steps` steps.

    Runs of 1 and 1 + :data:`PROBE_STEPS` steps at :func:`probe_m` split a run's time into a
    fixed cost a (building a peer's model, copying the parameters) and b per step: t(S) = a +
    S·b. b is scaled linearly in m; the prediction is (a + S·b) / S.
    """
    m_p = probe_m(c)
    small = type(c)(**dict(c.params(), m=m_p))
    data, jit = make_data(small), get_backend(c.backend).jit
    t1 = _fastest(step_fn(small, *data, steps=1), budget_s, jit)
    t5 = _fastest(step_fn(small, *data, steps=1 + PROBE_STEPS), budget_s, jit)
    b = max(t5 - t1, 0.0) / PROBE_STEPS or t5 / (1 + PROBE_STEPS)
    a = max(t1 - b, 0.0)
    steps = fit_steps(c)
    return (a + steps * b * c.m / m_p) / steps


@contextmanager
def threads(n):
    """Numba and the BLAS at ``n`` threads (0: all cores) inside; Numba's count is restored.

    ``n`` above :func:`.grid.max_threads` is a ``ValueError`` (never a silently smaller count
    under a label that says ``n``); :func:`.grid.cells` refuses it before any work.
    """
    import numba
    from threadpoolctl import threadpool_limits
    n_max = numba.config.NUMBA_NUM_THREADS
    if n > max_threads():
        raise ValueError(f"threads {n}: this machine runs at most {max_threads()}")
    old = numba.get_num_threads()
    numba.set_num_threads(n or n_max)
    try:
        with threadpool_limits(limits=n if n else None):
            yield
    finally:
        numba.set_num_threads(old)


def make_data(c, seed=0):
    """Parameters, X and Y for a cell, validated and converted once, outside any timed region.

    Parameters are seeded (Xavier); X is standard normal with random labels Y, except for a
    training run (``fit``), which learns the lecture's flower (:func:`flower_data`).
    """
    rng = np.random.default_rng(seed)
    params = init_params(c.n_x, c.n_h, c.n_y, method="xavier", hidden=c.hidden, seed=rng,
                                dtype=np.dtype(c.dtype))
    if c.op == FIT_OP:
        X, Y = flower_data(c, rng)
    else:
        X = rng.standard_normal((c.n_x, c.m))
        Y = (rng.random((c.n_y, c.m)) > 0.5)
    P, X, Y, _ = prepare(params, X.astype(c.dtype), Y.astype(c.dtype), c.hidden, c.output)
    return P, X, Y


def flower_data(c, rng):
    """X (n_x, m) and Y (n_y, m) for a training run: the lecture's flower, both classes from
    m = 2 on (at m = 1 one point of class 1).

    With n_x ≠ 2 the flower's two coordinates are mapped to n_x by a seeded random matrix, with
    n_y ≠ 1 its labels repeated. Why not random labels: gradient descent at lr 1.2 on labels it
    cannot learn is chaotic, so two correct backends' rounding differences grow to ~20 % after
    500 steps (m = 100, n_h = 64, measured), while on the flower they stay below 1e-12.
    """
    X, Y = flower(max(c.m, 2), seed=rng)
    X, Y = X[:, -c.m:], Y[:, -c.m:]
    if c.n_x != 2:
        X = rng.standard_normal((c.n_x, 2)) / np.sqrt(2) @ X
    return X, np.repeat(Y, c.n_y, axis=0)


def step_fn(c, P, X, Y, backend=None, steps=None):
    """A zero-argument callable running the cell's op on prepared data (no validation inside),
    on ``backend`` (default: the cell's own). A ``fit`` cell's callable runs ``steps``
    gradient-descent steps (default :func:`.grid.fit_steps`) from P and returns
    (params, costs)."""
    be = get_backend(backend or c.backend)
    steps = fit_steps(c) if steps is None else steps
    return be.make_call(c.op, P, X, Y, c.hidden, c.output, c.threads, steps=steps)


def reference(c, P, X, Y):
    """The reference backend's result for the cell, to check another backend against."""
    return step_fn(c, P, X, Y, backend=REFERENCE)()


def _flat(out):
    """Numbers to compare from any op's result: (J, grads), grads, (A2, cache) or, for
    ``fit``, (params, costs)."""
    if isinstance(out, tuple) and (out[0] is None or isinstance(out[0], dict)):
        return [out[1]] + [out[0][k] for k in sorted(out[0] or {})]  # fit: costs, parameters
    if isinstance(out, tuple) and isinstance(out[1], dict) and "dW1" in out[1]:
        return [np.asarray(out[0])] + [out[1][k] for k in sorted(out[1])]
    if isinstance(out, tuple):
        return [out[0]]
    return [out[k] for k in sorted(out)]


#: Relative tolerance of a check against the reference, per dtype: one call of an op …
RTOL = {"float64": 1e-6, "float32": 2e-3}
#: … and a whole training run (``fit``): float64 runs on the flower data agree to ~1e-13 after
#: up to 10,000 steps (issue 9 asks numba for 1e-9 after 10,000); in float32 they agree to ~1e-4
#: (measured), and a wrong formula is off by far more than the tolerance.
FIT_RTOL = {"float64": 1e-9, "float32": 1e-2}


def check(out, ref, dtype, op=None):
    """None if ``out`` agrees with the numpy backend's ``ref``, else a one-line reason.

    Every array is compared with a relative tolerance (:data:`RTOL`, or :data:`FIT_RTOL` for a
    training run) and an absolute one of the same size times the array's largest magnitude.
    """
    rtol = (FIT_RTOL if op == FIT_OP else RTOL)[dtype]
    for a, b in zip(_flat(out), _flat(ref)):
        a, b = np.asarray(a, float), np.asarray(b, float)
        atol = rtol * max(1e-30, float(np.max(np.abs(b))) if b.size else 0.0)
        if a.shape != b.shape or not np.allclose(a, b, rtol=rtol, atol=atol):
            err = np.max(np.abs(a - b)) if a.shape == b.shape else "shape"
            return f"disagrees with numpy (max abs diff {err})"
    return None


def chaos_onset(c, P, X, Y, ref):
    """The first step at which the reference run itself stops agreeing, to :data:`FIT_RTOL`,
    with a rerun from parameters changed at rounding level (× (1 + eps·N(0, 1))); None when
    they agree to the end.

    At lr 1.2 a run on a handful of examples (m ≈ 5–20) can be chaotic: there no two correct
    implementations can agree to the end, only up to this step.
    """
    rng = np.random.default_rng(1)
    eps = np.finfo(np.dtype(c.dtype)).eps
    P2 = {k: v * (1 + eps * rng.standard_normal(v.shape)).astype(v.dtype) for k, v in P.items()}
    costs, costs2 = ref[1], step_fn(c, P2, X, Y, backend=REFERENCE)()[1]
    tol = FIT_RTOL[c.dtype] * max(1e-30, float(np.max(np.abs(costs))))
    n = min(len(costs), len(costs2))
    off = np.flatnonzero(np.abs(costs[:n] - costs2[:n]) > tol)
    return int(off[0]) if len(off) else None


#: How a training run's note begins when only its first steps could be compared (the report
#: looks for it).
PARTIAL_CHECK = "checked on the first"


def check_fit(c, out, ref, P, X, Y):
    """(problem or None, note) for a training run ``out`` against the reference run ``ref``.

    The parameters and every cost are compared (:func:`check`). Where they disagree because
    the reference run is itself chaotic (:func:`chaos_onset`), only the costs before that step
    are compared, and ``note`` says so.
    """
    bad = check(out, ref, c.dtype, FIT_OP)
    if bad is None:
        return None, ""
    onset = chaos_onset(c, P, X, Y, ref)
    if not onset:
        return bad, ""
    if check((None, out[1][:onset]), (None, ref[1][:onset]), c.dtype, FIT_OP) is not None:
        return f"{bad}, and already in the first {onset:,} steps", ""
    return None, (f"{PARTIAL_CHECK} {onset:,} of {len(ref[1]):,} steps (costs): beyond, "
                  f"{REFERENCE}'s own run is chaotic here (a rounding-level change of the "
                  "initial parameters changes it by more than the tolerance)")


def time_it(fn, budget_s, samples=SAMPLES):
    """Warm up, calibrate calls per sample, then take ``samples`` samples (wall clock; at least
    3, fewer than ``samples`` only once ``budget_s`` is spent).

    Returns (seconds per call for each sample, calls per sample).
    """
    time.sleep(SETTLE_S)
    t0 = time.perf_counter()
    fn()
    one = time.perf_counter() - t0
    end = t0 + min(WARMUP_S, budget_s / 4)
    while time.perf_counter() < end:  # a slow call is its own warm-up
        t1 = time.perf_counter()
        fn()
        one = min(one, time.perf_counter() - t1)
    number = max(1, int(MIN_SAMPLE_S / max(one, 1e-9)))
    out = []
    deadline = time.perf_counter() + budget_s
    for _ in range(max(3, samples)):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        out.append((time.perf_counter() - t0) / number)
        if time.perf_counter() > deadline and len(out) >= 3:
            break
    return out, number


def stats(samples):
    q1, q3 = np.percentile(samples, [25, 75])
    return {"median_s": float(median(samples)), "min_s": float(min(samples)),
            "q1_s": float(q1), "q3_s": float(q3), "iqr_s": float(q3 - q1),
            "mean_s": float(np.mean(samples)), "stddev_s": float(np.std(samples)),
            "rounds": len(samples)}


def _rss_hwm():
    """(current RSS, peak RSS since the last reset) in bytes, from /proc; None if unavailable."""
    try:
        with open("/proc/self/status") as f:
            d = {ln.split(":")[0]: ln.split()[1] for ln in f if ln.startswith(("VmRSS", "VmHWM"))}
        return int(d["VmRSS"]) * 1024, int(d["VmHWM"]) * 1024
    except (OSError, KeyError, ValueError):
        return None


def _reset_hwm():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_memory(fn):
    """Peak extra memory of one call, two ways.

    ``mem_traced_bytes``: tracemalloc's peak (every NumPy array and Python object; not allocations
    inside compiled kernels). ``mem_rss_bytes``: the rise of the resident-set high-water mark over
    the resident set before the call (everything, at page granularity), when Linux allows the reset.
    """
    rss = None
    if _reset_hwm():
        before = _rss_hwm()
        fn()
        after = _rss_hwm()
        if before and after:
            rss = max(0, after[1] - before[0])
    tracemalloc.start()
    tracemalloc.reset_peak()
    fn()
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"mem_traced_bytes": int(traced), "mem_rss_bytes": rss}


def work(c):
    """Analytic FLOPs and compulsory bytes of one call.

    FLOPs count a multiply-add as 2 and an activation or its derivative as 1 per element.
    Bytes are the least traffic the op must move: its inputs X (and Y) once, and for ``forward``
    the cache it must write (Z1, A1, Z2, A2); ``backward`` reads that cache. ``fit`` counts one
    step: the training step and the update W := W − α dW of every parameter.
    """
    k = 2 if c.hidden == "maxout" else 1
    item = 4 if c.dtype == "float32" else 8
    fwd = c.m * (2 * k * c.n_h * c.n_x + k * c.n_h + 2 * c.n_y * c.n_h + 2 * c.n_y)
    bwd = c.m * (4 * c.n_y * c.n_h + 2 * k * c.n_h * c.n_x + 3 * c.n_h + 2 * c.n_y)
    cache = c.m * (k * c.n_h + c.n_h + 2 * c.n_y)
    inputs = c.m * (c.n_x + c.n_y)
    if c.op == "forward":
        return fwd, item * (c.m * c.n_x + cache)
    if c.op == "backward":
        return bwd, item * (inputs + cache)
    update = 2 * (k * c.n_h * (c.n_x + 1) + c.n_y * (c.n_h + 1)) if c.op == FIT_OP else 0
    return fwd + bwd + 3 * c.m * c.n_y + update, item * inputs


def compile_times():
    """Numba compile time of the training step in a fresh process: cold (empty cache dir), then
    cached (the same dir again), so ``cache=True``'s saving is measured, not assumed."""
    import tempfile
    code = ("import time,numpy as np;t=time.perf_counter();import fastnn;"
            "P=fastnn.init_params(2,4,1,seed=0);X=np.ones((2,8));Y=np.ones((1,8));"
            f"t1=time.perf_counter();fastnn.get_backend({HEADLINE!r}).cost_and_grads(P,X,Y);"
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
    """CPU, OS, versions, BLAS (threadpoolctl), OPENBLAS_* variables, Numba threading, git."""
    import numba
    import llvmlite
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
    return info


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
    """SIMD width from the CPU flags: a dict with ``simd`` ('avx512f', 'avx2', 'avx', 'sse2'),
    ``simd_bits`` (register width), ``simd_note`` (how 512-bit ops execute, and how we know)."""
    if "avx512f" in flags:
        if vendor == "AuthenticAMD" and family == 25:
            note = ("AVX-512 at half width: Zen 4 (AMD family 25 with avx512f) executes each "
                    "512-bit instruction as two 256-bit halves, so per-cycle FLOPs equal AVX2's")
        else:
            note = ("AVX-512 (avx512f flag); full or half width per cycle is not visible in the "
                    "flags (Zen 4 = AMD family 25 is half width; Intel server cores and Zen 5 "
                    "server parts full)")
        return {"simd": "avx512f", "simd_bits": 512, "simd_note": note}
    for flag, bits in (("avx2", 256), ("avx", 256), ("sse2", 128)):
        if flag in flags:
            return {"simd": flag, "simd_bits": bits, "simd_note": f"{flag} ({bits}-bit registers)"}
    return {"simd": None, "simd_bits": None, "simd_note": "no x86 SIMD flags found"}


def cpu_record():
    """The CPU, named precisely enough to explain a ratio between machines.

    Returns a dict: ``brand_raw`` (model name), ``vendor``, ``family``, ``model``, ``stepping``,
    ``microarchitecture`` (from vendor/family/model, or None), ``mhz`` (current clock of CPU 0
    from /proc/cpuinfo), ``flags`` (the SIMD- and FMA-relevant ones), ``simd``, ``simd_bits``,
    ``simd_note`` (see :func:`simd`), ``count`` (logical CPUs), ``cores`` (physical cores).
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
