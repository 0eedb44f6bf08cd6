"""symfix: symmetry analysis of neural networks in the mean-field view.

Exact group representations on parameter spaces and their fixed-point subspaces E^G
(Maass & Fontbona, NeurIPS 2024, arXiv 2405.19995).
"""

from . import groups, reps, testing, units
from ._errors import EquivarianceError, GroupError, InputError, RepresentationError, SymfixError
from ._problem import EquivarianceReport, Problem
from .symbolic import FixedSubspace, SignedPerm, fixed_point_subspace, intertwiners

__version__ = "0.1.0"


def __getattr__(name: str):  # lazy: the numeric stage imports torch
    if name == "train":
        from .numeric import train

        return train
    if name in ("certify", "discover"):  # cvxpy and torch are imported only when used
        from . import discovery

        return getattr(discovery, name)
    raise AttributeError(f"module 'symfix' has no attribute {name!r}")


__all__ = [
    "groups",
    "reps",
    "units",
    "testing",
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
