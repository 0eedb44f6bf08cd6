"""Numeric stage (torch): mean-field SGD under vanilla, DA, FA and EA schemes (one run, an
ensemble of runs in one tensor, or particles split over torch.distributed processes), initial laws and
distances between particle laws; multilayer mean-field networks (MFNetwork) and their trainer
and diagnostics."""

from ._init import gaussian, nested, strongly_invariant, weakly_invariant
from ._fits import ExponentFit, exponent_fit
from ._mfdiag import PermutationDistance, coupling_distance, diversity, permutation_distance
from ._mfnet import ACTIVATIONS, EMBEDDINGS, MFNetwork, degenerate_layers
from ._mftrain import NetworkTrainResult, network_step, train_network
from ._metrics import Distance, escape, population_risk, rmd, same_n_floor, w2, wi_distance
from ._step import Trainer, TrainState
from ._train import SCHEMES, Checkpoint, TrainingError, TrainResult, gather_particles, threads_for, train

__all__ = [
    "train",
    "TrainResult",
    "Checkpoint",
    "TrainingError",
    "SCHEMES",
    "Trainer",
    "TrainState",
    "gather_particles",
    "threads_for",
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
    "MFNetwork",
    "ACTIVATIONS",
    "EMBEDDINGS",
    "degenerate_layers",
    "train_network",
    "network_step",
    "NetworkTrainResult",
    "diversity",
    "permutation_distance",
    "PermutationDistance",
    "coupling_distance",
    "exponent_fit",
    "ExponentFit",
]
