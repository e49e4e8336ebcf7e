"""The lecture demo runs, and its claims hold."""

import numpy as np
import pytest

import fastnn
from fastnn import demo
from fastnn.demo import run_demo


def test_demo_runs_on_a_tiny_configuration(tmp_path, matplotlib_untouched):
    index = run_demo(str(tmp_path), tiny=True, progress=False)
    text = open(index).read()
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
