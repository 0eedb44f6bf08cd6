"""The multi-modular exact solver: agreement with exact elimination, unlucky primes, certificates."""

import flint
import numpy as np
import pytest
import sympy

from symfix import fixed_point_subspace, groups, reps
from symfix.symbolic._modular import _primes, nullspace_blocks


def conjugated(mats, seed):
    """T M T^-1 for a random rational T: dense rational matrices of the same action."""
    rng = np.random.default_rng(seed)
    D = mats[0].shape[0]
    L = np.tril(rng.integers(-2, 3, (D, D)), -1) + np.eye(D, dtype=np.int64)
    U = np.triu(rng.integers(-2, 3, (D, D)), 1) + np.diag(rng.integers(1, 4, D))
    T = sympy.Matrix(L) * sympy.Matrix(U)
    Ti = T.inv()
    return [T * sympy.Matrix(M) * Ti for M in mats]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("G", [groups.dihedral(4), groups.symmetric(3)], ids=["D4", "S3"])
def test_dense_rational_action_matches_character_formula_and_verifies(G, seed):
    V = reps.defining(G) if G.order == 8 else reps.permutation(G)
    rep = V * V
    gens = conjugated([rep.matrix(h).astype(np.int64) for h in G.generators], seed)
    assert all(sum(1 for x in M if x != 0) > 0.5 * M.shape[0] ** 2 for M in gens)  # really dense
    E = fixed_point_subspace(gens)
    expected = round(sum(np.trace(rep.matrix(g)) for g in G.elements()) / G.order)
    assert E.exact and E.dim == expected
    assert E.verify(gens)
    # the same subspace as sympy's elimination over QQ, column for column up to scale
    stacked = sympy.Matrix.vstack(*[M - sympy.eye(M.shape[0]) for M in gens])
    ref = sympy.Matrix.hstack(*stacked.nullspace())
    B = E.basis if isinstance(E.basis, sympy.MatrixBase) else sympy.Matrix(E.basis.toarray())
    assert sympy.Matrix.hstack(ref, B).rank() == E.dim


def test_negative_control_wrong_dense_basis_fails_verification():
    G = groups.dihedral(4)
    rep = reps.defining(G) * reps.defining(G)
    gens = conjugated([rep.matrix(h).astype(np.int64) for h in G.generators], 0)
    E = fixed_point_subspace(gens)
    bad = E.basis.toarray()
    bad[0, 0] += 1
    from symfix import FixedSubspace

    wrong = FixedSubspace(basis=sympy.Matrix(bad), dim=E.dim, ambient_dim=E.ambient_dim, exact=True, method="exact")
    assert not wrong.verify(gens)


def test_unlucky_prime_is_detected_and_skipped():
    p = next(_primes())  # the first prime the solver uses
    # full rank over QQ, rank 1 modulo p: the first prime sees a spurious null vector
    A = flint.fmpz_mat([[p, 1], [0, 1]])
    assert nullspace_blocks([A]) == []


def test_lift_that_fails_verification_takes_more_primes():
    p = next(_primes())
    # null space spanned by (-p, 1): modulo the first prime it reads (0, 1), which is wrong
    A = flint.fmpz_mat([[1, p]])
    (v,) = nullspace_blocks([A])
    assert v in ([-p, 1], [p, -1])


def test_large_entries_need_several_primes():
    big = 3**200
    A = flint.fmpz_mat([[big, -1, 0], [0, big + 1, -big]])
    (v,) = nullspace_blocks([A])
    B = flint.fmpz_mat(3, 1, v)
    assert (A * B).is_zero() and any(x != 0 for x in v)


def test_shifted_image_is_the_image_of_z_minus_d_identity_and_leaves_the_cache_alone():
    from symfix.symbolic._modular import FIRST_PRIME, IntegerForm

    rng = np.random.default_rng(3)
    Z = flint.fmpz_mat([[int(v) * 10**30 + 1 for v in row] for row in rng.integers(-10**6, 10**6, (5, 5))])
    d = 7**40
    form = IntegerForm(Z, d)
    plain = form.image(FIRST_PRIME)
    shifted = form.image(FIRST_PRIME, d)
    explicit = flint.nmod_mat(Z - flint.fmpz_mat([[d * (i == j) for j in range(5)] for i in range(5)]), FIRST_PRIME)
    assert shifted == explicit and shifted != plain
    assert form.image(FIRST_PRIME) == flint.nmod_mat(Z, FIRST_PRIME)  # the cached image was not modified
    B = flint.fmpz_mat(5, 1, [1, 0, 0, 0, 0])
    assert form.annihilates(B, 0) == (Z * B).is_zero()


def test_flint_threads_restores_the_previous_setting():
    from symfix.symbolic._modular import flint_threads

    before = flint.ctx.threads
    with flint_threads(3):
        assert flint.ctx.threads == 3
    assert flint.ctx.threads == before
    with pytest.raises(RuntimeError), flint_threads(2):
        raise RuntimeError
    assert flint.ctx.threads == before


@pytest.mark.parametrize("D", [100, 150])
def test_sparse_and_dense_singular_generators_are_refused(D):
    """A rank-deficient generator is caught on both the sparse and the dense path."""
    from symfix import GroupError

    rng = np.random.default_rng(D)
    sparse = sympy.eye(D)
    sparse[D - 1, D - 1] = 0
    sparse[0, 1] = sympy.Rational(1, 3)  # not monomial
    dense = sympy.Matrix(rng.integers(-3, 4, (D, D)))
    dense[:, D - 1] = dense[:, 0] + dense[:, 1]  # rank D - 1
    for M in (sparse, dense):
        with pytest.raises(GroupError, match="singular"):
            fixed_point_subspace([M])
    shear = sympy.eye(D)
    shear[0, 1] = sympy.Rational(1, 3)
    assert fixed_point_subspace([shear]).dim == D - 1  # control: invertible, accepted


def test_first_prime_is_the_first_prime_of_every_solve():
    """The determinant check reuses the solve's first image only if the two primes agree."""
    from symfix.symbolic._modular import FIRST_PRIME

    assert FIRST_PRIME == next(_primes()) == sympy.prevprime(2**50) and sympy.isprime(FIRST_PRIME)
