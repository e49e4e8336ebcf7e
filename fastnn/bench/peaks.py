"""This machine's ceilings for the roofline: compute (the best of an FMA microkernel and a BLAS
GEMM, each with how it was measured, as data) and memory (a streaming copy).

The FMA microkernel is a loop of independent fused multiply-adds on registers, written in LLVM IR
with explicit vector types and compiled by llvmlite (Numba's own compiler) for the host CPU, so it
runs at the widest SIMD the CPU has and is not at the mercy of a vectoriser. Each core runs one
copy from a Python thread (a ctypes call releases the GIL). It is the machine's FLOP ceiling, not
one BLAS build's kernel: on a CPU where OpenBLAS picks an older kernel, the GEMM falls short of it.
"""

from __future__ import annotations

import ctypes
import os
import threading
import time

import numpy as np

from .codes import error

#: Independent accumulator registers per core: more than FMA latency × FMA pipes (4 × 2 on
#: current x86), so the loop is throughput-bound, and fewer than the 16 (AVX2) vector registers.
CHAINS = 12
_LLVM = {"float64": "double", "float32": "float"}


def _fma_ir(t, lanes):
    """LLVM IR of ``fma_loop(n, a, b)``: CHAINS vector registers of ``lanes`` × t, each updated
    ``x = x * a + b`` n times (2 · CHAINS · lanes FLOPs per iteration)."""
    v = f"<{lanes} x {t}>"
    name = f"llvm.fma.v{lanes}f{64 if t == 'double' else 32}"
    ins = [f"%sa = shufflevector {v} %a0, {v} undef, <{lanes} x i32> zeroinitializer",
           f"%sb = shufflevector {v} %b0, {v} undef, <{lanes} x i32> zeroinitializer"]
    phis, body = [], []
    for k in range(CHAINS):
        phis.append(f"%x{k} = phi {v} [%sb, %entry], [%y{k}, %loop]")
        body.append(f"%y{k} = call {v} @{name}({v} %x{k}, {v} %sa, {v} %sb)")
    red = [f"%r0 = fadd {v} %y0, %y1"] + [f"%r{k - 1} = fadd {v} %r{k - 2}, %y{k}"
                                          for k in range(2, CHAINS)]
    return "\n".join([
        f"declare {v} @{name}({v}, {v}, {v})",
        f"define {t} @fma_loop(i64 %n, {t} %a, {t} %b) {{",
        "entry:",
        f"  %a0 = insertelement {v} undef, {t} %a, i32 0",
        f"  %b0 = insertelement {v} undef, {t} %b, i32 0",
        *("  " + s for s in ins),
        "  br label %loop",
        "loop:",
        "  %i = phi i64 [0, %entry], [%i1, %loop]",
        *("  " + s for s in phis + body),
        "  %i1 = add i64 %i, 1",
        "  %c = icmp slt i64 %i1, %n",
        "  br i1 %c, label %loop, label %exit",
        "exit:",
        *("  " + s for s in red),
        f"  %s = extractelement {v} %r{CHAINS - 2}, i32 0",
        f"  ret {t} %s",
        "}"])


_ENGINES = []  # compiled code must outlive its function pointers


def _compile_fma(dtype, lanes):
    import llvmlite.binding as llvm
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    mod = llvm.parse_assembly(_fma_ir(_LLVM[dtype], lanes))
    mod.verify()
    target = llvm.Target.from_default_triple()
    tm = target.create_target_machine(cpu=llvm.get_host_cpu_name(),
                                      features=llvm.get_host_cpu_features().flatten(), opt=2)
    engine = llvm.create_mcjit_compiler(mod, tm)
    engine.finalize_object()
    _ENGINES.append(engine)
    ct = ctypes.c_double if dtype == "float64" else ctypes.c_float
    return ctypes.CFUNCTYPE(ct, ctypes.c_int64, ct, ct)(engine.get_function_address("fma_loop"))


def simd_widths():
    """Vector widths in bits this CPU executes, widest last (from its feature flags)."""
    import llvmlite.binding as llvm
    feats = llvm.get_host_cpu_features()
    return [256] + ([512] if feats.get("avx512f") else []) if feats.get("avx") else [128]


def _calibrated(fn, seconds, grow):
    """Iterations n of ``fn`` whose call lasts ``seconds`` on one core (n grows by ``grow``)."""
    n = 1000
    while True:
        t0 = time.perf_counter()
        fn(n, 0.999999, 1e-7)
        if time.perf_counter() - t0 > seconds or n > 1e10:
            return n
        n *= grow


def _all_threads(fn, n, threads):
    """Seconds for ``threads`` Python threads each to run ``fn(n, …)`` at once."""
    ts = [threading.Thread(target=fn, args=(n, 0.999999, 1e-7)) for _ in range(threads)]
    t0 = time.perf_counter()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return time.perf_counter() - t0


def fma_peak(dtype="float64", seconds=0.5, threads=None):
    """FMA throughput of all cores, best over the SIMD widths.

    Each of ``threads`` (default: all CPUs) Python threads runs the compiled loop; a round lasts
    about 50 ms and the best round of ``seconds`` counts.

    Returns
    -------
    gflops : float
        The best round's GFLOP/s.
    method : dict
        How it was reached: ``kind`` ("fma"), ``chains`` (:data:`CHAINS` independent registers
        per core), ``bits`` (the vector width), ``dtype``, ``threads``
        (:func:`fastnn.report.facts.method` words it).
    """
    threads = threads or os.cpu_count() or 1
    item = 8 if dtype == "float64" else 4
    best, method = 0.0, None
    for bits in simd_widths():
        lanes = bits // (8 * item)
        fn = _compile_fma(dtype, lanes)
        n = _calibrated(fn, 0.05, 4)
        flops = 2 * CHAINS * lanes * n * threads
        end = time.perf_counter() + seconds / len(simd_widths())
        while True:
            g = flops / _all_threads(fn, n, threads) / 1e9
            if g > best:
                best, method = g, dict(kind="fma", chains=CHAINS, bits=bits, dtype=dtype,
                                       threads=threads)
            if time.perf_counter() > end:
                break
    return best, method


_CANARY = {}


def canary(seconds=0.02, dtype="float64"):
    """The host's speed now: :func:`fma_peak`'s kernel on all cores for about ``seconds``
    (GFLOP/s), to set against the run's own FMA peak. Compiled once per process."""
    threads = os.cpu_count() or 1
    if dtype not in _CANARY:
        lanes = simd_widths()[-1] // (8 * (8 if dtype == "float64" else 4))
        fn = _compile_fma(dtype, lanes)
        n = _calibrated(fn, seconds, 2)
        _CANARY[dtype] = fn, n, 2 * CHAINS * lanes * n * threads
    fn, n, flops = _CANARY[dtype]
    return flops / _all_threads(fn, n, threads) / 1e9


def gemm_peak(dtype="float64", seconds=0.5, n=2048):
    """The best GFLOP/s of an n × n matrix product through NumPy's BLAS.

    Returns
    -------
    gflops : float
        The best product's GFLOP/s.
    method : dict
        ``kind`` ("gemm"), ``n``, ``dtype`` and ``blas`` (:func:`blas`: the library, its
        version and the kernel it picked, or None).
    """
    a = np.random.default_rng(0).standard_normal((n, n)).astype(dtype)
    a @ a
    best = 0.0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        t0 = time.perf_counter()
        a @ a
        best = max(best, 2 * n**3 / (time.perf_counter() - t0))
    return best / 1e9, dict(kind="gemm", n=n, dtype=dtype, blas=blas())


def blas():
    """NumPy's BLAS as threadpoolctl sees it: a dict with ``api`` ("openblas"), ``version``,
    ``architecture`` (the kernel it picked, "SkylakeX") and ``threads``; None when unknown."""
    try:
        from threadpoolctl import threadpool_info
        for d in threadpool_info():
            if d.get("user_api") == "blas":
                return dict(api=d.get("internal_api"), version=d.get("version"),
                            architecture=d.get("architecture"), threads=d.get("num_threads"))
    except ImportError:
        pass
    return None


def stream_peak(seconds=0.5, nbytes=2**28):
    """Streaming copy bandwidth (GB/s, read + write) of an array far beyond the caches."""
    src = np.ones(nbytes // 8)
    dst = np.empty_like(src)
    np.copyto(dst, src)
    bw = 0.0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        t0 = time.perf_counter()
        np.copyto(dst, src)
        bw = max(bw, 2 * src.nbytes / (time.perf_counter() - t0))
    return bw / 1e9, int(src.nbytes)


def machine_peaks(seconds=1.0):
    """The roofline's ceilings, each with how it was reached (data: the report words it).

    Returns
    -------
    dict
        ``peak_gflops`` (float64 compute ceiling: the higher of the FMA microkernel and the
        GEMM) and ``peak_method`` (which); ``fma_gflops``/``fma_method`` (:func:`fma_peak`) and
        ``gemm_gflops``/``gemm_method`` (:func:`gemm_peak`), both float64; ``fma32_gflops``/
        ``fma32_method`` (the float32 FMA ceiling); ``peak_gbs`` (streaming copy) with
        ``stream_bytes``; ``gemm_n``. Where the microkernel cannot be compiled, the fma fields
        are None and ``fma_error`` is its :func:`.codes.error`. Files before these methods
        hold ``<name>_kernel`` strings instead.
    """
    s = seconds / 4
    gemm, gemm_m = gemm_peak("float64", s)
    out = {}
    try:
        fma, fma_m = fma_peak("float64", s)
        fma32, fma32_m = fma_peak("float32", s)
    except Exception as exc:  # noqa: BLE001 - no LLVM for this CPU: GEMM is the ceiling
        fma, fma_m, fma32, fma32_m = None, None, None, None
        out["fma_error"] = error(exc)
    bw, nbytes = stream_peak(s)
    top = (fma, fma_m) if fma is not None and fma > gemm else (gemm, gemm_m)
    return {"peak_gflops": top[0], "peak_method": top[1],
            "fma_gflops": fma, "fma_method": fma_m, "fma32_gflops": fma32, "fma32_method": fma32_m,
            "gemm_gflops": gemm, "gemm_method": gemm_m, "gemm_n": 2048,
            "peak_gbs": bw, "stream_bytes": nbytes, **out}


__all__ = ["CHAINS", "blas", "canary", "fma_peak", "gemm_peak", "machine_peaks", "simd_widths",
           "stream_peak"]
