"""The ``rational-form`` route (issue 17): finite groups with algebraic entries solved over Q
in a basis where their images are rational, then mapped back exactly."""

from functools import reduce

import numpy as np
import pytest

from symfix import groups, reps


def d6():
    return groups.from_generators([[["1/2", "-sqrt(3)/2"], ["sqrt(3)/2", "1/2"]], [[1, 0], [0, -1]]])


def power(V, k):
    return reduce(lambda a, b: a * b, [V] * k)


def character_dim(W, G):
    """(1/|G|) Σ_g tr ρ(g): the dimension of E^G by the character formula."""
    return round(sum(W.character(g) for g in G.elements()) / G.order)


@pytest.mark.parametrize("case", ["V*V", "Hom(V,V)", "Hom(V^2,V)", "Hom(V^3,V^3)", "V^4"])
def test_d6_with_sqrt3_entries_matches_the_general_route_and_the_character_formula(case):
    G = d6()
    V = reps.defining(G)
    W = {"V*V": V * V, "Hom(V,V)": V >> V, "Hom(V^2,V)": (V * V) >> V, "Hom(V^3,V^3)": power(V, 3) >> power(V, 3),
         "V^4": power(V, 4)}[case]
    E, F = W.fixed_subspace(), W.fixed_subspace("tensor")
    assert E.method.startswith("rational-form") and E.exact and F.method == "tensor"
    assert E.dim == F.dim == character_dim(W, G)
    assert np.linalg.matrix_rank(np.hstack([E.dense_basis(), F.dense_basis()])) == E.dim  # the same subspace
    assert E.verify(list(W.gen_images()))  # exact, over Q(sqrt 3)


def test_the_exact_check_catches_a_wrong_basis():
    G = d6()
    V = reps.defining(G)
    W = power(V, 2) >> power(V, 2)
    E = W.fixed_subspace()
    assert E.verify(list(W.gen_images()))
    wrong = E.basis.copy()
    wrong[0, 0] += 1
    from symfix import FixedSubspace

    bad = FixedSubspace(basis=wrong, dim=E.dim, ambient_dim=E.ambient_dim, exact=True, method="test")
    assert not bad.verify(list(W.gen_images()))


def test_no_rational_form_falls_back_to_the_general_route():
    # C5 rotating the plane: cos 72° is irrational and the 2-d representation has no rational
    # form (its character takes irrational values), so the general route over Q(sqrt 5) solves it
    c, s = "(sqrt(5)-1)/4", "sqrt(10+2*sqrt(5))/4"
    G = groups.from_generators([[[c, f"-{s}"], [s, c]]])
    V = reps.defining(G)
    E = (V >> V).fixed_subspace()
    assert not E.method.startswith("rational-form")
    assert E.dim == character_dim(V >> V, G) == 2


def test_change_of_basis_is_applied_factor_by_factor_exactly():
    """(⊗ F_m) B through the power-basis coordinates of Q(√3), one tensor factor at a time, equals
    the Kronecker product formed over K by sympy, up to the one positive scalar the integer
    coordinates introduce. Factors with rational and irrational entries mixed (V ⊗ V* ⊗ V): a
    rational entry read as a multiple of θ (the coefficient list is leading first) fails this."""
    import sympy
    from sympy import Matrix

    from symfix.symbolic import _rational_form as rf

    V = reps.defining(d6())
    _, factors = rf._walk(V * V.dual * V, {})
    dom = reduce(lambda a, b: a.unify(b), [f.domain for f in factors])
    factors = [f.convert_to(dom) for f in factors]
    assert len(factors) == 3 and any(x.to_list() != [] and len(x.to_list()) == 1
                                     for f in factors for row in f.to_list() for x in row)  # a rational entry
    rng = np.random.default_rng(0)
    B = np.array([[sympy.Rational(int(rng.integers(-3, 4)), int(rng.integers(1, 4))) for _ in range(2)]
                  for _ in range(8)], dtype=object)
    got = rf._apply(factors, B)
    K = reduce(lambda a, b: sympy.kronecker_product(a, b), [f.to_Matrix() for f in factors])
    want = K * Matrix(B.tolist())
    for c in range(2):
        k = next(i for i in range(8) if want[i, c] != 0)
        ratio = sympy.nsimplify(got[k, c] / want[k, c])
        assert ratio.is_Rational and ratio > 0
        assert all(sympy.expand(got[i, c] - ratio * want[i, c]) == 0 for i in range(8))
