"""The first screen of a report and of the README's result: the machine in one line, the host's
speed during the rounds, a table of at most six rows (the headline shapes and training runs),
the ladder figure and three sentences of why.

:func:`numbers` computes a :class:`FirstScreen` from a run's header and its paired file;
:func:`render` words it (the templates below); nothing else is read. The README block, the
report and the lecture page's part 7 all render this one object, so a comparison has one number
everywhere (``tests/test_quoted.py`` holds it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import fmt
from ..backends import HEADLINE, REFERENCE
from ..bench.ceiling import ceiling_s
from ..bench.grid import DATA, FIT_OP, FIT_TARGETS, HEADLINE_OP, TARGETS
from ..datasets import DATASETS
from ..bench.stats import ESTIMATOR, SLOW_HOST
from .notes import Notes, cases_of, find

#: How many real data sets get a row of the first screen (the rest are in the report's
#: real-data section), so that it keeps at most six rows.
FIRST_DATA = 1
#: Where the README's result block starts and ends.
BEGIN, END = "<!-- result:begin -->", "<!-- result:end -->"


@dataclass
class Row:
    """One row: the shape, the op and steps, the headline backend's time per step, and its
    comparison against each column's baseline (None: not measured)."""
    op: str
    n_x: int
    n_h: int
    m: int
    steps: int
    t_s: float | None
    cells: dict = field(default_factory=dict)  # baseline -> Comparison or None
    data: str = ""  # a real data set (fastnn.datasets), "" for synthetic data


@dataclass
class FirstScreen:
    cpu: str
    simd_bits: int | None
    cores: int | None
    blas: str | None
    date: str | None
    fma_gflops: float | None
    host: float | None        # median canary over the run's FMA peak
    host_low: float | None    # the lowest round's
    columns: list
    rows: list
    pairs: list               # every comparison, for the notes' per-case numbers
    fusion: object = None     # numba vs numpy-inplace at the widest n_x = 2 step shape
    reuse: float | None = None  # numpy-inplace over numpy's time there
    threads: object = None    # the ladder's threads factor at the first step shape
    ceiling: float | None = None  # numba's step time over its ceiling there (share reached)
    blas_shape: object = None  # numba vs numpy at the BLAS-width shape
    estimator: str = ESTIMATOR

    @property
    def slow_host(self):
        return self.host is not None and self.host < SLOW_HOST


def _blas(header):
    for b in header.get("machine_info", {}).get("blas", []) or []:
        if b.get("internal_api") == "openblas" or b.get("user_api") == "blas":
            return _join(b.get("internal_api"), b.get("architecture") and
                         f"{b['architecture']} kernel")
    return None


def _join(*parts):
    return " ".join(str(p) for p in parts if p)


def numbers(header, doc):
    """The :class:`FirstScreen` of one run: ``header`` (its results file's) and ``doc`` (its
    :class:`~fastnn.bench.records.PairedDoc`)."""
    mi = header.get("machine_info", {})
    cpu = mi.get("cpu", {}) or {}
    fma = doc.fma_gflops or (header.get("peaks") or {}).get("fma_gflops")
    # each comparison's canary is over its own run's FMA peak (shards may differ)
    canary = sorted(c.canary for c in doc.pairs + doc.ladder if c.canary is not None)
    pairs = [c for c in doc.pairs if c.kind == "pair"]
    main = [c for c in pairs if not c.case and c.contender == HEADLINE and c.dtype == "float64"
            and c.baseline_dtype == "float64" and c.contender_threads == 0]
    columns = list(dict.fromkeys(
        [REFERENCE] * any(c.baseline == REFERENCE for c in main)
        + [c.baseline for c in main]))
    rows = []
    for op, shapes in ((HEADLINE_OP, [(*s, 1) for s in TARGETS]), (FIT_OP, FIT_TARGETS)):
        for n_x, n_h, m, steps in shapes:
            here = {b: find(main, n_x, n_h, m, b, op=op) for b in columns}
            if not any(here.values()):
                continue
            t = next((c.t_contender_s for c in here.values() if c), None)
            rows.append(Row(op, n_x, n_h, m, steps, None if t is None else t / steps, here))
    for d in [DATASETS[n] for n in DATA][:FIRST_DATA]:  # the real data: the first data set's row
        here = {b: find(main, d.n_x, d.n_h, d.m, b, op=FIT_OP, data=d.name) for b in columns}
        t = next((c.t_contender_s for c in here.values() if c), None)
        if t is not None:
            rows.append(Row(FIT_OP, d.n_x, d.n_h, d.m, d.steps, t / d.steps, here, d.name))
    step = [r for r in rows if r.op == HEADLINE_OP and r.n_x == 2]
    wide = max(step, key=lambda r: r.n_h, default=None)
    first = step[-1] if step else None  # TARGETS order: the narrowest n_h last
    fs = FirstScreen(
        cpu=_join(cpu.get("brand_raw") or mi.get("processor"),
                  cpu.get("microarchitecture") and f"({cpu['microarchitecture']})"),
        simd_bits=cpu.get("simd_bits"), cores=cpu.get("count"), blas=_blas(header),
        date=(header.get("datetime") or "")[:10] or None, fma_gflops=fma,
        host=canary[len(canary) // 2] if canary else None,
        host_low=canary[0] if canary else None, estimator=doc.estimator,
        columns=columns, rows=rows, pairs=doc.pairs)
    inplace = [b for b in columns if b not in (REFERENCE,) and b in _own()]
    if wide and inplace:
        fs.fusion = wide.cells.get(inplace[0])
        ref = wide.cells.get(REFERENCE)
        if fs.fusion and ref:
            fs.reuse = ref.t_baseline_s / fs.fusion.t_baseline_s
    if first:
        fs.threads = next((f for f in doc.ladder if f.kind == "factor" and not f.case
                           and f.shape == (first.n_x, first.n_h, first.m)
                           and f.baseline == f.contender == HEADLINE), None)
        c = ceiling_s(header.get("ceiling"), first.m, first.n_h, first.n_x, "float64",
                      (header.get("peaks") or {}).get("fma_gflops"))
        fs.ceiling = c / first.t_s if c and first.t_s else None
    blas = [r for r in rows if r.op == HEADLINE_OP and r.n_x > 2]
    fs.blas_shape = blas[0].cells.get(REFERENCE) if blas else None
    return fs


def _own():
    from ..backends import names
    return set(names(peers=False))


# --- words ------------------------------------------------------------------------------------

MACHINE = "**Machine:** {cpu}, {simd}, {cores} cores, {blas}{host}; measured {date}."
HOST = ("; the host ran at {host} of this run's own FMA peak ({fma} GFLOP/s) during the rounds "
        "(the canary's median; {low} at the slowest shape)")
SLOW = ("⚠ **The host ran slow during this run:** the canary's median round reached only {host} "
        "of the machine's FMA peak; every number below was measured on a slowed host.")
TABLE_HEAD = ("Rows: (n_x, n_h, m) = (inputs, hidden units, examples). {headline}'s time per "
              "step ({estimator} over the rounds), and how many times faster it is than each "
              "backend: the ratio of the two sides' {estimator} times over the same interleaved "
              "rounds, with its 95 % bootstrap interval (an interval of a minimum is one-sided: "
              "it may start at the ratio itself). A flag word links to its note; \"or\" gives "
              "each memory case of the other side's fresh temporaries.")
WHY = [
    ("fusion", "**Fusion and no temporaries:** {headline} makes one compiled pass over X per "
               "step on all cores; at {shape} that is {fusion} than NumPy reusing its work "
               "arrays (numpy-inplace, whose element-wise work runs on one core), which is "
               "{reuse} than NumPy's fresh temporaries."),
    ("threads", "**Threads:** {headline} on {cores} cores is {threads} than on one thread, at "
                "{tshape}."),
    ("ceiling", "**The ceiling:** at {cshape} {headline}'s step reaches {ceiling} of its "
                "ceiling (vectorised tanh and multiply-adds measured on this machine){blas}."),
]
LADDER_CAPTION = ("_The ladder: every rung on one thread except the last ({headline} on all "
                  "cores), so its NumPy rungs are not the table's, which run on all cores._"
                  ).format(headline=HEADLINE)
SUPERLINEAR = (", more than its cores: on one thread it runs a separate serial kernel, slower "
               "per thread than the parallel one.")
BLAS = ("; at n_x = {n_x} the step is mostly two matrix products, which {reference}'s BLAS "
        "does well too: {headline} is {ratio} than {reference} there")


def _row_label(r):
    if r.data:
        return f"training run, {r.data} {fmt.shape(r.n_x, r.n_h, r.m)}, {r.steps:,} steps"
    if r.op == HEADLINE_OP:
        return f"step {fmt.shape(r.n_x, r.n_h, r.m)}"
    return f"training run {fmt.shape(r.n_x, r.n_h, r.m)}, {r.steps:,} steps"


def table(fs, notes):
    """The first screen's table (Markdown), flags added to ``notes``."""
    head = ["", f"{HEADLINE} per step", *(f"vs {b}" for b in fs.columns)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in fs.rows:
        cells = [_row_label(r), fmt.seconds(r.t_s)]
        cells += [notes.cell(r.cells.get(b), cases_of(fs.pairs, r.cells.get(b)))
                  if r.cells.get(b) else "–" for b in fs.columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def why(fs):
    """The three sentences of why, each left out where its numbers are missing."""
    out = []
    values = dict(headline=HEADLINE, reference=REFERENCE, cores=fs.cores or "all")
    if fs.fusion is not None and fs.reuse is not None:
        values.update(shape=fmt.shape(*fs.fusion.shape),
                      fusion=fmt.faster(fs.fusion.ratio, fs.fusion.lo, fs.fusion.hi),
                      reuse=fmt.faster(fs.reuse))
        out.append(WHY[0][1].format(**values))
    if fs.threads is not None:
        out.append(WHY[1][1].format(**values, threads=fmt.faster(
            fs.threads.ratio, fs.threads.lo, fs.threads.hi), tshape=fmt.shape(*fs.threads.shape)))
        if fs.cores and fs.threads.ratio > fs.cores:
            out[-1] = out[-1][:-1] + SUPERLINEAR
    if fs.ceiling is not None:
        step = [r for r in fs.rows if r.op == HEADLINE_OP and r.n_x == 2][-1]
        b = fs.blas_shape
        out.append(WHY[2][1].format(
            **values, cshape=fmt.shape(step.n_x, step.n_h, step.m),
            ceiling=fmt.percent(fs.ceiling),
            blas=BLAS.format(n_x=b.n_x, reference=REFERENCE, headline=HEADLINE,
                             ratio=fmt.faster(b.ratio, b.lo, b.hi)) if b else ""))
    return out


def render(fs, notes=None, figure=None):
    """The first screen as Markdown: machine, host speed, the table, the ladder figure (the
    path ``figure``, when given), the sentences of why, and the table's notes."""
    notes = notes or Notes("r")
    lines = []
    if fs.slow_host:
        lines.append(SLOW.format(host=fmt.percent(fs.host)))
        lines.append("")
    simd = f"{fs.simd_bits}-bit SIMD" if fs.simd_bits else "SIMD width unknown"
    host = ("" if fs.host is None else
            HOST.format(host=fmt.percent(fs.host), low=fmt.percent(fs.host_low),
                        fma=f"{fs.fma_gflops:.0f}" if fs.fma_gflops else "?"))
    lines.append(MACHINE.format(cpu=fs.cpu or "unknown CPU", simd=simd, cores=fs.cores or "?",
                                blas=fs.blas or "BLAS unknown", host=host, date=fs.date or "–"))
    lines += ["", TABLE_HEAD.format(headline=HEADLINE, estimator=fs.estimator), "",
              table(fs, notes)]
    if figure:
        lines += ["", f"![The ladder: the step's speed-up rung by rung]({figure})", "",
                  LADDER_CAPTION]
    sentences = why(fs)
    if sentences:
        lines += ["", " ".join(sentences)]
    if notes.items:
        lines += ["", notes.render()]
    return "\n".join(lines)


def of_folder(path, figure=None):
    """The first screen of the run in ``path`` (a results file or its folder), rendered, between
    :data:`BEGIN` and :data:`END`; ``figure``: the ladder figure's path as the document that
    shows it will link it (None: no figure)."""
    from ..bench import paired, store
    header, _ = store.load(path)
    doc = paired.load(path, header)
    return f"{BEGIN}\n{render(numbers(header, doc), figure=figure)}\n{END}"


def replace_block(text, block):
    """``text`` with its :data:`BEGIN` … :data:`END` block replaced by ``block`` (itself
    between the markers); a ``ValueError`` when the markers are missing or out of order."""
    a, b = text.find(BEGIN), text.find(END)
    if a < 0 or b < a:
        raise ValueError(f"no {BEGIN} … {END} block to replace")
    return text[:a] + block + text[b + len(END):]


def block_of(text):
    """The :data:`BEGIN` … :data:`END` block of ``text`` (markers included), or None."""
    a, b = text.find(BEGIN), text.find(END)
    return text[a:b + len(END)] if 0 <= a < b else None


__all__ = ["BEGIN", "END", "block_of", "of_folder", "replace_block", "FirstScreen", "Row", "numbers", "render", "table", "why"]
