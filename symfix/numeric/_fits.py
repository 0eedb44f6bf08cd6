"""Power-law exponents with seed-aware intervals and a test of the straight line.

A study measures a quantity q(n, s) at sizes n (widths, particle counts) for seeds s. Values of
one seed at different n are not independent (nested particles, shared data), so the seed is
the replicate: :func:`exponent_fit` fits one log-log slope per seed and reports their mean with
a t-interval over seeds, the slope of the per-n geometric means, and the p-value of a lack-of-fit
test of the straight line through the per-n log means against the between-seed scatter (an F
test; a small p says a single power law does not describe the data over this range).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._errors import InputError
from .._validate import real_array

__all__ = ["exponent_fit", "ExponentFit"]


@dataclass(frozen=True)
class ExponentFit:
    """``slope`` (mean of per-seed slopes) in [``lo``, ``hi``] (95% t-interval over seeds; nan
    with one seed), ``per_seed``, ``slope_of_means``, ``lack_of_fit_p`` (nan when it cannot be
    computed: fewer than 3 sizes or 2 seeds), and the sizes used, ``n_range``."""

    slope: float
    lo: float
    hi: float
    per_seed: list = field(default_factory=list)
    slope_of_means: float = float("nan")
    lack_of_fit_p: float = float("nan")
    n_range: tuple = ()
    seeds: int = 0

    def contains(self, value: float) -> bool:
        return bool(self.lo <= value <= self.hi)

    def text(self) -> str:
        """e.g. ``-1.02 [-1.10, -0.95] (n = 50-500, 5 seeds; lack of fit p = 0.41)``."""
        return (f"{self.slope:.2f} [{self.lo:.2f}, {self.hi:.2f}] (n = {self.n_range[0]:g}–{self.n_range[1]:g}, "
                f"{self.seeds} seeds; lack of fit p = {self.lack_of_fit_p:.2g})")

    def as_dict(self) -> dict:
        return {"slope": self.slope, "lo": self.lo, "hi": self.hi, "per_seed": list(self.per_seed),
                "slope_of_means": self.slope_of_means, "lack_of_fit_p": self.lack_of_fit_p,
                "n_range": list(self.n_range), "seeds": self.seeds}


def exponent_fit(sizes: Any, values: Any) -> ExponentFit:
    """Fit q ∝ n^slope to ``values`` of shape (seeds, len(sizes)) (all > 0).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> n = np.array([10, 30, 100, 300, 1000])
    >>> q = 5.0 * n ** -1.0 * np.exp(0.05 * rng.standard_normal((6, 5)))
    >>> f = exponent_fit(n, q)
    >>> f.contains(-1.0), f.lack_of_fit_p > 0.01
    (True, True)
    """
    from scipy import stats

    n = real_array(sizes, "sizes", ndim=1)
    q = real_array(values, "values", ndim=2)
    if q.shape[1] != n.size or n.size < 2 or q.shape[0] < 1:
        raise InputError(f"values must have shape (seeds, {n.size}) with at least 2 sizes, got {q.shape}")
    if (n <= 0).any() or (q <= 0).any():
        raise InputError("sizes and values must be > 0 for a log-log fit (drop zero values, or fit another range)")
    x, y = np.log(n), np.log(q)
    slopes = np.array([np.polyfit(x, row, 1)[0] for row in y])
    s = len(slopes)
    half = float(stats.t.ppf(0.975, s - 1) * slopes.std(ddof=1) / np.sqrt(s)) if s > 1 else float("nan")
    means = y.mean(0)
    line = np.polyfit(x, means, 1)
    p = float("nan")
    if s > 1 and n.size > 2:
        resid = means - np.polyval(line, x)
        pure = y.var(0, ddof=1).mean() / s  # variance of a per-size mean, on n.size (s - 1) degrees of freedom
        if pure > 0:
            F = float((resid ** 2).sum() / (n.size - 2) / pure)
            p = float(stats.f.sf(F, n.size - 2, n.size * (s - 1)))
    m = float(slopes.mean())
    return ExponentFit(m, m - half, m + half, slopes.tolist(), float(line[0]), p, (float(n.min()), float(n.max())), s)
