"""The settings of :func:`symfix.discovery.discover`, in one validated object."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from .._errors import InputError

__all__ = ["DiscoverySettings", "settings_from"]

CLOSURES = ("auto", "orbits", "signed-orbits", "none")
TRAIN_BUDGET = 640_000  # particles × samples per training step when train_samples is None


@dataclass(frozen=True)
class DiscoverySettings:
    """How :func:`discover` trains, tests, snaps and decides. Every field is checked on creation.

    Training within E_j
        ``n_particles``, ``lr``, ``horizon``: particles, step size (per-particle step lr/N) and
        steps per iteration; ``std``: spread of the SI initialisation on E_j; ``train_samples``:
        the constrained runs train full-batch on a fixed subsample of this many samples (all
        when there are fewer; default None: TRAIN_BUDGET / n_particles, at least 2048, so
        20 000 for 32 particles), so a step costs about N × train_samples unit evaluations
        however large the data are (the velocity test still uses all of them); ``tau``: L2
        penalty; ``dtype``: torch dtype (default float64).
    Velocity test
        ``snapshots`` points along each run where velocities are taken, on ``n_folds`` folds of
        all the data; directions chosen on half of the folds are tested on the other half by a
        one-sided t test at level ``alpha / D``.
    Snap
        ``max_den``, ``snap_tol``: a subspace is replaced by a rational one (reduced echelon
        entries with denominators ≤ max_den) within min(snap_tol, 4 standard errors) radians.
    Closure
        ``closure``: ``"auto"`` (default) proposes the span of the classes of coordinates where
        the found vectors agree (up to sign) as a hypothesis, kept only when the test at it
        finds nothing; ``"orbits"``/``"signed-orbits"`` assume a (signed) permutation action and
        accept the classes at once; ``"none"`` never uses them.
    Verdict
        ``quiet``: at a rational subspace the test runs with the usual particles and with probe
        particles spread with ``probe_std`` (where curvature-only directions are larger); each
        top t statistic must lie below its (1 − quiet/4) quantile and their combination
        (Stouffer's z) below its (1 − quiet/2) quantile for the status ``exact``; otherwise,
        each t being under the threshold, the status is ``partial``. Under sampling noise alone
        at most a share ``quiet`` of exact answers comes out partial (a sampler then draws
        more samples).
    Samples
        ``n_samples``: first draw from a sampler; ``max_samples``: a sampler is drawn again
        with more samples (at least twice as many) while the status is not ``exact``, up to
        this many. Many samples are cheap (training uses the fixed subsample; only the
        velocity test reads them all) and they decide which coordinates the closure groups:
        two orbits whose values agree within the noise form one class. On the D4 patch of
        ``benchmarks/discovery`` a first draw of 20 000 merged orbits in 3 of 20 teacher seeds,
        each time quietly (an ``exact`` status at a subspace short of E^G); with 320 000 none
        did, at about the same time per run.
    ``max_iter``: at most this many iterations (default 2 D + 4).
    """

    n_particles: int = 32
    lr: float = 1.0
    horizon: int = 200
    std: float = 0.5
    probe_std: float = 4.0
    train_samples: int | None = None
    tau: float = 1e-4
    dtype: Any = None
    snapshots: int = 4
    n_folds: int = 16
    alpha: float = 1e-3
    quiet: float = 0.1
    max_den: int = 2
    snap_tol: float = 5e-2
    closure: str = "auto"
    n_samples: int = 320_000
    max_samples: int = 1_280_000
    max_iter: int | None = None

    def training_samples(self, n: int) -> int:
        """Samples of the fixed training subsample for data of n samples."""
        m = max(2048, TRAIN_BUDGET // self.n_particles) if self.train_samples is None else self.train_samples
        return min(n, m)

    def __post_init__(self) -> None:
        for name, lo, hi in (("n_particles", 1, 10**6), ("horizon", 1, 10**6), ("snapshots", 1, 10**4),
                             ("n_folds", 4, 10**4), ("max_den", 0, 10**6), ("n_samples", 4, 10**9),
                             ("max_samples", 4, 10**9)):
            _int(self, name, lo, hi)
        for name in ("train_samples", "max_iter"):
            if getattr(self, name) is not None:
                _int(self, name, 1 if name == "max_iter" else 4, 10**9)
        for name, lo, hi in (("lr", 0.0, float("inf")), ("std", 0.0, float("inf")), ("probe_std", 0.0, float("inf")),
                             ("alpha", 0.0, 1.0), ("quiet", 0.0, 0.5), ("snap_tol", 0.0, float("inf"))):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not (lo < v < hi):
                raise InputError(f"discover: {name} must be a number in ({lo:g}, {hi:g}), got {v!r}")
        if isinstance(self.tau, bool) or not isinstance(self.tau, (int, float)) or not (0 <= self.tau < float("inf")):
            raise InputError(f"discover: tau must be a finite number >= 0, got {self.tau!r}")
        if self.closure not in CLOSURES:
            raise InputError(f"discover: closure must be one of {', '.join(CLOSURES)}, got {self.closure!r}")
        if self.max_samples < self.n_samples:
            raise InputError(f"discover: max_samples ({self.max_samples}) must be at least n_samples ({self.n_samples})")
        if self.n_folds % 2:
            raise InputError(f"discover: n_folds must be even (half choose directions, half test them), got {self.n_folds}")


def _int(s: DiscoverySettings, name: str, lo: int, hi: int) -> None:
    v = getattr(s, name)
    if isinstance(v, bool) or not isinstance(v, int) or not (lo <= v <= hi):
        raise InputError(f"discover: {name} must be an int in [{lo}, {hi}], got {v!r}")


def settings_from(settings: Any, options: dict) -> DiscoverySettings:
    """``settings`` (a DiscoverySettings or None for the defaults) with ``options`` replaced."""
    if settings is None:
        settings = DiscoverySettings()
    elif not isinstance(settings, DiscoverySettings):
        raise InputError(f"discover: settings must be a DiscoverySettings, got {type(settings).__name__}")
    names = {f.name for f in fields(DiscoverySettings)}
    unknown = sorted(set(options) - names)
    if unknown:
        raise InputError(f"discover: unknown option(s) {', '.join(unknown)}; the settings are {', '.join(sorted(names))}")
    if options.get("closure", "") is None:  # the former spelling of "none"
        options = {**options, "closure": "none"}
    return replace(settings, **options)
