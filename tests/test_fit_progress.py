"""Following a training run (issue 16, item 4): ``fit(..., callback=, report_every=, progress=)``
reports J every k steps on every backend without changing a single number; on numba the
compiled run is cut into one call per report, bit for bit the uninterrupted run."""

import io

import numba
import numpy as np
import pytest
from rich.console import Console

import fastnn
from fastnn.backends import numba_fused as NF
from fastnn.backends._descent import spans
from fastnn.validate import prepare

ALL = ("W1", "b1", "W2", "b2")


def flower(m=40):
    X, Y = fastnn.flower(m, seed=1)
    return X, Y, fastnn.init_params(2, 3, 1, seed=2)


def diverging():
    """The regression of test_training's divergence test: J is inf at step 5 (index 4)."""
    rng = np.random.default_rng(0)
    return rng.standard_normal((2, 20)), rng.standard_normal((1, 20))


def recorder():
    seen = []
    return seen, lambda t, J: seen.append((t, J))


def assert_same_run(a, b):
    np.testing.assert_array_equal(a.costs, b.costs)
    for k in ALL:
        np.testing.assert_array_equal(a.params[k], b.params[k], err_msg=k)


def terminal():
    return Console(file=io.StringIO(), force_terminal=True, width=120)


@pytest.mark.parametrize("iterations, every, want", [
    (25, 7, [(0, 1), (1, 8), (8, 15), (15, 22), (22, 25)]),
    (22, 7, [(0, 1), (1, 8), (8, 15), (15, 22)]),
    (3, 1, [(0, 1), (1, 2), (2, 3)]),
    (5, 1000, [(0, 1), (1, 5)]),
    (1, 4, [(0, 1)]),
    (0, 4, [(0, 0)]),
])
def test_spans_end_at_every_report_step(iterations, every, want):
    got = spans(iterations, every)
    assert got == want
    assert [t for s in got for t in range(*s)] == list(range(iterations))
    last = {stop - 1 for _, stop in got}
    assert set(range(0, iterations, every)) <= last


@pytest.mark.parametrize("name", fastnn.BACKENDS)
def test_callback_gets_every_kth_cost_and_changes_nothing(name):
    """Steps 0, k, 2k, … with J before that update, equal to result.costs[t]; the run is the
    same, bit for bit, with and without the callback and the bar."""
    X, Y, P = flower()
    plain = fastnn.fit(X, Y, params=P, backend=name, iterations=25)
    seen, cb = recorder()
    out = terminal()
    got = fastnn.fit(X, Y, params=P, backend=name, iterations=25, callback=cb, report_every=7,
                     progress=out)
    assert [t for t, _ in seen] == [0, 7, 14, 21]
    assert all(type(t) is int and type(J) is float for t, J in seen)
    assert [J for _, J in seen] == [got.costs[t] for t in (0, 7, 14, 21)]
    assert_same_run(got, plain)
    text = out.file.getvalue()
    assert f"fit ({name})" in text and "25/25" in text and f"J = {got.costs[-1]:.6g}" in text


@pytest.mark.parametrize("name", fastnn.BACKENDS)
def test_fit_logistic_is_followed_the_same_way(name):
    X, Y, _ = flower()
    plain = fastnn.fit_logistic(X, Y, backend=name, iterations=12)
    seen, cb = recorder()
    got = fastnn.fit_logistic(X, Y, backend=name, iterations=12, callback=cb, report_every=5)
    assert seen == [(t, got.costs[t]) for t in (0, 5, 10)]
    assert_same_run(got, plain)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("every", [1, 2, 3, 4, 1000])
@pytest.mark.parametrize("name", fastnn.BACKENDS)
def test_divergence_stops_at_the_same_step_when_followed(name, every):
    """J is inf at step 5 (t = 4): followed or not, the same error, costs and parameters; the
    callback sees only the finite costs, whether t = 4 is a report step (every 1, 2, 4) or
    inside a compiled span (every 3)."""
    X, Y = diverging()
    kw = dict(output="linear", hidden="relu", lr=1e6, iterations=50, seed=0, backend=name)
    with pytest.raises(fastnn.DivergenceError) as plain:
        fastnn.fit(X, Y, **kw)
    seen, cb = recorder()
    out = terminal()
    with pytest.raises(fastnn.DivergenceError, match="at step 5 of 50") as got:
        fastnn.fit(X, Y, callback=cb, report_every=every, progress=out, **kw)
    assert str(got.value) == str(plain.value)
    assert_same_run(got.value.result, plain.value.result)
    assert seen == [(t, got.value.result.costs[t]) for t in range(0, 4, every)]
    assert "diverged" in out.file.getvalue()


@pytest.mark.parametrize("m, n_h, parallel", [(40, 3, False), (20_000, 8, True)])
@pytest.mark.parametrize("every", [1, 3, 7, 1000])
def test_numba_spans_give_the_uninterrupted_run_bit_for_bit(m, n_h, parallel, every):
    """numba_fused.fit with a report: the compiled loop called once per span on the same
    buffers gives exactly the parameters and costs of one call, serial and parallel."""
    X, Y = fastnn.flower(m, seed=1)
    P, X, Y, _ = prepare(fastnn.init_params(2, n_h, 1, seed=2), X, Y, "tanh", "sigmoid")
    if (NF._chunks(m, n_h, 1) > 1) != parallel:
        pytest.skip(f"numba has {numba.get_num_threads()} thread(s): no parallel chunks")
    steps = 30 if parallel else 60
    P0, costs0, t0 = NF.fit(P, X, Y, "tanh", "sigmoid", 1.2, steps, ALL)
    seen, cb = recorder()
    P1, costs1, t1 = NF.fit(P, X, Y, "tanh", "sigmoid", 1.2, steps, ALL, every, cb)
    assert t0 is None and t1 is None
    np.testing.assert_array_equal(costs1, costs0)
    for k in ALL:
        np.testing.assert_array_equal(P1[k], P0[k], err_msg=k)
    assert seen == [(t, costs0[t]) for t in range(0, steps, every)]


def test_numba_runs_one_compiled_call_unless_followed(monkeypatch):
    X, Y, P = flower()
    run = NF._kernels(*NF._codes("tanh", "sigmoid"))
    calls = []
    compiled = run.fit_serial
    monkeypatch.setattr(run, "fit_serial", lambda *a: calls.append(a[-1].shape) or compiled(*a))
    fastnn.fit(X, Y, params=P, backend="numba", iterations=25)
    assert calls == [(25,)]
    calls.clear()
    fastnn.fit(X, Y, params=P, backend="numba", iterations=25, report_every=7, callback=print)
    assert calls == [(1,), (7,), (7,), (7,), (3,)]


@pytest.mark.parametrize("name", fastnn.BACKENDS)
def test_an_exception_in_the_callback_ends_the_run(name):
    X, Y, P = flower()

    class Stop(Exception):
        pass

    def cb(t, J):
        if t == 10:
            raise Stop(t)

    out = terminal()
    with pytest.raises(Stop):
        fastnn.fit(X, Y, params=P, backend=name, iterations=25, callback=cb, report_every=5,
                   progress=out)


def test_progress_true_draws_on_stdout(capsys):
    X, Y, P = flower()
    fastnn.fit(X, Y, params=P, iterations=10, progress=True)
    assert "10/10" in capsys.readouterr().out


def test_silent_by_default(capsys):
    X, Y, P = flower()
    fastnn.fit(X, Y, params=P, iterations=10)
    fastnn.fit_logistic(X, Y, iterations=10)
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("fit", [fastnn.fit, fastnn.fit_logistic])
@pytest.mark.parametrize("kw, error, message", [
    (dict(callback=3), TypeError, r"callback must be callable as callback\(step, cost\), or "
                                  r"None; got int"),
    (dict(callback="print"), TypeError, "callback must be callable"),
    (dict(report_every=0), ValueError, r"report_every must be >= 1 \(steps between reports\), "
                                       "got 0"),
    (dict(report_every=-5), ValueError, "report_every must be >= 1"),
    (dict(report_every=2.5), TypeError, "report_every must be a positive integer"),
    (dict(report_every=True), TypeError, "report_every must be a positive integer"),
    (dict(report_every=None), TypeError, "report_every must be a positive integer"),
    (dict(progress="yes"), TypeError, "progress must be True, False or a "
                                      "rich.console.Console, got str"),
    (dict(progress=io.StringIO()), TypeError, "progress must be True, False or a rich"),
])
def test_bad_arguments_are_named(fit, kw, error, message):
    X, Y, _ = flower()
    with pytest.raises(error, match=message):
        fit(X, Y, iterations=5, **kw)


def test_numpy_integers_and_bools_are_accepted():
    X, Y, P = flower()
    seen, cb = recorder()
    fastnn.fit(X, Y, params=P, iterations=5, callback=cb, report_every=np.int64(2),
               progress=np.bool_(False))
    assert [t for t, _ in seen] == [0, 2, 4]


def test_lines_where_rich_cannot_draw_live(monkeypatch):
    """A notebook without ipywidgets (rich draws nothing live there): one line per report."""
    import fastnn.train as T
    monkeypatch.setattr(T, "_draws_live", lambda console: False)
    X, Y, P = flower()
    out = Console(file=io.StringIO(), width=120)  # not a terminal: no colours
    r = fastnn.fit(X, Y, params=P, iterations=12, report_every=5, progress=out)
    lines = out.file.getvalue().splitlines()
    assert lines == [f"fit (numpy): {t}/12 steps, J = {r.costs[t]:.6g}" for t in (0, 5, 10)] + [
        f"fit (numpy): 12/12 steps, J = {r.costs[-1]:.6g}"]
