"""Export: design JSON round trip, the constrained torch module, ONNX in onnxruntime."""

import json

import numpy as np
import pytest
import torch

from symfix import InputError, SymfixError
from symfix.specs import load_spec
from symfix.export import load_design, save_design, save_torch, to_onnx, to_torch
from symfix.testing import assert_equivariant


@pytest.mark.parametrize("name", ["c2-matrix-unit", "s3-neuron", "d4-patch", "so2-second-moment"])
def test_design_json_loads_back_to_the_same_subspace(name, tmp_path):
    spec = load_spec(name)
    path = tmp_path / "d.json"
    d = save_design(spec, path)
    back = load_design(path)
    E = spec.problem.fixed_subspace()
    assert back.subspace.dim == E.dim == d["dims"]["E^G"]
    B = back.subspace.dense_basis()
    assert np.allclose(E.project(B.T).T, B, atol=1e-12)  # same span
    # negative control: a tampered basis is refused
    d["basis"][0] = {"0": "1", "1": "2"}  # coordinate 1 alone is never invariant here
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(d))
    with pytest.raises(InputError, match="does not span"):
        load_design(bad)


def test_torch_module_is_equivariant_stays_in_EG_and_trains():
    spec = load_spec("c2-matrix-unit")
    P = spec.problem
    net = to_torch(P, 32, seed=0, dtype=torch.float64)
    assert_equivariant(net, P)
    E = P.fixed_subspace()
    rng = np.random.default_rng(0)
    x = torch.as_tensor(4 * rng.standard_normal((256, 2)))
    teacher = E.project(rng.standard_normal((5, 4)))
    y = P.unit.mean_forward(x, torch.as_tensor(teacher))
    opt = torch.optim.Adam(net.parameters(), lr=0.05)
    first = None
    for _ in range(150):
        opt.zero_grad()
        loss = ((net(x) - y) ** 2).sum(-1).mean()
        loss.backward()
        opt.step()
        first = float(loss.detach()) if first is None else first
    assert float(loss.detach()) < 0.5 * first
    th = net.particles().detach().numpy()
    assert np.abs(E.project(th) - th).max() < 1e-12  # every unit stays in E^G
    assert_equivariant(net, P)
    # negative control: an unconstrained cloud is not equivariant
    with pytest.raises(SymfixError):
        assert_equivariant(lambda v: P.unit.forward(v, rng.standard_normal((8, 4))).mean(0), P)


def test_onnx_round_trip_matches_torch_and_is_equivariant(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    spec = load_spec("d4-patch")
    P = spec.problem
    net = to_torch(P, 16, seed=1)
    path = tmp_path / "m.onnx"
    to_onnx(net, path)
    sess = ort.InferenceSession(str(path))
    x = np.random.default_rng(0).standard_normal((11, 9)).astype(np.float32)
    got = sess.run(None, {"x": x})[0]
    assert np.abs(got - net(torch.as_tensor(x)).detach().numpy()).max() < 1e-5
    assert_equivariant(lambda v: sess.run(None, {"x": np.asarray(v, dtype=np.float32)})[0], P.rho_in, P.rho_out,
                       dtype=np.float32)


def test_torch_export_program_loads_without_symfix_objects(tmp_path):
    net = to_torch(load_spec("c2-neuron").problem, 8, seed=0)
    path = tmp_path / "m.pt2"
    save_torch(net, path)
    mod = torch.export.load(str(path)).module()
    x = torch.randn(5, 2)
    assert torch.allclose(mod(x), net(x), atol=1e-6)


def test_bad_width():
    with pytest.raises(InputError):
        to_torch(load_spec("c2-neuron").problem, 0)


@pytest.mark.parametrize("scheme", ["ea", "fa"])
def test_trained_particles_round_trip_train_torch_onnx(scheme, tmp_path):
    """train -> to_torch(particles=) -> torch (exact, equivariant, picklable) -> ONNX (onnxruntime)."""
    import io

    import onnxruntime as ort

    from symfix import train
    from symfix.export import EquivariantNetwork, MeanFieldNetwork
    from symfix.numeric import strongly_invariant

    P = load_spec("c2-matrix-unit").problem
    rng = np.random.default_rng(0)
    th0 = strongly_invariant(P, 12, std=0.5, rng=0)
    x = 2 * rng.standard_normal((40 * 8, 2))
    y = P.unit.forward(x, rng.standard_normal((3, 4))).mean(0)
    r = train(P, th0, list(zip(x.reshape(40, 8, 2), y.reshape(40, 8, 2))), scheme=scheme, lr=2.0, seed=0)
    net = to_torch(P, particles=r.particles)
    assert isinstance(net, EquivariantNetwork)  # SI start, EA/FA training: the particles stay in E^G
    xt = 2 * rng.standard_normal((64, 2))
    want = P.unit.mean_forward(torch.as_tensor(xt), torch.as_tensor(r.particles)).numpy()
    with torch.no_grad():
        got = net(torch.as_tensor(xt)).numpy()
    assert np.max(np.abs(got - want)) <= 1e-12
    assert_equivariant(net, P)
    buf = io.BytesIO()
    torch.save(net, buf)  # a module-level class: picklable
    buf.seek(0)
    back = torch.load(buf, weights_only=False)
    assert isinstance(back, EquivariantNetwork) and torch.equal(back.coef, net.coef)
    path = tmp_path / "trained.onnx"
    to_onnx(net, path)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    onnx_out = sess.run(None, {"x": xt})[0]
    assert np.max(np.abs(onnx_out - want)) <= 1e-5
    free = to_torch(P, particles=r.particles + rng.standard_normal(r.particles.shape))  # control: off E^G
    assert isinstance(free, MeanFieldNetwork)


def test_to_torch_particles_bad_input():
    P = load_spec("c2-neuron").problem
    for bad in (np.zeros((0, P.param_dim)), np.zeros((3, P.param_dim + 1)), np.full((2, P.param_dim), np.nan), "x"):
        with pytest.raises(SymfixError):
            to_torch(P, particles=bad)
    with pytest.raises(SymfixError, match="differs"):
        to_torch(P, 5, particles=np.zeros((3, P.param_dim)))


def test_design_of_a_problem_built_in_python_round_trips(tmp_path):
    from symfix import Problem, groups, reps, units

    G = groups.dihedral(4)
    V = reps.defining(G)
    P = Problem(G, V, reps.trivial(G) + reps.trivial(G), units.neuron(4, 2, "relu"))
    path = tmp_path / "p.json"
    d = save_design(P, path)
    assert d["spec"] is None and d["problem"]["group"] == "dihedral(4)"
    back = load_design(path)
    assert back.problem.fixed_subspace().dim == P.fixed_subspace().dim == back.subspace.dim
    d["problem"]["unit"] = "__import__('os').getcwd()"  # only symfix constructors are evaluated
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(d))
    with pytest.raises(InputError, match="unsupported expression"):
        load_design(bad)
