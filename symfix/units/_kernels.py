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
    """With pre = x wᵀ + b, h = σ(pre), u = (G aᵀ) ⊙ σ'(pre): drift blocks Gᵀh (a), xᵀu (w), Σ_b u (b)."""
    import torch

    c, d = unit.c, unit.d
    tT, N = _padded(theta.transpose(1, 2))  # (R, D, N')
    a, w, b = tT[:, :c], tT[:, c : c + d], tT[:, c + d :]
    h, backward = fb(torch.baddbmm(b, x, w))  # (R, B, N')
    G, loss = dloss(torch.bmm(h[..., :N], a[..., :N].transpose(1, 2)))
    u = backward(torch.bmm(G, a))
    out = torch.cat([torch.bmm(G.transpose(1, 2), h), torch.bmm(x.transpose(1, 2), u), u.sum(1, keepdim=True)], dim=1)
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
