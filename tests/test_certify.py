"""Convex certificates: SI-vs-WI gap strictly positive on the classic case, zero for an SI target."""

import numpy as np
import pytest

from symfix import InputError, Problem, certify, groups, reps, units
from symfix.discovery import orbit_dictionary


def c2_neuron():
    G = groups.cyclic(2)
    return Problem(G, reps.permutation(G), reps.trivial(G), units.neuron(2, 1, "sigmoid"))


def sig(t):
    return 1 / (1 + np.exp(-t))


def dictionary(P, rng, extra=()):
    base = rng.standard_normal((12, 4))
    base[:, 0] = rng.choice([-2.0, -1.0, 1.0, 2.0], 12)
    return orbit_dictionary(P, np.concatenate([base, np.asarray(extra, dtype=float).reshape(-1, 4)]))


def test_classic_case_si_strictly_worse_than_wi(rng):
    P = c2_neuron()
    x = 2 * rng.standard_normal((400, 2))
    target = lambda x: (sig(x[:, 0]) + sig(x[:, 1]))[:, None]  # invariant, but not an SI model
    dic = dictionary(P, rng, extra=[2.0, 1.0, 0.0, 0.0])  # 2 sigmoid(x1), whose orbit mixes to the target
    c = certify(P, x, target, dictionary=dic)
    assert set(c.status.values()) == {"optimal"}
    assert c.risk_all <= c.risk_wi + 1e-7 <= c.risk_si + 2e-7
    assert c.risk_wi < 1e-6  # the WI law (1/2, 1/2) on the orbit of 2 sigmoid(x1) is exact
    assert c.gap > 1e-3  # every SI unit sees only x1 + x2
    # the optimal WI weights are constant on orbits
    for lab in np.unique(c.orbits):
        w = c.weights["WI"][c.orbits == lab]
        assert np.ptp(w) < 1e-9
    # the SI optimum uses SI units only
    assert np.all(c.weights["SI"][~c.si] == 0)


def test_zero_gap_when_target_is_an_si_model(rng):
    P = c2_neuron()
    x = 2 * rng.standard_normal((300, 2))
    unit = np.array([2.0, 0.5, 0.5, 0.1])  # w1 = w2: in E^G
    y = P.unit.forward(x, unit[None]).mean(0)
    c = certify(P, x, y, dictionary=dictionary(P, rng, extra=unit))
    assert c.risk_si < 1e-6 and abs(c.gap) < 1e-6
    assert "SI - WI gap" in c.summary()


def test_bad_input(rng):
    P = c2_neuron()
    dic = dictionary(P, rng)
    with pytest.raises(InputError, match="closed"):
        certify(P, rng.standard_normal((10, 2)), np.zeros((10, 1)), dictionary=dic[:1] + [[0, 1.0, 0, 0]])
    with pytest.raises(InputError, match="shape"):
        certify(P, rng.standard_normal((10, 2)), np.zeros((9, 1)), dictionary=dic)
    with pytest.raises(InputError, match="NaN"):
        certify(P, np.full((10, 2), np.nan), np.zeros((10, 1)), dictionary=dic)
    with pytest.raises(InputError):
        certify(P, np.zeros((0, 2)), np.zeros((0, 1)), dictionary=dic)
