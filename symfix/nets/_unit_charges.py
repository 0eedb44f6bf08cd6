"""Rescaling charges of mean-field particles: each neuron unit a σ(w·x + b) with a positively
homogeneous σ is unchanged by (a, w, b) -> (a/α, αw, αb), α > 0, so each particle carries the
charge C_i = ‖w_i‖² + b_i² − ‖a_i‖² (the rescaling charge of one hidden neuron of the network).

In ``symfix.train`` the per-particle step is s = lr/N and the loss is invariant per particle, so
by the identity of ``symfix.nets._noether`` one step changes C_i by exactly s² g_iᵀ A g_i (plus
((1 − 2sτ)² − 1) C_i with the penalty τ‖θ‖², and the noise's share when β > 0): over a horizon of
T = steps · s the drift is O(T s) = O(T lr / N), a finite-N effect that vanishes in the
mean-field limit, where the flow conserves every C_i.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._errors import InputError

__all__ = ["unit_charges", "UnitCharges"]

_HOMOGENEOUS = ("relu", "identity")


def _layout(unit: Any) -> tuple[int, int]:
    names = getattr(unit, "param_names", None)
    act = getattr(unit, "activation", None)
    if names is None or type(unit).__name__ != "Neuron" or act not in _HOMOGENEOUS:
        raise InputError("rescaling charges need a neuron unit a·σ(w·x + b) with a positively homogeneous "
                         f"activation ({', '.join(_HOMOGENEOUS)}); got {type(unit).__name__} with {act!r}")
    return unit.c, unit.d


def unit_charges(unit: Any, particles: Any) -> np.ndarray:
    """C_i = ‖w_i‖² + b_i² − ‖a_i‖² for each particle (rows of an (N, D) array or tensor).

    >>> from symfix import units
    >>> unit_charges(units.neuron(2, 1, "relu"), [[2.0, 1.0, 1.0, 1.0]]).tolist()
    [-1.0]
    """
    c, d = _layout(unit)
    th = np.asarray(particles.detach().cpu() if hasattr(particles, "detach") else particles, dtype=np.float64)
    if th.ndim != 2 or th.shape[1] != c + d + 1:
        raise InputError(f"particles must have shape (N, {c + d + 1}), got {th.shape}")
    return (th[:, c:] ** 2).sum(1) - (th[:, :c] ** 2).sum(1)


class UnitCharges:
    """A ``monitor`` for ``symfix.train``: records ``charge_mean`` and ``charge_drift`` (the mean
    over particles of |C_i(θ_t) − C_i(θ_0)|) in the history."""

    def __init__(self, unit: Any, particles0: Any) -> None:
        self.unit = unit
        self.c0 = unit_charges(unit, particles0)

    def __call__(self, step: int, particles: Any) -> dict:
        c = unit_charges(self.unit, particles)
        if c.shape != self.c0.shape:
            raise InputError("the monitored particles are not those given at construction")
        return {"charge_mean": float(c.mean()), "charge_drift": float(np.abs(c - self.c0).mean())}
