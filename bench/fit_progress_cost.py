"""What following a run costs on ``numba`` (issue 16, item 4): the flower run with a report every
1,000 steps against the same run with none, paired rounds in one process.

Usage::

    python bench/fit_progress_cost.py [--rounds 15] [--reps 5] [--every 1000]

The run is the harness's flower run (``fastnn.bench.grid.FIT_TARGETS[0]``: m = 400, n_h = 4,
10,000 steps, tanh, sigmoid, lr ``FIT_LR``), through the public ``fastnn.fit`` with the same
initial parameters. Variants:

- ``plain``: no callback, no bar: one compiled call;
- ``callback``: ``callback`` a no-op, ``report_every`` steps between reports: the compiled run cut
  into one call per report (step 0 alone, then ``every`` steps per call). The issue's target:
  callback ÷ plain < 1.01;
- ``bar``: ``progress`` a rich bar on a terminal console writing into a StringIO (what the bar
  itself adds, its start, refresh thread and last drawing included; for information);
- ``every-1``: a report after every step (10,001 compiled calls), which magnifies the cost of one
  extra call ten-thousandfold, so it can be measured on a busy machine where the difference at
  ``--every`` drowns in the noise: the cost it implies at ``--every`` is (every-1 − plain) ×
  (calls at ``--every`` − 1) / (10,001 − 1), shown as "implied".

In each round every variant is timed once (``reps`` back-to-back runs, the total), in an order
rotated from round to round, so a busy stretch of a shared machine hits all of them; each ratio is
taken within its round and reported as the median with its min–max over the rounds. Compilation
and a warm-up run of each variant come first, outside the timed rounds.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
import time

import numba
import numpy as np

import fastnn
from fastnn.backends import FIT_LR
from fastnn.bench.grid import FIT_TARGETS

N_X, N_H, M, STEPS = FIT_TARGETS[0]


def variants(every):
    """{name: keyword arguments of fastnn.fit}."""
    from rich.console import Console
    console = Console(file=io.StringIO(), force_terminal=True, width=100)
    return {"plain": {},
            "callback": dict(callback=lambda t, J: None, report_every=every),
            "bar": dict(progress=console, report_every=every),
            "every-1": dict(callback=lambda t, J: None, report_every=1)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--reps", type=int, default=5, help="runs per timed sample")
    ap.add_argument("--every", type=int, default=1000, help="steps between reports")
    a = ap.parse_args(argv)

    X, Y = fastnn.flower(M, seed=1)
    P0 = fastnn.init_params(N_X, N_H, 1, seed=2)
    runs = variants(a.every)

    def run(kw):
        return fastnn.fit(X, Y, backend="numba", lr=FIT_LR, iterations=STEPS, params=P0, **kw)

    ref = run({})  # compiles (or loads the cache)
    for name, kw in runs.items():  # warm-up, and the same numbers from every variant
        r = run(kw)
        assert np.array_equal(r.costs, ref.costs), name
        assert all(np.array_equal(r.params[k], ref.params[k]) for k in ref.params), name

    names = list(runs)
    times = {n: [] for n in names}
    load0 = os.getloadavg()
    for i in range(a.rounds):
        order = names[i % len(names):] + names[:i % len(names)]
        if i % 2:
            order.reverse()
        for n in order:
            t0 = time.perf_counter()
            for _ in range(a.reps):
                run(runs[n])
            times[n].append(time.perf_counter() - t0)
    load1 = os.getloadavg()

    chunks = -(-STEPS // a.every) + 1  # compiled calls of a followed run
    print(f"numba fit, flower m = {M}, n_h = {N_H}, {STEPS} steps; report every {a.every} steps "
          f"({chunks} compiled calls); {a.rounds} rounds x {a.reps} runs; "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, numba "
          f"{numba.get_num_threads()} threads; load {load0[0]:.2f} -> {load1[0]:.2f}")
    base = times["plain"]
    for n in names:
        per_run = statistics.median(times[n]) / a.reps
        line = f"  {n:9s} median {per_run * 1e3:7.2f} ms per run"
        if n != "plain":
            ratios = [t / b for t, b in zip(times[n], base)]
            extra = (statistics.median(ratios) - 1) * statistics.median(base) / a.reps
            line += (f"   {n} / plain: median {statistics.median(ratios):.4f} "
                     f"[min {min(ratios):.4f}, max {max(ratios):.4f}]   ~{extra * 1e6:+.0f} us "
                     f"per run")
            if n == "callback":
                line += f" ({extra / (chunks - 1) * 1e6:+.1f} us per extra compiled call)"
            if n == "every-1":
                per_call = extra / STEPS
                implied = per_call * (chunks - 1) / (statistics.median(base) / a.reps)
                line += (f" ({per_call * 1e6:+.2f} us per extra compiled call; implied at every "
                         f"{a.every}: {100 * implied:+.3f} %)")
        print(line)


if __name__ == "__main__":
    main()
