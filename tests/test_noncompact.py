"""Non-compact groups of the catalogue: Lorentz groups and Sp(2n, R).

Dimensions against invariant theory (the complexifications are O(4), SO(4) and Sp(2n, C):
pairings, the Levi-Civita tensor, and for Sp(2) = SL(2) the Catalan numbers), invariance under
sampled elements of every component, exact verification of the bases, a negative control, and
what a non-compact group refuses."""

from __future__ import annotations

from functools import reduce
from math import comb

import numpy as np
import pytest
import sympy

import symfix
from symfix import reps
from symfix.symbolic import groups


def power(V, k):
    return reduce(lambda a, b: a * b, [V] * k)


def catalan(k):
    return comb(2 * k, k) // (k + 1)


def matchings(k):  # perfect matchings of 2k points
    return int(np.prod(range(2 * k - 1, 0, -2))) if k else 1


CASES = [  # group, k, dim of the invariants of V^{⊗k}
    (groups.lorentz(), 2, 1), (groups.lorentz(), 4, matchings(2)), (groups.lorentz(), 6, matchings(3)),
    (groups.lorentz(), 3, 0), (groups.lorentz(orthochronous=True), 4, 3),
    (groups.lorentz(proper=True), 4, 4), (groups.lorentz(proper=True), 6, catalan(3) ** 2),  # SO(4): (½,½) of SU2 x SU2
    (groups.lorentz(proper=True, orthochronous=True), 4, 4),
    (groups.lorentz(1), 2, 1), (groups.lorentz(2, proper=True), 3, 1),  # SO(1,2): the Levi-Civita tensor
    (groups.symplectic(1), 2, 1), (groups.symplectic(1), 4, catalan(2)), (groups.symplectic(1), 6, catalan(3)),
    (groups.symplectic(1), 8, catalan(4)), (groups.symplectic(2), 4, 3), (groups.symplectic(3), 4, 3),
]


@pytest.mark.parametrize("G, k, expected", CASES, ids=lambda c: repr(c) if not isinstance(c, int) else str(c))
def test_invariant_counts_and_invariance_under_sampled_elements(G, k, expected):
    V = reps.defining(G)
    W = power(V, k)
    E = W.fixed_subspace()
    assert E.dim == expected and E.exact
    rng = np.random.default_rng(k)
    B = E.basis.toarray().astype(float)
    for _ in range(4):
        g = G.sample(rng)
        assert G.contains(g)
        M = W.matrix(g)
        assert not B.size or np.abs(M @ B - B).max() <= 1e-8 * max(1.0, np.abs(M).max()) * max(1.0, np.abs(B).max())


def test_bases_are_exact_and_a_wrong_vector_fails_the_same_check():
    """Exact arithmetic: every Lie image and component image fixes the basis; the metric with one
    sign flipped does not."""
    for G, k in [(groups.lorentz(), 2), (groups.lorentz(proper=True), 4), (groups.symplectic(2), 2)]:
        W = power(reps.defining(G), k)
        B = sympy.Matrix(W.fixed_subspace().basis.toarray().tolist())
        lies = [sympy.Matrix(a.to_Matrix()) for a in W.lie_images()]
        comps = [sympy.Matrix(c.to_Matrix()) for c in (o if hasattr(o, "to_Matrix") else None for o in W.gen_images())
                 if c is not None]
        assert all((A * B).is_zero_matrix for A in lies)
        assert all(C * B == B for C in comps)
        bad = B[:, 0].copy()
        j = next(i for i in range(bad.rows) if bad[i] != 0)
        bad[j] = -bad[j]
        assert not all((A * bad).is_zero_matrix for A in lies)


def test_hom_spaces_and_duals_use_the_inverse_transpose():
    """Hom(V, V) of a Lorentz group is spanned by the identity (V* ≠ V: the invariant of V ⊗ V
    is η, that of V* ⊗ V is I)."""
    V = reps.defining(groups.lorentz())
    assert (V >> V).fixed_subspace().basis.toarray().ravel().tolist() == np.eye(4).ravel().tolist()
    eta = (V * V).fixed_subspace().basis.toarray().ravel()
    assert np.array_equal(eta, np.diag([1, -1, -1, -1]).ravel()) or np.array_equal(-eta, np.diag([1, -1, -1, -1]).ravel())
    H = power(V, 3) >> power(V, 3)
    assert H.fixed_subspace().dim == matchings(3)  # = invariants of V^6: Hom(V^3, V^3) ≅ V^6 through η


def test_explicit_representation_matrix_through_components_and_logarithms():
    """from_images with the defining images: matrix(g) = g on every component (the Lie part
    through a logarithm); symmetric generators are accepted for a non-compact group."""
    G = groups.lorentz()
    R = reps.from_images(G, [c.to_Matrix().tolist() for c in G.generators],
                         [a.to_Matrix().tolist() for a in G.lie_generators])
    rng = np.random.default_rng(5)
    seen = set()
    for _ in range(12):
        g = G.sample(rng)
        seen.add((np.linalg.det(g) < 0, g[0, 0] < 0))
        assert np.allclose(R.matrix(g), g, atol=1e-9 * np.abs(g).max())
    assert len(seen) == 4  # all four components of O(1,3) were sampled


def test_a_wrong_lie_image_is_refused():
    G = groups.lorentz()
    lies = [np.array(a.to_Matrix().tolist(), dtype=np.int64) for a in G.lie_generators]
    assert np.array_equal(lies[0], lies[0].T)  # the boost in the (t, x) plane: symmetric
    lies[0] = np.zeros((4, 4), dtype=np.int64)
    lies[0][0, 1], lies[0][1, 0] = -1, 1  # a rotation of the (t, x) plane instead: does not preserve η
    with pytest.raises(symfix.SymfixError):
        reps.from_images(G, [c.to_Matrix().tolist() for c in G.generators], [a.tolist() for a in lies])


def test_what_a_non_compact_group_refuses():
    G = groups.lorentz()
    with pytest.raises(symfix.SymfixError, match="not compact"):
        G.quadrature(8)
    with pytest.raises(symfix.SymfixError, match="compact Lie groups"):
        groups.direct_product(G, groups.cyclic(2))
    with pytest.raises(symfix.SymfixError, match="method='lie'"):
        power(reps.defining(G), 2).fixed_subspace(method="lie")
    with pytest.raises(symfix.SymfixError):
        groups.lorentz(0)
    with pytest.raises(symfix.SymfixError):
        groups.symplectic(0)
    with pytest.raises(symfix.SymfixError):
        groups.lorentz(proper=1)
    assert not G.contains(np.diag([1.0, 1.0, 1.0, 1.0]) * 2)
    assert not groups.lorentz(orthochronous=True).contains(np.diag([-1.0, 1, 1, 1]))
    assert not groups.lorentz(proper=True).contains(np.diag([1.0, -1, 1, 1]))
