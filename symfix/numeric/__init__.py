"""Numeric stage (torch): mean-field SGD under vanilla, DA, FA and EA schemes."""

from ._train import SCHEMES, TrainResult, train

__all__ = ["train", "TrainResult", "SCHEMES"]
