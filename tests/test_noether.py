"""Noether charges: the exact one-step identities of SGD (plain, weight decay, momentum), the noise
equilibrium along orbits, teleportation, and bad input."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from scipy.linalg import expm
from torch import nn

import symfix
import symfix.nets as sn

DT = torch.float64


def _nets():
    torch.manual_seed(0)
    return {
        "relu": nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3)),
        "leaky": nn.Sequential(nn.Linear(4, 6), nn.LeakyReLU(0.2), nn.Linear(6, 3)),
        "linear": nn.Sequential(nn.Linear(5, 5), nn.Linear(5, 5), nn.Linear(5, 5)),  # square: full-rank Grams
    }


def _data(seed: int = 0, d: int = 4, c: int = 3, n: int = 64):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g, dtype=DT), torch.randn(n, c, generator=g, dtype=DT)


def _dense(S):
    return [S.lie_algebra[k].toarray() for k in range(S.lie_dim)]


@pytest.mark.parametrize("name", ["relu", "leaky", "linear"])
def test_charges_are_the_quadratic_forms_of_the_generators(name):
    net = _nets()[name].double()
    S = sn.symmetries(net)
    th = sn.flat_params(net)
    C = S.charges(net)
    assert C.shape == (S.lie_dim,) == (len(S.lie_algebra.names),)
    assert np.allclose(C, [th @ A @ th for A in _dense(S)], rtol=0, atol=1e-13)
    assert np.array_equal(S.charges(th), C)


def _steps(net, S, opt, x, y, steps=4):
    """Plain torch loop; returns per step (θ_t, g_t, θ_{t+1}) and the monitor."""
    mon = sn.NoetherMonitor(S)
    out = []
    for t in range(steps):
        th = sn.flat_params(net)
        opt.zero_grad()
        nn.functional.mse_loss(net(x[16 * t:16 * t + 16]), y[16 * t:16 * t + 16]).backward()
        g = np.concatenate([p.grad.detach().reshape(-1).numpy() for p in net.parameters()])
        opt.step()
        mon(net, opt)
        out.append((th, g, sn.flat_params(net)))
    return out, mon


@pytest.mark.parametrize("name", ["relu", "leaky", "linear"])
@pytest.mark.parametrize("mom, wd", [(0.0, 0.0), (0.0, 0.05), (0.9, 0.0), (0.9, 0.05)])
def test_one_sgd_step_moves_each_charge_by_the_derived_amount(name, mom, wd):
    net = _nets()[name].double()
    S = sn.symmetries(net)
    x, y = _data(1, d=net[0].in_features, c=list(net)[-1].out_features)
    lr = 0.05
    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=mom, weight_decay=wd)
    steps, mon = _steps(net, S, opt, x, y)
    As = _dense(S)
    buf = np.zeros(S.param_dim)
    for th, g, th1 in steps:  # formula (2), with dense A, independently of the monitor
        d = g + wd * th
        b = mom * buf + d if mom else d
        meas = np.array([th1 @ A @ th1 - th @ A @ th for A in As])
        pred = np.array([-2 * lr * (mom * th @ A @ buf + wd * th @ A @ th) + lr**2 * b @ A @ b for A in As])
        assert np.max(np.abs(pred - meas)) <= 1e-10 * np.max(np.abs(meas))
        assert np.max(np.abs(meas)) > 1e-8  # the charges did move
        if not mom and not wd:  # no first-order term
            assert np.allclose(meas, [lr**2 * g @ A @ g for A in As], rtol=0, atol=1e-10 * np.max(np.abs(meas)))
        buf = b
    h = mon.history()
    assert h["predicted"].shape == (4, S.lie_dim)
    assert np.max(np.abs(h["predicted"] - h["measured"])) <= 1e-10 * np.max(np.abs(h["measured"]))


def test_a_generator_forced_onto_a_tanh_layer_violates_the_identity():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 3)).double()
    S = sn.symmetries(net)
    S._continuous[1] = "scale"  # pretend tanh were homogeneous
    S._lie = None
    x, y = _data(2)
    _, mon = _steps(net, S, torch.optim.SGD(net.parameters(), lr=0.05), x, y)
    h = mon.history()
    assert np.max(np.abs(h["predicted"] - h["measured"])) > 1e-2 * np.max(np.abs(h["measured"]))


def test_batchnorm_scale_invariance_only_grows_the_norm():
    """A ⪰ 0 before BatchNorm: ||w||² + b² grows by exactly η² ||g||² per plain SGD step (eps ~ 0)."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6, eps=1e-30), nn.ReLU(), nn.Linear(6, 3)).double()
    S = sn.symmetries(net)
    x, y = _data(3)
    _, mon = _steps(net, S, torch.optim.SGD(net.parameters(), lr=0.1), x, y, steps=4)
    h = mon.history()
    scale_inv = [k for k, n in enumerate(S.lie_algebra.names) if n.startswith(S.hidden_spaces[0].name)]
    assert len(scale_inv) == 6
    m = h["measured"][:, scale_inv]
    assert np.all(m > 0) and np.max(np.abs(h["predicted"][:, scale_inv] - m)) <= 1e-9 * np.max(m)


def _one_hidden(seed=0, n=6):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, n), nn.ReLU(), nn.Linear(n, 3)).double()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_equilibrium_of_rescalings_is_where_the_noether_flow_vanishes(seed):
    net = _one_hidden(seed)
    S = sn.symmetries(net)
    x, y = _data(seed)
    probe = dict(probe=(x, y), loss=nn.functional.mse_loss, batch_size=8)
    mon = sn.NoetherMonitor(S, **probe)
    opt = torch.optim.SGD(net.parameters(), lr=0.0)  # lr 0: records the state as it is
    opt.zero_grad()
    nn.functional.mse_loss(net(x), y).backward()
    opt.step()
    mon(net, opt)
    h = mon.history()
    tp = sn.teleport(net, S, "equilibrium", **probe)
    assert tp.converged and tp.sweeps <= 2  # one class: its generators act on disjoint coordinates
    with torch.no_grad():
        assert float((tp.module(x) - net(x)).abs().max()) <= 1e-12 * float(net(x).abs().max())
    assert np.allclose(S.charges(tp.module), h["charge_star"][0], rtol=1e-9, atol=1e-12)
    mon2 = sn.NoetherMonitor(S, **probe)
    opt2 = torch.optim.SGD(tp.module.parameters(), lr=0.0)
    opt2.zero_grad()
    nn.functional.mse_loss(tp.module(x), y).backward()
    opt2.step()
    mon2(tp.module, opt2)
    h2 = mon2.history()
    assert np.max(np.abs(h2["drift"][0])) <= 1e-9 * np.max(np.abs(h["drift"][0]))  # G(0) = 0 there
    assert np.max(np.abs(h2["lam_star"][0])) <= 1e-9


def test_equilibrium_of_a_gl_generator_by_brentq():
    torch.manual_seed(4)
    net = nn.Sequential(nn.Linear(5, 5, bias=False), nn.Linear(5, 5, bias=False)).double()
    S = sn.symmetries(net)
    x, y = _data(4, d=5, c=5)
    y = y + x @ torch.randn(5, 5, dtype=DT)
    probe = dict(probe=(x, y), loss=nn.functional.mse_loss, batch_size=4)
    mon = sn.NoetherMonitor(S, **probe)
    opt = torch.optim.SGD(net.parameters(), lr=0.0)
    nn.functional.mse_loss(net(x), y).backward()
    opt.step()
    mon(net, opt)
    h = mon.history()
    names = S.lie_algebra.names
    k = next(i for i, n in enumerate(names) if "GL sym (1,3)" in n)
    lam = h["lam_star"][0, k]
    assert np.isfinite(lam) and lam != 0
    c, X = S.lie_algebra.matrix_in_class(k)
    moved = S.apply(sn.NetElement({}, {c: expm(lam * X)}), net)
    mon2 = sn.NoetherMonitor(S, **probe)
    opt2 = torch.optim.SGD(moved.parameters(), lr=0.0)
    nn.functional.mse_loss(moved(x), y).backward()
    opt2.step()
    mon2(moved, opt2)
    d2 = mon2.history()["drift"][0, k]
    assert abs(d2) <= 1e-9 * np.max(np.abs(h["drift"][0]))
    assert np.isclose(S.charges(moved)[k], h["charge_star"][0, k], rtol=1e-9)
    assert np.all(np.isnan(h["lam_star"][0][[i for i, n in enumerate(names) if "skew" in n]]))


@pytest.mark.parametrize("name", ["relu", "linear"])
def test_teleport_to_balanced_zeroes_every_charge_and_keeps_the_function(name):
    net = _nets()[name].double()
    S = sn.symmetries(net)
    tp = sn.teleport(net, S, "balanced", tol=1e-12)
    assert tp.converged and not tp.skipped
    x, _ = _data(0, d=net[0].in_features)
    with torch.no_grad():
        assert float((tp.module(x) - net(x)).abs().max()) <= 1e-12 * float(net(x).abs().max())
    th = sn.flat_params(tp.module)
    assert np.max(np.abs(S.charges(tp.module))) <= 1e-9 * float(th @ th)
    assert np.max(np.abs(S.charges(net))) > 1e-2  # it was not balanced before


def test_monitor_history_over_many_steps_and_a_replaced_parameter():
    """float32 model, every=3 over 50 steps: each recorded row equals the charges computed from
    scratch in float64 (S.charges of a float64 copy); the history grows past its first block; a
    parameter replaced by a new tensor is picked up, a module of another shape is refused."""
    torch.manual_seed(3)
    net = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3))
    S = sn.symmetries(net)
    x, y = _data(4)
    x, y = x.float(), y.float()
    opt = torch.optim.SGD(net.parameters(), lr=0.5)
    mon = sn.NoetherMonitor(S, every=3)
    truth = []
    for t in range(50):
        if t == 30:  # same shape, new Parameter object (the optimizer follows it too)
            net[2].weight = nn.Parameter(net[2].weight.detach().clone() * 1.5)
            opt = torch.optim.SGD(net.parameters(), lr=0.5)
        opt.zero_grad()
        nn.functional.mse_loss(net(x[:16]), y[:16]).backward()
        opt.step()
        mon(net, opt)
        if (t + 1) % 3 == 0:
            truth.append(S.charges(copy.deepcopy(net).double()))
    h = mon.history()
    assert h["step"].tolist() == list(range(3, 51, 3))
    assert h["charges"].shape == (16, S.lie_dim)
    scale = np.max(np.abs(truth))
    assert np.max(np.abs(h["charges"] - np.array(truth))) <= 1e-6 * scale
    # float32 charges: the measured change is a difference of O(scale) numbers, so it agrees with the
    # prediction to a few float32 roundings of the charges, not relative to the (small) change
    assert np.max(np.abs(h["predicted"] - h["measured"])) <= 64 * np.finfo(np.float32).eps * scale
    assert np.max(np.abs(h["measured"])) > 100 * 64 * np.finfo(np.float32).eps * scale  # the charges moved
    other = nn.Sequential(nn.Linear(4, 7), nn.ReLU(), nn.Linear(7, 3))
    with pytest.raises(symfix.SymfixError, match="differ"):
        mon(other, torch.optim.SGD(other.parameters(), lr=0.5))


def test_bad_input_to_the_monitor_and_teleport():
    torch.manual_seed(0)
    tanh = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    relu = _one_hidden()
    S = sn.symmetries(relu)
    x, y = _data(0)
    with pytest.raises(symfix.SymfixError, match="no exponential symmetry"):
        sn.NoetherMonitor(sn.symmetries(tanh))
    with pytest.raises(symfix.SymfixError, match="probe"):
        sn.NoetherMonitor(S, probe=(x, y[:5]), loss=nn.functional.mse_loss, batch_size=4)
    with pytest.raises(symfix.SymfixError, match="batch_size"):
        sn.NoetherMonitor(S, probe=(x, y), loss=nn.functional.mse_loss)
    with pytest.raises(symfix.SymfixError, match="every"):
        sn.NoetherMonitor(S, every=0)
    mon = sn.NoetherMonitor(S)
    adam = torch.optim.Adam(relu.parameters())
    with pytest.raises(symfix.SymfixError, match="Adam"):
        mon(relu, adam)
    with pytest.raises(symfix.SymfixError, match="nesterov"):
        mon(relu, torch.optim.SGD(relu.parameters(), lr=0.1, momentum=0.9, nesterov=True))
    with pytest.raises(symfix.SymfixError, match="balanced"):
        sn.teleport(relu, S, "somewhere")
    bn = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 3)).double()
    with pytest.raises(symfix.SymfixError, match="BatchNorm in training mode"):
        sn.teleport(bn, sn.symmetries(bn), "equilibrium", probe=(x, y), loss=nn.functional.mse_loss, batch_size=4)
    with pytest.raises(symfix.SymfixError):
        mon.plot("/tmp/never.png")  # nothing recorded yet


def test_unit_charges_as_a_train_monitor_and_the_one_step_identity():
    """symfix.train (per-particle step s = lr/N): one step moves C_i by exactly s² g_iᵀAg_i."""
    from symfix import Problem, groups, reps, train, units

    G = groups.cyclic(2)
    P = Problem(G, reps.permutation(G), reps.trivial(G), units.neuron(2, 1, "relu"))
    rng = np.random.default_rng(0)
    N, lr = 7, 0.5
    th0 = rng.standard_normal((N, 4))
    x = rng.standard_normal((5, 2))
    y = np.tanh(x.sum(1, keepdims=True))
    mon = sn.UnitCharges(P.unit, th0)
    r = train(P, th0, [(x, y)], scheme="vanilla", lr=lr, monitor=mon)
    c1 = sn.unit_charges(P.unit, r.particles)
    g = (th0 - r.particles) / (lr / N)  # the per-particle gradients of that step
    pred = (lr / N) ** 2 * ((g[:, 1:] ** 2).sum(1) - g[:, 0] ** 2)
    assert np.allclose(c1 - mon.c0, pred, rtol=1e-9, atol=1e-14)
    assert abs(r.history[0]["charge_drift"] - np.abs(c1 - mon.c0).mean()) <= 1e-12
    with pytest.raises(symfix.SymfixError, match="homogeneous"):
        sn.unit_charges(units.neuron(2, 1, "tanh"), th0)
    with pytest.raises(symfix.SymfixError, match="shape"):
        sn.unit_charges(P.unit, th0[:, :3])
    with pytest.raises(symfix.SymfixError, match="callable"):
        train(P, th0, [(x, y)], scheme="vanilla", lr=lr, monitor=5)
