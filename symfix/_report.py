"""Analysis reports: parameter-sharing patterns, the character cross-check, JSON payloads."""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Sequence

import numpy as np
import scipy.sparse as sp
import sympy

from .symbolic._fixed import FixedSubspace
from .symbolic._groups import FiniteGroup
from .symbolic._reps import Rep

__all__ = ["basis_columns", "sharing_pattern", "character_dimension", "analysis", "format_analysis"]


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


def _fmt(x: Any) -> str:
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
            terms = " + ".join(f"{_fmt(v)}*c{c + 1}" for c, v in sorted(entry.items()))
            combos.append(f"{names[r]} = {terms}")
    for key in sorted(order, key=lambda k: k[0]):
        c, mag = key
        coef = f"c{c + 1}" if mag == 1 else f"{_fmt(mag)}*c{c + 1}"
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


def analysis(problem: Any, *, name: str = "", rng: np.random.Generator | None = None) -> dict[str, Any]:
    """Everything ``symfix analyze`` reports, as a JSON-ready dict (exact entries as strings)."""
    E = problem.fixed_subspace()
    names = problem.unit.param_names
    eq = problem.check_equivariance(rng=rng if rng is not None else np.random.default_rng(0))
    cols = basis_columns(E)
    return {
        "problem": name,
        "group": {"spec": repr(problem.group), "order": problem.group.order},
        "rho_in": repr(problem.rho_in),
        "rho_out": repr(problem.rho_out),
        "unit": {"type": type(problem.unit).__name__, "activation": str(problem.unit.activation), "param_names": list(names)},
        "dims": {"X": problem.rho_in.dim, "Y": problem.rho_out.dim, "Z": problem.param_dim, "E^G": E.dim},
        "fixed_subspace": {
            "method": E.method,
            "exact": E.exact,
            "gap": E.gap,
            "tol": E.tol,
            "basis": [{names[r]: _fmt(v) for r, v in sorted(col.items())} for col in cols],
        },
        "character_formula_dim": character_dimension(problem.param_rep),
        "sharing": sharing_pattern(E, names),
        "equivariance": {"max_violation": eq.max_violation, "tol": eq.tol, "n_samples": eq.n_samples, "ok": eq.ok},
    }


def format_analysis(a: dict[str, Any], title: str = "") -> str:
    d = a["dims"]
    fs = a["fixed_subspace"]
    chi = a["character_formula_dim"]
    chi_txt = "n/a (infinite or large group)" if chi is None else f"{chi} ({'agrees' if chi == d['E^G'] else 'DISAGREES'})"
    order = a["group"]["order"]
    eq = a["equivariance"]
    lines = [
        f"symfix analyze: {a['problem']}" + (f" -- {title}" if title else ""),
        f"  group        {a['group']['spec']}, order {'infinite' if order is None else order}",
        f"  input  X     R^{d['X']}   {a['rho_in']}",
        f"  output Y     R^{d['Y']}   {a['rho_out']}",
        f"  unit         {a['unit']['type']}, activation {a['unit']['activation']}",
        f"  params Z     R^{d['Z']}",
        f"  E^G          dim {d['E^G']}  ({'exact' if fs['exact'] else 'numeric'}, route {fs['method']}"
        + (f", gap {fs['gap']:.3g}, tol {fs['tol']:g}" if not fs["exact"] else "") + ")",
        f"  character    (1/|G|) sum_g tr M_g = {chi_txt}",
        "  parameter sharing (theta = B c):",
    ]
    lines += [f"    {s}" for s in a["sharing"]]
    verdict = "equivariant" if eq["ok"] else "NOT equivariant"
    lines.append(f"  equivariance {verdict}: max violation {eq['max_violation']:.2e} (tol {eq['tol']:.0e}, {eq['n_samples']} samples)")
    return "\n".join(lines)
