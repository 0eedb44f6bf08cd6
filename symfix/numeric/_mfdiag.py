r"""Diagnostics of multilayer mean-field networks: how far each hidden layer is from the fixed
set of its neuron permutations, and how close two widths of one embedding are.

The permutations S_{n_ℓ} of layer ℓ's neurons act on its pre-activation vectors
H_ℓ(x) ∈ R^{n_ℓ}, on the rows of its incoming weights and on the columns of its outgoing ones.
Their fixed-point subspace (all neurons equal) comes from symfix's group machinery,
``reps.permutation(groups.symmetric(n)).fixed_subspace()``, and its projector P (never formed:
``FixedSubspace.project``) gives

- the diversity D_ℓ = Σ_x ||H_ℓ(x) − P H_ℓ(x)||² / Σ_x ||H_ℓ(x)||²
  = mean_x Var_j H_ℓ(x, j) / mean_x mean_j H_ℓ(x, j)²  (population variance),
  0 exactly when every neuron computes the same function on the probe;
- the weight distances ||W − P W||₂ / ||W||₂ in the spectral norm, for the incoming and the
  outgoing weights of the layer. The spectral (operator) norm is the mean-field one: an i.i.d.
  n × n block of O(1) entries has Frobenius distance O(n) from any rank-one matrix but operator
  norm O(√n) against the O(n) of its mean, so a layer whose function is degenerate has a
  distance O(n^{-1/2}) in this norm while its Frobenius distance does not decay.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from .._errors import InputError
from ._mfnet import MFNetwork

__all__ = ["diversity", "permutation_distance", "coupling_distance", "PermutationDistance"]


@lru_cache(maxsize=32)
def _neuron_fixed_subspace(n: int) -> Any:
    """Fix(S_n) on R^n (the all-equal vectors), from the group machinery."""
    from .. import groups, reps

    return reps.permutation(groups.symmetric(n)).fixed_subspace()


def _project(t: Any) -> Any:
    """P applied along the last axis of a tensor (length n = the layer's width)."""
    return _neuron_fixed_subspace(int(t.shape[-1])).project(t)


def _check_net(net: Any, name: str = "net") -> MFNetwork:
    if not isinstance(net, MFNetwork):
        raise InputError(f"{name} must be a symfix.numeric.MFNetwork, got {type(net).__name__}")
    return net


def diversity(net: MFNetwork, probe: Any) -> np.ndarray:
    """D_ℓ for the hidden layers ℓ = 1..L-1 on the probe inputs (B, d), as a float64 array.

    >>> net = MFNetwork([2, 64, 64, 64, 1], "sigmoid", "iid", seed=0)
    >>> x = np.random.default_rng(0).standard_normal((50, 2))
    >>> D = diversity(net, x)
    >>> D.shape, bool(D[0] > 10 * D[1])  # layer 1 diverse, layer 2 degenerate
    ((3,), True)
    """
    hs = _check_net(net).hidden(probe)[:-1]
    out = []
    for h in hs:
        off = h - _project(h)
        total = float((h * h).sum())
        out.append(float((off * off).sum()) / total if total > 0 else 0.0)
    return np.array(out)


@dataclass(frozen=True)
class PermutationDistance:
    """Relative spectral-norm distances of hidden layers 1..L-1 to the fixed subspace of their
    neuron permutations: ``incoming[ℓ-1]`` = ||W_ℓ − P W_ℓ||₂/||W_ℓ||₂ (P averages the rows,
    one per neuron), ``outgoing[ℓ-1]`` likewise for W_{ℓ+1} (P averages its columns)."""

    incoming: np.ndarray
    outgoing: np.ndarray


def permutation_distance(net: MFNetwork) -> PermutationDistance:
    """Distances of every hidden layer's weights to the fixed subspace of its neuron
    permutations (spectral norm, relative; O(n³) per layer for the norms).

    >>> a = permutation_distance(MFNetwork([2, 64, 64, 64, 1], "sigmoid", "iid", seed=0))
    >>> b = permutation_distance(MFNetwork([2, 256, 256, 256, 1], "sigmoid", "iid", seed=0))
    >>> np.round(b.incoming / a.incoming, 1)  # layer 1 keeps its own rows; layers 2, 3 fall like n^(-1/2)
    array([1. , 0.5, 0.5])
    """
    import torch

    ws = _check_net(net).weights

    def rel(m: Any, fixed: Any) -> float:
        top = float(torch.linalg.matrix_norm(m, ord=2))
        return float(torch.linalg.matrix_norm(m - fixed, ord=2)) / top if top > 0 else 0.0

    inc, outg = [], []
    for ell in range(1, net.depth):
        w_in, w_out = ws[ell - 1], ws[ell]
        inc.append(rel(w_in, _project(w_in.T).T))
        outg.append(rel(w_out, _project(w_out)))
    return PermutationDistance(np.array(inc), np.array(outg))


def coupling_distance(a: MFNetwork, b: MFNetwork, probe: Any) -> float:
    """sqrt(mean_x ||ŷ_a(x) − ŷ_b(x)||²) on the probe inputs: for two widths of one embedding,
    the distance between the two networks' outputs (the theory's rate is n^{-1/2}).

    >>> small = MFNetwork([2, 32, 32, 1], "sigmoid", "correlated", seed=1)
    >>> x = np.random.default_rng(0).standard_normal((20, 2))
    >>> coupling_distance(small, small.resample([2, 128, 128, 1]), x) < 1.0
    True
    """
    _check_net(a, "a")
    _check_net(b, "b")
    if a.widths[0] != b.widths[0] or a.widths[-1] != b.widths[-1]:
        raise InputError(f"networks with inputs/outputs {a.widths[0]}/{a.widths[-1]} and {b.widths[0]}/{b.widths[-1]} "
                         "cannot be compared; resample one from the other")
    ya, yb = a.forward(probe), b.forward(probe)
    diff = ya.double() - yb.to(ya.device).double()
    return float((diff * diff).sum(-1).mean().sqrt())
