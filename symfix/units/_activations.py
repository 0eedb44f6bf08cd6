"""Named activations, usable on numpy arrays and torch tensors alike."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

__all__ = ["resolve_activation", "resolve_forward_backward", "is_torch", "ACTIVATIONS", "ODD", "ENTRYWISE"]

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


# Closed-form backward passes for the trainer (torch only): ``forward(pre)`` returns the value
# h = σ(pre) (possibly computed in place, ``pre`` is then consumed) and ``backward(u)`` returns
# u ⊙ σ'(pre), using torch's fused kernels where they exist; ``u`` may be a broadcast (expanded)
# view and is never written to.


def _fwd_bwd_tanh(pre: Any) -> tuple[Any, Callable[[Any], Any]]:
    import torch

    h = pre.tanh_()
    return h, lambda u: torch.ops.aten.tanh_backward(u, h)


def _fwd_bwd_sigmoid(pre: Any) -> tuple[Any, Callable[[Any], Any]]:
    import torch

    h = pre.sigmoid_()
    return h, lambda u: torch.ops.aten.sigmoid_backward(u, h)


def _fwd_bwd_relu(pre: Any) -> tuple[Any, Callable[[Any], Any]]:
    import torch

    h = pre.relu_()
    return h, lambda u: torch.ops.aten.threshold_backward(u, h, 0.0)


def _fwd_bwd_identity(pre: Any) -> tuple[Any, Callable[[Any], Any]]:
    return pre, lambda u: u


def _fwd_bwd_softplus(pre: Any) -> tuple[Any, Callable[[Any], Any]]:
    import torch

    h = torch.nn.functional.softplus(pre)
    return h, lambda u: u * pre.sigmoid()


def _fwd_bwd_sin(pre: Any) -> tuple[Any, Callable[[Any], Any]]:
    h = pre.sin()
    return h, lambda u: u * pre.cos()


_FWD_BWD: dict[str, Callable[[Any], tuple[Any, Callable[[Any], Any]]]] = {
    "sigmoid": _fwd_bwd_sigmoid,
    "tanh": _fwd_bwd_tanh,
    "relu": _fwd_bwd_relu,
    "identity": _fwd_bwd_identity,
    "softplus": _fwd_bwd_softplus,
    "sin": _fwd_bwd_sin,
}


# For the ensemble kernels: ``value_and_derivative(pre)`` returns h = σ(pre) and σ'(pre) as a
# new tensor (``pre`` may be consumed), one fused pass each where the derivative is a function of h.


def _vd_sigmoid(pre: Any) -> tuple[Any, Any]:
    import torch

    h = pre.sigmoid_()
    return h, torch.addcmul(h, h, h, value=-1.0)  # h − h²


def _vd_tanh(pre: Any) -> tuple[Any, Any]:
    import torch

    h = pre.tanh_()
    return h, torch.addcmul(h.new_ones(()), h, h, value=-1.0)  # 1 − h²


def _vd_relu(pre: Any) -> tuple[Any, Any]:
    h = pre.relu_()
    return h, (h > 0).to(h.dtype)


def _vd_identity(pre: Any) -> tuple[Any, Any]:
    return pre, pre.new_ones(()).expand(pre.shape)


def _vd_softplus(pre: Any) -> tuple[Any, Any]:
    import torch

    return torch.nn.functional.softplus(pre), pre.sigmoid()


def _vd_sin(pre: Any) -> tuple[Any, Any]:
    return pre.sin(), pre.cos()


_VALUE_DERIV: dict[str, Callable[[Any], tuple[Any, Any]]] = {
    "sigmoid": _vd_sigmoid,
    "tanh": _vd_tanh,
    "relu": _vd_relu,
    "identity": _vd_identity,
    "softplus": _vd_softplus,
    "sin": _vd_sin,
}


def resolve_value_and_derivative(act: Any) -> Callable[[Any], tuple[Any, Any]] | None:
    """The closed-form (σ(pre), σ'(pre)) map for a named activation; None for a callable."""
    return _VALUE_DERIV.get(act) if isinstance(act, str) else None


def resolve_forward_backward(act: Any) -> Callable[[Any], tuple[Any, Callable[[Any], Any]]] | None:
    """The closed-form (forward, backward) pair for a named activation; None for a callable
    (the trainer then differentiates it with autograd)."""
    return _FWD_BWD.get(act) if isinstance(act, str) else None
