"""Rationalise a numeric subspace: reduced echelon form plus small-denominator rational recovery.

A numeric orthonormal basis Q (D × k) is brought to reduced row echelon form R (k × D; a
column is a pivot when it is independent of the earlier ones by more than the tolerance, so
that estimation noise does not promote a dependent column to a pivot), every entry is
replaced by the nearest fraction with denominator at most ``max_den``, and the exact subspace
spanned by the rational rows is accepted only if its largest principal angle to span(Q) is at
most ``tol``.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
from scipy.linalg import subspace_angles

__all__ = ["rationalise"]

# Largest echelon entry a snap may have. Entries this large come from a pivot column that is
# nearly dependent on the earlier ones; rounding them to a coarse grid changes the subspace by
# less than the tolerance and only re-describes the noisy estimate (a "snap" onto noise).
MAX_ENTRY = 8.0


def _rref(A: np.ndarray, gap: float = 1e-8) -> tuple[np.ndarray, list[int]]:
    """Reduced row echelon form of the k × D matrix A with orthonormal rows.

    A column is a pivot only when its part outside the span of the earlier pivot columns has
    norm above ``gap``. Tilting the row space by ε radians moves every column by at most ε, so
    with ``gap`` at the snap tolerance a column that is a combination of earlier ones in the
    exact subspace stays a non-pivot in a noisy estimate, instead of becoming a pivot with a
    tiny value that scrambles every later entry.
    """
    A = A.astype(np.float64)
    k, D = A.shape
    pivots: list[int] = []
    span = np.zeros((k, 0))
    for col in range(D):
        if len(pivots) == k:
            break
        r = A[:, col] - span @ (span.T @ A[:, col])
        norm = float(np.linalg.norm(r))
        if norm <= gap:
            continue
        pivots.append(col)
        span = np.concatenate([span, (r / norm)[:, None]], axis=1)
    if not pivots:
        return A[:0], pivots
    R = np.linalg.solve(A[:, pivots], A) if len(pivots) == k else A[:0]
    return R, pivots


def rationalise(Q: Any, *, max_den: int = 12, tol: float = 1e-2) -> tuple[list[list[Fraction]], np.ndarray] | None:
    """Exact rational basis (rows, reduced echelon form) near span(Q), with its orthonormal float
    basis; None when no small-denominator basis lies within ``tol`` radians.

    >>> import numpy as np
    >>> Q = np.array([[1.0, 1.0001, 0.0]]).T / np.sqrt(2)
    >>> rows, B = rationalise(Q)
    >>> [str(x) for x in rows[0]]
    ['1', '1', '0']
    """
    Q = np.asarray(Q, dtype=np.float64)
    if Q.ndim != 2 or Q.shape[1] == 0:
        return None
    Q = np.linalg.qr(Q)[0]
    for gap in (tol, 1e-8):  # pivots robust to an error of tol; then the plain ones (tiny columns)
        R, pivots = _rref(Q.T, gap)
        if len(pivots) != Q.shape[1] or np.abs(R).max() > MAX_ENTRY:
            continue
        rows = [[Fraction(float(x)).limit_denominator(max_den) for x in r] for r in R]
        E = np.array([[float(x) for x in r] for r in rows]).T
        if np.linalg.matrix_rank(E) != Q.shape[1]:
            continue
        B, _ = np.linalg.qr(E)
        if np.max(subspace_angles(B, Q)) <= tol:
            return rows, B
    return None
