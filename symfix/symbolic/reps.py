"""Public representation constructors (see :mod:`symfix.symbolic._reps`)."""

from ._reps import (
    Intertwiners,
    Rep,
    defining,
    direct_sum,
    factor,
    from_images,
    hom,
    intertwiners,
    permutation,
    regular,
    tensor,
    trivial,
)

__all__ = [
    "Rep", "factor", "trivial", "permutation", "defining", "regular", "from_images", "direct_sum", "tensor",
    "hom", "intertwiners", "Intertwiners",
]
