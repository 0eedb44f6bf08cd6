"""Discovery: the largest parameter subspace supporting strongly invariant laws, from data alone.

Free mean-field training keeps an SI law SI for every symmetry of the data, so the mean-field
velocity field at a law supported in a subspace E ⊂ E^G(data) is tangent to E^G(data). The
heuristic grows E_0 ⊂ E_1 ⊂ ... :

Each step is a function of :mod:`._steps`; the settings are one :class:`DiscoverySettings`.

1. constrained training: particles start SI on E_j (Gaussian projected onto E_j) and train
   by mean-field gradient descent constrained to E_j, full batch on a fixed subsample, so no
   finite-N or minibatch noise pushes them off;
2. velocity estimate: at several snapshots the per-particle velocity N ∂L/∂θ_i is computed on
   K disjoint folds of all the data; its components off E_j are kept per fold;
3. cross-fitted test: principal directions of the off-subspace velocity are chosen on half of
   the folds and tested on the other half by a one-sided t test at level alpha / D, so the
   threshold is calibrated on the data, never a fixed constant;
4. leak bound: an estimation error of ε radians in E_j turns about ε times the on-E_j
   velocity into off-E_j velocity; a direction counts only when its singular value also
   exceeds 4 ε s_on (ε = 0 after an exact snap), and the tilt ε s_on / s it can give a
   direction of singular value s counts in that direction's standard error;
5. snap: the enlarged subspace is replaced by a nearby small-denominator rational one when
   there is one within 4 standard errors (:mod:`._rational`);
6. closure (``"auto"``): when the found vectors agree on classes of coordinates (up to sign),
   the span of the class indicators is proposed as a hypothesis; the next test runs at it, and
   it is kept only when that test finds nothing (else discovery goes on from the found
   subspace and never proposes that hull again);
7. refinement: when no direction is left and E_j is not exact, its columns are tilted to
   minimise the off-subspace velocity of the snapshot laws and the result is snapped;
   accepted only if both remove at least 95% of that velocity energy;
8. verdict: at a rational subspace where the test found nothing, the test runs once more with
   probe particles spread wider (curvature-only directions grow with the spread). The status
   is ``exact`` when both top t statistics lie below their (1 − quiet/4) quantile and their
   combination (Stouffer's z) below its (1 − quiet/2) quantile, ``partial`` otherwise (a
   direction may remain; the samples that
   would decide are estimated from t ∝ √n), ``inexact`` when no rational subspace fits (the
   angle's standard error is reported). With a sampler, discovery draws more samples and
   starts again while the status is not exact, up to ``max_samples``.

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
the orbit closure avoids the curvature-only directions: the linear correlation u already
lies in E^G, and its equal entries show the orbits (D4 patch: E^G exactly from one
direction, 40 000 samples, under a second).

What the status cannot see. ``exact`` means that no further direction showed at the test's
resolution; it is not a proof. When the orbit closure merges two orbits whose values in the
found direction agree within the noise (or one class of zeros holds two orbits), the result is
a rational subspace of E^G short of it, and the direction that would split the class is
curvature-only, so the verification can be quiet. The noise falls as 1/√n while the training
cost does not grow with n, so the default first draw is large: on the D4 patch
(benchmarks/discovery/run.py) 3 of 20 teacher seeds ended ``exact`` at a proper subspace of
E^G from 20 000 samples and none from 320 000 (the seed with the closest pair of orbit values,
1 standard error of the 20 000-sample estimate apart, then sees the split at t ≈ 15 and ends
``inexact`` instead). A pair of orbits closer than the noise of the largest draw can still
merge unseen.

Default E_0 per unit. A neuron a σ(w·x + b) cannot start at z = 0 (with a = 0 nothing moves w,
and with an odd σ the point is stationary): ``neuron`` with a scalar output starts from
span(a, b), which assumes the output is invariant (pass ``start=`` otherwise), and with c > 1
from span(b), fixed by every action of the form ρ̂ ⊕ ρ^{-T} ⊕ 1; ``matrix_unit`` and ``mlp``
start from {0}.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from scipy import stats

from .._errors import InputError, SymfixError
from .._validate import real_array, seed as check_seed
from ..symbolic import dense_orthonormal
from . import _steps as steps
from ._settings import DiscoverySettings, settings_from

__all__ = ["discover", "Discovery", "default_start", "DiscoverySettings"]

@dataclass(frozen=True)
class Discovery:
    """Result of :func:`discover`.

    ``status``: ``"exact"`` (a rational subspace, the test quiet at it with usual and probe
    particles), ``"partial"`` (a rational subspace, but a further direction may remain: the top
    t statistic lies between its quiet level and the threshold), or ``"inexact"`` (no rational
    subspace fits the estimate; ``angle_error`` is its standard error in radians). ``reason``:
    one sentence on why. ``samples``: samples used by the last attempt; ``samples_needed``:
    for partial and inexact, the samples estimated to decide (None for exact); ``attempts``:
    (samples, status, seconds) per draw of a sampler.

    ``basis`` (D × dim, orthonormal columns); ``seconds``; ``exact_basis`` (rows of Fractions
    in reduced echelon form) when the result is rational; ``snapshots``: per iteration the
    subspace E_j, the particles trained within it and the off-subspace velocities (for
    pictures); ``history``: one dict per iteration with

    * ``dim``, ``added``: dim E_j and the directions added; ``probe``: probe particles used;
    * ``signal``, ``t``, ``threshold``, ``quiet``: top singular value of the off-subspace
      velocity, the cross-fitted t statistic of the top direction, its threshold and the level
      below which it counts as quiet;
    * ``leak_bound``: the signal a direction had to beat besides the t test;
    * ``escape``: W2² from ν to its projection on E_j after horizon/10 free steps from the
      end of the constrained run (the paper's measure, for reference);
    * ``decided_by``: the step that decided the iteration (test, leak bound, snap, closure,
      closure rejected, refinement, verification, stop);
    * ``rational``: whether the subspace is rational after the iteration; ``angle_error``: the
      estimated standard error (radians) of the directions added since the last snap.
    """

    basis: np.ndarray
    history: list = field(default_factory=list)
    seconds: float = 0.0
    exact_basis: list | None = None
    snapshots: list = field(default_factory=list, repr=False)
    status: str = "inexact"
    reason: str = ""
    angle_error: float = 0.0
    samples: int = 0
    samples_needed: int | None = None
    attempts: list = field(default_factory=list)

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

    def summary(self) -> str:
        """One line that leads with the status."""
        if self.status == "exact":
            return f"exact: a rational subspace of dim {self.dim}, verified by the velocity test ({self.reason})"
        if self.status == "partial":
            return f"partial: dim {self.dim} found, {self.reason}"
        return f"inexact: dim {self.dim}, angle standard error {self.angle_error:.2g} rad; {self.reason}"


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


def discover(unit: Any, data: Any, settings: DiscoverySettings | None = None, *, seed: int | None = None,
             start: Any = None, progress: bool = False, **options: Any) -> Discovery:
    """Find the largest subspace supporting SI laws for the data, without knowing the group,
    and say how sure the answer is (``status``).

    Parameters
    ----------
    unit : a unit (``symfix.units``)
    data : (X, Y) arrays of shapes (n, d) and (n, c), n >= 8, or a sampler
        ``data(rng, n) -> (X, Y)``, called with ``n_samples`` and again with more samples while
        the status is not exact (up to ``max_samples``), each time with a generator seeded by
        ``seed``
    settings : :class:`DiscoverySettings` (default: its defaults); ``**options`` replace single
        fields, e.g. ``discover(u, data, n_particles=64, closure="none")``
    seed : seeds the initial particles, the data split and the sampler
    start : (D, k) basis of E_0 (default :func:`default_start`)
    progress : show a progress bar over the steps of each iteration (stderr)

    Returns
    -------
    Discovery (``status``, ``basis``, ``exact_basis``, ``history``, ...)

    Cost: per iteration about horizon × N × train_samples + snapshots × N × n unit evaluations
    (:mod:`symfix.discovery._steps`); iterations ≤ 2 D + 4.

    Examples
    --------
    >>> import numpy as np
    >>> from symfix import units
    >>> u = units.neuron(2, 1, "tanh")
    >>> rng = np.random.default_rng(1)
    >>> X = rng.standard_normal((4000, 2))
    >>> T = np.array([[1.0, 0.8, -0.5, 0.2], [1.0, -0.5, 0.8, 0.2]])  # a neuron and its swap
    >>> Y = u.forward(X, T).mean(0)                  # invariant under swapping x1 and x2
    >>> r = discover(u, (X, Y), n_particles=16, horizon=100, seed=0)
    >>> r.status, r.dim                              # a, b and w1 = w2
    ('exact', 3)

    A symmetry that permutes pixels (D4 on a 3×3 patch), found without being told:

    >>> from symfix import Problem, groups, reps
    >>> G = groups.from_generators([[6, 3, 0, 7, 4, 1, 8, 5, 2], [2, 1, 0, 5, 4, 3, 8, 7, 6]])
    >>> P = Problem(G, reps.permutation(G), reps.trivial(G), units.neuron(9, 1, "tanh"))
    >>> base = rng.standard_normal((3, P.param_dim))
    >>> T = np.concatenate([P.act(g, base) for g in G.elements()])
    >>> def sampler(rng, n):                         # an invariant teacher's data
    ...     X = rng.standard_normal((n, 9))
    ...     return X, P.unit.forward(X, T).mean(0)
    >>> r = discover(P.unit, sampler, seed=0, n_particles=16, horizon=100)
    >>> r.status, r.angle_to(P.fixed_subspace()) < 1e-9   # centre, edges, corners, a, b
    ('exact', True)
    """
    t0 = time.perf_counter()
    st = settings_from(settings, options)
    seed = check_seed(seed)
    D = unit.param_dim
    if start is not None:
        start = real_array(start, "start (a (D, k) basis of E_0)", ndim=2)
    Q0 = default_start(unit) if start is None else _orthonormal(start, D)
    sampler = data if callable(data) else None
    n = st.n_samples if sampler is not None else None
    attempts: list = []
    while True:
        X, Y = _check_data(unit, _draw(sampler, seed, n) if sampler is not None else data)
        t1 = time.perf_counter()
        r = _grow(unit, X, Y, st, Q0, seed, progress)
        attempts.append({"samples": X.shape[0], "status": r.status, "seconds": time.perf_counter() - t1})
        if r.status == "exact" or sampler is None or n >= st.max_samples or r.samples_needed is None:
            break
        n = int(min(st.max_samples, max(2 * n, r.samples_needed)))
    return replace(r, seconds=time.perf_counter() - t0, attempts=attempts)


def _draw(sampler: Any, seed: int | None, n: int) -> Any:
    try:
        return sampler(np.random.default_rng(seed), n)
    except SymfixError:
        raise
    except Exception as exc:  # a user function: say which call failed
        raise InputError(f"the data sampler failed: {type(exc).__name__}: {exc}") from None


def _grow(unit: Any, X: np.ndarray, Y: np.ndarray, st: DiscoverySettings, Q0: np.ndarray, seed: int | None,
          progress: bool) -> Discovery:
    """One discovery on fixed data: the loop of the module docstring, ending with a status."""
    import torch

    D, n = unit.param_dim, X.shape[0]
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n)
    K = max(4, min(st.n_folds, n // 4)) // 2 * 2
    dt = torch.float64 if st.dtype is None else st.dtype
    folds = [(torch.as_tensor(X[i], dtype=dt), torch.as_tensor(Y[i], dtype=dt)) for i in np.array_split(perm, K)]
    m = st.training_samples(n)
    train = (torch.as_tensor(X[perm[:m]], dtype=dt), torch.as_tensor(Y[perm[:m]], dtype=dt))
    t_crit = float(stats.t.ppf(1.0 - st.alpha / D, K // 2 - 1))
    t_var = (K // 2 - 1) / max(K // 2 - 3, 1)  # variance of Student's t with K/2 - 1 degrees of freedom
    z_quiet = float(stats.norm.ppf(1.0 - st.quiet / 2))  # quiet/2 for the combined z, quiet/4 for each t
    t_quiet = float(stats.t.ppf(1.0 - st.quiet / 4, K // 2 - 1))
    Q = Q0
    given = steps.snap(Q, 0.0, max(st.max_den, 1), 1e-12)  # E_0 as given: rational (the default) or not
    exact = [] if Q.shape[1] == 0 else (given[0] if given is not None else None)
    err = 0.0  # standard error (radians) of the directions added since the last snap
    pending = None  # a closure hypothesis under test: the found (Q, exact, err) to return to
    rejected: list = []
    probe_t = None  # top t of the usual particles, while the probe runs
    history: list = []
    snaps: list = []
    status, reason, needed = None, "", None
    max_iter = 2 * D + 4 if st.max_iter is None else st.max_iter
    for it in range(max_iter):
        if Q.shape[1] == D:
            status, reason = "exact", "the whole parameter space: the data show no symmetry the test could see"
            break
        probe = probe_t is not None
        Qt = torch.as_tensor(Q, dtype=dt)
        spread = st.probe_std if probe else st.std
        th = torch.as_tensor(rng.standard_normal((st.n_particles, D)) * spread, dtype=dt) @ Qt @ Qt.T
        run = steps.constrained_run(unit, folds, train, Q, th, lr=st.lr, horizon=st.horizon, snapshots=st.snapshots,
                                    tau=st.tau, steps=_bar(progress, f"discover: iteration {it}, dim E_j = {Q.shape[1]}"))
        if not (np.isfinite(run.O).all() and bool(torch.isfinite(run.particles).all())):
            from ..numeric import TrainingError

            raise TrainingError(f"discover: the constrained training diverged at iteration {it} (non-finite particles "
                                f"or velocities with lr = {st.lr:g}); lower lr or rescale the data")
        snaps.append({"basis": Q.copy(), "particles": run.particles.numpy().copy(),
                      "off_velocity": run.O.mean(0)[-st.n_particles:]})
        test = steps.cross_fitted_test(run.O, t_crit)
        leak = steps.leak_bound(err, run.on)
        k = min(test.count, D - Q.shape[1], int(np.sum(test.singular_values > leak)))
        h = {"iteration": it, "dim": Q.shape[1], "signal": test.signal, "t": test.t, "threshold": t_crit,
             "quiet": t_quiet, "leak_bound": leak, "escape": run.escape, "added": k, "probe": probe}
        history.append(h)
        h["decided_by"] = "leak bound" if k < min(test.count, D - Q.shape[1]) else "test"
        if pending is not None:
            if k > 0:  # the test at the hull found a direction: the hypothesis is refuted
                rejected.append(Q)
                Q, exact, err = pending
                pending, probe_t = None, None
                h.update(added=0, decided_by="closure rejected", rational=exact is not None)
                continue
            pending = None
            h["closure_accepted"] = True
        if k == 0:
            if exact is None:  # stopped on an estimate: refine it, then try to snap
                snapped = steps.refine(unit, train, Q, run.coords, st.tau, st.max_den,
                                       steps.snap_tolerance(err, st.snap_tol))
                if snapped is not None:
                    exact, Q = snapped
                    err = 0.0
                    h.update(decided_by="refinement", rational=True)
                    continue
                status, needed = "inexact", 4 * n
                reason = (f"no rational subspace within {steps.SNAP_Z:g} standard errors of the estimate; a standard error "
                          f"half as large needs about {4 * n} samples")
                h.update(decided_by="stop", rational=False, angle_error=err)
                break
            if not probe:  # verification: once more with probe particles
                probe_t = test.t
                h.update(decided_by="verification", rational=True)
                continue
            t_max = max(probe_t, test.t)
            z = (probe_t + test.t) / math.sqrt(2.0 * t_var)  # the two runs' evidence combined (Stouffer)
            h.update(decided_by="verification", rational=True, combined_z=z)
            if z <= z_quiet and t_max <= t_quiet:
                status = "exact"
                reason = (f"top t {probe_t:.2f} (usual particles) and {test.t:.2f} (probe particles) below the quiet "
                          f"level {t_quiet:.2f}, combined z {z:.2f} below {z_quiet:.2f}")
            else:
                status = "partial"
                needed = int(math.ceil(1.2 * n * (t_crit / max(t_max, 1.0)) ** 2))
                reason = (f"a further direction may remain: top t {probe_t:.2f} and {test.t:.2f} (usual and probe "
                          f"particles; quiet below {t_quiet:.2f}, combined z {z:.2f} vs {z_quiet:.2f}; each under "
                          f"the threshold {t_crit:.2f}); about {needed} samples would decide")
            break
        probe_t = None
        tilt = steps.leak_angle(err, run.on, float(test.singular_values[k - 1]))
        err = float(np.sqrt(err**2 + steps.direction_error(run.O, test.directions, k) ** 2 + tilt**2))
        new = test.directions[:k].T
        new = new - Q @ (Q.T @ new)
        Q = np.linalg.qr(np.concatenate([Q, new], axis=1))[0]
        exact = None
        hull = steps.closure_hypothesis(Q, err, st.closure, rejected)
        # the snap: the result without a hull, and the found subspace to return to if an auto hull is refuted
        snapped = steps.snap(Q, err, st.max_den, st.snap_tol) if hull is None or st.closure == "auto" else None
        if hull is not None:
            if st.closure == "auto":
                pending = (snapped[1], snapped[0], 0.0) if snapped is not None else (Q, None, err)
            h.update(closure=hull[1].shape[1] - Q.shape[1], decided_by="closure")
            exact, Q = hull
            err = 0.0
        elif snapped is not None:
            exact, Q = snapped
            err = 0.0
            h["decided_by"] = "snap"
        h["rational"] = exact is not None
        h["angle_error"] = err
    if status is None:
        status, needed = "partial", None
        reason = f"stopped after max_iter = {max_iter} iterations before the test was quiet"
    return Discovery(basis=Q, history=history, exact_basis=exact if exact else None, snapshots=snaps, status=status,
                     reason=reason, angle_error=err, samples=n, samples_needed=needed)


def _bar(show: bool, desc: str) -> Any:
    if not show:
        return range

    def steps_with_bar(n: int) -> Any:
        from .._progress import progress

        return progress(range(n), desc)

    return steps_with_bar


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
        raise InputError("data must be a pair (X, Y) of arrays or a sampler data(rng, n) -> (X, Y)")
    X, Y = real_array(data[0], "data X", finite=False), real_array(data[1], "data Y", finite=False)
    if Y.ndim == 1 and unit.c == 1:
        Y = Y[:, None]
    if X.ndim != 2 or X.shape[1] != unit.d or Y.shape != (X.shape[0], unit.c):
        raise InputError(
            f"data: expected X of shape (n, {unit.d}) and Y of shape (n, {unit.c}), got {X.shape} and {Y.shape}; "
            "reshape the arrays or pick a unit with matching d and c"
        )
    if X.shape[0] < 8:
        raise InputError(f"data has {X.shape[0]} samples; discovery needs at least 8 (four folds of two)")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(Y))):
        raise InputError("data contains NaN or inf; drop or impute those samples first")
    return X, Y
