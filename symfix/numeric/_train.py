"""Mean-field SGD for wide shallow networks under the symmetry-leveraging schemes.

One step, with N particles θ_i, per-particle step s = lr / N, quadratic loss and penalty τ||θ||²:

    θ_i ← θ_i − s [ mean_b Dσ_*(x_b, θ_i)ᵀ ∇₁ℓ(Φ(x_b), y_b) + τ ∇r(θ_i) ] + sqrt(2 β s) ξ_i

Since Φ = (1/N) Σ_i σ_*(·, θ_i), the bracket's first term is N ∂L/∂θ_i for the batch loss
L = mean_b ||Φ(x_b) − y_b||², which is how it is computed (autograd over all particles at once).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np

from .._errors import InputError, SymfixError
from .._validate import choice, items, number, real_array, seed as check_seed
from .._problem import Problem
from ..symbolic._fixed import FixedSubspace

__all__ = ["train", "TrainResult", "Checkpoint", "TrainingError", "SCHEMES"]

SCHEMES = ("vanilla", "da", "da-orbit", "fa", "ea")
DA_TABLE_MAX = 5040  # finite groups up to this order sample DA elements from a precomputed table


class TrainingError(SymfixError, FloatingPointError):
    """Non-finite values appeared during training; ``.particles`` and ``.checkpoint`` hold the
    state before the failing step."""


@dataclass(frozen=True)
class Checkpoint:
    """Everything needed to continue a run bit for bit: the particles in the training dtype,
    the number of batches consumed, both random streams, the history and the settings.

    ``train(..., resume=ckpt)`` with the same batch sequence continues at batch ``ckpt.step``.
    ``save(path)`` / ``Checkpoint.load(path)`` store it as a ``.npz`` file (written to a
    temporary file, then renamed).
    """

    step: int
    particles: np.ndarray
    torch_state: np.ndarray
    numpy_state: dict
    history: tuple
    settings: dict

    def save(self, path: str | os.PathLike) -> None:
        from .._io import write_with

        meta = {"step": self.step, "numpy_state": self.numpy_state, "history": list(self.history), "settings": self.settings}

        def write(tmp: str) -> None:
            with open(tmp, "wb") as f:
                np.savez(f, particles=self.particles, torch_state=self.torch_state, meta=np.array(json.dumps(meta)))

        write_with(path, write)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Checkpoint":
        try:
            with np.load(os.fspath(path), allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                return cls(meta["step"], z["particles"].copy(), z["torch_state"].copy(), meta["numpy_state"],
                           tuple(meta["history"]), meta["settings"])
        except (OSError, KeyError, ValueError) as exc:
            raise InputError(f"cannot read checkpoint {os.fspath(path)!r}: {exc}") from None


@dataclass(frozen=True)
class TrainResult:
    """Final particles (N x D, numpy float64 copy), the history (one dict per logged step:
    ``step``, ``loss`` and ``escape`` = W2²(ν, P_#ν) to the monitored subspace when given),
    the number of steps taken in total, and the final :class:`Checkpoint`."""

    particles: np.ndarray
    history: list = field(default_factory=list)
    steps: int = 0
    checkpoint: Checkpoint | None = None


def _resolve(dtype: Any, device: Any) -> tuple[Any, Any]:
    import torch

    dt = torch.float64 if dtype is None else (getattr(torch, dtype, None) if isinstance(dtype, str) else dtype)
    if not isinstance(dt, torch.dtype) or dt not in (torch.float32, torch.float64):
        raise InputError(f"dtype must be float32 or float64, got {dtype!r}")
    try:
        dev = torch.device("cpu" if device is None else device)
    except (RuntimeError, TypeError, ValueError, OverflowError):
        raise InputError(f"unknown device {str(device)[:40]!r}; give 'cpu', 'cuda', 'cuda:0' or a torch.device") from None
    return dt, dev


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
    monitor: Any = None,
    checkpoint_every: int = 0,
    checkpoint_path: str | os.PathLike | None = None,
    resume: Checkpoint | str | os.PathLike | None = None,
    progress: bool = False,
    quadrature: int = 16,
) -> TrainResult:
    """Run mean-field SGD from explicit particles over an explicit sequence of batches.

    Parameters
    ----------
    problem : Problem
    particles0 : array (N, D), or None when resuming
    batches : iterable of (x, y) with x of shape (B, d) and y of shape (B, c); one step each
    scheme : {"vanilla", "da", "da-orbit", "fa", "ea"}
        ``da`` draws one Haar-uniform g per sample; ``da-orbit`` averages the loss over the whole
        orbit; ``fa`` trains the averaged model Q_G Φ; ``ea`` projects gradients and noise onto
        E^G. For a compact Lie group, ``da-orbit`` and ``fa`` replace the Haar average by the
        group's ``quadrature(quadrature)`` (SO(2): equally spaced rotations, exact for
        trigonometric polynomials of degree < quadrature; others: fixed Haar samples).
    lr, tau, beta : step size (per-particle step lr/N), penalty weight, temperature
    noise_subspace : FixedSubspace, optional
        Project the noise ξ onto this subspace (``ea`` always projects onto E^G).
    seed : int, optional
        Seeds both random streams, torch's (the noise) and numpy's (the DA group samples);
        ``None`` means 0, so every run is reproducible. With β = 0 and a scheme other than ``da``
        the run does not depend on the seed.
    device, dtype : torch device (default CPU) and float32/float64 (default float64)
    log_every : record the history every this many steps (0: never)
    monitor : subspace (anything with ``.project``) or callable, optional
        A subspace: also record the escape W2²(ν, P_#ν) from it in the history. A callable
        ``monitor(step, particles)`` (particles: the (N, D) tensor after the step) returning a
        dict of numbers: merged into the history entry (e.g. ``symfix.nets.UnitCharges``).
    checkpoint_every, checkpoint_path : save a :class:`Checkpoint` every this many steps
        (atomically, to ``checkpoint_path`` when given; the last one is on the result)
    resume : Checkpoint or path, optional
        Continue a run: ``batches`` is the same full sequence, training starts at the
        checkpoint's step, and the result equals the uninterrupted run bit for bit.
    progress : show a progress bar on stderr
    quadrature : number of elements standing in for the Haar average (Lie groups, da-orbit/fa)

    Returns
    -------
    TrainResult

    Raises
    ------
    InputError
        Before the first step, for any malformed argument.
    TrainingError
        When particles or loss become non-finite; names the step and carries the last good
        state as ``.particles`` and ``.checkpoint``.

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

    choice(scheme, SCHEMES, "scheme")
    seed = check_seed(seed)
    if not isinstance(problem, Problem):
        raise InputError("train needs a symfix.Problem")
    lr = number(lr, "lr", minimum=0.0, strict=True)
    tau, beta = number(tau, "tau", minimum=0.0), number(beta, "beta", minimum=0.0)
    for name, v in (("log_every", log_every), ("checkpoint_every", checkpoint_every)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise InputError(f"{name} must be an int >= 0, got {v!r}")
    dt, dev = _resolve(dtype, device)
    D, d, c = problem.param_dim, problem.unit.d, problem.unit.c
    settings = {"scheme": scheme, "lr": lr, "tau": tau, "beta": beta, "seed": seed, "dtype": str(dt), "D": D}
    ckpt = _load_resume(resume, settings)
    if ckpt is not None:
        if particles0 is not None:
            raise InputError("give particles0=None when resuming: the particles come from the checkpoint")
        theta = _column_major(torch.as_tensor(ckpt.particles, device=dev))
    else:
        if particles0 is None:
            raise InputError(f"particles0 must be an (N, {D}) array")
        p0 = real_array(particles0, "particles0", ndim=2, finite=False)
        theta = _column_major(torch.as_tensor(p0, dtype=dt, device=dev))
    if theta.ndim != 2 or theta.shape[1] != D or theta.shape[0] == 0:
        raise InputError(f"particles0 must have shape (N, {D}), got {tuple(theta.shape)}")
    if not torch.isfinite(theta).all():
        raise InputError("particles0 contains NaN or inf")
    batches = _check_batches(batches, d, c, dt, dev)
    start = 0 if ckpt is None else ckpt.step
    if start > len(batches):
        raise InputError(f"the checkpoint is at step {start} but only {len(batches)} batches were given")
    G = problem.group
    if scheme in ("da-orbit", "fa") and not G.is_finite and not hasattr(G, "quadrature"):
        raise InputError(f"scheme {scheme!r} needs a finite group or a compact Lie group; {G!r} is neither")
    if not isinstance(quadrature, int) or isinstance(quadrature, bool) or quadrature < 1:
        raise InputError(f"quadrature must be an int >= 1, got {quadrature!r}")
    if monitor is not None and hasattr(monitor, "project"):
        if getattr(monitor, "ambient_dim", D) != D:
            raise InputError(f"monitor must be a subspace of R^{D} with .project (e.g. problem.fixed_subspace())")
    elif monitor is not None and not callable(monitor):
        raise InputError(f"monitor must be a subspace of R^{D} with .project (e.g. problem.fixed_subspace()) or a "
                         "callable monitor(step, particles) -> dict of floats")
    N = theta.shape[0]
    s = lr / N
    E = problem.fixed_subspace() if scheme == "ea" else None
    noise_space = E if scheme == "ea" and noise_subspace is None else noise_subspace
    gen = torch.Generator(device=dev)
    gen.manual_seed(0 if seed is None else int(seed))
    np_rng = np.random.default_rng(0 if seed is None else seed)  # None is seed 0 for both streams
    history: list = []
    if ckpt is not None:
        gen.set_state(torch.as_tensor(ckpt.torch_state, dtype=torch.uint8))
        np_rng.bit_generator.state = ckpt.numpy_state
        history = [dict(h) for h in ckpt.history]
    orbit = None
    if scheme in ("da-orbit", "fa"):
        els = G.elements() if G.is_finite else G.quadrature(quadrature)
        mats = [problem.matrices(g) for g in els]
        orbit = (
            torch.as_tensor(np.stack([m[0] for m in mats]), dtype=dt, device=dev),
            torch.as_tensor(np.stack([m[1] for m in mats]), dtype=dt, device=dev),
        )
    da_table = None
    if scheme == "da" and G.is_finite and G.order <= DA_TABLE_MAX:
        els = G.elements()
        da_table = (
            torch.as_tensor(np.stack([problem.rho_in.matrix(g) for g in els]), dtype=dt, device=dev),
            torch.as_tensor(np.stack([problem.rho_out.matrix(g) for g in els]), dtype=dt, device=dev),
        )
    unit = problem.unit
    noise_scale = math.sqrt(2.0 * beta * s)

    def state(step: int, th: Any) -> Checkpoint:
        return Checkpoint(step, th.detach().cpu().numpy().copy(), gen.get_state().numpy().copy(),
                          np_rng.bit_generator.state, tuple(dict(h) for h in history), settings)

    last = state(start, theta) if checkpoint_every else None
    steps = range(start, len(batches))
    prev = theta
    for step in _progress(steps, progress, f"train {scheme}"):
        x, y = batches[step]
        if scheme == "da":
            if da_table is not None:  # small finite group: uniform indices into its element table
                idx = torch.as_tensor(np_rng.integers(da_table[0].shape[0], size=x.shape[0]), device=dev)
                A, Bm = da_table[0][idx], da_table[1][idx]
            else:
                gs = [G.sample(np_rng) for _ in range(x.shape[0])]
                A = torch.as_tensor(np.stack([problem.rho_in.matrix(g) for g in gs]), dtype=dt, device=dev)
                Bm = torch.as_tensor(np.stack([problem.rho_out.matrix(g) for g in gs]), dtype=dt, device=dev)
            x, y = torch.einsum("bij,bj->bi", A, x), torch.einsum("bij,bj->bi", Bm, y)
        if scheme in ("da-orbit", "fa"):
            A, Bm = orbit  # type: ignore[misc]
            xin = torch.einsum("gij,bj->gbi", A, x).reshape(-1, d)
            dloss = _fa_loss(Bm, y) if scheme == "fa" else _square_loss(torch.einsum("gij,bj->gbi", Bm, y).reshape(-1, c))
        else:
            xin, dloss = x, _square_loss(y)
        loss, drift = unit.mean_value_and_grad(xin, theta, dloss)
        with torch.no_grad():
            if tau:
                drift.add_(theta, alpha=2.0 * tau)
            if E is not None:
                drift = E.project(drift)
            new = theta.clone()  # keeps the parameter-major layout of theta
            new.add_(drift, alpha=-s)
            if beta > 0:
                xi = torch.randn(theta.shape, generator=gen, dtype=dt, device=dev)
                if noise_space is not None:
                    xi = noise_space.project(xi)
                new.add_(xi, alpha=noise_scale)
        lval = float(loss.detach())
        if not math.isfinite(lval):
            raise _failure(step, lval, theta, prev, last)
        if log_every and step % log_every == 0:
            entry = {"step": step, "loss": lval}
            if monitor is not None and hasattr(monitor, "project"):
                off = new - monitor.project(new)
                entry["escape"] = float((off * off).sum(-1).mean())
            elif monitor is not None:
                extra = monitor(step, new)
                if not isinstance(extra, dict) or not all(isinstance(k, str) for k in extra):
                    raise InputError("a callable monitor must return a dict of named numbers, e.g. {'charge': 0.1}")
                entry.update({k: float(v) for k, v in extra.items()})
            history.append(entry)
        prev, theta = theta, new
        if checkpoint_every and (step + 1) % checkpoint_every == 0:
            if _diverged(theta):
                raise _failure(step, lval, theta, prev, last)
            last = state(step + 1, theta)
            if checkpoint_path is not None:
                last.save(checkpoint_path)
    if _diverged(theta):
        raise _failure(len(batches) - 1, float("nan"), theta, prev, last)
    final = state(len(batches), theta)
    return TrainResult(theta.detach().cpu().double().numpy().copy(), history, len(batches), final)


def _square_loss(y: Any) -> Any:
    """L = mean_b ||Φ_b − y_b||²: returns (∂L/∂Φ, L)."""

    def dloss(phi: Any) -> tuple[Any, Any]:
        diff = phi - y
        return diff * (2.0 / y.shape[0]), (diff * diff).sum() / y.shape[0]

    return dloss


def _fa_loss(Bm: Any, y: Any) -> Any:
    """L = mean_b ||q_b − y_b||² for the averaged model q_b = (1/|G|) Σ_g ρ̂_gᵀ Φ(ρ_g x_b), with Φ
    evaluated on the stacked inputs (|G| B, c): returns (∂L/∂Φ, L)."""
    import torch

    n_g, B = Bm.shape[0], y.shape[0]

    def dloss(phi: Any) -> tuple[Any, Any]:
        out = phi.reshape(n_g, B, -1)
        q = torch.einsum("gji,gbj->bi", Bm, out) / n_g  # ρ̂_g^{-1} = ρ̂_gᵀ
        diff = q - y
        R = torch.einsum("gji,bi->gbj", Bm, diff) * (2.0 / (n_g * B))
        return R.reshape(n_g * B, -1), (diff * diff).sum() / B

    return dloss


def _column_major(t: Any) -> Any:
    """A copy of the (N, D) particles stored parameter-major, as the transpose of a contiguous
    (D, N) tensor: each parameter block (e.g. all w's) is then contiguous across particles,
    which is the layout the unit's matrix products want (measured in benchmarks/bench_train.py)."""
    if t.ndim != 2:
        return t.clone()
    return t.T.contiguous().T


DIVERGED = 1e100  # particles beyond this magnitude have left any meaningful scale (squares overflow at 1e154)


def _diverged(theta: Any) -> bool:
    import torch

    return not bool(torch.isfinite(theta).all()) or float(theta.abs().max()) > DIVERGED


def _failure(step: int, lval: float, theta: Any, prev: Any, last: Checkpoint | None) -> TrainingError:
    good = prev if _diverged(theta) else theta
    err = TrainingError(
        f"non-finite or diverged (|θ| > {DIVERGED:g}) particles or loss at step {step} (loss {lval:.3g}); lower lr, "
        "or check the data scale. The last good particles are in the error's .particles (and the last checkpoint "
        "in .checkpoint)"
    )
    err.particles = good.detach().cpu().double().numpy().copy()  # type: ignore[attr-defined]
    err.checkpoint = last  # type: ignore[attr-defined]
    return err


def _load_resume(resume: Any, settings: dict) -> Checkpoint | None:
    if resume is None:
        return None
    ckpt = resume if isinstance(resume, Checkpoint) else Checkpoint.load(resume)
    diff = {k: (ckpt.settings.get(k), v) for k, v in settings.items() if ckpt.settings.get(k) != v}
    if diff:
        what = ", ".join(f"{k}: checkpoint {a!r} vs now {b!r}" for k, (a, b) in diff.items())
        raise InputError(f"cannot resume with different settings ({what}); pass the settings of the original run")
    return ckpt


def _check_batches(batches: Iterable[tuple[Any, Any]], d: int, c: int, dt: Any, dev: Any) -> list:
    """Validate every batch before the first step and convert it once to the training dtype."""
    import torch

    out = []
    for k, b in enumerate(items(batches, "batches", "a list of (x, y) pairs")):
        if not (isinstance(b, (tuple, list)) and len(b) == 2):
            raise InputError(f"batch {k} must be a pair (x, y)")
        try:
            x, y = (torch.as_tensor(v, dtype=dt, device=dev) for v in b)
        except (TypeError, ValueError, RuntimeError, OverflowError):
            raise InputError(f"batch {k}: x and y must be numeric arrays of floats") from None
        if x.ndim != 2 or x.shape[1] != d or y.ndim != 2 or y.shape[1] != c or x.shape[0] != y.shape[0] or x.shape[0] == 0:
            raise InputError(
                f"batch {k}: expected x of shape (B, {d}) and y of shape (B, {c}), got {tuple(x.shape)} and {tuple(y.shape)}"
            )
        if not (torch.isfinite(x).all() and torch.isfinite(y).all()):
            raise InputError(f"batch {k} contains NaN or inf")
        out.append((x, y))
    if not out:
        raise InputError("batches is empty: give at least one (x, y) batch (one training step each)")
    return out


def _progress(it: Any, show: bool, desc: str) -> Any:
    if not show:
        return it
    from .._progress import progress

    return progress(it, desc)
