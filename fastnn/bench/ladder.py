"""The ladder: the training step's speed-up decomposed rung by rung, as one series.

The rungs are the network's backends that declare a ``ladder`` phrase, in registry order, each on
one thread (python → numpy-loop → numpy → numpy-inplace → numba), then the headline backend on
all cores. All rungs of a shape are sides of one group of :mod:`.rounds` (each in its own
long-lived worker, the order shuffled each round), so each factor is the ratio of one estimator
of adjacent rungs over the same rounds and the factors multiply to the direct ratio (first rung
over last) exactly. A per-example rung runs at a shorter m (:func:`.worker.short_m`), its time
scaled to m; its comparisons carry the ``scaled`` flag. Numbers only: the report words them
(what a rung adds: :func:`fastnn.plotting.rung_adds`, from the registry's ``ladder`` phrase).
"""

from __future__ import annotations

import math


def rungs():
    """[(backend, threads)]: each backend with a ``ladder`` phrase on one thread, in registry
    order, then the headline backend on all cores (threads 0)."""
    from ..backends import HEADLINE, REGISTRY, names
    return [(n, 1) for n in names(peers=False) if REGISTRY[n].ladder] + [(HEADLINE, 0)]


def shapes(entries):
    """The (n_x, n_h, m) the ladder ``entries`` cover, in their order."""
    return list(dict.fromkeys(e.shape for e in entries or ()))


def summary(entries, shape):
    """The ladder at one shape as numbers, or None when ``entries`` lack it.

    Returns
    -------
    dict
        ``rungs``: [{backend, threads, t_s (seconds per step, scaled to m), m_run}];
        ``factors``: the factor comparisons in order; ``product``: their ratios' product;
        ``direct``: the direct comparison or None; ``biggest``: the largest factor.
    """
    here = [e for e in entries or () if e.shape == tuple(shape) and not e.case]
    fs = [e for e in here if e.kind == "factor"]
    if not fs:
        return None
    rs = [dict(backend=f.baseline, threads=f.baseline_threads, t_s=f.t_baseline_s,
               m_run=f.baseline_m) for f in fs]
    rs.append(dict(backend=fs[-1].contender, threads=fs[-1].contender_threads,
                   t_s=fs[-1].t_contender_s, m_run=fs[-1].contender_m))
    return dict(shape=tuple(shape), rungs=rs, factors=fs, estimator=fs[0].estimator,
                product=math.prod(f.ratio for f in fs),
                direct=next((e for e in here if e.kind == "direct"), None),
                biggest=max(fs, key=lambda f: f.ratio))


__all__ = ["rungs", "shapes", "summary"]
