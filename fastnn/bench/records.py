"""The typed records of ``paired.json``: the rounds as measured (:class:`Series`, one per group
of sides at a shape) and the comparisons computed from them (:class:`Comparison`). Each has one
``from_json`` that holds every default, so an older file loads; :mod:`.store` alone reads and
writes them (:func:`.store.write_paired`, :func:`.store.load_paired`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

#: The paired file's format; a file without one is the format before series (``pairs`` and
#: ``ladder`` lists of comparisons only).
FORMAT = "fastnn-paired/2"


def _known(cls, d):
    """The keys of dict ``d`` that are fields of ``cls``."""
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in (d or {}).items() if k in names}


@dataclass
class SideRounds:
    """One side's rounds: seconds per call (scaled to the shape's m), the kernel's CPU seconds
    per call, the CPU seconds per call other processes used meanwhile (None: not kept), and
    the index of each round in its series."""
    backend: str
    dtype: str = "float64"
    threads: int = 0
    m_run: int = 0  # the m it ran at (below the shape's m: a per-example side, scaled)
    round_ids: list = field(default_factory=list)
    rounds_s: list = field(default_factory=list)
    system_s: list = field(default_factory=list)
    others_s: list = field(default_factory=list)

    @property
    def name(self):
        return (self.backend, self.dtype, self.threads)

    @classmethod
    def from_json(cls, d):
        s = cls(**_known(cls, d))
        if not s.round_ids:
            s.round_ids = list(range(len(s.rounds_s)))
        return s


@dataclass
class Series:
    """Every side measured at one shape, in the same interleaved rounds (:mod:`.rounds`)."""
    op: str
    n_x: int
    n_h: int
    m: int
    steps: int = 1
    data: str = ""  # a real data set's name (fastnn.datasets), "" for synthetic data
    sides: list = field(default_factory=list)  # of SideRounds
    canary_gflops: list = field(default_factory=list)  # per round (None: not timed)
    passes: list = field(default_factory=list)  # per round: the pass it ran in
    failed: dict = field(default_factory=dict)  # cell key -> why its side could not be built
    disturbed: bool = False
    over: dict = field(default_factory=dict)  # contention.exceeded: {fact: largest value}
    reason: str = ""  # an older file's words for the same (empty in new runs)

    def side(self, backend, dtype="float64", threads=0):
        """The side (backend, dtype, threads), or None."""
        return next((s for s in self.sides if s.name == (backend, dtype, threads)), None)

    @classmethod
    def from_json(cls, d):
        s = cls(**_known(cls, d))
        s.sides = [SideRounds.from_json(x) for x in s.sides]
        return s


@dataclass
class Comparison:
    """One ratio: the baseline's estimate over the contender's (above 1: the contender is
    faster), with its bootstrap interval, at one shape; ``case`` names the baseline's memory
    case it covers ("" for all rounds) and ``share`` that case's share of the rounds."""
    op: str
    n_x: int
    n_h: int
    m: int
    baseline: str
    contender: str
    ratio: float
    lo: float
    hi: float
    dtype: str = "float64"  # the contender's
    baseline_dtype: str = "float64"
    threads: int = 0  # the contender's
    baseline_threads: int = 0
    contender_threads: int = 0
    steps: int = 1
    data: str = ""  # a real data set's name (fastnn.datasets), "" for synthetic data
    estimator: str = "median"
    case: str = ""
    share: float = 1.0
    rounds: int = 0
    kind: str = "pair"  # "pair" (a headline comparison), "factor" or "direct" (the ladder)
    adds: str = ""  # an older file's ladder factor: what its contender adds, in words
    baseline_m: int = 0
    contender_m: int = 0
    t_baseline_s: float = 0.0
    t_contender_s: float = 0.0
    flags: list = field(default_factory=list)  # of stats.Flag values
    moved: dict | None = None  # stats.Moved as a dict, for a comparison whose rounds spread
    canary: float | None = None  # the median canary of its rounds over PairedDoc.fma_gflops
    per_round: list = field(default_factory=list)
    rounds_baseline_s: list = field(default_factory=list)
    rounds_contender_s: list = field(default_factory=list)
    system_baseline_s: list = field(default_factory=list)
    system_contender_s: list = field(default_factory=list)
    others_baseline_s: list = field(default_factory=list)
    others_contender_s: list = field(default_factory=list)
    disturbed: bool = False
    over: dict = field(default_factory=dict)  # contention.exceeded: {fact: largest value}
    reason: str = ""  # an older file's words for the same (empty in new runs)

    @property
    def direct(self):
        return self.kind == "direct"

    @property
    def shape(self):
        return (self.n_x, self.n_h, self.m)

    def to_json(self):
        return dict(asdict(self), direct=self.direct)

    @classmethod
    def from_json(cls, d):
        d = dict(d or {})
        if "kind" not in d:  # before series: a ladder entry said ``direct``
            d["kind"] = ("direct" if d.get("direct") else "factor") if "adds" in d else "pair"
        d.setdefault("contender_threads", d.get("threads", 0))
        d.setdefault("baseline_threads", d.get("threads", 0))
        for k in ("system_baseline_s", "system_contender_s", "others_baseline_s",
                  "others_contender_s", "rounds_baseline_s", "rounds_contender_s"):
            if d.get(k) is None:
                d[k] = []
        if d.get("estimator") is None:
            d["estimator"] = "median"  # every ratio before series was a median
        for side in ("baseline", "contender"):  # not written before series: the rounds' median
            if not d.get(f"t_{side}_s") and d[f"rounds_{side}_s"]:
                t = sorted(d[f"rounds_{side}_s"])
                d[f"t_{side}_s"] = (t[(len(t) - 1) // 2] + t[len(t) // 2]) / 2
        if d.get("flags") is None:  # before flags: ``wide`` and ``disturbed`` said them
            d["flags"] = ["wide"] * bool(d.get("wide")) + ["busy"] * bool(d.get("disturbed"))
        return cls(**_known(cls, d))


@dataclass
class PairedDoc:
    """``paired.json``: the run it belongs to, the estimator, the series and the comparisons."""
    run_id: str | None = None
    format: str = FORMAT
    estimator: str = "median"
    fma_gflops: float | None = None  # the canary's reference: run.reference_peak
    series: list = field(default_factory=list)
    pairs: list = field(default_factory=list)
    ladder: list = field(default_factory=list)

    def to_json(self):
        return dict(run_id=self.run_id, format=self.format, estimator=self.estimator,
                    fma_gflops=self.fma_gflops, series=[asdict(s) for s in self.series],
                    pairs=[c.to_json() for c in self.pairs],
                    ladder=[c.to_json() for c in self.ladder])

    @classmethod
    def from_json(cls, d):
        d = dict(d or {})
        return cls(run_id=d.get("run_id"), format=d.get("format") or "fastnn-paired/1",
                   estimator=d.get("estimator") or "median", fma_gflops=d.get("fma_gflops"),
                   series=[Series.from_json(s) for s in d.get("series") or ()],
                   pairs=[Comparison.from_json(c) for c in d.get("pairs") or ()],
                   ladder=[Comparison.from_json(c) for c in d.get("ladder") or ()])


__all__ = ["Comparison", "FORMAT", "PairedDoc", "Series", "SideRounds"]
