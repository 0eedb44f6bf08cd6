"""Built-in example problems, by name (``symfix analyze NAME``)."""

from __future__ import annotations

from typing import Callable

from . import groups, reps, units
from ._errors import InputError
from ._problem import Problem

__all__ = ["BUILTINS", "builtin_problem", "DEFAULT"]

DEFAULT = "c2-matrix-unit"


def _c2_matrix() -> Problem:
    G = groups.cyclic(2)
    V = reps.permutation(G)
    return Problem(G, V, V, units.matrix_unit(2, 2, "sigmoid"))


def _c2_neuron() -> Problem:
    G = groups.cyclic(2)
    return Problem(G, reps.permutation(G), reps.trivial(G), units.neuron(2, 1, "tanh"))


def _s3_neuron() -> Problem:
    G = groups.symmetric(3)
    return Problem(G, reps.permutation(G), reps.trivial(G), units.neuron(3, 1, "tanh"))


def _d4_patch() -> Problem:
    # D4 acting on a 3x3 patch by rotations and reflections of the grid
    rot = [6, 3, 0, 7, 4, 1, 8, 5, 2]
    ref = [2, 1, 0, 5, 4, 3, 8, 7, 6]
    G = groups.from_generators([rot, ref])
    return Problem(G, reps.permutation(G), reps.trivial(G), units.neuron(9, 1, "relu"))


def _so2_neuron() -> Problem:
    G = groups.so2()
    return Problem(G, reps.defining(G), reps.trivial(G), units.neuron(2, 1, "tanh"))


BUILTINS: dict[str, tuple[str, Callable[[], Problem]]] = {
    "c2-matrix-unit": ("the paper's C2 teacher-student unit sigma(z x), z in R^{2x2}", _c2_matrix),
    "c2-neuron": ("C2 swapping two inputs, neuron a*tanh(w.x + b)", _c2_neuron),
    "s3-neuron": ("S3 permuting three inputs, invariant neuron", _s3_neuron),
    "d4-patch": ("D4 on a 3x3 image patch, invariant ReLU neuron", _d4_patch),
    "so2-neuron": ("SO(2) rotating R^2 inputs, invariant neuron", _so2_neuron),
}


def builtin_problem(name: str) -> Problem:
    try:
        return BUILTINS[name][1]()
    except KeyError:
        raise InputError(f"unknown problem {name!r}; built-in problems: {', '.join(BUILTINS)}") from None
