"""Public representation constructors (see :mod:`symfix.symbolic._reps`)."""

from ._reps import (
    Intertwiners,
    Rep,
    defining,
    direct_sum,
    from_images,
    hom,
    intertwiners,
    permutation,
    regular,
    tensor,
    trivial,
)

__all__ = [
    "Rep", "trivial", "permutation", "defining", "regular", "from_images", "direct_sum", "tensor",
    "hom", "intertwiners", "Intertwiners",
]
