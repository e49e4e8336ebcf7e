"""The lecture's activation tables and each derivative against finite differences."""

import math

import numpy as np
import pytest

import fastnn
from fastnn.activations import ACTIVATIONS, maxout, maxout_route

ELEMENTWISE = [a for a in ACTIVATIONS if a != "maxout"]


@pytest.mark.parametrize("z, s, ds, t, dt", [
    (10.0, 1.0, 0.0, 1.0, 0.0),
    (-10.0, 0.0, 0.0, -1.0, 0.0),
    (0.0, 0.5, 0.25, 0.0, 1.0),
])
def test_lecture_table(z, s, ds, t, dt):
    Z = np.array([z])
    sig, tanh = ACTIVATIONS["sigmoid"], ACTIVATIONS["tanh"]
    A = sig.g(Z)
    assert A[0] == pytest.approx(s, abs=1e-4)
    assert sig.dg(Z, A)[0] == pytest.approx(ds, abs=1e-4)
    A = tanh.g(Z)
    assert A[0] == pytest.approx(t, abs=1e-8)
    assert tanh.dg(Z, A)[0] == pytest.approx(dt, abs=1e-8)
    if z == 0.0:  # exact at the origin
        assert (sig.g(Z)[0], sig.dg(Z, sig.g(Z))[0]) == (0.5, 0.25)
        assert (tanh.g(Z)[0], tanh.dg(Z, tanh.g(Z))[0]) == (0.0, 1.0)


def test_saturation_slows_sigmoid_and_tanh_but_not_relu():
    Z = np.array([-50.0, -10.0, 10.0, 50.0])
    for name in ("sigmoid", "tanh"):
        a = ACTIVATIONS[name]
        assert np.all(a.dg(Z, a.g(Z)) < 1e-4)
    relu = ACTIVATIONS["relu"]
    assert np.all(relu.dg(Z[2:], relu.g(Z[2:])) == 1.0)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_derivative_matches_finite_difference(name):
    a = ACTIVATIONS[name]
    Z = np.linspace(-6, 6, 241) + 0.013  # avoid the kink at exactly 0
    h = 1e-6
    fd = (a.g(Z + h) - a.g(Z - h)) / (2 * h)
    np.testing.assert_allclose(a.dg(Z, a.g(Z)), fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_scalar_and_vector_forms_agree(name):
    a = ACTIVATIONS[name]
    Z = np.array([-800.0, -30.0, -1.5, -1e-3, 0.0, 1e-3, 2.0, 30.0, 800.0])
    with np.errstate(over="ignore"):
        A = a.g(Z)
        dA = a.dg(Z, A)
    np.testing.assert_allclose([a.g1(z) for z in Z], A, rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose([a.dg1(z, x) for z, x in zip(Z, A)], dA, rtol=1e-14)


def test_relu_derivative_is_one_at_zero():
    Z = np.zeros(3)
    assert np.all(ACTIVATIONS["relu"].dg(Z, ACTIVATIONS["relu"].g(Z)) == 1.0)
    assert ACTIVATIONS["relu"].dg1(0.0, 0.0) == 1.0
    assert np.all(ACTIVATIONS["leaky_relu"].dg(Z, Z) == 1.0)


def test_leaky_relu_and_elu_values():
    Z = np.array([-2.0, 3.0])
    np.testing.assert_allclose(ACTIVATIONS["leaky_relu"].g(Z), [-0.02, 3.0])
    np.testing.assert_allclose(ACTIVATIONS["elu"].g(Z), [math.exp(-2) - 1, 3.0])


def test_maxout_takes_the_max_and_routes_to_the_winner():
    Z = np.array([[[1.0, -2.0, 5.0]], [[0.5, 3.0, 5.0]]])  # (k=2, n_h=1, m=3)
    np.testing.assert_array_equal(maxout(Z), [[1.0, 3.0, 5.0]])
    # the winner gets the gradient; a tie goes to the first piece
    np.testing.assert_array_equal(maxout_route(Z), [[[1, 0, 1]], [[0, 1, 0]]])


def test_maxout_gradient_flows_only_to_winning_piece(backend):
    """Piece 1's weights get zero gradient when piece 0 wins on every example, and vice versa."""
    P = fastnn.init_params(2, 3, 1, hidden="maxout", pieces=2, method="random", scale=1.0,
                           seed=0)
    P["b1"][0] += 100.0  # piece 0 wins everywhere
    rng = np.random.default_rng(1)
    X = rng.standard_normal((2, 13))
    Y = (rng.random((1, 13)) > 0.5).astype(float)
    _, g = backend.cost_and_grads(P, X, Y, hidden="maxout")
    assert g["dW1"].shape == (2, 3, 2) and g["db1"].shape == (2, 3, 1)
    assert np.all(g["dW1"][1] == 0) and np.all(g["db1"][1] == 0)
    assert np.any(g["dW1"][0] != 0)
    P["b1"][0] -= 200.0  # now piece 1 wins everywhere
    _, g = backend.cost_and_grads(P, X, Y, hidden="maxout")
    assert np.all(g["dW1"][0] == 0) and np.any(g["dW1"][1] != 0)


def test_unknown_activation_is_a_value_error():
    with pytest.raises(ValueError, match="unknown activation 'swish'.*tanh"):
        fastnn.get_activation("swish")
