"""How long a `fastnn` command spends compiling Numba code in its own process.

Runs ``fastnn ARGS…`` (e.g. ``bench --out /tmp/first``) in this process with a listener on
Numba's ``numba:compile`` events and prints the wall time of the whole command and the sum of
the outermost compiles (nested ones are inside them). Compile-timing subprocesses that the
command starts itself are not counted. With an empty cache:

    NUMBA_CACHE_DIR=$(mktemp -d) python bench/compile_events.py bench --out /tmp/first
"""

import sys
import time

from numba.core import event as ev

from fastnn import cli


class Outermost(ev.Listener):
    """Sums the wall time of the outermost compile events."""

    def __init__(self):
        self.depth, self.total, self.count, self._t0 = 0, 0.0, 0, 0.0

    def on_start(self, event):
        if self.depth == 0:
            self._t0 = time.perf_counter()
        self.depth += 1

    def on_end(self, event):
        self.depth -= 1
        if self.depth == 0:
            self.total += time.perf_counter() - self._t0
            self.count += 1


def main(argv):
    listener = Outermost()
    start = time.perf_counter()
    with ev.install_listener("numba:compile", listener):
        try:
            cli.main(argv)
        except SystemExit:
            pass
    print(f"total {time.perf_counter() - start:.1f} s; in-process Numba compile "
          f"{listener.total:.1f} s over {listener.count} outermost compiles", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
