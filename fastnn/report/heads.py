"""The paragraphs around the headline tables: what the step table shows and what its columns
rest on, the float32 table's and the training-run table's heads.

Each computes a small dataclass of numbers (``*_numbers``) and renders it with the templates
below (``render_*``); nothing is worded while it is computed.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..backends import FIT_LR, HEADLINE, REFERENCE, REGISTRY
from ..bench.ceiling import GEMM_FROM_N_X, ceiling_s
from ..bench.grid import FLOAT32_TARGETS, TARGETS, Cell, working_set_bytes
from ..bench.stats import ESTIMATOR, WIDE
from . import select as S
from .reasons import OLD_PARTIAL_CHECK

# --- the step's headline table ----------------------------------------------------------------

HEADLINE_HEAD = ("The benchmark declares {shapes} headline shapes (n_x inputs, n_h hidden units, m "
                 "examples). For each: {headline}'s time per training step (float64, all cores), "
                 "how many times faster it is than {reference}{peers} on the same cell, and the "
                 "share of this machine's measured peaks it reaches.\n")
NOTES_PAIRED = ("Each speed-up is the ratio of the two sides' {estimator}s over the same "
                "interleaved rounds (at least {rounds}; every side of a shape in each round, in a "
                "random order, the rounds spread over the run in passes), with a 95 % bootstrap "
                "interval in brackets. A word after it links to a note: `wide` (the interval "
                "reaches beyond ±{wide:.0f} %), `cases` (the baseline's rounds fell into memory "
                "cases, each given with its own ratio: a side's fresh temporaries, NumPy's "
                "~{temps_gb:.1f} GB per step at n_h = 64, m = 1e6 among them, are mapped and "
                "zeroed by the kernel, quickly or slowly depending on the machine's free memory), `busy` "
                "(another process competed for the CPU) or `host` (the canary ran slow). "
                "(unpaired): the ratio of two separately measured medians, where no rounds were "
                "timed.")
NOTES_CEILING = ("The step's ceiling is the time it would take doing nothing but its unavoidable "
                 "work: one tanh ({tanh_ns:.2g} ns per value on all cores, measured) and 2·n_x + 4 "
                 "multiply-adds ({fma}) per example and hidden unit{gemm}; \"% of the step's "
                 "ceiling\" is that time over the measured one.")
NOTES_GEMM = (", the 2·n_x of the two matrix products priced at the measured GEMM rate "
              "({gemm:.0f} GFLOP/s) from n_x = {from_n_x} on")
NOTES_FMA_PEAK = "{ns:.2g} ns each at the machine's FMA peak"
NOTES_FMA_L1 = "{ns:.2g} ns each, streamed through L1"


@dataclass
class HeadlineHead:
    """The step table's head: how many shapes it declares, and whether peers are compared."""
    shapes: int
    peers: bool


def headline_head_numbers(df):
    """The :class:`HeadlineHead` of the results ``df``."""
    return HeadlineHead(shapes=len(TARGETS), peers=any(
        REGISTRY[b].peer for b in set(df.backend) if b in REGISTRY))


def render_headline_head(n):
    """The paragraph above the headline table."""
    return HEADLINE_HEAD.format(shapes=n.shapes, headline=HEADLINE, reference=REFERENCE,
                                peers=" and each peer" if n.peers else "")


def headline_head(df):
    """The paragraph above the headline table, from the results ``df``."""
    return render_headline_head(headline_head_numbers(df))


@dataclass
class TableNotes:
    """What the headline table's columns rest on: the fewest paired rounds (None: none), the
    size of NumPy's temporaries at (2, 64, 1e6), the measured tanh (ns per value) and the price
    of one multiply-add (ns; at the FMA peak, or streamed through L1)."""
    rounds: int | None
    temps_gb: float
    tanh_ns: float | None = None
    fma_ns: float | None = None
    fma_at_peak: bool = False
    gemm_gflops: float | None = None


def notes_numbers(header, pairs):
    """The :class:`TableNotes` of a run's ``header`` and its comparisons ``pairs``."""
    n = TableNotes(rounds=min(p.rounds for p in pairs) if pairs else None,
                   temps_gb=working_set_bytes(Cell(REFERENCE, "cost_and_grads", 10**6, 64)) / 1e9)
    c = (header.get("ceiling") or {}).get("float64")
    if c:
        fma = (header.get("peaks") or {}).get("fma_gflops")
        n.tanh_ns, n.fma_at_peak = 1e9 * c["tanh_s"], bool(fma)
        n.fma_ns = 2 / fma if fma else 1e9 * c["fma_s"]
        n.gemm_gflops = (header.get("peaks") or {}).get("gemm_gflops")
    return n


def render_notes(n):
    """What the headline table's columns mean, for a reader who never saw the harness."""
    out = []
    if n.rounds is not None:
        out.append(NOTES_PAIRED.format(rounds=n.rounds, estimator=ESTIMATOR, wide=100 * WIDE,
                                       temps_gb=n.temps_gb))
    if n.tanh_ns is not None:
        fma = (NOTES_FMA_PEAK if n.fma_at_peak else NOTES_FMA_L1).format(ns=n.fma_ns)
        gemm = (NOTES_GEMM.format(gemm=n.gemm_gflops, from_n_x=GEMM_FROM_N_X)
                if n.gemm_gflops else "")
        out.append(NOTES_CEILING.format(tanh_ns=n.tanh_ns, fma=fma, gemm=gemm))
    return "\n" + "\n\n".join(out) + "\n" if out else ""


def headline_notes(header, pairs):
    """:func:`render_notes` of :func:`notes_numbers`."""
    return render_notes(notes_numbers(header, pairs))


# --- float32 ----------------------------------------------------------------------------------

FLOAT32_HEAD = ("The same training step with float32 data and parameters: {headline}'s time, its "
                "own float64 step at the same shape, and how many times faster the float32 step "
                "is than that and than {reference}'s float32 step (paired rounds as above). In "
                "float32 {vector}, and the float32 tanh needs a shorter polynomial{ceiling}.\n")
FLOAT32_VECTOR = "a {bits}-bit vector register holds {f32} numbers instead of {f64}"
FLOAT32_NO_VECTOR = "a vector register holds twice as many numbers"
FLOAT32_CEILING = (": on this machine the float32 step's own ceiling (its fastest possible "
                   "time) is {ratio:.2f}× shorter than the float64 one at n_x={n_x}, n_h={n_h} "
                   "(tanh {tanh32_ns:.2g} ns per value in float32 against {tanh64_ns:.2g} ns in "
                   "float64, on all cores)")


@dataclass
class Float32Head:
    """The float32 table's head: the SIMD width (None: unknown) and, where both ceilings were
    measured, the float64 ceiling over the float32 one at the first float32 target shape."""
    bits: int | None
    ratio: float | None = None
    n_x: int | None = None
    n_h: int | None = None
    tanh64_ns: float | None = None
    tanh32_ns: float | None = None


def float32_numbers(header):
    """The :class:`Float32Head` of a run's ``header`` (its ceiling and FMA peaks)."""
    ceil, pk = header.get("ceiling"), header.get("peaks") or {}
    bits = ((header.get("machine_info") or {}).get("cpu") or {}).get("simd_bits")
    nx, nh, m = FLOAT32_TARGETS[0]
    c = [ceiling_s(ceil, m, nh, nx, dt, pk.get(k))
         for dt, k in (("float64", "fma_gflops"), ("float32", "fma32_gflops"))]
    if not all(c):
        return Float32Head(bits)
    return Float32Head(bits, ratio=c[0] / c[1], n_x=nx, n_h=nh,
                       tanh64_ns=ceil["float64"]["tanh_s"] * 1e9,
                       tanh32_ns=ceil["float32"]["tanh_s"] * 1e9)


def render_float32_head(n):
    """The paragraph above the float32 headline table."""
    vector = (FLOAT32_VECTOR.format(bits=n.bits, f32=n.bits // 32, f64=n.bits // 64) if n.bits
              else FLOAT32_NO_VECTOR)
    ceiling = "" if n.ratio is None else FLOAT32_CEILING.format(
        ratio=n.ratio, n_x=n.n_x, n_h=n.n_h, tanh32_ns=n.tanh32_ns, tanh64_ns=n.tanh64_ns)
    return FLOAT32_HEAD.format(headline=HEADLINE, reference=REFERENCE, vector=vector,
                               ceiling=ceiling)


def float32_head(header):
    """:func:`render_float32_head` of :func:`float32_numbers`."""
    return render_float32_head(float32_numbers(header))


# --- training runs ----------------------------------------------------------------------------

FIT_HEAD = ("A whole gradient-descent run (lr {lr:g}, tanh hidden layer, sigmoid output) from the "
            "same initial parameters on the lecture's flower data: {headline}'s time per step and "
            "for the whole run, and how many times faster it is than {reference} and each peer "
            "over the same steps (paired rounds as above, each round a whole run). Every run's "
            "parameters and costs were checked against {reference}'s before it was timed{partial}")
FIT_PARTIAL = (", except {n} cell(s) at m ≤ {m:,} where {reference}'s own run is chaotic: there "
               "only the costs up to that point were compared (each such cell's note says how "
               "many steps).")


@dataclass
class FitHead:
    """The training-run table's head: how many runs were checked on their first costs only
    (the reference's own run chaotic beyond), and the largest m among them."""
    partial: int
    partial_m: int | None


def fit_numbers(df):
    """The :class:`FitHead` of the results ``df``."""
    fits = df[(df.op == S.FIT) & (df.status == "ok")]
    flag = (fits.partial_check.fillna(False).astype(bool) if "partial_check" in fits else
            fits.message.fillna("").str.startswith(OLD_PARTIAL_CHECK))
    part = fits[flag]
    return FitHead(partial=len(part), partial_m=int(part.m.max()) if len(part) else None)


def render_fit_head(n):
    """The paragraph above the training-run headline table."""
    partial = (FIT_PARTIAL.format(n=n.partial, m=n.partial_m, reference=REFERENCE)
               if n.partial else ".")
    return FIT_HEAD.format(lr=FIT_LR, headline=HEADLINE, reference=REFERENCE,
                           partial=partial) + "\n"


def fit_head(df):
    """:func:`render_fit_head` of :func:`fit_numbers`."""
    return render_fit_head(fit_numbers(df))


__all__ = ["Float32Head", "FitHead", "HeadlineHead", "TableNotes", "fit_head", "fit_numbers",
           "float32_head", "float32_numbers", "headline_head", "headline_head_numbers",
           "headline_notes", "notes_numbers", "render_fit_head", "render_float32_head",
           "render_headline_head", "render_notes"]
