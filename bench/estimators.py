"""Which estimator reproduces best: two runs' series, every comparison recomputed with each of
:data:`fastnn.bench.stats.ESTIMATORS`, and how many agree within ±10 % run to run.

    python bench/estimators.py reports/targets reports/reproducibility/targets-2

Prints, per estimator, the comparisons both runs made (headline ratios, ladder factors, memory
cases), how many agree within ±10 %, the median and the worst |second ÷ first − 1|, and the
median interval width. DESIGN.md ("The estimator") quotes its output.
"""

import sys

import numpy as np

from fastnn.bench import paired, stats, store
from fastnn.report.runs import agreement


def main(a, b):
    docs = [store.load_paired(p) for p in (a, b)]
    print("| estimator | compared | within ±10 % | median change | worst change | median "
          "interval width |")
    print("|---|---|---|---|---|---|")
    for name in stats.ESTIMATORS:
        stats.ESTIMATOR = name
        again = [paired.current(type(d)(run_id=d.run_id, estimator="", fma_gflops=d.fma_gflops,
                                        series=d.series)) for d in docs]
        rows = agreement(*again)
        dev = np.array([abs(r[3] - 1) for r in rows])
        width = np.median([(c.hi - c.lo) / c.ratio for d in again for c in d.pairs + d.ladder])
        print(f"| {name} | {len(rows)} | {sum(r[4] for r in rows)} | {100 * np.median(dev):.1f} % "
              f"| {100 * dev.max():.0f} % | {100 * width:.0f} % |")


if __name__ == "__main__":
    main(*sys.argv[1:3])
