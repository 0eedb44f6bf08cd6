"""Unit architectures: ``neuron``, ``matrix_unit``, ``mlp`` (torch is imported only to evaluate)."""

from ._activations import ACTIVATIONS
from ._units import MLP, MatrixUnit, Neuron, Unit, matrix_unit, mlp, neuron

__all__ = ["Unit", "Neuron", "MatrixUnit", "MLP", "neuron", "matrix_unit", "mlp", "ACTIVATIONS"]
