"""Ensemble kernels: the model's partial sums and the particles' drift for R runs in one call.

For R runs with inputs x (R, B, d) and particles θ (R, N, D), a kernel computes the partial sums
S_r(x_b) = Σ_n σ_*(x_rb, θ_rn) (shape (R, B, c)), hands them to ``dloss``, which returns
G = ∂L/∂Φ (R, B, c) and the losses (R,) — it knows the total particle count N_total (Φ = S /
N_total after summing the shards of a distributed run) — and returns the drift

    Σ_b Dσ_*(x_rb, θ_rn)ᵀ G_rb = N_total ∂L_r/∂θ_rn,    shape (R, N, D).

The closed forms (entrywise named activations) work on the parameter-major layout (R, D, N)
so that every elementwise pass runs along the particles; anything else uses autograd.
"""

from __future__ import annotations

from typing import Any, Callable

__all__ = ["neuron_grad", "matrix_grad", "autograd_grad"]

Dloss = Callable[[Any], "tuple[Any, Any]"]
LANES = 16  # particles are padded to a multiple of this: see _padded
LONG = 1 << 22  # a batch with more activations (samples x particles) than this is sliced (neuron_grad)
CHUNK = 1 << 20  # activations per slice
MIN_ROWS = 64  # ... but never slices thinner than this many samples (the products lose their speed)


def _padded(tT: Any) -> tuple[Any, int]:
    """The parameter-major particles (R, D, N) zero-padded to (R, D, N') with N' a multiple of
    LANES, and N. Torch's elementwise loops run over the flattened tensor in SIMD blocks and do
    the remainder with scalar code, which can round differently; with every run's block a
    multiple of the block width, each run's values are computed the same way whatever R is, so
    R runs batched equal R runs alone bit for bit (single thread). The padded particles are
    never summed and their drift is dropped."""
    R, D, N = tT.shape
    Np = -(-N // LANES) * LANES
    if Np == N:
        return tT, N
    out = tT.new_zeros((R, D, Np))
    out[..., :N] = tT
    return out, N


def neuron_grad(unit: Any, x: Any, theta: Any, dloss: Dloss, fb: Any) -> tuple[Any, Any]:
    """With pre = x wᵀ + b, h = σ(pre), u = (G aᵀ) ⊙ σ'(pre): drift blocks Gᵀh (a), xᵀu (w), Σ_b u (b).

    A long batch (an averaged model's |G| × B inputs, more than LONG activations) is taken in
    slices of about CHUNK activations, in two passes: the partial sums slice by slice,
    ``dloss`` on all of them, then the drift slice by slice with σ recomputed, so each slice
    stays in cache. Measured (benchmarks/bench_train.py, FA step over |G| inputs per sample,
    N = 10^4, B = 32): one pass costs 0.72 and 0.76 of |G| vanilla steps for C4 and D4 (1.3
    and 2.6 million activations) but 2.00 for S4 (7.7 million); S4 in slices: see BENCHMARKS."""
    import torch

    c, d = unit.c, unit.d
    tT, N = _padded(theta.transpose(1, 2))  # (R, D, N')
    a, w, b = tT[:, :c], tT[:, c : c + d], tT[:, c + d :]
    rows = max(MIN_ROWS, CHUNK // tT.shape[2])
    if x.shape[1] * tT.shape[2] <= LONG or x.shape[1] < 2 * rows:
        h, backward = fb(torch.baddbmm(b, x, w))  # (R, B, N')
        G, loss = dloss(torch.bmm(h[..., :N], a[..., :N].transpose(1, 2)))
        u = backward(torch.bmm(G, a))
        out = torch.cat([torch.bmm(G.transpose(1, 2), h), torch.bmm(x.transpose(1, 2), u), u.sum(1, keepdim=True)],
                        dim=1)
        return loss, out[..., :N].transpose(1, 2)
    cuts = range(0, x.shape[1], rows)
    S = torch.cat([torch.bmm(fb(torch.baddbmm(b, x[:, s : s + rows], w))[0][..., :N], a[..., :N].transpose(1, 2))
                   for s in cuts], dim=1)
    G, loss = dloss(S)
    out = tT.new_zeros(tT.shape)
    for s in cuts:
        xs, Gs = x[:, s : s + rows], G[:, s : s + rows]
        h, backward = fb(torch.baddbmm(b, xs, w))
        u = backward(torch.bmm(Gs, a))
        out[:, :c].baddbmm_(Gs.transpose(1, 2), h)
        out[:, c : c + d].baddbmm_(xs.transpose(1, 2), u)
        out[:, c + d :] += u.sum(1, keepdim=True)
    return loss, out[..., :N].transpose(1, 2)


def matrix_grad(unit: Any, x: Any, theta: Any, dloss: Dloss, vd: Any) -> tuple[Any, Any]:
    """σ(z x) entrywise: pre (R, c, B, N) = x zᵀ per output row; the drift of z is
    Σ_b σ'(z x_b) ⊙ (G_b x_bᵀ), a product of σ' (R, c, B, N) with the small W = G ⊗ x (R, c, d, B),
    so the only full-size passes are the two products, σ and σ'."""
    import torch

    c, d = unit.c, unit.d
    R, _, D = theta.shape
    tT, N = _padded(theta.transpose(1, 2))
    z = tT.reshape(R, c, d, -1)
    h, dh = vd(torch.matmul(x.unsqueeze(1), z))  # (R, c, B, N')
    G, loss = dloss(h[..., :N].sum(-1).transpose(1, 2))
    W = G.transpose(1, 2).unsqueeze(2) * x.transpose(1, 2).unsqueeze(1)  # W[r,c,d,b] = G[r,b,c] x[r,b,d]
    g = torch.matmul(W, dh)  # (R, c, d, N')
    return loss, g.reshape(R, D, -1)[..., :N].transpose(1, 2)


def autograd_grad(unit: Any, x: Any, theta: Any, dloss: Dloss) -> tuple[Any, Any]:
    import torch

    th = theta.detach().requires_grad_(True)
    S = torch.stack([unit.forward(x[r], th[r]).sum(0) for r in range(theta.shape[0])])
    G, loss = dloss(S.detach())
    (g,) = torch.autograd.grad(S, th, G)
    return loss, g
