"""R runs of train_network in batched products (issue 15 for the multilayer trainer): each run
equals training it alone, per-run seeds and learning rates, one checkpoint for all runs, bad
input."""

from __future__ import annotations

import numpy as np
import pytest

from symfix import SymfixError
from symfix.numeric import Checkpoint, MFNetwork, train_network


def _data(seed=0, n=64):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3))
    return X, np.tanh(X[:, :2] @ np.array([[1.0, -0.5], [0.3, 0.8]]))


def _nets():
    return [MFNetwork([3, 12, 10, 2], "tanh", "iid", seed=s, std=0.5) for s in (0, 1, 2)]


def _close(a, b):
    return all(np.abs(x.numpy() - y.numpy()).max() <= 1e-12 * max(1.0, np.abs(y.numpy()).max())
               for x, y in zip(a.weights, b.weights))


def test_batched_runs_equal_each_run_alone_with_their_own_seeds_and_rates():
    X, Y = _data()
    nets, lrs, seeds = _nets(), [0.05, 0.1, 0.2], [3, 4, 5]
    runs = train_network(nets, data=(X, Y), batch_size=16, steps=40, lr=lrs, seed=seeds)
    for net, lr, sd, got in zip(nets, lrs, seeds, runs):
        alone = train_network(net, data=(X, Y), batch_size=16, steps=40, lr=lr, seed=sd)
        assert _close(got.network, alone.network)
        assert [h["step"] for h in got.history] == [h["step"] for h in alone.history]
        assert np.allclose([h["loss"] for h in got.history], [h["loss"] for h in alone.history], rtol=1e-12, atol=0)
    # control: the runs did move, and differ from each other
    assert not _close(runs[0].network, nets[0]) and not _close(runs[0].network, runs[1].network)


def test_batches_with_a_run_axis_and_a_changed_seed_changes_only_its_run():
    X, Y = _data(1)
    rng = np.random.default_rng(0)
    batches = []
    for _ in range(15):
        idx = rng.integers(0, len(X), size=(3, 8))
        batches.append((X[idx], Y[idx]))
    nets = _nets()
    runs = train_network(nets, batches, lr=0.1)
    for r, net in enumerate(nets):
        alone = train_network(net, [(x[r], y[r]) for x, y in batches], lr=0.1)
        assert _close(runs[r].network, alone.network)
    a = train_network(nets, data=(X, Y), batch_size=8, steps=10, lr=0.1, seed=[0, 1, 2])
    b = train_network(nets, data=(X, Y), batch_size=8, steps=10, lr=0.1, seed=[0, 9, 2])
    assert _close(a[0].network, b[0].network) and _close(a[2].network, b[2].network)
    assert not _close(a[1].network, b[1].network)


def test_one_checkpoint_for_all_runs_resumes_bit_for_bit(tmp_path):
    X, Y = _data(2)
    nets = _nets()
    kw = dict(data=(X, Y), batch_size=16, lr=[0.05, 0.1, 0.2], seed=[7, 8, 9])
    full = train_network(nets, steps=30, checkpoint_every=10, checkpoint_path=tmp_path / "c.npz", **kw)
    half = train_network(nets, steps=20, checkpoint_every=10, checkpoint_path=tmp_path / "h.npz", **kw)
    ck = Checkpoint.load(tmp_path / "h.npz")
    assert ck.step == 20 and ck.particles.shape[0] == 3
    resumed = train_network(nets, steps=30, resume=ck, **kw)
    for f, g in zip(full, resumed):
        assert all(bool((a == b).all()) for a, b in zip(f.network.weights, g.network.weights))
        assert f.history == g.history
    assert half[0].steps == 20
    with pytest.raises(SymfixError, match="different settings"):
        train_network(nets, steps=30, resume=ck, **{**kw, "seed": [7, 8, 10]})


@pytest.mark.parametrize("call, message", [
    (lambda n, X, Y: train_network([], data=(X, Y), batch_size=4, steps=2, lr=0.1), "non-empty list"),
    (lambda n, X, Y: train_network([n[0], MFNetwork([3, 5, 10, 2], "tanh", seed=0)], data=(X, Y), batch_size=4,
                                   steps=2, lr=0.1), "differs from run 0"),
    (lambda n, X, Y: train_network(n, data=(X, Y), batch_size=4, steps=2, lr=[0.1, 0.2]), "2 entries for 3 runs"),
    (lambda n, X, Y: train_network(n, data=(X, Y), batch_size=4, steps=2, lr=0.1, seed=[0, 1, -1]), "seed"),
    (lambda n, X, Y: train_network(n, [(X[:4], Y[:4])], lr=0.1), "run axis"),
    (lambda n, X, Y: train_network(n, [(X[:4], Y[:4])], data=(X, Y), lr=0.1), "either batches"),
])
def test_bad_run_input_is_one_line_symfix_error(call, message):
    X, Y = _data()
    with pytest.raises(SymfixError, match=message) as info:
        call(_nets(), X, Y)
    assert "\n" not in str(info.value)
