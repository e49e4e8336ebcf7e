"""The machine a run measured on: its CPU, OS, versions, BLAS, threading, memory settings, the
measured peaks, the compile times, the commit and the run.

:func:`numbers` selects and computes a :class:`MachineFacts` from a run's header (the peaks
ranked, the run id told from a derived one); :func:`render` words it as a list (a table cell
would hold a paragraph), leaving out what the header lacks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import fmt
from ..bench import store

LINE = "- **{label}:** {value}"
NONE = "_No machine facts recorded._"
PEAK = "{gflops:.1f} GFLOP/s ({kernel})"
STREAM = "{gbs:.1f} GB/s (streaming copy)"
#: How a compute peak was reached (:func:`fastnn.bench.peaks.machine_peaks`'s ``*_method``),
#: by its ``kind``; ``{blas}`` is :data:`BLAS` or :data:`NO_BLAS`.
METHOD = {
    "fma": ("FMA microkernel: {chains} independent {bits}-bit vfmadd chains per core, {dtype}, "
            "{threads} threads (llvmlite, host CPU)"),
    "gemm": "{prefix}gemm n={n} ({blas})",
}
BLAS = "{api} {version}, {architecture} kernel, {threads} threads"
NO_BLAS = "unknown BLAS"


def _join(*parts, sep=", "):
    """The parts that are present (not None, False or empty), joined."""
    return sep.join(str(p) for p in parts if p is not None and p is not False
                    and p not in ("", [], {}))


def _blas(mi):
    seen = {}
    for b in mi.get("blas", []) or []:
        lib = (b.get("filepath") or "").rsplit("/", 1)[-1].split(".so")[0]
        detail = _join(b.get("architecture") and f"{b['architecture']} kernel",
                       b.get("threading_layer"),
                       b.get("num_threads") and f"{b['num_threads']} threads")
        what = _join(b.get("internal_api"), b.get("version"), sep=" ")
        if not b.get("version") and lib:
            what += f" ({lib})"
        s = what + (f" — {detail}" if detail else "")
        seen[s] = seen.get(s, 0) + 1
    return "; ".join(s + (f" (×{n})" if n > 1 else "") for s, n in seen.items()) or "–"


def method(m):
    """A peak's ``*_method`` (:func:`fastnn.bench.peaks.fma_peak`, ``gemm_peak``) in words:
    "FMA microkernel: 12 independent 512-bit vfmadd chains per core, float64, 2 threads
    (llvmlite, host CPU)", "dgemm n=2048 (openblas 0.3.31, SkylakeX kernel, 2 threads)"."""
    b = m.get("blas")
    return METHOD[m["kind"]].format(**{
        **m, "prefix": "d" if m.get("dtype") == "float64" else "s",
        "blas": BLAS.format(**b) if b else NO_BLAS})


def _what(peaks, name):
    """What measured the peak ``name``: its ``<name>_method`` worded, else an older file's
    ``<name>_kernel`` as it was written, else None."""
    m = peaks.get(f"{name}_method")
    return method(m) if isinstance(m, dict) and m.get("kind") in METHOD else (
        peaks.get(f"{name}_kernel") or None)


def compute_peaks(peaks, blas_arch=None, dtype="float64"):
    """The compute peaks of one dtype in a header's ``peaks``, as (GFLOP/s, what measured it),
    highest first: the roofline's ceiling is the first.

    Reads ``<name>_gflops`` with ``<name>_method`` (``fma``, ``gemm``; a ``32`` in the name
    marks float32) or an older file's ``<name>_kernel`` words, and an older file's single
    ``peak_gflops`` (OpenBLAS's float64 GEMM).
    """
    peaks = peaks or {}
    out = []
    for k, v in peaks.items():
        if not (k.endswith("_gflops") and k != "peak_gflops" and isinstance(v, (int, float))):
            continue
        name = k[:-len("_gflops")]
        if ("32" in name) != (dtype == "float32") or not v > 0:
            continue
        out.append((float(v), _what(peaks, name) or _default_kernel(name, peaks, blas_arch)))
    if not out and dtype == "float64" and peaks.get("peak_gflops"):
        out.append((float(peaks["peak_gflops"]),
                    _what(peaks, "peak") or _default_kernel("gemm", peaks, blas_arch)))
    return sorted(out, key=lambda p: -p[0])


def _default_kernel(name, peaks, arch):
    if name.endswith("32") and _what(peaks, name[:-2]):
        k = _what(peaks, name[:-2])  # the float64 kernel's label, in float32
        return k.replace("float64", "float32") if "float64" in k else f"{k}, float32"
    if name != "gemm":
        return f"{name} kernel"
    how = f"float64 GEMM, n = {peaks['gemm_n']}" if peaks.get("gemm_n") else "float64 GEMM"
    return f"{how}, OpenBLAS's {arch} kernel" if arch else f"{how}, NumPy's BLAS"


def blas_arch(header):
    for b in header.get("machine_info", {}).get("blas", []) or []:
        if b.get("internal_api") == "openblas" and b.get("architecture"):
            return b["architecture"]
    return None


def _cpu(mi):
    cpu = mi.get("cpu", {}) or {}
    name = cpu.get("brand_raw") or mi.get("processor") or "unknown CPU"
    fam = _join(cpu.get("vendor") or cpu.get("vendor_id"),
                cpu.get("family") is not None and f"family {cpu['family']}",
                cpu.get("model") is not None and f"model {cpu['model']}")
    mhz = cpu.get("mhz") or cpu.get("MHz") or cpu.get("hz_advertised")
    simd = cpu.get("simd") or cpu.get("SIMD")
    if isinstance(simd, (list, tuple)):
        simd = " ".join(simd)
    return _join(name, fam, mhz and f"{float(mhz):,.0f} MHz",
                 cpu.get("count") and f"{cpu['count']} logical cores", simd and f"SIMD: {simd}")


def _real_id(header):
    """The header's run id, unless the loader derived it from an old file's content."""
    rid = header.get("run_id")
    derive = getattr(store, "derived_run_id", None)
    if not rid or (derive and rid == derive({k: v for k, v in header.items() if k != "run_id"})):
        return None
    return rid


def _memory(m):
    """The transparent-huge-page settings, NumPy's huge-page advice and the VM's free page
    reporting, in words."""
    if not m:
        return None
    advice = m.get("numpy_madvise_hugepage")
    return _join(m.get("thp_enabled") and f"transparent huge pages {m['thp_enabled']}",
                 m.get("thp_defrag") and f"defrag {m['thp_defrag']}",
                 advice is not None and ("NumPy advises huge pages for large arrays" if advice
                                         else "NumPy does not advise huge pages"),
                 m.get("free_page_reporting") and FREE_PAGES, sep="; ")


#: The VM's free page reporting (:func:`fastnn.bench.machine.free_page_reporting`), in words.
FREE_PAGES = "the VM reports freed memory to its host (virtio balloon), which backs it again on use"


@dataclass
class MachineFacts:
    """One run's machine: ``info`` (the header's ``machine_info``), ``peers`` (name -> version,
    None when not installed), ``peaks`` [(GFLOP/s, what measured it)] highest first per dtype,
    ``peak_gbs``, the compile's cold and cached seconds, the commit (id, uncommitted changes),
    and the run (its own id, None when derived; its date and command)."""
    info: dict = field(default_factory=dict)
    peers: dict = field(default_factory=dict)
    peaks: list = field(default_factory=list)
    peak_gbs: float | None = None
    compile_cold_s: float | None = None
    compile_cached_s: float | None = None
    compiled: bool = False
    commit: str | None = None
    dirty: bool = False
    run_id: str | None = None
    datetime: str | None = None
    command: str | None = None


def numbers(header):
    """The :class:`MachineFacts` of a run's ``header``."""
    mi = header.get("machine_info", {})
    pk = header.get("peaks", {})
    comp = header.get("compile", {})
    ci = header.get("commit_info", {})
    arch = blas_arch(header)
    return MachineFacts(
        info=mi, peers=mi.get("peers") or header.get("peers") or {},
        peaks=compute_peaks(pk, arch) + compute_peaks(pk, arch, "float32"),
        peak_gbs=pk.get("peak_gbs"), compile_cold_s=comp.get("compile_cold_s"),
        compile_cached_s=comp.get("compile_cached_s"), compiled=bool(comp),
        commit=ci.get("id"), dirty=bool(ci.get("dirty")), run_id=_real_id(header),
        datetime=header.get("datetime"), command=header.get("command"))


def render(n):
    """The machine facts as a Markdown list: only the fields there are."""
    mi = n.info
    peaks = _join(*(PEAK.format(gflops=g, kernel=w) for g, w in n.peaks),
                  n.peak_gbs and STREAM.format(gbs=n.peak_gbs), sep="; ")
    rows = [
        ("CPU", _cpu(mi)),
        ("OS", _join(mi.get("system"), mi.get("release"), sep=" ")),
        ("Python / NumPy / Numba / llvmlite",
         _join(mi.get("python_version"), mi.get("numpy"), mi.get("numba"), mi.get("llvmlite"),
               sep=" / ")),
        ("Peers", _join(*(f"{k} {v}" if v else f"{k} (not installed)"
                          for k, v in n.peers.items()), sep="; ") or "–"),
        ("BLAS (threadpoolctl)", _blas(mi)),
        ("OPENBLAS_* variables", _join(*(f"{k}={v}" for k, v in
                                         (mi.get("openblas_env") or {}).items())) or "none"),
        ("Numba threads / layer", _join(mi.get("numba_threads"),
                                        mi.get("numba_threading_layer"), sep=" / ")),
        ("Memory for large arrays", _memory(mi.get("memory"))),
        ("Measured peaks", peaks),
        ("Numba compile (new process)", n.compiled and _join(
            n.compile_cold_s is not None and f"cold {fmt.seconds(n.compile_cold_s)}",
            n.compile_cached_s is not None and f"cached {fmt.seconds(n.compile_cached_s)}")),
        ("Commit", n.commit and (n.commit[:10] + (" (uncommitted changes)" if n.dirty else ""))),
        ("Run", _join(n.run_id and f"id {n.run_id}", n.datetime,
                      n.command and f"`{n.command}`", sep=" — ")),
    ]
    rows = [(k, v) for k, v in rows if v not in (None, "", False)]
    return "\n".join(LINE.format(label=k, value=v) for k, v in rows) or NONE


def machine_md(header):
    """:func:`render` of :func:`numbers`."""
    return render(numbers(header))


__all__ = ["MachineFacts", "blas_arch", "compute_peaks", "machine_md", "method", "numbers",
           "render"]
