"""Multilayer mean-field networks: the forward/backward rule by hand, the degeneracy of i.i.d.
initialisation (exponents over seeds), the coupling of widths, checkpoints and bad input."""

import numpy as np
import pytest
import torch

from symfix import SymfixError, groups, reps
from symfix.numeric import (
    MFNetwork,
    coupling_distance,
    degenerate_layers,
    diversity,
    network_step,
    permutation_distance,
    train_network,
)


def sigmoid(h):
    return 1.0 / (1.0 + np.exp(-h))


def step_by_hand(ws, x, y, lr):
    """Scaled SGD step of the network H_1 = x W_1ᵀ, H_ℓ = φ(H_{ℓ-1}) W_ℓᵀ / n_{ℓ-1}, ŷ = H_L,
    φ = sigmoid, loss mean_b ||ŷ − y||², with raw gradients from the chain rule and the scalings
    n_1 (first), n_{ℓ-1} n_ℓ (middle), n_{L-1} (last)."""
    L, B = len(ws), x.shape[0]
    acts, hs = [x], []
    for ell, w in enumerate(ws):
        h = acts[-1] @ w.T / (1.0 if ell == 0 else acts[-1].shape[1])
        hs.append(h)
        acts.append(sigmoid(h) if ell < L - 1 else h)
    loss = ((acts[-1] - y) ** 2).sum() / B
    g = 2.0 * (acts[-1] - y) / B  # ∂loss/∂H_L
    grads = [None] * L
    for ell in range(L - 1, -1, -1):
        fan_in = 1.0 if ell == 0 else acts[ell].shape[1]
        grads[ell] = g.T @ acts[ell] / fan_in
        if ell:
            s = sigmoid(hs[ell - 1])
            g = (g @ ws[ell] / fan_in) * s * (1 - s)  # ∂loss/∂H_{ell}
    widths = [x.shape[1]] + [w.shape[0] for w in ws]
    scale = [widths[1]] + [widths[ell] * widths[ell + 1] for ell in range(1, L - 1)] + [widths[L - 1]]
    return [w - lr * s * gr for w, s, gr in zip(ws, scale, grads)], loss


def test_four_layer_forward_and_step_match_numpy_by_hand(rng):
    net = MFNetwork([5, 7, 6, 8, 3], "sigmoid", "iid", seed=3)
    x, y = rng.standard_normal((9, 5)), rng.standard_normal((9, 3))
    ws = [w.numpy().copy() for w in net.weights]
    # forward by hand
    a = sigmoid(x @ ws[0].T)
    a = sigmoid(a @ ws[1].T / 7)
    a = sigmoid(a @ ws[2].T / 6)
    out = a @ ws[3].T / 8
    assert np.abs(net.forward(x).numpy() - out).max() < 1e-12
    expected, loss = step_by_hand(ws, x, y, lr=0.3)
    weights = [w.clone() for w in net.weights]
    got_loss = float(network_step(net, weights, torch.as_tensor(x), torch.as_tensor(y), 0.3))
    assert abs(got_loss - loss) < 1e-12 * max(1.0, loss)
    for w, e in zip(weights, expected):
        assert np.abs(w.numpy() - e).max() < 1e-12 * max(1.0, np.abs(e).max())
    # negative control: the same step without the per-layer scalings is far off
    unscaled = [w - 0.3 * (w - e) / s for w, e, s in zip(ws, expected, [7, 42, 48, 8])]
    assert max(np.abs(u - e).max() for u, e in zip(unscaled, expected)) > 1e-3


def test_step_matches_autograd_with_the_stated_scalings(rng):
    net = MFNetwork([4, 16, 12, 10, 2], "tanh", "correlated", seed=1, output_activation="sigmoid")
    x, y = torch.as_tensor(rng.standard_normal((8, 4))), torch.as_tensor(rng.random((8, 2)))
    ws = [w.clone().requires_grad_(True) for w in net.weights]
    a = x
    for ell, w in enumerate(ws):
        h = a @ w.T / (1 if ell == 0 else a.shape[1])
        a = torch.tanh(h) if ell < 3 else torch.sigmoid(h)
    ((a - y) ** 2).sum(-1).mean().backward()
    scale = [16, 16 * 12, 12 * 10, 10]
    weights = [w.clone() for w in net.weights]
    network_step(net, weights, x, y, 0.2)
    for w, w0, s in zip(weights, ws, scale):
        assert (w - (w0 - 0.2 * s * w0.grad)).abs().max() < 1e-12


def test_permuting_a_layers_neurons_leaves_the_function_and_its_diversity_unchanged(rng):
    net = MFNetwork([3, 20, 20, 20, 2], "sigmoid", "correlated", seed=0)
    x = rng.standard_normal((30, 3))
    G = groups.symmetric(20)
    V = reps.permutation(G)
    for layer in (1, 2, 3):
        M = torch.as_tensor(V.matrix(G.sample(rng)))
        ws = [w.clone() for w in net.weights]
        ws[layer - 1] = M @ ws[layer - 1]  # rows: the neurons fed
        ws[layer] = ws[layer] @ M.T  # columns: the same neurons read
        moved = MFNetwork._from_weights(net, ws)
        assert (moved.forward(x) - net.forward(x)).abs().max() < 1e-12
        assert np.allclose(diversity(moved, x), diversity(net, x), rtol=1e-10, atol=0)
    # negative control: permuting only the incoming weights changes the function
    ws = [w.clone() for w in net.weights]
    ws[1] = M @ ws[1]
    assert (MFNetwork._from_weights(net, ws).forward(x) - net.forward(x)).abs().max() > 1e-3


def test_diversity_is_zero_exactly_on_the_fixed_subspace_and_matches_the_variance_formula(rng):
    net = MFNetwork([3, 10, 12, 1], "sigmoid", "iid", seed=2)
    x = rng.standard_normal((25, 3))
    H = [h.numpy() for h in net.hidden(x)[:-1]]
    expected = [h.var(axis=1).mean() / (h ** 2).mean() for h in H]
    assert np.allclose(diversity(net, x), expected, rtol=1e-12, atol=0)
    ws = [w.clone() for w in net.weights]
    ws[1][:] = ws[1][0]  # every neuron of layer 2 reads with the same weights
    flat = MFNetwork._from_weights(net, ws)
    assert diversity(flat, x)[1] < 1e-28 and diversity(flat, x)[0] > 0.5
    d = permutation_distance(flat)
    assert d.incoming[1] < 1e-14 and d.incoming[0] > 0.1


def test_resampled_widths_are_nested(rng):
    for emb in ("iid", "correlated"):
        small = MFNetwork([4, 8, 6, 2], "relu", emb, seed=5)
        big = small.resample([4, 32, 24, 2])
        assert (big.weights[0][:8] == small.weights[0]).all()
        assert (big.weights[1][:6, :8] == small.weights[1]).all()
        assert (big.weights[2][:, :6] == small.weights[2]).all()
        assert not (MFNetwork([4, 8, 6, 2], "relu", emb, seed=6).weights[1] == small.weights[1]).all()


def _fit_slope(widths, values):
    return np.polyfit(np.log(widths), np.log(values), 1)[0]


def teacher_task(seed, d=10, n=2000):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    teacher = MFNetwork([d, 200, 1], "tanh", "correlated", seed=99 + seed, mean=0.0, std=3.0)
    Y = teacher(X).numpy()
    return X, Y / Y.std()


WIDTHS = (32, 128, 512)
SEEDS = range(4)


@pytest.fixture(scope="module")
def diversity_sweep():
    """D_ℓ at initialisation and after 150 steps (t = 75) for depths 4 and 5, both embeddings,
    widths 32/128/512, four seeds (network and data)."""
    out = {}
    for depth in (4, 5):
        for emb in ("iid", "correlated"):
            for seed in SEEDS:
                X, Y = teacher_task(seed)
                for n in WIDTHS:
                    net = MFNetwork([10] + [n] * (depth - 1) + [1], "sigmoid", emb, seed=seed)
                    r = train_network(net, data=(X, Y), batch_size=50, steps=150, lr=0.5, seed=seed, log_every=0)
                    out[depth, emb, seed, n] = (diversity(net, X[:200]), diversity(r.network, X[:200]))
    return out


@pytest.mark.parametrize("depth", [4, 5])
@pytest.mark.parametrize("trained", [False, True])
def test_iid_diversity_decays_like_one_over_width_exactly_in_the_derived_layers(diversity_sweep, depth, trained):
    """Measured (4 seeds, see the fixture): per-seed slopes of the degenerate layers in
    [-1.14, -0.85] (seed means -0.94 to -1.00); the other layers' slopes in [-0.23, 0.23] with
    D >= 0.06 at width 512, against D <= 0.0025 for the degenerate ones. The bounds below are
    several times those spreads wide."""
    degenerate = degenerate_layers(depth, trained=trained)
    for layer in range(1, depth):
        slopes = [_fit_slope(WIDTHS, [diversity_sweep[depth, "iid", s, n][trained][layer - 1] for n in WIDTHS])
                  for s in SEEDS]
        at_512 = [diversity_sweep[depth, "iid", s, 512][trained][layer - 1] for s in SEEDS]
        if layer in degenerate:
            assert abs(np.mean(slopes) + 1) < 0.25 and -1.5 < min(slopes) and max(slopes) < -0.5, (layer, slopes)
            assert max(at_512) < 0.01, (layer, at_512)
        else:
            assert np.mean(slopes) > -0.3 and min(slopes) > -0.5, (layer, slopes)
            assert min(at_512) > 0.02, (layer, at_512)


@pytest.mark.parametrize("depth", [4, 5])
def test_correlated_embedding_keeps_every_layer_diverse(diversity_sweep, depth):
    for trained in (False, True):
        for layer in range(1, depth):
            slopes = [_fit_slope(WIDTHS, [diversity_sweep[depth, "correlated", s, n][trained][layer - 1]
                                          for n in WIDTHS]) for s in SEEDS]
            assert np.mean(slopes) > -0.3 and min(slopes) > -0.5, (trained, layer, slopes)
            assert min(diversity_sweep[depth, "correlated", s, 512][trained][layer - 1] for s in SEEDS) > 0.02


def test_coupling_distance_between_widths_shrinks_with_width():
    """Outputs of widths n and 4n from one embedding after 100 steps (depth 3, correlated), for
    n = 16, 64, 256 and four seeds. Measured: per-seed fitted exponents -0.37 to -1.00 (mean
    -0.62; the theory's rate is -1/2), the distance at n = 256 below the one at n = 16 by 2.3x to
    16x. Single steps of one seed are not monotone (seed 3: 0.0102 at n = 64 and at 256), so the
    test asserts the fit over seeds and the end-to-end fall."""
    slopes, falls = [], []
    widths = (16, 64, 256)
    for seed in range(4):
        X, Y = teacher_task(seed, n=500)
        base = MFNetwork([10, 16, 16, 1], "sigmoid", "correlated", seed=seed)
        trained = {}
        for n in widths + (1024,):
            r = train_network(base.resample([10, n, n, 1]), data=(X, Y), batch_size=50, steps=100, lr=0.5, seed=seed,
                              log_every=0)
            trained[n] = r.network
        dist = [coupling_distance(trained[n], trained[4 * n], X[:200]) for n in widths]
        slopes.append(_fit_slope(widths, dist))
        falls.append(dist[0] / dist[2])
    assert -1.2 < np.mean(slopes) < -0.25 and max(slopes) < -0.1, slopes
    assert min(falls) > 1.5, falls


def test_checkpoint_resume_is_bit_for_bit_and_the_seed_matters(tmp_path, rng):
    X, Y = rng.standard_normal((100, 3)), rng.standard_normal((100, 2))
    net = MFNetwork([3, 16, 16, 16, 2], "tanh", "iid", seed=0)
    kw = dict(data=(X, Y), batch_size=10, steps=30, lr=0.1, seed=7)
    full = train_network(net, **kw)
    path = tmp_path / "ck.npz"
    part = train_network(net, **kw, checkpoint_every=12, checkpoint_path=path)
    assert all((a == b).all() for a, b in zip(part.network.weights, full.network.weights))
    from symfix.numeric import Checkpoint

    ck = Checkpoint.load(path)
    assert ck.step == 24
    resumed = train_network(net, **kw, resume=path)
    assert all((a == b).all() for a, b in zip(resumed.network.weights, full.network.weights))
    assert [h["loss"] for h in resumed.history] == [h["loss"] for h in full.history]
    other = train_network(net, **{**kw, "seed": 8})
    assert max(float((a - b).abs().max()) for a, b in zip(other.network.weights, full.network.weights)) > 1e-6
    with pytest.raises(SymfixError, match="different settings"):
        train_network(net, **{**kw, "lr": 0.2}, resume=path)
    # the network passed in is not modified
    assert all((a == b).all() for a, b in zip(net.weights, MFNetwork([3, 16, 16, 16, 2], "tanh", "iid", seed=0).weights))


def test_batches_mode_float32_and_divergence(rng):
    X, Y = rng.standard_normal((40, 3)), rng.standard_normal((40, 1))
    net = MFNetwork([3, 8, 8, 1], "relu", "iid", seed=0, dtype="float32")
    r = train_network(net, [(X[:20], Y[:20]), (X[20:], Y[20:])], lr=0.01)
    assert r.network.weights[0].dtype == torch.float32 and r.steps == 2 and len(r.history) == 2
    r64 = train_network(net, [(X, Y)], lr=0.01, dtype="float64")
    assert r64.network.weights[0].dtype == torch.float64
    from symfix.numeric import TrainingError

    with pytest.raises(TrainingError) as err:
        train_network(MFNetwork([3, 8, 8, 1], "identity", "iid", seed=0), [(1e3 * X, 1e3 * Y)] * 50, lr=10.0)
    assert isinstance(err.value.network, MFNetwork)


BAD = [
    (lambda: MFNetwork([3, 8], "tanh"), "widths needs"),
    (lambda: MFNetwork([3, 0, 2], "tanh"), "every width"),
    (lambda: MFNetwork([3, 8.5, 2], "tanh"), "every width"),
    (lambda: MFNetwork("3,8,2", "tanh"), "widths must be"),
    (lambda: MFNetwork([3, 10**6, 10**6, 2], "tanh"), "weights, more than"),
    (lambda: MFNetwork([3, 8, 2], "softplus"), "unknown activation"),
    (lambda: MFNetwork([3, 8, 2], "tanh", "gaussian"), "unknown embedding"),
    (lambda: MFNetwork([3, 8, 2], "tanh", seed=-1), "seed"),
    (lambda: MFNetwork([3, 8, 2], "tanh", std=float("nan")), "std"),
    (lambda: MFNetwork([3, 8, 2], "tanh").forward(np.zeros((4, 2))), r"shape \(B, 3\)"),
    (lambda: MFNetwork([3, 8, 2], "tanh").forward([["a", "b", "c"]]), "numeric"),
    (lambda: MFNetwork([3, 8, 2], "tanh").forward(np.full((2, 3), np.nan)), "NaN"),
    (lambda: MFNetwork([3, 8, 2], "tanh").resample([4, 8, 2]), "resample keeps"),
    (lambda: train_network(MFNetwork([3, 8, 2], "tanh"), [(np.zeros((4, 3)), np.zeros((4, 3)))], lr=0.1), r"shape \(B, 2\)"),
    (lambda: train_network(MFNetwork([3, 8, 2], "tanh"), [(np.zeros((4, 3)), np.zeros((5, 2)))], lr=0.1), "rows"),
    (lambda: train_network(MFNetwork([3, 8, 2], "tanh"), [], lr=0.1), "empty"),
    (lambda: train_network(MFNetwork([3, 8, 2], "tanh"), [(np.zeros((4, 3)), np.zeros((4, 2)))], lr=0), "lr"),
    (lambda: train_network(MFNetwork([3, 8, 2], "tanh"), data=(np.zeros((4, 3)), np.zeros((4, 2))), batch_size=5,
                           steps=2, lr=0.1), "exceeds"),
    (lambda: train_network(MFNetwork([3, 8, 2], "tanh"), data=(np.zeros((4, 3)), np.zeros((4, 2))), lr=0.1), "batch_size"),
    (lambda: train_network("net", [], lr=0.1), "MFNetwork"),
    (lambda: diversity("net", np.zeros((2, 3))), "MFNetwork"),
    (lambda: degenerate_layers(1, trained=True), "depth"),
    (lambda: coupling_distance(MFNetwork([3, 8, 2], "tanh"), MFNetwork([4, 8, 2], "tanh"), np.zeros((2, 3))), "cannot be compared"),
]


@pytest.mark.parametrize("call,message", BAD)
def test_bad_input_is_one_line_symfix_error(call, message):
    with pytest.raises(SymfixError, match=message) as err:
        call()
    assert "\n" not in str(err.value)
