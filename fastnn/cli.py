"""The ``fastnn`` command: ``bench``, ``report`` and ``demo``."""

from __future__ import annotations

import argparse
import os
import sys


def _ints(text):
    try:
        return [int(float(v)) for v in text.split(",") if v]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}")


def _names(text):
    return [v.strip() for v in text.split(",") if v.strip()]


def _bench(args):
    from .backends import available_peers
    from .bench import grid, run
    status = {} if args.no_peers else available_peers()
    if not args.backends:
        for n, why in status.items():
            if why:
                print(f"peer {n}: {why}, skipped")
    cells, budget = grid.cells(args.grid, backends=args.backends, ops=args.ops, m=args.m,
                               n_h=args.n_h, n_x=args.n_x, dtype=args.dtype,
                               threads=args.threads, peers=not args.no_peers)
    budget = args.budget if args.budget is not None else budget
    if budget <= 0:
        raise ValueError("--budget must be > 0 seconds")
    print(f"{len(cells)} cells, budget {budget:g} s per cell, results in {args.out}")
    try:
        path = run.sweep(cells, budget, args.out, grid=args.grid, resume=args.resume,
                         progress=not args.no_progress, peer_status=status)
    except KeyboardInterrupt:
        return 130
    print("cells:", ", ".join(f"{k} {v}" for k, v in sorted(run.summary(path).items())))
    if not args.no_report:
        from .report import build
        index = build([path], args.out)
        print(f"report: {index}")
    return 0


def _report(args):
    from .report import build
    index = build(args.results or [os.path.join("reports", "latest", "results.jsonl")], args.out)
    print(f"report: {index}")
    return 0


def _demo(args):
    from .demo import run_demo
    print(f"lecture page: {run_demo(args.out, tiny=args.tiny, progress=not args.no_progress)}")
    return 0


def parser():
    p = argparse.ArgumentParser(prog="fastnn", description="Benchmark the lecture's 2-layer "
                                "network on Python, NumPy and Numba backends, and report.")
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("bench", help="run the benchmark sweep, then write the report",
                       description="Sweep backend × op × m × n_h × n_x × dtype × threads and "
                       "record honest timings into OUT/results.jsonl (+ CSV, JSON, report).")
    b.add_argument("--grid", default="quick", help="quick (default, <= 3 min), full, targets")
    b.add_argument("--backends", type=_names, help="comma-separated subset, e.g. numpy,numba")
    b.add_argument("--ops", type=_names, help="forward,backward,cost_and_grads")
    b.add_argument("--m", type=_ints, help="numbers of examples, e.g. 100,1e4,1e6")
    b.add_argument("--n-h", dest="n_h", type=_ints, help="hidden sizes, e.g. 4,64")
    b.add_argument("--n-x", dest="n_x", type=_ints, help="input features (default 2)")
    b.add_argument("--dtype", type=_names, help="float64,float32")
    b.add_argument("--threads", type=_ints, help="thread counts; 0 = all cores")
    b.add_argument("--budget", type=float, help="seconds per cell before it is extrapolated")
    b.add_argument("--out", default=os.path.join("reports", "latest"), help="output folder")
    b.add_argument("--resume", action="store_true", help="run only cells missing from OUT")
    b.add_argument("--no-peers", action="store_true", help="do not time PyTorch/JAX")
    b.add_argument("--no-report", action="store_true", help="results only, no report")
    b.add_argument("--no-progress", action="store_true", help="no progress bar")
    b.set_defaults(func=_bench)
    r = sub.add_parser("report", help="build the report from results files")
    r.add_argument("results", nargs="*", help="results.jsonl files (default reports/latest)")
    r.add_argument("--out", default=os.path.join("reports", "latest"), help="output folder")
    r.set_defaults(func=_report)
    d = sub.add_parser("demo", help="the lecture's demonstrations, as a page with figures")
    d.add_argument("--out", default=os.path.join("reports", "lecture"), help="output folder")
    d.add_argument("--tiny", action="store_true", help="a seconds-long configuration (tests)")
    d.add_argument("--no-progress", action="store_true", help="no progress bar")
    d.set_defaults(func=_demo)
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, TypeError, OSError) as exc:
        print(f"fastnn {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
