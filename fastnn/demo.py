"""``fastnn demo``: every claim of the lecture, shown with a figure or a number measured now.

Writes ``index.md`` and PNG figures. Deterministic (seeded), except the timings of parts 2 and 7.
"""

from __future__ import annotations

import os
import re
import time

import numpy as np

from .activations import ACTIVATIONS, ELU_ALPHA, LEAKY_SLOPE
from .backends import BACKENDS, HEADLINE, comparisons, get_backend, names
from .bench import cell, contention, grid
from .bench.progress import Progress
from .bench.store import write_atomic, write_manifest
from .data import flower
from .init import init_params
from .plotting import save as _save, subplots
from .train import fit, fit_logistic, predict

_COL = {"tanh": "#0072B2", "sigmoid": "#E69F00", "relu": "#009E73", "linear": "#D55E00",
        "logistic": "#CC79A7", "leaky_relu": "#56B4E9", "elu": "#000000", "maxout": "#999999"}
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


def _acc(params, X, Y, hidden):
    return float(np.mean(predict(params, X, hidden=hidden, backend=_TRAIN) == Y))


def part_activations(out):
    z = np.linspace(-5, 5, 401)
    names = [n for n in ACTIVATIONS if n != "maxout"]
    fig, axes = subplots(2, 4, figsize=(14, 6))
    for ax, name in zip(axes.flat, names):
        a = ACTIVATIONS[name]
        A = a.g(z)
        ax.plot(z, A, color="#0072B2", label="g(z)")
        ax.plot(z, a.dg(z, A), color="#D55E00", ls="--", label="g'(z)")
        ax.set(title=name, xlabel="z")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    # maxout on a 1-D input: two pieces w·x + b, the unit outputs their max
    ax = axes.flat[len(names)]
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
    name = _save(fig, out, "activations.png")
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
    return (f"## 1. Activation functions\n\n![activations]({name})\n\nThe lecture's table, "
            f"computed by fastnn:\n\n{table}\n\nFor |z| = 10 the sigmoid and tanh derivatives "
            "are near 0 (gradient descent slows there); ReLU's stays 1 for every z ≥ 0.\n")


def _boundary(ax, params, X, Y, hidden, title):
    x0, x1 = np.meshgrid(np.linspace(X[0].min() - 1, X[0].max() + 1, 200),
                         np.linspace(X[1].min() - 1, X[1].max() + 1, 200))
    G = np.vstack([x0.ravel(), x1.ravel()])
    P = predict(params, G, hidden=hidden, backend=_TRAIN).reshape(x0.shape)
    ax.contourf(x0, x1, P, levels=[-0.5, 0.5, 1.5], colors=["#E69F00", "#56B4E9"], alpha=0.35)
    ax.scatter(X[0], X[1], c=np.where(Y[0] > 0.5, "#0072B2", "#D55E00"), s=6)
    ax.set(title=title, xlabel="x₁", ylabel="x₂")


def _trainable():
    """The network's own backends (registry order) that can train its tanh network here."""
    return [b for b in names(peers=False)
            if not get_backend(b).missing() and not get_backend(b).unsupported(hidden="tanh")]


def _secs(t):
    """A time for a table: ``0.626 ms``, ``1.23 s``, ``1,234 s``."""
    return f"{t * 1e3:.3g} ms" if t < 1 else f"{t:.3g} s" if t < 100 else f"{t:,.0f} s"


def _listed(items):
    return ", ".join(items[:-1]) + " and " + items[-1] if len(items) > 1 else "".join(items)


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
            ref = fit(X, Y, params=P, iterations=t["n"], backend=_TRAIN)
        d = _difference(t["result"], ref)
        if not d <= _RTOL:
            raise RuntimeError(f"`{b}` and `{_TRAIN}` trained different networks (n_h = {n_h}, "
                               f"{t['n']} steps): relative difference {d:.3g} > {_RTOL:g}")
        worst = max(worst, d)
    return worst


def _hidden_sizes(X, Y, iters, sizes, budget):
    """The lecture's hidden-size table: accuracy and final cost of each n_h (the ``_TRAIN`` runs)
    and how long each training took on every backend that can train it. Run before any other
    training of the demo, so the headline backend's first call is where it compiles."""
    backends = _trainable()
    rows, totals, worst, first = [], dict.fromkeys(backends, 0.0), 0.0, None
    for n_h in sizes:
        P = init_params(X.shape[0], n_h, Y.shape[0], seed=2)
        # a per-example run is always short (at most a tenth of the steps) and scaled up
        timed = {b: _time_fit(X, Y, P, iters, b, budget=budget, cap=max(10, iters // 10))
                 for b in backends}
        first = first or {b: t["first"] for b, t in timed.items() if get_backend(b).jit}
        worst = max(worst, _check_same(X, Y, P, timed, n_h))
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
    compiled = "".join(f" `{b}`'s first call, a 1-step run that compiles its kernels (or loads "
                       f"them from Numba's on-disk cache), took {_secs(t)} and is in no column."
                       for b, t in first.items())
    return ("| " + " | ".join(head) + " |\n|" + "---|" * len(head) + "\n" + "\n".join(rows) +
            f"\n\nAccuracy and final cost are the `{_TRAIN}` runs'. The other columns are how "
            f"long each {iters:,}-step training took, measured now: {_listed(full)} ran every "
            f"training in full; {_listed(short)}, which loop over the examples in Python, ran "
            "a shorter run of each (its steps in brackets) whose time is scaled to "
            f"{iters:,} steps — extrapolated, not measured in full.{compiled} Every backend's "
            f"trained W1, b1, W2, b2 equal `{_TRAIN}`'s after as many steps (largest difference "
            f"{worst:.2g} of the largest weight; the demo stops if one exceeds {_RTOL:g}).\n")


def part_flower(out, X, Y, iters, sizes, budget):
    table = _hidden_sizes(X, Y, iters, sizes, budget)
    logit = fit_logistic(X, Y, iterations=iters, backend=_TRAIN)
    net = fit(X, Y, n_h=4, iterations=iters, seed=2, backend=_TRAIN)
    acc_l, acc_n = _acc(logit.params, X, Y, "linear"), _acc(net.params, X, Y, "tanh")
    fig, axes = subplots(1, 2, figsize=(10, 4.3))
    _boundary(axes[0], logit.params, X, Y, "linear", f"logistic regression: {100 * acc_l:.1f} %")
    _boundary(axes[1], net.params, X, Y, "tanh", f"2-layer tanh, n_h = 4: {100 * acc_n:.1f} %")
    b = _save(fig, out, "flower_boundaries.png")
    fig, ax = subplots(figsize=(7, 4.2))
    acts = []
    for h, formula in _FORMULA.items():
        r = fit(X, Y, n_h=4, hidden=h, iterations=iters, seed=2, method="xavier", backend=_TRAIN)
        acc = 100 * _acc(r.params, X, Y, h)
        ax.plot(r.costs, color=_COL[h], label=f"{h}: {acc:.1f} %")
        acts.append(f"| {h} | {formula} | {acc:.1f} % | {r.costs[-1]:.4f} |")
    ax.set(yscale="log", xlabel="iteration", ylabel="cost J",
           title="Hidden activation on the flower, n_h = 4 (Xavier start)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    c = _save(fig, out, "flower_activations.png")
    return (f"## 2. The flower data set\n\n{X.shape[1]} points on the petals r = 4·sin(4t) "
            f"(`fastnn.flower`, seeded). {iters} gradient-descent iterations, lr = 1.2.\n\n"
            f"![boundaries]({b})\n\nLogistic regression reaches {100 * acc_l:.1f} % (no straight "
            f"line separates the petals); the 2-layer tanh network reaches {100 * acc_n:.1f} %."
            "\n\nThe lecture's hidden-size table, n_h = "
            f"{', '.join(map(str, sizes))}:\n\n{table}\nAll seven hidden activations of the lecture, each from the same Xavier start "
            "(tiny randn · 0.01 weights stall ReLU, whose gradient vanishes with its input), "
            f"n_h = 4:\n\n![activations]({c})\n\n| hidden | g(z) | accuracy | final cost |\n"
            "|---|---|---|---|\n" + "\n".join(acts) + "\n\nA linear hidden layer is no "
            "better than logistic regression (part 5); maxout has two weight sets per unit. "
            "The unbounded activations' costs jump up and back down all along: at lr = 1.2 "
            "their steps overshoot, where tanh and sigmoid, whose derivatives are at most 1 "
            "and 0.25, descend smoothly.\n")


def _trajectory(X, Y, params, steps, hidden="sigmoid", lr=1.2):
    rows = [params["W1"].copy()]
    for _ in range(steps):
        params = fit(X, Y, params=params, hidden=hidden, iterations=1, lr=lr,
                     backend=_TRAIN).params
        rows.append(params["W1"].copy())
    return np.array(rows), params


def part_zero_init(out, X, Y, steps):
    Xu, Yu = X[:, : int(X.shape[1] * 0.75)], Y[:, : int(X.shape[1] * 0.75)]  # unbalanced
    zero, pz = _trajectory(Xu, Yu, init_params(2, 4, 1, method="zeros"), steps)
    rand, pr = _trajectory(Xu, Yu, init_params(2, 4, 1, method="random", seed=0), steps)
    fig, axes = subplots(1, 2, figsize=(10, 3.8), sharey=False)
    for ax, traj, title in ((axes[0], zero, "W1 = 0"), (axes[1], rand, "W1 = randn · 0.01")):
        for j in range(traj.shape[1]):
            ax.plot(traj[:, j, 0], label=f"unit {j + 1}")
        ax.set(title=f"{title}: first weight of each hidden unit", xlabel="iteration",
               ylabel="W1[j, 0]")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    name = _save(fig, out, "zero_init.png")
    spread_z = float(np.max(np.ptp(pz["W1"], axis=0)))
    spread_r = float(np.max(np.ptp(pr["W1"], axis=0)))
    return (f"## 3. Zero initialisation cannot break the symmetry\n\n![zero init]({name})\n\n"
            f"After {steps} iterations (sigmoid hidden units) the largest difference between "
            f"hidden units' weights is {spread_z:.3g} from W1 = 0 — the four lines are one — and "
            f"{spread_r:.3g} from random·0.01.\n")


def part_scale(out, X, Y, iters):
    """randn·0.01 vs randn·10 for W1 (W2 stays ·0.01, so only the hidden layer saturates)."""
    fig, ax = subplots(figsize=(6, 3.8))
    rows = []
    for scale in (0.01, 10.0):
        P = init_params(2, 4, 1, scale=0.01, seed=1)
        P["W1"] = P["W1"] * (scale / 0.01)
        A1 = ACTIVATIONS["tanh"].g(P["W1"] @ X + P["b1"])
        sat = float(np.mean(np.abs(P["W1"] @ X + P["b1"]) > 5))
        flow = float(np.mean(1.0 - A1 * A1))  # mean tanh'(z): the factor on every hidden gradient
        r = fit(X, Y, params=P, iterations=iters, backend=_TRAIN)
        moved = float(np.linalg.norm(r.params["W1"] - P["W1"]) / np.linalg.norm(P["W1"]))
        ax.plot(r.costs, label=f"W1 = randn · {scale:g}: {100 * sat:.0f} % of |z| > 5")
        rows.append(f"| randn · {scale:g} | {100 * sat:.1f} % | {flow:.3f} | {moved:.3g} | "
                    f"{r.costs[min(100, iters - 1)]:.4f} | {r.costs[-1]:.4f} | "
                    f"{100 * _acc(r.params, X, Y, 'tanh'):.1f} % |")
    ax.set(yscale="log", xlabel="iteration", ylabel="cost J",
           title="Initial scale of W1 (W2 = randn · 0.01 in both)")
    ax.grid(alpha=0.3)
    ax.legend()
    name = _save(fig, out, "init_scale.png")
    return (f"## 4. Initialisation scale\n\n![scale]({name})\n\n"
            "| W1 at start | hidden z beyond ±5 | mean tanh'(z) at start | ‖ΔW1‖ / ‖W1‖ after training "
            f"| cost at iteration {min(100, iters - 1)} | final cost | accuracy |\n"
            "|---|---|---|---|---|---|---|\n" + "\n".join(rows) +
            "\n\nLarge weights saturate the hidden units: every hidden-layer gradient is scaled "
            "by tanh'(z), so W1 moves far less relative to its size (column 4) and the hidden "
            "layer stops learning features; the output layer still learns on the (nearly binary) "
            "saturated units, which is why the early cost can fall quickly while the final cost "
            "and accuracy are what the table shows.\n")


def part_linear(out, X, Y, iters):
    lin = fit(X, Y, n_h=4, hidden="linear", iterations=iters, seed=2, backend=_TRAIN)
    logit = fit_logistic(X, Y, iterations=iters, backend=_TRAIN)
    tanh = fit(X, Y, n_h=4, iterations=iters, seed=2, backend=_TRAIN)
    a = [_acc(lin.params, X, Y, "linear"), _acc(logit.params, X, Y, "linear"),
         _acc(tanh.params, X, Y, "tanh")]
    fig, axes = subplots(1, 2, figsize=(10, 4.3))
    _boundary(axes[0], lin.params, X, Y, "linear", f"linear hidden layer: {100 * a[0]:.1f} %")
    _boundary(axes[1], tanh.params, X, Y, "tanh", f"tanh hidden layer: {100 * a[2]:.1f} %")
    name = _save(fig, out, "linear_hidden.png")
    return (f"## 5. A linear hidden layer is useless\n\n![linear]({name})\n\nWith g(z) = z the "
            "network is W2(W1x + b1) + b2, one linear map: its boundary is a straight line. "
            f"Accuracy: linear hidden {100 * a[0]:.1f} %, logistic regression {100 * a[1]:.1f} %, "
            f"tanh hidden {100 * a[2]:.1f} %. Final cost: {lin.costs[-1]:.4f} (linear hidden) vs "
            f"{logit.costs[-1]:.4f} (logistic regression).\n")


def part_logistic(out, X, Y, iters):
    rng = np.random.default_rng(0)
    Xs = rng.standard_normal((2, 400))
    Ys = (Xs[0] - 0.7 * Xs[1] + 0.3 * rng.standard_normal(400) > 0).astype(float)[None]
    r = fit_logistic(Xs, Ys, iterations=iters, backend=_TRAIN)
    fig, ax = subplots(figsize=(6, 3.6))
    ax.plot(r.costs, color=_COL["logistic"])
    ax.set(yscale="log", xlabel="iteration", ylabel="cost J",
           title="Logistic regression from w = 0")
    ax.grid(alpha=0.3)
    name = _save(fig, out, "logistic_from_zero.png")
    return (f"## 6. Logistic regression may start at w = 0\n\n![logistic]({name})\n\nOn "
            "linearly separable-ish data (400 points) the cost falls from "
            f"{r.costs[0]:.4f} (= ln 2) to {r.costs[-1]:.4f}, accuracy "
            f"{100 * _acc(r.params, Xs, Ys, 'linear'):.1f} %: with no hidden layer there is no "
            "symmetry to break.\n")


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
    fit(X, Y, params=P, iterations=1, backend=be.name)  # compile / warm up, not in the time
    first = time.perf_counter() - t0
    n = steps
    if be.per_example:
        t0 = time.perf_counter()
        fit(X, Y, params=P, iterations=10, backend=be.name)
        per = (time.perf_counter() - t0) / 10
        n = max(10, min(cap or steps, steps, int(budget / per)))
    t0 = time.perf_counter()
    result = fit(X, Y, params=P, iterations=n, backend=be.name)
    dt = time.perf_counter() - t0
    return {"result": result, "n": n, "dt": dt, "total": dt * steps / n, "first": first}


def _training_times(X, Y, steps):
    """What a student feels: the time to train the flower network (n_h = 4, tanh, lr 1.2,
    ``steps`` steps) on each backend; slow backends run a shorter run and are extrapolated."""
    P = init_params(X.shape[0], 4, 1, seed=2)
    rows, base = [], None
    for b in _trainable():
        t = _time_fit(X, Y, P, steps, b, budget=1.0)
        base = base or t["total"]
        how = ("the whole run" if t["n"] == steps else
               f"extrapolated from {t['n']:,} steps ({t['dt']:.2g} s) × {steps / t['n']:,.0f}")
        loop = "one compiled call" if get_backend(b).fused_fit else "a Python loop over its step"
        rows.append(f"| `{b}` | {loop} | {t['total']:.3g} s | {base / t['total']:,.3g}× | {how} |")
    return (f"Training the flower network of part 2 (m = {X.shape[1]}, n_h = 4, tanh, lr = 1.2) "
            f"for {steps:,} steps, measured now (the first, compiling call excluded):\n\n"
            "| backend | training loop | time | speed-up over the first row | how |\n"
            "|---|---|---|---|---|\n" + "\n".join(rows) + "\n")


def part_vectorisation(out, ms, budget, X, Y, train_steps):
    cells, _ = grid.cells("quick", backends=list(BACKENDS), ops=["cost_and_grads"], m=list(ms),
                       n_h=[4])
    det = contention.Detector()
    det.calibrate()
    done = {}
    for c in cells:
        done[c.key] = cell.run_cell(c, budget, done, det)
    busy = [r for r in done.values() if r.get("disturbed")]
    fig, ax = subplots(figsize=(6, 4))
    t = {}
    for b in BACKENDS:
        rs = [r for r in done.values() if r["backend"] == b and r["status"] == "ok"]
        t[b] = {r["m"]: r["median_s"] for r in rs}
        ax.plot(list(t[b]), list(t[b].values()), "o-", label=b, ms=4)
    ax.set(xscale="log", yscale="log", xlabel="m (examples)", ylabel="time per training step (s)",
           title="One training step, n_h = 4 (measured now)")
    ax.grid(alpha=0.3)
    ax.legend()
    name = _save(fig, out, "vectorisation.png")
    lines = []
    for a, b in comparisons(BACKENDS):
        common = sorted(set(t[a]) & set(t[b]))
        if common:
            m = common[-1]
            r = t[a][m] / t[b][m]
            lines.append(f"- At m = {m:,}: `{b}` is {max(r, 1 / r):.3g}× "
                         f"{'faster' if r >= 1 else 'slower'} than `{a}` "
                         f"({t[b][m] * 1e3:.3g} ms vs {t[a][m] * 1e3:.3g} ms).")
    code = ("```python\n# for i = 1 to m  (the python backend)          # vectorised (numpy)\n"
            "for x, y in zip(X.T, Y.T):                        Z1 = W1 @ X + b1\n"
            "    z1 = [b + sum(w*xk for w, xk in zip(wj, x))   A1 = np.tanh(Z1)\n"
            "          for wj, b in zip(W1, b1)]                Z2 = W2 @ A1 + b2\n"
            "    a1 = [tanh(z) for z in z1]                     A2 = sigmoid(Z2)\n"
            "    ...                                            dZ2 = A2 - Y ...\n```")
    if busy:
        lines.append(f"- {len(busy)} of these cells were measured while other programs were "
                     "using the processor; their times are less reliable.")
    return (f"## 7. Why vectorisation matters\n\n![vectorisation]({name})\n\n" + "\n".join(lines)
            + "\n\n" + _training_times(X, Y, train_steps)
            + f"\n\nThe lecture's loop next to its matrix form:\n\n{code}\n\nThe `numpy-loop` "
            "backend does each example with NumPy vectors: for small n_h it is no faster than "
            "plain Python, because the loop — not the arithmetic — is the cost. "
            "(Timings from `fastnn.bench.cell.run_cell`, the harness's own method: median of calibrated "
            "samples, checked against numpy first.)\n")


def run_demo(out="reports/lecture", *, tiny=False, progress=True):
    """Write the lecture page to ``out``. Returns the path of ``index.md``."""
    os.makedirs(out, exist_ok=True)
    m, iters, steps = (120, 300, 60) if tiny else (400, 4000, 300)
    sizes = (1, 2, 4) if tiny else (1, 2, 3, 4, 5, 20, 50)
    ms = (1, 10, 100) if tiny else (1, 10, 100, 1000, 10_000)
    X, Y = flower(m, seed=1)
    parts = [
        ("activations", lambda: part_activations(out)),
        ("flower", lambda: part_flower(out, X, Y, iters, sizes, 0.02 if tiny else 0.25)),
        ("zero init", lambda: part_zero_init(out, X, Y, steps)),
        ("init scale", lambda: part_scale(out, X, Y, iters)),
        ("linear hidden", lambda: part_linear(out, X, Y, iters)),
        ("logistic", lambda: part_logistic(out, X, Y, iters)),
        ("vectorisation", lambda: part_vectorisation(out, ms, 0.5 if tiny else 1.5, X, Y,
                                                     200 if tiny else 10_000)),
    ]
    texts = []
    prog = Progress(enabled=progress)  # a live bar in a terminal, plain lines in a log
    for i, (name, make) in enumerate(parts, 1):
        with prog.phase(f"lecture demo, part {i} of {len(parts)}: {name}"):
            texts.append(make())
    cmd = "fastnn demo" + (" --tiny" if tiny else "") + f" --out {out}"
    head = ("# Basic neural networks, part 1 — the lecture's claims, measured\n\n"
            f"Generated by `{cmd}`. Every number on this page was computed when it ran. "
            f"The trainings are seeded and run on the `{_TRAIN}` backend, which at n_x = 2 uses "
            "no BLAS, so parts 1–6 come out the same on any BLAS kernel (the `numpy` backend's "
            "products go through BLAS, whose kernels — picked per CPU, or by "
            "`OPENBLAS_CORETYPE` — round differently, and over thousands of steps ReLU's kink "
            "amplifies that into a different accuracy). A CPU with another SIMD width may sum "
            "in another order and move the last digits, most visibly in the ReLU rows. "
            "The timings of parts 2 and 7 vary between runs.\n")
    path = os.path.join(out, "index.md")
    text = head + "\n" + "\n".join(texts)
    write_atomic(path, text)  # replaces a link named index.md; never writes through it
    # an earlier page's figures that this one does not show are removed (only files fastnn wrote)
    write_manifest(out, "demo", ["index.md"] + re.findall(r"\]\(([^)]+\.png)\)", text))
    return path
