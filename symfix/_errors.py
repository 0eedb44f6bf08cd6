"""The symfix exception hierarchy.

Every error that symfix raises on bad input is a :class:`SymfixError`. Its message says what was
wrong and how to fix it.
"""

from __future__ import annotations

__all__ = [
    "SymfixError",
    "InputError",
    "GroupError",
    "RepresentationError",
    "EquivarianceError",
]


class SymfixError(Exception):
    """Base class of every error symfix raises on purpose."""


class InputError(SymfixError, ValueError):
    """Malformed input: wrong shape, wrong type, non-square or mismatched matrices."""


class GroupError(SymfixError, ValueError):
    """A group cannot be built: singular generators, no closure within the size cap."""


class RepresentationError(SymfixError, ValueError):
    """A representation is not a homomorphism, not orthogonal, or has the wrong dimension."""


class EquivarianceError(SymfixError, AssertionError):
    """A unit or function is not equivariant for the given representations."""
