"""Convex certificates: the best mean-field risk over all laws, over WI laws and over SI laws.

For the squared loss the mean-field risk of a law μ on parameters,

    R(μ) = E_x || ∫ σ_*(x, θ) dμ(θ) − y(x) ||²,

is a convex quadratic in μ. Over a finite dictionary θ_1..θ_K, μ = Σ_k p_k δ_{θ_k} with p in the
probability simplex, R is estimated on samples x_1..x_n as (1/n) ||F p − Y||², F the stacked unit
outputs. Three convex programs (cvxpy) give

* ``all``: p ≥ 0, Σ p = 1;
* ``WI``: p constant on the G-orbits of the dictionary (the dictionary must be closed under
  M_g; :func:`orbit_dictionary` builds one);
* ``SI``: p supported on dictionary units lying in E^G.

SI ⊂ WI ⊂ all, so R_all ≤ R_WI ≤ R_SI. The gap R_SI − R_WI is what an equivariant
architecture gives up against a symmetric law of free units; it can be strictly positive.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import warnings

import numpy as np

from .._errors import InputError, SymfixError
from .._validate import number, real_array

__all__ = ["certify", "Certificate", "orbit_dictionary"]


class SolverError(SymfixError):
    """The convex solver did not report an optimal solution."""


@dataclass(frozen=True)
class Certificate:
    """Optimal risks over all laws, WI laws and SI laws on one dictionary and one sample.

    ``gap`` = risk_si − risk_wi; ``status`` holds each program's solver status (all
    ``optimal`` when returned); ``tol`` is the solver's stated accuracy, so a gap above a few
    ``tol`` is certified positive up to the sampling of x. ``weights`` holds the optimal p of
    each program, ``orbits`` the orbit label of each dictionary unit and ``si`` which units lie
    in E^G.
    """

    risk_all: float
    risk_wi: float
    risk_si: float
    status: dict
    solver: str
    tol: float
    n_samples: int
    n_units: int
    weights: dict = field(repr=False, default_factory=dict)
    orbits: np.ndarray = field(repr=False, default=None)  # type: ignore[assignment]
    si: np.ndarray = field(repr=False, default=None)  # type: ignore[assignment]

    slack: float = 0.0

    @property
    def gap(self) -> float:
        return self.risk_si - self.risk_wi

    @property
    def verdict(self) -> str:
        """``"positive gap"`` when the SI - WI gap exceeds the solver's accuracy ``slack``, else
        ``"no gap beyond the solver's accuracy"`` (never a certified gap the solver cannot resolve)."""
        return "positive gap" if self.gap > self.slack else "no gap beyond the solver's accuracy"

    def summary(self) -> str:
        return (
            f"best risk over all laws {self.risk_all:.6g}, over WI laws {self.risk_wi:.6g}, over SI laws "
            f"{self.risk_si:.6g}; SI - WI gap {self.gap:.6g}: {self.verdict} (±{self.slack:.2g}; solver {self.solver}, "
            f"status {'/'.join(self.status.values())}, tol {self.tol:g}; {self.n_units} units, {self.n_samples} samples)"
        )


def check_consistent(r_all: float, r_wi: float, r_si: float, tol: float, scale: float) -> float:
    """The accuracy slack 10·tol·max(1, scale) of three risks, after checking they are finite and
    ordered R_all <= R_WI <= R_SI within it (SI ⊂ WI ⊂ all laws); raises SolverError otherwise.

    >>> check_consistent(0.1, 0.2, 0.3, 1e-9, 1.0)
    1e-08
    """
    slack = 10.0 * tol * max(1.0, scale)
    risks = {"all": r_all, "WI": r_wi, "SI": r_si}
    bad = [k for k, v in risks.items() if not np.isfinite(v)]
    if bad:
        raise SolverError(f"the solver returned non-finite risks for {', '.join(bad)} ({risks}); nothing is certified")
    if r_all > r_wi + slack or r_wi > r_si + slack:
        raise SolverError(
            f"the solutions violate R_all <= R_WI <= R_SI beyond the solver's accuracy ({r_all:.6g}, {r_wi:.6g}, "
            f"{r_si:.6g}; slack {slack:.2g} for tol={tol:g}): they cannot be vouched for; lower tol or try another solver")
    return slack


def orbit_dictionary(problem: Any, base: Any, *, include_projections: bool = True) -> np.ndarray:
    """The dictionary made of ``base`` units (K, D), their images under every group element
    (finite G), and (``include_projections``) their projections onto E^G, which are SI units."""
    base = real_array(base, "base units")
    if base.ndim != 2 or base.shape[1] != problem.param_dim or base.shape[0] == 0:
        raise InputError(f"base units must be a non-empty (K, {problem.param_dim}) array, got shape {base.shape}")
    G = problem.group
    if not G.is_finite:
        raise InputError("orbit_dictionary needs a finite group (a Lie group's orbits are infinite)")
    parts = [problem.act(g, base) for g in G.elements()]
    if include_projections:
        parts.append(np.asarray(problem.fixed_subspace().project(base), dtype=np.float64))
    return _unique_rows(np.concatenate(parts, axis=0))


def _unique_rows(a: np.ndarray, decimals: int = 10) -> np.ndarray:
    _, idx = np.unique(np.round(a, decimals), axis=0, return_index=True)
    return a[np.sort(idx)]


def _orbit_labels(problem: Any, dic: np.ndarray, tol: float) -> np.ndarray:
    """Orbit label per dictionary unit; raises if the dictionary is not closed under the group."""
    from scipy.sparse import coo_array
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    tree = cKDTree(dic)
    K = dic.shape[0]
    src, dst = [], []
    gens = problem.group.generators if problem.group.is_finite else ()
    for g in gens:
        img = problem.act(g, dic)
        dist, j = tree.query(img)
        if np.any(dist > tol * (1 + np.abs(dic).max())):
            k = int(np.argmax(dist))
            raise InputError(
                f"the dictionary is not closed under the group: the image of unit {k} is not in it; "
                "build it with symfix.discovery.orbit_dictionary(problem, base)"
            )
        src.append(np.arange(K))
        dst.append(j)
    if not src:
        return np.arange(K)
    graph = coo_array((np.ones(K * len(src)), (np.concatenate(src), np.concatenate(dst))), shape=(K, K))
    return connected_components(graph, directed=True, connection="weak")[1]


def certify(
    problem: Any,
    x: Any,
    y: Any,
    *,
    dictionary: Any,
    solver: str | None = None,
    tol: float = 1e-9,
) -> Certificate:
    """Best MF risk over all laws, WI laws and SI laws on a dictionary of units (cvxpy).

    Parameters
    ----------
    problem : Problem
    x : array (n, d) of input samples
    y : array (n, c) of targets, or a callable mapping x to them
    dictionary : array (K, D) of candidate units, closed under the group (see
        :func:`orbit_dictionary`); units with ||(I − P)θ|| ≤ 1e-9 (1 + ||θ||) count as SI
    solver : cvxpy solver name (default CLARABEL)
    tol : solver accuracy requested; by default CLARABEL is tried first and OSQP, then SCS,
        when a solver does not report an optimal solution (``solver`` names the ones used)

    Examples
    --------
    >>> import numpy as np
    >>> from symfix import Problem, groups, reps, units
    >>> G = groups.cyclic(2)
    >>> P = Problem(G, reps.permutation(G), reps.trivial(G), units.neuron(2, 1, "identity"))
    >>> x = np.random.default_rng(0).standard_normal((200, 2))
    >>> dic = orbit_dictionary(P, [[2.0, 1.0, 0.0, 0.0], [1.0, 0.5, 0.5, 0.0]])
    >>> c = certify(P, x, x[:, :1] + x[:, 1:], dictionary=dic)   # target x1 + x2 is SI
    >>> round(c.risk_si, 6), round(c.gap, 6)
    (0.0, 0.0)
    """
    import cvxpy as cp

    tol = number(tol, "tol", minimum=0.0, strict=True)
    if solver is not None and (not isinstance(solver, str) or not solver):
        raise InputError(f"solver must be a cvxpy solver name such as 'CLARABEL', got {solver!r}")
    x = real_array(x, "x", finite=False)
    u = problem.unit
    if x.ndim != 2 or x.shape[1] != u.d or x.shape[0] == 0:
        raise InputError(f"x must be a non-empty (n, {u.d}) array, got shape {x.shape}")
    if callable(y):
        y = y(x)
    y = real_array(y, "y", finite=False)
    if y.ndim == 1 and u.c == 1:
        y = y[:, None]
    if y.shape != (x.shape[0], u.c):
        raise InputError(f"y must have shape ({x.shape[0]}, {u.c}), got {y.shape}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise InputError("x or y contains NaN or inf")
    dic = real_array(dictionary, "dictionary")
    if dic.ndim != 2 or dic.shape[1] != problem.param_dim or dic.shape[0] == 0:
        raise InputError(f"dictionary must be a non-empty (K, {problem.param_dim}) array, got shape {dic.shape}")
    n, K = x.shape[0], dic.shape[0]
    F = np.transpose(u.forward(x, dic), (1, 2, 0)).reshape(n * u.c, K) / np.sqrt(n)  # (n c, K)
    Y = y.reshape(n * u.c) / np.sqrt(n)
    labels = _orbit_labels(problem, dic, 1e-8)
    off = dic - np.asarray(problem.fixed_subspace().project(dic), dtype=np.float64)
    si = np.linalg.norm(off, axis=1) <= 1e-9 * (1 + np.linalg.norm(dic, axis=1))
    chain = [solver] if solver else ["CLARABEL", "OSQP", "SCS"]  # fall back when a solver is inaccurate
    opts = {
        "CLARABEL": {"tol_gap_abs": tol, "tol_gap_rel": tol, "tol_feas": tol},
        "OSQP": {"eps_abs": tol, "eps_rel": tol, "max_iter": 200000, "polish": True},
        "SCS": {"eps": max(tol, 1e-7), "max_iters": 200000},
    }
    used: list = []

    def solve(cols: np.ndarray, mix: np.ndarray | None) -> tuple[float, str, np.ndarray]:
        A = F[:, cols] if mix is None else F @ mix
        q = cp.Variable(A.shape[1], nonneg=True)
        prob = cp.Problem(cp.Minimize(cp.sum_squares(A @ q - Y)), [cp.sum(q) == 1])
        tried = []
        for name in chain:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    prob.solve(solver=name, **opts.get(name, {}))
            except cp.error.SolverError as exc:
                tried.append(f"{name}: {exc}")
                continue
            tried.append(f"{name}: {prob.status}")
            if prob.status == cp.OPTIMAL:
                used.append(name)
                break
        else:
            raise SolverError(f"no solver reached an optimal solution ({'; '.join(tried)}); try solver='SCS' or more samples")
        p = np.zeros(K)
        if mix is None:
            p[cols] = q.value
        else:
            p = mix @ q.value
        return float(max(prob.value, 0.0)), prob.status, p

    r_all, s_all, p_all = solve(np.arange(K), None)
    ids = np.unique(labels)
    mix = np.zeros((K, ids.size))
    for c_, lab in enumerate(ids):
        members = labels == lab
        mix[members, c_] = 1.0 / members.sum()
    r_wi, s_wi, p_wi = solve(np.arange(K), mix)
    if not si.any():
        raise InputError("the dictionary has no SI unit (none lies in E^G); add projections (orbit_dictionary does)")
    r_si, s_si, p_si = solve(np.flatnonzero(si), None)
    slack = check_consistent(r_all, r_wi, r_si, tol, float(Y @ Y))
    return Certificate(
        risk_all=r_all, risk_wi=r_wi, risk_si=r_si,
        status={"all": s_all, "WI": s_wi, "SI": s_si}, solver="/".join(dict.fromkeys(used)), tol=tol, n_samples=n, n_units=K,
        weights={"all": p_all, "WI": p_wi, "SI": p_si}, orbits=labels, si=si, slack=slack,
    )
