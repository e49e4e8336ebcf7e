"""Paired A/B timing of the numba step and the flower fit between two source trees.

Each tree runs in its own long-lived worker process (its own ``fastnn`` on ``sys.path``, its own
Numba cache, compiled and warmed before the first round); rounds alternate which worker goes
first, and each reports the median of ``--values`` calls. Prints per case the median ratio
B/A over rounds and its min/max.

    python bench/ab_trees.py /path/to/treeA /path/to/treeB --rounds 9
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

WORKER = r"""
import json, sys, time, statistics
import numpy as np
import fastnn
assert fastnn.__file__.startswith(sys.argv[1]), fastnn.__file__
be = fastnn.get_backend("numba")
cases = {}
for n_h, m in ((64, 10**6), (4, 10**6)):
    X, Y = fastnn.flower(m, seed=1)
    P = fastnn.init_params(2, n_h, 1, seed=2)
    cases[f"step n_h={n_h} m=1e6"] = (lambda P=P, X=X, Y=Y: be.cost_and_grads(P, X, Y))
Xf, Yf = fastnn.flower(400, seed=1)
Pf = fastnn.init_params(2, 4, 1, seed=2)
cases["flower fit 10k"] = lambda: fastnn.fit(Xf, Yf, params=Pf, backend="numba", iterations=10000)
for f in cases.values():
    f(); f()
print("ready", flush=True)
for line in sys.stdin:
    name, n = line.split("|")
    f = cases[name]
    ts = []
    for _ in range(int(n)):
        t0 = time.perf_counter(); f(); ts.append(time.perf_counter() - t0)
    print(json.dumps(statistics.median(ts)), flush=True)
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--values", type=int, default=5)
    args = ap.parse_args()
    procs = []
    for tree in (args.a, args.b):
        env = dict(os.environ, PYTHONPATH=tree)
        p = subprocess.Popen([sys.executable, "-c", WORKER, os.path.abspath(tree)], cwd=tree,
                             env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert p.stdout.readline().strip() == "ready"
        procs.append(p)
    names = ["step n_h=64 m=1e6", "step n_h=4 m=1e6", "flower fit 10k"]
    for name in names:
        ratios, ta, tb = [], [], []
        for r in range(args.rounds):
            order = (0, 1) if r % 2 == 0 else (1, 0)
            t = {}
            for i in order:
                procs[i].stdin.write(f"{name}|{args.values}\n")
                procs[i].stdin.flush()
                t[i] = json.loads(procs[i].stdout.readline())
            ta.append(t[0]); tb.append(t[1]); ratios.append(t[1] / t[0])
        print(f"{name}: A {statistics.median(ta)*1e3:.3f} ms, B {statistics.median(tb)*1e3:.3f} ms,"
              f" B/A median {statistics.median(ratios):.3f} [min {min(ratios):.3f}, max"
              f" {max(ratios):.3f}] over {args.rounds} rounds", flush=True)
    for p in procs:
        p.stdin.close()
        p.wait()


if __name__ == "__main__":
    main()
