"""The neuron ensemble kernel's sliced path (a long batch in cache-sized slices, two passes)
against its one-pass path and against autograd."""

import pytest
import torch

from symfix import units
from symfix.units import _kernels
from symfix.units._activations import resolve_forward_backward


def _problem(R, B, N, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(R, B, 3, generator=g, dtype=torch.float64)
    th = torch.randn(R, N, 2 + 3 + 1, generator=g, dtype=torch.float64)
    y = torch.randn(R, B, 2, generator=g, dtype=torch.float64)

    def dloss(S):
        diff = S / N - y
        return diff * (2.0 / B), (diff * diff).sum((1, 2)) / B

    return x, th, dloss


def _one(dloss, S, r):
    """dloss of run r alone (the batched dloss on a zero-padded pair of runs)."""
    full = torch.zeros((2,) + tuple(S.shape[1:]), dtype=S.dtype)
    full[r] = S[0]
    G, loss = dloss(full)
    return G[r : r + 1], loss[r : r + 1]


@pytest.mark.parametrize("act", ["tanh", "relu", "sigmoid"])
def test_sliced_long_batch_equals_one_pass_and_autograd(act, monkeypatch):
    u = units.neuron(3, 2, act)
    fb = resolve_forward_backward(act)
    x, th, dloss = _problem(2, 700, 1000)  # 700 x 1008 activations per run: sliced below
    monkeypatch.setattr(_kernels, "LONG", 1 << 16)
    monkeypatch.setattr(_kernels, "CHUNK", 1 << 16)  # 65 rows per slice: 11 slices, the last one short
    loss_s, g_s = _kernels.neuron_grad(u, x, th, dloss, fb)
    monkeypatch.setattr(_kernels, "LONG", 1 << 40)  # one pass
    loss_1, g_1 = _kernels.neuron_grad(u, x, th, dloss, fb)
    loss_a, g_a = _kernels.autograd_grad(u, x, th, dloss)
    scale = g_1.abs().max()
    assert torch.equal(loss_s, loss_1)
    assert (g_s - g_1).abs().max() <= 1e-12 * scale
    assert (g_s - g_a).abs().max() <= 1e-10 * scale and (loss_s - loss_a).abs().max() <= 1e-12
    monkeypatch.setattr(_kernels, "LONG", 1 << 16)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the bit-for-bit claim is for one thread (see _kernels._padded)
    try:
        _, g_both = _kernels.neuron_grad(u, x, th, dloss, fb)
        for r in range(2):  # each run alone gives its part of the batched result bit for bit
            _, g_r = _kernels.neuron_grad(u, x[r : r + 1], th[r : r + 1], lambda S, r=r: _one(dloss, S, r), fb)
            assert torch.equal(g_r[0], g_both[r])
    finally:
        torch.set_num_threads(threads)
    # control: the comparison sees a change confined to the last slice's inputs
    x2 = x.clone()
    x2[:, -5:] = 0.0
    _, g_bad = _kernels.neuron_grad(u, x2, th, dloss, fb)
    assert (g_bad - g_1).abs().max() > 1e-6 * scale
