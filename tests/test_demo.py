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
