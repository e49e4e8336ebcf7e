"""The lecture demo runs, and its claims hold."""

import re

import numpy as np
import pytest

import fastnn
from fastnn import demo
from fastnn.demo import run_demo


def test_demo_runs_on_a_tiny_configuration(tmp_path, matplotlib_untouched, monkeypatch):
    # numba's compile in two fresh processes is timed by the harness's own function: its values
    # must reach part 7's table (not measured here: a cold compile can take a minute)
    asked = []
    monkeypatch.setattr(demo.machine, "compile_times", lambda op: asked.append(op) or {
        "compile_cold_s": 12.5, "compile_cached_s": 0.25})
    index = run_demo(str(tmp_path), tiny=True, progress=False)
    text = open(index).read()
    assert asked == ["fit"]
    # the page leads with the lecture; the note on BLAS kernels and summation order is at its end
    assert "BLAS" not in text[:text.index("## 1.")]
    assert text.index("## 7.") < text.index("## About these numbers") < text.index("BLAS kernel")
    # every training run names its start: its initialisation and its seed
    for n in range(2, 7):
        section = text[text.index(f"## {n}."):text.index(f"## {n + 1}.")]
        assert "default_rng(" in section and ("randn" in section or "w = 0" in section), n
    part7 = text[text.index("## 7."):]
    row = next(ln for ln in part7.splitlines() if ln.startswith(f"| `{demo._TRAIN}` |"))
    assert row.endswith("| compile 12.5 s; from cache 0.25 s |"), row
    assert "Counting its compile from an empty cache" in part7
    # speed-ups read as "N× faster" / "N× slower", never as a fraction; extrapolations say
    # from how many steps to how many
    speeds = [ln.split("|")[4].strip() for ln in part7.splitlines()
              if ln.startswith("| `") and ("Python loop" in ln or "compiled call" in ln)]
    assert speeds and all(s == "1×" or s.endswith(("× faster", "× slower")) for s in speeds)
    assert "× 27" not in part7 and not re.search(r"\) × \d", part7)
    for n in range(1, 8):
        assert f"## {n}." in text
    pngs = {p.name for p in tmp_path.glob("*.png")}
    assert len(pngs) >= 8
    for p in pngs:
        assert f"({p})" in text
    assert "| 10 | 0.999955 | 4.53958e-05 | 1 | 8.24461e-09 |" in text
    assert "is 0 from W1 = 0" in text  # the symmetry claim, as computed
    for name in fastnn.ACTIVATIONS:  # every activation is named in the text, with its numbers
        assert f"\n| {name} | " in text, name
    assert "BLAS kernel" in text  # the page says which numbers could depend on it
    table = text[text.index("Training the flower network"):]
    for b in fastnn.BACKENDS:  # part 7: how long the training run takes on each backend
        assert f"| `{b}` | " in table, b
    # part 2: the hidden-size table has a time column per backend; the per-example ones say
    # they are extrapolated, in the header and in each cell, and the total row sums each column
    part2 = text[text.index("## 2."):text.index("## 3.")]
    start = part2.index("| n_h |")
    table = part2[start:part2.index("\n\n", start)].splitlines()
    head = [c.strip() for c in table[0].strip("|").split("|")]
    for b in fastnn.BACKENDS:
        col = next(i for i, c in enumerate(head) if c.startswith(f"`{b}`"))
        slow = fastnn.get_backend(b).per_example
        assert ("extrapolated" in head[col]) == slow, head[col]
        cells = [row.strip("|").split("|")[col].strip() for row in table[2:]]
        assert len(cells) == 4 and cells[-1] and table[-1].startswith("| all 3 |")
        assert all(c.endswith(" steps)") == slow for c in cells[:-1]), cells
        assert all(c.endswith((" s", " ms", " steps)")) for c in cells), cells
    assert f"Accuracy and final cost are the `{demo._TRAIN}` runs'" in part2
    assert "extrapolated, not measured in full" in part2
    # part 2 says where the reuser pays, after its table; part 4 traces the gradient reaching W1;
    # part 7 says which wins at the smallest m
    a, b = demo._reuse_pair()
    assert part2.index("| n_h |") < part2.index(f"`{b}` against `{a}` |")
    assert "‖dW1‖ at start" in text[text.index("## 4."):text.index("## 5.")]
    assert re.search(r"(At m = 1 the loop beats NumPy's matrix form|Already at m = 1, )", part7)


@pytest.mark.parametrize("shift", [0.0, 1e-6])
def test_part2_stops_when_a_backend_trains_a_different_network(shift):
    X, Y = fastnn.flower(60, seed=1)
    P = fastnn.init_params(2, 3, 1, seed=2)
    ref = fastnn.fit(X, Y, params=P, iterations=20, backend=demo._TRAIN)
    other = fastnn.fit(X, Y, params=P, iterations=20, backend=demo._TRAIN)
    other.params["W2"] = other.params["W2"] * (1 + shift)
    timed = {demo._TRAIN: {"result": ref, "n": 20}, "other": {"result": other, "n": 20}}
    if shift:
        with pytest.raises(RuntimeError, match="`other` and .* trained different networks"):
            demo._check_same(X, Y, P, timed, 3)
    else:
        assert demo._check_same(X, Y, P, timed, 3) == 0.0


def test_symmetry_claim_rows_of_W1_equal_after_zero_init_training():
    X, Y = fastnn.flower(160, seed=1)
    X, Y = X[:, :120], Y[:, :120]
    r = fastnn.fit(X, Y, n_h=4, hidden="sigmoid", method="zeros", iterations=200)
    assert np.ptp(r.params["W1"], axis=0).max() == 0.0
    assert np.abs(r.params["W1"]).max() > 1e-4


def test_linear_collapse_claim():
    X, Y = fastnn.flower(300, seed=2)
    lin = fastnn.fit(X, Y, n_h=4, hidden="linear", iterations=1500, seed=0)
    log = fastnn.fit_logistic(X, Y, iterations=1500)
    tanh = fastnn.fit(X, Y, n_h=4, iterations=1500, seed=0)
    acc = lambda r, h: np.mean(fastnn.predict(r.params, X, hidden=h) == Y)  # noqa: E731
    assert abs(acc(lin, "linear") - acc(log, "linear")) <= 0.02
    assert acc(tanh, "tanh") - acc(log, "linear") > 0.2


@pytest.mark.parametrize("r, said", [(2.5, "2.5× faster"), (1.0, "1× faster"),
                                     (1 / 3, "3× slower")])
def test_a_ratio_is_said_as_faster_or_slower(r, said):
    assert demo._times(r) == said


def _pair():
    (a, b), = demo._loop_pairs()  # the registry's plain-Python loop and NumPy-vector loop
    return a, b


@pytest.mark.parametrize("ratios, says", [
    ({1: 7.0, 2: 5.0, 20: 1.4, 50: 0.6}, ["7× slower at n_h = 1", "1.4× slower at n_h = 20",
                                          "1.67× faster at n_h = 50", "faster from n_h = 50"]),
    ({1: 4.0, 2: 3.0}, ["4× slower at n_h = 1", "3× slower at n_h = 2",
                        "slower at every n_h measured"]),
])
def test_part7_says_where_the_numpy_loop_catches_python_up(ratios, says):
    a, b = _pair()
    times = {n: {a: 1.0 * n, b: r * n} for n, r in ratios.items()}
    text = demo._crossover(times)
    for s in says:
        assert s in text, (s, text)
    assert f"`{b}` is " in text and f"than `{a}`" in text


def test_hidden_sizes_keeps_the_fastest_round_of_each_cell(monkeypatch):
    """A slow first measurement (warm-up, a passing disturbance) shows in no row."""
    calls = []

    def fake(X, Y, P, steps, backend, *, budget, cap=None):
        calls.append((P["W1"].shape[0], backend))
        result = fastnn.fit(X, Y, params=P, iterations=steps, backend=demo._TRAIN)
        total = 5.0 if len(calls) <= len(demo._trainable()) else 1.0  # the first row, round 1
        return {"result": result, "n": steps, "dt": total, "total": total, "first": 0.0}

    monkeypatch.setattr(demo, "_time_fit", fake)
    part = demo.hidden_sizes(m=40, iters=3, sizes=(1, 2), rounds=2)
    assert len(calls) == 2 * 2 * len(demo._trainable())
    assert part.values["spread"] == 5.0
    assert all(t == 1.0 for row in part.values["times"].values() for t in row.values())
    assert "fastest of 2 measurements" in "".join(b for b in part.blocks if isinstance(b, str))


def test_every_training_start_is_named():
    assert demo.start() == f"W = randn · 0.01 (`default_rng({demo.NET_SEED})`), b = 0"
    assert "√(2 / (fan_in + fan_out))" in demo.start("xavier")
    assert demo.start("zeros") == "all weights 0, b = 0"


def test_a_log_cost_axis_reads_plain_numbers(matplotlib_untouched):
    from fastnn.plotting import plain_log_y, subplots
    fig, ax = subplots()
    ax.plot([0, 1, 2], [0.15, 0.7, 2.0])
    ax.set_yscale("log")
    plain_log_y(ax)
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert {"0.2", "0.5", "1", "2"} <= set(labels), labels
    assert not any("10" in lb or "×" in lb for lb in labels), labels


def test_compile_times_names_the_calls_it_can_time():
    from fastnn.bench import machine
    with pytest.raises(ValueError, match="cost_and_grads, fit"):
        machine.compile_times("backward")


# ---- part 4: the gradient that reaches W1 ------------------------------------------------------

def test_part4_shows_the_gradient_reaching_W1_smaller_from_the_large_starts(matplotlib_untouched):
    part = demo.init_scale(m=120, iters=200)
    rows = part.values["rows"]
    assert [r["scale"] for r in rows] == [0.01, 10.0, 100.0]
    # saturation at the start: more z beyond ±5, a smaller mean tanh'(z), a smaller ‖dW1‖
    for small, big in zip(rows, rows[1:]):
        assert big["saturated"] > small["saturated"] and big["dg"] < small["dg"]
        assert big["dW1_start"] < small["dW1_start"] / 3
    assert rows[-1]["dW1_median"] < rows[0]["dW1_median"]
    # the most saturated start descends slower (the lecture's claim, measured)
    assert demo._slower(rows[-1], rows[0])
    fig = next(b[1] for b in part.blocks if not isinstance(b, str))
    cost_ax, grad_ax = fig.axes
    assert grad_ax.get_yscale() == "log" and len(grad_ax.get_lines()) == len(rows)
    assert "dW1" in grad_ax.get_title()
    text = "\n".join(b for b in part.blocks if isinstance(b, str))
    assert "| ‖dW1‖ at start | ‖dW1‖, median of 200 steps |" in text
    assert "From randn · 100 the cost descends slower too" in text


def _row(scale, g0, gmed, reach, cost=0.2, acc=0.9):
    return {"scale": scale, "saturated": 0.5, "dg": 0.1, "dW1_start": g0, "dW1_median": gmed,
            "reach": reach, "cost_at": 0.3, "cost": cost, "accuracy": acc}


@pytest.mark.parametrize("reaches, slow, says", [
    ((107, 75, None), [100.0], ["From randn · 100 the cost descends slower too",
                                "never below 0.3 in 4,000 iterations",
                                "From randn · 10 the cost is first below 0.3 at iteration 75, "
                                "sooner than from randn · 0.01",
                                "saturation slows the hidden layer's gradient, not the cost"]),
    ((107, 75, 60), [], ["on the hidden layer's gradient only"]),
    ((107, 200, 300), [10.0, 100.0], ["From randn · 10 the cost descends slower too"]),
])
def test_part4_words_follow_which_start_descended_slower(reaches, slow, says):
    rows = [_row(s, g, g, r) for s, g, r in zip((0.01, 10.0, 100.0), (2e-3, 2e-4, 3e-5), reaches)]
    assert [r["scale"] for r in rows[1:] if demo._slower(r, rows[0])] == slow
    text = demo._scale_text(rows, 4000)
    for s in says:
        assert s in text, (s, text)
    assert "10× smaller at the first step" in text and "66.7× smaller at the first step" in text
    assert ("descends slower" in text) == bool(slow)
    assert ("only the hidden layer" in text or "gradient only" in text or
            "not the cost" in text) == (len(slow) < 2)


@pytest.mark.parametrize("scales, error", [
    ((0.01,), ValueError), ((10.0, 0.01), ValueError), ((0.01, -1.0), ValueError),
    ((0.01, float("nan")), ValueError), ("0.01, 10", TypeError), ((0.01, "ten"), TypeError),
    (5.0, TypeError)])
def test_part4_rejects_bad_scales(scales, error):
    with pytest.raises(error, match="scales"):
        demo.init_scale(m=20, iters=2, scales=scales)


# ---- part 2: every activation readable -------------------------------------------------------

def test_part2_draws_one_panel_per_activation_with_its_table(matplotlib_untouched):
    part = demo.hidden_activations(m=40, iters=30)
    fig = next(b[1] for b in part.blocks if not isinstance(b, str))
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title().split(":")[0] for ax in shown] == list(fastnn.ACTIVATIONS)
    for ax in shown:  # its own curve in colour, the other six in grey behind it
        colours = [ln.get_color() for ln in ax.get_lines()]
        assert len(colours) == len(shown) and colours.count("#cccccc") == len(shown) - 1
    assert len({ax.get_ylim() for ax in shown}) == 1  # one scale: the panels compare
    text = "\n".join(b for b in part.blocks if isinstance(b, str))
    assert "line styles differ" not in text
    for h, v in part.values["activations"].items():
        assert f"| {h} | " in text and f"| {v['rises']:,} |" in text


def test_a_rise_of_J_counts_only_above_its_threshold():
    assert demo._rises([1.0, 0.9, 0.95, 0.95 * (1 + demo.RISE / 2), 0.5, 0.6]) == 2


@pytest.mark.parametrize("rises, says, not_said", [
    ({"tanh": 0, "relu": 481, "elu": 1963}, ["The cost of relu and elu rose by over 1 % in 481 "
                                             "and 1,963 of the 4,000 steps",
                                             "too large for them", "Tanh descended without"],
     []),
    ({"tanh": 0, "relu": 0}, ["Tanh and relu descended without such a rise"], ["overshot"]),
    ({"relu": 3}, ["too large for it here"], ["descended without"]),
])
def test_part2_activation_words_follow_the_counts(rises, says, not_said):
    text = demo._activations_text({h: {"rises": n} for h, n in rises.items()}, 4000)
    for s in says:
        assert s in text, (s, text)
    for s in not_said:
        assert s not in text, (s, text)


# ---- part 2: where numpy-inplace starts to pay ----------------------------------------------

def _sweep_values(ratios, ms=None):
    a, b = demo._reuse_pair()
    sweep = [{"m": m, "times": {a: r * 1e-3, b: 1e-3}} for m, r in ratios.items()]
    return {"pair": (a, b), "sweep": sweep, "pays_from": demo._pays_from(sweep, (a, b)),
            "n_h": 4, "rounds": 5, "ms": tuple(ms or ratios)}


def test_the_reuse_pair_comes_from_the_registry():
    a, b = demo._reuse_pair()
    assert fastnn.get_backend(b).reuses_buffers and not fastnn.get_backend(a).reuses_buffers


@pytest.mark.parametrize("ratios, first", [
    ({100: 0.8, 1000: 0.9, 10_000: 2.1, 30_000: 2.0}, 10_000),
    ({100: 0.8, 1000: 1.1, 10_000: 0.9, 30_000: 1.5, 100_000: 1.3}, 30_000),
    ({100: 1.2, 1000: 1.1}, 100),
    ({100: 0.8, 1000: 1.1, 10_000: 0.9}, None),
])
def test_the_reuser_pays_from_the_first_m_it_wins_at_every_larger_m(ratios, first):
    assert _sweep_values(ratios)["pays_from"] == first


def test_the_inplace_sentence_follows_its_numbers():
    v = _sweep_values({100: 0.8, 1000: 0.9, 10_000: 2.1, 30_000: 2.0},
                      ms=(100, 1000, 10_000, 30_000, 100_000))
    a, b = v["pair"]
    table = {1: {a: 0.2, b: 0.3}, 4: {a: 0.27, b: 0.31}, 50: {a: 1.0, b: 1.1}}
    text = demo._reuse_text(v, table, 400)
    assert f"(m = 400) `{b}` is slower than `{a}` in every row." in text
    assert (f"`{b}` is slower at m = 100 and 1,000 and faster from m = 10,000 on (2.1× faster"
            in text)
    assert "312 KiB" in text  # one (n_h, m) float64 array at m = 10,000, n_h = 4
    assert "the sweep stops after two m in a row" in text
    assert "in each of 5 rounds," in text
    v["sweep"][-1]["rounds"] = 2  # a long step: the rounds at its m stopped after two
    assert "in each of 2 to 5 rounds (fewer where a step is long)," in demo._reuse_text(v)
    table[50] = {a: 1.2, b: 1.1}
    assert "slower than `numpy` in 2 of its 3 rows" in demo._reuse_text(v, table, 400)
    never = demo._reuse_text(_sweep_values({100: 0.8, 1000: 0.9}), None)
    assert "slower at every m measured, up to 1,000." in never and "faster from" not in never
    once = demo._reuse_text(_sweep_values({100: 0.8, 1000: 1.3, 10_000: 0.9}), None)
    assert "faster at m = 1,000, but slower at the largest m measured, 10,000." in once


def test_the_inplace_sweep_stops_after_two_wins(monkeypatch):
    import time as time_
    a, b = demo._reuse_pair()

    class Fake:  # `a` sleeps, `b` does nothing: b wins at every m
        def __init__(self, name):
            self.name = name

        def make_call(self, op, P, X, Y, hidden, output):
            assert op == "cost_and_grads" and X.shape[1] == Y.shape[1]
            return (lambda: time_.sleep(0.002)) if self.name == a else (lambda: None)

        def missing(self):
            return None

        @property
        def reuses_buffers(self):
            return self.name == b

    monkeypatch.setattr(demo, "get_backend", Fake)
    part = demo.inplace_sweep((10, 20, 30, 40), rounds=2, batch_s=0.001, table=None)
    assert [(s["m"], s["rounds"]) for s in part.values["sweep"]] == [(10, 2), (20, 2)]
    assert part.values["pays_from"] == 10
    rows = [ln for ln in part.blocks[-1].splitlines() if ln.startswith("| 1") or
            ln.startswith("| 2")]
    assert len(rows) == 2 and all(r.endswith("× faster |") for r in rows)


@pytest.mark.parametrize("kw, error", [
    (dict(ms=(100, 10)), ValueError), (dict(ms=()), ValueError), (dict(ms=(0, 10)), ValueError),
    (dict(ms=(10.5, 20)), TypeError), (dict(ms="100"), TypeError), (dict(n_h=0), ValueError),
    (dict(rounds=1.5), TypeError), (dict(batch_s=0), ValueError), (dict(batch_s="1"), ValueError),
])
def test_the_inplace_sweep_rejects_bad_input(kw, error):
    with pytest.raises(error):
        demo.inplace_sweep(**kw)


# ---- part 7: which wins at the smallest m ---------------------------------------------------

@pytest.mark.parametrize("python, says", [
    ({1: 3e-5, 10: 1.2e-4, 100: 1e-3}, ["At m = 1 the loop beats NumPy's matrix form: "
                                        "`python` (0.03 ms) is 1.2× faster than `numpy` "
                                        "(0.036 ms)",
                                        "From m = 10 on, `numpy` is faster."]),
    ({1: 9e-5, 10: 1.2e-4, 100: 1e-3}, ["Already at m = 1, `numpy` (0.036 ms) is 2.5× faster "
                                        "than `python` (0.09 ms)."]),
    ({1: 3e-5, 10: 3e-5, 100: 1e-3}, ["At m = 1 the loop beats NumPy's matrix form",
                                       "From m = 100 on"]),
])
def test_part7_says_which_wins_at_the_smallest_m(python, says):
    t = {b: {} for b in fastnn.BACKENDS}
    t["python"], t["numpy"] = python, {1: 3.6e-5, 10: 3.3e-5, 100: 4e-5}
    text = demo._overtakes(t)
    for s in says:
        assert s in text, (s, text)
    assert ("the loop beats NumPy's matrix form" in text) == (python[1] < 3.6e-5)


@pytest.mark.parametrize("swept, here, said", [
    (2.0, 0.5, "part 2's sweep found `numpy-inplace` 2× faster than `numpy`, this figure 2× "
               "slower: the two measurements disagree"),
    (0.8, 1.25, "sweep found `numpy-inplace` 1.25× slower than `numpy`, this figure 1.25× "
                "faster"),
    (2.0, 1.5, ""), (0.8, 0.9, ""),
])
def test_part7_says_where_it_disagrees_with_the_inplace_sweep(swept, here, said):
    v = _sweep_values({1000: 0.9, 10_000: swept})
    a, b = v["pair"]
    t = {a: {100: 1.0, 10_000: here}, b: {100: 1.0, 10_000: 1.0}}
    line = demo._against_sweep(t, v)
    assert (said in line) if said else line == "", line
    assert demo._against_sweep(t, None) == ""
    del t[a][10_000], t[b][10_000]  # the figure's largest m (100) is not in the sweep
    assert demo._against_sweep(t, v) == ""
