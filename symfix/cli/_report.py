"""Analysis reports: parameter-sharing patterns, the character cross-check, JSON payloads."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._sharing import basis_columns, character_dimension, fmt_exact, sharing_pattern

__all__ = ["basis_columns", "sharing_pattern", "character_dimension", "analysis", "format_analysis"]


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
            "basis": [{names[r]: fmt_exact(v) for r, v in sorted(col.items())} for col in cols],
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
