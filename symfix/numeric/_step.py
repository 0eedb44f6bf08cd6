"""The mean-field SGD step as a pure function over an explicit state, for R runs at once.

One step of run r, with N particles θ_i, per-particle step s = lr_r / N, quadratic loss and
penalty τ_r ||θ||²:

    θ_i ← θ_i − s [ mean_b Dσ_*(x_b, θ_i)ᵀ ∇₁ℓ(Φ(x_b), y_b) + τ_r ∇r(θ_i) ] + sqrt(2 β_r s) ξ_i

The bracket's first term is N ∂L/∂θ_i for the batch loss L = mean_b ||Φ(x_b) − y_b||², computed
by the unit's ensemble kernel for all runs of a scheme in one call. A scheme is a small variant
of the step: it decides the inputs the model sees and the loss on its outputs (``da``: one group
element per sample; ``da-orbit``: the whole orbit; ``fa``: the averaged model), and ``ea`` projects
the drift onto E^G. ξ comes from the run's counter-based stream (``_streams``), so the state is
just the particles and the step count.

``Trainer`` is compiled once (group tables, projectors, keys); ``init`` makes a state and ``step``
maps (state, batch) to (new state, losses) without touching its inputs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from .._problem import Problem
from . import _streams
from ._shard import Shard, all_sums

__all__ = ["Trainer", "TrainState", "SCHEMES"]

SCHEMES = ("vanilla", "da", "da-orbit", "fa", "ea")
DA_TABLE_MAX = 5040  # finite groups up to this order sample DA elements from a precomputed table
CHUNK = 1 << 18  # elements (runs x particles x samples x outputs) per kernel call: beyond it, caches spill


@dataclass(frozen=True)
class TrainState:
    """The particles of every run held here, (R, n, D) torch tensor stored parameter-major
    (the transpose of a contiguous (R, D, n) tensor), and the number of batches consumed."""

    particles: Any
    step: int


@dataclass(frozen=True, eq=False)
class Trainer:
    """R runs of one problem compiled for stepping; every per-run setting is a tuple of length R.

    ``noise`` holds each run's noise subspace (anything with ``orthonormal_basis()``) or None;
    ``shard`` says which particles this process holds (None: all of them). ``train`` validates
    its arguments and builds one; build it directly to drive the step yourself.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from symfix import Problem, groups, reps, units
    >>> G = groups.cyclic(2); V = reps.permutation(G)
    >>> P = Problem(G, V, V, units.matrix_unit(2, 2, "sigmoid"))
    >>> tr = Trainer(P, ("vanilla", "ea"), (1.0, 1.0), (0.0, 0.0), (1e-3, 1e-3), (0, 1), (None, None), 8,
    ...              torch.float64, torch.device("cpu"))
    >>> state = tr.init(np.random.default_rng(0).standard_normal((2, 8, 4)))
    >>> x = torch.randn(2, 5, 2, dtype=torch.float64); y = torch.sigmoid(x)
    >>> new, losses = tr.step(state, x, y)
    >>> new.step, tuple(new.particles.shape), tuple(losses.shape), state.step
    (1, (2, 8, 4), (2,), 0)
    """

    problem: Problem
    schemes: tuple
    lr: tuple
    tau: tuple
    beta: tuple
    seeds: tuple
    noise: tuple
    n_total: int
    dtype: Any
    device: Any
    quadrature: int = 16
    shard: Shard | None = None
    _c: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        import torch

        t = lambda v: torch.as_tensor(np.asarray(v, dtype=np.float64), dtype=self.dtype, device=self.device)
        s = np.asarray(self.lr, dtype=np.float64) / self.n_total
        self._c.update(
            s=t(s)[:, None, None], tau2=t(2.0 * np.asarray(self.tau))[:, None, None],
            scale=[math.sqrt(2.0 * b * si) for b, si in zip(self.beta, s)],
            streams=[_streams.Stream(sd) for sd in self.seeds], segments=_segments(self.schemes),
            proj={}, tables={}, noisy=_noise_groups(self.noise, self.beta),
        )
        self._c["noise_scale"] = {k: t([self._c["scale"][r] for r in idx])[:, None, None]
                                  for k, (_, idx) in enumerate(self._c["noisy"])}
        for space, _ in self._c["noisy"]:
            if space is not None:
                self._basis(space)
        if "ea" in self.schemes:
            self._c["E"] = self.problem.fixed_subspace()
            self._basis(self._c["E"])

    # ---------------------------------------------------------------------------- public
    def init(self, particles: Any, step: int = 0) -> TrainState:
        """State from particles (R, n, D) (any float array): a parameter-major copy."""
        import torch

        p = torch.as_tensor(particles, dtype=self.dtype, device=self.device)
        return TrainState(p.transpose(1, 2).contiguous().transpose(1, 2), step)

    def step(self, state: TrainState, x: Any, y: Any) -> tuple[TrainState, Any]:
        """One step on the batch x (R, B, d), y (R, B, c): (new state, losses (R,))."""
        import torch

        theta, t = state.particles, state.step
        R, n, D = theta.shape
        out = torch.empty((R, D, n), dtype=theta.dtype, device=theta.device).transpose(1, 2)
        losses = torch.empty(R, dtype=theta.dtype, device=theta.device)
        per_run = n * x.shape[1] * max(self.problem.unit.c, 1)
        for scheme, seg in self._c["segments"]:
            for sl in _chunks(seg, max(1, CHUNK // per_run)):
                th = theta[sl]
                X, dloss = VARIANTS[scheme](self, sl, x[sl], y[sl], t)
                loss, drift = self.problem.unit.ensemble_value_and_grad(X, th, dloss)
                if any(self.tau[sl]):
                    drift = drift + self._c["tau2"][sl] * th
                if scheme == "ea":
                    drift = self._project(self._c["E"], drift)
                out[sl] = th - self._c["s"][sl] * drift
                losses[sl] = loss
        for k, (space, idx) in enumerate(self._c["noisy"]):
            xi = self._noise(idx, t, n, D)
            if space is not None:
                xi = self._project(space, xi)
            out[idx] += self._c["noise_scale"][k] * xi
        return TrainState(out, t + 1), losses

    # --------------------------------------------------------------------------- helpers
    def _basis(self, space: Any) -> Any:
        import torch

        key = id(space)
        if key not in self._c["proj"]:
            q = space.orthonormal_basis()
            q = q.toarray() if hasattr(q, "toarray") else np.asarray(q)
            self._c["proj"][key] = (space, torch.as_tensor(q, dtype=self.dtype, device=self.device))
        return self._c["proj"][key][1]

    def _project(self, space: Any, v: Any) -> Any:
        """(v Q) Qᵀ per run, as batched products with one (n, D) matrix per run: a run's rows are
        rounded the same way however many runs are batched (a folded (R n, D) product is not)."""
        import torch

        q = self._basis(space)
        R = v.shape[0]
        return torch.bmm(torch.bmm(v, q.expand(R, *q.shape)), q.T.expand(R, *q.T.shape))

    def _noise(self, runs: list, t: int, n: int, D: int) -> Any:
        """ξ of the given runs at step t for the particles held here: (len(runs), n, D)."""
        start = 0 if self.shard is None else self.shard.start
        streams = [self._c["streams"][r] for r in runs]
        return _streams.normals(streams, t, start * D, n * D, self.dtype, self.device).view(len(runs), n, D)

    def _orbit(self) -> tuple[Any, Any]:
        """ρ_g and ρ̂_g over the group (finite) or its quadrature (compact Lie), (n_g, ., .)."""
        if "orbit" not in self._c["tables"]:
            G, P = self.problem.group, self.problem
            els = G.elements() if G.is_finite else G.quadrature(self.quadrature)
            self._c["tables"]["orbit"] = self._mats([P.matrices(g) for g in els])
        return self._c["tables"]["orbit"]

    def _mats(self, pairs: Sequence[tuple[Any, Any]]) -> tuple[Any, Any]:
        import torch

        conv = lambda k: torch.as_tensor(np.stack([p[k] for p in pairs]), dtype=self.dtype, device=self.device)
        return conv(0), conv(1)

    def _da(self, sl: slice, B: int, t: int) -> tuple[Any, Any]:
        """Per run and sample, the matrices of one Haar-uniform group element: (R, B, ., .)."""
        import torch

        G, P = self.problem.group, self.problem
        streams = self._c["streams"][sl]
        if G.is_finite and G.order <= DA_TABLE_MAX:
            if "da" not in self._c["tables"]:
                self._c["tables"]["da"] = self._mats([P.matrices(g) for g in G.elements()])
            A, Bm = self._c["tables"]["da"]
            idx = np.stack([(st.uniforms(t, _streams.SAMPLES, 0, B) * A.shape[0]).astype(np.int64) for st in streams])
            idx_t = torch.as_tensor(idx, device=self.device)
            return A[idx_t], Bm[idx_t]
        mats = []
        for st in streams:
            rng = st.generator(t)
            mats.append(self._mats([P.matrices(G.sample(rng)) for _ in range(B)]))
        return torch.stack([m[0] for m in mats]), torch.stack([m[1] for m in mats])

    def settings(self, r: int) -> dict:
        """Run r's settings as stored in checkpoints (a resume must match them)."""
        return {"scheme": self.schemes[r], "lr": self.lr[r], "tau": self.tau[r], "beta": self.beta[r],
                "seed": self.seeds[r], "dtype": str(self.dtype), "D": self.problem.param_dim, "N": self.n_total}


def _chunks(seg: slice, size: int) -> list[slice]:
    return [slice(a, min(a + size, seg.stop)) for a in range(seg.start, seg.stop, size)]


def _noise_groups(noise: Sequence[Any], beta: Sequence[float]) -> list[tuple[Any, list]]:
    """Runs with noise (β > 0), grouped by noise subspace: [(subspace or None, run indices)]."""
    groups: dict = {}
    for r, (q, b) in enumerate(zip(noise, beta)):
        if b > 0:
            groups.setdefault(id(q), (q, []))[1].append(r)
    return list(groups.values())


def _segments(schemes: Sequence[str]) -> list[tuple[str, slice]]:
    """Maximal runs of consecutive equal schemes, as (scheme, slice)."""
    out, start = [], 0
    for i in range(1, len(schemes) + 1):
        if i == len(schemes) or schemes[i] != schemes[start]:
            out.append((schemes[start], slice(start, i)))
            start = i
    return out


# ------------------------------------------------------------------------------ variants


def _square(tr: Trainer, y: Any) -> Any:
    """L_r = mean_b ||Φ_rb − y_rb||² with Φ = S / N (S summed over processes)."""
    B = y.shape[1]

    def dloss(S: Any) -> tuple[Any, Any]:
        diff = all_sums(S, tr.shard) / tr.n_total - y
        return diff * (2.0 / B), (diff * diff).sum((1, 2)) / B

    return dloss


def _plain(tr: Trainer, sl: slice, x: Any, y: Any, t: int) -> tuple[Any, Any]:
    return x, _square(tr, y)


def _da(tr: Trainer, sl: slice, x: Any, y: Any, t: int) -> tuple[Any, Any]:
    import torch

    A, Bm = tr._da(sl, x.shape[1], t)
    return torch.einsum("rbij,rbj->rbi", A, x), _square(tr, torch.einsum("rbij,rbj->rbi", Bm, y))


def _stack(A: Any, x: Any) -> Any:
    import torch

    return torch.einsum("gij,rbj->rgbi", A, x).reshape(x.shape[0], -1, A.shape[1])


def _da_orbit(tr: Trainer, sl: slice, x: Any, y: Any, t: int) -> tuple[Any, Any]:
    A, Bm = tr._orbit()
    return _stack(A, x), _square(tr, _stack(Bm, y))


def _fa(tr: Trainer, sl: slice, x: Any, y: Any, t: int) -> tuple[Any, Any]:
    """L_r = mean_b ||q_rb − y_rb||² for the averaged model q_b = (1/|G|) Σ_g ρ̂_gᵀ Φ(ρ_g x_b)."""
    import torch

    A, Bm = tr._orbit()
    n_g, (R, B, _) = A.shape[0], y.shape

    def dloss(S: Any) -> tuple[Any, Any]:
        out = (all_sums(S, tr.shard) / tr.n_total).reshape(R, n_g, B, -1)
        diff = torch.einsum("gji,rgbj->rbi", Bm, out) / n_g - y  # ρ̂_g^{-1} = ρ̂_gᵀ
        G = torch.einsum("gji,rbi->rgbj", Bm, diff) * (2.0 / (n_g * B))
        return G.reshape(R, n_g * B, -1), (diff * diff).sum((1, 2)) / B

    return _stack(A, x), dloss


VARIANTS = {"vanilla": _plain, "ea": _plain, "da": _da, "da-orbit": _da_orbit, "fa": _fa}
