"""Discovery: the largest parameter subspace supporting strongly invariant laws, from data alone.

Free mean-field training keeps an SI law SI for every symmetry of the data, so the mean-field
velocity field at a law supported in a subspace E ⊂ E^G(data) is tangent to E^G(data). The
heuristic grows E_0 ⊂ E_1 ⊂ ... :

1. particles start SI on E_j (Gaussian projected onto E_j) and train by mean-field gradient
   descent constrained to E_j (full batch), so no finite-N or minibatch noise pushes them off;
2. at several snapshots of that run the per-particle velocity N ∂L/∂θ_i is computed on K
   disjoint folds of the data; its components off E_j are kept per fold;
3. cross-fitted test: principal directions of the off-subspace velocity are chosen on half of
   the folds and tested on the other half, where each fold gives one number (its velocities
   projected on the chosen pattern); a direction counts when the one-sided t statistic of
   those numbers exceeds the t quantile at level alpha / D. For sampling noise alone the
   numbers have mean zero, so the threshold is calibrated on the data, never a fixed constant;
4. leak guard: an estimation error of ε radians in E_j turns about ε times the on-E_j
   velocity into off-E_j velocity, a real signal that the t test would pass; a direction
   counts only when its singular value also exceeds 4 ε s_on (ε: the standard error of the
   unsnapped directions, from the spread of their per-fold estimates; s_on: the top singular
   value of the on-E_j velocities; ε = 0 after an exact snap);
5. the counted principal directions of S are added to E_j, and the result is snapped to a
   nearby small-denominator rational subspace when there is one within 4 standard errors
   (reduced echelon form and rational recovery, :mod:`._rational`); with
   ``closure="orbits"`` (permutation actions; ``"signed-orbits"`` with sign changes) it is
   first replaced by the span of the classes of coordinates where its vectors agree (up to
   sign), when those classes are clear;
6. when no direction is left and E_j is not exact, E_j is refined: its columns are tilted
   into the complement to minimise the off-subspace velocity of the snapshot laws (least
   squares, full data) and the result is snapped; accepted only if the refinement and the
   snap both remove at least 95% of that velocity energy (a leak can be tilted away, a real
   direction or noise cannot), after which the exact E_j is tested again. Stop otherwise.

What discovery can see. It finds the directions the velocity field produces from E_0 with a
signal above the sampling noise, which can be less than E^G. For a neuron started at w = 0
the first w-direction is the linear correlation u ∝ E[x y]. Every further w-direction comes
from the curvature of σ only: with Gaussian inputs, integration by parts gives the off-u
velocity of a particle (a, s u, b) as a Σ_t ā_t c_t P_⊥ avg_G(w_t), where avg_G(w_t) are the
orbit averages of the teacher's weights and c_t = E[σ'(w_t·x + b_t) σ'(s u·x + b)]; it
vanishes when the ratios c_t / E[σ'(w_t·x + b_t)] do not depend on t, which is nearly the
case while s is small. On the D4 3×3 patch of ``benchmarks/discovery`` the two remaining
directions of E^G stay below the threshold even when discovery is started from the exact
E_1 = span(a, b, u) with 200 000 samples (t ≤ 2.7 against 7.2, for spreads 0.5 and 1.5 and
for 400 steps at lr 3); the last direction of the no-symmetry control (C2 neuron, D = 4) is
of the same kind: it is found (full space) from 50 000 samples on, in 3 of 3 seeds, while at
5 000 samples its signal stays under the leak bound and discovery returns 3 directions. The
result is then a proper subspace of E^G, or, when the estimation error of a direction leaks
past the guard, a subspace that is not inside E^G. When the symmetry permutes coordinates,
``closure="orbits"`` avoids the curvature-only directions: the linear correlation u already
lies in E^G, and its equal entries show the orbits (D4 patch: E^G exactly from one
direction, 40 000 samples, under a second).

Default E_0 per unit. A neuron a σ(w·x + b) cannot start at z = 0 (with a = 0 nothing moves w,
and with an odd σ the point is stationary): ``neuron`` with a scalar output starts from
span(a, b), which assumes the output is invariant (pass ``start=`` otherwise), and with c > 1
from span(b), fixed by every action of the form ρ̂ ⊕ ρ^{-T} ⊕ 1; ``matrix_unit`` and ``mlp``
start from {0}.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from .._errors import InputError, SymfixError
from .._validate import count, number, real_array, seed as check_seed
from ..symbolic import dense_orthonormal
from ._rational import orbit_hull, rationalise

__all__ = ["discover", "Discovery", "default_start"]


@dataclass(frozen=True)
class Discovery:
    """Result of :func:`discover`.

    ``basis`` (D × dim, orthonormal columns); ``seconds``; ``exact_basis`` (rows of Fractions
    in reduced echelon form) when the result was rationalised; ``snapshots``: per iteration
    the subspace E_j (orthonormal basis), the particles trained within it and the
    off-subspace velocities (for pictures); ``history``: one dict per iteration with

    * ``dim``, ``added``: dim E_j and the directions added;
    * ``signal``, ``t``, ``threshold``: top singular value of the off-subspace velocity, the
      cross-fitted t statistic of the top direction and its threshold;
    * ``leak_bound``: the signal a direction had to beat besides the t test;
    * ``escape``: W2² from ν to its projection on E_j after horizon/10 free steps from the
      end of the constrained run (the paper's measure, for reference);
    * ``rational``: whether the subspace was snapped to a rational one; ``angle_error``: the
      estimated standard error (radians) of the directions added since the last snap;
    * ``polished`` (at a stop on an unsnapped subspace): whether the refinement was snapped.
    """

    basis: np.ndarray
    history: list = field(default_factory=list)
    seconds: float = 0.0
    exact_basis: list | None = None
    snapshots: list = field(default_factory=list, repr=False)

    @property
    def dim(self) -> int:
        return int(self.basis.shape[1])

    def project(self, v: Any) -> np.ndarray:
        v = real_array(v, "project: the vectors", last=self.basis.shape[0], finite=False)
        return (v @ self.basis) @ self.basis.T

    def angle_to(self, other: Any) -> float:
        """Largest principal angle (radians) to another subspace (orthonormal basis or an object
        with ``orthonormal_basis()``); pi/2 when the dimensions differ."""
        from scipy.linalg import subspace_angles

        Q = dense_orthonormal(other)
        if Q.shape[1] != self.dim:
            return float(np.pi / 2)
        if self.dim == 0:
            return 0.0
        return float(np.max(subspace_angles(self.basis, Q)))


def default_start(unit: Any) -> np.ndarray:
    """The documented default E_0 of a unit as an orthonormal (D, k) basis (see module doc)."""
    from ..units import Neuron

    D = unit.param_dim
    if isinstance(unit, Neuron):
        # b is fixed by every action rho^ + rho^{-T} + 1; for a scalar output a is taken as
        # invariant too (the usual invariant-regression case), since at a = 0 nothing moves w
        keep = [D - 1] if unit.c > 1 else [0, D - 1]
        e = np.zeros((D, len(keep)))
        e[keep, np.arange(len(keep))] = 1.0
        return e
    return np.zeros((D, 0))


def discover(
    unit: Any,
    data: Any,
    *,
    n_particles: int = 32,
    lr: float = 1.0,
    horizon: int = 200,
    seed: int | None = None,
    start: Any = None,
    std: float = 0.5,
    snapshots: int = 4,
    n_folds: int = 16,
    alpha: float = 1e-3,
    max_iter: int | None = None,
    tau: float = 1e-4,
    dtype: Any = None,
    max_den: int = 2,
    snap_tol: float = 5e-2,
    progress: bool = False,
    n_samples: int = 20000,
    closure: str | None = None,
) -> Discovery:
    """Find the largest subspace supporting SI laws for the data, without knowing the group.

    Parameters
    ----------
    unit : a unit (``symfix.units``)
    data : (X, Y) arrays of shapes (n, d) and (n, c), n >= 4, or a sampler
        ``data(rng, n) -> (X, Y)`` called once with ``n_samples`` and a generator seeded by ``seed``
    n_particles, lr, horizon : particles, step size (per-particle step lr/N), steps per iteration
    seed : seeds the initial particles and the data split
    start : (D, k) basis of E_0 (default :func:`default_start`)
    std : spread of the SI initialisation
    snapshots : number of points along each run where velocities are compared
    n_folds, alpha : the data are cut into n_folds folds; directions found on half of them are
        tested on the other half by a one-sided t test at level alpha / D
    max_iter : at most this many enlargements (default D)
    max_den, snap_tol : after each enlargement the subspace is replaced by a rational one
        (reduced echelon entries with denominators ≤ max_den) when one lies within
        min(snap_tol, 4 standard errors of the estimate) radians, the standard error measured
        from the spread of the per-fold estimates of the new directions; this removes the
        estimation error that would otherwise leak velocity off E_j and inflate the next
        test, and never snaps further than the data vouch for (0 disables). Keep max_den
        small: a fine grid can round two entries that should be equal to different fractions
        and leave E^G
    progress : show a progress bar over the steps of each iteration (stderr)
    n_samples : samples drawn when ``data`` is a sampler
    closure : ``"orbits"`` when the symmetry sought acts by permuting parameter coordinates
        (pixels, nodes, set elements: weight sharing), ``"signed-orbits"`` when it may also
        change their signs (no rotations that mix coordinates). Then E^G is spanned by
        (signed) orbit indicators, and each enlargement is replaced by the span of the
        indicators of the classes of coordinates on which the new subspace's vectors agree (up
        to sign) (:func:`orbit_hull`), a rational subspace of E^G that is often larger: one
        linear-correlation direction of the D4 3×3 patch shows centre, edges and corners.
        Classes must be clear at 4 standard errors of the estimate (otherwise the usual snap
        is tried); the next iteration tests the result like any other. Default None: no
        assumption on the action.

    Returns
    -------
    Discovery

    Examples
    --------
    >>> import numpy as np
    >>> from symfix import units
    >>> u = units.neuron(2, 1, "tanh")
    >>> rng = np.random.default_rng(1)
    >>> X = rng.standard_normal((2000, 2))
    >>> T = np.array([[1.0, 0.8, -0.5, 0.2], [1.0, -0.5, 0.8, 0.2]])  # a neuron and its swap
    >>> Y = u.forward(X, T).mean(0)                  # invariant under swapping x1 and x2
    >>> r = discover(u, (X, Y), n_particles=16, horizon=100, seed=0)
    >>> r.dim                                        # a, b and w1 = w2
    3

    A symmetry that permutes pixels, found in one step by its orbits (D4 on a 3×3 patch):

    >>> from symfix import Problem, groups, reps
    >>> G = groups.from_generators([[6, 3, 0, 7, 4, 1, 8, 5, 2], [2, 1, 0, 5, 4, 3, 8, 7, 6]])
    >>> P = Problem(G, reps.permutation(G), reps.trivial(G), units.neuron(9, 1, "tanh"))
    >>> rng = np.random.default_rng(0)
    >>> base = rng.standard_normal((3, P.param_dim))
    >>> T = np.concatenate([P.act(g, base) for g in G.elements()])  # an invariant teacher
    >>> X = rng.standard_normal((40_000, 9))
    >>> r = discover(P.unit, (X, P.unit.forward(X, T).mean(0)), n_particles=16, horizon=100, seed=0,
    ...              closure="orbits")
    >>> r.dim, r.exact_basis is not None, r.angle_to(P.fixed_subspace()) < 1e-9  # centre, edges, corners, a, b
    (5, True, True)
    """
    import torch

    t0 = time.perf_counter()
    if callable(data):  # a sampler: draw the samples from it, reproducibly
        if not isinstance(n_samples, int) or n_samples < 4:
            raise InputError(f"n_samples must be an int >= 4 when data is a sampler, got {n_samples!r}")
        try:
            data = data(np.random.default_rng(seed), n_samples)
        except SymfixError:
            raise
        except Exception as exc:  # a user function: say which call failed
            raise InputError(f"the data sampler failed: {type(exc).__name__}: {exc}") from None
    X, Y = _check_data(unit, data)
    D = unit.param_dim
    n_particles = count(n_particles, "n_particles", maximum=10**6, why="discovery trains every particle on every sample")
    horizon = count(horizon, "horizon", maximum=10**6, why="the horizon counts training steps per iteration")
    snapshots = count(snapshots, "snapshots", maximum=10**4)
    seed = check_seed(seed)
    if closure is not None and (not isinstance(closure, str) or closure not in ("orbits", "signed-orbits")):
        raise InputError(f"closure must be None, 'orbits' or 'signed-orbits', got {closure!r}")
    lr = number(lr, "lr", minimum=0.0, strict=True)
    for name, v, lo, hi in (("alpha", alpha, 0.0, 1.0), ("std", std, 0.0, np.inf), ("snap_tol", snap_tol, 0.0, np.inf)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not (lo < v < hi):
            raise InputError(f"{name} must be a number in ({lo:g}, {hi:g}), got {v!r}")
    if isinstance(tau, bool) or not isinstance(tau, (int, float)) or not (0 <= tau < np.inf):
        raise InputError(f"tau must be a finite number >= 0, got {tau!r}")
    if isinstance(n_folds, bool) or not isinstance(n_folds, int) or n_folds < 2:
        raise InputError(f"n_folds must be an int >= 2 (directions are found on half the folds, tested on the other), "
                         f"got {n_folds!r}")
    if start is not None:
        start = real_array(start, "start (a (D, k) basis of E_0)", ndim=2)
    Q = default_start(unit) if start is None else _orthonormal(start, D)
    rng = np.random.default_rng(seed)
    perm = rng.permutation(X.shape[0])
    K = max(4, min(n_folds, X.shape[0] // 4)) // 2 * 2
    dt = torch.float64 if dtype is None else dtype
    folds = [(torch.as_tensor(X[idx], dtype=dt), torch.as_tensor(Y[idx], dtype=dt)) for idx in np.array_split(perm, K)]
    full = (torch.as_tensor(X, dtype=dt), torch.as_tensor(Y, dtype=dt))
    t_crit = float(stats.t.ppf(1.0 - alpha / D, K // 2 - 1))
    history = []
    snaps: list = []
    exact = None
    err = 0.0  # estimated angle error of the unsnapped directions (standard error across folds)
    for it in range(D if max_iter is None else max_iter):
        if Q.shape[1] == D:
            break
        Qt = torch.as_tensor(Q, dtype=dt)
        th = torch.as_tensor(rng.standard_normal((n_particles, D)) * std, dtype=dt) @ Qt @ Qt.T
        per_fold: list[list[Any]] = [[] for _ in range(K)]
        on_rows: list[Any] = []  # velocity components along E_j (coordinates), all folds
        coords: list[Any] = []  # particle coordinates in E_j at each snapshot
        marks = set(np.linspace(0, horizon, snapshots).round().astype(int).tolist())
        for step in _steps(horizon + 1, progress, f"discover: iteration {it}, dim E_j = {Q.shape[1]}"):
            if step in marks:
                on = torch.zeros(th.shape[0], Q.shape[1], dtype=dt)
                for f, fold in enumerate(folds):
                    vf = _velocity(unit, fold, th, tau)
                    per_fold[f].append(_off(vf, Qt))
                    on = on + (vf @ Qt) / K
                on_rows.append(on)
                coords.append(th @ Qt)
            if step < horizon:
                v = _velocity(unit, full, th, tau)
                th = th - (lr / n_particles) * (v @ Qt @ Qt.T)
        esc = _free_escape(unit, full, th, Qt, lr, tau, max(1, horizon // 10))
        O = np.stack([torch.cat(rows).numpy() for rows in per_fold])  # (K, rows, D)
        if not (np.isfinite(O).all() and bool(torch.isfinite(th).all())):
            from ..numeric import TrainingError

            raise TrainingError(f"discover: the constrained training diverged at iteration {it} (non-finite particles or "
                                f"velocities with lr = {lr:g}); lower lr or rescale the data")
        snaps.append({"basis": Q.copy(), "particles": th.numpy().copy(), "off_velocity": O.mean(0)[-n_particles:]})
        k, t_top, s_top, vt, s_all = _count_directions(O, t_crit)
        k = min(k, D - Q.shape[1])
        # leak guard: an error of err radians in E_j turns about err * |on-E_j velocity| into
        # off-E_j velocity; a direction only counts when its signal is above that
        s_on = float(np.linalg.svd(torch.cat(on_rows).numpy(), compute_uv=False)[0]) if Q.shape[1] else 0.0
        leak = LEAK_Z * err * s_on
        k = min(k, int(np.sum(s_all > leak)))
        history.append({"iteration": it, "dim": Q.shape[1], "signal": s_top, "t": t_top, "threshold": t_crit,
                        "leak_bound": leak, "escape": esc, "added": k})
        if k == 0:
            if err > 0 and max_den:  # stopped on an unsnapped estimate: refine it, then try to snap
                snapped = _polish_and_snap(unit, full, Q, coords, tau, max_den, _snap_tolerance(err, snap_tol))
                history[-1]["polished"] = snapped is not None
                if snapped is not None:  # exact now: test again with no leak to allow for
                    exact, Q = snapped
                    err = 0.0
                    history[-1]["rational"] = True
                    continue
            break
        err = float(np.hypot(err, _direction_error(O, vt, k)))
        new = vt[:k].T
        new = new - Q @ (Q.T @ new)
        Q = np.linalg.qr(np.concatenate([Q, new], axis=1))[0]
        exact = None
        hull = orbit_hull(Q, tol=max(SNAP_Z * err, 1e-9), signed=closure == "signed-orbits") if closure else None
        if hull is not None:  # the classes of equal coordinates: a rational subspace of E^G
            history[-1]["closure"] = hull[1].shape[1] - Q.shape[1]
            exact, Q = hull
            err = 0.0
        elif max_den:
            snapped = rationalise(Q, max_den=max_den, tol=_snap_tolerance(err, snap_tol))
            if snapped is not None:
                exact, Q = snapped
                err = 0.0
        history[-1]["rational"] = exact is not None
        history[-1]["angle_error"] = err if exact is None else 0.0
    if max_den and exact is None and Q.shape[1]:
        snapped = rationalise(Q, max_den=max_den, tol=_snap_tolerance(err, snap_tol))
        if snapped is not None:
            exact, Q = snapped
    return Discovery(basis=Q, history=history, seconds=time.perf_counter() - t0, exact_basis=exact,
                     snapshots=snaps)


def _steps(n: int, show: bool, desc: str) -> Any:
    if not show:
        return range(n)
    from .._progress import progress

    return progress(range(n), desc)


def _count_directions(O: np.ndarray, t_crit: float) -> tuple[int, float, float, np.ndarray]:
    """Cross-fitted test of the off-subspace velocity directions.

    ``O`` holds the off-subspace velocities per data fold (K, rows, D). Directions come from the
    mean over the first half of the folds; each is tested on the other half: the statistic of
    fold f is the projection of its velocities on the selected pattern, and the leading
    directions count while the one-sided t statistic over the test folds exceeds ``t_crit``.
    Returns (count, t of the top direction, top singular value of the all-fold mean, directions
    of the all-fold mean, best first, and all its singular values).
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
    return count, t_top, float(s_all[0]) if s_all.size else 0.0, vt_all, s_all


SNAP_Z = 4.0  # a snap moves the subspace by at most this many standard errors of its estimate
LEAK_SHARE = 0.05  # a refinement is snapped only if it (and the snap) leave <= 5% of the off-velocity energy
LEAK_Z = 4.0  # a new direction must beat the leak of this many standard errors of E_j's estimate


def _snap_tolerance(err: float, cap: float) -> float:
    """Largest angle a rational snap may move the subspace: SNAP_Z standard errors of the
    estimate (so a snap never goes further than the data can vouch for), at most ``cap``."""
    return float(min(cap, max(SNAP_Z * err, 1e-9)))


def _whiten(O: np.ndarray) -> np.ndarray:
    """Rows (particles at a snapshot) scaled by their own fold-to-fold noise, for estimating
    directions: a particle that carries little signal and much noise (near a stationary point,
    where the curvature terms vanish) gets little weight. Measured on the D4 patch (400 000
    samples, spread 3): the error of the weakest added direction fell from 0.156 to 0.053 rad."""
    noise = np.linalg.norm(O.std(0, ddof=1), axis=1)
    scale = np.where(noise > 0, noise, 1.0)
    return O / scale[None, :, None]


def _direction_error(O: np.ndarray, vt: np.ndarray, k: int) -> float:
    """Standard error (radians) of the k leading directions of the all-fold mean of the
    whitened off-subspace velocities (:func:`_whiten`), as :func:`_count_directions` takes them.

    Each fold alone estimates the same k-dimensional subspace from 1/K of the data; the largest
    principal angle between fold f's estimate and the all-fold one is a_f, and the all-fold
    estimate (K times the data) has an error of about rms(a_f) / sqrt(K).
    """
    K = O.shape[0]
    V = vt[:k].T
    W = _whiten(O)  # the estimate being assessed is taken from whitened rows
    angles = []
    for f in range(K):
        vf = np.linalg.svd(W[f], full_matrices=False)[2][:k].T
        cos = np.linalg.svd(V.T @ vf, compute_uv=False)
        angles.append(float(np.arccos(np.clip(cos.min(), -1.0, 1.0))))
    return float(np.sqrt(np.mean(np.square(angles)) / K))


def _free_escape(unit: Any, data: tuple, th: Any, Qt: Any, lr: float, tau: float, steps: int) -> float:
    """W2^2(ν, P_{E_j}#ν) after ``steps`` free (unconstrained, full-batch) steps from the end of
    the constrained run: the escape the paper measures, reported for reference (the decision
    is the cross-fitted test, which also sees directions too slow to show in a short run)."""
    free = th.clone()
    for _ in range(steps):
        free = free - (lr / th.shape[0]) * _velocity(unit, data, free, tau)
    off = _off(free, Qt)
    return float((off * off).sum(1).mean())


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
    out = [_off(_velocity(unit, data, c @ Bt.T, tau), Qt).numpy().ravel() for c in coords]
    return np.concatenate(out)


def _polish_and_snap(unit: Any, data: tuple, Q: np.ndarray, coords: list, tau: float, max_den: int,
                     tol: float) -> tuple | None:
    """Refine span(Q) by least squares on the off-subspace velocity of the snapshot laws (tilts
    of Q's columns into its complement, full data), then snap the refined subspace to a
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
    if N.shape[1] == 0:
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
    # the stop must have been a leak: tilting removes a leak (e_min << e0) but neither a real
    # direction nor noise; and the snap must remove it as well as the optimum does
    return snapped if max(e_min, e_snap) <= LEAK_SHARE * e0 else None


def _velocity(unit: Any, data: tuple, th: Any, tau: float) -> Any:
    x, y = data

    def dloss(phi: Any) -> tuple[Any, Any]:  # L = mean_b ||Φ_b − y_b||²: (∂L/∂Φ, L)
        diff = phi - y
        return diff * (2.0 / y.shape[0]), (diff * diff).sum() / y.shape[0]

    _, g = unit.mean_value_and_grad(x, th, dloss)
    return g + 2.0 * tau * th


def _off(v: Any, Qt: Any) -> Any:
    return v - (v @ Qt) @ Qt.T


def _orthonormal(start: Any, D: int) -> np.ndarray:
    B = dense_orthonormal(start)
    if B.ndim != 2 or B.shape[0] != D:
        raise InputError(f"start must be a ({D}, k) basis, got shape {B.shape}")
    if B.shape[1] == 0:
        return B
    q, r = np.linalg.qr(B)
    keep = np.abs(np.diag(r)) > 1e-12 * max(1.0, np.abs(r).max())
    return q[:, keep]


def _check_data(unit: Any, data: Any) -> tuple[np.ndarray, np.ndarray]:
    if not (isinstance(data, (tuple, list)) and len(data) == 2):
        raise InputError("data must be a pair (X, Y) of arrays")
    X, Y = real_array(data[0], "data X", finite=False), real_array(data[1], "data Y", finite=False)
    if Y.ndim == 1 and unit.c == 1:
        Y = Y[:, None]
    if X.ndim != 2 or X.shape[1] != unit.d or Y.shape != (X.shape[0], unit.c):
        raise InputError(
            f"data: expected X of shape (n, {unit.d}) and Y of shape (n, {unit.c}), got {X.shape} and {Y.shape}; "
            "reshape the arrays or pick a unit with matching d and c"
        )
    if X.shape[0] < 4:
        raise InputError(f"data has {X.shape[0]} samples; discovery needs at least 4 (two halves of two)")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(Y))):
        raise InputError("data contains NaN or inf; drop or impute those samples first")
    return X, Y
