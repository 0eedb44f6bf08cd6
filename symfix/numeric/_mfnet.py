r"""Multilayer mean-field networks (Nguyen & Pham) and their neuronal embeddings.

With widths ``(d, n_1, ..., n_{L-1}, n_L)`` (input, hidden layers, output) and activation φ,

.. math::

    H_1(x, j_1) = ⟨w_1(j_1), x⟩,\qquad
    H_ℓ(x, j_ℓ) = \frac{1}{n_{ℓ-1}} \sum_{j_{ℓ-1}} w_ℓ(j_{ℓ-1}, j_ℓ)\, φ(H_{ℓ-1}(x, j_{ℓ-1})),
    \quad ℓ = 2..L,\qquad \hat y(x) = φ_L(H_L(x)).

``L`` is the depth (number of weight layers); ``weights[ℓ-1]`` holds w_ℓ with shape
(n_ℓ, n_{ℓ-1}) (rows: the neurons the weights feed).

**Neuronal embeddings.** Initial weights are fixed functions of latent neuron variables drawn
i.i.d., so that networks of every width sampled from one embedding are coupled to one limit; the
latents are *nested*: neuron j of a layer has the same latent at every width, so a wider network
contains the narrower one's neurons.

- ``"iid"``: w_1(j) ~ N(0, I_d / d); for ℓ ≥ 2 every entry w_ℓ(j', j) ~ N(mean, std²)
  independently (the latent of neuron j is the sequence of its incoming weights).
- ``"correlated"``: the latent of a first-layer neuron is z ~ N(0, I_d), with w_1 = z / √d and
  position s_1 = Σ_k z_k / √d; a neuron of layer ℓ ≥ 2 (and each output) has a position
  s_ℓ ~ N(0, 1); and w_ℓ(j', j) = mean + std · s_ℓ(j) (1 + s_{ℓ-1}(j')) / √2, a smooth function of
  both latents with the same mean and variance as the i.i.d. entries. Then
  H_ℓ(x, j) = mean · m(x) + std · s_ℓ(j) (m(x) + b(x)) / √2 with m = E φ(H_{ℓ-1}) and
  b = E[s_{ℓ-1} φ(H_{ℓ-1})]: the index dependence does not fade with depth. (The plain product
  s_{ℓ-1} s_ℓ would carry only b, which shrinks by about std · max φ' per layer.)

**Which layers degenerate under i.i.d. initialisation.** Write m_ℓ for the layer mean. For ℓ ≥ 2
the sum over j_{ℓ-1} is an average of n_{ℓ-1} terms in which the column w_ℓ(·, j_ℓ) is
independent of everything else, so by the law of large numbers
H_ℓ(x, j_ℓ) → mean · E_j φ(H_{ℓ-1}(x, j)), with fluctuations O(n^{-1/2}) that depend on j_ℓ:
*at initialisation every hidden layer ℓ = 2..L-1 is degenerate*, and its diversity D_ℓ (the share
of E_x ||H_ℓ(x)||² off the all-equal vectors) decays like 1/n. Layer 1 is not:
H_1(x, j) = ⟨w_1(j), x⟩ keeps its own weights.

Training uses the scaled backward quantities Δ_L = ∂_{H_L} loss, Δ_{L-1}(x, j) = φ'(H_{L-1}(x, j))
Σ_k w_L(j, k) Δ_L(x, k) and, for ℓ ≤ L-2, Δ_ℓ(x, j) = φ'(H_ℓ(x, j)) (1/n_{ℓ+1}) Σ_{j'} w_{ℓ+1}(j, j')
Δ_{ℓ+1}(x, j'); the weights move by -η E_x[Δ_ℓ(x, j_ℓ) φ(H_{ℓ-1}(x, j_{ℓ-1}))].

- The last hidden layer L-1 sums over the *finite* output, so Δ_{L-1}(·, j) depends on j through
  w_L(j, ·): training gives layer L-1 an index dependence it did not have at initialisation.
  For L ≥ 4, its input layer L-2 is degenerate (all φ(H_{L-2}(x, j')) equal one function h(x)),
  so H_{L-1}(x, j) = a_t(j) h(x): diverse, but every neuron a multiple of one function.
  For L = 3 (input layer 1 diverse) it becomes genuinely diverse.
- A middle layer 2 ≤ ℓ ≤ L-2 (exists for L ≥ 4) averages over n_{ℓ+1} → ∞ neurons in Δ_ℓ, so
  Δ_ℓ(x, j) → φ'(H_ℓ(x)) · mean · E_{j'} Δ_{ℓ+1}(x, j') is index-free; the updates of
  w_ℓ(·, j) are then the same for every j, and the layer *stays* degenerate for all time.
- Layer 1 stays diverse (its weights and updates carry its own index).

So :func:`degenerate_layers` returns 2..L-1 at initialisation and 2..L-2 after training: the
first nontrivial loss of diversity at all times needs L ≥ 4, as in Nguyen & Pham. In symfix's
language, the law of a degenerate layer's neurons sits in the fixed set of that layer's neuron
permutations (:func:`symfix.numeric.diversity` measures the distance to it through the group's
fixed-point subspace). With the correlated embedding no layer degenerates.

**Caveat.** With an odd activation (tanh) the degenerate limit E_j φ(H_1(x, j)) is the zero
function (w_1 is symmetric), so D_ℓ compares fluctuations with fluctuations and stays O(1):
the layer is degenerate (all neurons compute ≈ 0) but the ratio cannot show it. Use an
activation with nonzero mean (``sigmoid``, ``relu``) to see the decay.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from .._errors import InputError
from .._validate import items
from ._train import _resolve

__all__ = ["MFNetwork", "ACTIVATIONS", "EMBEDDINGS", "degenerate_layers"]

ACTIVATIONS = ("tanh", "sigmoid", "relu", "identity")
EMBEDDINGS = ("iid", "correlated")
MAX_WIDTH = 10**7
MAX_ENTRIES = 5 * 10**8  # 4 GB of float64 weights


def degenerate_layers(depth: int, *, trained: bool) -> tuple[int, ...]:
    """Hidden layers (1-based) whose neurons all compute one function in the i.i.d. mean-field
    limit, at initialisation (``trained=False``: 2..L-1) or during training (``True``: 2..L-2);
    see the module docstring for the derivation.

    >>> degenerate_layers(4, trained=False), degenerate_layers(4, trained=True)
    ((2, 3), (2,))
    >>> degenerate_layers(3, trained=True)
    ()
    """
    if not isinstance(depth, int) or isinstance(depth, bool) or depth < 2:
        raise InputError(f"depth must be an int >= 2 (number of weight layers), got {depth!r}")
    return tuple(range(2, depth - 1 if trained else depth))


def activation(name: str) -> tuple[Any, Any]:
    """(φ, φ') as torch functions; φ' takes (h, φ(h)) so that tanh and sigmoid reuse φ(h)."""
    import torch

    table = {
        "tanh": (torch.tanh, lambda h, a: 1.0 - a * a),
        "sigmoid": (torch.sigmoid, lambda h, a: a * (1.0 - a)),
        "relu": (torch.relu, lambda h, a: (h > 0).to(h.dtype)),
        "identity": (lambda h: h, lambda h, a: torch.ones_like(h)),
    }
    return table[name]


def _check_widths(widths: Any) -> tuple[int, ...]:
    ws = tuple(items(widths, "widths", "a list of ints (input, hidden..., output), e.g. [64, 128, 128, 10]"))
    if len(ws) < 3:
        raise InputError(f"widths needs the input dimension, at least one hidden width and the output dimension; got {ws!r}")
    for w in ws:
        if not isinstance(w, (int, np.integer)) or isinstance(w, bool) or not 1 <= w <= MAX_WIDTH:
            raise InputError(f"every width must be an int between 1 and {MAX_WIDTH}; got {w!r} in {ws!r}")
    ws = tuple(int(w) for w in ws)
    entries = sum(a * b for a, b in zip(ws, ws[1:]))
    if entries > MAX_ENTRIES:
        raise InputError(f"widths {ws!r} need {entries:.3g} weights, more than the {MAX_ENTRIES:.0e} symfix builds; use smaller widths")
    return ws


def _check_choice(value: Any, options: Sequence[str], what: str) -> str:
    if not isinstance(value, str) or value not in options:
        raise InputError(f"unknown {what} {value!r}; choose one of {', '.join(options)}")
    return value


def _check_number(value: Any, name: str, *, positive: bool = False) -> float:
    if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, bool) or not math.isfinite(value):
        raise InputError(f"{name} must be a finite number, got {value!r}")
    if positive and value <= 0:
        raise InputError(f"{name} must be > 0, got {value!r}")
    return float(value)


class MFNetwork:
    """A multilayer mean-field network sampled from a neuronal embedding (module docstring).

    Parameters
    ----------
    widths : sequence of int
        (d, n_1, ..., n_{L-1}, n_L): input dimension, hidden widths, output dimension; depth
        L = len(widths) - 1 >= 2.
    activation : {"tanh", "sigmoid", "relu", "identity"}
        φ of the hidden layers.
    embedding : {"iid", "correlated"}
    seed : int >= 0
        Seeds the latents; the same seed gives the same weights, and :meth:`resample` keeps it.
    output_activation : φ_L (default identity)
    mean, std : mean and standard deviation of the weights of layers 2..L (both embeddings)
    dtype, device : torch dtype (float64 default, or float32) and device (CPU default)

    Attributes
    ----------
    weights : list of torch tensors; ``weights[0]`` (n_1, d), ``weights[ℓ]`` (n_{ℓ+1}, n_ℓ)

    Examples
    --------
    >>> net = MFNetwork([3, 16, 16, 16, 1], "sigmoid", "iid", seed=0)
    >>> [tuple(w.shape) for w in net.weights]
    [(16, 3), (16, 16), (16, 16), (1, 16)]
    >>> wide = net.resample([3, 64, 64, 64, 1])
    >>> bool((wide.weights[1][:16, :16] == net.weights[1]).all())  # nested latents
    True
    """

    def __init__(
        self,
        widths: Sequence[int],
        activation: str,
        embedding: str = "iid",
        *,
        seed: int = 0,
        output_activation: str = "identity",
        mean: float = 1.0,
        std: float = 1.0,
        dtype: Any = None,
        device: Any = None,
    ) -> None:
        import torch

        self.widths = _check_widths(widths)
        self.activation = _check_choice(activation, ACTIVATIONS, "activation")
        self.output_activation = _check_choice(output_activation, ACTIVATIONS, "output_activation")
        self.embedding = _check_choice(embedding, EMBEDDINGS, "embedding")
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
            raise InputError(f"seed must be an int >= 0, got {seed!r}")
        self.seed = int(seed)
        self.mean = _check_number(mean, "mean")
        self.std = _check_number(std, "std")
        if self.std < 0:
            raise InputError(f"std must be >= 0, got {std!r}")
        self.dtype, self.device = _resolve(dtype, device)
        self.weights = [torch.as_tensor(w, dtype=self.dtype, device=self.device) for w in self._embed()]

    @property
    def depth(self) -> int:
        """L, the number of weight layers."""
        return len(self.widths) - 1

    def _settings(self) -> dict:
        return {"activation": self.activation, "embedding": self.embedding, "seed": self.seed,
                "output_activation": self.output_activation, "mean": self.mean, "std": self.std}

    def _embed(self) -> list[np.ndarray]:
        """The initial weights in float64 (module docstring); every random stream is keyed by
        (seed, layer, kind[, neuron]) so prefixes agree across widths."""
        ws, L, seed = self.widths, self.depth, self.seed

        def stream(*key: int) -> np.random.Generator:
            return np.random.default_rng([seed, *key])

        d, n1 = ws[0], ws[1]
        z = stream(1, 0).standard_normal((n1, d))  # rows are filled in order: nested in n_1
        out = [z / math.sqrt(d)]
        if self.embedding == "iid":
            for ell in range(2, L + 1):
                rows = [stream(ell, 1, j).standard_normal(ws[ell - 1]) for j in range(ws[ell])]
                out.append(self.mean + self.std * np.stack(rows))
            return out
        s_prev = z.sum(axis=1) / math.sqrt(d)
        for ell in range(2, L + 1):
            s = stream(ell, 0).standard_normal(ws[ell])
            out.append(self.mean + self.std * np.outer(s, 1.0 + s_prev) / math.sqrt(2.0))
            s_prev = s
        return out

    @classmethod
    def _from_weights(cls, like: "MFNetwork", weights: Sequence[Any]) -> "MFNetwork":
        """A network with ``like``'s settings and the given weights (tensors, not copied)."""
        net = cls.__new__(cls)
        net.__dict__.update({k: v for k, v in like.__dict__.items() if k != "weights"})
        net.weights = list(weights)
        return net

    def resample(self, widths: Sequence[int]) -> "MFNetwork":
        """The same embedding (settings, seed) at other widths; input and output dimensions and
        the depth must stay. Neuron j of every layer keeps its latent, so the narrower network's
        weights are the leading block of the wider one's.
        """
        ws = _check_widths(widths)
        if len(ws) != len(self.widths) or ws[0] != self.widths[0] or ws[-1] != self.widths[-1]:
            raise InputError(f"resample keeps the depth, input and output dimensions: widths must look like "
                             f"[{self.widths[0]}, ..., {self.widths[-1]}] with {len(self.widths)} entries; got {list(ws)}")
        return MFNetwork(ws, self.activation, self.embedding, seed=self.seed, output_activation=self.output_activation,
                         mean=self.mean, std=self.std, dtype=self.dtype, device=self.device)

    def to(self, dtype: Any = None, device: Any = None) -> "MFNetwork":
        """A copy in another dtype and/or on another device."""
        dt, dev = _resolve(dtype if dtype is not None else self.dtype, device if device is not None else self.device)
        net = MFNetwork._from_weights(self, [w.to(dtype=dt, device=dev, copy=True) for w in self.weights])
        net.dtype, net.device = dt, dev
        return net

    def input(self, x: Any, name: str = "x") -> Any:
        """``x`` as a (B, d) tensor of the network's dtype and device, validated."""
        return as_matrix(x, self.widths[0], self.dtype, self.device, name)

    def hidden(self, x: Any) -> list:
        """[H_1(x), ..., H_L(x)]: pre-activations of every layer, shapes (B, n_ℓ); the last one is
        the output before φ_L."""
        import torch

        with torch.no_grad():
            return layers(self, self.weights, self.input(x))[0]

    def forward(self, x: Any) -> Any:
        """ŷ(x) = φ_L(H_L(x)), shape (B, n_L)."""
        import torch

        with torch.no_grad():
            return layers(self, self.weights, self.input(x))[1][-1]

    __call__ = forward

    def flat(self) -> np.ndarray:
        """All weights as one float64 vector (layer by layer, row-major)."""
        return np.concatenate([w.detach().cpu().double().numpy().ravel() for w in self.weights])

    def __repr__(self) -> str:
        return (f"MFNetwork({list(self.widths)}, {self.activation!r}, {self.embedding!r}, seed={self.seed}, "
                f"dtype={str(self.dtype).replace('torch.', '')})")


def layers(net: "MFNetwork", weights: Sequence[Any], x: Any) -> tuple[list, list]:
    """The forward rule, once for every caller: (H_1..H_L, A_0..A_L) with A_0 = x,
    H_1 = x W_1ᵀ, H_ℓ = A_{ℓ-1} W_ℓᵀ / n_{ℓ-1}, A_ℓ = φ(H_ℓ) and A_L = φ_L(H_L). With a leading
    run axis (weights (R, n_ℓ, n_{ℓ-1}), x (R, B, d)) the products are batched over runs."""
    phi, phi_out = activation(net.activation)[0], activation(net.output_activation)[0]
    hs, acts = [], [x]
    for ell, w in enumerate(weights):
        h = acts[-1] @ w.transpose(-1, -2)
        if ell:
            h.div_(acts[-1].shape[-1])
        hs.append(h)
        acts.append(phi(h) if ell < len(weights) - 1 else phi_out(h))
    return hs, acts


def as_matrix(x: Any, d: int, dtype: Any, device: Any, name: str) -> Any:
    """Validate a (B, d) array of finite numbers and return it as a tensor (a detached copy
    when the input requires grad)."""
    import torch

    if isinstance(x, torch.Tensor):
        t = x.detach()
    else:
        try:
            t = torch.as_tensor(np.asarray(x, dtype=np.float64))
        except (TypeError, ValueError, OverflowError):
            raise InputError(f"{name} must be a numeric array of shape (B, {d})") from None
    if t.ndim != 2 or t.shape[1] != d or t.shape[0] == 0:
        raise InputError(f"{name} must have shape (B, {d}) with B >= 1, got {tuple(t.shape)}")
    if t.is_complex() or t.dtype == torch.bool:
        raise InputError(f"{name} must be real numbers, got dtype {t.dtype}")
    t = t.to(dtype=dtype, device=device)
    if not bool(torch.isfinite(t).all()):
        raise InputError(f"{name} contains NaN or inf")
    return t
