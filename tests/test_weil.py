"""The ``weil`` route (issue 17): finite groups with entries in a number field and no rational
form (C5, D5 on the plane: cos and sin of 72°) solved over Q by restriction of scalars."""

from functools import reduce

import numpy as np
import pytest

from symfix import FixedSubspace, groups, reps

C, S = "(sqrt(5)-1)/4", "sqrt(10+2*sqrt(5))/4"


def c5():
    return groups.from_generators([[[C, f"-{S}"], [S, C]]])


def d5():
    return groups.from_generators([[[C, f"-{S}"], [S, C]], [[1, 0], [0, -1]]])


def power(V, k):
    return reduce(lambda a, b: a * b, [V] * k)


def character_dim(W, G):
    return round(sum(W.character(g) for g in G.elements()) / G.order)


@pytest.mark.parametrize("make", [c5, d5], ids=["C5", "D5"])
@pytest.mark.parametrize("case", ["V*V", "Hom(V,V)", "Hom(V^2,V)", "Hom(V^2,V^2)", "Hom(V^3,V^3)", "V^4"])
def test_no_rational_form_is_solved_by_restriction_of_scalars(make, case):
    G = make()
    V = reps.defining(G)
    W = {"V*V": V * V, "Hom(V,V)": V >> V, "Hom(V^2,V)": (V * V) >> V, "Hom(V^2,V^2)": power(V, 2) >> power(V, 2),
         "Hom(V^3,V^3)": power(V, 3) >> power(V, 3), "V^4": power(V, 4)}[case]
    E = W.fixed_subspace()
    assert E.method == "weil" and E.exact
    assert E.dim == character_dim(W, G)
    assert E.verify(list(W.gen_images()))  # exact, over the field of the entries
    if W.dim <= 16:  # the general route over K is slow beyond
        F = W.fixed_subspace("tensor")
        assert F.dim == E.dim
        assert np.linalg.matrix_rank(np.hstack([E.dense_basis(), F.dense_basis()])) == E.dim  # the same subspace


def test_a_perturbed_weil_basis_fails_the_exact_check():
    W = power(reps.defining(c5()), 2) >> power(reps.defining(c5()), 2)
    E = W.fixed_subspace()
    assert E.method == "weil" and E.verify(list(W.gen_images()))
    wrong = E.basis.copy()
    i = next(r for r in range(wrong.rows) if wrong[r, 0] != 0)
    wrong[i, 0] = 2 * wrong[i, 0]
    bad = FixedSubspace(basis=wrong, dim=E.dim, ambient_dim=E.ambient_dim, exact=True, method="test")
    assert not bad.verify(list(W.gen_images()))
