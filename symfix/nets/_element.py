"""Group elements of a network's parameter-space symmetry group and their action on weights.

An element g is a permutation σ_T of the channels of every free tie class T and an invertible
map L_K of the channels of every scale class K (diagonal ±1 for a sign flip, positive diagonal
for a rescaling, a general matrix on GL(n) classes). It acts on the flat parameter vector θ as

    g·θ = P_σ L θ,

first the linear maps, then the permutations. On a class's coordinates, gathered as an array X
of shape (n, m) with row c holding channel c: writers X ← L X, readers X ← L^{-T} X (in blocks
after a Flatten), BatchNorm affine weight and bias of the class's output X ← diag(L) X, the affine
weight of a BatchNorm reading the class X ← sign(diag(L)) X; the permutation moves row c to row
σ(c). For discrete elements (signs and permutations) the product and inverse are

    (g1 g2): σ = σ1 ∘ σ2,  s(c) = s1(σ2(c)) s2(c);      g^{-1}: σ^{-1},  s(c) = s(σ^{-1}(c)),

since P_σ2^{-1} S_1 P_σ2 = diag(s1 ∘ σ2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["NetElement"]


@dataclass(frozen=True)
class NetElement:
    """One element of a network's parameter symmetry group.

    Attributes
    ----------
    perms : dict[int, ndarray]
        Tie-class index -> permutation (int64, shape (n,)): channel c moves to ``perm[c]``.
        Missing classes are left in place.
    maps : dict[int, ndarray]
        Scale-class index -> float64 array: shape (n,) for a diagonal map (signs, positive
        scales), (n, n) for GL(n). Missing classes are the identity.
    """

    perms: dict = field(default_factory=dict)
    maps: dict = field(default_factory=dict)

    @property
    def is_discrete(self) -> bool:
        """True when every map is a diagonal of ±1 (the element is a signed permutation)."""
        return all(m.ndim == 1 and np.all(np.abs(m) == 1) for m in self.maps.values())

    def __repr__(self) -> str:
        moved = {t: int(np.sum(p != np.arange(p.size))) for t, p in self.perms.items()}
        return f"NetElement(moved channels per tie class {moved}, maps on scale classes {sorted(self.maps)})"


def compose(a: NetElement, b: NetElement, tie_of: dict[int, int]) -> NetElement:
    """The product a·b of two discrete elements (b acts first)."""
    perms = dict(b.perms)
    for t, p in a.perms.items():
        perms[t] = p[b.perms[t]] if t in b.perms else p.copy()
    maps = {}
    for k in set(a.maps) | set(b.maps):
        sa, sb = a.maps.get(k), b.maps.get(k)
        pb = b.perms.get(tie_of[k])
        sa2 = None if sa is None else (sa[pb] if pb is not None else sa)
        maps[k] = sb if sa2 is None else (sa2 if sb is None else sa2 * sb)
    return NetElement(perms, maps)


def inverse(a: NetElement, tie_of: dict[int, int]) -> NetElement:
    """The inverse of a discrete element."""
    inv = {}
    for t, p in a.perms.items():
        q = np.empty_like(p)
        q[p] = np.arange(p.size)
        inv[t] = q
    maps = {}
    for k, s in a.maps.items():
        q = inv.get(tie_of[k])
        maps[k] = s[q] if q is not None else s.copy()
    return NetElement(inv, maps)


def act_flat(arch: Any, g: NetElement, theta: np.ndarray) -> np.ndarray:
    """g·θ on a float64 flat vector (or a stack of shape (..., D)); returns a new array."""
    out = np.array(theta, dtype=np.float64, copy=True)
    for k, L in g.maps.items():
        sc = arch.scales[k]
        n = sc.width
        for t in sc.touches:
            idx = arch.index(t, n)
            X = out[..., idx]
            if t.role == "writer":
                Y = L[:, None] * X if L.ndim == 1 else np.einsum("ij,...jm->...im", L, X)
            elif t.role == "reader":
                Y = X / L[:, None] if L.ndim == 1 else np.einsum("ij,...jm->...im", np.linalg.inv(L).T, X)
            elif t.role == "bn_writer":
                Y = L[:, None] * X
            else:  # absorber: the BatchNorm's weight takes the sign
                Y = np.sign(L)[:, None] * X
            out[..., idx] = Y
    for ti, p in g.perms.items():
        tie = arch.ties[ti]
        for t in tie.touches:
            idx = arch.index(t, tie.width)
            X = out[..., idx].copy()
            out[..., idx[p]] = X
    return out


def act_buffers(arch: Any, g: NetElement, buffers: dict[str, Any]) -> dict[str, Any]:
    """Running statistics of the BatchNorms: mean ← L mean, var ← L² var, then permuted."""
    out = {k: v.clone() for k, v in buffers.items()}
    for k, L in g.maps.items():
        for m in arch.scales[k].bn_buffers:
            lt = _like(L, out[f"{m}.running_mean"]) if f"{m}.running_mean" in out else None
            if lt is not None:
                out[f"{m}.running_mean"] = out[f"{m}.running_mean"] * lt
                out[f"{m}.running_var"] = out[f"{m}.running_var"] * lt * lt
    for ti, p in g.perms.items():
        for m in arch.ties[ti].buffers:
            for b in ("running_mean", "running_var"):
                key = f"{m}.{b}"
                if key in out:
                    new = out[key].clone()
                    new[_like(p, new, long=True)] = out[key]
                    out[key] = new
    return out


def _like(a: np.ndarray, ref: Any, long: bool = False) -> Any:
    import torch

    return torch.as_tensor(a, dtype=torch.long if long else ref.dtype, device=ref.device)
