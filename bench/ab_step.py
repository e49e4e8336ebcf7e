"""The numba step and the flower run timed in this process, for an A/B of two checkouts.

Run it alternately in each tree, with nothing else running, and compare the minima:

    PYTHONPATH=/path/to/old/checkout python bench/ab_step.py 15
    PYTHONPATH=/path/to/this/checkout python bench/ab_step.py 15

Prints a JSON object {cell: the fastest of N calls in seconds}, for numba's training step at
(2, 4, 1e6) on all cores and one thread, (2, 64, 1e6) on all cores, (784, 128, 1e4) on all
cores and one thread, and the flower's 10,000-step training run (the first call, which
compiles, untimed).
"""

import json
import sys
import time

from fastnn.bench import worker
from fastnn.bench.grid import Cell

CELLS = [("cost_and_grads", 10**6, 4, 2, 0), ("cost_and_grads", 10**6, 4, 2, 1),
         ("cost_and_grads", 10**6, 64, 2, 0), ("cost_and_grads", 10**4, 128, 784, 0),
         ("cost_and_grads", 10**4, 128, 784, 1), ("fit", 400, 4, 2, 0)]


def main(n):
    out = {}
    for op, m, n_h, n_x, threads in CELLS:
        c = Cell("numba", op, m, n_h, n_x, threads=threads)
        with worker.threads(threads):
            fn = worker.step_fn(c, *worker.make_data(c))
            fn()
            best = float("inf")
            for _ in range(n):
                t0 = time.perf_counter()
                fn()
                best = min(best, time.perf_counter() - t0)
        out[f"{op} ({n_x}, {n_h}, {m}) threads={threads}"] = best
    print(json.dumps(out))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 15)
