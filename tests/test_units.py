import numpy as np
import pytest

from symfix import EquivarianceError, InputError, Problem, RepresentationError, groups, reps, units


def problems():
    C2 = groups.cyclic(2)
    S3 = groups.symmetric(3)
    D4 = groups.dihedral(4)
    SO2 = groups.so2()
    V3 = reps.permutation(S3)
    return [
        ("c2-matrix", Problem(C2, reps.permutation(C2), reps.permutation(C2), units.matrix_unit(2, 2, "sigmoid"))),
        ("s3-neuron-inv", Problem(S3, V3, reps.trivial(S3), units.neuron(3, 1, "relu"))),
        ("s3-neuron-eq", Problem(S3, V3, V3, units.neuron(3, 3, "tanh"))),
        ("d4-mlp-regular", Problem(D4, reps.permutation(D4), reps.trivial(D4), units.mlp([4, 8, 1], "relu", [reps.regular(D4)]))),
        ("s3-mlp-2hidden", Problem(S3, V3, V3, units.mlp([3, 6, 3, 3], "sigmoid", [V3 + V3, V3]))),
        ("so2-neuron", Problem(SO2, reps.defining(SO2), reps.trivial(SO2), units.neuron(2, 1, "tanh"))),
        ("so2-linear-matrix", Problem(SO2, reps.defining(SO2), reps.defining(SO2), units.matrix_unit(2, 2, "identity"))),
    ]


@pytest.mark.parametrize("name,P", problems(), ids=[p[0] for p in problems()])
def test_units_are_jointly_equivariant(name, P, rng):
    report = P.check_equivariance(rng=rng, n_samples=8)
    assert report.ok, report


@pytest.mark.parametrize("name,P", problems(), ids=[p[0] for p in problems()])
def test_act_matches_parameter_representation(name, P, rng):
    theta = rng.standard_normal((5, P.param_dim))
    for _ in range(3):
        g = P.group.sample(rng)
        M = P.param_rep.matrix(g)
        assert np.allclose(P.act(g, theta), theta @ M.T, atol=1e-12)


@pytest.mark.parametrize("name,P", problems(), ids=[p[0] for p in problems()])
def test_fixed_parameters_give_invariant_units(name, P, rng):
    # θ ∈ E^G: σ_*(ρ_g x, θ) = ρ̂_g σ_*(x, θ), and M_g θ = θ
    E = P.fixed_subspace()
    theta = E.project(rng.standard_normal((4, P.param_dim)))
    x = rng.standard_normal((6, P.unit.d))
    for _ in range(3):
        g = P.group.sample(rng)
        a, b, _ = P.matrices(g)
        assert np.allclose(P.act(g, theta), theta, atol=1e-12)
        lhs = P.unit.forward(x @ a.T, theta)
        rhs = np.einsum("ij,nbj->nbi", b, P.unit.forward(x, theta))
        assert np.allclose(lhs, rhs, atol=1e-12)


def test_torch_and_numpy_forward_agree(rng):
    import torch

    for _, P in problems():
        x = rng.standard_normal((5, P.unit.d))
        th = rng.standard_normal((3, P.param_dim))
        out_np = P.unit.forward(x, th)
        out_t = P.unit.forward(torch.tensor(x), torch.tensor(th)).numpy()
        assert out_t.shape == (3, 5, P.unit.c)
        assert np.allclose(out_np, out_t, atol=1e-12)


def test_negative_controls_fail_clearly(rng):
    C2 = groups.cyclic(2)
    flip = reps.from_images(C2, [[[-1]]])
    T = reps.trivial(C2)
    # sigmoid is not odd, so a sign-flipped hidden neuron breaks equivariance
    P = Problem(C2, T, T, units.mlp([1, 1, 1], "sigmoid", [flip]))
    assert not P.check_equivariance(rng=rng).ok
    with pytest.raises(EquivarianceError, match="not odd"):
        P.check_equivariance(rng=rng, raise_on_failure=True)
    # a non-entrywise activation with a permuted hidden layer
    S3 = groups.symmetric(3)
    weights = np.array([1.0, 2.0, 3.0])
    P2 = Problem(S3, reps.trivial(S3), reps.trivial(S3), units.mlp([1, 3, 1], lambda h: np.tanh(h) * weights, [reps.permutation(S3)]))
    with pytest.raises(EquivarianceError, match="non-entrywise"):
        P2.check_equivariance(rng=rng, raise_on_failure=True)
    # a rotation acting on the outputs of an entrywise sigmoid unit
    SO2 = groups.so2()
    P3 = Problem(SO2, reps.defining(SO2), reps.defining(SO2), units.matrix_unit(2, 2, "sigmoid"))
    assert not P3.check_equivariance(rng=rng).ok


def test_problem_validation():
    C2 = groups.cyclic(2)
    V = reps.permutation(C2)
    with pytest.raises(RepresentationError, match="dimension"):
        Problem(C2, V, V, units.matrix_unit(3, 2))
    with pytest.raises(RepresentationError, match="outputs"):
        Problem(C2, V, reps.trivial(C2), units.matrix_unit(2, 2))
    skew = reps.from_images(C2, [[[1, 1], [0, -1]]])
    with pytest.raises(RepresentationError, match="orthogonal"):
        Problem(C2, skew, V, units.matrix_unit(2, 2))
    with pytest.raises(InputError, match="not of"):
        Problem(C2, reps.permutation(groups.cyclic(3)), V, units.matrix_unit(3, 2))
    with pytest.raises(InputError):
        units.mlp([2, 3, 1], "relu", [reps.trivial(C2, 2)])
    with pytest.raises(InputError, match="activation"):
        units.neuron(2, 1, "swish-unknown")
    with pytest.raises(InputError):
        units.neuron(0, 1)


def test_param_names_and_layout():
    u = units.mlp([2, 3, 1])
    assert u.param_dim == len(u.param_names) == 2 * 3 + 3 + 3 + 1
    assert u.param_names[:2] == ("W1[0,0]", "W1[0,1]") and u.param_names[-1] == "b2[0]"
    assert units.neuron(3, 2).param_names == ("a[0]", "a[1]", "w[0]", "w[1]", "w[2]", "b")


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "identity", "softplus", "sin"])
@pytest.mark.parametrize("kind", ["neuron", "matrix"])
def test_closed_form_gradients_match_autograd(kind, activation, rng):
    import torch

    from symfix.units._units import Unit

    unit = units.neuron(3, 2, activation) if kind == "neuron" else units.matrix_unit(3, 2, activation)
    th = torch.as_tensor(rng.standard_normal((7, unit.param_dim)))
    x = torch.as_tensor(rng.standard_normal((5, 3)))
    y = torch.as_tensor(rng.standard_normal((5, 2)))

    def dloss(phi):
        return 2 * (phi - y) / 5, ((phi - y) ** 2).sum() / 5

    loss, g = unit.mean_value_and_grad(x, th, dloss)
    loss_ref, g_ref = Unit.mean_value_and_grad(unit, x, th, dloss)  # the autograd default
    assert abs(float(loss) - float(loss_ref)) < 1e-12
    assert torch.abs(g - g_ref).max() < 1e-12
    # negative control: a wrong residual gives a different gradient
    _, g_bad = unit.mean_value_and_grad(x, th, lambda phi: (3 * (phi - y) / 5, ((phi - y) ** 2).sum() / 5))
    assert torch.abs(g_bad - g_ref).max() > 1e-6
