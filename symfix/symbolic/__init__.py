"""Exact symbolic stage: groups, representations and fixed-point subspaces (imports no torch)."""

from . import groups, reps
from ._exact import SignedPerm
from ._fixed import FixedSubspace, dense_orthonormal, fixed_point_subspace
from ._reps import Intertwiners, intertwiners

__all__ = ["groups", "reps", "SignedPerm", "FixedSubspace", "dense_orthonormal", "fixed_point_subspace", "Intertwiners", "intertwiners"]
