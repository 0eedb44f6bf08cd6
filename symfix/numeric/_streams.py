"""Counter-based random streams: every random number of a training run is a function of
(seed, step, purpose, index), never of what was drawn before.

A run's seed gives a Philox-4x64 key (numpy's ``Philox`` bit generator, via ``SeedSequence``);
the number at position p of step t for a purpose k is the p-th 64-bit output of the counter
block (p // 4, t, k, 0). So a process holding particles [a, b) draws exactly their noise (from
position a·D on), however the particles are split across processes or runs; a resumed run
needs no generator state; and particle i's noise does not depend on how many particles the
run has (runs with nested particle sets share their noise).

Uniforms are the top 53 bits plus one half, u = (k + ½) 2⁻⁵³ ∈ (0, 1); normals are Φ⁻¹(u) =
√2 erfinv(2u − 1), where 2u − 1 = (2k + 1) 2⁻⁵³ − 1 is exact in float64.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["Stream", "NOISE", "SAMPLES"]

NOISE, SAMPLES, GENERATOR = 0, 1, 2  # the purposes (third counter word)
SQRT2 = 2.0**0.5


class Stream:
    """The random numbers of one run (its seed): a function of (step, purpose, position).

    Holds one Philox bit generator whose counter is set for each request (cheaper than making
    a generator each time); not shared between threads.
    """

    def __init__(self, seed: int) -> None:
        self.key = np.random.SeedSequence(int(seed)).generate_state(2, np.uint64)
        self._bg = np.random.Philox(key=self.key)
        self._state = self._bg.state

    def _bits(self, step: int, purpose: int, start: int, count: int) -> np.ndarray:
        """The top 53 bits (as float64 integers k) of positions start .. start+count-1."""
        first, skip = divmod(int(start), 4)
        self._state["state"]["counter"] = np.array([first, int(step), purpose, 0], dtype=np.uint64)
        self._state["buffer_pos"] = 4  # empty buffer: the next output is the block at the counter
        self._bg.state = self._state
        bits = self._bg.random_raw(count + skip)[skip:]
        return (bits >> np.uint64(11)).astype(np.float64)

    def uniforms(self, step: int, purpose: int, start: int, count: int) -> np.ndarray:
        """Positions start .. start+count-1 of (step, purpose), as float64 in (0, 1)."""
        return (self._bits(step, purpose, start, count) + 0.5) * 2.0**-53

    def signed(self, step: int, start: int, count: int) -> np.ndarray:
        """2u − 1 for the noise uniforms u of ``step`` (exact)."""
        return (2.0 * self._bits(step, NOISE, start, count) + 1.0) * 2.0**-53 - 1.0

    def generator(self, step: int) -> np.random.Generator:
        """A numpy Generator owned by one step (for group samplers that need one)."""
        return np.random.Generator(np.random.Philox(key=self.key, counter=[0, int(step), GENERATOR, 0]))


def normals(streams: list, step: int, start: int, count: int, dtype: Any, device: Any) -> Any:
    """Standard normals at noise positions start .. start+count-1 of ``step`` for each stream
    (torch, (len(streams), count))."""
    import torch

    w = torch.from_numpy(np.stack([st.signed(step, start, count) for st in streams]))
    return w.erfinv_().mul_(SQRT2).to(dtype=dtype, device=device)
