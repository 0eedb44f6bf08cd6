"""Checkpoints of training runs: one ``.npz`` per process, and for a job split across processes a
JSON manifest naming the processes' files of the last step that all of them completed.

Files are written to a temporary name and renamed, and a sharded step's manifest is written only
after every process has written its file, so a job killed at any moment leaves a manifest that
points to a complete, consistent step. Resuming from a manifest reassembles all particles, so a
job may resume with a different number of processes (re-sharding).
"""

from __future__ import annotations

import glob
import json
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._errors import InputError, SymfixError

__all__ = ["Checkpoint", "TrainingError", "load_resume", "save_sharded", "diverged", "failure", "DIVERGED"]

MANIFEST = "symfix-sharded-checkpoint/1"
DIVERGED = 1e100  # particles beyond this magnitude have left any meaningful scale (squares overflow at 1e154)


class TrainingError(SymfixError, FloatingPointError):
    """Non-finite values appeared during training; ``.particles`` and ``.checkpoint`` hold the
    state before the failing step."""


@dataclass(frozen=True)
class Checkpoint:
    """Everything needed to continue a run bit for bit: the particles in the training dtype,
    the number of batches consumed, the history and the settings (random streams are
    counter-based, so ``torch_state`` and ``numpy_state`` are empty for the mean-field trainer;
    the network trainer stores its sampler there). ``shard`` = (start, stop, total) when the
    particles are one process's slice.

    ``train(..., resume=ckpt)`` with the same batch sequence continues at batch ``ckpt.step``.
    ``save(path)`` / ``Checkpoint.load(path)`` store it as a ``.npz`` file (written to a
    temporary file, then renamed).
    """

    step: int
    particles: np.ndarray
    torch_state: np.ndarray
    numpy_state: dict
    history: tuple
    settings: dict
    shard: tuple | None = None

    def save(self, path: str | os.PathLike) -> None:
        from .._io import write_with

        meta = {"step": self.step, "numpy_state": self.numpy_state, "history": list(self.history),
                "settings": self.settings, "shard": self.shard}

        def write(tmp: str) -> None:
            with open(tmp, "wb") as f:
                np.savez(f, particles=self.particles, torch_state=self.torch_state, meta=np.array(json.dumps(meta)))

        write_with(path, write)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Checkpoint":
        try:
            with np.load(os.fspath(path), allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                shard = meta.get("shard")
                return cls(meta["step"], z["particles"].copy(), z["torch_state"].copy(), meta["numpy_state"],
                           tuple(meta["history"]), meta["settings"], None if shard is None else tuple(shard))
        except (OSError, KeyError, ValueError, TypeError) as exc:
            raise InputError(f"cannot read checkpoint {os.fspath(path)!r}: {exc}") from None


def save_sharded(ckpt: Checkpoint, path: str | os.PathLike, rank: int, world: int) -> None:
    """Every process writes ``PATH.stepK.rankRofW.npz``; then rank 0 writes the manifest ``PATH``
    and removes older steps' files. Collective: every process calls it at the same step."""
    import torch.distributed as dist

    from .._io import write_text

    stem = os.fspath(path)
    name = lambda r: f"{os.path.basename(stem)}.step{ckpt.step}.rank{r}of{world}.npz"
    ckpt.save(os.path.join(os.path.dirname(stem) or ".", name(rank)))
    dist.barrier()
    if rank == 0:
        files = [name(r) for r in range(world)]  # in rank order
        keep = set(files)
        write_text(stem, json.dumps({"format": MANIFEST, "step": ckpt.step, "world": world, "files": files}))
        for old in glob.glob(glob.escape(stem) + ".step*.rank*of*.npz"):
            if os.path.basename(old) not in keep:
                os.remove(old)
    dist.barrier()


def _read(path: str | os.PathLike) -> Checkpoint:
    """A checkpoint file or a manifest (its processes' particles joined along the particle axis)."""
    p = os.fspath(path)
    try:
        with open(p, "rb") as f:
            head = f.read(1)
    except OSError as exc:
        raise InputError(f"cannot read checkpoint {p!r}: {exc}") from None
    if head != b"{":
        ck = Checkpoint.load(p)
        if ck.shard is not None:
            raise InputError(f"{p!r} is one process's part of a sharded checkpoint: resume from its manifest (the path "
                             "given to checkpoint_path / --checkpoint)")
        return ck
    try:
        with open(p, encoding="utf-8") as f:
            man = json.load(f)
        if man.get("format") != MANIFEST:
            raise ValueError("not a symfix checkpoint manifest")
        parts = [Checkpoint.load(os.path.join(os.path.dirname(p) or ".", f)) for f in man["files"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"cannot read checkpoint manifest {p!r}: {exc}") from None
    first = parts[0]
    if any(c.step != man["step"] for c in parts):
        raise InputError(f"checkpoint manifest {p!r} names files of different steps; the checkpoint is damaged")
    return Checkpoint(first.step, np.concatenate([c.particles for c in parts], axis=-2), first.torch_state,
                      first.numpy_state, first.history, first.settings)


def load_resume(resume: Any, settings: dict) -> Checkpoint | None:
    """The checkpoint to resume from (an object, a file or a manifest), checked against the
    settings of the run being started."""
    if resume is None:
        return None
    ckpt = resume if isinstance(resume, Checkpoint) else _read(resume)
    diff = {k: (ckpt.settings.get(k), v) for k, v in settings.items() if ckpt.settings.get(k) != v}
    if diff:
        what = ", ".join(f"{k}: checkpoint {a!r} vs now {b!r}" for k, (a, b) in diff.items())
        raise InputError(f"cannot resume with different settings ({what}); pass the settings of the original run")
    return ckpt


def diverged(theta: Any) -> bool:
    import torch

    return not bool(torch.isfinite(theta).all()) or float(theta.abs().max()) > DIVERGED


def failure(step: int, lval: float, theta: Any, prev: Any, last: Checkpoint | None) -> TrainingError:
    good = prev if diverged(theta) else theta
    err = TrainingError(
        f"non-finite or diverged (|θ| > {DIVERGED:g}) particles or loss at step {step} (loss {lval:.3g}); lower lr, "
        "or check the data scale. The last good particles are in the error's .particles (and the last checkpoint "
        "in .checkpoint)"
    )
    err.particles = good.detach().cpu().double().numpy().copy()  # type: ignore[attr-defined]
    err.checkpoint = last  # type: ignore[attr-defined]
    return err
