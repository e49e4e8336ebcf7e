"""The worker side of timing: what runs inside a worker process to measure one cell (as pyperf's
``_worker``): the cell's data and callable, the thread settings, the calibration, warm-up and
values of :func:`time_it`, the peak memory, the work counts and the probes that predict a cell's
time. The parent side (starting workers, the order of cells, the store) is in :mod:`.spawn` and
:mod:`.run`; the machine facts are in :mod:`.machine`, the correctness checks in :mod:`.checks`.
"""

from __future__ import annotations

import ctypes
import sys
import time
import tracemalloc
from statistics import median

import numpy as np

from .. import flower, init_params
from ..backends import get_backend
from ..validate import prepare
from ._threads import threads  # noqa: F401  (a side's thread setting; re-exported)
from .grid import FIT_OP, fit_lr, fit_steps

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


def make_data(c, seed=0):
    """Parameters, X and Y for a cell, validated and converted once, outside any timed region.

    Parameters are seeded (Xavier); X is standard normal with random labels Y, except for a
    training run (``fit``), which learns its data set (``c.data``, :mod:`fastnn.datasets`) or
    else the lecture's flower (:func:`flower_data`).
    """
    rng = np.random.default_rng(seed)
    params = init_params(c.n_x, c.n_h, c.n_y, method="xavier", hidden=c.hidden, seed=rng,
                                dtype=np.dtype(c.dtype))
    if c.data:
        from ..datasets import load
        X, Y = load(c.data)
    elif c.op == FIT_OP:
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
    return be.make_call(c.op, P, X, Y, c.hidden, c.output, c.threads, lr=fit_lr(c),
                        steps=steps)


#: The fewest values one worker takes of a cell; a cell measured by several workers (a headline
#: cell) takes at least MIN_VALUES_PER_WORKER from each.
MIN_VALUES = 3
MIN_VALUES_PER_WORKER = 2


def page_faults():
    """(minor, major) page faults of this process so far (``resource.getrusage``; (0, 0) where
    it is not available). A minor fault maps a page (for a fresh temporary: zeroes it); a major
    one also reads it from disk."""
    try:
        import resource
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_minflt, r.ru_majflt
    except (ImportError, OSError):
        return 0, 0


def time_it(fn, budget_s, samples=SAMPLES, min_values=MIN_VALUES, warm_s=None, settle=True,
            counters=None):
    """Warm up, calibrate calls per value, then take ``samples`` values (wall clock; at least
    ``min_values``, fewer than ``samples`` only once ``budget_s`` is spent).

    ``warm_s``: the seconds of a call of ``fn`` made just before (the cell's first call); when
    it is at least :data:`WARMUP_S` that call was the warm-up (a slow call is its own warm-up)
    and calibrates the calls per value, so no further call is spent on either. ``settle``:
    idle :data:`SETTLE_S` first (after another backend ran in this process, e.g. the reference
    for the check: its BLAS threads may still spin). ``counters``: a dict that receives the
    minor and major page faults per call over the values (``faults_minor``, ``faults_major``).

    Returns (seconds per call for each value, calls per value).
    """
    if settle:
        time.sleep(SETTLE_S)
    if warm_s is not None and warm_s >= WARMUP_S:
        one = warm_s
    else:
        t0 = time.perf_counter()
        fn()
        one = time.perf_counter() - t0
        end = t0 + min(WARMUP_S, budget_s / 4)
        while time.perf_counter() < end:  # a slow call is its own warm-up
            t1 = time.perf_counter()
            fn()
            one = min(one, time.perf_counter() - t1)
    number = max(1, int(MIN_SAMPLE_S / max(one, 1e-9)))
    out, faults, sys_s = [], [], []
    faults0 = page_faults()
    deadline = time.perf_counter() + budget_s
    for _ in range(max(min_values, samples)):
        f0, s0 = page_faults()[0], system_s()
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        out.append((time.perf_counter() - t0) / number)
        faults.append((page_faults()[0] - f0) / number)
        sys_s.append((system_s() - s0) / number)
        if time.perf_counter() > deadline and len(out) >= min_values:
            break
    if counters is not None:
        calls = number * len(out)
        minor, major = (b - a for a, b in zip(faults0, page_faults()))
        counters.update(faults_minor=minor / calls, faults_major=major / calls,
                        value_faults=faults, value_system_s=sys_s)
    return out, number


#: Sorted values further apart than this (relative) start a new group: a cell whose values form
#: two or more groups of at least MODE_MIN values each is multimodal, and its median may fall in
#: the gap between them.
MODE_GAP = 0.25
MODE_MIN = 2


def modes(values, faults=None, system=None):
    """The groups of ``values`` (seconds) split at every relative gap above :data:`MODE_GAP`:
    a list of {"value": the group's median, "share": its fraction of the values, "n"}, fastest
    first; groups of fewer than :data:`MODE_MIN` values (outliers) are left out. With
    ``faults`` and ``system`` (per value, as :func:`time_it` counts them), each group also
    has the median minor faults (``faults``) and kernel CPU seconds (``system_s``) per call."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    groups, cur = [], order[:1]
    for a, b in zip(order, order[1:]):
        if values[b] > values[a] * (1 + MODE_GAP):
            groups.append(cur)
            cur = []
        cur.append(b)
    if cur:
        groups.append(cur)
    out = []
    for g in groups:
        if len(g) < MODE_MIN:
            continue
        mode = {"value": float(median(values[i] for i in g)), "share": len(g) / len(values),
                "n": len(g)}
        if faults is not None and system is not None and len(faults) == len(values):
            mode.update(faults=float(median(faults[i] for i in g)),
                        system_s=float(median(system[i] for i in g)))
        out.append(mode)
    return out


def system_s():
    """The kernel's CPU seconds spent for this process so far (``resource.getrusage``: mapping
    and zeroing pages, among others); 0 where it is not available."""
    try:
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_stime
    except (ImportError, OSError):
        return 0.0


def stats(samples, faults=None, system=None):
    """Median, min, quartiles, IQR, mean, standard deviation, count and :func:`modes` of the
    values (seconds per call); ``faults``/``system``: per value, for the modes' counters."""
    q1, q3 = np.percentile(samples, [25, 75])
    return {"median_s": float(median(samples)), "min_s": float(min(samples)),
            "q1_s": float(q1), "q3_s": float(q3), "iqr_s": float(q3 - q1),
            "mean_s": float(np.mean(samples)), "stddev_s": float(np.std(samples)),
            "rounds": len(samples), "modes": modes(samples, faults, system)}


def _malloc_trim():
    """glibc's ``malloc_trim`` from the process's own symbols (Linux), else None (macOS, musl,
    Windows: nothing to trim this way)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


_MALLOC_TRIM = _malloc_trim()


def return_free_memory():
    """Give the memory the allocator holds free back to the system (glibc's ``malloc_trim(0)``;
    nothing elsewhere), so the resident set counts only live memory.

    Without it a freed array can stay resident in the heap (glibc's mmap threshold rises to
    32 MiB after such a free) and the next cell's arrays reuse those pages: its step memory then
    measured 15 MiB for numpy-inplace's 114 MiB at (2, 4, 1e6), and a forked worker inherits
    its parent's free heap the same way.
    """
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


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
    the resident set before the call (everything, at page granularity), when Linux allows the reset;
    ``rss_peak_bytes``: that high-water mark itself (the process's peak resident set during the
    call).
    """
    rss = hwm = None
    return_free_memory()
    if _reset_hwm():
        before = _rss_hwm()
        fn()
        after = _rss_hwm()
        if before and after:
            rss, hwm = max(0, after[1] - before[0]), after[1]
    tracemalloc.start()
    tracemalloc.reset_peak()
    fn()
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"mem_traced_bytes": int(traced), "mem_rss_bytes": rss, "rss_peak_bytes": hwm}


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


# --- one long-lived side of interleaved rounds (:mod:`.rounds`) ------------------------------

#: A batch of calls lasts at least this long, so a fast step runs back to back as in training
#: (single-call batches after the settle measured the headline backend cold).
MIN_BATCH_S = 0.1
#: A per-example side is timed at an m whose call lasts at least this long (seconds) …
SHORT_S = 0.2
#: … estimated from calls at this m.
SHORT_M0 = 10


def timed(fn, n):
    """Seconds per call over n calls of ``fn``, back to back: the one timed loop of a round."""
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t0) / n


def calls_per_batch(fn):
    """(calls per batch so that a batch lasts :data:`MIN_BATCH_S`, seconds of one call)."""
    one = max(timed(fn, 1), 1e-9)
    return max(1, int(MIN_BATCH_S / one)), one


def counted_batch(fn, n, untimed):
    """(seconds per call of n calls; the kernel's CPU seconds per call of this process; the CPU
    seconds per call other processes and the kernel's threads used meanwhile, or None), after
    :data:`SETTLE_S` idle and, with ``untimed``, one untimed call (what another side left
    behind, spinning BLAS threads or cold caches, is not timed). The counters are read around
    the timed calls only."""
    from .contention import others_s, snapshot
    time.sleep(SETTLE_S)
    if untimed:
        fn()
    s0, c0 = system_s(), snapshot()
    t = timed(fn, n)
    s1, c1 = system_s(), snapshot()
    others = others_s(c0, c1)
    return t, (s1 - s0) / n, None if others is None else others / n


def short_m(c):
    """The m a per-example side is timed at: the first of 10 × 1, 2, 5, … (at most c.m) whose
    call lasts :data:`SHORT_S`, estimated from the fastest of three calls at :data:`SHORT_M0`
    (one call slowed by a busy moment would pick an m several times too small)."""
    from dataclasses import replace

    from .grid import _nice
    small = replace(c, m=min(c.m, SHORT_M0))
    fn = step_fn(small, *make_data(small))
    fn()
    per_example = max(min(timed(fn, 1) for _ in range(3)), 1e-9) / small.m
    want = max(SHORT_S / per_example, SHORT_M0)
    m = _nice(want)
    if m < want:  # the next of 1, 2, 5 × 10^k
        m = m * 5 // 2 if str(m)[0] == "2" else m * 2
    return int(min(c.m, m))


#: The side this worker times (set by :func:`side_setup`).
_SIDE = {}


def side_setup(c, steps=None):
    """In a worker: build cell ``c``'s op at its thread count (kept for the worker's life), at
    the full m or, for a per-example backend, at :func:`short_m`; warm it up (a JIT backend
    compiles or loads its cache here). ``steps``: of a training run (default
    :func:`.grid.fit_steps`; the parent's count, so every side runs the same). Returns (calls
    per batch, seconds of one call scaled to c.m, the m it runs at)."""
    from dataclasses import replace
    _SIDE["threads"] = threads(c.threads)  # the context is kept: its collection would restore
    _SIDE["threads"].__enter__()
    run = replace(c, m=short_m(c)) if get_backend(c.backend).per_example else c
    fn = step_fn(run, *make_data(run), steps=steps)
    fn()
    calls, one = calls_per_batch(fn)
    _SIDE.update(fn=fn, scale=c.m / run.m)
    return calls, one * _SIDE["scale"], run.m


def side_batch(n, untimed):
    """In a worker: :func:`counted_batch` of :func:`side_setup`'s callable, each number scaled
    to the cell's m."""
    scale = _SIDE["scale"]
    return tuple(None if v is None else v * scale for v in counted_batch(_SIDE["fn"], n, untimed))
