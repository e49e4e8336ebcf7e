"""This machine's ceilings for the roofline: compute (the best of an FMA microkernel and a BLAS
GEMM, each named) and memory (a streaming copy).

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
    """FMA throughput of all cores (GFLOP/s), best over the SIMD widths; returns (GFLOP/s, name).

    Each of ``threads`` (default: all CPUs) Python threads runs the compiled loop; a round lasts
    about 50 ms and the best round of ``seconds`` counts.
    """
    threads = threads or os.cpu_count() or 1
    item = 8 if dtype == "float64" else 4
    best, name = 0.0, None
    for bits in simd_widths():
        lanes = bits // (8 * item)
        fn = _compile_fma(dtype, lanes)
        n = _calibrated(fn, 0.05, 4)
        flops = 2 * CHAINS * lanes * n * threads
        end = time.perf_counter() + seconds / len(simd_widths())
        while True:
            g = flops / _all_threads(fn, n, threads) / 1e9
            if g > best:
                best, name = g, (f"FMA microkernel: {CHAINS} independent {bits}-bit vfmadd "
                                 f"chains per core, {dtype}, {threads} threads (llvmlite, "
                                 "host CPU)")
            if time.perf_counter() > end:
                break
    return best, name


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
    """The best GFLOP/s of an n × n matrix product through NumPy's BLAS; returns (GFLOP/s,
    name), the name giving the BLAS library, its version and the kernel it picked."""
    a = np.random.default_rng(0).standard_normal((n, n)).astype(dtype)
    a @ a
    best = 0.0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        t0 = time.perf_counter()
        a @ a
        best = max(best, 2 * n**3 / (time.perf_counter() - t0))
    return best / 1e9, f"{'d' if dtype == 'float64' else 's'}gemm n={n} ({blas_name()})"


def blas_name():
    """NumPy's BLAS as 'openblas 0.3.27, SkylakeX kernel, 2 threads', or 'unknown BLAS'."""
    try:
        from threadpoolctl import threadpool_info
        for d in threadpool_info():
            if d.get("user_api") == "blas":
                return (f"{d.get('internal_api')} {d.get('version')}, {d.get('architecture')} "
                        f"kernel, {d.get('num_threads')} threads")
    except ImportError:
        pass
    return "unknown BLAS"


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
    """The roofline's ceilings, each with the kernel that reached it.

    Returns a dict: ``peak_gflops`` (float64 compute ceiling: the higher of the FMA microkernel
    and the GEMM) and ``peak_kernel`` (which); ``fma_gflops``/``fma_kernel`` and
    ``gemm_gflops``/``gemm_kernel`` (both, float64); ``fma32_gflops`` (float32 FMA ceiling);
    ``peak_gbs`` (streaming copy) with ``stream_bytes``; ``gemm_n``.
    """
    s = seconds / 4
    gemm, gemm_k = gemm_peak("float64", s)
    try:
        fma, fma_k = fma_peak("float64", s)
        fma32, _ = fma_peak("float32", s)
    except Exception as exc:  # noqa: BLE001 - no LLVM for this CPU: GEMM is the ceiling
        fma, fma_k, fma32 = None, f"unavailable ({type(exc).__name__}: {exc})", None
    bw, nbytes = stream_peak(s)
    top = max((g, k) for g, k in ((gemm, gemm_k), (fma or 0.0, fma_k)))
    return {"peak_gflops": top[0], "peak_kernel": top[1],
            "fma_gflops": fma, "fma_kernel": fma_k, "fma32_gflops": fma32,
            "gemm_gflops": gemm, "gemm_kernel": gemm_k, "gemm_n": 2048,
            "peak_gbs": bw, "stream_bytes": nbytes}


__all__ = ["CHAINS", "blas_name", "canary", "fma_peak", "gemm_peak", "machine_peaks", "simd_widths",
           "stream_peak"]
