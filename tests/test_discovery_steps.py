"""The steps of discovery, each alone: the cross-fitted test's calibration, the leak bound, the
snap and the closure hypotheses."""

import numpy as np
import pytest
from scipy import stats

from symfix.discovery import _steps as steps


def test_cross_fitted_test_is_calibrated_under_noise_and_sees_a_signal():
    """Pure noise: the top t follows Student's t with K/2 - 1 degrees of freedom, so it passes
    its 0.95 quantile in about 5% of draws (400 draws: 20 expected, binomial sd 4.4; the
    margin is 3 sd). A planted direction with signal passes the threshold (negative control)."""
    rng = np.random.default_rng(0)
    K, rows, D = 16, 24, 6
    q95 = stats.t.ppf(0.95, K // 2 - 1)
    crit = stats.t.ppf(1 - 1e-3 / D, K // 2 - 1)
    tops = [steps.cross_fitted_test(rng.standard_normal((K, rows, D)), crit).t for _ in range(400)]
    share = np.mean(np.array(tops) > q95)
    assert 0.05 - 3 * 0.011 < share < 0.05 + 3 * 0.011, share
    u = np.zeros(D)
    u[2] = 1.0
    pattern = rng.standard_normal(rows)
    O = 0.5 * pattern[None, :, None] * u[None, None, :] + 0.1 * rng.standard_normal((K, rows, D))
    test = steps.cross_fitted_test(O, crit)
    assert test.count == 1 and test.t > crit and abs(test.directions[0] @ u) > 0.99


def test_leak_bound_is_proportional_to_the_error_and_zero_after_a_snap():
    on = np.random.default_rng(1).standard_normal((10, 3))
    top = np.linalg.svd(on, compute_uv=False)[0]
    assert steps.leak_bound(0.0, on) == 0.0
    assert steps.leak_bound(0.01, on) == pytest.approx(steps.LEAK_Z * 0.01 * top)
    assert steps.leak_bound(0.02, on) == pytest.approx(2 * steps.leak_bound(0.01, on))


@pytest.mark.parametrize("eps, rel", [(1e-3, 0.01), (3e-3, 0.15)])
def test_leak_angle_is_the_tilt_that_an_error_in_E_j_gives_a_new_direction(eps, rel):
    """E^G = span(e1, e2), E_j estimated as q = cos ε e1 + sin ε e3. A velocity s_on e1 + s_new e2
    has off-E_j part s_new e2 + s_on sin ε (sin ε e1 − cos ε e3): the new direction is tilted
    from e2 by atan(s_on sin ε / s_new), the leak angle. Small leaks: within 1%."""
    s_on, s_new = 1.4, 0.032
    e1, e2, e3 = np.eye(3)
    q = np.cos(eps) * e1 + np.sin(eps) * e3
    v = s_on * e1 + s_new * e2
    off = v - (v @ q) * q
    on = np.array([[v @ q]])
    signal = np.linalg.norm(off)
    tilt = np.arccos(abs(off @ e2) / signal)
    assert tilt == pytest.approx(np.arctan(s_on * np.sin(eps) / s_new), rel=1e-9)
    assert steps.leak_angle(eps, on, signal) == pytest.approx(tilt, rel=rel)
    assert steps.leak_angle(0.0, on, signal) == 0.0  # after a snap: no leak
    assert steps.leak_angle(eps, on, 1e-12) == pytest.approx(np.pi / 2)  # a direction that is all leak


def test_snap_finds_a_nearby_rational_subspace_within_its_standard_errors():
    v = np.array([[1.0, 1.0, 0.0, 0.5]]).T
    noisy = v / np.linalg.norm(v) + 1e-3 * np.array([[0.3, -0.2, 0.5, 0.1]]).T
    rows, B = steps.snap(noisy, 1e-3, 2, 5e-2)
    assert [str(x) for x in rows[0]] == ["1", "1", "0", "1/2"]
    assert steps.snap(noisy, 1e-6, 2, 5e-2) is None  # 4 standard errors of 1e-6 do not reach it
    assert steps.snap(noisy, 1e-3, 0, 5e-2) is None  # max_den 0 disables the snap


def _unit(v):
    v = np.asarray(v, dtype=float)[:, None]
    return v / np.linalg.norm(v)


def test_auto_closure_proposes_the_classes_only_on_evidence():
    # (a, w1..w4, b): a direction equal on {w1, w2} and on {w3, w4}: the hull splits them
    Q = np.concatenate([np.eye(6)[:, [0, 5]], _unit([0, 0.7, 0.7, -0.2, -0.2, 0])], axis=1)
    rows, H = steps.closure_hypothesis(Q, 0.0, "auto", [])
    assert H.shape[1] == 4 and sorted(sum(1 for x in r if x) for r in rows) == [1, 1, 2, 2]
    assert steps.closure_hypothesis(Q, 0.0, "auto", [H]) is None  # refuted before: not again
    assert steps.closure_hypothesis(Q, 0.0, "none", []) is None
    # no tie (every coordinate its own class): no hypothesis
    generic = np.concatenate([np.eye(6)[:, [0, 5]], _unit([0, 0.7, 0.3, -0.2, -0.5, 0])], axis=1)
    assert steps.closure_hypothesis(generic, 0.0, "auto", []) is None


def test_auto_closure_takes_signs_when_the_data_show_them_and_the_zero_class_otherwise():
    # w1 = -w2 and w3 = w4: with signs seen, the signed hull (w1 - w2, w3 + w4), not the plain
    # one, which would take w1 and w2 as two classes
    signed = np.concatenate([np.eye(6)[:, [0, 5]], _unit([0, 0.6, -0.6, 0.3, 0.3, 0])], axis=1)
    rows, H = steps.closure_hypothesis(signed, 0.0, "auto", [])
    assert H.shape[1] == 4 and any(min(r) < 0 < max(r) for r in rows)
    assert steps.closure_hypothesis(signed, 0.0, "orbits", [])[1].shape[1] == 5
    # w = (0.5, 0.5, 0, 0): the zero class {w3, w4} is a union of orbits under a permutation action
    Q = np.concatenate([np.eye(6)[:, [0, 5]], _unit([0, 0.5, 0.5, 0, 0, 0])], axis=1)
    rows, H = steps.closure_hypothesis(Q, 0.0, "auto", [])
    assert H.shape[1] == 4 and [str(x) for x in rows[2]] == ["0", "0", "0", "1", "1", "0"]
    assert steps.closure_hypothesis(Q, 0.0, "signed-orbits", [])[1].shape[1] == 3  # no zero class with signs
