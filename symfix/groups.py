"""Groups: ``cyclic``, ``dihedral``, ``symmetric``, ``alternating``, ``direct_product``,
``from_generators``, ``so2``, ``so3``, ``orthogonal``, ``special_orthogonal``."""

from .symbolic.groups import *  # noqa: F401,F403
from .symbolic.groups import __all__  # noqa: F401
