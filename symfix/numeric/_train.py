"""Mean-field SGD for wide shallow networks under the symmetry-leveraging schemes.

One step, with N particles θ_i, per-particle step s = lr / N, quadratic loss and penalty τ||θ||²:

    θ_i ← θ_i − s [ mean_b Dσ_*(x_b, θ_i)ᵀ ∇₁ℓ(Φ(x_b), y_b) + τ ∇r(θ_i) ] + sqrt(2 β s) ξ_i

Since Φ = (1/N) Σ_i σ_*(·, θ_i), the bracket's first term is N ∂L/∂θ_i for the batch loss
L = mean_b ||Φ(x_b) − y_b||², which is how it is computed (autograd over all particles at once).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np

from .._errors import InputError, SymfixError
from .._problem import Problem
from ..symbolic._fixed import FixedSubspace

__all__ = ["train", "TrainResult", "SCHEMES"]

SCHEMES = ("vanilla", "da", "da-orbit", "fa", "ea")


class TrainingError(SymfixError, FloatingPointError):
    """Non-finite values appeared during training."""


@dataclass(frozen=True)
class TrainResult:
    """Final particles (N x D, numpy float64 copy) and the per-step history."""

    particles: np.ndarray
    history: list = field(default_factory=list)
    steps: int = 0


def _resolve(dtype: Any, device: Any) -> tuple[Any, Any]:
    import torch

    dt = torch.float64 if dtype is None else (getattr(torch, dtype) if isinstance(dtype, str) else dtype)
    if dt not in (torch.float32, torch.float64):
        raise InputError(f"dtype must be float32 or float64, got {dtype!r}")
    return dt, torch.device("cpu" if device is None else device)


def train(
    problem: Problem,
    particles0: Any,
    batches: Iterable[tuple[Any, Any]],
    *,
    scheme: str,
    lr: float,
    tau: float = 0.0,
    beta: float = 0.0,
    noise_subspace: FixedSubspace | None = None,
    seed: int | None = None,
    device: Any = None,
    dtype: Any = None,
    log_every: int = 1,
) -> TrainResult:
    """Run mean-field SGD from explicit particles over an explicit sequence of batches.

    Parameters
    ----------
    problem : Problem
    particles0 : array (N, D)
    batches : iterable of (x, y) with x of shape (B, d) and y of shape (B, c); one step each
    scheme : {"vanilla", "da", "da-orbit", "fa", "ea"}
        ``da`` draws one Haar-uniform g per sample; ``da-orbit`` averages the loss over the whole
        orbit (finite G); ``fa`` trains the averaged model Q_G Φ (finite G); ``ea`` projects
        gradients and noise onto E^G.
    lr, tau, beta : step size (per-particle step lr/N), penalty weight, temperature
    noise_subspace : FixedSubspace, optional
        Project the noise ξ onto this subspace (``ea`` always projects onto E^G).
    seed : int, optional
        Seeds the noise and the DA group samples; with β = 0 and a scheme other than ``da`` the
        run is deterministic whatever the seed.

    Returns
    -------
    TrainResult

    Examples
    --------
    >>> import numpy as np
    >>> from symfix import Problem, groups, reps, units
    >>> G = groups.cyclic(2); V = reps.permutation(G)
    >>> P = Problem(G, V, V, units.matrix_unit(2, 2, "sigmoid"))
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal((4, 2)); y = 1 / (1 + np.exp(-x))
    >>> r = train(P, rng.standard_normal((8, 4)), [(x, y)] * 3, scheme="ea", lr=1.0)
    >>> r.particles.shape, len(r.history)
    ((8, 4), 3)
    """
    import torch

    if scheme not in SCHEMES:
        raise InputError(f"unknown scheme {scheme!r}; choose one of {', '.join(SCHEMES)}")
    if not isinstance(problem, Problem):
        raise InputError("train needs a symfix.Problem")
    for name, v in (("lr", lr), ("tau", tau), ("beta", beta)):
        if not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0 or (name == "lr" and v == 0):
            raise InputError(f"{name} must be a finite number {'> 0' if name == 'lr' else '>= 0'}, got {v!r}")
    dt, dev = _resolve(dtype, device)
    theta = torch.as_tensor(np.asarray(particles0, dtype=np.float64), dtype=dt, device=dev).clone()
    D, d, c = problem.param_dim, problem.unit.d, problem.unit.c
    if theta.ndim != 2 or theta.shape[1] != D or theta.shape[0] == 0:
        raise InputError(f"particles0 must have shape (N, {D}), got {tuple(theta.shape)}")
    if not torch.isfinite(theta).all():
        raise InputError("particles0 contains NaN or inf")
    batches = list(batches)
    for k, b in enumerate(batches):
        if not (isinstance(b, (tuple, list)) and len(b) == 2):
            raise InputError(f"batch {k} must be a pair (x, y)")
        x, y = (np.asarray(v) for v in b)
        if x.ndim != 2 or x.shape[1] != d or y.ndim != 2 or y.shape[1] != c or x.shape[0] != y.shape[0] or x.shape[0] == 0:
            raise InputError(f"batch {k}: expected x of shape (B, {d}) and y of shape (B, {c}), got {x.shape} and {y.shape}")
        if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
            raise InputError(f"batch {k} contains NaN or inf")
    G = problem.group
    if scheme in ("da-orbit", "fa") and not G.is_finite:
        raise InputError(f"scheme {scheme!r} needs a finite group; {G!r} is infinite (use 'da' or 'ea')")
    N = theta.shape[0]
    s = lr / N
    E = problem.fixed_subspace() if scheme == "ea" else None
    noise_space = E if scheme == "ea" and noise_subspace is None else noise_subspace
    gen = torch.Generator(device=dev)
    gen.manual_seed(0 if seed is None else int(seed))
    np_rng = np.random.default_rng(seed)
    orbit = None
    if scheme in ("da-orbit", "fa"):
        mats = [problem.matrices(g) for g in G.elements()]
        orbit = (
            torch.as_tensor(np.stack([m[0] for m in mats]), dtype=dt, device=dev),
            torch.as_tensor(np.stack([m[1] for m in mats]), dtype=dt, device=dev),
        )
    history = []
    unit = problem.unit
    for step, (xb, yb) in enumerate(batches):
        x = torch.as_tensor(np.asarray(xb, dtype=np.float64), dtype=dt, device=dev)
        y = torch.as_tensor(np.asarray(yb, dtype=np.float64), dtype=dt, device=dev)
        if scheme == "da":
            gs = [G.sample(np_rng) for _ in range(x.shape[0])]
            A = torch.as_tensor(np.stack([problem.rho_in.matrix(g) for g in gs]), dtype=dt, device=dev)
            Bm = torch.as_tensor(np.stack([problem.rho_out.matrix(g) for g in gs]), dtype=dt, device=dev)
            x, y = torch.einsum("bij,bj->bi", A, x), torch.einsum("bij,bj->bi", Bm, y)
        th = theta.detach().requires_grad_(True)
        if scheme == "da-orbit":
            A, Bm = orbit  # type: ignore[misc]
            xg = torch.einsum("gij,bj->gbi", A, x).reshape(-1, d)
            yg = torch.einsum("gij,bj->gbi", Bm, y).reshape(-1, c)
            loss = ((unit.forward(xg, th).mean(0) - yg) ** 2).sum(-1).mean()
        elif scheme == "fa":
            A, Bm = orbit  # type: ignore[misc]
            xg = torch.einsum("gij,bj->gbi", A, x).reshape(-1, d)
            out = unit.forward(xg, th).mean(0).reshape(A.shape[0], x.shape[0], c)
            q = torch.einsum("gji,gbj->bi", Bm, out) / A.shape[0]  # ρ̂_g^{-1} = ρ̂_gᵀ
            loss = ((q - y) ** 2).sum(-1).mean()
        else:
            loss = ((unit.forward(x, th).mean(0) - y) ** 2).sum(-1).mean()
        (grad,) = torch.autograd.grad(loss, th)
        lval = float(loss.detach())
        with torch.no_grad():
            drift = N * grad + 2.0 * tau * theta
            if E is not None:
                drift = E.project(drift)
            new = theta - s * drift
            if beta > 0:
                xi = torch.randn(theta.shape, generator=gen, dtype=dt, device=dev)
                if noise_space is not None:
                    xi = noise_space.project(xi)
                new = new + math.sqrt(2.0 * beta * s) * xi
        if not torch.isfinite(new).all() or not math.isfinite(lval):
            err = TrainingError(
                f"non-finite particles or loss at step {step} (loss {lval:.3g}); lower lr, "
                "or check the data scale. The particles before this step are in the error's .particles"
            )
            err.particles = theta.detach().cpu().double().numpy().copy()  # type: ignore[attr-defined]
            raise err
        theta = new
        if log_every and step % log_every == 0:
            history.append({"step": step, "loss": lval})
    return TrainResult(theta.detach().cpu().double().numpy().copy(), history, len(batches))
