"""Is the machine quiet? Facts about other processes' CPU use, read around every cell.

A cell measured while another process competes for the cores can be wrong by 10× with a small
spread (libgomp, Numba's OpenMP layer, spins: every call then waits for a descheduled thread;
fastnn now asks for a fork-safe layer, see ``fastnn/backends/_threading.py``), so
spread alone does not reveal it. Three facts are read instead, and any one over its threshold
marks the cell ``disturbed``:

- ``others_cpus``: CPUs' worth of time other processes used during the cell, from ``/proc/stat``
  (all CPUs' busy time) minus ``/proc/self/stat`` (this process, all its threads);
- ``steal``: the fraction of CPU time the hypervisor gave to other guests (``/proc/stat``);
- ``probe_ratio``: a fixed workload (:func:`_probe_kernel`: one parallel Numba call, the tanh
  layer of a small network over :data:`PROBE_M` examples, ~2 ms on a quiet 2-core machine) timed
  after the cell, over its quiet time; the quiet time is the fastest seen so far, so it improves
  through a run. It runs on Numba's threading layer at all threads, as the headline backend does,
  and is this module's own kernel, so it compiles once (cached on disk) whatever the backends do.

The 1-minute load average before and after is recorded too, as context: it lags by a minute and
counts this process's own threads, so it does not decide.
"""

from __future__ import annotations

import os
import time

import numpy as np

#: Thresholds: a cell is disturbed when other processes used more than OTHERS_MAX CPUs, the
#: hypervisor stole more than STEAL_MAX of the CPU time, or the probe was PROBE_SLOWDOWN × slower
#: than quiet.
#: Measured on the quiet 2-core reference machine (30 probes alternating with numpy and numba
#: steps at m = 1e6): the probe's best-of-3 time alone spreads up to 2.9× its fastest (right
#: after a BLAS call OpenBLAS's threads are still spinning), and the hypervisor's steal reached
#: 6-9 % in quiet minutes. The thresholds sit above that noise; a real competitor shows in
#: other processes' CPU use, which /proc measures exactly.
OTHERS_MAX = 0.3
STEAL_MAX = 0.10
PROBE_SLOWDOWN = 4.0
#: Windows shorter than this are too coarse for /proc/stat's clock ticks (10 ms): not judged.
MIN_WINDOW_S = 0.1
#: A disturbed cell is re-measured up to RETRIES times, each after waiting up to QUIET_WAIT_S for
#: a quiet QUIET_WINDOW_S window. After BUSY_STREAK waits in a row found no quiet window, a wait
#: is one window only, so a machine that stays busy costs the sweep little time.
RETRIES = 2
QUIET_WAIT_S = 4.0
QUIET_WINDOW_S = 0.3
BUSY_STREAK = 3
#: The probe's size (examples × hidden units) and calls (the best of PROBE_CALLS counts).
PROBE_M, PROBE_N_H = 4096, 64
PROBE_CALLS = 3

_HZ = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_NCPU = os.cpu_count() or 1


def _stat():
    """(busy, steal) clock ticks of all CPUs since boot, from the first line of /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq = v[:7]
    return user + nice + system + irq + softirq, (v[7] if len(v) > 7 else 0)


def _ticks(pid="self"):
    """A process's user + system clock ticks (all its threads), from /proc/<pid>/stat; 0 for a
    process that is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            rest = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(rest[11]) + int(rest[12])


def _load1():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def snapshot(pids=()):
    """The counters now: a dict (time, busy, steal, own ticks, 1-min load), or None off Linux.
    "Own" is this process's CPU time plus that of ``pids`` (the worker processes it is timing,
    which are not "other processes")."""
    try:
        busy, steal = _stat()
        return {"t": time.perf_counter(), "busy": busy, "steal": steal,
                "self": _ticks() + sum(_ticks(p) for p in pids), "load1": _load1()}
    except (OSError, ValueError, IndexError):
        return None


def usage(before, after):
    """Other processes' CPU use and steal between two snapshots.

    Returns a dict: ``window_s``; ``others_cpus`` (CPUs' worth used by other processes, 0 …
    n_cpus); ``steal`` (fraction of all CPU time stolen); ``load_before``, ``load_after``. The
    CPU figures are None when the window is shorter than :data:`MIN_WINDOW_S` or there is no /proc.
    """
    if not before or not after:
        return {"window_s": None, "others_cpus": None, "steal": None, "load_before": None,
                "load_after": None}
    wall = after["t"] - before["t"]
    out = {"window_s": wall, "others_cpus": None, "steal": None,
           "load_before": before["load1"], "load_after": after["load1"]}
    if wall >= MIN_WINDOW_S:
        others = (after["busy"] - before["busy"]) - (after["self"] - before["self"])
        out["others_cpus"] = max(0.0, others / _HZ / wall)
        out["steal"] = (after["steal"] - before["steal"]) / _HZ / wall / _NCPU
    return out


def others_s(before, after):
    """CPU seconds that other processes and the kernel's own threads used between two
    :func:`snapshot` s (``/proc/stat``'s busy time of all CPUs less the snapshots' own
    processes'), at the clock tick's resolution (10 ms); None without /proc. Unlike
    :func:`usage`, any window is judged: a paired round reads it around its timed calls."""
    if not before or not after:
        return None
    return max(0, (after["busy"] - before["busy"]) - (after["self"] - before["self"])) / _HZ


def thresholds():
    """The facts judged, each with its threshold: ``{fact: threshold}``."""
    return {"others_cpus": OTHERS_MAX, "steal": STEAL_MAX, "probe_ratio": PROBE_SLOWDOWN}


def exceeded(facts):
    """The facts of ``facts`` (from :func:`usage` or :meth:`Detector.verdict`) over their
    threshold (:func:`thresholds`), as ``{fact: value}`` in that order; empty when quiet."""
    return {k: facts[k] for k, limit in thresholds().items() if (facts.get(k) or 0) > limit}


def worst(*overs):
    """One ``{fact: value}`` from several :func:`exceeded` dicts: each fact's largest value."""
    out = {}
    for over in overs:
        for k, v in (over or {}).items():
            out[k] = max(v, out.get(k, v))
    return out


def all_threads():
    """Numba and BLAS at all cores for the duration (the probe's fixed setting)."""
    from ._threads import threads
    return threads(0)


class Detector:
    """Reads the contention facts around a cell and judges them.

    Parameters
    ----------
    probe : bool
        Time the reference probe (:func:`_compiled_probe` at :data:`PROBE_M` examples) after
        each cell. Without it only
        ``/proc`` is read.
    """

    def __init__(self, probe=True):
        self.use_probe = probe
        self.quiet_s = None  # the probe's fastest time so far
        self._fn = None
        self.busy_streak = 0  # waits in a row that found no quiet window

    def __getstate__(self):  # sent to a worker without the compiled probe (loaded again there)
        return dict(self.__dict__, _fn=None)

    def state(self):
        """What a worker's copy learnt and the parent keeps: (fastest probe, busy streak)."""
        return self.quiet_s, self.busy_streak

    def merge(self, state):
        """Keep the fastest probe time and the busy streak a worker's copy of this detector
        saw (:meth:`state`)."""
        quiet_s, self.busy_streak = state
        if quiet_s is not None:
            self._note(quiet_s)

    def _probe_once(self):
        if self._fn is None:
            kernel = _compiled_probe()
            X = np.random.default_rng(0).standard_normal((2, PROBE_M))
            W = np.random.default_rng(1).standard_normal((PROBE_N_H, 2)) * 0.5
            self._fn = lambda: kernel(W, X, 64)
            with all_threads():
                self._fn()  # compile (or load from the cache) outside any timing
        best = float("inf")
        with all_threads():
            for _ in range(PROBE_CALLS):
                t0 = time.perf_counter()
                self._fn()
                best = min(best, time.perf_counter() - t0)
        return best

    def calibrate(self, rounds=5):
        """Time the probe ``rounds`` times.

        Returns
        -------
        dict
            The header facts: :func:`usage` meanwhile (to show whether the start itself was
            quiet), ``probe_quiet_s`` (the fastest probe), and the workload as numbers:
            ``probe_n_h``, ``probe_m`` (one parallel Numba call of :func:`_compiled_probe` on
            all threads) and ``probe_calls`` (the best of that many calls counts). Files before
            these numbers hold a ``probe`` sentence instead.
        """
        before = snapshot()
        if self.use_probe:
            for _ in range(rounds):
                self._note(self._probe_once())
        return dict(usage(before, snapshot()), probe_quiet_s=self.quiet_s,
                    probe_n_h=PROBE_N_H, probe_m=PROBE_M, probe_calls=PROBE_CALLS)

    def _note(self, t):
        self.quiet_s = t if self.quiet_s is None else min(self.quiet_s, t)

    def start(self, pids=()):
        """The counters before a measurement; ``pids``: worker processes whose CPU time is the
        measurement's own (:func:`snapshot`)."""
        return snapshot(pids)

    def verdict(self, before, pids=()):
        """The facts since ``before`` (a :meth:`start` with the same ``pids``), the probe, and
        the thresholds they exceed.

        Returns a dict: the :func:`usage` facts, ``probe_s``, ``probe_quiet_s``, ``probe_ratio``,
        and ``over`` (:func:`exceeded`: ``{fact: value}``, empty when quiet).
        """
        facts = usage(before, snapshot(pids))
        facts.update(probe_s=None, probe_quiet_s=self.quiet_s, probe_ratio=None)
        if self.use_probe:
            try:
                t = self._probe_once()
            except Exception:  # noqa: BLE001 - no probe backend here: /proc alone decides
                self.use_probe = False
            else:
                if self.quiet_s is None:
                    self._note(t)
                facts.update(probe_s=t, probe_quiet_s=self.quiet_s, probe_ratio=t / self.quiet_s)
                self._note(t)
        return dict(facts, over=exceeded(facts))

    def wait_quiet(self, max_s=None):
        """Wait until other processes use at most OTHERS_MAX CPUs over a QUIET_WINDOW_S window,
        for at most ``max_s`` seconds (default QUIET_WAIT_S, or one window after BUSY_STREAK
        fruitless waits in a row). Returns True when quiet."""
        if max_s is None:
            max_s = QUIET_WAIT_S if self.busy_streak < BUSY_STREAK else QUIET_WINDOW_S
        end = time.perf_counter() + max_s
        while True:
            before = snapshot()
            if before is None:
                return False
            time.sleep(QUIET_WINDOW_S)
            if not exceeded(usage(before, snapshot())):
                self.busy_streak = 0
                return True
            if time.perf_counter() >= end:
                self.busy_streak += 1
                return False


_KERNEL = []


def _compiled_probe():
    """The probe kernel, ``sum(tanh(W1 X))`` over 64 chunks of X's columns in ``prange``:
    W1 (n_h, 2), X (2, m). Compiled on first use (and cached on disk)."""
    if not _KERNEL:
        import numba

        from .._jitcache import CACHE
        from ..backends import _threading  # noqa: F401 - the layer, before ours launches

        @numba.njit(parallel=True, cache=CACHE)
        def _probe_kernel(W, X, nchunks):
            m = X.shape[1]
            part = np.zeros(nchunks)
            for c in numba.prange(nchunks):
                s = 0.0
                for i in range(c * m // nchunks, (c + 1) * m // nchunks):
                    for j in range(W.shape[0]):
                        s += np.tanh(W[j, 0] * X[0, i] + W[j, 1] * X[1, i])
                part[c] = s
            return part.sum()

        _KERNEL.append(_probe_kernel)
    return _KERNEL[0]


_DEFAULT = []


def default():
    """A calibrated detector shared by callers that do not bring their own (e.g. tests)."""
    if not _DEFAULT:
        d = Detector()
        d.calibrate()
        _DEFAULT.append(d)
    return _DEFAULT[0]


__all__ = ["BUSY_STREAK", "Detector", "MIN_WINDOW_S", "OTHERS_MAX", "PROBE_M", "PROBE_SLOWDOWN",
           "QUIET_WAIT_S", "RETRIES", "STEAL_MAX", "all_threads", "default", "exceeded",
           "snapshot", "thresholds", "usage", "worst"]
