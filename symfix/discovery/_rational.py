"""Rationalise a numeric subspace: reduced echelon form plus small-denominator rational recovery.

A numeric orthonormal basis Q (D × k) is brought to reduced row echelon form R (k × D, pivots
chosen on the largest entries), every entry is replaced by the nearest fraction with
denominator at most ``max_den``, and the exact subspace spanned by the rational rows is
accepted only if its largest principal angle to span(Q) is at most ``tol``.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
from scipy.linalg import subspace_angles

__all__ = ["rationalise"]


def _rref(A: np.ndarray) -> tuple[np.ndarray, list[int]]:
    R = A.astype(np.float64).copy()
    k, D = R.shape
    pivots: list[int] = []
    row = 0
    for col in range(D):
        if row == k:
            break
        p = row + int(np.argmax(np.abs(R[row:, col])))
        if abs(R[p, col]) < 1e-8:
            continue
        R[[row, p]] = R[[p, row]]
        R[row] /= R[row, col]
        for r in range(k):
            if r != row:
                R[r] -= R[r, col] * R[row]
        pivots.append(col)
        row += 1
    return R[:row], pivots


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
    R, pivots = _rref(Q.T)
    if len(pivots) != Q.shape[1]:
        return None
    rows = [[Fraction(float(x)).limit_denominator(max_den) for x in r] for r in R]
    E = np.array([[float(x) for x in r] for r in rows]).T
    B, _ = np.linalg.qr(E)
    if np.linalg.matrix_rank(E) != Q.shape[1] or np.max(subspace_angles(B, Q)) > tol:
        return None
    return rows, B
