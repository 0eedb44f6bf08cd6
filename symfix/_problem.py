"""A symmetry problem: a group, its actions on inputs and outputs, and a unit architecture."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._errors import EquivarianceError, InputError, RepresentationError
from ._validate import real_array
from .symbolic._fixed import FixedSubspace
from .symbolic._groups import Group
from .symbolic._reps import Rep
from .units._activations import ENTRYWISE, ODD, is_torch
from .units._units import Unit

__all__ = ["Problem", "EquivarianceReport"]


@dataclass(frozen=True)
class EquivarianceReport:
    """Result of a sampled joint-equivariance check.

    ``max_violation`` is max |σ_*(ρ_g x, M_g z) − ρ̂_g σ_*(x, z)| / max(1, |ρ̂_g σ_*(x, z)|) over
    the samples; ``ok`` is ``max_violation <= tol``.
    """

    max_violation: float
    tol: float
    n_samples: int
    ok: bool

    def __str__(self) -> str:
        verdict = "equivariant" if self.ok else "NOT equivariant"
        return f"{verdict}: max violation {self.max_violation:.2e} (tol {self.tol:.0e}, {self.n_samples} sampled g, x, z)"


@dataclass(frozen=True)
class Problem:
    """A group G acting by ρ on X = R^d, by ρ̂ on Y = R^c, and a unit with parameters in R^D.

    Examples
    --------
    >>> from symfix import groups, reps, units, Problem
    >>> G = groups.cyclic(2)
    >>> V = reps.permutation(G)
    >>> P = Problem(G, V, V, units.matrix_unit(2, 2, "sigmoid"))
    >>> E = P.fixed_subspace()
    >>> E.dim, E.basis.toarray().T.tolist()
    (2, [[1, 0, 0, 1], [0, 1, 1, 0]])
    >>> P.check_equivariance(rng=np.random.default_rng(0)).ok
    True
    """

    group: Group
    rho_in: Rep
    rho_out: Rep
    unit: Unit
    _cache: dict = field(default_factory=dict, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        if not isinstance(self.group, Group):
            raise InputError(f"Problem: group must be a symfix group, got {type(self.group).__name__}")
        for name, r in (("rho_in", self.rho_in), ("rho_out", self.rho_out)):
            if not isinstance(r, Rep):
                raise InputError(f"Problem: {name} must be a representation (symfix.reps), got {type(r).__name__}")
            if r.group != self.group:
                raise InputError(f"Problem: {name} is a representation of {r.group!r}, not of {self.group!r}")
        if not isinstance(self.unit, Unit):
            raise InputError(f"Problem: unit must be a symfix unit (symfix.units), got {type(self.unit).__name__}")
        if self.rho_in.dim != self.unit.d:
            raise RepresentationError(f"rho_in has dimension {self.rho_in.dim} but the unit takes inputs of dimension d = {self.unit.d}")
        if self.rho_out.dim != self.unit.c:
            raise RepresentationError(f"rho_out has dimension {self.rho_out.dim} but the unit has outputs of dimension c = {self.unit.c}")
        hidden = self.unit.hidden_reps(self.group)
        for k, r in enumerate(hidden):
            if r.group != self.group:
                raise InputError(f"hidden representation {k} is of {r.group!r}, not of {self.group!r}")
        for name, r in [("rho_in", self.rho_in), ("rho_out", self.rho_out)] + [(f"hidden rep {k}", h) for k, h in enumerate(hidden)]:
            if not r.is_orthogonal():
                raise RepresentationError(
                    f"{name} is not orthogonal; the mean-field theory needs orthogonal actions. "
                    "Change basis to an orthonormal one (e.g. permutation or rotation matrices)"
                )

    # ------------------------------------------------------------------------------------
    @property
    def param_rep(self) -> Rep:
        """The representation M on the unit's parameter space Z = R^D."""
        if "rep" not in self._cache:
            self._cache["rep"] = self.unit.param_rep(self.rho_in, self.rho_out)
        return self._cache["rep"]

    @property
    def param_dim(self) -> int:
        return self.unit.param_dim

    def fixed_subspace(self, method: str = "auto") -> FixedSubspace:
        """E^G ⊂ Z, by the cheapest exact route (cached on this problem)."""
        key = ("fixed", method)
        if key not in self._cache:
            self._cache[key] = self.param_rep.fixed_subspace(method)
        return self._cache[key]

    def matrices(self, g: Any) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, ...]]:
        """(ρ_g, ρ̂_g, hidden ρ_l(g)) as float64 arrays."""
        hidden = tuple(h.matrix(g) for h in self.unit.hidden_reps(self.group))
        return self.rho_in.matrix(g), self.rho_out.matrix(g), hidden

    def act(self, g: Any, theta: Any) -> Any:
        """M_g θ for particles θ of shape (N, D), without forming M_g."""
        theta = real_array(theta, "particles", ndim=2, finite=False, keep_tensor=True)
        if theta.shape[1] != self.param_dim:
            raise InputError(f"particles must have shape (N, {self.param_dim}), got {tuple(theta.shape)}")
        a, b, h = self.matrices(g)
        if is_torch(theta):
            import torch

            a, b = (torch.as_tensor(m, dtype=theta.dtype, device=theta.device) for m in (a, b))
            h = tuple(torch.as_tensor(m, dtype=theta.dtype, device=theta.device) for m in h)
        return self.unit.act(theta, a, b, h)

    def check_equivariance(
        self,
        *,
        n_samples: int = 16,
        rng: np.random.Generator | None = None,
        tol: float = 1e-9,
        batch: int = 8,
        n_particles: int = 4,
        raise_on_failure: bool = False,
    ) -> EquivarianceReport:
        """Sample g, x, z and measure σ_*(ρ_g x, M_g z) − ρ̂_g σ_*(x, z) in float64.

        Raises :class:`EquivarianceError` when ``raise_on_failure`` and the violation exceeds
        ``tol``; the message names the likely cause.
        """
        rng = np.random.default_rng(0) if rng is None else rng
        if not isinstance(rng, np.random.Generator):
            raise InputError("rng must be a numpy Generator, e.g. np.random.default_rng(0)")
        for name, v in (("n_samples", n_samples), ("batch", batch), ("n_particles", n_particles)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise InputError(f"{name} must be a positive integer (a check on no sample vouches for nothing), got {v!r}")
        if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not (0 < tol < np.inf):
            raise InputError(f"tol must be a finite number > 0, got {tol!r}")
        worst = 0.0
        for _ in range(n_samples):
            g = self.group.sample(rng)
            x = rng.standard_normal((batch, self.unit.d))
            z = rng.standard_normal((n_particles, self.unit.param_dim))
            a, b, _h = self.matrices(g)
            lhs = self.unit.forward(x @ a.T, self.act(g, z))
            rhs = np.einsum("ij,nbj->nbi", b, self.unit.forward(x, z))
            worst = max(worst, float(np.max(np.abs(lhs - rhs)) / max(1.0, float(np.max(np.abs(rhs))))))
        report = EquivarianceReport(worst, tol, n_samples, worst <= tol)
        if raise_on_failure and not report.ok:
            raise EquivarianceError(f"{self._describe()} is not jointly equivariant: {report}. {self._hint()}")
        return report

    def _describe(self) -> str:
        return f"{type(self.unit).__name__} with activation {self.unit.activation!r} under {self.group!r}"

    def _hint(self) -> str:
        act = self.unit.activation
        if not isinstance(act, str) or act not in ENTRYWISE:
            return "A non-entrywise activation commutes with permuted neurons only if it is permutation-equivariant; use an entrywise one"
        if act not in ODD:
            return f"{act!r} is not odd, so it does not commute with sign flips of neurons; use 'tanh' or permutation-only actions"
        return "An entrywise activation commutes only with (signed) permutations of neurons; use a monomial action on hidden/output units"
