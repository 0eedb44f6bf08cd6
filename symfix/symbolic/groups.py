"""Public group constructors (see :mod:`symfix.symbolic._groups`)."""

from ._groups import (
    FiniteGroup,
    Group,
    LieGroup,
    alternating,
    cyclic,
    dihedral,
    direct_product,
    from_generators,
    orthogonal,
    special_orthogonal,
    so2,
    so3,
    symmetric,
)
from ._noncompact import NoncompactLieGroup, lorentz, symplectic

__all__ = [
    "Group", "FiniteGroup", "LieGroup", "cyclic", "dihedral", "symmetric", "alternating",
    "direct_product", "from_generators", "so2", "so3", "orthogonal", "special_orthogonal",
    "NoncompactLieGroup", "lorentz", "symplectic",
]
