"""The first screen of a report and of the README's result: the machine and the host's speed
in one line, a two-sentence caption, a table of at most six rows (the headline shapes and
training runs) whose cells hold a ratio, its interval and at most one flag word, a one-sentence
takeaway, the ladder figure, three sentences of why and one short sentence per flag
(:func:`.notes.flag_brief`). What it leaves out (the host's speed in full, how a cell is
computed, the why with every number behind it) is :func:`detail`, the report's next section.

:func:`numbers` computes a :class:`FirstScreen` from a run's header and its paired file;
:func:`render` and :func:`detail` word it (the templates below); nothing else is read. The
README block and the report render this one object, and the lecture page's part 7 quotes the
same run's comparisons, so a comparison has one number everywhere (``tests/test_quoted.py``
holds it, and holds the first screen to one screen).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import fmt
from ..backends import HEADLINE, REFERENCE
from ..bench import history
from ..bench.ceiling import ceiling_s
from ..bench.grid import DATA, FIT_OP, FIT_TARGETS, HEADLINE_OP, TARGETS
from ..datasets import DATASETS
from ..bench.stats import ESTIMATOR, SLOW_HOST
from .notes import Notes, cases_of, find, flag_brief

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
    """The numbers of one run's first screen: the machine, the host's speed during the rounds
    (the canary over the run's FMA peak, times that peak over the best its machine kind has
    reached where the run recorded one, so that a host slow all run long is seen), the rows of
    :class:`Row` under ``columns`` (the baselines), and the comparisons the sentences of why quote; None where not measured."""
    cpu: str
    simd_bits: int | None
    kernel_bits: int | None   # the vector width numba's loops were compiled for (None: older run)
    cores: int | None
    blas: str | None
    date: str | None
    fma_gflops: float | None
    host: float | None        # median canary over the machine kind's best FMA peak
    host_low: float | None    # the lowest round's
    columns: list
    rows: list
    pairs: list               # every comparison, for the notes' per-case numbers
    fusion: object = None     # numba vs numpy-inplace at the widest n_x = 2 step shape: the
    #                           ladder's factor (one thread each) where there is one
    reuse: float | None = None  # numpy-inplace over numpy's time there
    threads: object = None    # the ladder's threads factor at the first step shape
    ceiling: float | None = None  # numba's step time over its ceiling there (share reached)
    blas_shape: object = None  # numba vs numpy at the BLAS-width shape
    estimator: str = ESTIMATOR
    peak_share: float | None = None  # the run's FMA peak over its machine kind's best
    best: dict | None = None   # that best (:func:`fastnn.bench.history.update`), None: no history
    simd_half: bool | None = None  # each widest instruction runs as two halves (Zen 4)

    @property
    def slow_host(self):
        return self.host is not None and self.host < SLOW_HOST


#: BLAS libraries' names as their authors write them (threadpoolctl's ``internal_api``).
BLAS_NAMES = {"openblas": "OpenBLAS", "mkl": "MKL", "blis": "BLIS", "flexiblas": "FlexiBLAS"}


#: Said after the BLAS kernel when the environment chose it (OPENBLAS_CORETYPE), not the CPU.
BLAS_FORCED = "(set by OPENBLAS_CORETYPE)"


def _blas(header):
    for b in header.get("machine_info", {}).get("blas", []) or []:
        if b.get("internal_api") == "openblas" or b.get("user_api") == "blas":
            api, arch = b.get("internal_api"), b.get("architecture")
            core = (header.get("machine_info", {}).get("openblas_env") or {}).get(
                "OPENBLAS_CORETYPE") or ""
            forced = api == "openblas" and core.strip().lower() == (arch or "").lower()
            return _join(BLAS_NAMES.get(api, api), arch and f"{arch} kernel",
                         arch and forced and BLAS_FORCED)
    return None


def _join(*parts):
    return " ".join(str(p) for p in parts if p)


def numbers(header, doc):
    """The :class:`FirstScreen` of one run: ``header`` (its results file's) and ``doc`` (its
    :class:`~fastnn.bench.records.PairedDoc`)."""
    mi = header.get("machine_info", {})
    cpu = mi.get("cpu", {}) or {}
    fma = (header.get("peaks") or {}).get("fma_gflops") or doc.fma_gflops
    ref = doc.fma_gflops or fma  # what the canaries are over (bench.run.reference_peak)
    canary = sorted(c.canary for c in doc.pairs + doc.ladder if c.canary is not None)
    best = (header.get("peaks") or {}).get("fma_best")
    best = best if history.valid(best) else None
    share = fma / best["fma_gflops"] if best and fma else None
    canary = [c * ref / best["fma_gflops"] for c in canary] if best and ref else canary
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
        simd_bits=cpu.get("simd_bits"), simd_half=cpu.get("simd_half"),
        kernel_bits=cpu.get("numba_vector_bits"), cores=cpu.get("count"), blas=_blas(header),
        date=(header.get("datetime") or "")[:10] or None, fma_gflops=fma,
        host=canary[len(canary) // 2] if canary else None,
        host_low=canary[0] if canary else None, estimator=doc.estimator,
        peak_share=share, best=best if share else None,
        columns=columns, rows=rows, pairs=doc.pairs)
    inplace = [b for b in columns if b not in (REFERENCE,) and b in _own()]
    if wide and inplace:
        fs.fusion = wide.cells.get(inplace[0])
        ref = wide.cells.get(REFERENCE)
        if fs.fusion and ref:
            fs.reuse = ref.t_baseline_s / fs.fusion.t_baseline_s
        # fusion alone: the ladder's rungs on one thread each, not the table's threads too
        fs.fusion = next((f for f in doc.ladder if f.kind == "factor" and not f.case
                          and f.shape == (wide.n_x, wide.n_h, wide.m)
                          and f.baseline == inplace[0] and f.contender == HEADLINE), fs.fusion)
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

KERNEL_BITS = " (numba's loops {bits}-bit)"
HALF = " (run as two {bits}-bit halves)"
#: The time column's statistic, in words ("min" alone reads as minutes).
ROUND_WORDS = {"min": "fastest round", "median": "median round"}
MACHINE = "**Machine:** {cpu}, {simd}, {cores} cores, {blas}{host}; {date}."
HOST = "; host at {host} of its {peak}FMA peak during the rounds"
SLOW = ("⚠ **The host ran slow during this run:** the canary's median round reached only {host} "
        "of the machine's {peak}FMA peak; every number below was measured on a slowed host.")
#: Which peak the host's speed is over: the best of the machine's history, or the run's own.
PEAK_WORDS = {True: "best ", False: ""}
CAPTION = ("Rows: (n_x, n_h, m) = (inputs, hidden units, examples). Cells: how many times faster "
           "{headline} is (ratio of {estimator} times over interleaved rounds) [95 % interval]; a "
           "flag links to its note.")
#: The takeaway: the reference column's numbers, per step at each n_x and on the real data.
TAKEAWAY = "**In short:** {clauses}."
STEPS = "{headline}'s step is {parts}"
ON_DATA = "a training run on the {data} data is {speed}"
#: How the fusion sentence's two sides ran: the ladder's factor (one thread each) or the
#: table's cell (both on all cores).
FUSION_THREADS = {True: "one thread each", False: "all cores"}
AT_M = "{speed} at n_x = {n_x}, m = {m}"
WHY = [
    ("fusion", "**Fusion:** {headline} makes one compiled pass over X per step, with no "
               "temporaries: {fusion} than {inplace} (NumPy reusing its arrays) at {shape}, "
               "{threads_each}."),
    ("threads", "**Threads:** on {cores} cores {headline} is {threads} than on one thread at "
                "{tshape}."),
    ("ceiling", "**Ceiling:** at {cshape} {headline}'s step runs at {ceiling} of its ceiling, the "
                "speed of its tanh and multiply-adds alone{blas}."),
]
BLAS = "; at n_x = {n_x} it is mostly BLAS matrix products, as {reference}'s is"
LADDER_CAPTION = ("_Each rung runs on one thread but the last ({headline} on all cores); the "
                  "table's NumPy runs on all cores._").format(headline=HEADLINE)
#: The last line: where the first screen is told in full (:data:`DETAIL_HEAD`'s anchor).
MORE = "In full, with each note's causes: [{where}]({link}#{anchor})."

#: The report's section under the first screen, with what the first screen leaves out.
DETAIL_HEAD = "The first screen in detail"
DETAIL_HOST = ("**The host's speed** is the canary's: the FMA loop of this run's own peak "
               "({fma} GFLOP/s), timed on all cores after every round; its median over the "
               "comparisons is {host} of that peak, {low} at the slowest shape. The machine's "
               "full description is under Machine.")
DETAIL_BEST = ("**The host's speed** is the canary's over the best FMA peak this machine kind "
               "has reached in fastnn's history on this machine ({best} GFLOP/s, {when}, {runs} "
               "runs): the FMA loop of the peaks was timed on all cores after every round. Over "
               "the comparisons the host ran at {host} of that best (median), {low} at the "
               "slowest shape; this run's own peak, at its start, was {fma} GFLOP/s ({share} of "
               "the best). The machine's full description is under Machine.")
DETAIL_TABLE = ("**The table.** {headline}'s time per step is its {estimator} over the rounds "
                "(a training run's: the whole run's over its steps). A cell is the ratio of the "
                "two sides' {estimator} times over the same interleaved rounds, with its 95 % "
                "bootstrap interval{one_sided}.")
DETAIL_OR = (" \"or\" gives each memory case of the other side's fresh temporaries, its own "
             "ratio (see Modes).")
DETAIL_NOTES = " Each flag's note, with its causes in full, is under Notes on the tables."
ONE_SIDED = " (an interval of a minimum is one-sided: it may start or end at the ratio itself)"
DETAIL_WHY = [
    ("fusion", "**Fusion and no temporaries:** {headline} makes one compiled pass over X per "
               "step; at {shape}, {threads_each}, that is {fusion} than NumPy reusing its work "
               "arrays ({inplace}), which is {reuse} than NumPy's fresh temporaries on all "
               "cores."),
    ("threads", "**Threads:** {headline} on {cores} cores is {threads} than on one thread, at "
                "{tshape}."),
    ("ceiling", "**The ceiling:** at {cshape} {headline}'s step reaches {ceiling} of its "
                "ceiling: the time of its unavoidable work alone (one tanh and 2·n_x + 4 "
                "multiply-adds per example and hidden unit, at the speeds measured on this "
                "machine) over the measured time{blas}."),
]
SUPERLINEAR = (", more than its cores: on one thread it runs a separate serial kernel, slower "
               "per thread than the parallel one.")
DETAIL_BLAS = ("; at n_x = {n_x} the step is mostly two matrix products, which {reference}'s "
               "BLAS does well too: {headline} is {ratio} than {reference} there")
#: Words of a CPU's brand that say nothing on the first line.
CPU_NOISE = ("(R)", "(r)", "(TM)", "(tm)", " CPU", " Processor")


def _row_label(r):
    if r.data:
        return f"training run, {r.data} {fmt.shape(r.n_x, r.n_h, r.m)}, {r.steps:,} steps"
    if r.op == HEADLINE_OP:
        return f"step {fmt.shape(r.n_x, r.n_h, r.m)}"
    return f"training run, flower {fmt.shape(r.n_x, r.n_h, r.m)}, {r.steps:,} steps"


def _cpu(name):
    """A CPU's brand without its trademarks, clock, "CPU" and "Processor" ("Intel(R) Xeon(R)
    Processor" → "Intel Xeon"), unless that leaves a single word."""
    name = (name or "unknown CPU").split(" @ ")[0]
    short = name
    for w in CPU_NOISE:
        short = short.replace(w, "")
    return " ".join((short if len(short.split()) > 1 else name).split())


def table(fs, notes):
    """The first screen's table (Markdown), flags added to ``notes``."""
    head = ["", f"{HEADLINE} per step, {ROUND_WORDS.get(fs.estimator, fs.estimator)}",
            *(f"vs {b}" for b in fs.columns)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in fs.rows:
        cells = [_row_label(r), fmt.seconds(r.t_s)]
        cells += [notes.cell(r.cells.get(b), cases_of(fs.pairs, r.cells.get(b)))
                  if r.cells.get(b) else "–" for b in fs.columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _span(ratios):
    """"14.5–16.9× faster", "1.1× slower", or "1.1× slower to 2× faster": a range of ratios."""
    lo, hi = min(ratios), max(ratios)
    if fmt.factor(lo) == fmt.factor(hi):
        return fmt.faster(lo)
    if lo < 1 < hi:
        return f"{fmt.faster(lo)} to {fmt.faster(hi)}"
    if lo >= 1:
        return f"{fmt.factor(lo)}–{fmt.ratio(hi)} faster"
    return f"{fmt.factor(1 / hi)}–{fmt.ratio(1 / lo)} slower"


def takeaway(fs):
    """The sentence under the table: how many times faster the headline backend is than the
    reference, per step at each n_x and in a training run on each real data set, from the
    numbers the reference column's cells print (where a cell prints memory cases, its lowest
    ratio: the reference in its fast case); "" without that column."""
    notes, than = Notes(), [f" than {REFERENCE}"]  # the first number names its reference

    def speed(cs):  # a cell with memory cases counts with its lowest: the reference at its best
        rs = [min(k.ratio for k in notes.shown(c, cases_of(fs.pairs, c))) for c in cs if c]
        return rs and _span(rs) + (than.pop() if than else "")

    step = [r for r in fs.rows if r.op == HEADLINE_OP]
    parts = [AT_M.format(speed=v, n_x=n_x, m=fmt.listed([fmt.count(m) for m in dict.fromkeys(
                 r.m for r in step if r.n_x == n_x)]))
             for n_x in dict.fromkeys(r.n_x for r in step)
             for v in [speed([r.cells.get(REFERENCE) for r in step if r.n_x == n_x])] if v]
    clauses = [STEPS.format(headline=HEADLINE, parts=fmt.listed(parts))] if parts else []
    clauses += [ON_DATA.format(data=r.data, speed=v) for r in fs.rows if r.data
                for v in [speed([r.cells.get(REFERENCE)])] if v]
    return TAKEAWAY.format(clauses="; ".join(clauses)) if clauses else ""


def _why_values(fs, full):
    """The why sentences' numbers, worded: {name: values}, a name only where its numbers are
    there; ``full``: the detail section's (each ratio's interval, the BLAS shape's ratio)."""
    out, base = {}, dict(headline=HEADLINE, reference=REFERENCE, cores=fs.cores or "all")
    if fs.fusion is not None and (fs.reuse is not None or not full):
        out["fusion"] = dict(base, shape=fmt.shape(*fs.fusion.shape), inplace=fs.fusion.baseline,
                             fusion=fmt.faster(fs.fusion.ratio, fs.fusion.lo, fs.fusion.hi),
                             threads_each=FUSION_THREADS[fs.fusion.kind == "factor"],
                             reuse=fmt.faster(fs.reuse) if fs.reuse is not None else "")
    if fs.threads is not None:
        out["threads"] = dict(base, threads=fmt.faster(fs.threads.ratio, fs.threads.lo,
                                                       fs.threads.hi),
                              tshape=fmt.shape(*fs.threads.shape))
    if fs.ceiling is not None:
        step = [r for r in fs.rows if r.op == HEADLINE_OP and r.n_x == 2][-1]
        b = fs.blas_shape
        blas = "" if not b else (
            DETAIL_BLAS.format(n_x=b.n_x, reference=REFERENCE, headline=HEADLINE,
                               ratio=fmt.faster(b.ratio, b.lo, b.hi)) if full
            else BLAS.format(n_x=b.n_x, reference=REFERENCE))
        out["ceiling"] = dict(base, cshape=fmt.shape(step.n_x, step.n_h, step.m),
                              ceiling=fmt.percent(fs.ceiling), blas=blas)
    return out


def why(fs, full=False):
    """The three sentences of why (``full``: the detail section's longer ones), each left out
    where its numbers are missing."""
    values = _why_values(fs, full)
    out = [t.format(**values[name]) for name, t in (DETAIL_WHY if full else WHY)
           if name in values]
    if full and fs.threads is not None and fs.cores and fs.threads.ratio > fs.cores:
        i = [name for name, _ in DETAIL_WHY if name in values].index("threads")
        out[i] = out[i][:-1] + SUPERLINEAR
    return out


def _anchor(heading):
    """A Markdown heading's anchor as GitHub makes it ("The first screen in detail" →
    "the-first-screen-in-detail")."""
    return "".join(ch for ch in heading.lower().replace(" ", "-") if ch.isalnum() or ch in "-_")


def render(fs, notes=None, figure=None, report=None):
    """The first screen as Markdown: the machine and the host's speed in one line, the table,
    its takeaway, the ladder figure (the path ``figure``, when given), three sentences of why,
    the table's notes in one short sentence each, and a link to :func:`detail` (``report``: the
    report's path from the document that shows this screen, "" for that report itself, None:
    no link)."""
    notes = notes or Notes("r", words=flag_brief)
    lines = []
    if fs.slow_host:
        lines.append(SLOW.format(host=fmt.percent(fs.host), peak=PEAK_WORDS[fs.best is not None]))
        lines.append("")
    simd = f"{fs.simd_bits}-bit SIMD" if fs.simd_bits else "SIMD width unknown"
    if fs.simd_half and fs.simd_bits:
        simd += HALF.format(bits=fs.simd_bits // 2)
    if fs.kernel_bits and fs.kernel_bits != fs.simd_bits:
        simd += KERNEL_BITS.format(bits=fs.kernel_bits)
    host = "" if fs.host is None else HOST.format(host=fmt.percent(fs.host),
                                                  peak=PEAK_WORDS[fs.best is not None])
    lines.append(MACHINE.format(cpu=_cpu(fs.cpu), simd=simd, cores=fs.cores or "?",
                                blas=fs.blas or "BLAS unknown", host=host, date=fs.date or "–"))
    lines += ["", CAPTION.format(headline=HEADLINE, estimator=fs.estimator), "",
              table(fs, notes)]
    short = takeaway(fs)
    if short:
        lines += ["", short]
    if figure:
        lines += ["", f"![The ladder: the step's speed-up rung by rung]({figure})", "",
                  LADDER_CAPTION]
    sentences = why(fs)
    if sentences:
        lines += ["", " ".join(sentences)]
    if notes.items:
        lines += ["", notes.render()]
    if report is not None:
        lines += ["", MORE.format(where="the report" if report else "below", link=report,
                                  anchor=_anchor(DETAIL_HEAD))]
    return "\n".join(lines)


def detail(fs):
    """The report's section under the first screen (its heading included): the host's speed
    in full, how a cell is computed, and the why with every number behind it."""
    lines = [f"## {DETAIL_HEAD}", ""]
    if fs.host is not None:
        values = dict(fma=f"{fs.fma_gflops:.0f}" if fs.fma_gflops else "?",
                      host=fmt.percent(fs.host), low=fmt.percent(fs.host_low))
        if fs.best is not None:
            lines += [DETAIL_BEST.format(**values, share=fmt.percent(fs.peak_share),
                                         best=f"{fs.best['fma_gflops']:.0f}",
                                         when=(fs.best.get("datetime") or "–")[:16].replace("T", " "),
                                         runs=fs.best.get("runs", "?")), ""]
        else:
            lines += [DETAIL_HOST.format(**values), ""]
    notes = Notes("r", words=flag_brief)
    table(fs, notes)
    cells = [c for r in fs.rows for c in r.cells.values() if c]
    cases = any(len(notes.shown(c, cases_of(fs.pairs, c))) > 1 for c in cells)
    lines.append(DETAIL_TABLE.format(headline=HEADLINE, estimator=fs.estimator,
                                     one_sided=ONE_SIDED if fs.estimator == "min" else "")
                 + (DETAIL_OR if cases else "") + (DETAIL_NOTES if notes.items else ""))
    sentences = why(fs, full=True)
    if sentences:
        lines += ["", " ".join(sentences)]
    return "\n".join(lines)


def of_folder(path, figure=None, report=None):
    """The first screen of the run in ``path`` (a results file or its folder), rendered, between
    :data:`BEGIN` and :data:`END`; ``figure`` and ``report``: the ladder figure's and the
    report's paths as the document that shows it will link them (None: no figure, no link;
    ``report`` "": that document is the report)."""
    from ..bench import paired, store
    header, _ = store.load(path)
    doc = paired.load(path, header)
    return f"{BEGIN}\n{render(numbers(header, doc), figure=figure, report=report)}\n{END}"


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


__all__ = ["BEGIN", "DETAIL_HEAD", "END", "block_of", "detail", "of_folder", "replace_block",
           "FirstScreen", "Row", "numbers", "render", "table", "takeaway", "why"]
