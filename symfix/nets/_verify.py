"""Verification of a network's symmetry group: sampled elements and every exp(tA) keep the
function (with a negative control), and the functional dimension against the Jacobian rank."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._errors import InputError
from .._validate import real_array
from ._element import NetElement
from ._params import clone_module, flat_params, load_flat

__all__ = ["SymmetryCheck", "FunctionalDimension", "check", "functional_dimension", "translations"]


@dataclass(frozen=True)
class SymmetryCheck:
    """Result of :meth:`NetSymmetries.check`: relative output changes in float64.

    ``max_error`` is the largest of ``discrete_error`` and ``lie_error``; ``control_error`` is the
    same measure for an element that is not a symmetry (writer rows of two neurons swapped, their
    readers not), which must be large; ``ok`` means max_error <= tol < control_error.
    ``approximate_error`` is kept apart: generators the table marks approximate (BatchNorm scale
    invariance with eps > 0, exact only for eps = 0).
    """

    discrete_error: float
    lie_error: float
    control_error: float | None
    n_elements: int
    n_lie_checked: int
    lie_dim: int
    tol: float
    approximate_error: float = 0.0

    @property
    def max_error(self) -> float:
        return max(self.discrete_error, self.lie_error)

    @property
    def ok(self) -> bool:
        control = self.control_error is None or self.control_error > self.tol
        return self.max_error <= self.tol and control


@dataclass(frozen=True)
class FunctionalDimension:
    """D minus the dimension of the continuous orbit at θ, against the rank of the Jacobian.

    ``orbit_dim`` is the rank of the orbit's tangent vectors [A_1 θ, ..., A_k θ];
    ``jacobian_rank`` the rank of d f(x_b)/dθ stacked over the inputs; ranks cut at
    ``rtol`` times the largest singular value, ``gap`` the ratio of the smallest kept to the
    largest cut singular value of the Jacobian (inf when nothing was cut).
    """

    param_dim: int
    orbit_dim: int
    by_symmetry: int
    jacobian_rank: int | None
    gap: float | None
    rtol: float
    note: str = ""

    @property
    def agree(self) -> bool | None:
        """Whether the two counts agree; None when the Jacobian was too large to form (``note``)."""
        return None if self.jacobian_rank is None else self.by_symmetry == self.jacobian_rank



def check(S: Any, module: Any, inputs: Any, *, n_samples: int = 20, max_lie: int = 200, t: float = 0.5,
          rng: Any = None, tol: float = 1e-10) -> SymmetryCheck:
    """Verify in float64 that sampled discrete elements (permutations and signs) and exp(tA) for the
    Lie generators preserve the function.

    Relative error max|f(g·θ)(x) - f(θ)(x)| / max|f(θ)(x)| over ``inputs``; every Lie generator
    is checked when there are at most ``max_lie``, else a random subset of that size
    (``n_lie_checked`` says how many). A negative control (writer rows of two neurons swapped,
    their readers not: not a symmetry) is measured the same way.
    """
    S.check_module(module)
    rng = np.random.default_rng(0) if rng is None else rng
    if not isinstance(n_samples, int) or n_samples < 1:
        raise InputError(f"n_samples must be a positive integer, got {n_samples!r}")
    x = _as_inputs(inputs)
    base = clone_module(module).double()
    theta = flat_params(base)
    f0 = _forward(clone_module(base), x)
    scale_ = max(float(np.max(np.abs(f0))), 1e-300)

    def err(m: Any) -> float:  # m: a fresh module (its BatchNorm statistics may update)
        return float(np.max(np.abs(_forward(m, x) - f0))) / scale_

    d_err = max(err(S.apply(S.sample(rng, continuous=False), base)) for _ in range(n_samples))
    L = S.lie_algebra
    ks = np.arange(len(L)) if len(L) <= max_lie else np.sort(rng.choice(len(L), max_lie, replace=False))
    from scipy.linalg import expm

    l_err = a_err = 0.0
    approx = {h.index for h in S.hidden_spaces if h.note.startswith("approximate")}
    for k in ks:
        c, X = L.matrix_in_class(int(k))
        G = expm(t * X)
        g = NetElement({}, {c: np.diag(G).copy() if S._continuous[c] == "scale" else G})
        e = err(S.apply(g, base))
        if c in approx:
            a_err = max(a_err, e)
        else:
            l_err = max(l_err, e)
    control = None
    for tie in S._free_ties:
        T = S.arch.ties[tie]
        wr = [tt for s in T.scales for tt in S.arch.scales[s].touches if tt.role == "writer"]
        if T.width >= 2 and wr:
            th = theta.copy()
            for tt in wr:
                idx = S.arch.index(tt, T.width)
                th[idx[[0, 1]]] = th[idx[[1, 0]]]
            control = err(_with_params(base, th))
            break
    return SymmetryCheck(d_err, l_err, control, n_samples, len(ks), len(L), tol, a_err)



def translations(S: Any, module: Any) -> np.ndarray:
    """Unit vectors of the biases feeding a BatchNorm in training mode (it subtracts the batch
    mean, so each such bias is a translation symmetry; not linear, so not in ``lie_algebra``)."""
    mods = dict(module.named_modules())
    cols = []
    for s in S.arch.scales:
        if S.arch.ties[s.tie].fixed is None and any(mods[m].training for m in s.bn_buffers):
            for t in s.touches:
                if t.role == "writer" and len(dict(S.arch.params)[t.param]) == 1:
                    cols.extend(S.arch.index(t, s.width).ravel())
    E = np.zeros((S.param_dim, len(cols)))
    E[cols, np.arange(len(cols))] = 1.0
    return E



def functional_dimension(S: Any, module: Any, inputs: Any, *, rtol: float = 1e-9,
                         max_entries: float = 2e7) -> FunctionalDimension:
    """D minus the dimension of the continuous orbit at θ (with the bias translations before a
    BatchNorm in training mode), and the rank of the Jacobian of the outputs on ``inputs`` for comparison (they agree on generic ReLU MLPs given enough inputs:
    outputs x inputs >= D, every neuron active on some inputs and inactive on others).

    The Jacobian (outputs·B x D, dense) is formed only up to ``max_entries`` entries; above,
    ``jacobian_rank`` is None and ``note`` says why.
    """
    import torch

    S.check_module(module)
    x = _as_inputs(inputs)
    base = clone_module(module).double()
    theta = flat_params(base)
    T = [S.orbit_tangent(theta)] if S.lie_dim else []
    T += [translations(S, base)]
    T = np.concatenate(T, axis=1)
    orbit = int(np.linalg.matrix_rank(T)) if T.size else 0
    n_out = int(np.prod(_forward(clone_module(base), x).shape)) // int(x.shape[0])
    if n_out * x.shape[0] * S.param_dim > max_entries:
        return FunctionalDimension(S.param_dim, orbit, S.param_dim - orbit, None, None, rtol,
                                   note=f"Jacobian of {n_out * x.shape[0]} x {S.param_dim} not formed "
                                        f"(limit {max_entries:.0e} entries)")
    names = [n for n, _ in S.arch.params]
    shapes = [s for _, s in S.arch.params]
    bufs = {k: v.clone() for k, v in base.named_buffers()}

    def f(th: Any) -> Any:
        params, off = {}, 0
        for n, s in zip(names, shapes):
            size = int(np.prod(s))
            params[n] = th[off:off + size].reshape(s)
            off += size
        return torch.func.functional_call(base, {**params, **bufs}, (x,)).reshape(-1)

    # plain autograd (not torch.func): BatchNorm in training mode updates its buffers in place
    J = torch.autograd.functional.jacobian(f, torch.as_tensor(theta)).detach().numpy()
    s = np.linalg.svd(J, compute_uv=False)
    keep = s > rtol * s[0] if s.size and s[0] > 0 else np.zeros(s.size, dtype=bool)
    rank = int(keep.sum())
    gap = float(s[rank - 1] / s[rank]) if 0 < rank < s.size and s[rank] > 0 else math.inf
    return FunctionalDimension(S.param_dim, orbit, S.param_dim - orbit, rank, gap, rtol)



def _as_inputs(inputs: Any) -> Any:
    import torch

    x = real_array(inputs, "inputs", finite=False, keep_tensor=True)
    x = torch.as_tensor(x) if not isinstance(x, torch.Tensor) else x
    if x.ndim < 2 or x.shape[0] < 1 or not torch.is_floating_point(x):
        raise InputError(f"inputs must be a float batch of shape (B, ...) with B >= 1, got shape {tuple(x.shape)}")
    if not bool(torch.isfinite(x).all()):
        raise InputError("inputs contain NaN or infinite values")
    return x.detach().double()


def _with_params(module: Any, theta: np.ndarray) -> Any:
    """A copy of ``module`` carrying the flat parameter vector ``theta``."""
    m = clone_module(module)
    load_flat(m, theta)
    return m


def _forward(m: Any, x: Any) -> np.ndarray:
    """m(x) under no_grad; a model that fails on x raises InputError."""
    import torch

    with torch.no_grad():
        try:
            out = m(x)
        except (RuntimeError, AssertionError, ValueError) as exc:
            line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise InputError(f"the model fails on inputs of shape {tuple(x.shape)}: {line}") from None
        return out.detach().numpy()


