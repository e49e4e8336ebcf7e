"""The benchmark grid, declared once and driven by the backend registry.

Every name (backends, ops, dtypes) comes from :mod:`fastnn.backends`; the target shapes are
:data:`TARGETS` (the training step) and :data:`FIT_TARGETS` (a whole training run), read by the
``targets`` grid, the report's headline tables and the pytest-benchmark suite. How many steps a
``fit`` cell runs is :func:`fit_steps`.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass

from ..backends import (DTYPES, FIT, FIT_LR, HEADLINE, OPS, REFERENCE, REGISTRY,
                        available_peers, get_backend, names)
from ..datasets import DATASETS
from .codes import Why, why

#: The headline shapes (n_x, n_h, m): the fused kernels' targets against NumPy and the peers.
TARGETS = ((2, 64, 1_000_000), (2, 4, 1_000_000), (784, 128, 10_000))
#: The op the headline table compares at :data:`TARGETS`.
HEADLINE_OP = "cost_and_grads"
#: The float32 headline shapes (n_x, n_h, m) of the step: there the headline backend's float32
#: step is compared with its own float64 step and with the reference's float32 step (the
#: ``targets`` grid measures these two backends in float32 there).
FLOAT32_TARGETS = ((2, 64, 1_000_000),)
#: The op of a whole training run, timed per step.
FIT_OP = FIT
#: The training runs' headline shapes and step counts (n_x, n_h, m, steps): the lecture's flower
#: run (10,000 steps, where per-call costs dominate) and a large m (two steps, where the loop
#: should add nothing to the step; a run there takes seconds on numpy and the peers, and each
#: paired round runs four).
FIT_TARGETS = ((2, 4, 400, 10_000), (2, 64, 1_000_000, 2))
#: The real data sets a grid with ``data`` trains on (:mod:`fastnn.datasets`): each a ``fit``
#: cell at its own n_x, m, n_h, steps and lr, float64, all cores.
DATA = tuple(DATASETS)
#: Elsewhere a ``fit`` cell runs about this many hidden-unit evaluations (m · n_h · steps) …
FIT_WORK = 2**22
#: … in at least FIT_MIN_STEPS and at most FIT_MAX_STEPS steps: enough steps that a small m
#: times the training loop, not one call's entry and exit; few enough that a large m (and the
#: reference run it is checked against) stays within its budget.
FIT_MIN_STEPS, FIT_MAX_STEPS = 3, 1000
#: The training step at m beyond the headline shapes, where NumPy's temporaries outgrow the
#: memory and the fused step (X and Y only) goes on: the ``targets`` grid runs these on the
#: network's vectorised backends (:func:`large_m_backends`) with a headline cell's budget, and a
#: backend whose working set does not fit is skipped, saying so (:func:`skip_reason`).
LARGE_M = ((2, 64, 3_000_000), (2, 64, 10_000_000), (2, 64, 50_000_000))
#: A headline cell's own budget (seconds for ``cell.OVER_BUDGET_CALLS`` calls; at least the
#: grid's): it is measured, not extrapolated, unless even this is predicted to be exceeded.
HEADLINE_BUDGET_S = 60.0

#: The ``first`` grid's m axis (the training step at n_h = 4, the flower's width): enough points
#: to see where numba overtakes numpy and the per-example loops, and to fit t(m) = a + b·m^k.
FIRST_M = (1, 10, 100, 1_000, 10_000, 100_000, 1_000_000)

#: The grids: every axis a tuple. ``threads`` 0 means "all cores". Besides its axes a grid may
#: declare ``shapes`` ({op: ((n_x, n_h, m), …)} instead of the product of m, n_h and n_x),
#: ``headline_shapes`` ({op: shapes} run only on the headline table's backends:
#: :func:`is_headline`) and ``run`` (how the run is budgeted beyond the per-cell budget:
#: :func:`settings`). What each holds and how long it takes, in words, is
#: :data:`fastnn.report.console.GRIDS` (``fastnn bench --help``).
GRIDS = {
    "first": dict(ops=(HEADLINE_OP, FIT_OP),
                  shapes={HEADLINE_OP: tuple((2, 4, m) for m in FIRST_M), FIT_OP: ()},
                  headline_shapes={HEADLINE_OP: TARGETS, FIT_OP: (FIT_TARGETS[0][:3],)},
                  m=(), n_h=(), n_x=(), dtype=("float64",), threads=(0,), budget_s=0.5,
                  run=dict(headline_budget_s=8.0, samples=5, sample_s=2.0, memory_below_s=0.3,
                           # the ladder at one shape took the run to 3 min 6 s (measured, cold
                           # cache): over the first run's 3 minutes; the targets grid has it.
                           # One worker a headline cell: the table is the rounds', whose two
                           # passes are two workers a side (two took the run to 4 min)
                           workers=1, ladder=None,
                           peaks_s=0.4, ceiling_s=0.1, ceiling_dtypes=("float64",),
                           rounds=dict(rounds=6, min_rounds=4, passes=2, budget_s=12.0))),
    "quick": dict(ops=OPS, m=(1, 100, 10_000, 1_000_000), n_h=(4, 64), n_x=(2,),
                  dtype=("float64",), threads=(0,), budget_s=2.0),
    "full": dict(ops=OPS, m=(1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000),
                 n_h=(1, 4, 16, 64, 256, 1024), n_x=(2,), dtype=DTYPES, threads=(1, 0),
                 budget_s=4.0),
    "real": dict(ops=(FIT_OP,), shapes={FIT_OP: ()}, data=DATA, m=(), n_h=(), n_x=(),
                 dtype=("float64",), threads=(0,), budget_s=10.0),
    "targets": dict(ops=(HEADLINE_OP, FIT_OP),
                    shapes="targets",  # :func:`target_shapes` of each op
                    float32=FLOAT32_TARGETS, large_m=LARGE_M, data=DATA,
                    m=(), n_h=(), n_x=(), dtype=("float64",), threads=(0,), budget_s=10.0),
}


@dataclass(frozen=True)
class Cell:
    """One measurement: an op of a backend at (n_x, n_h, m), dtype and threads. ``data`` names
    a real data set of :mod:`fastnn.datasets` (a ``fit`` cell trains on it, at its n_x, m,
    steps and lr); "" is the synthetic data of :func:`.worker.make_data`."""
    backend: str
    op: str
    m: int
    n_h: int
    n_x: int = 2
    n_y: int = 1
    dtype: str = "float64"
    threads: int = 0
    hidden: str = "tanh"
    output: str = "sigmoid"
    data: str = ""

    @property
    def key(self):
        """The cell's identity in a results file (a synthetic cell's key leaves ``data`` out,
        as files before real data sets wrote it)."""
        d = asdict(self)
        if not self.data:
            del d["data"]
        return "|".join(str(v) for v in d.values())

    def params(self):
        return asdict(self)

    @classmethod
    def of(cls, rec):
        """The cell a results record describes (a record without ``data``: synthetic)."""
        kw = {k: rec[k] for k in cls.__dataclass_fields__ if k != "data"}
        data = rec.get("data", "") if hasattr(rec, "get") else ""
        return cls(**kw, data=data if isinstance(data, str) else "")


def _nice(n):
    """The largest of 1, 2, 5, 10, 20, 50, … that is <= n (n >= 1)."""
    scale = 10 ** (len(str(int(n))) - 1)
    return max(f * scale for f in (1, 2, 5) if f * scale <= n)


def data_cells(backends, names=DATA, threads=(0,)):
    """The ``fit`` cells of the data sets ``names`` on ``backends`` (those implementing fit)."""
    return [Cell(b, FIT_OP, d.m, d.n_h, d.n_x, 1, "float64", th, data=d.name)
            for b in backends if FIT_OP in REGISTRY[b].ops
            for d in (DATASETS[n] for n in names) for th in threads]


def fit_lr(c):
    """The learning rate of a ``fit`` cell: its data set's, else :data:`FIT_LR`."""
    return DATASETS[c.data].lr if c.data else FIT_LR


def fit_steps(c):
    """Gradient-descent steps one timed call of a ``fit`` cell runs (1 for the other ops).

    A shape of :data:`FIT_TARGETS` runs its declared steps; any other runs about
    :data:`FIT_WORK` hidden-unit evaluations, rounded down to 1, 2 or 5 × 10^k steps and kept in
    [FIT_MIN_STEPS, FIT_MAX_STEPS]. The same for every backend, so each is checked against the
    same reference run.
    """
    if c.op != FIT_OP:
        return 1
    if c.data:
        return DATASETS[c.data].steps
    for nx, nh, m, steps in FIT_TARGETS:
        if (c.n_x, c.n_h, c.m) == (nx, nh, m):
            return steps
    k = 2 if c.hidden == "maxout" else 1
    return min(FIT_MAX_STEPS, max(FIT_MIN_STEPS, _nice(max(1, FIT_WORK // (c.m * c.n_h * k)))))


def working_set_bytes(c):
    """What one call of cell c holds in memory, by its backend's model (``Backend.memory``):

    - ``temporaries``: X and Y, and NumPy's fresh arrays of the matrix form at their peak:
      for a step, 2 + 2k of (n_h, m) (Z1 and A1 held while W2ᵀ dZ2, g'(Z1) and dZ1 are made) and
      4 of (n_y, m); ``forward`` its cache; ``backward`` the cache it reads and k + 1 of (n_h, m)
      and 2 of (n_y, m) (the counts are tracemalloc's peaks of ``numpy``, every activation;
      ``tests/test_workers.py`` holds them);
    - ``buffers``: X and Y, and the work arrays once: Z1 (k n_h, m), A1 (n_h, m) and 4 of
      (n_y, m) (reused for the gradients); ``backward``, which must not write the cache it
      reads, two more: G (k n_h, m) and dA1 (n_h, m);
    - ``fused``: X and Y only (per-thread sums are a few kB), plus the cache an op returns
      (``forward``) or takes (``backward``): Z1, A1, Z2, A2;
    - ``per_example``: X and Y, and the cache an op returns, one example's vectors at a time.

    Bytes; k = 2 for maxout. A cell above :func:`memory_limit` is skipped by declaration.
    """
    item = 4 if c.dtype == "float32" else 8
    k = 2 if c.hidden == "maxout" else 1
    inputs = item * c.m * (c.n_x + c.n_y)
    cache = item * c.m * ((k + 1) * c.n_h + 2 * c.n_y)
    returns_cache = c.op in ("forward", "backward")
    model = get_backend(c.backend).memory
    if model == "temporaries":
        if c.op == "forward":
            return inputs + cache
        if c.op == "backward":
            return inputs + cache + item * c.m * ((k + 1) * c.n_h + 2 * c.n_y)
        return inputs + item * c.m * ((2 + 2 * k) * c.n_h + 4 * c.n_y)
    if model == "buffers":
        if c.op == "backward":  # the cache it reads stays unwritten: two more work arrays
            return inputs + cache + item * c.m * (k + 1) * c.n_h
        return inputs + cache + item * c.m * 2 * c.n_y
    return inputs + (cache if returns_cache else 0)


#: The share of the machine's available memory (MemAvailable) a cell may plan to use, and the
#: limit when the machine does not say (off Linux).
MEMORY_SHARE = 0.7
MEMORY_FALLBACK = 6 * 2**30


def memory_limit():
    """Bytes a cell's working set may reach: :data:`MEMORY_SHARE` of the memory available now
    (``MemAvailable`` in /proc/meminfo), else :data:`MEMORY_FALLBACK`."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(MEMORY_SHARE * int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    return MEMORY_FALLBACK


def skip_reason(c):
    """Why a cell cannot run, as data (a :func:`.codes.why` dict), or None: the entry's declared
    capabilities, then memory."""
    be = get_backend(c.backend)
    lack = be.lacks(c.op, c.dtype, c.hidden, c.output)
    if lack:
        return why(Why.UNSUPPORTED, what=lack[0], value=lack[1])
    if c.m < be.min_m:
        return why(Why.FEW_EXAMPLES, min_m=be.min_m, m=c.m)
    if c.threads and not be.sets_threads:
        return why(Why.FIXED_THREADS)
    need, limit = working_set_bytes(c), memory_limit()
    if need > limit:
        return why(Why.MEMORY, need_bytes=int(need), limit_bytes=int(limit), model=be.memory)
    return None


def target_shapes(op):
    """The headline shapes (n_x, n_h, m) of ``op``: :data:`TARGETS` for the step, the shapes of
    :data:`FIT_TARGETS` for a training run, none for another op."""
    return {HEADLINE_OP: TARGETS, FIT_OP: tuple(t[:3] for t in FIT_TARGETS)}.get(op, ())


def grid_shapes(g, headline=True):
    """A grid's declared shapes per op, {op: ((n_x, n_h, m), …)} ({} for a grid that is a
    product of its m, n_h and n_x axes); ``"targets"`` stands for :func:`target_shapes`. With
    ``headline``, its ``headline_shapes`` (run on the headline table's backends only) too."""
    shapes = g.get("shapes") or {}
    if shapes == "targets":
        return {op: target_shapes(op) for op in (HEADLINE_OP, FIT_OP)}
    shapes = dict(shapes)
    for op, extra in (g.get("headline_shapes") or {}).items() if headline else ():
        shapes[op] = tuple(dict.fromkeys(shapes.get(op, ()) + tuple(extra)))
    return shapes


def settings(grid):
    """How a grid's run is budgeted beyond its per-cell budget: a dict with any of
    ``headline_budget_s`` (a headline cell's budget; default :data:`HEADLINE_BUDGET_S`),
    ``samples`` and ``sample_s`` (at most this many timed samples per cell, taken within this
    many seconds, at least 3), ``memory_below_s`` (peak memory only
    of cells whose call is faster), ``ladder`` (keywords of :func:`.ladder.measure` and
    ``shapes``, or None for no ladder), ``peaks_s``, ``ceiling_s`` and ``ceiling_dtypes`` (the
    machine-peak and ceiling measurements) and ``pairs`` (keywords of
    :func:`.paired.headline_pairs`); a key left out takes the harness's default
    (:func:`.run.sweep`)."""
    return dict(GRIDS[grid].get("run") or {})


def large_m_backends():
    """The network's backends that the :data:`LARGE_M` shapes run on: every one whose working
    set is not one example's (registry order; the per-example loops would take minutes)."""
    return tuple(n for n in names(peers=False) if REGISTRY[n].memory != "per_example")


def is_large_m(c):
    """True for a cell of :data:`LARGE_M`: the float64 training step on
    :func:`large_m_backends`."""
    return (c.op == HEADLINE_OP and c.dtype == "float64" and (c.n_x, c.n_h, c.m) in LARGE_M
            and c.backend in large_m_backends())


def is_headline(c):
    """True for a cell of a headline table: :data:`HEADLINE_OP` at a :data:`TARGETS` shape, or
    :data:`FIT_OP` at a :data:`FIT_TARGETS` shape (float64), or :data:`HEADLINE_OP` at a
    :data:`FLOAT32_TARGETS` shape (float32), on the headline backend, the reference or a peer."""
    if c.data:
        return (c.op == FIT_OP and c.dtype == "float64" and c.data in DATASETS
                and (c.backend in (HEADLINE, REFERENCE) or REGISTRY[c.backend].peer))
    if c.dtype == "float32":
        shapes = FLOAT32_TARGETS if c.op == HEADLINE_OP else ()
    else:
        shapes = target_shapes(c.op)
    return ((c.n_x, c.n_h, c.m) in shapes
            and (c.backend in (HEADLINE, REFERENCE) or REGISTRY[c.backend].peer))


def budget_for(c, budget_s, headline_s=None):
    """The cell's time budget: the grid's, or for a headline cell or a :data:`LARGE_M` one at
    least ``headline_s`` (default :data:`HEADLINE_BUDGET_S`)."""
    top = HEADLINE_BUDGET_S if headline_s is None else headline_s
    return max(budget_s, top) if is_headline(c) or is_large_m(c) else budget_s


def max_threads():
    """The most threads a cell can run at here, so that its ``threads`` label is what ran.

    Numba's pool has ``numba.config.NUMBA_NUM_THREADS`` threads (by default one per CPU this
    process may use) and ``numba.set_num_threads`` cannot go above it, while the BLAS
    (threadpoolctl) takes any count up to its own build limit: asked for 3 on 2 cores it ran 3
    while Numba ran 2. So the limit is Numba's pool, or less where a BLAS reads back fewer.
    """
    import numba
    from threadpoolctl import threadpool_info, threadpool_limits
    n = numba.config.NUMBA_NUM_THREADS
    with threadpool_limits(limits=n, user_api="blas"):
        blas = [i["num_threads"] for i in threadpool_info() if i.get("user_api") == "blas"]
    return min([n, *blas])


def cells(grid="quick", *, backends=None, ops=None, m=None, n_h=None, n_x=None, dtype=None,
          threads=None, peers=True):
    """All cells of a grid, with any axis overridden. Unknown names raise ``ValueError``.

    Without ``backends``: every backend, and the installed peers when ``peers`` is true. A named
    peer that is not installed is a ``ValueError`` saying what is missing.
    """
    if grid not in GRIDS:
        raise ValueError(f"unknown grid {grid!r}; valid: {', '.join(GRIDS)}")
    g = dict(GRIDS[grid])
    if backends:
        backends = tuple(dict.fromkeys(backends))
        for b in backends:
            why = get_backend(b).missing()  # an unknown name raises, listing the valid ones
            if why:
                raise ValueError(f"backend {b!r} cannot run here: {why}")
    else:
        backends = names(peers=False) + (
            tuple(n for n, why in available_peers().items() if why is None) if peers else ())
    for name, value, valid in (("op", ops, OPS), ("dtype", dtype, DTYPES)):
        for v in value or ():
            if v not in valid:
                raise ValueError(f"unknown {name} {v!r}; valid: {', '.join(valid)}")
    if (m or n_h) and not n_x:
        n_x = (2,)  # the flower's width: an m or n_h axis given alone is at n_x = 2
    declared = grid_shapes(g, headline=False)
    extra = {} if (m or n_h or n_x) else (g.get("headline_shapes") or {})
    if declared or extra:  # an override of one size axis keeps the others' declared values
        every = [s for shapes in grid_shapes(g).values() for s in shapes]
        for i, k in enumerate(("n_x", "n_h", "m")):
            g[k] = tuple(sorted({s[i] for s in every}))
    axes = dict(ops=ops, m=m, n_h=n_h, n_x=n_x, dtype=dtype, threads=threads)
    for k, v in axes.items():
        if v:
            g[k] = tuple(v)
    for k in ("m", "n_h", "n_x"):
        if any((not isinstance(v, int)) or v < 1 for v in g[k]):
            raise ValueError(f"{k} values must be integers >= 1, got {g[k]}")
    if any(t < 0 for t in g["threads"]):
        raise ValueError("threads must be >= 0 (0 means all cores)")
    if threads and max(threads) > max_threads():  # the grids' own counts are 1 and 0
        raise ValueError(f"threads {max(threads)}: this machine runs at most {max_threads()} "
                         f"(Numba's pool, NUMBA_NUM_THREADS, and the BLAS); use 0 for all cores")
    product = [(nx, nh, mm) for nx in g["n_x"] for nh in g["n_h"] for mm in sorted(g["m"])]
    out = []
    for b, op, dt, th in itertools.product(backends, g["ops"], g["dtype"], g["threads"]):
        if REGISTRY[b].peer and op not in REGISTRY[b].ops:
            continue  # a peer times what it implements; not a skipped cell
        shapes = product if (m or n_h or n_x) or not declared else declared.get(
            op, declared.get(HEADLINE_OP, product))
        out += [Cell(b, op, mm, nh, nx, 1, dt, th) for nx, nh, mm in shapes]
        out += [c for c in (Cell(b, op, mm, nh, nx, 1, dt, th)
                            for nx, nh, mm in extra.get(op, ()) if (nx, nh, mm) not in shapes)
                if is_headline(c)]  # the headline shapes: the headline table's backends only
    if HEADLINE_OP in g["ops"] and not (dtype or m or n_h or n_x):
        out += [c for c in (Cell(b, HEADLINE_OP, mm, nh, nx, 1, "float64", th)
                            for b in backends for nx, nh, mm in g.get("large_m", ())
                            for th in g["threads"]) if is_large_m(c)]
        out += [Cell(b, HEADLINE_OP, mm, nh, nx, 1, "float32", th)
                for b in backends if b in (HEADLINE, REFERENCE)
                for nx, nh, mm in g.get("float32", ()) for th in g["threads"]]
    if g.get("data") and FIT_OP in g["ops"] and not (dtype or m or n_h or n_x or threads):
        out += data_cells(backends, g["data"])
    if not out:
        raise ValueError(f"nothing to run: no backend of {', '.join(backends)} implements "
                         f"{' or '.join(g['ops'])} (peers time only the ops they declare)")
    return out, g["budget_s"]


__all__ = ["Cell", "DATA", "data_cells", "fit_lr", "FIRST_M", "FIT_OP", "FIT_TARGETS", "FLOAT32_TARGETS", "GRIDS", "HEADLINE_BUDGET_S",
           "HEADLINE_OP", "LARGE_M", "MEMORY_FALLBACK", "MEMORY_SHARE", "TARGETS", "budget_for", "cells",
           "fit_steps", "grid_shapes", "is_headline", "is_large_m", "large_m_backends", "max_threads", "settings", "skip_reason",
           "memory_limit", "target_shapes", "working_set_bytes"]
