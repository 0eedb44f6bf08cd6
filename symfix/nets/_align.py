"""Weight matching, canonical forms and loss barriers over a network's discrete symmetry group.

* :func:`canonicalize` — a unique representative of a module's orbit under permutations and
  sign flips. Key: tie classes are visited in the order of the graph, each once the weights
  that feed it are canonical (the classes they read from are done or fixed). For every sign
  class the sign of each neuron is chosen so that its largest-magnitude feeding coefficient
  (first one on ties) is positive; then the neurons are sorted lexicographically by their
  feeding coefficients (incoming weights, bias, BatchNorm parameters, in parameter order).
  Permutations and negations are exact, so orbit-mates give bitwise equal results; on weights
  with two neurons of identical feeding rows (or all-zero rows) the representative is not unique.
* :func:`match` / :func:`align` — weight matching as in Git Re-Basin (Ainsworth et al., 2023),
  generalised to the group: maximise <θ_ref, g·θ_other> over discrete g by coordinate descent
  over tie classes, each step a linear assignment problem
  (``scipy.optimize.linear_sum_assignment``) whose scores take the best sign per pair where the
  class has sign flips. It starts from the better of the identity and the composition of both
  canonical forms, so an orbit-mate of the reference is matched exactly.
* :func:`barrier` — the loss along the straight line between two parameter vectors.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from scipy.optimize import linear_sum_assignment

from .._errors import InputError
from ._element import NetElement, act_flat, compose
from ._group import NetSymmetries, symmetries
from ._params import clone_module, flat_params, load_flat

__all__ = ["canonicalize", "match", "align", "barrier", "Matching", "Barrier"]


@dataclass(frozen=True)
class Matching:
    """Result of :func:`match`: the element g with ``module`` = g·other, and the similarities
    <θ_ref, θ> before (identity) and after; ``converged`` when a full sweep changed nothing."""

    element: NetElement
    module: Any
    similarity: float
    initial_similarity: float
    sweeps: int
    converged: bool


@dataclass(frozen=True)
class Barrier:
    """Loss along (1 - t)·a + t·b: ``t``, ``losses`` (float64 arrays) and the barrier
    max_t [L(t) - ((1 - t) L(0) + t L(1))]."""

    t: np.ndarray
    losses: np.ndarray
    barrier: float


def _ready_order(S: NetSymmetries) -> list[tuple[int, list]]:
    """Tie classes in canonicalisation order with the touches usable as keys."""
    arch = S.arch
    owner: dict[tuple[str, int], int] = {}
    for t in S._free_ties:
        for tt in arch.ties[t].touches:
            owner[(tt.param, tt.axis)] = t
    done: set[int] = set()
    order, pending = [], list(S._free_ties)
    while pending:
        progressed = False
        for t in list(pending):
            keys = []
            for k in arch.ties[t].scales:
                for tt in arch.scales[k].touches:
                    others = [o for (p, ax), o in owner.items() if p == tt.param and ax != tt.axis]
                    if tt.role != "reader" and all(o in done for o in others):
                        keys.append((k, tt))
            if keys:
                order.append((t, keys))
                done.add(t)
                pending.remove(t)
                progressed = True
        if not progressed:
            raise InputError("canonicalize: no hidden space can be ordered first (every one is fed by another "
                             f"unordered one: tie classes {pending})")
    return order


def canonical_element(S: NetSymmetries, theta: np.ndarray) -> NetElement:
    """The discrete element g with g·θ canonical (module docstring)."""
    arch, g, th = S.arch, NetElement(), theta
    for t, keys in _ready_order(S):
        T = arch.ties[t]
        for k in T.scales:
            if k not in S._signs:
                continue
            R = np.concatenate([th[arch.index(tt, T.width)] for kk, tt in keys if kk == k], axis=1) \
                if any(kk == k for kk, _ in keys) else np.zeros((T.width, 1))
            pick = R[np.arange(T.width), np.argmax(np.abs(R), axis=1)]
            s = np.where(pick < 0, -1.0, 1.0)
            h = NetElement({}, {k: s})
            th, g = act_flat(arch, h, th), compose(h, g, S._tie_of)
        R = np.concatenate([th[arch.index(tt, T.width)] for _, tt in keys], axis=1)
        order = np.lexsort(R.T[::-1])
        p = np.empty(T.width, dtype=np.int64)
        p[order] = np.arange(T.width)
        h = NetElement({t: p}, {})
        th, g = act_flat(arch, h, th), compose(h, g, S._tie_of)
    return g


def canonicalize(module: Any) -> Any:
    """A unique representative of ``module``'s orbit under its permutations and sign flips.

    Returns a new module; ``canonicalize(canonicalize(m))`` equals ``canonicalize(m)`` and
    ``canonicalize(g·m)`` equals ``canonicalize(m)`` bitwise for every discrete element g
    (the key is in the module docstring). BatchNorm running statistics move along.

    Examples
    --------
    >>> import torch, numpy as np
    >>> from torch import nn
    >>> import symfix.nets as sn
    >>> torch.manual_seed(0) and None
    >>> a = nn.Sequential(nn.Linear(3, 6), nn.Tanh(), nn.Linear(6, 2)).double()
    >>> S = sn.symmetries(a)
    >>> b = S.apply(S.sample(np.random.default_rng(1), continuous=False), a)
    >>> all(torch.equal(p, q) for p, q in zip(sn.canonicalize(a).parameters(), sn.canonicalize(b).parameters()))
    True
    """
    S = symmetries(module)
    return S.apply(canonical_element(S, flat_params(module)), module)


def _pair_scores(S: NetSymmetries, t: int, A: np.ndarray, B: np.ndarray) -> tuple[np.ndarray, np.ndarray, list]:
    """Score matrix C[i, j] for moving channel j of B to i, the best sign combination per pair."""
    arch, T = S.arch, S.arch.ties[t]
    signs = [k for k in T.scales if k in S._signs]
    blocks: dict[tuple[str, int], tuple[Any, set]] = {}
    for k in T.scales:
        for tt in arch.scales[k].touches:
            key = (tt.param, tt.axis)
            entry = blocks.setdefault(key, (tt, set()))
            entry[1].add(k)
    mats = []
    for tt, ks in blocks.values():
        idx = arch.index(tt, T.width)
        mats.append((A[idx] @ B[idx].T, [k for k in ks if k in signs]))
    combos = list(itertools.product([1.0, -1.0], repeat=len(signs))) if len(signs) <= 4 else [(1.0,) * len(signs)]
    scores = []
    for c in combos:
        val = dict(zip(signs, c))
        scores.append(sum(np.prod([val[k] for k in ks]) * M for M, ks in mats))
    scores = np.stack(scores)
    arg = np.argmax(scores, axis=0)
    return np.max(scores, axis=0), arg, [dict(zip(signs, c)) for c in combos]


def match(reference: Any, other: Any, *, max_sweeps: int = 50, seed: int = 0) -> Matching:
    """Weight matching of ``other`` onto ``reference`` over permutations and sign flips.

    Maximises <θ_ref, g·θ_other> by coordinate descent over tie classes (module docstring);
    a step is kept only when it does not lower the similarity.

    Examples
    --------
    >>> import torch, numpy as np
    >>> from torch import nn
    >>> import symfix.nets as sn
    >>> a = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 3)).double()
    >>> S = sn.symmetries(a)
    >>> b = S.apply(S.sample(np.random.default_rng(0), continuous=False), a)
    >>> m = sn.match(a, b)
    >>> max(float((p - q).abs().max()) for p, q in zip(a.state_dict().values(), m.module.state_dict().values()))
    0.0
    """
    S = symmetries(reference)
    _same_architecture(S, reference, other, "match")
    if not isinstance(max_sweeps, int) or max_sweeps < 1:
        raise InputError(f"max_sweeps must be a positive integer, got {max_sweeps!r}")
    A, B0 = flat_params(reference), flat_params(other)
    start = S.compose(S.inverse(canonical_element(S, A)), canonical_element(S, B0))
    Bc = act_flat(S.arch, start, B0)
    init = float(A @ B0)
    g, B = (start, Bc) if float(A @ Bc) > init else (NetElement(), B0.copy())
    rng = np.random.default_rng(seed)
    sim, sweeps, converged = float(A @ B), 0, False
    while sweeps < max_sweeps and not converged:
        sweeps += 1
        changed = False
        for t in rng.permutation(S._free_ties):
            C, arg, combos = _pair_scores(S, int(t), A, B)
            rows, cols = linear_sum_assignment(C, maximize=True)
            p = np.empty_like(cols)
            p[cols] = rows
            maps: dict[int, np.ndarray] = {}
            for k in combos[0]:
                s = np.ones(len(cols))
                s[cols] = [combos[arg[i, j]][k] for i, j in zip(rows, cols)]
                if np.any(s < 0):
                    maps[k] = s
            if np.all(p == np.arange(p.size)) and not maps:
                continue
            h = NetElement({int(t): p}, maps)
            B_new = act_flat(S.arch, h, B)
            new_sim = float(A @ B_new)
            if new_sim > sim:
                B, sim, g, changed = B_new, new_sim, compose(h, g, S._tie_of), True
        converged = not changed
    return Matching(g, S.apply(g, other), sim, init, sweeps, converged)


def align(reference: Any, other: Any, **kwargs: Any) -> Any:
    """``other`` moved by the permutations and sign flips that best match ``reference``
    (:func:`match`'s ``.module``): the same function, weights comparable coordinate by coordinate."""
    return match(reference, other, **kwargs).module


def barrier(a: Any, b: Any, loss: Callable, data: Any, points: int = 25) -> Barrier:
    """Loss along the straight line (1 - t)·a + t·b between two modules of one architecture.

    ``data`` is a pair ``(x, y)`` of tensors or an iterable of such batches (losses averaged with
    weights by batch size); ``loss(prediction, y)`` returns a scalar tensor. Parameters and float
    buffers (BatchNorm statistics) are interpolated; the modules are evaluated in their current
    mode under ``torch.no_grad``.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> import symfix.nets as sn
    >>> a, b = nn.Linear(2, 1).double(), nn.Linear(2, 1).double()
    >>> x, y = torch.randn(50, 2, dtype=torch.float64), torch.randn(50, 1, dtype=torch.float64)
    >>> r = sn.barrier(a, b, nn.functional.mse_loss, (x, y), points=5)
    >>> len(r.losses), r.barrier <= 1e-12   # a linear model's loss is convex along the line
    (5, True)
    """
    import torch

    S = symmetries(a)
    _same_architecture(S, a, b, "barrier")
    if not isinstance(points, int) or points < 2:
        raise InputError(f"points must be an integer >= 2, got {points!r}")
    if not callable(loss):
        raise InputError("loss must be a callable loss(prediction, target) returning a scalar tensor")
    batches = [data] if isinstance(data, tuple) and len(data) == 2 and isinstance(data[0], torch.Tensor) else list(data)
    if not batches or not all(isinstance(d, (tuple, list)) and len(d) == 2 for d in batches):
        raise InputError("data must be a pair (x, y) of tensors or a non-empty iterable of such pairs")
    ta, tb = flat_params(a), flat_params(b)
    bufa, bufb = dict(a.named_buffers()), dict(b.named_buffers())
    ts = np.linspace(0.0, 1.0, points)
    losses = np.empty(points)
    m = clone_module(a)
    mb = dict(m.named_buffers())
    with torch.no_grad():
        for i, t in enumerate(ts):
            load_flat(m, (1 - t) * ta + t * tb)
            for k, v in mb.items():
                if torch.is_floating_point(v):
                    v.copy_((1 - t) * bufa[k] + t * bufb[k])
            tot, cnt = 0.0, 0
            for x, y in batches:
                n = int(x.shape[0])
                tot += float(loss(m(x), y)) * n
                cnt += n
            losses[i] = tot / cnt
    if not np.all(np.isfinite(losses)):
        raise InputError("the loss is not finite along the path; check the data and the loss function")
    line = (1 - ts) * losses[0] + ts * losses[-1]
    return Barrier(ts, losses, float(np.max(losses - line)))


def _same_architecture(S: NetSymmetries, a: Any, b: Any, what: str) -> None:
    from torch import nn

    if not isinstance(b, nn.Module):
        raise InputError(f"{what}: expected two torch modules, got {type(b).__name__}")
    types_b = tuple((n, type(m).__name__) for n, m in b.named_modules())
    shapes_b = [(n, tuple(p.shape)) for n, p in b.named_parameters()]
    if types_b != S.arch.module_types or shapes_b != S.arch.params:
        raise InputError(f"{what}: the two modules have different architectures (layer types, names or shapes); "
                         "both must be the same model class with the same widths")
