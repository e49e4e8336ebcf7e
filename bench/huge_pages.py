"""Where NumPy's memory cases come from: its step at (n_x, n_h, m) = (2, 64, 1e6) timed call by
call with NumPy's huge-page advice on (its default on Linux: ``madvise(MADV_HUGEPAGE)`` on large
arrays) and off, each in a fresh process, alternating, with the kernel's counters from
``/proc/vmstat`` over the calls (Linux only).

Usage: ``python bench/huge_pages.py [calls] [pairs]`` (default 8 calls, 2 pairs). Prints one line
per process: the advice, each call's time (ms) and the counters' growth.
"""

import subprocess
import sys

CHILD = r"""
import sys, time
import numpy as np
import fastnn
from fastnn.bench.machine import numpy_hugepage_switch

COUNTERS = ("thp_fault_alloc", "thp_fault_fallback", "compact_stall", "pgfault")

def vmstat():
    with open("/proc/vmstat") as f:
        d = dict(line.split() for line in f)
    return {k: int(d[k]) for k in COUNTERS if k in d}

numpy_hugepage_switch()(sys.argv[1] == "on")
calls = int(sys.argv[2])
backend = fastnn.get_backend("numpy")
P = fastnn.init_params(2, 64, 1, seed=0)
rng = np.random.default_rng(0)
X = rng.standard_normal((2, 1_000_000))
Y = (rng.random((1, 1_000_000)) > 0.5) * 1.0
backend.cost_and_grads(P, X, Y)  # the first call's own costs apart
v0, times = vmstat(), []
for _ in range(calls):
    t = time.perf_counter()
    backend.cost_and_grads(P, X, Y)
    times.append(time.perf_counter() - t)
v1 = vmstat()
print(f"huge pages {sys.argv[1]:>3}: ms", [round(t * 1e3) for t in times],
      {k: v1[k] - v0[k] for k in v0})
"""


def main(calls=8, pairs=2):
    for _ in range(pairs):
        for advice in ("on", "off"):
            subprocess.run([sys.executable, "-c", CHILD, advice, str(calls)], check=True)


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
