"""``fastnn demo``: every claim of the lecture, shown with a figure or a number measured now.

Each part of the lecture is a function returning a :class:`Part` (its text and figures, in
order): :func:`run_demo` writes them as ``index.md`` and PNG figures, and the notebook
``reports/lecture/lecture.ipynb`` calls the same functions, one cell each (:func:`run_notebook`
executes it). Deterministic (seeded), except the timings of parts 2 and 7.
"""

from __future__ import annotations

import io
import os
import re
import time
from dataclasses import dataclass, field

import numpy as np

from .activations import ACTIVATIONS, ELU_ALPHA, LEAKY_SLOPE
from .backends import BACKENDS, HEADLINE, comparisons, get_backend, names
from .backends._descent import loop
from .bench import cell, contention, grid, machine
from .bench import ladder as ladder_
from .bench import paired as paired_
from .bench.progress import make as _progress
from .bench.store import write_atomic, write_manifest
from .data import flower
from .init import init_params
from . import fmt
from .plotting import colours, ladder_figure, plain_log_y, save as _save, subplots
from .plotting import factor_adds, rung_label as plotting_rung
from .train import fit, fit_logistic, predict
from .validate import PARAM_NAMES, prepare

#: Activation colours (Okabe–Ito, and a wine red for maxout: part 2 draws the other curves grey).
_COL = {"tanh": "#0072B2", "sigmoid": "#E69F00", "relu": "#009E73", "linear": "#D55E00",
        "logistic": "#CC79A7", "leaky_relu": "#56B4E9", "elu": "#000000", "maxout": "#882255"}
#: The lecture's seven hidden activations, as the page's table writes them.
_FORMULA = {"sigmoid": "1 / (1 + e^(−z))", "tanh": "(e^z − e^(−z)) / (e^z + e^(−z))",
            "relu": "max(0, z)", "leaky_relu": f"max({LEAKY_SLOPE} z, z)",
            "elu": f"z, or {ELU_ALPHA:g}·(e^z − 1) for z < 0", "linear": "z",
            "maxout": "max(w₁ᵀx + b₁, w₂ᵀx + b₂)"}
#: The seeded trainings run on the headline backend: at n_x = 2 it uses no BLAS, so its results
#: do not depend on which BLAS kernel the machine picks (NumPy's do: see the page's note).
_TRAIN = HEADLINE
#: Every backend's trained parameters must equal the ``_TRAIN`` run's to this relative tolerance
#: (measured on the flower: within 5e-14 after 4,000 steps at every n_h of part 2, 2e-11 after
#: 10 steps, when b1 is still tiny).
_RTOL = 1e-9
#: The lecture's network on the flower: its learning rate, and the seed of its data set and of
#: its start (every part that trains it names the start it used).
LR = 1.2
DATA_SEED, NET_SEED = 1, 2
#: The lecture's hidden sizes (part 2) and the example counts of part 7's figure.
SIZES = (1, 2, 3, 4, 5, 20, 50)
MS = (1, 10, 100, 1000, 10_000)


@dataclass
class Part:
    """One part of the lecture page: its title, its blocks in order (markdown text, or a
    ``(file name, Figure)`` pair) and the numbers it computed (``values``, for the next part
    or a test)."""

    title: str
    blocks: list
    values: dict = field(default_factory=dict)

    def markdown(self, out):
        """The part as markdown under ``## title``, its figures written to ``out``."""
        text = []
        for b in self.blocks:
            if isinstance(b, str):
                text.append(b)
            else:
                name = _save(b[1], out, b[0])
                text.append(f"![{os.path.splitext(name)[0].replace('_', ' ')}]({name})")
        return f"## {self.title}\n\n" + "\n\n".join(t.strip("\n") for t in text) + "\n"

    def _ipython_display_(self):
        """In a notebook: the text as markdown, the figures inline (PNG), in order."""
        from IPython.display import Image, Markdown, display
        for b in self.blocks:
            if isinstance(b, str):
                display(Markdown(b))
            else:
                buf = io.BytesIO()
                b[1].savefig(buf, format="png", dpi=90, bbox_inches="tight")
                display(Image(data=buf.getvalue()))


def start(method="random", seed=NET_SEED, scale=0.01):
    """The start of a training run, in words: ``W = randn · 0.01 (seed 2), b = 0``."""
    if method == "zeros":
        return "all weights 0, b = 0"
    s = {"random": f"randn · {scale:g}", "xavier": "randn · √(2 / (fan_in + fan_out))",
         "he": "randn · √(2 / fan_in)"}[method]
    return f"W = {s} (`default_rng({seed})`), b = 0"


def _acc(params, X, Y, hidden):
    return float(np.mean(predict(params, X, hidden=hidden, backend=_TRAIN) == Y))


def _secs(t):
    """A time for a table: ``0.626 ms``, ``1.23 s``, ``1,234 s``."""
    return f"{t * 1e3:.3g} ms" if t < 1 else f"{t:.3g} s" if t < 100 else f"{t:,.0f} s"


def _times(r, up="faster", down="slower"):
    """A ratio ≥ 1 as ``2.5× faster``; below 1 as ``3× slower`` (or ``up``, ``down``)."""
    return f"{fmt.ratio(r)} {up}" if r >= 1 else f"{fmt.ratio(1 / r)} {down}"


def _listed(items):
    return ", ".join(items[:-1]) + " and " + items[-1] if len(items) > 1 else "".join(items)


# ---- part 1 ----------------------------------------------------------------------------------

def activations():
    """Part 1: every activation and its derivative (figure), and the lecture's table at
    z = 10, −10, 0 (sigmoid, tanh, relu)."""
    z = np.linspace(-5, 5, 401)
    shown = [n for n in ACTIVATIONS if n != "maxout"]
    fig, axes = subplots(2, 4, figsize=(14, 6))
    for ax, name in zip(axes.flat, shown):
        a = ACTIVATIONS[name]
        A = a.g(z)
        ax.plot(z, A, color="#0072B2", label="g(z)")
        ax.plot(z, a.dg(z, A), color="#D55E00", ls="--", label="g'(z)")
        ax.set(title=name, xlabel="z")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    # maxout on a 1-D input: two pieces w·x + b, the unit outputs their max
    ax = axes.flat[len(shown)]
    axes.flat[-1].set_visible(False)
    W1 = np.array([[[1.0]], [[-0.5]]])
    b1 = np.array([[[0.5]], [[0.0]]])
    Z = np.matmul(W1, z[None, :]) + b1  # (2, 1, m)
    ax.plot(z, Z[0, 0], ":", color="grey", label="piece 1: x + 0.5")
    ax.plot(z, Z[1, 0], "-.", color="grey", label="piece 2: −0.5x")
    ax.plot(z, ACTIVATIONS["maxout"].g(Z)[0], color="#0072B2", label="maxout = max")
    ax.plot(z, ACTIVATIONS["maxout"].dg(Z, None)[0, 0], color="#D55E00", ls="--",
            label="∂/∂piece 1 (routing)")
    ax.set(title="maxout (k = 2, 1-D input)", xlabel="x")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6)
    fig.suptitle("Activation functions (solid) and their derivatives (dashed)")
    fig.tight_layout()
    rows = []
    for zv in (10.0, -10.0, 0.0):
        Zv = np.array([zv])
        cells = [f"{zv:g}"]
        for n in ("sigmoid", "tanh", "relu"):
            a = ACTIVATIONS[n]
            A = a.g(Zv)
            cells += [f"{A[0]:.6g}", f"{a.dg(Zv, A)[0]:.6g}"]
        rows.append("| " + " | ".join(cells) + " |")
    table = ("| z | sigmoid | sigmoid' | tanh | tanh' | relu | relu' |\n"
             "|---|---|---|---|---|---|---|\n" + "\n".join(rows))
    return Part("Activation functions", [
        ("activations.png", fig),
        f"The lecture's table, computed by fastnn:\n\n{table}",
        "For |z| = 10 the sigmoid and tanh derivatives are near 0 (gradient descent slows "
        "there); ReLU's stays 1 for every z ≥ 0."])


# ---- part 2 ----------------------------------------------------------------------------------

def _boundary(ax, params, X, Y, hidden, title):
    x0, x1 = np.meshgrid(np.linspace(X[0].min() - 1, X[0].max() + 1, 200),
                         np.linspace(X[1].min() - 1, X[1].max() + 1, 200))
    G = np.vstack([x0.ravel(), x1.ravel()])
    P = predict(params, G, hidden=hidden, backend=_TRAIN).reshape(x0.shape)
    ax.contourf(x0, x1, P, levels=[-0.5, 0.5, 1.5], colors=["#E69F00", "#56B4E9"], alpha=0.35)
    for y, c in ((1, "#0072B2"), (0, "#D55E00")):
        on = (Y[0] > 0.5) == bool(y)
        ax.scatter(X[0, on], X[1, on], color=c, s=6, label=f"point with y = {y}")
    ax.set(title=title, xlabel="x₁", ylabel="x₂")


def _boundary_legend(fig, ax):
    """One legend under the boundary panels: the points' classes and the shaded predictions."""
    from matplotlib.patches import Patch
    handles = ax.get_legend_handles_labels()[0] + [
        Patch(color="#56B4E9", alpha=0.35, label="predicted y = 1"),
        Patch(color="#E69F00", alpha=0.35, label="predicted y = 0")]
    fig.legend(handles=handles, loc="outside lower center", ncol=4, fontsize=8)


def flower_boundaries(m=400, iters=4000, n_h=4):
    """Part 2: the flower's points and the decision boundaries of logistic regression and of
    the 2-layer tanh network (``n_h`` units, :func:`start` with :data:`NET_SEED`)."""
    X, Y = flower(m, seed=DATA_SEED)
    logit = fit_logistic(X, Y, iterations=iters, lr=LR, backend=_TRAIN)
    net = fit(X, Y, n_h=n_h, iterations=iters, lr=LR, seed=NET_SEED, backend=_TRAIN)
    acc_l, acc_n = _acc(logit.params, X, Y, "linear"), _acc(net.params, X, Y, "tanh")
    fig, axes = subplots(1, 2, figsize=(10, 4.3), layout="constrained")
    _boundary(axes[0], logit.params, X, Y, "linear", f"logistic regression: {100 * acc_l:.1f} %")
    _boundary(axes[1], net.params, X, Y, "tanh", f"2-layer tanh, n_h = {n_h}: {100 * acc_n:.1f} %")
    _boundary_legend(fig, axes[1])
    return Part("The flower data set", [
        f"{m} points on the petals r = 4·sin(4t) (`fastnn.flower`, `default_rng({DATA_SEED})`). "
        f"{iters:,} gradient-descent iterations, lr = {LR}.",
        ("flower_boundaries.png", fig),
        f"Logistic regression (from w = 0) reaches {100 * acc_l:.1f} % (no straight line "
        f"separates the petals); the 2-layer tanh network (n_h = {n_h}, from {start()}) "
        f"reaches {100 * acc_n:.1f} %, final cost {net.costs[-1]:.4f}."],
        {"acc_logistic": acc_l, "acc_net": acc_n})


def _trainable():
    """The network's own backends (registry order) that can train its tanh network here."""
    return [b for b in names(peers=False)
            if not get_backend(b).missing() and not get_backend(b).unsupported(hidden="tanh")]


def _difference(result, ref):
    """Largest |ΔW| of ``result``'s trained parameters from ``ref``'s, relative to the largest
    entry of ``ref``'s same parameter."""
    return max(float(np.max(np.abs(result.params[k] - v)) / max(float(np.max(np.abs(v))), 1e-300))
               for k, v in ref.params.items())


def _check_same(X, Y, P, timed, n_h):
    """The largest :func:`_difference` of every timed backend's parameters from a ``_TRAIN`` run
    of as many steps from ``P``; a ``RuntimeError`` naming the backend when it exceeds
    :data:`_RTOL` (the backends disagree: no table is written)."""
    worst = 0.0
    for b, t in timed.items():
        ref = timed[_TRAIN]["result"]
        if t["n"] != timed[_TRAIN]["n"]:
            ref = fit(X, Y, params=P, iterations=t["n"], lr=LR, backend=_TRAIN)
        d = _difference(t["result"], ref)
        if not d <= _RTOL:
            raise RuntimeError(f"`{b}` and `{_TRAIN}` trained different networks (n_h = {n_h}, "
                               f"{t['n']} steps): relative difference {d:.3g} > {_RTOL:g}")
        worst = max(worst, d)
    return worst


def hidden_sizes(m=400, iters=4000, sizes=SIZES, budget=0.25, rounds=2):
    """Part 2: the lecture's hidden-size table. Accuracy and final cost of each n_h (the
    ``_TRAIN`` runs) and how long its ``iters``-step training takes on every backend.

    Each time is the fastest of ``rounds`` measurements, taken in turn over every n_h and
    backend: a warm-up or a passing disturbance slows one round of a cell, not a row. A
    per-example backend runs a shorter run of about ``budget`` seconds (at most a tenth of the
    steps), scaled up.

    Returns
    -------
    Part
        ``values``: ``times`` {n_h: {backend: s}}, ``spread`` (slowest round over fastest,
        largest of all cells), ``first`` (a jit backend's first call, s).

    Raises
    ------
    RuntimeError
        When a backend's trained parameters differ from ``_TRAIN``'s by more than :data:`_RTOL`.
    """
    X, Y = flower(m, seed=DATA_SEED)
    backends = _trainable()
    starts = {n_h: init_params(X.shape[0], n_h, Y.shape[0], seed=NET_SEED) for n_h in sizes}
    best, spread, first = {n_h: {} for n_h in sizes}, 1.0, {}
    for _ in range(rounds):
        for n_h in sizes:
            for b in backends:
                t = _time_fit(X, Y, starts[n_h], iters, b, budget=budget,
                              cap=max(10, iters // 10))
                if get_backend(b).jit and b not in first:
                    first[b] = t["first"]
                old = best[n_h].get(b)
                if old:
                    spread = max(spread, max(old["total"], t["total"]) /
                                 min(old["total"], t["total"]))
                if not old or t["total"] < old["total"]:
                    best[n_h][b] = t
    rows, totals, worst = [], dict.fromkeys(backends, 0.0), 0.0
    for n_h in sizes:
        timed = best[n_h]
        worst = max(worst, _check_same(X, Y, starts[n_h], timed, n_h))
        r = timed[_TRAIN]["result"]
        cells = [f"{100 * _acc(r.params, X, Y, 'tanh'):.1f} %", f"{r.costs[-1]:.4f}"]
        for b, t in timed.items():
            totals[b] += t["total"]
            cells.append(_secs(t["total"]) + (f" (from {t['n']:,} steps)" if t["n"] < iters
                                              else ""))
        rows.append(f"| {n_h} | " + " | ".join(cells) + " |")
    rows.append(f"| all {len(sizes)} | | | " + " | ".join(_secs(v) for v in totals.values())
                + " |")
    head = ["n_h", "accuracy", "final cost"] + [
        f"`{b}`" + (" (extrapolated)" if get_backend(b).per_example else "") for b in backends]
    short = [f"`{b}`" for b in backends if get_backend(b).per_example]
    full = [f"`{b}`" for b in backends if not get_backend(b).per_example]
    compiled = "".join(f" A compiled backend's first call (a 1-step run that compiles its "
                       "kernels, or loads them from Numba's on-disk cache, unless this process "
                       f"already has: part 7 times both) is in no column; `{b}`'s took "
                       f"{_secs(t)} here." for b, t in first.items())
    again = (f"Each time is the fastest of {rounds} measurements taken in turn over every n_h, "
             "so a first call's warm-up or another program's burst slows one measurement, not "
             f"a row; the {rounds} differed by up to {100 * (spread - 1):.0f} % in a cell. "
             if rounds > 1 else
             "Each time is one measurement (`rounds = 1`): the first row measured also pays "
             "the warm-up of each backend's first calls. ")
    table = ("| " + " | ".join(head) + " |\n|" + "---|" * len(head) + "\n" + "\n".join(rows))
    text = (f"Accuracy and final cost are the `{_TRAIN}` runs'. Every n_h starts from "
            f"{start()}, lr = {LR}. The other columns are how long each {iters:,}-step "
            f"training took, measured now: {_listed(full)} ran every training in full; "
            f"{_listed(short)}, which loop over the examples in Python, ran a shorter run of "
            f"each (its steps in brackets) whose time is scaled to {iters:,} steps — "
            f"extrapolated, not measured in full. {again}{compiled.strip()} Every backend's "
            f"trained W1, b1, W2, b2 equal `{_TRAIN}`'s after as many steps (largest difference "
            f"{worst:.2g} of the largest weight; the demo stops if one exceeds {_RTOL:g}).")
    times = {n_h: {b: t["total"] for b, t in best[n_h].items()} for n_h in sizes}
    return Part("The lecture's hidden-size table", [
        f"The lecture's hidden-size table, n_h = {', '.join(map(str, sizes))} ({m} points):",
        table, text], {"times": times, "spread": spread, "first": first})


#: Part 2's sweep of m for the backend that reuses its work arrays: the example counts, in order.
REUSE_MS = (100, 1000, 3000, 10_000, 30_000, 100_000, 300_000, 1_000_000)


def _reuse_pair():
    """The registry's comparison of a backend that reuses its work arrays with its baseline:
    (baseline, reuser), or None."""
    pairs = [(a, b) for a, b in comparisons(BACKENDS)
             if get_backend(b).reuses_buffers and not get_backend(b).missing()]
    return pairs[0] if pairs else None


def _check_sweep(ms, n_h, rounds, batch_s):
    """``inplace_sweep``'s arguments, checked: ms a tuple of increasing ints >= 1."""
    if isinstance(ms, (str, bytes)) or not hasattr(ms, "__iter__"):
        raise TypeError(f"ms must be a sequence of example counts, got {ms!r}")
    ms = tuple(ms)
    for name, v in [("n_h", n_h), ("rounds", rounds)] + [("ms", m) for m in ms]:
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"{name} must be an integer, got {v!r}")
    if not ms or any(m < 1 for m in ms) or list(ms) != sorted(set(ms)):
        raise ValueError(f"ms must be increasing example counts >= 1, got {ms!r}")
    if n_h < 1 or rounds < 1:
        raise ValueError(f"n_h and rounds must be >= 1, got n_h = {n_h}, rounds = {rounds}")
    if isinstance(batch_s, bool) or not isinstance(batch_s, (int, float)) \
            or not 0 < batch_s < np.inf:
        raise ValueError(f"batch_s must be a positive number of seconds, got {batch_s!r}")
    return tuple(int(m) for m in ms)


#: The inplace sweep's rounds at one m stop after this many seconds, once two are done: at
#: m = 1e6 a step takes a tenth of a second or more, and five rounds of both would take seconds.
SWEEP_M_S = 0.4


def _sweep(pair, ms, n_h, rounds, batch_s, seed, confirm=2):
    """Time one step's cost and gradients of both backends of ``pair`` at each m of ``ms``,
    in turn: each of ``rounds`` rounds times both, in a fresh random order (``default_rng(seed)``),
    each a batch of calls of at least ``batch_s`` seconds (after one untimed call of each, at
    each m); the rounds stop early once two are done and :data:`SWEEP_M_S` has passed. A side's
    time is its fastest round. The sweep stops after ``confirm`` example counts in a row where
    the second is faster.

    Returns
    -------
    list of dict
        One per m measured: ``m``, ``times`` {backend: s per call}, ``rounds`` (done).
    """
    rng = np.random.default_rng(seed)
    out, wins = [], 0
    for m in ms:
        X, Y = flower(m, seed=DATA_SEED)
        P, X, Y, _ = prepare(init_params(2, n_h, 1, seed=NET_SEED), X, Y, "tanh", "sigmoid")
        calls = {b: get_backend(b).make_call("cost_and_grads", P, X, Y, "tanh", "sigmoid")
                 for b in pair}
        n = {}
        for b, f in calls.items():  # first call: warm-up (a reuser allocates its arrays here)
            t0 = time.perf_counter()
            f()
            n[b] = max(1, int(np.ceil(batch_s / max(time.perf_counter() - t0, 1e-9))))
        best = dict.fromkeys(pair, np.inf)
        end, done = time.perf_counter() + SWEEP_M_S, 0
        while done < rounds and (done < 2 or time.perf_counter() < end):
            for i in rng.permutation(len(pair)):
                b = pair[i]
                t0 = time.perf_counter()
                for _ in range(n[b]):
                    calls[b]()
                best[b] = min(best[b], (time.perf_counter() - t0) / n[b])
            done += 1
        out.append({"m": m, "times": best, "rounds": done})
        wins = wins + 1 if best[pair[1]] < best[pair[0]] else 0
        if wins >= confirm:
            break
    return out


def _pays_from(sweep, pair):
    """The first m of ``sweep`` from which ``pair[1]`` is faster at every m measured, or None."""
    a, b = pair
    first = None
    for s in sweep:
        faster = s["times"][b] < s["times"][a]
        first = (first or s["m"]) if faster else None
    return first


def _size(nbytes):
    """Bytes as ``313 KiB`` or ``30.5 MiB``."""
    for unit, f in (("GiB", 2 ** 30), ("MiB", 2 ** 20), ("KiB", 2 ** 10)):
        if nbytes >= f:
            return f"{nbytes / f:.3g} {unit}"
    return f"{nbytes} bytes"


def inplace_sweep(ms=REUSE_MS, n_h=4, rounds=5, batch_s=0.01, *, seed=0, table=None,
                  table_m=400):
    """Part 2: where reusing the work arrays (``numpy-inplace``) starts to pay against ``numpy``.

    One step's cost and gradients (tanh, the flower's points, :data:`NET_SEED`'s start) at
    each m of ``ms`` in turn, the two backends timed in alternation (:func:`_sweep`), until
    the reuser has been faster at two m in a row.

    Parameters
    ----------
    ms : sequence of int
        Example counts, increasing.
    n_h : int
        Hidden units.
    rounds : int
        Rounds per m (fewer, but at least two, where they take over :data:`SWEEP_M_S`); a
        side's time is its fastest.
    batch_s : float
        Seconds each timed batch lasts at least.
    seed : int
        The seed of each round's order.
    table : dict, optional
        Part 2's :func:`hidden_sizes` ``values["times"]`` ({n_h: {backend: s}}, at
        ``table_m`` examples), for a sentence on its rows.

    Returns
    -------
    Part
        ``values``: ``sweep`` (one dict per m measured: ``m``, ``times``, ``rounds``),
        ``pays_from`` (the first m from which the reuser was faster at every m measured, or
        None), ``pair`` (baseline, reuser), ``n_h``, ``rounds``, ``ms``.

    Raises
    ------
    TypeError, ValueError
        ``ms`` not increasing integers >= 1, ``n_h`` or ``rounds`` not an integer >= 1,
        ``batch_s`` not a positive number.
    """
    ms = _check_sweep(ms, n_h, rounds, batch_s)
    pair = _reuse_pair()
    if pair is None:
        return Part("When reusing work arrays pays", [], {})
    sweep = _sweep(pair, ms, n_h, rounds, batch_s, seed)
    values = {"sweep": sweep, "pays_from": _pays_from(sweep, pair), "pair": pair,
              "n_h": n_h, "rounds": rounds, "ms": ms}
    a, b = pair
    rows = [f"| {s['m']:,} | {_secs(s['times'][a])} | {_secs(s['times'][b])} | "
            f"{_times(s['times'][a] / s['times'][b])} |" for s in sweep]
    return Part("When reusing work arrays pays", [
        _reuse_text(values, table, table_m),
        f"| m | `{a}` | `{b}` | `{b}` against `{a}` |\n|---|---|---|---|\n"
        + "\n".join(rows)], values)


def _reuse_text(v, table=None, table_m=400):
    """Part 2's sentences on the reuser (:func:`inplace_sweep`'s values): how it fares in the
    hidden-size table, and from which m it pays. The words follow the numbers."""
    (a, b), sweep, first = v["pair"], v["sweep"], v["pays_from"]
    out = []
    rows = [n for n in (table or {}) if a in table[n] and b in table[n]]
    if rows:
        slow = [n for n in rows if table[n][b] > table[n][a]]
        said = (f"slower than `{a}` in every row" if len(slow) == len(rows)
                else f"faster than `{a}` in every row" if not slow
                else f"slower than `{a}` in {len(slow)} of its {len(rows)} rows")
        out.append(f"In the hidden-size table above (m = {table_m:,}) `{b}` is {said}.")
    ratio = {s["m"]: s["times"][a] / s["times"][b] for s in sweep}
    slow_ms = [m for m, r in ratio.items() if r < 1]
    done = sorted({s.get("rounds", v["rounds"]) for s in sweep})
    rounds = (f"{done[0]} rounds" if len(done) == 1 else
              f"{done[0]} to {done[-1]} rounds (fewer where a step is long)")
    out.append(f"Reusing work arrays saves allocating them, which matters only when they are "
               f"large. Timed now, one step's cost and gradients (n_h = {v['n_h']}, tanh, the "
               f"flower's points), `{a}` and `{b}` in turn, in a fresh random order in each of "
               f"{rounds}, each side the fastest of its rounds (table below):")
    listed = lambda ms: _listed([f"{m:,}" for m in ms])  # noqa: E731
    if first is not None:
        out.append(f"`{b}` is " + (f"slower at m = {listed(slow_ms)} and " if slow_ms else "")
                   + f"faster from m = {first:,} on ({_times(ratio[first])} there, where one "
                   f"(n_h, m) array of float64 holds {_size(v['n_h'] * first * 8)})"
                   + ("; the sweep stops after two m in a row where it is faster."
                      if len(sweep) < len(v["ms"]) else "."))
    else:
        fast_ms = [m for m, r in ratio.items() if r >= 1]
        out.append(f"`{b}` is " + (f"faster at m = {listed(fast_ms)}, but slower at the "
                                   f"largest m measured, {sweep[-1]['m']:,}." if fast_ms
                                   else f"slower at every m measured, up to {sweep[-1]['m']:,}."))
    out.append(f"So whether `{b}` pays depends on m, and on the machine: the hidden-size table "
               f"(m = {table_m:,}), this sweep and part 7's ladder (its m in each heading) "
               "time it at different m.")
    return " ".join(out)


#: Part 2: a step "raised J" when the cost after it is more than this fraction above the cost
#: before it (a rise of J means the step overshot; linear's last-digit wobble at its optimum is
#: not one).
RISE = 0.01


def _rises(costs):
    """How many steps raised J by more than :data:`RISE` of its value."""
    c = np.asarray(costs, float)
    return int(np.sum(c[1:] > c[:-1] * (1 + RISE)))


def hidden_activations(m=400, iters=4000, n_h=4):
    """Part 2: the flower network with each of the lecture's seven hidden activations, from the
    same Xavier start: cost curves (figure, one panel per activation on shared axes, the other
    six in grey behind it), accuracy, final cost and the steps that raised J (table).

    Returns
    -------
    Part
        ``values["activations"]``: {hidden: {``accuracy``, ``cost``, ``rises``}}.
    """
    X, Y = flower(m, seed=DATA_SEED)
    runs = {h: fit(X, Y, n_h=n_h, hidden=h, iterations=iters, lr=LR, seed=NET_SEED,
                   method="xavier", backend=_TRAIN) for h in _FORMULA}
    got = {h: {"accuracy": _acc(r.params, X, Y, h), "cost": float(r.costs[-1]),
               "rises": _rises(r.costs)} for h, r in runs.items()}
    fig, axes = subplots(2, 4, figsize=(13, 5.6), sharex=True, sharey=True, layout="constrained")
    for ax, h in zip(axes.flat, runs):
        for other, r in runs.items():
            if other != h:
                ax.plot(r.costs, color="#cccccc", lw=0.6)
        ax.plot(runs[h].costs, color=_COL[h], lw=1.2)
        ax.set_title(f"{h}: {100 * got[h]['accuracy']:.1f} %", fontsize=10)
        ax.grid(alpha=0.3)
    axes.flat[-1].set_visible(False)
    ax0 = axes.flat[0]
    ax0.set(yscale="log")
    plain_log_y(ax0)
    for ax in axes[:, 0]:
        ax.set_ylabel("cost J (log scale)")
    for ax in axes[-1]:
        ax.set_xlabel("iteration")
    axes[0, -1].set_xlabel("iteration")  # the hidden panel below it leaves this one the last
    axes[0, -1].xaxis.set_tick_params(labelbottom=True)
    fig.suptitle(f"Hidden activation on the flower, n_h = {n_h}, Xavier start, lr = {LR}: "
                 "one panel each (title: accuracy), the other six in grey")
    rows = [f"| {h} | {f} | {100 * got[h]['accuracy']:.1f} % | {got[h]['cost']:.4f} | "
            f"{got[h]['rises']:,} |" for h, f in _FORMULA.items()]
    return Part("All seven hidden activations", [
        f"All seven hidden activations of the lecture, n_h = {n_h}, each from the same Xavier "
        f"start ({start('xavier')}; tiny randn · 0.01 weights stall ReLU, whose gradient "
        f"vanishes with its input), {iters:,} steps at lr = {LR}. One panel per activation, "
        "all on the same axes; the other six curves are drawn in grey behind each. A cost that "
        "goes up and down from one step to the next draws as a band; the table counts its "
        "rises:",
        ("flower_activations.png", fig),
        "| hidden | g(z) | accuracy | final cost | steps that raised J by over "
        f"{100 * RISE:g} % |\n|---|---|---|---|---|\n" + "\n".join(rows),
        _activations_text(got, iters)], {"activations": got})


def _activations_text(got, iters):
    """Part 2's sentence on the activations' table: which costs rose (the step overshot) and
    which descended without a rise, from the counts. The words follow the numbers."""
    up = [h for h in got if got[h]["rises"]]
    down = [h for h in got if not got[h]["rises"]]
    out = ["A linear hidden layer is no better than logistic regression (part 5); maxout has "
           "two weight sets per unit."]
    if up:
        counts = _listed([f"{got[h]['rises']:,}" for h in up])
        out.append(f"The cost of {_listed(up)} rose by over {100 * RISE:g} % in {counts} of "
                   f"the {iters:,} steps: a step that raises J overshot, lr = {LR} is too "
                   "large for " + ("it" if len(up) == 1 else "them") + " here.")
    if down:
        out.append(f"{_listed(down)[0].upper()}{_listed(down)[1:]} descended without such a "
                   "rise.")
    return " ".join(out)


# ---- parts 3 to 6 ----------------------------------------------------------------------------

def _trajectory(X, Y, params, steps, hidden="sigmoid"):
    rows = [params["W1"].copy()]
    for _ in range(steps):
        params = fit(X, Y, params=params, hidden=hidden, iterations=1, lr=LR,
                     backend=_TRAIN).params
        rows.append(params["W1"].copy())
    return np.array(rows), params


def zero_init(m=400, steps=300, seed=0):
    """Part 3: each hidden unit's first weight through ``steps`` steps of training (sigmoid
    hidden units, n_h = 4), from W1 = 0 and from randn · 0.01 (``default_rng(seed)``)."""
    X, Y = flower(m, seed=DATA_SEED)
    Xu, Yu = X[:, : int(m * 0.75)], Y[:, : int(m * 0.75)]  # unbalanced
    zero, pz = _trajectory(Xu, Yu, init_params(2, 4, 1, method="zeros"), steps)
    rand, pr = _trajectory(Xu, Yu, init_params(2, 4, 1, method="random", seed=seed), steps)
    fig, axes = subplots(1, 2, figsize=(11, 3.8), layout="constrained")
    for ax, traj, title in ((axes[0], zero, "W1 = 0: the four units are one line"),
                            (axes[1], rand, "W1 = randn · 0.01: four different lines")):
        for j in range(traj.shape[1]):
            ax.plot(traj[:, j, 0], label=f"unit {j + 1}", ls=("-", "--", ":", "-.")[j % 4])
        ax.set(title=title, xlabel="iteration", ylabel="W1[j, 0], first weight of unit j")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    spread_z = float(np.max(np.ptp(pz["W1"], axis=0)))
    spread_r = float(np.max(np.ptp(pr["W1"], axis=0)))
    return Part("Zero initialisation cannot break the symmetry", [
        ("zero_init.png", fig),
        f"The first {int(m * 0.75)} of the {m} flower points (more of one class than the "
        f"other), {steps} iterations, sigmoid hidden units, n_h = 4, lr = {LR}. After them the "
        f"largest difference between hidden units' weights is {spread_z:.3g} from W1 = 0 "
        f"({start('zeros')}) — the four lines are one — and {spread_r:.3g} from "
        f"{start(seed=seed)}."], {"spread_zero": spread_z, "spread_random": spread_r})


#: Part 4: the cost a start must fall below to count as having descended (a coin toss is
#: ln 2 ≈ 0.693; part 2's tanh network ends near 0.19).
REACH = 0.3


def _check_scales(scales):
    """``scales`` as a tuple of floats: at least two, positive, finite, increasing."""
    if isinstance(scales, (str, bytes)) or not hasattr(scales, "__iter__"):
        raise TypeError(f"scales must be a sequence of numbers, got {scales!r}")
    try:
        s = tuple(float(x) for x in scales)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"scales must be numbers, got {scales!r}") from exc
    if len(s) < 2 or not all(np.isfinite(x) and x > 0 for x in s) or list(s) != sorted(set(s)):
        raise ValueError(f"scales must be at least two positive, finite, increasing numbers "
                         f"(the first is the one the others are compared with), got {scales!r}")
    return s


def _traced(X, Y, P, iters):
    """The lecture's loop (:func:`fastnn.backends._descent.loop`, which :func:`fastnn.fit` runs
    where a backend has no fused run) over ``_TRAIN``'s step, tanh hidden layer, from ``P``,
    recording the gradient that reaches W1 at each step.

    Returns
    -------
    (params, costs, dW1) : dict, ndarray (iters,), ndarray (iters,)
        The trained W1, b1, W2, b2; J before each update; ‖dW1‖ (Frobenius) at each step.
    """
    step = get_backend(_TRAIN).impl.cost_and_grads
    P, X, Y, _ = prepare(P, X, Y, "tanh", "sigmoid")
    norms = []

    def recorded(*args):
        J, grads = step(*args)
        norms.append(float(np.linalg.norm(grads["dW1"])))
        return J, grads

    P, costs, _ = loop(recorded, P, X, Y, "tanh", "sigmoid", LR, iters, PARAM_NAMES)
    return P, costs, np.array(norms)


def _first_below(costs, level):
    """The first iteration whose cost J is below ``level``, or None."""
    below = np.flatnonzero(np.asarray(costs) < level)
    return int(below[0]) if below.size else None


def init_scale(m=400, iters=4000, scales=(0.01, 10.0, 100.0), seed=1):
    """Part 4: W1 = randn · s for each ``s`` of ``scales`` (W2 stays randn · 0.01, so only the
    hidden layer saturates), the tanh network, n_h = 4: the cost and the gradient that reaches
    W1, ‖dW1‖, at every iteration (figure, both on log axes), and a table.

    Every start has the same direction (one ``default_rng(seed)`` draw, W1 multiplied up), so
    the rows differ only by the scale. Every later start is compared with the first.

    Parameters
    ----------
    scales : sequence of float
        At least two, positive and increasing; the first is the small start of the lecture.

    Returns
    -------
    Part
        ``values["rows"]``: one dict per scale: ``scale``, ``saturated`` (fraction of the
        hidden z beyond ±5 at the start), ``dg`` (mean tanh'(z) at the start), ``dW1_start``,
        ``dW1_median`` (‖dW1‖ at the first step, median over every step), ``reach`` (first
        iteration with J < :data:`REACH`, or None), ``cost_at``, ``cost``, ``accuracy``.

    Raises
    ------
    TypeError, ValueError
        ``scales`` not a sequence of at least two positive, finite, increasing numbers.
    """
    scales = _check_scales(scales)
    X, Y = flower(m, seed=DATA_SEED)
    fig, (ax, axg) = subplots(1, 2, figsize=(11, 3.9), layout="constrained")
    pal = list(_COL.values())
    at = min(100, iters - 1)
    rows = []
    for i, scale in enumerate(scales):
        P = init_params(2, 4, 1, scale=0.01, seed=seed)
        P["W1"] = P["W1"] * (scale / 0.01)
        Z1 = P["W1"] @ X + P["b1"]
        A1 = ACTIVATIONS["tanh"].g(Z1)
        trained, costs, dW1 = _traced(X, Y, P, iters)
        row = {"scale": scale, "saturated": float(np.mean(np.abs(Z1) > 5)),
               # mean tanh'(z) = 1 − A1²: the factor on every hidden-layer gradient
               "dg": float(np.mean(1.0 - A1 * A1)),
               "dW1_start": float(dW1[0]), "dW1_median": float(np.median(dW1)),
               "reach": _first_below(costs, REACH), "cost_at": float(costs[at]),
               "cost": float(costs[-1]), "accuracy": _acc(trained, X, Y, "tanh")}
        rows.append(row)
        label = f"W1 = randn · {scale:g}: {100 * row['saturated']:.0f} % of |z| > 5"
        ax.plot(costs, color=pal[i % len(pal)], label=label)
        axg.plot(np.arange(1, iters + 1), dW1, color=pal[i % len(pal)], lw=1, label=label)
    ax.axhline(REACH, color="grey", lw=0.8, ls=":")
    ax.set(yscale="log", xlabel="iteration", ylabel="cost J (log scale)",
           title=f"The cost (dotted: J = {REACH:g})")
    plain_log_y(ax)
    # log x: the first steps, where the starts differ most, get as much room as the last ones
    axg.set(xscale="log", yscale="log", xlabel="iteration + 1 (log scale)",
            ylabel="‖dW1‖ (log scale)", title="The gradient that reaches W1, ‖dW1‖")
    for a in (ax, axg):
        a.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.suptitle("Initial scale of W1 (W2 = randn · 0.01 in every start)")
    return Part("Initialisation scale", [
        ("init_scale.png", fig),
        f"The tanh network of part 2 (n_h = 4, {iters:,} steps, lr = {LR}) from another start: "
        f"W1, W2 = randn · 0.01 (`default_rng({seed})`, not part 2's `default_rng({NET_SEED})`,"
        " so the first row's numbers differ from part 2's), then W1 multiplied up to each "
        "scale, the same directions each time; b = 0.",
        _scale_table(rows, at, iters), _scale_text(rows, iters)], {"rows": rows})


def _scale_table(rows, at, iters):
    """Part 4's table, one row per start."""
    out = []
    for r in rows:
        reach = f"{r['reach']:,}" if r["reach"] is not None else f"not in {iters:,}"
        out.append(f"| randn · {r['scale']:g} | {100 * r['saturated']:.1f} % | {r['dg']:.3f} | "
                   f"{r['dW1_start']:.2g} | {r['dW1_median']:.2g} | {reach} | "
                   f"{r['cost_at']:.4f} | {r['cost']:.4f} | {100 * r['accuracy']:.1f} % |")
    return ("| W1 at start | hidden z beyond ±5 | mean tanh'(z) at start | ‖dW1‖ at start | "
            f"‖dW1‖, median of {iters:,} steps | first iteration with J < {REACH:g} | cost at "
            f"iteration {at} | final cost | accuracy |\n"
            "|---|---|---|---|---|---|---|---|---|\n" + "\n".join(out))


def _slower(r, first):
    """Whether start ``r`` descended slower than ``first``: it reached :data:`REACH` later, or
    not at all where ``first`` did."""
    if r["reach"] is None:
        return first["reach"] is not None
    return first["reach"] is not None and r["reach"] > first["reach"]


def _scale_text(rows, iters):
    """Part 4's sentences, from its rows (:func:`init_scale`): how much smaller the gradient
    reaching W1 is from each large start than from the first, and from which of them the cost
    descended slower (:func:`_slower`). The words follow the numbers."""
    first, big = rows[0], rows[1:]

    def name(r):
        return f"randn · {r['scale']:g}"

    def when(r):
        return (f"first below {REACH:g} at iteration {r['reach']:,}" if r["reach"] is not None
                else f"never below {REACH:g} in {iters:,} iterations")

    def ratio(r, key):
        return _times(first[key] / r[key], "smaller", "larger")

    grads = "; ".join(f"{ratio(r, 'dW1_start')} at the first step and {ratio(r, 'dW1_median')}"
                      f" over the {iters:,} steps (median) from {name(r)}" for r in big)
    out = ["Large weights saturate the hidden units, and every hidden-layer gradient is scaled "
           "by tanh'(z) = 1 − A1² (dZ1 = W2ᵀ dZ2 ⊙ (1 − A1²)). Against "
           f"{name(first)}, the gradient that reaches W1 (right panel) is {grads}."]
    slow = [r for r in big if _slower(r, first)]
    for r in slow:
        out.append(f"From {name(r)} the cost descends slower too: it is {when(r)} "
                   f"({name(first)}: {when(first)}) and ends at {r['cost']:.4f}, "
                   f"accuracy {100 * r['accuracy']:.1f} % (against {first['cost']:.4f}, "
                   f"{100 * first['accuracy']:.1f} %).")
    for r in (r for r in big if r not in slow):
        than = ("like" if r["reach"] is None else "as soon as" if r["reach"] == first["reach"]
                else "sooner than")
        what = ("saturation slows the hidden layer's gradient, not the cost"
                if r["dW1_median"] < first["dW1_median"] else "the cost is not slowed")
        out.append(f"From {name(r)} the cost is {when(r)}, "
                   f"{than} from {name(first)} "
                   f"({when(first)}): there {what}.")
    if len(slow) < len(big):
        out.append("The output layer's gradient, dW2 = (1/m) dZ2 A1ᵀ, carries no tanh'(z): it "
                   "learns on saturated, nearly ±1 hidden units as logistic regression learns on "
                   "fixed features, and that can lower the cost early.")
    if not slow:
        out.append("The measured effect is on the hidden layer's gradient only: from none of "
                   "these starts did the cost descend slower.")
    return " ".join(out)


def linear_hidden(m=400, iters=4000, n_h=4):
    """Part 5: a linear hidden layer against logistic regression and a tanh hidden layer, from
    the same start: boundaries (figure), accuracy and cost."""
    X, Y = flower(m, seed=DATA_SEED)
    lin = fit(X, Y, n_h=n_h, hidden="linear", iterations=iters, lr=LR, seed=NET_SEED,
              backend=_TRAIN)
    logit = fit_logistic(X, Y, iterations=iters, lr=LR, backend=_TRAIN)
    tanh = fit(X, Y, n_h=n_h, iterations=iters, lr=LR, seed=NET_SEED, backend=_TRAIN)
    a = [_acc(lin.params, X, Y, "linear"), _acc(logit.params, X, Y, "linear"),
         _acc(tanh.params, X, Y, "tanh")]
    fig, axes = subplots(1, 2, figsize=(10, 4.3), layout="constrained")
    _boundary(axes[0], lin.params, X, Y, "linear", f"linear hidden layer: {100 * a[0]:.1f} %")
    _boundary(axes[1], tanh.params, X, Y, "tanh", f"tanh hidden layer: {100 * a[2]:.1f} %")
    _boundary_legend(fig, axes[1])
    return Part("A linear hidden layer is useless", [
        ("linear_hidden.png", fig),
        "With g(z) = z the network is W2(W1x + b1) + b2, one linear map: its boundary is a "
        f"straight line. Both networks: n_h = {n_h}, from {start()}, {iters:,} steps, lr = "
        f"{LR} (the tanh one is part 2's); logistic regression from w = 0. Accuracy: linear "
        f"hidden {100 * a[0]:.1f} %, logistic regression {100 * a[1]:.1f} %, tanh hidden "
        f"{100 * a[2]:.1f} %. Final cost: {lin.costs[-1]:.4f} (linear hidden) vs "
        f"{logit.costs[-1]:.4f} (logistic regression)."])


def logistic_from_zero(m=400, iters=4000, seed=0):
    """Part 6: logistic regression from w = 0 on nearly separable data (``default_rng(seed)``)."""
    rng = np.random.default_rng(seed)
    Xs = rng.standard_normal((2, m))
    Ys = (Xs[0] - 0.7 * Xs[1] + 0.3 * rng.standard_normal(m) > 0).astype(float)[None]
    r = fit_logistic(Xs, Ys, iterations=iters, lr=LR, backend=_TRAIN)
    fig, ax = subplots(figsize=(6, 3.6), layout="constrained")
    ax.plot(r.costs, color=_COL["logistic"])
    ax.set(yscale="log", xlabel="iteration", ylabel="cost J (log scale)",
           title="Logistic regression from w = 0")
    plain_log_y(ax)
    ax.grid(alpha=0.3)
    return Part("Logistic regression may start at w = 0", [
        ("logistic_from_zero.png", fig),
        f"On linearly separable-ish data ({m} Gaussian points, `default_rng({seed})`, labelled "
        f"by a line plus noise), from w = 0, b = 0, lr = {LR}, the cost falls from "
        f"{r.costs[0]:.4f} (= ln 2) to {r.costs[-1]:.4f}, accuracy "
        f"{100 * _acc(r.params, Xs, Ys, 'linear'):.1f} %: with no hidden layer there is no "
        "symmetry to break."])


# ---- part 7 ----------------------------------------------------------------------------------

def _time_fit(X, Y, P, steps, backend, *, budget, cap=None):
    """Time a ``steps``-step training from ``P`` on ``backend``; a per-example backend (seconds
    per step) runs a shorter run of about ``budget`` seconds, at most ``cap`` steps, scaled up.

    Returns
    -------
    dict
        ``result`` (the :class:`FitResult` of the timed run), ``n`` (its steps), ``dt`` (its
        time, s), ``total`` (the time for ``steps``, s: ``dt · steps / n``) and ``first`` (the
        untimed 1-step call before it, s: for a jit backend, its compile).
    """
    be = get_backend(backend)
    t0 = time.perf_counter()
    fit(X, Y, params=P, iterations=1, lr=LR, backend=be.name)  # compile / warm up, not timed
    first = time.perf_counter() - t0
    n = steps
    if be.per_example:
        t0 = time.perf_counter()
        fit(X, Y, params=P, iterations=10, lr=LR, backend=be.name)
        per = (time.perf_counter() - t0) / 10
        n = max(10, min(cap or steps, steps, int(budget / per)))
    t0 = time.perf_counter()
    result = fit(X, Y, params=P, iterations=n, lr=LR, backend=be.name)
    dt = time.perf_counter() - t0
    return {"result": result, "n": n, "dt": dt, "total": dt * steps / n, "first": first}


def step_times(ms=MS, budget=1.5, reuse=None):
    """Part 7: one training step's cost and gradients (n_h = 4) on every backend at each m of
    ``ms``, by the harness's own method (:func:`fastnn.bench.cell.run_cell`), as a figure, the
    registry's comparisons at the largest m, and where the vectorised form overtakes the
    per-example loop (:func:`_overtakes`).

    ``reuse``: part 2's :func:`inplace_sweep` ``values``; where its verdict at this figure's
    largest m differs from this figure's, a sentence says so (:func:`_against_sweep`)."""
    cells, _ = grid.cells("quick", backends=list(BACKENDS), ops=["cost_and_grads"], m=list(ms),
                          n_h=[4])
    det = contention.Detector()
    det.calibrate()
    done = {}
    for c in cells:
        done[c.key] = cell.run_cell(c, budget, done, det)
    busy = [r for r in done.values() if r.get("disturbed")]
    shape = f"n_x = {cells[0].n_x}, n_h = {cells[0].n_h}, {cells[0].hidden}"
    fig, ax = subplots(figsize=(6, 4), layout="constrained")
    col = colours(BACKENDS)
    t = {}
    for b in BACKENDS:
        rs = [r for r in done.values() if r["backend"] == b and r["status"] == "ok"]
        t[b] = {r["m"]: r["median_s"] for r in rs}
        ax.plot(list(t[b]), list(t[b].values()), "o-", color=col[b], label=b, ms=4)
    ax.set(xscale="log", yscale="log", xlabel="m (examples)",
           ylabel="time of one step's cost and gradients (s)",
           title=f"One training step's forward and backward pass\n({shape})")
    ax.grid(alpha=0.3)
    ax.legend()
    lines = []
    for a, b in comparisons(BACKENDS):
        common = sorted(set(t[a]) & set(t[b]))
        if common:
            m = common[-1]
            lines.append(f"- At m = {m:,}: `{b}` is {_times(t[a][m] / t[b][m])} than `{a}` "
                         f"({_secs(t[b][m])} vs {_secs(t[a][m])}).")
    if busy:
        lines.append(f"- {len(busy)} of these cells were measured while other programs were "
                     "using the processor; their times are less reliable.")
    lines.append(_against_sweep(t, reuse))
    return Part("Why vectorisation matters", [
        f"One training step's cost and gradients ({shape}, a sigmoid output) on every backend, "
        f"at m = {_listed([f'{m:,}' for m in ms])} examples, measured now:",
        ("vectorisation.png", fig), "\n".join(ln for ln in lines if ln), _overtakes(t),
        "(Timings from `fastnn.bench.cell.run_cell`, the harness's own method: median of "
        "calibrated samples, checked against numpy first.)"], {"times": t})


def _against_sweep(t, reuse):
    """A list item for part 7 where the reuser against its baseline at the figure's largest m
    (``t`` {backend: {m: s}}) is on the other side of 1 from part 2's sweep at the same m
    (``reuse``, :func:`inplace_sweep`'s values); "" where they agree or were not both measured."""
    if not reuse or not reuse.get("sweep"):
        return ""
    a, b = reuse["pair"]
    common = sorted(set(t.get(a, {})) & set(t.get(b, {})))
    swept = {s["m"]: s["times"][a] / s["times"][b] for s in reuse["sweep"]}
    if not common or common[-1] not in swept:
        return ""
    m = common[-1]
    here, there = t[a][m] / t[b][m], swept[m]
    if (here >= 1) == (there >= 1):
        return ""
    return (f"- At m = {m:,} part 2's sweep found `{b}` {_times(there)} than `{a}`, this figure "
            f"{_times(here)}: the two measurements disagree (the sweep times the two in turn "
            "and keeps each side's fastest round; this figure times each cell on its own and "
            "keeps its median).")


def _overtakes(t):
    """Part 7's sentence on the smallest m (``t`` {backend: {m: s}}): for each registry
    comparison of a per-example loop with the vectorised NumPy form, which is faster there and
    from which m the vectorised form is faster at every m measured. The words follow the
    numbers."""
    out = []
    for a, b in comparisons(BACKENDS):
        if not get_backend(a).per_example or get_backend(b).per_example or get_backend(b).jit:
            continue
        ms = sorted(set(t.get(a, {})) & set(t.get(b, {})))
        if not ms:
            continue
        m0 = ms[0]
        wins = [m for m in ms if t[b][m] < t[a][m]]
        after = [m for m in ms if all(t[b][k] < t[a][k] for k in ms if k >= m)]
        if t[a][m0] <= t[b][m0]:
            s = (f"At m = {m0:,} the loop beats NumPy's matrix form: `{a}` ({_secs(t[a][m0])}) is "
                 f"{_times(t[b][m0] / t[a][m0])} than `{b}` ({_secs(t[b][m0])}). With "
                 f"{'one example' if m0 == 1 else f'{m0:,} examples'} a step is a few dozen "
                 f"multiplications, fewer than the fixed costs of `{b}`'s NumPy calls (each "
                 "checks its arguments and allocates its result, whatever their size): the "
                 "lecture's point in miniature. ")
            s += (f"From m = {after[0]:,} on, `{b}` is faster." if after else
                  f"`{b}` is faster only at m = {_listed([f'{m:,}' for m in wins])}." if wins
                  else f"`{b}` is faster at no m measured.")
        else:
            s = (f"Already at m = {m0:,}, `{b}` ({_secs(t[b][m0])}) is "
                 f"{_times(t[a][m0] / t[b][m0])} than `{a}` ({_secs(t[a][m0])})"
                 + ("." if after and after[0] == m0 else
                    f", though not at every larger m measured (at m = "
                    f"{_listed([f'{m:,}' for m in ms if m not in wins])} it is slower)."))
        out.append(s)
    return " ".join(out)


#: Where part 7's ladder is read from: the performance report's own run of the targets grid.
LADDER_FROM = os.path.join("reports", "targets")


def ladder(folder=LADDER_FROM):
    """Part 7's ladder: the training step's speed-up rung by rung (python → numpy-loop → numpy →
    numpy-inplace → numba on one thread → numba on all cores), read from the ``targets`` run in
    ``folder`` — the same comparisons and figure as the performance report
    (:func:`fastnn.bench.ladder.summary`), not a second timing."""
    doc = paired_.load(folder) if os.path.isdir(folder) else None
    entries = doc.ladder if doc else []
    sums = [ladder_.summary(entries, s) for s in ladder_.shapes(entries)]
    if not sums:
        return Part("The speed-up, rung by rung", [
            "### The speed-up, rung by rung", f"_No ladder in `{folder}` yet: `fastnn bench "
            f"--grid targets --out {folder}` measures it (about 20 minutes)._"])
    report = os.path.relpath(os.path.join(folder, "index.md"), os.path.join("reports", "lecture"))
    blocks = ["### The speed-up, rung by rung", ("ladder.png", ladder_figure(sums, colours())),
              f"From the performance report's own run ([its report]({report}), which gives "
              "every number below with its notes). Every rung was timed in the same rounds, "
              "so each factor is the ratio of two rungs' times over those rounds (95 % "
              "interval; *wide*: it reaches beyond ±10 %, see the report; *cases*: one factor "
              "per memory case of NumPy's fresh temporaries, fastest first) and the factors "
              "multiply to the whole speed-up. Every rung runs on one thread except the last; "
              "the per-example loops (hatched) ran at a smaller m, their time scaled to m."]
    def factor(f):  # as the report's ladder table: each memory case of NumPy's rung, if any
        cases = paired_.cases_of(entries, f) if "cases" in f.flags else []
        if cases:
            return " or ".join(fmt.speed(k.ratio, k.lo, k.hi) for k in cases) + " *cases*"
        return fmt.speed(f.ratio, f.lo, f.hi) + (" *wide*" if "wide" in f.flags else "")

    for s in sums:
        rows = [f"| {plotting_rung(r['backend'], r['threads'])} | {fmt.seconds(r['t_s'])} | "
                + (factor(f) if f else "–")
                + f" | {(factor_adds(f) if f else '').split(':')[0]} |"
                for r, f in zip(s["rungs"], [None] + s["factors"])]
        blocks.append(f"**{fmt.shape(*s['shape'])}** (n_x, n_h, m): "
                      f"{fmt.ratio(s['product'])} from the first rung to the last.\n\n"
                      "| rung | time per step | factor | what it adds |\n|---|---|---|---|\n"
                      + "\n".join(rows))
    head = next((c for c in doc.pairs if c.kind == "pair" and not c.case
                 and c.baseline == "numpy" and c.contender == HEADLINE and c.n_x == 2
                 and c.op == "cost_and_grads" and c.dtype == "float64"
                 and c.shape == max(sums, key=lambda x: -x["shape"][1])["shape"]), None)
    if head:
        blocks.append(f"The speed-up grows with m: the step figure above stops at m = "
                      f"{MS[-1]:,}; at {fmt.shape(*head.shape)} the report measures "
                      f"{HEADLINE} {fmt.faster(head.ratio, head.lo, head.hi)} than numpy on all "
                      "cores (its first screen).")
    return Part("The speed-up, rung by rung", blocks, {"ladder": sums})


def _loop_pairs():
    """The registry's comparisons of one per-example loop with another: (plain, vectors)."""
    return [(a, b) for a, b in comparisons(BACKENDS)
            if get_backend(a).per_example and get_backend(b).per_example]


def _crossover(times):
    """Sentences on part 2's hidden-size table (``times`` {n_h: {backend: s}}): where each
    per-example loop over NumPy vectors catches the plain-Python loop up."""
    out = []
    for a, b in _loop_pairs():
        sizes = [n for n in times if a in times[n] and b in times[n]]
        if not sizes:
            continue
        r = {n: times[n][b] / times[n][a] for n in sizes}  # > 1: b slower
        grow = lambda x: times[sizes[-1]][x] / times[sizes[0]][x]  # noqa: E731
        wins = [n for n in sizes if r[n] < 1]
        slow = [n for n in sizes if r[n] >= 1]
        shown = sorted({sizes[0], *(slow[-1:]), *(wins[:1])})
        each = _listed([f"{_times(1 / r[n])} at n_h = {n}" for n in shown])
        end = (f"it is faster from n_h = {wins[0]}" if wins and all(r[n] < 1 for n in sizes
                                                                     if n >= wins[0])
               else f"it is faster at n_h = {_listed([str(n) for n in wins])}" if wins
               else "it is slower at every n_h measured")
        out.append(f"Part 2's hidden-size table shows what happens as the vectors grow: `{b}` "
                   f"is {each} than `{a}`; {end}. From n_h = {sizes[0]} to {sizes[-1]} "
                   f"`{a}`'s time is multiplied by {grow(a):.2g}, `{b}`'s by {grow(b):.2g}: "
                   f"`{a}`'s arithmetic grows with n_h, while `{b}` makes the same number of "
                   "NumPy calls, each on a longer vector.")
    return " ".join(out)


#: The lecture's loop next to its matrix form, for the page.
CODE = ("```python\n# for i = 1 to m  (the python backend)          # vectorised (numpy)\n"
        "for x, y in zip(X.T, Y.T):                        Z1 = W1 @ X + b1\n"
        "    z1 = [b + sum(w*xk for w, xk in zip(wj, x))   A1 = np.tanh(Z1)\n"
        "          for wj, b in zip(W1, b1)]                Z2 = W2 @ A1 + b2\n"
        "    a1 = [tanh(z) for z in z1]                     A2 = sigmoid(Z2)\n"
        "    ...                                            dZ2 = A2 - Y ...\n```")


def training_times(m=400, steps=10_000, budget=1.0, compile_times=True, sizes=None):
    """Part 7: the time to train the flower network (n_h = 4, tanh, lr 1.2, ``steps`` steps)
    on each backend; a per-example backend runs about ``budget`` seconds and is extrapolated.

    Parameters
    ----------
    compile_times : bool
        Also time a jit backend's first call in two fresh processes: compiling from an empty
        cache, then loading from Numba's cache (:func:`fastnn.bench.machine.compile_times`).
    sizes : dict, optional
        Part 2's :func:`hidden_sizes` ``values["times"]``, for a sentence on how the
        per-example loops compare as n_h grows.
    """
    X, Y = flower(m, seed=DATA_SEED)
    P = init_params(X.shape[0], 4, 1, seed=NET_SEED)
    rows, base, total = [], None, {}
    compiled = machine.compile_times("fit") if compile_times else {}
    for b in _trainable():
        be = get_backend(b)
        t = _time_fit(X, Y, P, steps, b, budget=budget)
        base = base or t["total"]
        total[b] = t["total"]
        how = ("the whole run" if t["n"] == steps else
               f"extrapolated from {t['n']:,} steps ({t['dt']:.2g} s) to {steps:,}")
        loop = "one compiled call" if be.fused_fit else "a Python loop over its step"
        first = "—"
        if be.jit:
            cold, cached = compiled.get("compile_cold_s"), compiled.get("compile_cached_s")
            first = (f"compile {cold:.3g} s; from cache {cached:.3g} s" if cold and cached
                     else f"{t['first']:.3g} s (compile or cache, this process)")
        speed = "1×" if base == t["total"] else _times(base / t["total"])
        rows.append(f"| `{b}` | {loop} | {t['total']:.3g} s | {speed} | {how} | {first} |")
    order = list(total)
    pairs = _loop_pairs()
    vs = "".join(f" At n_h = 4, `{b}` is {_times(total[a] / total[b])} than `{a}`: a NumPy "
                 "call on a 4-vector costs more than the Python arithmetic it replaces (each "
                 "call checks its arguments and allocates its result before it computes "
                 "four numbers), so the loop over examples, not the arithmetic, is the cost."
                 for a, b in pairs if a in total and b in total)
    jit = [b for b in order if get_backend(b).jit]
    cold_s = compiled.get("compile_cold_s")
    after = "".join(f" Counting its compile from an empty cache, `{b}`'s first training takes "
                    f"{cold_s + total[b]:.3g} s, "
                    f"{'more' if cold_s + total[b] > total[order[0]] else 'less'} than "
                    f"`{order[0]}`'s whole run ({total[order[0]]:.3g} s); every later process "
                    "loads the compiled code from Numba's on-disk cache."
                    for b in jit if cold_s)
    return Part("How long training takes", [
        f"Training the flower network of part 2 (m = {m}, n_h = 4, tanh, from {start()}, "
        f"lr = {LR}) for {steps:,} steps, measured now (the first call excluded from the time; "
        "a compiled backend's first call is in the last column, timed in fresh processes):",
        "| backend | training loop | time | against the first row | how | first call |\n"
        "|---|---|---|---|---|---|\n" + "\n".join(rows),
        (vs + after).strip(),
        _crossover(sizes) if sizes else "",
        f"The lecture's loop next to its matrix form:\n\n{CODE}"],
        {"times": total, "compile": compiled})


# ---- the page --------------------------------------------------------------------------------

def _joined(title, parts):
    """One page part of several :class:`Part` objects: their blocks and values, in order."""
    return Part(title, [b for p in parts for b in p.blocks],
                {k: v for p in parts for k, v in p.values.items()})


def lecture_parts(tiny=False, ladder_from=LADDER_FROM):
    """The page's seven parts as ``(name, make)`` pairs, at the page's sizes (``tiny``: seconds,
    for tests); part 7's ladder is read from ``ladder_from`` (:func:`ladder`)."""
    m, iters, steps = (120, 300, 60) if tiny else (400, 4000, 300)
    sizes = (1, 2, 4) if tiny else SIZES
    ms = (1, 10, 100) if tiny else MS
    kept = {}

    def flower_part():
        kept["sizes"] = hidden_sizes(m, iters, sizes, 0.02 if tiny else 0.25)
        kept["reuse"] = inplace_sweep(*(((100, 1000, 10_000), 4, 2, 0.002) if tiny else ()),
                                      table=kept["sizes"].values["times"], table_m=m)
        return _joined("The flower data set", [flower_boundaries(m, iters), kept["sizes"],
                                               kept["reuse"], hidden_activations(m, iters)])

    def vectorisation_part():
        steps_ = step_times(ms, 0.5 if tiny else 1.5, reuse=kept["reuse"].values)
        train = training_times(m, 200 if tiny else 10_000, 0.2 if tiny else 1.0,
                               sizes=kept["sizes"].values["times"])
        return _joined("Why vectorisation matters", [steps_, ladder(ladder_from), train])

    return [("activations", activations), ("flower", flower_part),
            ("zero init", lambda: zero_init(m, steps)),
            ("init scale", lambda: init_scale(m, iters)),
            ("linear hidden", lambda: linear_hidden(m, iters)),
            ("logistic", lambda: logistic_from_zero(m, iters)),
            ("vectorisation", vectorisation_part)]


#: The notebook beside the page: the same parts, one cell each.
NOTEBOOK = "lecture.ipynb"


def run_notebook(path=os.path.join("reports", "lecture", NOTEBOOK), *, timeout=None,
                 kernel="python3"):
    """Execute the lecture notebook in place: every cell in a fresh kernel, in order, with
    nbclient (the Jupyter project's executor); the notebook is saved with its outputs.

    The kernel imports the same fastnn as this process (its folder goes first on the kernel's
    ``PYTHONPATH``), so a source tree runs its own code.

    Parameters
    ----------
    path : str
        The notebook; its folder is the kernel's working directory.
    timeout : float, optional
        Seconds a cell may run before execution stops with an error (None: no limit).
    kernel : str
        The Jupyter kernel's name.

    Returns
    -------
    str
        ``path``.

    Raises
    ------
    ModuleNotFoundError
        Without nbclient and nbformat (``pip install fastnn[dev]``).
    nbclient.exceptions.CellExecutionError, nbclient.exceptions.CellTimeoutError
        When a cell raises, or runs over ``timeout``; the notebook is not written.
    """
    try:
        import nbformat
        from nbclient import NotebookClient
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError(f"executing the notebook needs nbclient, nbformat and "
                                  f"ipykernel (pip install fastnn[dev]): {exc}") from exc
    nb = nbformat.read(path, as_version=4)
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [here] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    folder = os.path.dirname(os.path.abspath(path))
    NotebookClient(nb, timeout=timeout, kernel_name=kernel,
                   resources={"metadata": {"path": folder}}).execute(env=env)
    write_atomic(path, nbformat.writes(nb) + "\n")
    return path


def run_demo(out="reports/lecture", *, tiny=False, progress=True):
    """Write the lecture page to ``out``. Returns the path of ``index.md``.

    ``progress``: a :class:`fastnn.bench.progress.Progress` (``fastnn demo`` gives it the words
    of :mod:`fastnn.report.console`), or a bool (True: each part's start and time as the
    event's code and numbers; False: silent)."""
    os.makedirs(out, exist_ok=True)
    parts = lecture_parts(tiny)
    texts = []
    prog = _progress(progress)
    for i, (name, make) in enumerate(parts, 1):
        with prog.phase(f"lecture demo, part {i} of {len(parts)}: {name}"):
            p = make()
            p.title = f"{i}. {p.title}"
            texts.append(p.markdown(out))
    cmd = "fastnn demo" + (" --tiny" if tiny else "") + f" --out {out}"
    head = ("# Basic neural networks, part 1 — the lecture's claims, measured\n\n"
            "The lecture builds a 2-layer network (input, one hidden layer, a sigmoid output) "
            "and makes seven points. This page shows each with a figure or a number fastnn "
            "computed when it ran: (1) the activation functions and their derivatives; (2) the "
            "flower data set, which logistic regression cannot learn and the network can, at "
            "each hidden size (with how long each training takes, and from which m reusing "
            "NumPy's work arrays pays) and with each activation; (3) zero initialisation cannot "
            "break the symmetry; (4) too large initial weights saturate tanh and shrink the "
            "gradient that reaches W1; (5) a linear hidden "
            "layer is no better than logistic regression; (6) logistic regression may start at "
            "w = 0; (7) why vectorisation matters, and how long training takes on each "
            "backend. Every training run names its start (initialisation and seed). "
            "The notebook `lecture.ipynb` beside this page runs the same parts cell by cell.\n")
    note = ("## About these numbers\n\n"
            f"Generated by `{cmd}`. Every number on this page was computed when it ran. "
            f"The trainings are seeded and run on the `{_TRAIN}` backend, which at n_x = 2 uses "
            "no BLAS, so parts 1–6 come out the same on any BLAS kernel (the `numpy` backend's "
            "products go through BLAS, whose kernels — picked per CPU, or by "
            "`OPENBLAS_CORETYPE` — round differently, and over thousands of steps ReLU's kink "
            "amplifies that into a different accuracy). A CPU with another SIMD width may sum "
            "in another order and move the last digits, most visibly in the ReLU rows. "
            "The timings of parts 2 and 7 vary between runs.\n")
    path = os.path.join(out, "index.md")
    text = head + "\n" + "\n".join(texts) + "\n" + note
    write_atomic(path, text)  # replaces a link named index.md; never writes through it
    # an earlier page's figures that this one does not show are removed (only files fastnn wrote)
    write_manifest(out, "demo", ["index.md"] + re.findall(r"\]\(([^)]+\.png)\)", text))
    return path
