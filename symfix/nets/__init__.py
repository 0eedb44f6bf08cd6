"""Whole networks: the parameter-space symmetry group of a torch model, verified and put to use.

``symmetries(module)`` traces a model with ``torch.fx`` and returns its group (hidden-neuron
permutations, sign flips behind odd activations, positive rescalings behind homogeneous ones,
GL(n) between linear maps, scale invariance before BatchNorm); ``align``, ``canonicalize`` and
``barrier`` put it to use for weight matching and linear mode connectivity.
"""

from ._align import Barrier, Matching, align, barrier, canonicalize, match
from ._build import NETWORK_SPECS, network
from ._element import NetElement
from ._graph import SUPPORTED
from ._noether import NoetherMonitor
from ._teleport import Teleport, teleport
from ._unit_charges import UnitCharges, unit_charges
from ._group import HiddenSpace, LieAlgebra, NetSymmetries, symmetries
from ._params import flat_params, load_flat
from ._verify import FunctionalDimension, SymmetryCheck

__all__ = [
    "symmetries",
    "NetSymmetries",
    "NetElement",
    "HiddenSpace",
    "LieAlgebra",
    "SymmetryCheck",
    "FunctionalDimension",
    "align",
    "match",
    "Matching",
    "canonicalize",
    "barrier",
    "Barrier",
    "SUPPORTED",
    "NoetherMonitor",
    "teleport",
    "Teleport",
    "unit_charges",
    "UnitCharges",
    "flat_params",
    "load_flat",
    "network",
    "NETWORK_SPECS",
]
