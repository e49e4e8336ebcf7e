"""The benchmark grid, declared once and driven by the backend registry."""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass

import fastnn

OPS = ("forward", "backward", "cost_and_grads")
DTYPES = ("float64", "float32")

#: The grids: every axis a tuple. ``threads`` 0 means "all cores".
GRIDS = {
    "quick": dict(ops=OPS, m=(1, 100, 10_000, 1_000_000), n_h=(4, 64), n_x=(2,),
                  dtype=("float64",), threads=(0,), budget_s=2.0),
    "full": dict(ops=OPS, m=(1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000),
                 n_h=(1, 4, 16, 64, 256, 1024), n_x=(2,), dtype=DTYPES, threads=(1, 0),
                 budget_s=4.0),
    # the numba issue's target shapes, as explicit (n_x, n_h, m) triples
    "targets": dict(ops=("cost_and_grads",), shapes=((2, 64, 1_000_000), (2, 4, 1_000_000),
                                                     (784, 128, 10_000)),
                    m=(), n_h=(), n_x=(), dtype=("float64",), threads=(0,), budget_s=10.0),
}

#: A cell whose working set would exceed this many bytes is skipped by declaration.
MEMORY_LIMIT = 6 * 2**30


@dataclass(frozen=True)
class Cell:
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

    @property
    def key(self):
        return "|".join(str(v) for v in asdict(self).values())

    def params(self):
        return asdict(self)


def working_set_bytes(c):
    """A generous estimate of a call's memory: X, Y, the cache and NumPy's temporaries."""
    item = 4 if c.dtype == "float32" else 8
    return item * c.m * (c.n_x + c.n_y + 8 * c.n_h + 4 * c.n_y)


def skip_reason(c):
    """Why a cell cannot run, or None. Declared here, not by ``if`` chains in timed code."""
    be = fastnn.get_backend(c.backend) if c.backend in fastnn.BACKENDS else None
    if be is not None and c.dtype == "float32" and be.per_example:
        return "per-example loops compute in float64"
    if c.backend == "jax" and c.threads:
        return "JAX fixes its thread pool at start-up; only 'all cores' is measured"
    if working_set_bytes(c) > MEMORY_LIMIT:
        return f"working set ~{working_set_bytes(c) / 2**30:.0f} GiB exceeds the memory limit"
    return None


def cells(grid="quick", *, backends=None, ops=None, m=None, n_h=None, n_x=None, dtype=None,
          threads=None, extra_backends=()):
    """All cells of a grid, with any axis overridden. Unknown names raise ``ValueError``."""
    if grid not in GRIDS:
        raise ValueError(f"unknown grid {grid!r}; valid: {', '.join(GRIDS)}")
    g = dict(GRIDS[grid])
    if backends:  # an explicit list: peers only when named
        backends = tuple(dict.fromkeys(backends))
        for b in backends:
            if b in ("torch", "jax") and b not in extra_backends:
                raise ValueError(f"peer {b!r} is not installed (pip install -e \".[peers]\")")
            if b not in fastnn.BACKENDS and b not in extra_backends:
                fastnn.get_backend(b)  # raises, listing the valid names
    else:
        backends = tuple(fastnn.BACKENDS) + tuple(extra_backends)
    for name, value, valid in (("op", ops, OPS), ("dtype", dtype, DTYPES)):
        for v in value or ():
            if v not in valid:
                raise ValueError(f"unknown {name} {v!r}; valid: {', '.join(valid)}")
    if g.get("shapes"):  # an override of one size axis keeps the others' declared values
        for i, k in enumerate(("n_x", "n_h", "m")):
            g[k] = tuple(sorted({s[i] for s in g["shapes"]}))
    axes = dict(ops=ops, m=m, n_h=n_h, n_x=n_x, dtype=dtype, threads=threads)
    for k, v in axes.items():
        if v:
            g[k] = tuple(v)
    for k in ("m", "n_h", "n_x"):
        if any((not isinstance(v, int)) or v < 1 for v in g[k]):
            raise ValueError(f"{k} values must be integers >= 1, got {g[k]}")
    if any(t < 0 for t in g["threads"]):
        raise ValueError("threads must be >= 0 (0 means all cores)")
    shapes = g.get("shapes") if not (m or n_h or n_x) else None
    if not shapes:
        shapes = [(nx, nh, mm) for nx in g["n_x"] for nh in g["n_h"] for mm in sorted(g["m"])]
    out = []
    for b, op, dt, th, (nx, nh, mm) in itertools.product(backends, g["ops"], g["dtype"],
                                                         g["threads"], shapes):
        if b in extra_backends and op != "cost_and_grads":
            continue  # peers time the training step only
        out.append(Cell(b, op, mm, nh, nx, 1, dt, th))
    return out, g["budget_s"]
