"""A module's parameters as one flat float64 vector (the order of ``module.parameters()``)."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

__all__ = ["clone_module", "flat_params", "load_flat"]


def clone_module(module: Any) -> Any:
    """A deep copy; torch's own FutureWarning on copying torch.export modules is silenced."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return copy.deepcopy(module)


def flat_params(module: Any) -> np.ndarray:
    """The float64 flat vector of ``module.parameters()`` in order."""
    parts = [p.detach().cpu().double().reshape(-1).numpy() for p in module.parameters()]
    return np.concatenate(parts) if parts else np.zeros(0)


def load_flat(module: Any, theta: np.ndarray) -> None:
    """Write a flat vector into ``module``'s parameters (cast to each parameter's dtype)."""
    import torch

    off = 0
    with torch.no_grad():
        for p in module.parameters():
            n = p.numel()
            p.copy_(torch.as_tensor(theta[off:off + n]).reshape(p.shape).to(p.dtype))
            off += n
