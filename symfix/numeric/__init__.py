"""Numeric stage (torch): mean-field SGD under vanilla, DA, FA and EA schemes, initial laws and
distances between particle laws."""

from ._init import gaussian, nested, strongly_invariant, weakly_invariant
from ._metrics import Distance, escape, population_risk, rmd, same_n_floor, w2, wi_distance
from ._train import SCHEMES, Checkpoint, TrainingError, TrainResult, train

__all__ = [
    "train",
    "TrainResult",
    "Checkpoint",
    "TrainingError",
    "SCHEMES",
    "gaussian",
    "strongly_invariant",
    "weakly_invariant",
    "nested",
    "escape",
    "w2",
    "rmd",
    "wi_distance",
    "same_n_floor",
    "population_risk",
    "Distance",
]
