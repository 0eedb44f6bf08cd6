"""symfix: symmetry analysis of neural networks in the mean-field view.

Exact group representations on parameter spaces and their fixed-point subspaces E^G
(Maass & Fontbona, NeurIPS 2024, arXiv 2405.19995).
"""

import importlib

from . import groups, reps, specs, testing, units
from ._errors import EquivarianceError, GroupError, InputError, RepresentationError, SymfixError
from ._problem import EquivarianceReport, Problem
from .specs import Spec, load_spec
from .symbolic import FixedSubspace, SignedPerm, fixed_point_subspace, intertwiners

__version__ = "0.1.0"

_SUBPACKAGES = ("symbolic", "numeric", "nets", "discovery", "export")
_LAZY = {"train": "numeric", "TrainingError": "numeric", "certify": "discovery", "discover": "discovery",
         "SolverError": "discovery"}


def __getattr__(name: str):  # lazy: the numeric stage imports torch, discovery cvxpy
    if name in _SUBPACKAGES:
        return importlib.import_module(f".{name}", __name__)
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'symfix' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | set(_SUBPACKAGES))


__all__ = [
    "groups",
    "reps",
    "units",
    "testing",
    "specs",
    "Spec",
    "load_spec",
    "TrainingError",
    "SolverError",
    "Problem",
    "train",
    "certify",
    "discover",
    "EquivarianceReport",
    "fixed_point_subspace",
    "FixedSubspace",
    "SignedPerm",
    "intertwiners",
    "SymfixError",
    "InputError",
    "GroupError",
    "RepresentationError",
    "EquivarianceError",
]
