"""The steps of discovery, each testable alone: constrained training, velocity estimate,
cross-fitted test, leak bound, snap, refinement and closure. :mod:`._discover` chains them.

Cost model (unit evaluations, one iteration with N particles, n samples, m training samples):
horizon × N × m for the constrained run, snapshots × N × n for the velocities on the folds and
horizon/10 × N × m for the escape; the refinement, when it runs, costs about
10 (D − k) k × snapshots × N × m. With m fixed (``train_samples``), the time grows with n only
through the velocity estimate, which is what needs all the data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._rational import orbit_hull, rationalise

__all__ = ["Run", "Test", "constrained_run", "cross_fitted_test", "leak_bound", "leak_angle", "direction_error",
           "snap", "closure_hypothesis", "refine", "velocity", "SNAP_Z", "LEAK_Z", "LEAK_SHARE"]

SNAP_Z = 4.0  # a snap moves the subspace by at most this many standard errors of its estimate
LEAK_SHARE = 0.05  # a refinement is snapped only if it (and the snap) leave <= 5% of the off-velocity energy
LEAK_Z = 4.0  # a new direction must beat the leak of this many standard errors of E_j's estimate


@dataclass
class Run:
    """One constrained run on E_j: off-E_j velocities per fold ``O`` (K, rows, D), on-E_j
    velocity coordinates ``on`` (rows, k), particle coordinates in E_j per snapshot ``coords``,
    the final particles and the escape of a short free run."""

    O: np.ndarray
    on: np.ndarray
    coords: list
    particles: Any
    escape: float


@dataclass
class Test:
    """The cross-fitted test: directions that passed, the top t statistic, the top singular value
    of the all-fold mean, its directions (best first) and all its singular values."""

    count: int
    t: float
    signal: float
    directions: np.ndarray
    singular_values: np.ndarray


def velocity(unit: Any, data: tuple, th: Any, tau: float) -> Any:
    """Per-particle mean-field velocity N ∂L/∂θ_i of the squared loss (+ 2 τ θ), torch (N, D)."""
    x, y = data

    def dloss(phi: Any) -> tuple[Any, Any]:  # L = mean_b ||Φ_b − y_b||²: (∂L/∂Φ, L)
        diff = phi - y
        return diff * (2.0 / y.shape[0]), (diff * diff).sum() / y.shape[0]

    _, g = unit.mean_value_and_grad(x, th, dloss)
    return g + 2.0 * tau * th


def off(v: Any, Qt: Any) -> Any:
    return v - (v @ Qt) @ Qt.T


def constrained_run(unit: Any, folds: list, train: tuple, Q: np.ndarray, th: Any, *, lr: float, horizon: int,
                    snapshots: int, tau: float, steps: Any = range) -> Run:
    """Train particles ``th`` (on E_j already) full-batch on ``train`` with every step projected
    on E_j = span(Q); at ``snapshots`` evenly spaced steps take the velocity on every fold."""
    import torch

    Qt = torch.as_tensor(Q, dtype=th.dtype)
    K, n_p = len(folds), th.shape[0]
    per_fold: list[list[Any]] = [[] for _ in range(K)]
    on_rows, coords = [], []
    marks = set(np.linspace(0, horizon, snapshots).round().astype(int).tolist())
    for step in steps(horizon + 1):
        if step in marks:
            on = torch.zeros(n_p, Q.shape[1], dtype=th.dtype)
            for f, fold in enumerate(folds):
                vf = velocity(unit, fold, th, tau)
                per_fold[f].append(off(vf, Qt))
                on = on + (vf @ Qt) / K
            on_rows.append(on)
            coords.append(th @ Qt)
        if step < horizon:
            th = th - (lr / n_p) * (velocity(unit, train, th, tau) @ Qt @ Qt.T)
    free = th.clone()
    for _ in range(max(1, horizon // 10)):  # the paper's escape, for reference only
        free = free - (lr / n_p) * velocity(unit, train, free, tau)
    escape = float((off(free, Qt) ** 2).sum(1).mean())
    O = np.stack([torch.cat(rows).numpy() for rows in per_fold])
    return Run(O=O, on=torch.cat(on_rows).numpy(), coords=coords, particles=th, escape=escape)


def cross_fitted_test(O: np.ndarray, t_crit: float) -> Test:
    """Cross-fitted test of the off-subspace velocity directions.

    ``O`` holds the off-subspace velocities per data fold (K, rows, D). Directions come from the
    mean over the first half of the folds; each is tested on the other half: the statistic of
    fold f is the projection of its velocities on the selected pattern, and the leading
    directions count while the one-sided t statistic over the test folds exceeds ``t_crit``.
    For sampling noise alone the test folds' numbers have mean zero, so t follows Student's t
    with K/2 − 1 degrees of freedom.
    """
    K = O.shape[0]
    sel, test = O[: K // 2], O[K // 2 :]
    _, _, vt_sel = np.linalg.svd(sel.mean(0), full_matrices=False)
    _, s_all, _ = np.linalg.svd(O.mean(0), full_matrices=False)
    vt_all = np.linalg.svd(_whiten(O).mean(0), full_matrices=False)[2]
    count, t_top = 0, 0.0
    for j, u in enumerate(vt_sel):
        pattern = sel.mean(0) @ u
        norm = np.linalg.norm(pattern)
        if norm == 0:
            break
        z = np.einsum("frd,d,r->f", test, u, pattern) / norm
        sd = z.std(ddof=1)
        t = float(z.mean() / (sd / np.sqrt(z.size))) if sd > 0 else (np.inf if z.mean() > 0 else 0.0)
        if j == 0:
            t_top = t
        if t <= t_crit:
            break
        count += 1
    return Test(count, t_top, float(s_all[0]) if s_all.size else 0.0, vt_all, s_all)


def leak_bound(err: float, on: np.ndarray) -> float:
    """The off-subspace signal an error of ``err`` radians in E_j leaks from the on-E_j velocity
    (LEAK_Z standard errors times its top singular value); a new direction must beat it."""
    if err == 0 or on.size == 0:
        return 0.0
    return LEAK_Z * err * float(np.linalg.svd(on, compute_uv=False)[0])


def leak_angle(err: float, on: np.ndarray, signal: float) -> float:
    """Angle (radians) by which the leak of an ``err``-radian error in E_j can tilt a new direction
    of singular value ``signal``: the leak err × s_on lies along the error, so a direction that
    beats the leak bound only a few times over carries a tilt of err × s_on / signal. The fold
    spread of the new direction does not see it (the same leak is in every fold), so it is added
    to the standard error that the snap and the closure use. Measured on so2-second-moment
    (320 000 samples): a second direction at 2 leak bounds was tilted 0.16 rad off E^G, its
    fold error 0.011; this formula gives 0.13."""
    if err == 0 or on.size == 0:
        return 0.0
    if signal <= 0:
        return float(np.pi / 2)
    return float(min(np.pi / 2, err * float(np.linalg.svd(on, compute_uv=False)[0]) / signal))


def _whiten(O: np.ndarray) -> np.ndarray:
    """Rows (particles at a snapshot) scaled by their own fold-to-fold noise, for estimating
    directions: a particle that carries little signal and much noise (near a stationary point,
    where the curvature terms vanish) gets little weight. Measured on the D4 patch (400 000
    samples, spread 3): the error of the weakest added direction fell from 0.156 to 0.053 rad."""
    noise = np.linalg.norm(O.std(0, ddof=1), axis=1)
    scale = np.where(noise > 0, noise, 1.0)
    return O / scale[None, :, None]


def direction_error(O: np.ndarray, vt: np.ndarray, k: int) -> float:
    """Standard error (radians) of the k leading directions of the all-fold mean of the whitened
    off-subspace velocities, as :func:`cross_fitted_test` returns them.

    Each fold alone estimates the same k-dimensional subspace from 1/K of the data; the largest
    principal angle between fold f's estimate and the all-fold one is a_f, and the all-fold
    estimate (K times the data) has an error of about rms(a_f) / sqrt(K).
    """
    K = O.shape[0]
    V = vt[:k].T
    W = _whiten(O)
    angles = []
    for f in range(K):
        vf = np.linalg.svd(W[f], full_matrices=False)[2][:k].T
        cos = np.linalg.svd(V.T @ vf, compute_uv=False)
        angles.append(float(np.arccos(np.clip(cos.min(), -1.0, 1.0))))
    return float(np.sqrt(np.mean(np.square(angles)) / K))


def snap_tolerance(err: float, cap: float) -> float:
    """Largest angle a rational snap may move the subspace: SNAP_Z standard errors of the
    estimate (so a snap never goes further than the data can vouch for), at most ``cap``."""
    return float(min(cap, max(SNAP_Z * err, 1e-9)))


def snap(Q: np.ndarray, err: float, max_den: int, cap: float) -> tuple | None:
    """A rational subspace within the snap tolerance of span(Q) (:func:`rationalise`), or None."""
    if not max_den or Q.shape[1] == 0:
        return None
    return rationalise(Q, max_den=max_den, tol=snap_tolerance(err, cap))


def closure_hypothesis(Q: np.ndarray, err: float, mode: str, rejected: list) -> tuple | None:
    """The orbit hull of span(Q) for a closure mode, as (exact rows, orthonormal basis), or None.

    ``"orbits"``/``"signed-orbits"``: the hull of :func:`orbit_hull`, the action assumed to be a
    (signed) permutation (plain orbits with the zero class). ``"auto"``: the signed hull when
    some class joins coordinates with opposite signs (the data show sign changes), else the
    plain hull with the zero class; proposed only when some class joins two or more
    coordinates (a tie the data show), when it is larger than span(Q) but not the whole
    space, and when it was not refuted before.
    """
    if mode == "none" or Q.shape[1] == 0:
        return None
    tol = max(SNAP_Z * err, 1e-9)
    if mode != "auto":
        return orbit_hull(Q, tol=tol, signed=mode == "signed-orbits", zeros=mode == "orbits")
    from scipy.linalg import subspace_angles

    D, k = Q.shape
    hull = orbit_hull(Q, tol=tol, signed=True)
    if hull is None or not any(min(r) < 0 < max(r) for r in hull[0]):  # no sign change seen: plain orbits
        hull = orbit_hull(Q, tol=tol, zeros=True)
    if hull is None:
        return None
    rows, H = hull
    ties = any(sum(1 for x in r if x != 0) >= 2 for r in rows)
    seen = any(B.shape == H.shape and np.max(subspace_angles(B, H)) < 1e-9 for B in rejected)
    return hull if ties and k < H.shape[1] < D and not seen else None


def _off_energy(unit: Any, data: tuple, B: np.ndarray, coords: list, tau: float) -> np.ndarray:
    """Off-span(B) velocities of the snapshot laws moved into span(B), flattened.

    Each snapshot's particles keep their coordinates c_i (taken in E_j's basis) and sit at
    B c_i; a law supported in E^G has no off-E^G velocity in the population, so the sum of
    squares is the leak of span(B)'s error plus sampling noise.
    """
    import torch

    Qo = np.linalg.qr(B)[0]
    Bt = torch.as_tensor(B, dtype=coords[0].dtype)
    Qt = torch.as_tensor(Qo, dtype=coords[0].dtype)
    return np.concatenate([off(velocity(unit, data, c @ Bt.T, tau), Qt).numpy().ravel() for c in coords])


def refine(unit: Any, data: tuple, Q: np.ndarray, coords: list, tau: float, max_den: int, tol: float) -> tuple | None:
    """Refine span(Q) by least squares on the off-subspace velocity of the snapshot laws (tilts
    of Q's columns into its complement, on ``data``), then snap the refined subspace to a
    rational one within ``tol``.

    Accepted only when the stop was a leak: a leak is removed by tilting, a real direction or
    sampling noise is not, so both the refined and the snapped subspace must leave at most
    ``LEAK_SHARE`` of Q's off-subspace velocity energy. Measured (see BENCHMARKS.md): correct
    snaps leave 2e-4 to 0.018 of it; snaps of data without that symmetry left 0.29 to 15.
    """
    from scipy.linalg import null_space
    from scipy.optimize import least_squares

    D, k = Q.shape
    N = null_space(Q.T)
    if N.shape[1] == 0 or not max_den:
        return None
    shape = (N.shape[1], k)
    f0 = _off_energy(unit, data, Q, coords, tau)
    sol = least_squares(lambda p: _off_energy(unit, data, Q + N @ p.reshape(shape), coords, tau),
                        np.zeros(shape[0] * shape[1]), method="trf", max_nfev=10 * (shape[0] * shape[1] + 1))
    refined = np.linalg.qr(Q + N @ sol.x.reshape(shape))[0]
    snapped = rationalise(refined, max_den=max_den, tol=tol)
    if snapped is None:
        return None
    Qs = snapped[1]
    f_snap = _off_energy(unit, data, Qs @ (Qs.T @ Q), coords, tau)  # the same particles, moved onto the snap
    e0, e_min, e_snap = f0 @ f0, 2.0 * sol.cost, f_snap @ f_snap
    return snapped if max(e_min, e_snap) <= LEAK_SHARE * e0 else None
