"""symfix.nets: the parameter symmetry group of torch models, checked against hand counts and the
mathematics (function invariance, homomorphisms, character formula, gradient flow in Fix(H))."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.linalg import expm
from scipy.sparse.linalg import expm_multiply
from torch import nn

import symfix
import symfix.nets as sn
from symfix import SignedPerm

DT = torch.float64


class ResMLP(nn.Module):
    """x -> h = inp(x); h = h + f2(relu(f1(h))); out(relu(h)): f2's and inp's outputs are tied."""

    def __init__(self, d: int = 3, w: int = 4, h: int = 6, c: int = 2) -> None:
        super().__init__()
        self.inp, self.f1, self.f2, self.out = nn.Linear(d, w), nn.Linear(w, h), nn.Linear(h, w), nn.Linear(w, c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.inp(x)
        h = h + self.f2(torch.relu(self.f1(h)))
        return self.out(torch.relu(h))


def _nets() -> dict:
    torch.manual_seed(0)
    bn = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4, eps=0.0), nn.ReLU(), nn.Linear(4, 2))
    with torch.no_grad():  # non-trivial running statistics; eval mode: eps = 0 is allowed there
        bn[1].running_mean.uniform_(-1, 1)
        bn[1].running_var.uniform_(0.5, 2)
    return {
        "tanh-mlp": (nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 2)), (3,)),
        "relu-mlp": (nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Sequential(nn.Linear(4, 5), nn.ReLU()), nn.Linear(5, 2)), (3,)),
        "linear": (nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2)), (3,)),
        "residual": (ResMLP(), (3,)),
        "cnn": (nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU(), nn.Conv2d(3, 4, 3), nn.Tanh(), nn.Flatten(),
                              nn.Linear(4 * 4 * 4, 2)), (2, 8, 8)),
        "batchnorm": (bn.eval(), (3,)),
    }


NETS = _nets()
# hand-derived: (order of the discrete part, Lie dimension)
EXPECTED = {
    "tanh-mlp": (math.factorial(4) * 2**4 * math.factorial(5) * 2**5, 0),
    "relu-mlp": (math.factorial(4) * math.factorial(5), 4 + 5),
    "linear": (math.factorial(4) * 2**4, 4 * 4),  # GL(4): signed permutations are its discrete part
    "residual": (math.factorial(4) * math.factorial(6), 4 + 6),  # inp and f2 share one S_4
    "cnn": (math.factorial(3) * math.factorial(4) * 2**4, 3),
    "batchnorm": (math.factorial(4) * 2**4, 4 + 4),  # signs absorbed by BN's weight; BN scale + ReLU scale
}


def _maxdiff(a: nn.Module, b: nn.Module) -> float:
    return max(float((p.detach() - q.detach()).abs().max()) for p, q in zip(a.parameters(), b.parameters()))


def _net(name: str) -> tuple[nn.Module, torch.Tensor]:
    net, shape = NETS[name]
    net = net.double()
    x = torch.randn(32, *shape, dtype=DT, generator=torch.Generator().manual_seed(1))
    return net, x


@pytest.mark.parametrize("name", list(NETS))
def test_group_structure_against_hand_counts(name):
    net, _ = _net(name)
    S = sn.symmetries(net)
    order, lie = EXPECTED[name]
    assert S.order == order
    assert S.lie_dim == lie == len(S.lie_algebra)
    assert S.param_dim == sum(p.numel() for p in net.parameters())


def test_residual_spaces_are_tied_and_bn_is_scale_invariant():
    S = sn.symmetries(ResMLP().double())
    tied = [h for h in S.hidden_spaces if "inp:Linear" in h.name]
    assert len(tied) == 1 and "f2:Linear" in tied[0].name and tied[0].width == 4
    B = sn.symmetries(_net("batchnorm")[0])
    pre = B.hidden_spaces[0]
    assert any("scale-invariant" in s for s in pre.symmetries)
    # the BN scale generators are positive semidefinite (no outgoing -1): A = diag(0/1)
    A = B.lie_algebra[0].toarray()
    assert np.all(np.diag(A) >= 0) and np.count_nonzero(A) == 3 + 1  # row 0 of the weight and its bias


@pytest.mark.parametrize("name", list(NETS))
def test_hundred_elements_preserve_the_function_and_the_control_fails(name):
    net, x = _net(name)
    S = sn.symmetries(net)
    c = S.check(net, x, n_samples=100, rng=np.random.default_rng(3), tol=1e-12)
    assert c.n_elements == 100 and c.n_lie_checked == S.lie_dim
    assert c.max_error <= 1e-12
    assert c.control_error is not None and c.control_error > 1e-3
    assert c.ok


def test_a_generator_that_is_not_a_symmetry_fails_the_check():
    """Negative control for the Lie part: force rescalings onto a tanh layer."""
    net, x = _net("tanh-mlp")
    S = sn.symmetries(net)
    S._continuous[1] = "scale"  # pretend tanh were homogeneous
    c = S.check(net, x, n_samples=5, tol=1e-12)
    assert c.lie_error > 1e-3 and not c.ok


@pytest.mark.parametrize("name", ["relu-mlp", "linear", "batchnorm", "residual"])
def test_lie_algebra_integrates_to_the_group_action_and_is_a_homomorphism(name):
    net, _ = _net(name)
    S = sn.symmetries(net)
    theta = sn.flat_params(net)
    rng = np.random.default_rng(0)
    L = S.lie_algebra
    for k in range(len(L)):
        c, X = L.matrix_in_class(k)
        G = expm(0.4 * X)
        g = sn.NetElement({}, {c: np.diag(G).copy() if S._continuous[c] == "scale" else G})
        assert np.max(np.abs(expm_multiply(0.4 * L[k], theta) - S.act(g, theta))) <= 1e-12 * np.max(np.abs(theta)) * 10
        A = L[k]
        assert abs(A - A.T).max() == 0 or "skew" in L.names[k]  # exponential symmetries are symmetric
    for c, kind in S._continuous.items():
        n = S.arch.scales[c].width
        X, Y = rng.standard_normal((2, n, n))
        if kind == "scale":
            X, Y = np.diag(np.diag(X)), np.diag(np.diag(Y))
        AX, AY = S.generator(c, X), S.generator(c, Y)
        bracket = (AX @ AY - AY @ AX) - S.generator(c, X @ Y - Y @ X)
        assert abs(bracket).max() <= 1e-12 if bracket.nnz else True
        assert abs(AX + AY - S.generator(c, X + Y)).max() <= 1e-12 if (AX + AY).nnz else True


def test_discrete_elements_compose_like_signed_permutations(rng):
    net, _ = _net("tanh-mlp")
    S = sn.symmetries(net)
    theta = rng.standard_normal(S.param_dim)
    a, b = S.sample(rng, continuous=False), S.sample(rng, continuous=False)
    ab = S.compose(a, b)
    assert np.array_equal(S.act(ab, theta), S.act(a, S.act(b, theta)))
    assert np.array_equal(S.act(S.inverse(a), S.act(a, theta)), theta)
    M = S.to_signed_perm(a).to_dense()
    assert np.array_equal(M @ theta, S.act(a, theta))
    Mab = S.to_signed_perm(ab).to_dense()
    assert np.array_equal(Mab, M @ S.to_signed_perm(b).to_dense())


def _closure(gens: list[SignedPerm]) -> list[SignedPerm]:
    D = gens[0].dim
    seen = {(tuple(SignedPerm.identity(D).perm), tuple(SignedPerm.identity(D).sign))}
    out, frontier = [SignedPerm.identity(D)], [SignedPerm.identity(D)]
    while frontier:
        new = []
        for h in frontier:
            for g in gens:
                k = g.compose(h)
                key = (tuple(k.perm), tuple(k.sign))
                if key not in seen:
                    seen.add(key)
                    out.append(k)
                    new.append(k)
        frontier = new
    return out


@pytest.mark.parametrize("name, which", [("tanh-mlp", "swap+flip"), ("relu-mlp", "s3"), ("cnn", "swap+flip"),
                                         ("residual", "s3"), ("batchnorm", "swap+flip")])
def test_fixed_subspace_dimension_matches_the_character_formula(name, which):
    net, _ = _net(name)
    S = sn.symmetries(net)
    h = S.hidden_spaces[-1] if name != "batchnorm" else S.hidden_spaces[0]
    if which == "s3":  # S_3 on neurons 0, 1, 2 of the space: a transposition and a 3-cycle
        cyc = np.arange(h.width)
        cyc[[0, 1, 2]] = [1, 2, 0]
        elems = [S.transposition(h.index, 0, 1), sn.NetElement({h.tie: cyc}, {})]
    else:
        elems = [S.transposition(h.index, 0, 1), S.flip(h.index, 2)]
    E = S.fixed_subspace(elems)
    H = _closure([S.to_signed_perm(g) for g in elems])
    chi = sum(int(np.sum(g.sign[g.perm == np.arange(g.dim)])) for g in H)
    assert chi % len(H) == 0 and E.dim == chi // len(H)
    assert E.exact and E.dim < S.param_dim
    B = E.basis.toarray()
    for g in H:  # every basis vector is fixed, exactly (integer arithmetic)
        assert np.array_equal(g.to_dense().astype(np.int64) @ B, B)


def _sgd(net: nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int = 100) -> np.ndarray:
    opt = torch.optim.SGD(net.parameters(), lr=0.05)
    for _ in range(steps):
        opt.zero_grad()
        nn.functional.mse_loss(net(x), y).backward()
        opt.step()
    return sn.flat_params(net)


@pytest.mark.parametrize("kind", ["duplicate", "dead"])
def test_gradient_descent_started_in_a_fixed_subspace_stays_there(kind):
    net, x = _net("tanh-mlp")
    y = torch.sin(x[:, :2] * 2) + x[:, 1:3] ** 2
    S = sn.symmetries(net)
    h = S.hidden_spaces[0]
    g = S.transposition(h.index, 0, 1) if kind == "duplicate" else S.flip(h.index, 3)
    E = S.fixed_subspace([g])
    start = E.project(sn.flat_params(net))
    sn.load_flat(net, start)
    theta = _sgd(net, x, y)
    assert np.linalg.norm(theta - start) > 1e-2  # it did train
    assert np.linalg.norm(theta - E.project(theta)) <= 1e-12 * np.linalg.norm(theta)


def test_a_subspace_fixed_by_no_symmetry_is_left():
    """Control: tie the first layer's weights on inputs 0 and 1 (an input swap is no symmetry of the data)."""
    net, x = _net("tanh-mlp")
    y = torch.sin(x[:, :2] * 2) + x[:, 1:3] ** 2
    W = net[0].weight
    D = sum(p.numel() for p in net.parameters())
    perm = np.arange(D)
    for r in range(W.shape[0]):
        perm[[r * 3, r * 3 + 1]] = [r * 3 + 1, r * 3]
    E = symfix.fixed_point_subspace([perm.tolist()])
    sn.load_flat(net, E.project(sn.flat_params(net)))
    theta = _sgd(net, x, y)
    assert np.linalg.norm(theta - E.project(theta)) > 1e-4 * np.linalg.norm(theta)


@pytest.mark.parametrize("name", list(NETS))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_align_recovers_an_orbit_mate_exactly_and_canonical_forms_agree(name, seed):
    net, x = _net(name)
    S = sn.symmetries(net)
    g = S.sample(np.random.default_rng(seed), continuous=False)
    other = S.apply(g, net)
    with torch.no_grad():
        assert float((other(x) - net(x)).abs().max()) <= 1e-12 * float(net(x).abs().max())
    aligned = sn.align(net, other)
    assert _maxdiff(net, aligned) == 0.0
    ca, cb = sn.canonicalize(net), sn.canonicalize(other)
    assert all(torch.equal(p, q) for p, q in zip(ca.parameters(), cb.parameters()))
    assert all(torch.equal(p, q) for p, q in zip(ca.buffers(), cb.buffers()))
    cc = sn.canonicalize(ca)  # idempotent
    assert all(torch.equal(p, q) for p, q in zip(ca.parameters(), cc.parameters()))


def test_matching_two_independent_nets_raises_their_similarity():
    torch.manual_seed(5)
    a = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 3)).double()
    b = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 3)).double()
    m = sn.match(a, b)
    assert m.similarity > m.initial_similarity and m.converged
    x = torch.randn(20, 6, dtype=DT)
    with torch.no_grad():
        assert torch.allclose(m.module(x), b(x), rtol=0, atol=1e-12)


def test_barrier_of_a_convex_problem_is_zero_and_of_permuted_nets_is_positive():
    torch.manual_seed(0)
    x, y = torch.randn(64, 3, dtype=DT), torch.randn(64, 2, dtype=DT)
    a, b = nn.Linear(3, 2).double(), nn.Linear(3, 2).double()
    assert sn.barrier(a, b, nn.functional.mse_loss, (x, y)).barrier <= 1e-12
    net, _ = _net("tanh-mlp")
    S = sn.symmetries(net)
    with torch.no_grad():
        y2 = net(x)
    other = S.apply(S.sample(np.random.default_rng(0), continuous=False), net)
    r = sn.barrier(net, other, nn.functional.mse_loss, [(x[:32], y2[:32]), (x[32:], y2[32:])], points=11)
    assert r.losses[0] <= 1e-28 and r.losses[-1] <= 1e-28 and r.barrier > 1e-3
    assert sn.barrier(net, sn.align(net, other), nn.functional.mse_loss, (x, y2)).barrier <= 1e-28


def _centred_relu_mlp(seed: int, widths: list[int], n: int = 300) -> tuple[nn.Module, torch.Tensor]:
    """A ReLU MLP whose biases put every hidden neuron's median pre-activation at 0 on the inputs
    (each neuron active on half of them: generic, no dead or always-linear neuron)."""
    torch.manual_seed(seed)
    layers: list[nn.Module] = []
    for a, b in zip(widths[:-1], widths[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    net = nn.Sequential(*layers[:-1]).double()
    x = torch.randn(n, widths[0], dtype=DT)
    h = x
    with torch.no_grad():
        for m in list(net)[:-1]:
            if isinstance(m, nn.Linear):
                m.bias -= m(h).median(0).values
                h = torch.relu(m(h))
    return net, x


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("widths", [[3, 5, 4, 2], [4, 6, 5, 3]])
def test_functional_dimension_of_generic_relu_mlps(seed, widths):
    net, x = _centred_relu_mlp(seed, widths)
    S = sn.symmetries(net)
    fd = S.functional_dimension(net, x)
    hidden = sum(widths[1:-1])
    assert fd.orbit_dim == hidden and fd.by_symmetry == S.param_dim - hidden
    assert fd.jacobian_rank == fd.by_symmetry and fd.agree and fd.gap > 1e6


def test_a_dead_neuron_lowers_the_jacobian_rank_below_the_symmetry_count():
    """Control: the comparison can fail. A neuron that is never active hides its 8 weights."""
    net, x = _centred_relu_mlp(0, [3, 5, 4, 2])
    with torch.no_grad():
        net[2].bias[0] = -1e3
    fd = sn.symmetries(net).functional_dimension(net, x)
    assert fd.jacobian_rank == fd.by_symmetry - 7 and not fd.agree


class _Loop(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 3)

    def forward(self, x):
        if x.sum() > 0:
            return self.fc(x)
        return x


class _Shared(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 3)

    def forward(self, x):
        return self.fc(torch.relu(self.fc(x)))


@pytest.mark.parametrize("model, words", [
    (nn.Sequential(nn.Linear(3, 4), nn.Dropout(), nn.Linear(4, 2)), ["'1'", "Dropout", "supported"]),
    (nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4), nn.Linear(4, 2)), ["LayerNorm", "supported"]),
    (_Loop(), ["trace", "control flow"]),
    (_Shared(), ["twice"]),
    (nn.Sequential(nn.Conv1d(2, 3, 3), nn.Linear(3, 2)), ["Flatten"]),
    (nn.Sequential(nn.Conv2d(4, 4, 3, groups=2)), ["groups"]),
    ("not a module", ["torch.nn.Module"]),
])
def test_unsupported_models_raise_one_line_symfix_errors(model, words):
    with pytest.raises(symfix.SymfixError) as e:
        sn.symmetries(model)
    msg = str(e.value)
    assert "\n" not in msg and all(w in msg for w in words)


def test_mismatched_architectures_and_bad_arguments_raise():
    a = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)).double()
    b = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 2)).double()
    x, y = torch.randn(8, 3, dtype=DT), torch.randn(8, 2, dtype=DT)
    for call in (lambda: sn.align(a, b), lambda: sn.barrier(a, b, nn.functional.mse_loss, (x, y)),
                 lambda: sn.barrier(a, a, nn.functional.mse_loss, (x, y), points=1),
                 lambda: sn.barrier(a, a, nn.functional.mse_loss, []),
                 lambda: sn.symmetries(a).check(b, x), lambda: sn.symmetries(a).check(a, torch.tensor([1.0])),
                 lambda: sn.symmetries(a).flip(1, 0), lambda: sn.symmetries(a).transposition(1, 0, 9),
                 lambda: sn.symmetries(a).transposition("nope", 0, 1), lambda: sn.symmetries(a).sample(0),
                 lambda: sn.symmetries(a).act(sn.NetElement(), np.zeros(3))):
        with pytest.raises(symfix.SymfixError):
            call()
