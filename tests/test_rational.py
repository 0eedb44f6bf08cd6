"""Rational recovery of noisy subspace estimates (reduced echelon form + small denominators)."""

from fractions import Fraction

import numpy as np
import pytest
from scipy.linalg import null_space, subspace_angles

from symfix import Problem, groups, reps, units
from symfix.discovery import rationalise
from symfix.discovery._rational import MAX_ENTRY, _rref
from symfix.symbolic import dense_orthonormal

from .conftest import d4_patch_problem


def s4_neuron():
    G = groups.symmetric(4)
    return Problem(G, reps.permutation(G), reps.trivial(G), units.neuron(4, 1, "tanh"))


def tilted(E, eps, rng):
    """An orthonormal basis (in a random frame) of a subspace eps radians from span(E)."""
    N = null_space(E.T)
    T = rng.standard_normal((N.shape[1], E.shape[1]))
    T *= eps / np.linalg.norm(T, 2)
    Q = np.linalg.qr(E + N @ T)[0]
    return Q @ np.linalg.qr(rng.standard_normal((E.shape[1], E.shape[1])))[0]


@pytest.mark.parametrize("make", [d4_patch_problem, s4_neuron])
@pytest.mark.parametrize("eps", [0.003, 0.03])
def test_noisy_estimate_of_EG_snaps_back_exactly(make, eps):
    P = make()
    E = dense_orthonormal(P.fixed_subspace())
    rng = np.random.default_rng(0)
    for _ in range(10):
        rows, B = rationalise(tilted(E, eps, rng), max_den=2, tol=0.05)
        assert np.max(subspace_angles(B, E)) < 1e-9
        # exact check: every rational row is fixed by every element (dyadic entries: float is exact)
        R = np.array([[float(x) for x in r] for r in rows])
        assert all(isinstance(x, Fraction) for r in rows for x in r)
        for g in P.group.elements():
            assert np.array_equal(P.act(g, R), R)


def test_canonical_pivots_on_a_noisy_estimate_blow_up_the_entries():
    # why pivots need a gap: with the plain rule the corner w[2] (equal to w[0] in E^G) becomes
    # a pivot of a noisy estimate, and the entries that follow are huge; the guard refuses them
    E = dense_orthonormal(d4_patch_problem().fixed_subspace())
    Q = tilted(E, 0.01, np.random.default_rng(1))
    R, pivots = _rref(Q.T, 1e-8)
    assert np.abs(R).max() > MAX_ENTRY
    R, pivots = _rref(Q.T, 0.05)
    assert pivots == _rref(E.T, 1e-8)[1] and np.abs(R).max() < 2


def test_no_snap_far_from_every_small_denominator_subspace():
    rng = np.random.default_rng(2)
    E = dense_orthonormal(d4_patch_problem().fixed_subspace())
    assert rationalise(tilted(E, 0.3, rng), max_den=2, tol=0.05) is None
    assert rationalise(np.linalg.qr(rng.standard_normal((11, 5)))[0], max_den=2, tol=0.05) is None


def test_orbit_hull_of_one_noisy_direction_is_EG_of_the_patch():
    """A permutation action: one vector of E^G with distinct values on centre, edges and corners
    shows all three orbits; the hull is E^G exactly (checked by acting with every element)."""
    from symfix.discovery import orbit_hull

    P = d4_patch_problem()
    E = dense_orthonormal(P.fixed_subspace())
    rng = np.random.default_rng(3)
    for _ in range(10):
        u = np.zeros(11)
        u[1:10] = [0.2, -0.4, 0.2, -0.4, 0.7, -0.4, 0.2, -0.4, 0.2]  # corners, edges, centre
        Q = np.stack([np.eye(11)[0], u / np.linalg.norm(u), np.eye(11)[10]], axis=1)
        Q = tilted(Q, 0.01, rng)
        rows, B = orbit_hull(Q, tol=0.04)
        assert B.shape[1] == 5 and np.max(subspace_angles(B, E)) < 1e-12
        R = np.array([[float(x) for x in r] for r in rows])
        for g in P.group.elements():
            assert np.array_equal(P.act(g, R), R)


def test_orbit_hull_refuses_unclear_classes_and_merges_equal_values():
    from symfix.discovery import orbit_hull

    u = np.array([0.2, -0.4, 0.2, -0.4, 0.7, -0.4, 0.2, -0.4, 0.2])
    noisy = u + 0.08 * np.random.default_rng(4).standard_normal(9)  # noise above the tolerance
    assert orbit_hull((noisy / np.linalg.norm(noisy))[:, None], tol=0.05) is None
    # edges and corners with the same value: one class, a union of two orbits (still inside E^G)
    v = np.array([0.3, 0.3, 0.3, 0.3, 0.7, 0.3, 0.3, 0.3, 0.3])
    rows, B = orbit_hull((v / np.linalg.norm(v))[:, None], tol=0.01)
    assert [[int(x) for x in r] for r in rows] == [[1, 1, 1, 1, 0, 1, 1, 1, 1], [0, 0, 0, 0, 1, 0, 0, 0, 0]]


def test_orbit_hull_two_rows_between_r_and_2r_apart_are_unclear():
    """Two coordinates whose values differ by more than the row tolerance r but less than 2 r
    could be one orbit drifted apart by the noise or two orbits: no hull. Farther apart than
    2 r they are two classes; closer than r, one."""
    from symfix.discovery import orbit_hull

    tol = 0.02
    r = tol * np.sqrt(1 / 3)  # the row tolerance of one direction in D = 3

    def hull(gap):
        v = np.array([0.6 + gap / 2, 0.6 - gap / 2, -0.5])
        v = v / np.linalg.norm(v)
        return orbit_hull(v[:, None], tol=tol)

    def gap_of(gap):  # the distance of the two rows after normalising
        v = np.array([0.6 + gap / 2, 0.6 - gap / 2, -0.5])
        return (v[0] - v[1]) / np.linalg.norm(v)

    assert gap_of(0.3 * r) < r and len(hull(0.3 * r)[0]) == 2  # one class {0, 1} and {2}
    assert r < gap_of(1.6 * r) < 2 * r and hull(1.6 * r) is None
    assert gap_of(3.5 * r) > 2 * r and len(hull(3.5 * r)[0]) == 3  # three classes


def test_orbit_hull_scales_without_a_distance_matrix():
    """30 000 coordinates in three classes: a D x D distance matrix would need 7 GB."""
    from symfix.discovery import orbit_hull

    D = 30_000
    rng = np.random.default_rng(5)
    cls = rng.integers(0, 3, D)
    v = np.array([1.0, -2.0, 3.0])[cls] + 1e-3 * rng.standard_normal(D)
    rows, B = orbit_hull((v / np.linalg.norm(v))[:, None], tol=0.05)
    assert B.shape == (D, 3)
    found = sorted(tuple(np.flatnonzero([int(x) for x in r])) for r in rows)
    assert found == sorted(tuple(np.flatnonzero(cls == c)) for c in range(3))
