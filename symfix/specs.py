"""Problem spec files (TOML): group, input and output representations, unit (public: users load them).

A spec names a catalogue group (or gives generators), the representations on inputs and
outputs, and the unit::

    description = "the paper's C2 teacher-student unit"

    [group]
    catalogue = "cyclic"        # cyclic, dihedral, symmetric, alternating, so2, so3, orthogonal, special_orthogonal
    n = 2                       # its parameter (not for so2 / so3)
    # generators = [[1, 0]]     # instead of catalogue: permutations or exact matrices
    # cap = 20000               # with matrix generators: the largest group to close

    [rho_in]
    rep = "permutation"         # permutation, defining, trivial, regular, or a list = tensor product
    # dim = 1                   # for trivial

    [rho_out]
    rep = "permutation"

    [unit]
    kind = "matrix_unit"        # neuron, matrix_unit, mlp
    activation = "sigmoid"
    # widths = [3, 4, 1]        # mlp only

Every command takes a built-in name (``symfix specs`` lists them) or a path to such a file.
Errors name the file and the key.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from typing import Any

from ._errors import InputError, SymfixError

__all__ = ["Spec", "load_spec", "parse_spec", "BUILTIN_SPECS", "DEFAULT"]


DEFAULT = "c2-matrix-unit"
DEFAULT_CAP = 20000  # closure cap of matrix generators; a spec may raise it with group.cap

BUILTIN_SPECS: dict[str, str] = {
    "c2-matrix-unit": """
description = "the paper's C2 teacher-student unit sigma(z x), z in R^{2x2}"
[group]
catalogue = "cyclic"
n = 2
[rho_in]
rep = "permutation"
[rho_out]
rep = "permutation"
[unit]
kind = "matrix_unit"
activation = "sigmoid"
""",
    "c2-neuron": """
description = "C2 swapping two inputs, neuron a*tanh(w.x + b)"
[group]
catalogue = "cyclic"
n = 2
[rho_in]
rep = "permutation"
[rho_out]
rep = "trivial"
[unit]
kind = "neuron"
activation = "tanh"
""",
    "s3-neuron": """
description = "S3 permuting three inputs, invariant neuron"
[group]
catalogue = "symmetric"
n = 3
[rho_in]
rep = "permutation"
[rho_out]
rep = "trivial"
[unit]
kind = "neuron"
activation = "tanh"
""",
    "d4-patch": """
description = "D4 on a 3x3 image patch (rotations and reflections of the grid), invariant ReLU neuron"
[group]
generators = [[6, 3, 0, 7, 4, 1, 8, 5, 2], [2, 1, 0, 5, 4, 3, 8, 7, 6]]
[rho_in]
rep = "permutation"
[rho_out]
rep = "trivial"
[unit]
kind = "neuron"
activation = "relu"
""",
    "so2-neuron": """
description = "SO(2) rotating R^2 inputs, invariant neuron"
[group]
catalogue = "so2"
[rho_in]
rep = "defining"
[rho_out]
rep = "trivial"
[unit]
kind = "neuron"
activation = "tanh"
""",
    "so2-second-moment": """
description = "SO(2) acting on x (x) x (case study teacher_student_so2), invariant neuron"
[group]
catalogue = "so2"
[rho_in]
rep = ["defining", "defining"]
[rho_out]
rep = "trivial"
[unit]
kind = "neuron"
activation = "tanh"
""",
}

_CATALOGUE = {"cyclic": 1, "dihedral": 1, "symmetric": 1, "alternating": 1, "so2": 0, "so3": 0, "orthogonal": 1, "special_orthogonal": 1}


@dataclass(frozen=True)
class Spec:
    """A parsed spec: its name (built-in name or file path), description, the Problem and the
    raw table (kept for design files)."""

    name: str
    description: str
    problem: Any
    table: dict


def load_spec(name_or_path: str) -> Spec:
    """A built-in spec by name, or a TOML file by path."""
    if not isinstance(name_or_path, (str, os.PathLike)):
        raise InputError(f"load_spec needs a built-in spec name or a path, got {type(name_or_path).__name__}")
    name_or_path = os.fspath(name_or_path)
    if name_or_path in BUILTIN_SPECS:
        return parse_spec(tomllib.loads(BUILTIN_SPECS[name_or_path]), name_or_path)
    if not os.path.exists(name_or_path):
        raise InputError(
            f"{name_or_path}: no such built-in spec or file; built-in specs: {', '.join(BUILTIN_SPECS)}"
        )
    try:
        with open(name_or_path, "rb") as fh:
            table = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{name_or_path}: malformed TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{name_or_path}: not UTF-8 text (byte {exc.start}); save the spec as UTF-8") from None
    except OSError as exc:
        raise InputError(f"{name_or_path}: cannot read: {exc.strerror}") from None
    return parse_spec(table, name_or_path)


_KEYS = {
    "": ("description", "group", "rho_in", "rho_out", "unit", "network"),
    "group.": ("catalogue", "n", "generators", "cap"),
    "rho_in.": ("rep", "dim"),
    "rho_out.": ("rep", "dim"),
    "unit.": ("kind", "activation", "widths"),
}


def _check_keys(table: dict, where: str) -> None:
    """Every key must be known: a misspelled key is named with the closest valid one."""
    import difflib

    for prefix, allowed in _KEYS.items():
        sec = table if not prefix else table.get(prefix[:-1], {})
        if not isinstance(sec, dict):
            continue
        for k in sec:
            if k not in allowed:
                near = difflib.get_close_matches(str(k), allowed, n=1)
                hint = f"; did you mean '{prefix}{near[0]}'?" if near else ""
                raise InputError(f"{where}: unknown key '{prefix}{k}'{hint} (valid: {', '.join(prefix + a for a in allowed)})")


def parse_spec(table: dict, where: str = "<spec>") -> Spec:
    from . import groups, units
    from ._problem import Problem

    _check_keys(table, where)
    if "network" in table and "group" not in table:
        raise InputError(f"{where}: this spec describes a network ([network]); use 'symfix symmetries {where}'")

    def need(tab: dict, key: str, path: str) -> Any:
        if key not in tab:
            raise InputError(f"{where}: missing key '{path}{key}'")
        return tab[key]

    def section(key: str) -> dict:
        sec = need(table, key, "")
        if not isinstance(sec, dict):
            raise InputError(f"{where}: '{key}' must be a table ([{key}])")
        return sec

    g = section("group")
    try:
        if "generators" in g:
            cap = g.get("cap", DEFAULT_CAP)
            if isinstance(cap, bool) or not isinstance(cap, int) or not 1 <= cap <= 10**7:
                raise InputError(f"{where}: 'group.cap' must be an integer in 1..10^7, got {cap!r}")
            G = groups.from_generators(g["generators"], cap=cap)
        else:
            cat = need(g, "catalogue", "group.")
            if cat not in _CATALOGUE:
                raise InputError(f"{where}: unknown group 'group.catalogue = {cat!r}'; choose one of {', '.join(_CATALOGUE)}")
            G = getattr(groups, cat)(need(g, "n", "group.")) if _CATALOGUE[cat] else getattr(groups, cat)()
        rin = _rep(G, section("rho_in"), "rho_in", where)
        rout = _rep(G, section("rho_out"), "rho_out", where)
        u = section("unit")
        kind = need(u, "kind", "unit.")
        act = u.get("activation", "tanh")
        if kind == "neuron":
            unit = units.neuron(rin.dim, rout.dim, act)
        elif kind == "matrix_unit":
            unit = units.matrix_unit(rin.dim, rout.dim, act)
        elif kind == "mlp":
            widths = need(u, "widths", "unit.")
            if not isinstance(widths, list) or len(widths) < 2 or widths[0] != rin.dim or widths[-1] != rout.dim:
                raise InputError(f"{where}: 'unit.widths' must list layer widths from {rin.dim} (rho_in) to {rout.dim} (rho_out)")
            unit = units.mlp(widths, act)
        else:
            raise InputError(f"{where}: unknown 'unit.kind = {kind!r}'; choose neuron, matrix_unit or mlp")
        problem = Problem(G, rin, rout, unit)
    except InputError as exc:
        msg = str(exc)
        raise InputError(msg if msg.startswith(where) else f"{where}: {msg}") from None
    except SymfixError as exc:
        raise type(exc)(f"{where}: {exc}") from None
    except TypeError as exc:
        raise InputError(f"{where}: wrong value type: {exc}") from None
    return Spec(where, str(table.get("description", "")), problem, table)


def _rep(G: Any, sec: dict, key: str, where: str) -> Any:
    from . import reps

    if "rep" not in sec:
        raise InputError(f"{where}: missing key '{key}.rep'")
    names = sec["rep"] if isinstance(sec["rep"], list) else [sec["rep"]]
    if not names:
        raise InputError(f"{where}: '{key}.rep' is an empty list")
    out = None
    for name in names:
        if name == "trivial":
            dim = sec.get("dim", 1)
            if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
                raise InputError(f"{where}: '{key}.dim' must be a positive integer, got {dim!r}")
            r = reps.trivial(G, dim)
        elif name in ("permutation", "defining", "regular"):
            r = getattr(reps, name)(G)
        else:
            raise InputError(f"{where}: unknown '{key}.rep = {name!r}'; choose permutation, defining, trivial or regular")
        out = r if out is None else out * r
    return out
