"""The ``lie`` route (issue 17): invariants of compact Lie groups on tensor powers through a
finite subgroup acting by signed permutations, checked against closed-form counts, against the
general exact route, in exact arithmetic, and with negative controls."""

from functools import reduce
from math import comb

import numpy as np
import pytest
import scipy.sparse as sp

from symfix import InputError, groups, reps


def power(V, k):
    return reduce(lambda a, b: a * b, [V] * k)


def riordan(n):
    """SO(3) invariants of V^{⊗n}: Riordan numbers, R_n = (n-1)/(n+1) (2 R_{n-1} + 3 R_{n-2})."""
    r = [1, 0]
    for m in range(2, n + 1):
        r.append((m - 1) * (2 * r[m - 1] + 3 * r[m - 2]) // (m + 1))
    return r[n]


@pytest.mark.parametrize("k", range(2, 10))
def test_so3_invariants_of_tensor_powers_match_the_riordan_numbers(k):
    W = power(reps.defining(groups.so3()), k)
    E = W.fixed_subspace("lie")
    assert E.method == "lie" and E.exact
    assert E.dim == riordan(k)
    assert W.fixed_subspace().method == ("lie" if W.dim > 512 else "tensor")  # auto: the faster route
    if E.dim <= 100:
        assert np.linalg.matrix_rank(E.dense_basis()) == E.dim
    if W.dim <= 729:
        assert E.verify(list(W.gen_images()), list(W.lie_images()))


def test_so3_v8_basis_is_exact_and_independent():
    W = power(reps.defining(groups.so3()), 8)
    E = W.fixed_subspace()
    assert E.dim == 91
    lies = [sp.csr_array(np.array(a.to_Matrix().tolist(), dtype=np.int64)) for a in reps.defining(groups.so3()).lie_images()]
    B = sp.csc_array(E.basis)
    # dM(A) on V^{⊗8} applied factor by factor to the basis reshaped as 3^8 tensors
    T = B.toarray().T.reshape(-1, *([3] * 8))
    for A in lies:
        total = sum(np.moveaxis(np.tensordot(A.toarray(), T, axes=([1], [j + 1])), 0, j + 1) for j in range(8))
        assert not total.any()
    assert np.linalg.matrix_rank(B.toarray().astype(float)) == 91


@pytest.mark.parametrize("k", range(2, 9))
def test_so2_invariants_are_central_binomials(k):
    E = power(reps.defining(groups.so2()), k).fixed_subspace("lie")
    assert E.method == "lie" and E.dim == (comb(k, k // 2) if k % 2 == 0 else 0)


@pytest.mark.parametrize("G", [groups.orthogonal(3), groups.orthogonal(4)])
def test_orthogonal_group_odd_powers_have_no_invariants_and_even_ones_the_brauer_count(G):
    V = reps.defining(G)
    for k, brauer in ((2, 1), (3, 0), (4, 3), (5, 0)):
        assert power(V, k).fixed_subspace("lie").dim == brauer  # pairings of k points (n >= k/2... here n >= 3)


@pytest.mark.parametrize("G", [groups.so2(), groups.so3(), groups.orthogonal(3)])
def test_lie_route_equals_the_general_exact_route(G):
    V = reps.defining(G)
    for W in (power(V, 3), power(V, 4), V >> (V * V), (V * V) >> (V + reps.trivial(G))):
        lie, general = W.fixed_subspace(method="lie"), W.fixed_subspace(method="tensor")
        assert lie.dim == general.dim
        both = np.hstack([lie.dense_basis(), general.dense_basis()])
        assert np.linalg.matrix_rank(both) == lie.dim  # the same subspace


def test_rational_change_of_basis_leaves_the_dimension_unchanged():
    # Q = (I - S)(I + S)^{-1} is a rational orthogonal matrix for a rational skew S (Cayley);
    # conjugating the Lie images gives an equivalent representation the lie route does not
    # recognise (explicit images), solved by the general route: same count
    from fractions import Fraction

    import sympy

    S = sympy.Matrix([[0, Fraction(1, 2), Fraction(1, 3)], [Fraction(-1, 2), 0, Fraction(1, 5)], [Fraction(-1, 3), Fraction(-1, 5), 0]])
    Q = (sympy.eye(3) - S) * (sympy.eye(3) + S).inv()
    assert Q * Q.T == sympy.eye(3)
    G = groups.so3()
    images = [Q * sympy.Matrix(a.to_Matrix()) * Q.T for a in reps.defining(G).lie_images()]
    U = reps.from_images(G, [], lie_images=[[[str(x) for x in m.row(i)] for i in range(3)] for m in images])
    for k in (3, 4):
        E = power(U, k).fixed_subspace()
        assert E.method != "lie" and E.dim == riordan(k)


def test_a_wrong_generator_is_caught_by_the_exact_check():
    W = power(reps.defining(groups.so3()), 4)
    E = W.fixed_subspace("lie")
    lies = [np.array(a.to_Matrix().tolist(), dtype=np.int64) for a in W.lie_images()]
    assert E.verify([], [a.tolist() for a in lies])
    wrong = lies[0].copy()
    wrong[0, :] += 1  # no longer dM(A) of anything: one row changed
    assert not E.verify([], [wrong.tolist()] + [a.tolist() for a in lies[1:]])
    assert E.verify([], [lies[0].T.tolist()])  # the transpose of a skew image is -dM(A): it kills the basis too
    assert not E.verify([], [(lies[0] + np.eye(81, dtype=np.int64)).tolist()])  # a non-skew image does not


def test_method_lie_on_an_unsupported_rep_is_a_one_line_error():
    G = groups.so2()
    U = reps.from_images(G, [], lie_images=[[[0, -2], [2, 0]]])
    with pytest.raises(InputError, match="method='lie'"):
        (U * U).fixed_subspace(method="lie")


@pytest.mark.parametrize("n", [4, 5])
def test_special_orthogonal_has_the_brauer_count_plus_the_determinant(n):
    """SO(n) invariants of V^{⊗n}: the O(n) ones (pairings; none for odd n) plus ε."""
    G, O = groups.special_orthogonal(n), groups.orthogonal(n)
    W, U = power(reps.defining(G), n), power(reps.defining(O), n)
    pairings = {4: 3, 5: 0}[n]
    assert U.fixed_subspace("lie").dim == pairings
    assert W.fixed_subspace("lie").dim == pairings + 1
    if W.dim <= 256:  # the general route agrees where it is quick
        assert W.fixed_subspace("tensor").dim == pairings + 1


def test_blocks_of_the_factor_swaps_give_the_same_subspace(monkeypatch):
    """E^H split by the swaps of equal tensor factors: each basis vector is a ±1 eigenvector of
    every swap, and the union of the blocks is the subspace of the unsplit route (forced on small
    cases with SPLIT_MIN = 0; SO(3) V^9 is split by default)."""
    import symfix.symbolic._lie as lie

    so3 = reps.defining(groups.so3())
    O3 = reps.defining(groups.orthogonal(3))
    for W in (power(so3, 4), power(so3, 5), power(O3, 6), power(O3, 3) >> power(O3, 2)):
        monkeypatch.setattr(lie, "SPLIT_MIN", 0)
        split = W.fixed_subspace("lie")
        monkeypatch.setattr(lie, "SPLIT_MIN", 10**9)
        whole = W.fixed_subspace("lie")
        assert split.dim == whole.dim
        both = np.hstack([split.dense_basis(), whole.dense_basis()])
        assert np.linalg.matrix_rank(both) == split.dim
    monkeypatch.undo()
    W = power(so3, 9)
    E = W.fixed_subspace("lie")
    B = sp.csc_array(E.basis).toarray()
    T = B.T.reshape(-1, *([3] * 9))
    for a, b in ((0, 1), (2, 3), (4, 5), (6, 7)):
        swapped = np.swapaxes(T, a + 1, b + 1).reshape(len(T), -1)
        sym, anti = (swapped == B.T).all(axis=1), (swapped == -B.T).all(axis=1)
        assert (sym | anti).all()  # every basis vector has a sign under every swap
        assert sym.any() and anti.any()  # both blocks occur (a control that the split happened)
