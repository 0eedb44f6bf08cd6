"""Moving a network along its continuous symmetry orbit (function unchanged) to the balanced
point (every charge 0) or to the noise equilibrium of SGD (derivations in ``_noether.py``)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .._errors import InputError
from ._noether import NoetherMonitor, _params, class_grams, noise_grams, per_sample_grads

__all__ = ["teleport", "Teleport"]


@dataclass(frozen=True)
class Teleport:
    """Result of :func:`teleport`: the moved module, the sweeps over classes, and the residual
    (largest |charge| for "balanced", largest |G(0)| relative to its scale for "equilibrium");
    ``skipped`` lists classes that cannot reach the target (scale-invariant ones)."""

    module: Any
    sweeps: int
    residual: float
    converged: bool
    skipped: tuple[int, ...]


def _sqrtm_spd(A: np.ndarray) -> np.ndarray:
    w, V = np.linalg.eigh((A + A.T) / 2)
    return (V * np.sqrt(np.clip(w, 0, None))) @ V.T


def _geometric_mean_solution(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """S ≻ 0 with S A S = B (A, B ≻ 0): S = A^{-1/2} (A^{1/2} B A^{1/2})^{1/2} A^{-1/2}."""
    Ah = _sqrtm_spd(A)
    Aih = np.linalg.inv(Ah)
    return Aih @ _sqrtm_spd(Ah @ B @ Ah) @ Aih


def teleport(module: Any, S: Any, to: str = "balanced", *, probe: Any = None, loss: Callable | None = None,
             batch_size: int | None = None, sweeps: int = 100, tol: float = 1e-10) -> Teleport:
    """Move ``module`` along its continuous orbit (function unchanged) to ``to``:

    ``"balanced"``: every charge 0 (rescalings: α_i = (‖w_out‖²/(‖w_in‖² + b²))^{1/4}; GL(n):
    G = S^{1/2} with S Q_w S = Q_r for the writer and reader Grams Q_w, Q_r).
    ``"equilibrium"``: the noise equilibrium G(0) = 0 of every generator (rescalings:
    α_i = (M_w,ii / M_r,ii)^{1/4}; GL(n): S M_r S = M_w), from per-sample gradients on ``probe``.

    Classes share parameters (a Linear's weight is written by one class and read by another),
    so the classes are visited in sweeps until the residual is below ``tol``.
    """
    from ._element import NetElement
    from ._params import clone_module

    if not isinstance(to, str) or to not in ("balanced", "equilibrium"):
        raise InputError(f"to must be 'balanced' or 'equilibrium', got {to!r}")
    S.check_module(module)
    if S.lie_dim == 0:
        raise InputError("this model has no continuous symmetry to move along")
    if not all(bool(p.isfinite().all()) for p in module.parameters()):
        raise InputError("the module's parameters are not finite; teleport needs a finite point of the orbit")
    if to == "equilibrium":
        NoetherMonitor(S, probe=probe, loss=loss, batch_size=batch_size)  # validates the probe
    m = clone_module(module)
    skipped: set[int] = set()
    residual, k_sweep = math.inf, 0
    for k_sweep in range(1, sweeps + 1):
        worst = 0.0
        for c, kind in S._continuous.items():
            th = _params(S, m)
            if to == "balanced":
                A, B = (t.numpy() for t in class_grams(S, th, th, c))
            else:
                G = per_sample_grads(S, m, loss, probe[0], probe[1])
                B, A = noise_grams(S, {n: v.double() for n, v in G.items()}, batch_size)[c]  # A = M_r, B = M_w
            # both targets solve S A S = B: balanced A = Q_w, B = Q_r; equilibrium A = M_r, B = M_w
            if kind == "scale":
                a, b = np.diag(A), np.diag(B)
                ok = (a > 0) & (b > 0)
                if not ok.all():
                    skipped.add(c)
                L = np.where(ok, (np.where(ok, b, 1.0) / np.where(ok, a, 1.0)) ** 0.25, 1.0)
                res = np.abs(a - b)[ok] / np.maximum(a + b, 1e-300)[ok]
            else:
                ea, eb = np.linalg.eigvalsh(A), np.linalg.eigvalsh(B)
                if min(ea[0] / ea[-1], eb[0] / eb[-1]) <= 1e-8:  # (near) singular: no reliable solution
                    skipped.add(c)
                    continue
                L = _sqrtm_spd(_geometric_mean_solution(A, B))
                res = np.array([np.linalg.norm(A - B) / max(np.linalg.norm(A) + np.linalg.norm(B), 1e-300)])
            worst = max(worst, float(res.max()) if res.size else 0.0)
            m = S.apply(NetElement({}, {c: L}), m)
        residual = worst
        if residual <= tol:
            break
    return Teleport(m, k_sweep, residual, residual <= tol, tuple(sorted(skipped)))
