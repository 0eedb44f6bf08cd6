"""R runs of :func:`symfix.numeric.train_network` in one set of batched products.

``train_network([net_1, ..., net_R], ...)`` stacks the runs' weights layer by layer into
(R, n_ℓ, n_{ℓ-1}) tensors and takes every step for all of them with batched matrix products
(:func:`symfix.numeric.network_step` with a run axis). Runs share the architecture (widths,
activations, dtype, device); each has its own initial network, learning rate and, in dataset
mode, its own minibatch stream (``seed`` per run). Each run's result equals training it alone up
to the rounding of batched against single products (tested to 1e-12 in float64); one
checkpoint holds all runs and a resumed ensemble continues bit for bit.
"""

from __future__ import annotations

import math
import os
from typing import Any, Iterable

import numpy as np

from .._errors import InputError
from .._validate import number
from ._checkpoint import Checkpoint, TrainingError, load_resume
from ._checkpoint import diverged as _diverged
from ._mfnet import MFNetwork

__all__ = ["train_runs"]


def _check_nets(nets: Any, dtype: Any, device: Any) -> list[MFNetwork]:
    nets = list(nets)
    if not nets or not all(isinstance(n, MFNetwork) for n in nets):
        raise InputError("train_network takes an MFNetwork or a non-empty list of MFNetworks (one per run)")
    nets = [n.to(dtype, device) if (dtype is not None or device is not None) else n for n in nets]
    first = nets[0]
    for r, n in enumerate(nets[1:], 1):
        same = (n.widths, n.activation, n.output_activation, n.dtype, n.device) == (
            first.widths, first.activation, first.output_activation, first.dtype, first.device)
        if not same:
            raise InputError(f"run {r} differs from run 0 in widths, activations, dtype or device; the runs of one "
                             "call share the architecture (train different architectures in separate calls)")
    return nets


def _per_run(value: Any, R: int, name: str, check: Any) -> list:
    if isinstance(value, (list, tuple)):
        if len(value) != R:
            raise InputError(f"{name} has {len(value)} entries for {R} runs; give one per run or a single value")
        return [check(v) for v in value]
    return [check(value)] * R


def _seed(v: Any) -> Any:
    if v is not None and (not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 0):
        raise InputError(f"seed must be an int >= 0 or None, got {v!r}")
    return None if v is None else int(v)


def train_runs(nets: Any, batches: Iterable | None, *, lr: Any, data: Any, batch_size: Any, steps: Any, seed: Any,
               dtype: Any, device: Any, log_every: int, monitor: Any, checkpoint_every: int,
               checkpoint_path: str | os.PathLike | None, resume: Any, progress: bool) -> list:
    """The ensemble form of :func:`symfix.numeric.train_network` (module docstring); arguments
    already checked there that do not depend on the runs are passed through."""
    import torch

    from ._mftrain import NetworkTrainResult, _Sampler, _unflatten, network_step
    from ._train import _progress

    nets = _check_nets(nets, dtype, device)
    R, net = len(nets), nets[0]
    lrs = _per_run(lr, R, "lr", lambda v: number(v, "lr", minimum=0.0, strict=True))
    seeds = _per_run(seed, R, "seed", _seed)
    first = _Sampler.make(batches, data, batch_size, steps, net.widths[0], net.widths[-1], net, seeds[0], runs=R)
    samplers = [first]  # batches carry the run axis; a dataset gets one minibatch stream per run
    if first.fixed is None:
        samplers += [_Sampler(None, first.X, first.Y, first.size, first.total, s) for s in seeds[1:]]
    total = samplers[0].total
    settings = {"kind": "mfnetwork-runs", "runs": R, "widths": list(net.widths), "nets": [n._settings() for n in nets],
                "lr": lrs, "seed": seeds, "dtype": str(net.dtype), "batch_size": batch_size}
    ckpt = load_resume(resume, settings)
    weights = [torch.stack([n.weights[ell] for n in nets]) for ell in range(net.depth)]  # copies
    histories: list[list] = [[] for _ in range(R)]
    start = 0
    if ckpt is not None:
        flat = np.asarray(ckpt.particles)
        if flat.ndim != 2 or flat.shape[0] != R:
            raise InputError(f"the checkpoint holds {flat.shape[0] if flat.ndim == 2 else 1} runs, not {R}")
        weights = [torch.stack(ws) for ws in zip(*[_unflatten(nets[r], flat[r]).weights for r in range(R)])]
        start = ckpt.step
        for h in ckpt.history:
            histories[h["run"]].append({k: v for k, v in h.items() if k != "run"})
        for s, st in zip(samplers, ckpt.numpy_state.get("runs", [])):
            s.restore(st)
        if start > total:
            raise InputError(f"the checkpoint is at step {start} but only {total} steps were asked for")
    rate = lrs[0] if len(set(lrs)) == 1 else torch.tensor(lrs, dtype=net.dtype, device=net.device)

    def state(step: int) -> Checkpoint:
        flat = torch.cat([w.reshape(R, -1) for w in weights], dim=1).cpu().numpy().copy()
        hist = tuple({"run": r, **h} for r in range(R) for h in histories[r])
        return Checkpoint(step, flat, np.zeros(0, np.uint8), {"runs": [s.state() for s in samplers]}, hist, settings)

    def failure(step: int, losses: list) -> TrainingError:
        bad = [r for r, v in enumerate(losses) if not math.isfinite(v)] or list(range(R))
        good = nets if last is None else [_unflatten(nets[r], last.particles[r]) for r in range(R)]
        err = TrainingError(f"non-finite or diverged weights or loss at step {step} in runs {bad}; lower their lr or "
                            "check the data scale. The last good networks (the last checkpoint's, or the initial ones "
                            "without checkpoints) are in the error's .networks")
        err.networks = good  # type: ignore[attr-defined]
        err.checkpoint = last  # type: ignore[attr-defined]
        return err

    last = state(start) if checkpoint_every else None
    for step in _progress(range(start, total), progress, f"train {R} MF networks"):
        if first.fixed is not None:
            x, y = first.batch(step)
        else:
            pairs = [s.batch(step) for s in samplers]
            x, y = torch.stack([p[0] for p in pairs]), torch.stack([p[1] for p in pairs])
        losses = network_step(net, weights, x, y, rate).tolist()
        if not all(math.isfinite(v) for v in losses):
            raise failure(step, losses)
        if log_every and step % log_every == 0:
            for r in range(R):
                entry = {"step": step, "loss": losses[r]}
                if monitor is not None:
                    extra = monitor(step, MFNetwork._from_weights(nets[r], [w[r] for w in weights]))
                    if not isinstance(extra, dict) or not all(isinstance(k, str) for k in extra):
                        raise InputError("a monitor must return a dict of named numbers, e.g. {'D2': 0.1}")
                    entry.update({k: float(v) for k, v in extra.items()})
                histories[r].append(entry)
        if checkpoint_every and (step + 1) % checkpoint_every == 0:
            if any(_diverged(w) for w in weights):
                raise failure(step, [math.nan] * R)
            last = state(step + 1)
            if checkpoint_path is not None:
                last.save(checkpoint_path)
    if any(_diverged(w) for w in weights):
        raise failure(total - 1, [math.nan] * R)
    final = state(total)
    return [NetworkTrainResult(MFNetwork._from_weights(nets[r], [w[r].clone() for w in weights]), histories[r], total,
                               final) for r in range(R)]
