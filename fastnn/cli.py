"""The ``fastnn`` command: ``bench``, ``report`` and ``demo``.

Every error is one line on stderr and exit status 2 (bad input, unreadable results, a busy output
folder); Ctrl-C is exit status 130. Set ``FASTNN_TRACEBACK=1`` to see the traceback instead.
"""

from __future__ import annotations

import argparse
import math
import os
import sys

DEFAULT_OUT = os.path.join("reports", "latest")
#: The grid ``fastnn bench`` runs without ``--grid``: the README's three-minute first run.
DEFAULT_GRID = "first"


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error on one line (and the usual exit status 2)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _int(text, low):
    """An integer >= low written as 100, 1e4 or 1_000; anything else is an ArgumentTypeError."""
    text = text.strip()
    try:
        v = int(text)
    except ValueError:
        try:
            f = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not math.isfinite(f) or not f.is_integer():
            raise argparse.ArgumentTypeError(f"{text!r} is not a finite whole number") from None
        v = int(f)
    if v < low:
        raise argparse.ArgumentTypeError(f"{text!r} is below {low}")
    return v


def _ints(low):
    """Comma-separated integers >= low."""
    def parse(text):
        values = [_int(v, low) for v in text.split(",") if v.strip()]
        if not values:
            raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}")
        return values
    parse.__name__ = "integer list"
    return parse


def _seconds(text):
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(v) or v <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: the budget must be a finite number > 0")
    return v


def _shard(text):
    """K/N with integers 1 <= K <= N."""
    k, sep, n = text.partition("/")
    try:
        k, n = int(k), int(n)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected K/N, e.g. 1/4") from None
    if not sep or not 1 <= k <= n:
        raise argparse.ArgumentTypeError(f"{text!r}: expected K/N with 1 <= K <= N")
    return k, n


def _names(text):
    return [v.strip() for v in text.split(",") if v.strip()]


def _bench(args):
    from .backends import available_peers
    from .bench import grid, progress, run
    from .bench.store import FolderLock
    from .report import console
    status = {} if args.no_peers else available_peers()
    if not args.backends:
        for n, why in status.items():
            if why:
                print(f"peer {n}: {why}, skipped")
    cells, budget = grid.cells(args.grid, backends=args.backends, ops=args.ops, m=args.m,
                               n_h=args.n_h, n_x=args.n_x, dtype=args.dtype,
                               threads=args.threads, peers=not args.no_peers)
    budget = args.budget if args.budget is not None else budget
    if args.shard:
        cells = run.shard(cells, *args.shard)
    prog = progress.Progress(enabled=not args.no_progress, words=console.words)
    with FolderLock(args.out):  # before any work, so a second run fails at once
        part = f" (shard {args.shard[0]}/{args.shard[1]})" if args.shard else ""
        print(f"{len(cells)} cells{part}, budget {budget:g} s per cell, results in {args.out}")
        try:
            path = run.sweep(cells, budget, args.out, grid=args.grid, resume=args.resume,
                             progress=prog, peer_status=status,
                             settings=grid.settings(args.grid), seed=args.seed,
                             shard_of=args.shard)
        except run.Interrupted as exc:  # what was kept, and how to go on
            print(console.words(progress.Event.INTERRUPTED, cells=exc.cells, path=exc.path),
                  file=sys.stderr)
            raise
        from .bench.store import load
        from .report.reasons import apart_lines
        for line in apart_lines(load(path)[1]):  # cells whose workers disagree, worded
            prog.say(line)
        print("cells:", ", ".join(f"{k} {v}" for k, v in sorted(run.summary(path).items())))
        if not args.no_report:
            from .report import build
            with prog.phase("building the report"):
                index = build([path], args.out)
            print(f"report: {index}")
    return 0


def _report(args):
    from .bench.store import FolderLock, results_path
    from .report import build
    paths = [results_path(p) for p in args.results or [DEFAULT_OUT]]
    from .bench.progress import phase
    from .report.console import words
    with FolderLock(args.out):
        own = len(paths) == 1 and os.path.isfile(paths[0]) and os.path.isdir(args.out)
        if own and os.path.samefile(os.path.dirname(os.path.abspath(paths[0])), args.out):
            from .bench.store import reexport
            reexport(args.out)  # the folder's own results: its CSV and pytest-benchmark JSON
        with phase("building the report", words=words):
            index = build(paths, args.out)
        print(f"report: {index}")
    if args.readme:
        if len(paths) > 1:
            raise SystemExit("fastnn report --readme takes one run's results (the report of "
                             "several runs or shards is written, the README is not)")
        _readme(args.readme, paths[0], index)
    return 0


def _readme(readme, results, index):
    """Write the first screen of the run ``results`` into ``readme`` between its markers, its
    ladder figure and the report ``index`` linked relative to the README's folder."""
    from .report.first import of_folder, replace_block
    here = os.path.dirname(os.path.abspath(readme))
    fig = os.path.join(os.path.dirname(os.path.abspath(index)), "fig0_ladder.png")
    rel = os.path.relpath(fig, here).replace(os.sep, "/") if os.path.exists(fig) else None
    report = os.path.relpath(os.path.abspath(index), here).replace(os.sep, "/")
    with open(readme, encoding="utf-8") as f:
        text = f.read()
    try:
        text = replace_block(text, of_folder(results, rel, report))
    except ValueError as exc:
        raise SystemExit(f"fastnn report --readme {readme}: {exc}") from None
    with open(readme, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"result block: {readme}")


def _demo(args):
    from .bench.progress import Progress
    from .demo import NOTEBOOK, run_demo, run_notebook
    from .report.console import words
    if args.notebook:
        print(f"lecture notebook: {run_notebook(os.path.join(args.out, NOTEBOOK))}")
        return 0
    prog = Progress(enabled=not args.no_progress, words=words)
    print(f"lecture page: {run_demo(args.out, tiny=args.tiny, progress=prog)}")
    return 0


def _grids_help():
    """What each grid holds, for the end of ``fastnn bench --help``."""
    import textwrap

    from .backends import HEADLINE, REFERENCE
    from .bench.grid import FIT_OP, GRIDS, HEADLINE_OP, Cell, fit_steps, grid_shapes

    def num(x):  # 10000 -> 1e4, as --m accepts it; 1024 stays
        if not isinstance(x, int) or x < 1000:
            return str(x)
        mant, exp = x, 0
        while mant % 10 == 0:
            mant, exp = mant // 10, exp + 1
        return f"{mant}e{exp}" if exp >= 3 else str(x)

    def axis(v):
        return ", ".join(num(x) for x in v)

    def shape(op, nx, nh, m):
        steps = fit_steps(Cell(HEADLINE, op, m, nh, nx))
        return f"n_x {num(nx)}, n_h {num(nh)}, m {num(m)}" + (
            f" ({steps:,} steps)" if op == FIT_OP else "")

    def shapes(op, declared):  # one (n_x, n_h) with several m (the step's) as one m list
        by = {}
        for nx, nh, m in declared:
            by.setdefault((nx, nh), []).append(m)
        return "; ".join(shape(op, nx, nh, ms[0]) if len(ms) == 1 or op == FIT_OP else
                         f"n_x {num(nx)}, n_h {num(nh)}, m {axis(ms)}"
                         for (nx, nh), ms in by.items())

    lines = ["what each grid holds:"]
    for name, g in GRIDS.items():
        sizes = ("; ".join(f"{op} at {shapes(op, declared)}"
                           for op, declared in grid_shapes(g).items() if declared)
                 if g.get("shapes") else
                 f"m: {axis(g['m'])}; n_h: {axis(g['n_h'])}; n_x: {axis(g['n_x'])}")
        if g.get("headline_shapes"):
            sizes += (f" (the headline shapes on {HEADLINE}, {REFERENCE} and the peers only)")
        if g.get("data"):
            sizes = "; ".join(x for x in (sizes, f"{FIT_OP} on the data sets "
                                          + ", ".join(g["data"])) if x)
        if g.get("float32"):
            sizes += f"; float32 {HEADLINE_OP} at " + "; ".join(
                shape(HEADLINE_OP, *s) for s in g["float32"])
        threads = axis("all" if t == 0 else t for t in g["threads"])
        text = (f"{name}: {sizes}; ops: {axis(g['ops'])}; dtype: {axis(g['dtype'])}; "
                f"threads: {threads}; budget {g['budget_s']:g} s per cell")
        lines.append(textwrap.fill(text, 88, initial_indent="  ", subsequent_indent="    "))
    return "\n".join(lines)


def _version():
    from . import __version__
    return __version__


def parser():
    from .backends import OPS, names
    from .bench.grid import FIT_OP, GRIDS
    from .report.console import grids
    p = _Parser(prog="fastnn", description="Benchmark the lecture's 2-layer network on Python, "
                "NumPy and Numba backends, and report.")
    p.add_argument("--version", action="version", version=f"fastnn {_version()}")
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("bench", help="run the benchmark sweep, then write the report",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       description="Sweep backend × op × m × n_h × n_x × dtype × threads and "
                       "record honest timings\ninto OUT/results.jsonl (+ CSV, JSON, report). "
                       "One run at a time writes an output folder.",
                       epilog=_grids_help())
    b.add_argument("--grid", default=DEFAULT_GRID, metavar="GRID",
                   help=f"default {DEFAULT_GRID}. " + grids(GRIDS))
    b.add_argument("--backends", type=_names, help="comma-separated subset, e.g. numpy,numba")
    b.add_argument("--ops", type=_names,
                   help=f"comma-separated subset of {','.join(OPS)} ({FIT_OP}: a training run, "
                   "timed per step)")
    b.add_argument("--m", type=_ints(1), help="numbers of examples, e.g. 100,1e4,1e6")
    b.add_argument("--n-h", dest="n_h", type=_ints(1), help="hidden sizes, e.g. 4,64")
    b.add_argument("--n-x", dest="n_x", type=_ints(1), help="input features (default 2 when --m or --n-h is given, else the grid's)")
    b.add_argument("--dtype", type=_names, help="float64,float32")
    b.add_argument("--threads", type=_ints(0), help="thread counts; 0 = all cores")
    b.add_argument("--budget", type=_seconds,
                   help="seconds per cell before it is extrapolated (default: the grid's)")
    b.add_argument("--out", default=DEFAULT_OUT, help="output folder (default %(default)s)")
    b.add_argument("--resume", action="store_true", help="run only cells missing from OUT")
    b.add_argument("--seed", type=lambda t: _ints(0)(t)[0], help="seed of the cells' shuffled order (default: "
                   "drawn at random; recorded in the results either way)")
    b.add_argument("--shard", type=_shard, metavar="K/N",
                   help="run the K-th of N parts of the grid, split by shape (op, n_x, n_h, m) so "
                   "every comparison stays on one machine; `fastnn report` merges the parts' "
                   "folders")
    b.add_argument("--no-peers", action="store_true",
                   help="do not time the installed peers (" + ", ".join(names(peers=True)) + ")")
    b.add_argument("--no-report", action="store_true", help="results only, no report")
    b.add_argument("--no-progress", action="store_true", help="no progress bar")
    b.set_defaults(func=_bench)
    r = sub.add_parser("report", help="build the report from results files",
                       description="Build OUT/index.md (figures, tables) from results files.")
    r.add_argument("results", nargs="*",
                   help=f"results.jsonl files or folders holding one (default {DEFAULT_OUT})")
    r.add_argument("--out", default=DEFAULT_OUT, help="output folder (default %(default)s)")
    r.add_argument("--readme", metavar="FILE",
                   help="also write the first run's first screen into FILE between its "
                        "'<!-- result:begin -->' and '<!-- result:end -->' markers")
    r.set_defaults(func=_report)
    d = sub.add_parser("demo", help="the lecture's demonstrations, as a page with figures",
                       description="Show each claim of the lecture with a figure or a number "
                       "measured now, and write them to OUT/index.md: the activations and their "
                       "derivatives; the flower data set learnt with each hidden size; zero and "
                       "badly scaled initialisation; a linear hidden layer; logistic regression "
                       "as the baseline; and what vectorisation buys (timings).")
    d.add_argument("--out", default=os.path.join("reports", "lecture"), help="output folder")
    d.add_argument("--tiny", action="store_true", help="a seconds-long configuration (tests)")
    d.add_argument("--no-progress", action="store_true", help="no progress bar")
    d.add_argument("--notebook", action="store_true",
                   help="instead of the page, execute OUT/lecture.ipynb in place in a fresh "
                   "kernel (nbclient) and save it with its outputs (pip install fastnn[dev])")
    d.set_defaults(func=_demo)
    return p


def _one_line(exc):
    """An exception as one line: its message's first line, named unless it is an input error."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    if not lines:
        return type(exc).__name__
    if isinstance(exc, (ValueError, TypeError, OSError)):
        return lines[0]
    return f"{type(exc).__name__}: {lines[0]}"


def main(argv=None):
    """Run the command line; returns the exit status (0, 2 for an error, 130 for Ctrl-C)."""
    try:
        args = parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        return exc.code if isinstance(exc.code, int) else 2
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print(f"fastnn {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the boundary: one line, never a traceback
        if os.environ.get("FASTNN_TRACEBACK"):
            raise
        print(f"fastnn {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
