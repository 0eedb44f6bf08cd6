"""Representations: ``trivial``, ``permutation``, ``defining``, ``regular``, ``from_images``,
``hom``; ``+`` direct sum, ``*`` tensor product, ``.dual``, ``>>`` Hom."""

from .symbolic.reps import *  # noqa: F401,F403
from .symbolic.reps import __all__  # noqa: F401
