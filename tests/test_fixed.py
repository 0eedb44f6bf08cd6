import numpy as np
import pytest
import scipy.sparse as sp

from symfix import Problem, fixed_point_subspace, groups, intertwiners, reps, units
from symfix._sharing import character_dimension

from .conftest import finite_catalogue, rep_catalogue

CASES = [(gn, G, rn, r) for gn, G in finite_catalogue() for rn, r in rep_catalogue(G)]


def brute_force_dim(rep):
    """(1/|G|) Σ_g tr ρ(g) from the dense matrices, independent of the structural character."""
    G = rep.group
    return sum(np.trace(rep.matrix(g)) for g in G.elements()) / G.order


@pytest.mark.parametrize("gname,G,rname,rep", CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_dimension_matches_character_formula(gname, G, rname, rep):
    E = rep.fixed_subspace()
    chi = brute_force_dim(rep)
    assert abs(chi - round(chi)) < 1e-9
    assert E.dim == round(chi) == character_dimension(rep)
    assert E.exact


@pytest.mark.parametrize("gname,G,rname,rep", CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_exact_basis_is_verified_exactly(gname, G, rname, rep):
    E = rep.fixed_subspace()
    assert E.verify(rep.gen_images(), rep.lie_images())


@pytest.mark.parametrize("gname,G,rname,rep", CASES[::3], ids=[f"{c[0]}-{c[2]}" for c in CASES[::3]])
def test_projector_laws(gname, G, rname, rep, rng):
    E = rep.fixed_subspace()
    D = rep.dim
    P = E.project(np.eye(D))  # columns P e_i; fine at these small sizes, and checks project itself
    assert np.allclose(P @ P, P, atol=1e-12)
    assert np.allclose(P, P.T, atol=1e-12)
    assert np.linalg.matrix_rank(P, tol=1e-9) == E.dim
    for _ in range(4):
        g = G.sample(rng)
        assert np.abs(rep.matrix(g) @ P - P).max() < 1e-12
    v = rng.standard_normal((3, 2, D))
    assert np.allclose(E.project(v), v @ P, atol=1e-12)


@pytest.mark.parametrize("n", [3, 4, 5])
def test_sn_hom_dimensions(n):
    V = reps.permutation(groups.symmetric(n))
    assert reps.hom(V * V, V).fixed_subspace().dim == 5
    dim4 = reps.hom(V * V, V * V).fixed_subspace().dim
    assert dim4 == (15 if n >= 4 else 14)


@pytest.mark.parametrize("k,expected", [(3, 1), (4, 3), (5, 6), (6, 15), (7, 36)])
def test_so3_tensor_invariants(k, expected):
    G = groups.so3()
    V = reps.defining(G)
    T = reps.tensor(*([V] * k))
    for method, route in (("lie", "lie"), ("tensor", "tensor")):  # both exact routes
        E = T.fixed_subspace(method)
        assert E.dim == expected and E.exact and E.method == route
        assert E.verify(T.gen_images(), T.lie_images())


def test_so3_invariants_are_invariant_under_sampled_rotations(rng):
    G = groups.so3()
    V = reps.defining(G)
    T = V * V * V * V
    E = T.fixed_subspace()
    B = E.dense_basis()
    for _ in range(3):
        g = G.sample(rng)
        assert np.abs(T.matrix(g) @ B - B).max() < 1e-10


def test_paper_c2_matrix_unit():
    G = groups.cyclic(2)
    V = reps.permutation(G)
    E = Problem(G, V, V, units.matrix_unit(2, 2)).fixed_subspace()
    assert E.dim == 2
    assert sorted(map(tuple, E.basis.toarray().T.tolist())) == [(0, 1, 1, 0), (1, 0, 0, 1)]


def test_neuron_with_c2_swapping_inputs():
    G = groups.cyclic(2)
    P = Problem(G, reps.permutation(G), reps.trivial(G), units.neuron(2, 1))
    E = P.fixed_subspace()
    names = P.unit.param_names
    B = E.basis.toarray()
    iw0, iw1 = names.index("w[0]"), names.index("w[1]")
    assert E.dim == 3
    assert np.array_equal(B[iw0], B[iw1])  # E^G = {w1 = w2}, a and b free
    assert np.linalg.matrix_rank(np.delete(B, iw1, axis=0)) == 3


def test_negative_control_wrong_basis_fails_verification():
    G = groups.dihedral(4)
    V = reps.permutation(G)
    rep = V >> V
    E = rep.fixed_subspace()
    bad_basis = E.basis.toarray().copy()
    bad_basis[0, 0] += 1
    from symfix import FixedSubspace

    wrong = FixedSubspace(basis=sp.csc_array(bad_basis), dim=E.dim, ambient_dim=E.ambient_dim, exact=True, method="orbit")
    assert not wrong.verify(rep.gen_images())
    # and a dense exact route basis, broken, fails too
    Ed = rep.fixed_subspace(method="exact")
    b2 = Ed.basis.toarray().copy()
    b2[1, 0] -= 1
    assert not FixedSubspace(basis=sp.csc_array(b2), dim=Ed.dim, ambient_dim=Ed.ambient_dim, exact=True, method="exact").verify(
        [g.to_dense().astype(int) for g in rep.gen_images()]
    )


def same_subspace(E1, E2):
    B = E1.dense_basis()
    return E1.dim == E2.dim and np.allclose(E2.project(B.T).T, B, atol=1e-9)


@pytest.mark.parametrize("G", [groups.dihedral(4), groups.alternating(4), groups.from_generators([[[0, -1], [1, 0]]])])
def test_routes_agree(G):
    V = reps.defining(G)
    rep = V >> (V + reps.trivial(G))
    auto = rep.fixed_subspace()
    for method in ("exact", "tensor", "numeric"):
        assert same_subspace(auto, rep.fixed_subspace(method)), method
    raw = fixed_point_subspace([rep.exact_matrix(h) for h in G.generators])
    assert same_subspace(auto, raw)


def test_tensor_route_matches_exact_on_rotation_group():
    G = groups.from_generators([[["sqrt(2)/2", "-sqrt(2)/2"], ["sqrt(2)/2", "sqrt(2)/2"]]])
    V = reps.defining(G)
    rep = V * V * V.dual
    t = rep.fixed_subspace("tensor")
    e = rep.fixed_subspace("exact")
    assert t.dim == e.dim == brute_force_dim(rep)
    assert same_subspace(t, e)


def test_signed_permutations_with_inconsistent_signs():
    # a 2-cycle with one sign flip: v0 = v1 and v1 = -v0 forces zero; a third coordinate is fixed
    E = fixed_point_subspace([[[0, -1, 0], [1, 0, 0], [0, 0, 1]]])
    assert E.method == "orbit" and E.dim == 1
    assert E.basis.toarray().ravel().tolist() == [0, 0, 1]
    E = fixed_point_subspace([[[0, -1], [-1, 0]]])
    assert E.basis.toarray().ravel().tolist() == [1, -1]


def test_numeric_route_reports_gap_and_tolerance(rng):
    c, s = np.cos(0.3), np.sin(0.3)
    R = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])
    E = fixed_point_subspace([R])
    assert E.method == "numeric" and not E.exact and E.dim == 1
    assert E.gap > 1e6 and E.tol == 1e-10
    assert np.allclose(np.abs(E.basis.ravel()), [0, 0, 1])
    assert E.verify([R])
    noisy = R + 1e-6 * rng.standard_normal((3, 3))
    En = fixed_point_subspace([noisy], rtol=1e-3)
    assert En.dim == 1 and En.gap > 10


def test_algebraic_field_basis_is_exact():
    h = "sqrt(2)/2"
    R = [[h, f"-{h}"], [h, h]]
    G = groups.from_generators([R])
    V = reps.defining(G)
    E = (V >> V).fixed_subspace("exact")
    assert E.exact and E.dim == 2
    assert E.verify((V >> V).gen_images())


def test_orbit_route_scales_to_large_permutation_actions():
    D = 200_000
    perm = np.roll(np.arange(D), 1)
    E = fixed_point_subspace([perm.tolist()])
    assert E.dim == 1 and E.method == "orbit"
    v = np.arange(D, dtype=float)
    assert np.allclose(E.project(v), v.mean())


def test_lie_generators_only():
    E = fixed_point_subspace([], lie_generators=[[[0, -1, 0], [1, 0, 0], [0, 0, 0]]])
    assert E.dim == 1 and E.basis.toarray().ravel().tolist() == [0, 0, 1]


def test_intertwiners_are_equivariant(rng):
    G = groups.symmetric(4)
    V = reps.permutation(G)
    W = V * V
    I = intertwiners(V, W)
    assert I.dim == brute_force_dim(reps.hom(V, W)) == 5
    for X in I.matrices():
        for _ in range(3):
            g = G.sample(rng)
            assert np.allclose(W.matrix(g) @ X, X @ V.matrix(g))


def test_direct_sum_blocks_place_each_part_at_its_offset():
    # algebraic + orbit + tensor parts, and a float part of dimension 0 between two others
    G = groups.from_generators([[["sqrt(2)/2", "-sqrt(2)/2"], ["sqrt(2)/2", "sqrt(2)/2"]]])
    V = reps.defining(G)
    r = (V >> V) + V + reps.trivial(G)
    E = r.fixed_subspace()
    assert E.exact and E.dim == brute_force_dim(r) == 3
    assert E.verify(r.gen_images())
    C3 = groups.cyclic(3)
    c, s = np.cos(2 * np.pi / 3), np.sin(2 * np.pi / 3)
    F = reps.from_images(C3, [np.array([[c, -s], [s, c]])])
    rf = F + reps.trivial(C3) + F
    Ef = rf.fixed_subspace()
    assert not Ef.exact and Ef.dim == 1
    assert np.allclose(np.abs(Ef.dense_basis().ravel()), [0, 0, 1, 0, 0])
