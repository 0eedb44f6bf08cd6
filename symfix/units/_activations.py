"""Named activations, usable on numpy arrays and torch tensors alike."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

__all__ = ["resolve_activation", "is_torch", "ACTIVATIONS", "ODD", "ENTRYWISE"]

ACTIVATIONS = ("sigmoid", "tanh", "relu", "identity", "softplus", "sin")
ODD = frozenset({"tanh", "identity", "sin"})
ENTRYWISE = frozenset(ACTIVATIONS)


def is_torch(x: Any) -> bool:
    """True for torch tensors (checked without importing torch)."""
    return type(x).__module__.startswith("torch")


def _sigmoid(x: Any) -> Any:
    if is_torch(x):
        return x.sigmoid()
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _tanh(x: Any) -> Any:
    return x.tanh() if is_torch(x) else np.tanh(x)


def _relu(x: Any) -> Any:
    return x.clamp_min(0) if is_torch(x) else np.maximum(x, 0)


def _identity(x: Any) -> Any:
    return x


def _softplus(x: Any) -> Any:
    if is_torch(x):
        import torch

        return torch.nn.functional.softplus(x)
    return np.logaddexp(0.0, x)


def _sin(x: Any) -> Any:
    return x.sin() if is_torch(x) else np.sin(x)


_TABLE: dict[str, Callable[[Any], Any]] = {
    "sigmoid": _sigmoid,
    "tanh": _tanh,
    "relu": _relu,
    "identity": _identity,
    "softplus": _softplus,
    "sin": _sin,
}


def resolve_activation(act: Any) -> Callable[[Any], Any]:
    """Return the function for a name in :data:`ACTIVATIONS`, or ``act`` itself if callable."""
    from .._errors import InputError

    if isinstance(act, str):
        try:
            return _TABLE[act]
        except KeyError:
            raise InputError(f"unknown activation {act!r}; choose one of {', '.join(ACTIVATIONS)} or pass a callable") from None
    if callable(act):
        return act
    raise InputError(f"activation must be a name ({', '.join(ACTIVATIONS)}) or a callable, got {type(act).__name__}")
