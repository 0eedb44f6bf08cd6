"""Distances between particle laws: escape from a subspace, distance to WI, pairwise RMD, risk.

All laws are empirical, given as (N, D) arrays of particles with equal weights. Following the
paper, RMD²(μ, ν) = W2²(μ, ν) / (M2(μ) + M2(ν)) with M2(μ) = 2 E_μ ||Z||².

* Escape from a subspace E with orthogonal projector P: the optimal coupling between ν and
  P_#ν is θ ↦ Pθ, so W2²(ν, P_#ν) = mean_i ||(I − P)θ_i||² exactly, in O(N·D) (no solver).
* W2 between two clouds: exact optimal transport (an assignment problem, scipy's
  ``linear_sum_assignment``) up to ``exact_max`` atoms per side, sliced W2 above.
* Distance to weak invariance: RMD(ν, ν^G) with ν^G = mean_g (M_g)_#ν, exact over the group
  for finite G, over a fixed quadrature of Haar samples for compact Lie groups.

Raw W2 between independent clouds has a sampling floor of order N^(-1/D): compare a pairwise
distance with :func:`same_n_floor` at the same N.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist

from .._errors import InputError
from .._validate import choice, count, real_array, seed as check_seed
from ..symbolic import dense_orthonormal

__all__ = ["escape", "Distance", "w2", "rmd", "wi_distance", "same_n_floor", "population_risk"]

EXACT_MAX = 3000


@dataclass(frozen=True)
class Distance:
    """A distance between two laws: ``w2sq`` = W2², ``rmd`` = sqrt(RMD²), and how it was computed
    (``method`` is ``closed-form``, ``exact-ot`` or ``sliced``; ``n_projections`` for sliced)."""

    w2sq: float
    rmd: float
    method: str
    n_projections: int = 0

    def __float__(self) -> float:
        return self.rmd


def _cloud(a: Any, name: str) -> np.ndarray:
    arr = real_array(a, name, finite=False)
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise InputError(f"{name} must be a non-empty (N, D) array of particles, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{name} contains NaN or inf")
    if arr.size and np.abs(arr).max() > 1e150:
        raise InputError(f"{name} has entries beyond 1e150, whose squared distances overflow; rescale the particles")
    return arr


def _m2(a: np.ndarray) -> float:
    return 2.0 * float(np.mean(np.einsum("nd,nd->n", a, a)))


def _rmd(w2sq: float, a: np.ndarray, b: np.ndarray) -> float:
    den = _m2(a) + _m2(b)
    return float(np.sqrt(w2sq / den)) if den > 0 else 0.0


def escape(particles: Any, subspace: Any) -> Distance:
    """W2²(ν, P_#ν) = mean ||(I − P)θ_i||² in closed form, and its RMD.

    ``subspace`` is anything with ``.project`` (a :class:`~symfix.FixedSubspace`, a discovered
    subspace) or an (D, k) array with orthonormal columns.

    Examples
    --------
    >>> import numpy as np
    >>> from symfix import fixed_point_subspace
    >>> E = fixed_point_subspace([[1, 0]])            # swap: E = span(1, 1)
    >>> d = escape(np.array([[1.0, 1.0], [1.0, -1.0]]), E)
    >>> d.w2sq, d.method
    (1.0, 'closed-form')
    """
    th = _cloud(particles, "particles")
    proj = _projector(subspace, th.shape[1])
    # row blocks of about 2^18 entries: O(N D) time at cache speed, O(block) extra memory
    step = max(1, (1 << 18) // th.shape[1])
    esc = m_th = m_p = 0.0
    for i in range(0, th.shape[0], step):
        blk = th[i : i + step]
        pb = proj(blk)
        off = blk - pb
        esc += float(np.einsum("nd,nd->", off, off))
        m_th += float(np.einsum("nd,nd->", blk, blk))
        m_p += float(np.einsum("nd,nd->", pb, pb))
    n = th.shape[0]
    w2sq = esc / n
    den = 2.0 * (m_th + m_p) / n
    return Distance(w2sq, float(np.sqrt(w2sq / den)) if den > 0 else 0.0, "closed-form")


def _projector(subspace: Any, D: int) -> Callable[[np.ndarray], np.ndarray]:
    if hasattr(subspace, "project"):
        if getattr(subspace, "ambient_dim", D) != D:
            raise InputError(f"subspace lives in R^{subspace.ambient_dim}, particles in R^{D}")
        return lambda v: np.asarray(subspace.project(v), dtype=np.float64)
    if isinstance(subspace, (str, bytes, dict)) or subspace is None:
        raise InputError(f"subspace must have .project (e.g. a FixedSubspace) or be a ({D}, k) orthonormal basis")
    import scipy.sparse as sp

    structured = hasattr(subspace, "orthonormal_basis") or sp.issparse(subspace)
    Q = dense_orthonormal(subspace) if structured else real_array(subspace, "subspace basis")
    if Q.ndim != 2 or Q.shape[0] != D:
        raise InputError(f"subspace must have .project or be a ({D}, k) orthonormal basis, got shape {Q.shape}")
    if not np.allclose(Q.T @ Q, np.eye(Q.shape[1]), atol=1e-8):
        raise InputError("subspace basis columns must be orthonormal (use FixedSubspace.orthonormal_basis())")
    return lambda v: (v @ Q) @ Q.T


def w2(a: Any, b: Any, *, exact_max: int = EXACT_MAX, n_projections: int = 256, rng: Any = None) -> Distance:
    """W2 between two empirical laws (equal weights), exact up to ``exact_max`` atoms, else sliced.

    Exact: the clouds are replicated to a common size lcm(N_a, N_b) (equal weights) and matched
    by ``linear_sum_assignment`` on squared distances when that size is at most ``exact_max``;
    otherwise, while each cloud has at most ``exact_max`` atoms, the weighted transport problem
    is solved exactly by POT's network simplex (``ot.emd2``; e.g. 1000 against 999 atoms). Sliced: the mean over ``n_projections``
    random directions (from ``rng``) of the 1-D W2² of the projections, computed from quantiles;
    it is a lower bound of W2², reported with ``method="sliced"``.
    """
    A, B = _cloud(a, "a"), _cloud(b, "b")
    exact_max = count(exact_max, "exact_max", minimum=0, maximum=10**6, why="exact OT is cubic in the atoms")
    n_projections = count(n_projections, "n_projections", maximum=10**6)
    if rng is not None and not isinstance(rng, np.random.Generator):
        rng = check_seed(rng, "rng")
    if A.shape[1] != B.shape[1]:
        raise InputError(f"clouds live in different dimensions {A.shape[1]} and {B.shape[1]}")
    n = np.lcm(A.shape[0], B.shape[0])
    if n > exact_max and max(A.shape[0], B.shape[0]) <= exact_max:  # unequal sizes: exact OT with weights (POT)
        import ot

        C = cdist(A, B, "sqeuclidean")
        wa, wb = np.full(A.shape[0], 1.0 / A.shape[0]), np.full(B.shape[0], 1.0 / B.shape[0])
        w2sq = float(ot.emd2(wa, wb, C, numItermax=10**8))
        return Distance(w2sq, _rmd(w2sq, A, B), "exact-ot")
    if n <= exact_max:
        Ar = np.repeat(A, n // A.shape[0], axis=0)
        Br = np.repeat(B, n // B.shape[0], axis=0)
        C = cdist(Ar, Br, "sqeuclidean")
        r, c = linear_sum_assignment(C)
        w2sq = float(C[r, c].mean())
        return Distance(w2sq, _rmd(w2sq, A, B), "exact-ot")
    gen = np.random.default_rng(rng)
    dirs = gen.standard_normal((A.shape[1], n_projections))
    dirs /= np.linalg.norm(dirs, axis=0, keepdims=True)
    # 1-D W2 from sorted projections: quantile functions on a common grid of m levels
    # (exact when m is a multiple of both sizes)
    m = int(n) if n <= 4 * max(A.shape[0], B.shape[0]) else max(A.shape[0], B.shape[0])
    levels = (np.arange(m) + 0.5) / m
    pa = np.sort(A @ dirs, axis=0)[(levels * A.shape[0]).astype(np.int64)]
    pb = np.sort(B @ dirs, axis=0)[(levels * B.shape[0]).astype(np.int64)]
    w2sq = float(np.mean((pa - pb) ** 2))
    return Distance(w2sq, _rmd(w2sq, A, B), "sliced", n_projections)


def rmd(a: Any, b: Any, **kw: Any) -> float:
    """sqrt(RMD²(a, b)), the relative W2 distance between two particle clouds (see :func:`w2`)."""
    return w2(a, b, **kw).rmd


def wi_distance(particles: Any, problem: Any, *, n_quadrature: int = 16, rng: Any = None, **kw: Any) -> Distance:
    """RMD(ν, ν^G): how far the law is from weak invariance, ν^G = mean_g (M_g)_#ν.

    For finite G the symmetrisation is exact (N·|G| atoms); for compact Lie groups it uses
    ``n_quadrature`` Haar samples drawn from ``rng`` (a fixed quadrature of the average).
    """
    from .._problem import Problem
    th = _cloud(particles, "particles")
    if not isinstance(problem, Problem):
        raise InputError(f"wi_distance needs a symfix.Problem, got {type(problem).__name__}")
    if th.shape[1] != problem.param_dim:
        raise InputError(f"particles must have shape (N, {problem.param_dim}), got {th.shape}")
    n_quadrature = count(n_quadrature, "n_quadrature", maximum=10**4)
    if rng is not None and not isinstance(rng, np.random.Generator):
        rng = check_seed(rng, "rng")
    G = problem.group
    gs = G.elements() if G.is_finite else [G.sample(np.random.default_rng(rng)) for _ in range(n_quadrature)]
    sym = np.concatenate([problem.act(g, th) for g in gs], axis=0)
    return w2(th, sym, **kw)


def same_n_floor(sampler: Callable[[np.random.Generator], np.ndarray], *, seeds: tuple[int, int] = (0, 1), **kw: Any) -> Distance:
    """W2/RMD between two independent clouds from one law: the sampling floor at that N.

    ``sampler(rng)`` returns an (N, D) cloud; e.g. two trainings of the same scheme from
    independent initialisations.
    """
    a = sampler(np.random.default_rng(seeds[0]))
    b = sampler(np.random.default_rng(seeds[1]))
    return w2(a, b, **kw)


def population_risk(problem: Any, particles: Any, x: Any, y: Any, *, scheme: str = "vanilla") -> float:
    """mean ||Φ(x) − y||² on held-out samples; ``scheme="fa"`` evaluates the averaged model Q_G Φ
    (exact for finite G, the group's 16-element quadrature for Lie groups)."""
    from .._problem import Problem
    if not isinstance(problem, Problem):
        raise InputError(f"population_risk needs a symfix.Problem, got {type(problem).__name__}")
    choice(scheme, ("vanilla", "fa"), "scheme")
    th = _cloud(particles, "particles")
    x, y = real_array(x, "x"), real_array(y, "y")
    u = problem.unit
    if th.shape[1] != problem.param_dim:
        raise InputError(f"particles must have shape (N, {problem.param_dim}), got {th.shape}")
    if x.ndim != 2 or x.shape[1] != u.d or y.shape != (x.shape[0], u.c):
        raise InputError(f"expected x of shape (n, {u.d}) and y of shape (n, {u.c}), got {x.shape} and {y.shape}")
    if scheme == "fa":
        G = problem.group
        mats = [problem.matrices(g) for g in (G.elements() if G.is_finite else G.quadrature(16))]
        out = sum(u.forward(x @ A.T, th).mean(0) @ B for A, B, _ in mats) / len(mats)
    else:
        out = u.forward(x, th).mean(0)
    return float(np.mean(np.sum((out - y) ** 2, axis=1)))
