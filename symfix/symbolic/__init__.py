"""Exact symbolic stage: groups, representations and fixed-point subspaces (imports no torch)."""

from . import groups, reps
from ._exact import SignedPerm
from ._fixed import FixedSubspace, fixed_point_subspace
from ._reps import Intertwiners, intertwiners

__all__ = ["groups", "reps", "SignedPerm", "FixedSubspace", "fixed_point_subspace", "Intertwiners", "intertwiners"]
