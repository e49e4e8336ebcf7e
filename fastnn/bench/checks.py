"""Correctness checks: every cell's result against the reference backend's before it is timed."""

from __future__ import annotations

import numpy as np

from ..backends import REFERENCE
from . import worker
from .codes import Why, why
from .grid import FIT_OP


def reference(c, P, X, Y):
    """The reference backend's result for the cell, to check another backend against."""
    return worker.step_fn(c, P, X, Y, backend=REFERENCE)()


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
    """None if ``out`` agrees with the numpy backend's ``ref``, else a ``disagrees`` why
    (:mod:`.codes`) with the largest absolute difference (None when the shapes differ).

    Every array is compared with a relative tolerance (:data:`RTOL`, or :data:`FIT_RTOL` for a
    training run) and an absolute one of the same size times the array's largest magnitude.
    """
    rtol = (FIT_RTOL if op == FIT_OP else RTOL)[dtype]
    for a, b in zip(_flat(out), _flat(ref)):
        a, b = np.asarray(a, float), np.asarray(b, float)
        atol = rtol * max(1e-30, float(np.max(np.abs(b))) if b.size else 0.0)
        if a.shape != b.shape or not np.allclose(a, b, rtol=rtol, atol=atol):
            err = float(np.max(np.abs(a - b))) if a.shape == b.shape else None
            return why(Why.DISAGREES, max_diff=err, onset=None)
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
    costs, costs2 = ref[1], worker.step_fn(c, P2, X, Y, backend=REFERENCE)()[1]
    tol = FIT_RTOL[c.dtype] * max(1e-30, float(np.max(np.abs(costs))))
    n = min(len(costs), len(costs2))
    off = np.flatnonzero(np.abs(costs[:n] - costs2[:n]) > tol)
    return int(off[0]) if len(off) else None


def check_fit(c, out, ref, P, X, Y):
    """(problem or None, note or None) for a training run ``out`` against the reference run
    ``ref``, each a why (:mod:`.codes`).

    The parameters and every cost are compared (:func:`check`). Where they disagree because
    the reference run is itself chaotic (:func:`chaos_onset`), only the costs before that step
    are compared, and ``note`` (``partial_fit_check``) says so.
    """
    bad = check(out, ref, c.dtype, FIT_OP)
    if bad is None:
        return None, None
    onset = chaos_onset(c, P, X, Y, ref)
    if not onset:
        return bad, None
    if check((None, out[1][:onset]), (None, ref[1][:onset]), c.dtype, FIT_OP) is not None:
        return dict(bad, onset=onset), None
    return None, why(Why.PARTIAL_FIT_CHECK, onset=onset, steps=len(ref[1]), reference=REFERENCE)
