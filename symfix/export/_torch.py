"""Torch modules of a mean-field network, defined once at module level (picklable, ``isinstance``).

* :class:`EquivariantNetwork`: Φ(x) = (1/N) Σ_i σ_*(x, Q c_i) with trainable coefficients c in an
  orthonormal basis Q of E^G: every unit stays in E^G whatever the optimiser does.
* :class:`MeanFieldNetwork`: Φ(x) = (1/N) Σ_i σ_*(x, θ_i) with free trainable particles θ.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .._errors import InputError
from .._validate import count, real_array, seed as check_seed
from ..symbolic import FixedSubspace

__all__ = ["EquivariantNetwork", "MeanFieldNetwork", "to_torch"]


def _orthonormal(E: FixedSubspace) -> np.ndarray:
    q = E.orthonormal_basis()
    return q.toarray().astype(np.float64) if hasattr(q, "toarray") else np.asarray(q, dtype=np.float64)


class EquivariantNetwork(torch.nn.Module):
    """Φ(x) = (1/N) Σ_i σ_*(x, Q c_i), coefficients c (N x dim E^G) trainable, Q a buffer."""

    def __init__(self, problem: Any, coef: Any, *, dtype: Any = torch.float32) -> None:
        super().__init__()
        self.problem = problem
        Q = _orthonormal(problem.fixed_subspace())
        self.register_buffer("basis", torch.as_tensor(Q, dtype=dtype))
        self.coef = torch.nn.Parameter(torch.as_tensor(coef, dtype=dtype))

    def particles(self) -> Any:
        """The units' parameters θ = c Qᵀ (N x D), all in E^G."""
        return self.coef @ self.basis.T

    def forward(self, x: Any) -> Any:
        return self.problem.unit.mean_forward(x, self.particles())


class MeanFieldNetwork(torch.nn.Module):
    """Φ(x) = (1/N) Σ_i σ_*(x, θ_i) with free trainable particles θ (N x D)."""

    def __init__(self, problem: Any, particles: Any, *, dtype: Any = torch.float64) -> None:
        super().__init__()
        self.problem = problem
        self.theta = torch.nn.Parameter(torch.as_tensor(particles, dtype=dtype))

    def particles(self) -> Any:
        return self.theta

    def forward(self, x: Any) -> Any:
        return self.problem.unit.mean_forward(x, self.theta)


def to_torch(problem: Any, width: int | None = None, *, particles: Any = None, seed: int | None = None,
             std: float = 1.0, dtype: Any = None, tol: float = 1e-9) -> Any:
    """The mean-field network as a ``torch.nn.Module``.

    ``width`` alone: an :class:`EquivariantNetwork` of ``width`` random units in E^G (float32 by
    default). ``particles`` (N x D, e.g. ``train(...).particles``): the trained network, whose
    output equals (1/N) Σ_i σ_*(x, θ_i) (float64 by default); when every particle lies in E^G
    (‖(I − P)θ_i‖ ≤ tol (1 + ‖θ_i‖), as after EA/FA training from an SI start) it is an
    :class:`EquivariantNetwork` parametrised in E^G (coefficients c_i = Qᵀθ_i), otherwise a
    :class:`MeanFieldNetwork` with free particles.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from symfix import Problem, groups, reps, units
    >>> G = groups.cyclic(2); V = reps.permutation(G)
    >>> P = Problem(G, V, V, units.matrix_unit(2, 2, "sigmoid"))
    >>> net = to_torch(P, width=8, seed=0)
    >>> tuple(net.coef.shape), tuple(net(torch.zeros(3, 2)).shape)
    ((8, 2), (3, 2))
    >>> theta = np.asarray(P.fixed_subspace().project(np.random.default_rng(0).standard_normal((5, 4))))
    >>> type(to_torch(P, particles=theta)).__name__, type(to_torch(P, particles=theta + [1, 0, 0, 0])).__name__
    ('EquivariantNetwork', 'MeanFieldNetwork')
    """
    if particles is None:
        width = count(width, "width (or give particles=)", maximum=10**7, why="the module stores width x dim E^G weights")
        if not (isinstance(std, (int, float)) and np.isfinite(std) and std > 0):
            raise InputError(f"std must be a finite number > 0, got {std!r}")
        dt = torch.float32 if dtype is None else dtype
        dim = problem.fixed_subspace().dim
        gen = torch.Generator().manual_seed(0 if seed is None else check_seed(seed))
        return EquivariantNetwork(problem, std * torch.randn(width, dim, generator=gen, dtype=torch.float64), dtype=dt)
    th = real_array(particles, "particles", finite=False)
    D = problem.param_dim
    if th.ndim != 2 or th.shape[1] != D or th.shape[0] == 0:
        raise InputError(f"particles must have shape (N, {D}) with N >= 1, got {th.shape}")
    if not np.all(np.isfinite(th)):
        raise InputError("particles contain NaN or inf")
    if width is not None and width != th.shape[0]:
        raise InputError(f"width {width} differs from the number of particles {th.shape[0]}; give one of them")
    dt = torch.float64 if dtype is None else dtype
    E = problem.fixed_subspace()
    off = th - np.asarray(E.project(th), dtype=np.float64)
    if np.all(np.linalg.norm(off, axis=1) <= tol * (1 + np.linalg.norm(th, axis=1))):
        return EquivariantNetwork(problem, th @ _orthonormal(E), dtype=dt)
    return MeanFieldNetwork(problem, th, dtype=dt)
