"""Direct products with a compact Lie factor and representations through one factor (issue 17):
SO(3) x S_n on the spaces of point-cloud layers, dimensions against the product of the factors'
counts, exact and sampled checks, and the errors."""

import numpy as np
import pytest

from symfix import InputError, groups, reps


def layer_spaces(n):
    SO3, Sn = groups.so3(), groups.symmetric(n)
    P = groups.direct_product(SO3, Sn)
    V, Q = reps.factor(P, 0, reps.defining(SO3)), reps.factor(P, 1, reps.permutation(Sn))
    X = V * Q
    return P, {"Hom(VxP, VxP)": (X >> X, 2), "(VxP)^2 -> VxP": ((X * X) >> X, 3)}


@pytest.mark.parametrize("n", [3, 5, 20])
def test_so3_times_sn_dimensions_are_the_product_of_the_factors_counts(n):
    P, spaces = layer_spaces(n)
    V, Q = reps.defining(groups.so3()), reps.permutation(groups.symmetric(n))
    for name, (W, k) in spaces.items():
        E = W.fixed_subspace()
        # E^{G x F}(V^k (x) Q^k) = E^G(V^k) (x) E^F(Q^k): the Lie count times the finite one
        Vk = V if k == 1 else (V * V if k == 2 else V * V * V)
        Qk = Q * Q if k == 2 else Q * Q * Q
        assert E.exact and E.dim == Vk.fixed_subspace().dim * Qk.fixed_subspace().dim, name
        if W.dim <= 1000:
            assert E.verify(list(W.gen_images()), list(W.lie_images()))


def test_sampled_elements_fix_the_basis(rng):
    P, spaces = layer_spaces(4)
    W, _ = spaces["Hom(VxP, VxP)"]
    B = W.fixed_subspace().dense_basis()
    for _ in range(3):
        g = P.sample(rng)
        assert np.abs(W.matrix(g) @ B - B).max() < 1e-10
    # control: a rotation acting on one side only does not fix the basis
    V = reps.factor(P, 0, reps.defining(groups.so3()))
    Q = reps.factor(P, 1, reps.permutation(groups.symmetric(4)))
    g = P.sample(rng)
    one_sided = np.kron(np.kron(V.matrix(g), Q.matrix(P.identity)), np.eye(12))
    assert np.abs(one_sided @ B - B).max() > 1e-3


def test_finite_products_take_factor_representations_too():
    C2, C3 = groups.cyclic(2), groups.cyclic(3)
    P = groups.direct_product(C2, C3)
    A, B = reps.factor(P, 0, reps.permutation(C2)), reps.factor(P, 1, reps.permutation(C3))
    W = (A * B) >> (A * B)
    count = round(sum(W.character(g) for g in P.elements()) / P.order)
    assert W.fixed_subspace().dim == count == 2 * 3


def test_bad_factor_arguments_are_refused():
    P = groups.direct_product(groups.so3(), groups.symmetric(3))
    with pytest.raises(InputError, match="factor 1"):
        reps.factor(P, 1, reps.defining(groups.so3()))
    with pytest.raises(InputError, match="0 or 1"):
        reps.factor(P, 2, reps.defining(groups.so3()))
    with pytest.raises(InputError, match="direct product"):
        reps.factor(groups.so3(), 0, reps.defining(groups.so3()))
    with pytest.raises(InputError, match="different groups"):
        reps.defining(groups.so3()) * reps.factor(P, 0, reps.defining(groups.so3()))
