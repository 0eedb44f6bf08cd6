"""Networks described by a ``[network]`` table of a spec file (the ``symfix symmetries`` command).

    [network]
    widths = [64, 128, 128, 10]   # input, hidden widths, output
    activation = "relu"           # relu, leaky_relu, tanh, sigmoid, gelu, silu, softplus, identity
    batchnorm = false             # BatchNorm1d after every hidden Linear
    bias = true
"""

from __future__ import annotations

import difflib
from typing import Any

from torch import nn

from .._errors import InputError

__all__ = ["network", "NETWORK_SPECS"]

_ACTS = {"relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU,
         "silu": nn.SiLU, "softplus": nn.Softplus, "identity": nn.Identity}
_KEYS = ("widths", "activation", "batchnorm", "bias")

NETWORK_SPECS: dict[str, str] = {
    "mlp-relu": """
description = "ReLU MLP 64-128-128-10 (permutations and positive rescalings per hidden neuron)"
[network]
widths = [64, 128, 128, 10]
activation = "relu"
""",
    "mlp-tanh-bn": """
description = "tanh MLP 16-32-32-4 with BatchNorm (permutations, sign flips, BatchNorm scale invariance)"
[network]
widths = [16, 32, 32, 4]
activation = "tanh"
batchnorm = true
""",
}


def network(table: Any, where: str = "<spec>") -> nn.Module:
    """An ``nn.Sequential`` MLP from a ``[network]`` table (module docstring); float64."""
    if not isinstance(table, dict):
        raise InputError(f"{where}: 'network' must be a table ([network])")
    for k in table:
        if k not in _KEYS:
            near = difflib.get_close_matches(str(k), _KEYS, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise InputError(f"{where}: unknown key 'network.{k}'{hint}; keys: {', '.join(_KEYS)}")
    widths = table.get("widths")
    if (not isinstance(widths, list) or len(widths) < 2
            or not all(isinstance(w, int) and not isinstance(w, bool) and 1 <= w <= 100_000 for w in widths)):
        raise InputError(f"{where}: 'network.widths' must list at least two integers in 1..100000 "
                         f"(input, hidden widths, output), got {widths!r}")
    act = table.get("activation", "relu")
    if act not in _ACTS:
        raise InputError(f"{where}: unknown 'network.activation = {act!r}'; choose one of {', '.join(_ACTS)}")
    bn, bias = table.get("batchnorm", False), table.get("bias", True)
    if not isinstance(bn, bool) or not isinstance(bias, bool):
        raise InputError(f"{where}: 'network.batchnorm' and 'network.bias' must be true or false")
    layers: list[nn.Module] = []
    for k, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(nn.Linear(a, b, bias=bias))
        if k < len(widths) - 2:
            if bn:
                layers.append(nn.BatchNorm1d(b))
            layers.append(_ACTS[act]())
    return nn.Sequential(*layers).double()
