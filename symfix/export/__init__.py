"""Export designs to other frameworks: design JSON, torch modules constrained to E^G, ONNX.

* :func:`design` / :func:`save_design` / :func:`load_design`: a JSON file with the spec, the
  parameter layout, the exact basis of E^G (rational strings) and the parameter-sharing
  pattern; loading rebuilds the problem from the spec and checks that the stored basis spans
  the same subspace exactly.
* :func:`to_torch`: a ``torch.nn.Module`` of ``width`` units whose parameters are coefficients
  in an orthonormal basis of E^G (θ_i = Q c_i), so every unit stays in E^G whatever the
  optimiser does; the model is Φ(x) = (1/width) Σ_i σ_*(x, θ_i), equivariant by construction;
  or, with ``particles=``, a trained network (``symfix.export._torch``).
* :func:`to_onnx`: that module as an ONNX file (torch's exporter; needs the ``onnx`` extra).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .._errors import InputError

__all__ = ["design", "save_design", "load_design", "Design", "to_torch", "to_onnx", "save_torch", "EquivariantNetwork",
           "MeanFieldNetwork"]


def __getattr__(name: str) -> Any:  # torch is imported only when a module is asked for
    if name in ("to_torch", "EquivariantNetwork", "MeanFieldNetwork"):
        from . import _torch

        return getattr(_torch, name)
    raise AttributeError(f"module 'symfix.export' has no attribute {name!r}")

FORMAT = "symfix-design/1"


def design(spec: Any) -> dict:
    """The design of a spec (:func:`symfix.load_spec`) or of a :class:`symfix.Problem` built in
    Python, as a JSON-ready dict. A problem is stored by the reprs of its group, representations
    and unit (each evaluates back to an equal value), a spec also by its table."""
    from .._problem import Problem
    from .._sharing import basis_columns, fmt_exact, sharing_pattern

    if isinstance(spec, Problem):
        P, name, table = spec, "problem", None
    elif hasattr(spec, "problem") and hasattr(spec, "table"):
        P, name, table = spec.problem, spec.name, spec.table
    else:
        raise InputError(f"design needs a Spec (symfix.load_spec) or a Problem, got {type(spec).__name__}")
    E = P.fixed_subspace()
    names = list(P.unit.param_names)
    return {
        "format": FORMAT,
        "name": name,
        "spec": table,
        "problem": {"group": repr(P.group), "rho_in": repr(P.rho_in), "rho_out": repr(P.rho_out), "unit": repr(P.unit)},
        "group": repr(P.group),
        "rho_in": repr(P.rho_in),
        "rho_out": repr(P.rho_out),
        "param_names": names,
        "dims": {"X": P.rho_in.dim, "Y": P.rho_out.dim, "Z": P.param_dim, "E^G": E.dim},
        "exact": E.exact,
        "method": E.method,
        "basis": [{str(r): fmt_exact(v) for r, v in sorted(col.items())} for col in basis_columns(E)],
        "sharing": sharing_pattern(E, names),
    }


_NAMES = ("group", "rho_in", "rho_out", "unit")


def problem_from_reprs(d: Any, where: str = "<design>") -> Any:
    """Rebuild a Problem from the reprs of a design's "problem" entry, evaluating only calls of
    symfix's public constructors, literals and the operators + * >> and .dual (no other code)."""
    import ast

    from .. import groups, reps, units
    from .._problem import Problem

    if not isinstance(d, dict) or set(d) != set(_NAMES) or not all(isinstance(d[k], str) for k in _NAMES):
        raise InputError(f"{where}: 'problem' must map {', '.join(_NAMES)} to repr strings")
    allowed = {n: getattr(m, n) for m in (groups, reps, units) for n in m.__all__}
    ops = {ast.Add: lambda a, b: a + b, ast.Mult: lambda a, b: a * b, ast.RShift: lambda a, b: a >> b}

    def ev(node: Any) -> Any:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, type(None))):
            return node.value
        if isinstance(node, (ast.List, ast.Tuple)):
            vals = [ev(e) for e in node.elts]
            return vals if isinstance(node, ast.List) else tuple(vals)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -ev(node.operand)
        if isinstance(node, ast.BinOp) and type(node.op) in ops:
            return ops[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.Attribute) and node.attr == "dual":
            return ev(node.value).dual
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in allowed:
            return allowed[node.func.id](*[ev(a) for a in node.args], **{k.arg: ev(k.value) for k in node.keywords})
        raise InputError(f"{where}: unsupported expression {ast.dump(node)[:60]} in a problem repr")

    try:
        parts = {k: ev(ast.parse(d[k], mode="eval")) for k in _NAMES}
    except SyntaxError as exc:
        raise InputError(f"{where}: a problem repr does not parse: {exc.msg}") from None
    except (TypeError, ValueError) as exc:
        raise InputError(f"{where}: a problem repr does not build: {exc}") from None
    return Problem(parts["group"], parts["rho_in"], parts["rho_out"], parts["unit"])


def save_design(spec: Any, path: str | os.PathLike) -> dict:
    """Write :func:`design` as JSON (atomically) and return it."""
    from .._io import write_text

    d = design(spec)
    write_text(path, json.dumps(d, indent=2) + "\n")
    return d


@dataclass(frozen=True)
class Design:
    """A loaded design: the problem rebuilt from its spec and the stored exact subspace."""

    problem: Any
    subspace: Any
    table: dict


def load_design(path: str | os.PathLike) -> Design:
    """Read a design JSON, rebuild its problem and check the stored basis spans E^G exactly."""
    import sympy

    from ..specs import parse_spec
    from ..symbolic import FixedSubspace

    where = os.fspath(path)
    try:
        with open(where) as fh:
            d = json.load(fh)
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"{where}: cannot read a design JSON: {exc}") from None
    if not isinstance(d, dict):
        raise InputError(f"{where}: a design JSON is an object")
    for key in ("format", "basis", "dims"):
        if key not in d:
            raise InputError(f"{where}: missing key '{key}'")
    if d["format"] != FORMAT:
        raise InputError(f"{where}: 'format' is {d['format']!r}, expected {FORMAT!r}")
    if d.get("spec"):
        P = parse_spec(d["spec"], where).problem
    elif "problem" in d:
        P = problem_from_reprs(d["problem"], where)
    else:
        raise InputError(f"{where}: missing key 'spec' or 'problem'")
    D = P.param_dim
    try:
        cols = [{int(r): sympy.sympify(v) for r, v in col.items()} for col in d["basis"]]
    except (ValueError, TypeError, sympy.SympifyError) as exc:
        raise InputError(f"{where}: 'basis' entries must be exact numbers as strings: {exc}") from None
    B = sympy.zeros(D, len(cols))
    for c, col in enumerate(cols):
        for r, v in col.items():
            if not 0 <= r < D:
                raise InputError(f"{where}: 'basis' row {r} outside 0..{D - 1}")
            B[r, c] = v
    stored = FixedSubspace(basis=B, dim=len(cols), ambient_dim=D, exact=True, method=str(d.get("method", "design")))
    E = P.fixed_subspace()
    if stored.dim != E.dim or not _same_span(stored, E):
        raise InputError(f"{where}: the stored basis does not span E^G of the spec (dim {stored.dim} vs {E.dim})")
    return Design(P, stored, d)


def _same_span(A: Any, E: Any) -> bool:
    """Exact: the stored columns lie in E^G (verified against the generators) and are independent."""
    import sympy

    B = A.basis
    if B.rank() != A.dim:
        return False
    from .._sharing import basis_columns

    Eb = sympy.zeros(E.ambient_dim, E.dim)
    for c, col in enumerate(basis_columns(E)):
        for r, v in col.items():
            Eb[r, c] = sympy.nsimplify(v) if isinstance(v, float) else sympy.Rational(v) if isinstance(v, Fraction) else v
    return sympy.Matrix.hstack(Eb, B).rank() == E.dim




def to_onnx(module: Any, path: str | os.PathLike, *, batch: int = 4) -> None:
    """Export a module from :func:`to_torch` to ONNX (atomically); the batch axis is dynamic."""
    import torch

    from .._io import write_with

    d = module.problem.unit.d
    example = torch.zeros(batch, d, dtype=next(module.parameters()).dtype)

    def write(tmp: str) -> None:
        import contextlib
        import io
        import warnings

        try:
            with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), _quiet_torch_logs():
                warnings.simplefilter("ignore")
                torch.onnx.export(module, (example,), tmp, input_names=["x"], output_names=["y"],
                                  dynamic_shapes={"x": {0: torch.export.Dim("batch")}}, dynamo=True,
                                  external_data=False)
        except ImportError as exc:
            raise InputError(f"ONNX export needs the 'onnx' extra (pip install 'symfix[onnx]'): {exc}") from None

    write_with(path, write)


def save_torch(module: Any, path: str | os.PathLike, *, batch: int = 4) -> None:
    """Save the module as a ``torch.export`` program (``.pt2``), loadable with
    ``torch.export.load(path).module()`` without symfix installed."""
    import torch

    from .._io import write_with

    example = torch.zeros(batch, module.problem.unit.d, dtype=next(module.parameters()).dtype)
    import warnings

    with warnings.catch_warnings(), _quiet_torch_logs():
        warnings.simplefilter("ignore")
        prog = torch.export.export(module, (example,), dynamic_shapes={"x": {0: torch.export.Dim("batch")}})
        write_with(path, lambda tmp: torch.export.save(prog, tmp))


class _quiet_torch_logs:
    """Silence torch's logging warnings (exporter chatter) inside the block."""

    def __enter__(self) -> None:
        import logging

        self._logger = logging.getLogger("torch")
        self._level = self._logger.level
        self._logger.setLevel(logging.ERROR)

    def __exit__(self, *exc: Any) -> None:
        self._logger.setLevel(self._level)
