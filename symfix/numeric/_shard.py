"""Particles split across processes (torch.distributed): which slice a process holds, the one
collective a training step needs, and gathering the particles at the end.

The mean-field model couples particles only through Φ = (1/N) Σ_i σ_*(·, θ_i), so a step needs
the batch's partial sums S (runs x batch x outputs) of every process. They are all-gathered and
added in rank order, so every process holds the same total, and the same job gives the same
bits however often it runs (an all-reduce may add in any order).
"""

from __future__ import annotations

import atexit
import os
from dataclasses import dataclass
from typing import Any

from .._errors import InputError

__all__ = ["Shard", "split", "connect", "all_sums", "gather"]


@dataclass(frozen=True)
class Shard:
    """Particles [start, stop) of ``total`` live in process ``rank`` of ``world``."""

    rank: int
    world: int
    start: int
    stop: int
    total: int

    @property
    def size(self) -> int:
        return self.stop - self.start


def split(total: int, rank: int, world: int) -> Shard:
    """Contiguous slices, the first ``total % world`` one particle larger."""
    if total < world:
        raise InputError(f"{total} particles do not split over {world} processes: give at least one particle per "
                         "process (more particles, or fewer processes)")
    base, extra = divmod(total, world)
    start = rank * base + min(rank, extra)
    return Shard(rank, world, start, start + base + (rank < extra), total)


def connect(device: Any) -> tuple[int, int]:
    """(rank, world size) of the running torch.distributed job, joining it first when it was
    started by torchrun and not yet initialised (backend gloo on CPU, nccl on CUDA; the group
    is then closed when the process exits)."""
    import torch.distributed as dist

    if not dist.is_available():
        raise InputError("this torch build has no torch.distributed; install a torch with distributed support")
    if not dist.is_initialized():
        if not all(k in os.environ for k in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")):
            raise InputError("distributed training runs under torchrun (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT are "
                             "not set): start it as `torchrun --nproc-per-node 2 -m symfix train ... --distributed`")
        dist.init_process_group("nccl" if getattr(device, "type", "cpu") == "cuda" else "gloo")
        atexit.register(_close)  # joined here, closed here: exiting with gloo's threads alive aborts
    return dist.get_rank(), dist.get_world_size()


def _close() -> None:
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()


def all_sums(t: Any, shard: Shard | None) -> Any:
    """Σ over processes of ``t`` (same shape everywhere), added in rank order."""
    if shard is None or shard.world == 1:
        return t
    import torch.distributed as dist

    parts = [t.new_empty(t.shape) for _ in range(shard.world)]
    dist.all_gather(parts, t.contiguous())
    out = parts[0]
    for p in parts[1:]:
        out = out + p
    return out


def gather(t: Any, shard: Shard | None, dim: int) -> Any:
    """The full tensor on rank 0 (``None`` elsewhere) from the slices [start, stop) along ``dim``."""
    if shard is None or shard.world == 1:
        return t
    import torch
    import torch.distributed as dist

    sizes = [split(shard.total, r, shard.world).size for r in range(shard.world)]
    shape = list(t.shape)
    shape[dim] = max(sizes)
    pad = t.new_zeros(shape)
    pad.narrow(dim, 0, shard.size).copy_(t)
    parts = [pad.new_empty(shape) for _ in sizes]
    dist.all_gather(parts, pad)
    if shard.rank != 0:
        return None
    return torch.cat([p.narrow(dim, 0, n) for p, n in zip(parts, sizes)], dim=dim)
