r"""Mean-field SGD for :class:`MFNetwork`, with the per-layer step sizes of Nguyen & Pham.

Loss L = mean_b ||ŷ(x_b) − y_b||². The raw gradient of a weight of layer ℓ is O(1/n²) in the
middle of the network, so each layer's step is rescaled to move every weight O(1): the first
layer's gradient times n_1, a middle layer's times n_{ℓ−1} n_ℓ, the last layer's times n_{L−1}.
In the scaled backward quantities Δ_ℓ = n_ℓ ∂L/∂H_ℓ (Δ_L = ∂L/∂H_L) every update has one form,

    Δ_L = (2/B) (ŷ − y) ⊙ φ_L'(H_L),
    Δ_{L−1} = (Δ_L W_L) ⊙ φ'(H_{L−1}),     Δ_ℓ = (Δ_{ℓ+1} W_{ℓ+1} / n_{ℓ+1}) ⊙ φ'(H_ℓ)  (ℓ ≤ L−2),
    W_ℓ ← W_ℓ − η Δ_ℓᵀ A_{ℓ−1}          (A_0 = x, A_ℓ = φ(H_ℓ)),

computed in closed form (no autograd) with in-place matrix products: the state's weight buffers
are updated in place. ``tests/test_mfnet.py`` checks it against a numpy computation by hand and
against autograd with the stated scalings.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np

from .._errors import InputError
from .._validate import items, number
from ._mfnet import MFNetwork, activation, as_matrix, layers
from ._checkpoint import Checkpoint, TrainingError, load_resume
from ._checkpoint import diverged as _diverged
from ._train import _progress

__all__ = ["train_network", "NetworkTrainResult", "network_step"]


@dataclass(frozen=True)
class NetworkTrainResult:
    """The trained network (a new :class:`MFNetwork`), the history (one dict per logged step:
    ``step``, ``loss`` and the monitor's values), the number of steps, the final checkpoint."""

    network: MFNetwork
    history: list = field(default_factory=list)
    steps: int = 0
    checkpoint: Checkpoint | None = None


def network_step(net: MFNetwork, weights: list, x: Any, y: Any, lr: Any) -> Any:
    """One scaled SGD step on the batch (x, y), updating the tensors in ``weights`` in place
    (they must belong to the caller, e.g. a clone of ``net.weights``); returns the batch loss
    before the step as a 0-dim tensor. ``x``, ``y``: tensors of the weights' dtype and device.

    With a leading run axis — weights (R, n_ℓ, n_{ℓ-1}), x (R, B, d), y (R, B, n_L) — R runs of the
    same architecture step together in batched products; ``lr`` is a float or an (R,) tensor
    and the loss is (R,)."""
    import torch

    dphi, dphi_out = activation(net.activation)[1], activation(net.output_activation)[1]
    runs = x.ndim == 3
    B = x.shape[-2]
    with torch.no_grad():
        hs, acts = layers(net, weights, x)
        diff = acts[-1] - y
        loss = (diff * diff).sum((1, 2)) / B if runs else (diff * diff).sum() / B
        delta = diff.mul_(2.0 / B).mul_(dphi_out(hs[-1], acts[-1]))
        for ell in range(len(weights) - 1, -1, -1):
            w = weights[ell]
            back = None
            if ell:
                back = delta @ w
                if ell < len(weights) - 1:
                    back.div_(w.shape[-2])
                back.mul_(dphi(hs[ell - 1], acts[ell]))
            if not runs:
                w.addmm_(delta.T, acts[ell], alpha=-lr)
            elif isinstance(lr, float):
                w.baddbmm_(delta.transpose(1, 2), acts[ell], alpha=-lr)
            else:
                w.sub_(torch.bmm(delta.transpose(1, 2), acts[ell]).mul_(lr.view(-1, 1, 1)))
            delta = back
    return loss


def train_network(
    net: MFNetwork,
    batches: Iterable[tuple[Any, Any]] | None = None,
    *,
    lr: float,
    data: tuple[Any, Any] | None = None,
    batch_size: int | None = None,
    steps: int | None = None,
    seed: int | None = None,
    dtype: Any = None,
    device: Any = None,
    log_every: int = 1,
    monitor: Any = None,
    checkpoint_every: int = 0,
    checkpoint_path: str | os.PathLike | None = None,
    resume: Checkpoint | str | os.PathLike | None = None,
    progress: bool = False,
) -> NetworkTrainResult:
    """Train an :class:`MFNetwork` by mean-field SGD with per-layer scalings (module docstring).

    Give either ``batches`` (a sequence of (x, y) pairs, one step each) or ``data=(X, Y)`` with
    ``batch_size`` and ``steps`` (minibatches drawn without replacement, from a numpy generator
    seeded by ``seed``; ``None`` means 0). The network is not modified.

    Runs: with a list of R networks of one architecture, the R runs train together in batched
    products and a list of R results comes back, each equal to training that network alone (to
    rounding); ``lr`` and ``seed`` may be lists of R values, and batches carry a run axis
    (x (R, B, d), y (R, B, n_L)). One checkpoint holds every run (``symfix/numeric/_mfruns.py``).

    Parameters
    ----------
    net : MFNetwork
    batches : iterable of (x (B, d), y (B, n_L)), optional
    lr : float > 0, the step η of the scaled updates
    data, batch_size, steps : dataset mode (see above)
    seed : int, optional; only the dataset mode draws random numbers
    dtype, device : default the network's
    log_every : record ``{"step", "loss"}`` every this many steps (0: never)
    monitor : callable ``monitor(step, network) -> dict`` merged into logged entries
    checkpoint_every, checkpoint_path, resume : as in :func:`symfix.numeric.train`; a resumed
        run with the same arguments ends bit for bit where the uninterrupted one does.
    progress : progress bar on stderr

    Raises
    ------
    InputError
        Before the first step, for malformed arguments.
    TrainingError
        Non-finite loss or weights; ``.network`` holds the last good network.

    Examples
    --------
    >>> import numpy as np
    >>> net = MFNetwork([2, 8, 8, 8, 1], "sigmoid", seed=0)
    >>> X = np.random.default_rng(0).standard_normal((32, 2)); Y = np.sin(X[:, :1])
    >>> r = train_network(net, data=(X, Y), batch_size=8, steps=20, lr=0.1, seed=0)
    >>> r.steps, r.history[-1]["loss"] < r.history[0]["loss"]
    (20, True)
    >>> rs = train_network([net, net.resample([2, 8, 8, 8, 1])], data=(X, Y), batch_size=8, steps=20, lr=[0.1, 0.2],
    ...                    seed=[0, 1])
    >>> len(rs), abs(rs[0].history[-1]["loss"] - r.history[-1]["loss"]) < 1e-12   # run 0 as trained alone
    (2, True)
    """
    import torch

    for name, v in (("log_every", log_every), ("checkpoint_every", checkpoint_every)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise InputError(f"{name} must be an int >= 0, got {v!r}")
    if monitor is not None and not callable(monitor):
        raise InputError("monitor must be a callable monitor(step, network) -> dict of numbers")
    if isinstance(net, (list, tuple)):
        from ._mfruns import train_runs

        return train_runs(net, batches, lr=lr, data=data, batch_size=batch_size, steps=steps, seed=seed, dtype=dtype,
                          device=device, log_every=log_every, monitor=monitor, checkpoint_every=checkpoint_every,
                          checkpoint_path=checkpoint_path, resume=resume, progress=progress)
    if not isinstance(net, MFNetwork):
        raise InputError("train_network needs a symfix.numeric.MFNetwork (or a list of them, one per run)")
    lr = number(lr, "lr", minimum=0.0, strict=True)
    if seed is not None and (not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0):
        raise InputError(f"seed must be an int >= 0 or None, got {seed!r}")
    net = net.to(dtype, device) if (dtype is not None or device is not None) else net
    d, c = net.widths[0], net.widths[-1]
    sampler = _Sampler.make(batches, data, batch_size, steps, d, c, net, seed)
    settings = {"kind": "mfnetwork", "widths": list(net.widths), **net._settings(), "lr": lr,
                "seed": seed, "dtype": str(net.dtype), "batch_size": batch_size}
    ckpt = load_resume(resume, settings)
    weights = [w.clone() for w in net.weights]
    history: list = []
    start = 0
    if ckpt is not None:
        weights = _unflatten(net, ckpt.particles).weights
        start, history = ckpt.step, [dict(h) for h in ckpt.history]
        sampler.restore(ckpt.numpy_state)
        if start > sampler.total:
            raise InputError(f"the checkpoint is at step {start} but only {sampler.total} steps were asked for")

    def state(step: int) -> Checkpoint:
        flat = torch.cat([w.reshape(-1) for w in weights]).cpu().numpy().copy()
        return Checkpoint(step, flat, np.zeros(0, np.uint8), sampler.state(), tuple(dict(h) for h in history), settings)

    def failure(step: int, lval: float) -> TrainingError:
        good = net if last is None else _unflatten(net, last.particles)
        err = TrainingError(f"non-finite or diverged (|w| > 1e100) weights or loss at step {step} (loss {lval:.3g}); lower "
                            "lr or check the data scale. The last good network (the last checkpoint's, or the initial "
                            "one without checkpoints) is in the error's .network")
        err.network = good  # type: ignore[attr-defined]
        err.checkpoint = last  # type: ignore[attr-defined]
        return err

    last = state(start) if checkpoint_every else None
    for step in _progress(range(start, sampler.total), progress, "train MF network"):
        x, y = sampler.batch(step)
        loss = float(network_step(net, weights, x, y, lr))
        if not math.isfinite(loss):
            raise failure(step, loss)
        if log_every and step % log_every == 0:
            entry = {"step": step, "loss": loss}
            if monitor is not None:
                extra = monitor(step, MFNetwork._from_weights(net, weights))
                if not isinstance(extra, dict) or not all(isinstance(k, str) for k in extra):
                    raise InputError("a monitor must return a dict of named numbers, e.g. {'D2': 0.1}")
                entry.update({k: float(v) for k, v in extra.items()})
            history.append(entry)
        if checkpoint_every and (step + 1) % checkpoint_every == 0:
            if any(_diverged(w) for w in weights):
                raise failure(step, loss)
            last = state(step + 1)
            if checkpoint_path is not None:
                last.save(checkpoint_path)
    if any(_diverged(w) for w in weights):
        raise failure(sampler.total - 1, float("nan"))
    return NetworkTrainResult(MFNetwork._from_weights(net, weights), history, sampler.total, state(sampler.total))


def _unflatten(net: MFNetwork, flat: np.ndarray) -> MFNetwork:
    """A network with ``net``'s settings and the weights of a flat checkpoint vector (new tensors)."""
    import torch

    t = torch.as_tensor(np.asarray(flat), dtype=net.dtype, device=net.device)
    sizes = [w.numel() for w in net.weights]
    if t.ndim != 1 or t.numel() != sum(sizes):
        raise InputError("the checkpoint's weights do not fit this network's widths")
    return MFNetwork._from_weights(net, [p.reshape(w.shape).clone() for p, w in zip(t.split(sizes), net.weights)])


def _pair(b: Any, where: str, d: int, c: int, net: MFNetwork) -> tuple[Any, Any]:
    """One batch (x (B, d), y (B, c)) as tensors of the network's dtype and device, validated."""
    x = as_matrix(b[0], d, net.dtype, net.device, f"{where}: x")
    y = as_matrix(b[1], c, net.dtype, net.device, f"{where}: y")
    if x.shape[0] != y.shape[0]:
        raise InputError(f"{where}: x has {x.shape[0]} rows and y {y.shape[0]}")
    return x, y


class _Sampler:
    """The batch of each step: a validated list of batches, or minibatches of a dataset drawn
    with a seeded numpy generator (whose state goes into checkpoints)."""

    def __init__(self, fixed: list | None, X: Any = None, Y: Any = None, size: int = 0, total: int = 0, seed: Any = None):
        self.fixed, self.X, self.Y, self.size = fixed, X, Y, size
        self.total = len(fixed) if fixed is not None else total
        self.rng = None if fixed is not None else np.random.default_rng(0 if seed is None else seed)

    @classmethod
    def make(cls, batches: Any, data: Any, batch_size: Any, steps: Any, d: int, c: int, net: MFNetwork, seed: Any,
             runs: int | None = None) -> "_Sampler":
        """From validated batches or a dataset; with ``runs`` = R, each batch carries a leading run
        axis (x (R, B, d), y (R, B, c)), every run's slice validated like a batch of its own."""
        import torch

        if (batches is None) == (data is None):
            raise InputError("give either batches=[(x, y), ...] or data=(X, Y) with batch_size and steps")
        if batches is not None:
            if batch_size is not None or steps is not None:
                raise InputError("batch_size and steps go with data=(X, Y); with batches, each batch is one step")
            out = []
            for k, b in enumerate(items(batches, "batches", "a list of (x, y) pairs")):
                if not (isinstance(b, (tuple, list)) and len(b) == 2):
                    raise InputError(f"batch {k} must be a pair (x, y)")
                if runs is None:
                    out.append(_pair(b, f"batch {k}", d, c, net))
                    continue
                for t, dim, name in ((b[0], d, "x"), (b[1], c, "y")):
                    try:
                        shape = tuple(t.shape) if hasattr(t, "shape") else np.shape(t)
                    except ValueError:  # ragged nested lists
                        shape = None
                    if shape is None or len(shape) != 3 or shape[0] != runs:
                        raise InputError(f"batch {k}: {name} must have shape (R = {runs}, B, {dim}) with a run axis "
                                         f"first, got {shape if shape is not None else 'a ragged array'}")
                pairs = [_pair((b[0][r], b[1][r]), f"batch {k}, run {r}", d, c, net) for r in range(runs)]
                out.append(tuple(torch.stack(t) for t in zip(*pairs)))
            if not out:
                raise InputError("batches is empty: give at least one (x, y) batch (one training step each)")
            return cls(out)
        if not (isinstance(data, (tuple, list)) and len(data) == 2):
            raise InputError("data must be a pair (X, Y)")
        X = as_matrix(data[0], d, net.dtype, net.device, "data X")
        Y = as_matrix(data[1], c, net.dtype, net.device, "data Y")
        if X.shape[0] != Y.shape[0]:
            raise InputError(f"data X has {X.shape[0]} rows and Y {Y.shape[0]}")
        for name, v in (("batch_size", batch_size), ("steps", steps)):
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
                raise InputError(f"{name} must be an int >= 1 with data=(X, Y), got {v!r}")
        if batch_size > X.shape[0]:
            raise InputError(f"batch_size {batch_size} exceeds the {X.shape[0]} samples of data")
        return cls(None, X, Y, int(batch_size), int(steps), seed)

    def batch(self, step: int) -> tuple[Any, Any]:
        if self.fixed is not None:
            return self.fixed[step]
        import torch

        idx = torch.as_tensor(self.rng.choice(self.X.shape[0], self.size, replace=False), device=self.X.device)
        return self.X[idx], self.Y[idx]

    def state(self) -> dict:
        return {} if self.rng is None else self.rng.bit_generator.state

    def restore(self, state: dict) -> None:
        if self.rng is not None:
            self.rng.bit_generator.state = state
