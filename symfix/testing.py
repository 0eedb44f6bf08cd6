"""Testing helpers: sampled equivariance assertions with a dtype-aware tolerance."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ._errors import EquivarianceError, InputError
from .symbolic._reps import Rep

__all__ = ["assert_equivariant", "default_tol"]


def default_tol(dtype: Any) -> float:
    """1e-9 for float64, 1e-4 for float32 (relative to the output scale)."""
    name = str(dtype)
    return 1e-4 if "32" in name else 1e-9


def assert_equivariant(
    f: Callable[[Any], Any],
    rho_in: Any,
    rho_out: Rep | None = None,
    *,
    n_samples: int = 8,
    batch: int = 16,
    rng: np.random.Generator | None = None,
    tol: float | None = None,
    dtype: Any = np.float64,
) -> float:
    """Assert f(ρ_in(g) x) = ρ_out(g) f(x) for sampled g and x; return the largest violation.

    ``f`` maps a batch (B, d) to (B, c); it may take and return numpy arrays or torch tensors
    (a torch module is called with tensors of the module's parameter dtype). ``rho_in`` may
    also be a :class:`symfix.Problem`, whose ρ and ρ̂ are used.

    Examples
    --------
    >>> from symfix import groups, reps
    >>> G = groups.symmetric(3)
    >>> V = reps.permutation(G)
    >>> assert_equivariant(lambda x: x * np.arange(3), V, V)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    symfix._errors.EquivarianceError: not equivariant: max violation ...
    >>> assert_equivariant(lambda x: x - x.mean(axis=1, keepdims=True), V, V) < 1e-12
    True
    """
    if rho_out is None:
        from ._problem import Problem

        if not isinstance(rho_in, Problem):
            raise InputError("give (f, problem) or (f, rho_in, rho_out)")
        rho_in, rho_out = rho_in.rho_in, rho_in.rho_out
    if not isinstance(rho_in, Rep) or not isinstance(rho_out, Rep):
        raise InputError("rho_in and rho_out must be symfix representations")
    rng = np.random.default_rng(0) if rng is None else rng
    to_backend, from_backend = _backend(f, dtype)
    tol = default_tol(_dtype_of(f, dtype)) if tol is None else tol
    worst = 0.0
    for _ in range(n_samples):
        g = rho_in.group.sample(rng)
        x = rng.standard_normal((batch, rho_in.dim))
        a, b = rho_in.matrix(g), rho_out.matrix(g)
        y = from_backend(f(to_backend(x)))
        y_g = from_backend(f(to_backend(x @ a.T)))
        scale = max(1.0, float(np.max(np.abs(y))) if y.size else 1.0)
        worst = max(worst, float(np.max(np.abs(y_g - y @ b.T))) / scale)
    if not worst <= tol:
        raise EquivarianceError(
            f"not equivariant: max violation {worst:.2e} > tol {tol:.0e} over {n_samples} sampled g "
            f"(f(rho_in(g) x) != rho_out(g) f(x)); check the representations passed match the function"
        )
    return worst


def _dtype_of(f: Any, dtype: Any) -> Any:
    params = getattr(f, "parameters", None)
    if callable(params):
        for p in params():
            return p.dtype
    return dtype


def _backend(f: Any, dtype: Any) -> tuple[Callable[[Any], Any], Callable[[Any], np.ndarray]]:
    is_module = callable(getattr(f, "parameters", None))
    if is_module:
        import torch

        dt = _dtype_of(f, torch.float64)
        dev = next(iter(f.parameters())).device if any(True for _ in f.parameters()) else "cpu"
        return (lambda x: torch.as_tensor(x, dtype=dt, device=dev)), (lambda y: y.detach().cpu().double().numpy())
    return (lambda x: np.asarray(x, dtype=dtype)), _to_numpy


def _to_numpy(y: Any) -> np.ndarray:
    if hasattr(y, "detach"):
        return y.detach().cpu().double().numpy()
    return np.asarray(y, dtype=np.float64)
