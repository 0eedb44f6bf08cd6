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

__all__ = ["rationalise", "orbit_hull"]

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


def orbit_hull(Q: Any, *, tol: float = 1e-2, signed: bool = False,
               zeros: bool = False) -> tuple[list[list[Fraction]], np.ndarray] | None:
    """The span of the indicator vectors of the classes of coordinates on which every vector of
    span(Q) takes equal values (with ``signed``: equal up to a sign fixed per coordinate), as
    exact rows (entries 0, 1, and -1 when signed) and an orthonormal float basis; None when
    the classes are not clear.

    When a group acts by permuting coordinates (pixels, nodes, set elements: weight sharing),
    E^G is spanned by the indicators of the orbits, and a vector of E^G is constant on each
    orbit; with sign changes too (``signed``), E^G is spanned by signed indicators of the
    orbits on which it does not vanish. A subspace inside E^G therefore shows, through the
    coordinates where its vectors agree (up to sign), unions of orbits, and the span of those
    classes (coordinates where span(Q) vanishes left out) is a rational subspace of E^G that
    contains span(Q), often larger. Only valid for such actions: for a general linear action
    (a rotation mixing coordinates) the classes are not orbits. ``signed`` also covers plain
    permutations, but merges orbits whose values are opposite, so it is coarser there.

    With ``zeros`` (plain permutations only) the coordinates where span(Q) vanishes form one
    more class: the zero set of an invariant vector is a union of orbits, so its indicator
    lies in E^G too (an orbit on which the linear correlation happens to vanish is otherwise
    left to a curvature-only direction). With sign changes that indicator need not be fixed.

    ``tol`` bounds the error of span(Q) in radians. A tilt of ε radians moves the D rows of
    the D × k basis by about ε sqrt(k / D) each, so with r = tol sqrt(k / D): a row counts as
    zero below r and must not lie between r and 2 r (unclear); the other rows (when signed,
    each with the sign that brings it nearest to its class) must lie within r / sqrt(2) of
    their class mean and farther than 2 r from every row of another class (between r and 2 r
    it is unclear whether two rows differ: the true rows of one class can drift apart by a
    few standard errors, measured up to 3.3 on the two-coordinate classes of the planted
    benchmark); and span(Q) must lie
    within ``tol`` radians of the result. The rows come out in reduced echelon form (disjoint
    supports, leading entry 1). Cost O(D × classes); no D × D distance matrix is formed.

    >>> import numpy as np
    >>> u = np.array([[0.0, 0.5, 0.3, 0.5, -0.3]]).T       # ±constant on {1, 3} and on {2, 4}
    >>> rows, B = orbit_hull(u / np.linalg.norm(u), signed=True)
    >>> [[str(x) for x in r] for r in rows]
    [['0', '1', '0', '1', '0'], ['0', '0', '1', '0', '-1']]
    >>> rows, B = orbit_hull(u / np.linalg.norm(u))         # unsigned: 0.3 and -0.3 differ
    >>> [[str(x) for x in r] for r in rows]
    [['0', '1', '0', '1', '0'], ['0', '0', '1', '0', '0'], ['0', '0', '0', '0', '1']]
    """
    Q = np.asarray(Q, dtype=np.float64)
    if Q.ndim != 2 or Q.shape[1] == 0:
        return None
    Q = np.linalg.qr(Q)[0]
    D, k = Q.shape
    r = tol * np.sqrt(k / D)
    norms = np.linalg.norm(Q, axis=1)
    if np.any((norms > r) & (norms < 2 * r)):  # neither clearly zero nor clearly not
        return None
    found = _tight_classes(Q, np.flatnonzero(norms >= 2 * r), r, signed)
    if not found:
        return None
    dead = np.flatnonzero(norms <= r)
    if zeros and not signed and dead.size:
        found = sorted(found + [(dead, np.ones(dead.size))], key=lambda c: int(c[0][0]))
    H = np.zeros((D, len(found)))
    for j, (idx, sign) in enumerate(found):
        H[idx, j] = sign / np.sqrt(idx.size)
    if np.linalg.norm(Q - H @ (H.T @ Q), 2) > np.sin(min(tol, np.pi / 2)):
        return None
    rows = [[Fraction(int(np.sign(x))) for x in H[:, j]] for j in range(H.shape[1])]
    return rows, H


def _tight_classes(Q: np.ndarray, live: np.ndarray, r: float, signed: bool) -> list[tuple[np.ndarray, np.ndarray]] | None:
    """Rows ``live`` of Q grouped into classes (up to sign when ``signed``): (indices, signs) per
    class, ordered by first index, the first sign +1 (all +1 unless signed). Each signed row
    lies within r / sqrt(2) of its class mean and farther than 2 r from every signed row of
    another class (checked through the means and radii; by Jung's theorem every class of
    diameter at most r passes); None if the rows do not split that way. Leader clustering: a
    row joins the nearest class whose leader is within r of it (or of its negative), else
    starts one."""
    if live.size == 0:
        return None
    leaders = np.empty((0, Q.shape[1]))
    label = np.empty(live.size, dtype=int)
    signs = np.ones(live.size)
    for n, i in enumerate(live):
        plus = np.linalg.norm(leaders - Q[i], axis=1)
        minus = np.linalg.norm(leaders + Q[i], axis=1) if signed else np.full(plus.shape, np.inf)
        d = np.minimum(plus, minus)
        j = int(np.argmin(d)) if d.size else -1
        if j < 0 or d[j] > r:
            leaders = np.vstack([leaders, Q[i]])
            j = leaders.shape[0] - 1
        elif minus[j] < plus[j]:
            signs[n] = -1.0
        label[n] = j
    found = [(live[label == j], signs[label == j]) for j in range(leaders.shape[0])]
    means = np.stack([(Q[idx] * sg[:, None]).mean(axis=0) for idx, sg in found])
    radius = np.array([np.max(np.linalg.norm(Q[idx] * sg[:, None] - m, axis=1)) for (idx, sg), m in zip(found, means)])
    if np.any(radius > r / np.sqrt(2)):  # a spread-out class, not a tight one
        return None
    for j in range(len(means) - 1):  # every signed row farther than 2 r from every other class
        d = np.linalg.norm(means[j + 1 :] - means[j], axis=1)
        if signed:
            d = np.minimum(d, np.linalg.norm(means[j + 1 :] + means[j], axis=1))
        if np.min(d - radius[j + 1 :] - radius[j]) <= 2 * r:
            return None
    return sorted(found, key=lambda c: int(c[0][0]))
