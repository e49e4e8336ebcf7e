"""Every registry entry's module satisfies the backend contract (``backends/_contract.py``) for the
ops it declares: the functions are there (``isinstance`` on the runtime-checkable Protocols) and
take the contract's parameters, by name and kind."""

import inspect

import pytest

from fastnn.backends import REGISTRY, _contract
from fastnn.backends._contract import BackendModule, Forward, requirements


def _members(proto):
    """The functions a Protocol names (its own and those it inherits from other Protocols)."""
    return sorted({n for c in proto.__mro__ if c.__module__ == _contract.__name__
                   for n, v in vars(c).items() if inspect.isfunction(v) and n[0] != "_"})


def _params(fn, drop_self=False):
    ps = list(inspect.signature(fn).parameters.values())[drop_self:]
    return [(p.name, p.kind) for p in ps]


@pytest.mark.parametrize("name", list(REGISTRY))
def test_every_entry_satisfies_the_contract(name):
    entry = REGISTRY[name]
    if entry.missing():
        pytest.skip(entry.missing())
    for proto in requirements(entry):
        assert isinstance(entry.impl, proto), f"{name} is not a {proto.__name__}"
        for fn in _members(proto):
            assert _params(getattr(entry.impl, fn)) == _params(getattr(proto, fn), True), \
                (name, fn)


def test_the_networks_own_backends_are_whole_backend_modules():
    own = [b for b in REGISTRY.values() if not b.peer and not b.missing()]
    assert {b.name for b in own} >= {"python", "numpy-loop", "numpy", "numpy-inplace"}
    assert all(isinstance(b.impl, BackendModule) for b in own)
    assert _members(BackendModule) == ["backward", "cost_and_grads", "forward"]


def test_the_check_can_fail():
    """A module without forward is not a Forward; a wrong signature is seen."""
    import types
    bare = types.SimpleNamespace(backward=lambda P, cache, X, Y, hidden, output: None)
    assert not isinstance(bare, Forward)
    bad = types.SimpleNamespace(forward=lambda P, X: None)
    assert isinstance(bad, Forward)  # presence only: hence the signature comparison above
    assert _params(bad.forward) != _params(Forward.forward, True)


def test_requirements_follow_the_declarations():
    assert requirements(REGISTRY["numba"])[-1] is _contract.FusedFit
    assert requirements(REGISTRY["torch"]) == (_contract.MakesCalls,)
    assert set(requirements(REGISTRY["numpy"])) == {Forward, _contract.Backward,
                                                    _contract.CostAndGrads}
