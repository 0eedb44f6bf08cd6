"""Counter-based random streams: every random number of a training run is a function of
(seed, step, purpose, index), never of what was drawn before.

A run's seed gives a Philox-4x64 key (numpy's ``Philox`` bit generator, via ``SeedSequence``);
the number at position p of step t for a purpose k is the p-th 64-bit output of the counter
block (p // 4, t, k, 0). So a process holding particles [a, b) draws exactly their noise (from
position a·D on), however the particles are split across processes or runs; a resumed run
needs no generator state; and particle i's noise does not depend on how many particles the
run has (runs with nested particle sets share their noise).

Uniforms are the top 53 bits plus one half, (k + ½) 2⁻⁵³ ∈ (0, 1); normals are Φ⁻¹ of them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["run_key", "uniforms", "normals", "step_rng", "NOISE", "SAMPLES"]

NOISE, SAMPLES, GENERATOR = 0, 1, 2  # the purposes (third counter word)


def run_key(seed: int) -> np.ndarray:
    """The Philox key (2 x uint64) of a run's seed."""
    return np.random.SeedSequence(int(seed)).generate_state(2, np.uint64)


def uniforms(key: np.ndarray, step: int, purpose: int, start: int, count: int) -> np.ndarray:
    """Positions start .. start+count-1 of (step, purpose), as float64 in (0, 1)."""
    first, skip = divmod(int(start), 4)
    bits = np.random.Philox(key=key, counter=[first, int(step), purpose, 0]).random_raw(count + skip)[skip:]
    return ((bits >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53


def normals(key: np.ndarray, step: int, start: int, count: int, dtype: Any, device: Any) -> Any:
    """Standard normals at noise positions start .. start+count-1 of ``step`` (torch, 1-D)."""
    import torch

    u = torch.from_numpy(uniforms(key, step, NOISE, start, count))
    return torch.special.ndtri(u).to(dtype=dtype, device=device)


def step_rng(key: np.ndarray, step: int) -> np.random.Generator:
    """A numpy Generator owned by one step (for group samplers that need one)."""
    return np.random.Generator(np.random.Philox(key=key, counter=[0, int(step), GENERATOR, 0]))
