"""Initial particle laws: Gaussian, strongly invariant (SI) and weakly invariant (WI) clouds.

Every sampler takes an explicit ``numpy.random.Generator`` (or seed) and returns an (N, D)
float64 array. Clouds are ordered so that their prefixes are valid clouds of the same law:
:func:`nested` cuts one large cloud into coupled clouds of increasing N.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .._errors import InputError

__all__ = ["gaussian", "strongly_invariant", "weakly_invariant", "nested"]


def _rng(rng: Any) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def _check(n: Any, std: Any) -> None:
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n <= 0:
        raise InputError(f"the number of particles must be a positive int, got {n!r}")
    if not isinstance(std, (int, float)) or not np.isfinite(std) or std < 0:
        raise InputError(f"std must be a finite number >= 0, got {std!r}")


def gaussian(problem: Any, n: int, *, std: float = 1.0, rng: Any = None) -> np.ndarray:
    """N i.i.d. particles with independent N(0, std²) entries.

    >>> from symfix import Problem, groups, reps, units
    >>> G = groups.cyclic(2); V = reps.permutation(G)
    >>> P = Problem(G, V, V, units.matrix_unit(2, 2, "sigmoid"))
    >>> gaussian(P, 5, std=0.25, rng=0).shape
    (5, 4)
    """
    _check(n, std)
    return std * _rng(rng).standard_normal((int(n), problem.param_dim))


def strongly_invariant(problem: Any, n: int, *, std: float = 1.0, rng: Any = None, subspace: Any = None) -> np.ndarray:
    """SI cloud: Gaussian particles projected onto E^G (or onto ``subspace``).

    The projection of an isotropic Gaussian is the isotropic Gaussian of E^G, so every particle
    is exactly fixed by the group (up to rounding of the projector).

    >>> from symfix import Problem, groups, reps, units
    >>> G = groups.cyclic(2); V = reps.permutation(G)
    >>> P = Problem(G, V, V, units.matrix_unit(2, 2, "sigmoid"))
    >>> th = strongly_invariant(P, 4, rng=0)
    >>> bool(abs(P.act(G.generators[0], th) - th).max() < 1e-12)
    True
    """
    E = problem.fixed_subspace() if subspace is None else subspace
    return np.asarray(E.project(gaussian(problem, n, std=std, rng=rng)), dtype=np.float64)


def weakly_invariant(problem: Any, n: int, *, std: float = 1.0, rng: Any = None) -> np.ndarray:
    """WI cloud: for finite G, n/|G| Gaussian particles together with their whole orbits
    (n must be a multiple of |G|), so the empirical law itself is invariant; the cloud is stored
    orbit by orbit, so prefixes of whole orbits stay WI. For a compact Lie group each Gaussian
    particle is moved by an independent Haar-random element (the law is WI, the empirical
    cloud only approximately).
    """
    _check(n, std)
    G = problem.group
    gen = _rng(rng)
    if G.is_finite:
        els = G.elements()
        if n % len(els):
            raise InputError(f"a WI cloud for a group of order {len(els)} needs N divisible by {len(els)}, got {n}")
        base = std * gen.standard_normal((n // len(els), problem.param_dim))
        orbits = np.stack([problem.act(g, base) for g in els], axis=1)  # (n/|G|, |G|, D)
        return orbits.reshape(n, problem.param_dim)
    base = std * gen.standard_normal((int(n), problem.param_dim))
    return np.concatenate([problem.act(G.sample(gen), base[i : i + 1]) for i in range(n)], axis=0)


def nested(cloud: Any, sizes: Sequence[int]) -> list[np.ndarray]:
    """Prefixes cloud[:N] for N in ``sizes``: coupled clouds for multi-N experiments.

    >>> import numpy as np
    >>> [c.shape[0] for c in nested(np.zeros((10, 3)), [2, 5, 10])]
    [2, 5, 10]
    """
    arr = np.asarray(cloud)
    if arr.ndim != 2:
        raise InputError(f"cloud must be an (N, D) array, got shape {arr.shape}")
    bad = [s for s in sizes if not isinstance(s, (int, np.integer)) or not 0 < s <= arr.shape[0]]
    if bad:
        raise InputError(f"sizes must lie in 1..{arr.shape[0]} (the cloud's size), got {bad}")
    return [arr[: int(s)] for s in sizes]
