"""Exact basis columns, parameter-sharing patterns and the character cross-check of a fixed
subspace (used by the reports and by the design files of ``symfix.export``)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Sequence

import numpy as np
import scipy.sparse as sp
import sympy

from .symbolic import FixedSubspace
from .symbolic.groups import FiniteGroup
from .symbolic.reps import Rep

__all__ = ["basis_columns", "fmt_exact", "sharing_pattern", "character_dimension"]


def basis_columns(E: FixedSubspace) -> list[dict[int, Any]]:
    """Each basis vector as {coordinate: exact coefficient} (Fraction or sympy number)."""
    if sp.issparse(E.basis):
        coo = sp.coo_array(E.basis)
        cols: list[dict[int, Any]] = [{} for _ in range(E.dim)]
        for r, c, v in zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist()):
            cols[c][r] = Fraction(int(v))
        return cols
    if isinstance(E.basis, sympy.MatrixBase):
        return [{r: E.basis[r, c] for r in range(E.ambient_dim) if E.basis[r, c] != 0} for c in range(E.dim)]
    B = np.asarray(E.basis)
    return [{r: float(B[r, c]) for r in range(E.ambient_dim) if abs(B[r, c]) > 1e-12} for c in range(E.dim)]


def fmt_exact(x: Any) -> str:
    """An exact coefficient as text (floats to 6 significant digits)."""
    if isinstance(x, float):
        return f"{x:.6g}"
    return str(x)


def sharing_pattern(E: FixedSubspace, names: Sequence[str]) -> list[str]:
    """Human-readable parameter sharing: θ = B c, one line per tie class.

    Rows of B with a single non-zero coefficient tie parameters to one coefficient, with
    signs; other rows are printed as linear combinations; zero rows are listed as fixed to 0.
    """
    rows: dict[int, dict[int, Any]] = {}
    for c, col in enumerate(basis_columns(E)):
        for r, v in col.items():
            rows.setdefault(r, {})[c] = v
    lines: list[str] = []
    simple: dict[tuple[int, Any], list[str]] = {}
    order: list[tuple[int, Any]] = []
    combos: list[str] = []
    for r in range(E.ambient_dim):
        entry = rows.get(r)
        if not entry:
            continue
        if len(entry) == 1:
            (c, v), = entry.items()
            key = (c, abs(v) if not isinstance(v, sympy.Basic) else sympy.Abs(v))
            if key not in simple:
                simple[key] = []
                order.append(key)
            sign = "-" if (v < 0) else ""
            simple[key].append(f"{sign}{names[r]}")
        else:
            terms = " + ".join(f"{fmt_exact(v)}*c{c + 1}" for c, v in sorted(entry.items()))
            combos.append(f"{names[r]} = {terms}")
    for key in sorted(order, key=lambda k: k[0]):
        c, mag = key
        coef = f"c{c + 1}" if mag == 1 else f"{fmt_exact(mag)}*c{c + 1}"
        lines.append(f"{coef}: " + " = ".join(simple[key]))
    lines += combos
    zeros = [names[r] for r in range(E.ambient_dim) if r not in rows]
    if zeros:
        shown = ", ".join(zeros[:12]) + (f", ... ({len(zeros)} in all)" if len(zeros) > 12 else "")
        lines.append(f"fixed to 0: {shown}")
    return lines


def character_dimension(rep: Rep, cap: int = 5000) -> int | None:
    """dim E^G by the character formula (1/|G|) Σ_g tr ρ(g), for finite groups up to ``cap``."""
    G = rep.group
    if not isinstance(G, FiniteGroup) or G.order > cap:
        return None
    total = sum(rep.character(g) for g in G.elements())
    val = total / G.order
    return int(round(val)) if abs(val - round(val)) < 1e-6 else None
