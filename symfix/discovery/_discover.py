"""Discovery: the largest parameter subspace supporting strongly invariant laws, from data alone.

Free mean-field training keeps an SI law SI for every symmetry of the data, so the mean-field
velocity field at a law supported in a subspace E ⊂ E^G(data) is tangent to E^G(data). The
heuristic grows E_0 ⊂ E_1 ⊂ ... :

1. particles start SI on E_j (Gaussian projected onto E_j) and train by mean-field gradient
   descent constrained to E_j (full batch), so no finite-N or minibatch noise pushes them off;
2. at several snapshots of that run the per-particle velocity N ∂L/∂θ_i is computed on two
   disjoint halves A and B of the data; its components off E_j are O_A and O_B;
3. the signal S = (O_A + O_B)/2 is compared with the split noise (O_A − O_B)/2 direction by
   direction: a principal direction u of S counts only if ||S u|| exceeds ``n_sigma`` times
   ||(O_A − O_B)/2 u|| (for a direction carried by sampling noise alone both have the same
   spread), a threshold calibrated on the data, never a fixed constant;
4. the counted principal directions of S are added to E_j; stop when none is left.

Default E_0 per unit (the point z = 0 is stationary for a neuron with an odd activation, so it
cannot start there): ``neuron``: span of the bias b (fixed by every action of the form
ρ̂ ⊕ ρ^{-T} ⊕ 1); ``matrix_unit`` and ``mlp``: {0}.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._errors import InputError

__all__ = ["discover", "Discovery", "default_start"]


@dataclass(frozen=True)
class Discovery:
    """Result of :func:`discover`: ``basis`` (D × dim, orthonormal columns), ``history`` (one dict
    per iteration: dim, off-subspace signal, noise threshold, directions added) and ``seconds``."""

    basis: np.ndarray
    history: list = field(default_factory=list)
    seconds: float = 0.0

    @property
    def dim(self) -> int:
        return int(self.basis.shape[1])

    def project(self, v: Any) -> np.ndarray:
        v = np.asarray(v, dtype=np.float64)
        return (v @ self.basis) @ self.basis.T

    def angle_to(self, other: Any) -> float:
        """Largest principal angle (radians) to another subspace (orthonormal basis or an object
        with ``orthonormal_basis()``); pi/2 when the dimensions differ."""
        from scipy.linalg import subspace_angles

        Q = other.orthonormal_basis() if hasattr(other, "orthonormal_basis") else other
        Q = Q.toarray() if hasattr(Q, "toarray") else np.asarray(Q, dtype=np.float64)
        if Q.shape[1] != self.dim:
            return float(np.pi / 2)
        if self.dim == 0:
            return 0.0
        return float(np.max(subspace_angles(self.basis, Q)))


def default_start(unit: Any) -> np.ndarray:
    """The documented default E_0 of a unit as an orthonormal (D, k) basis (see module doc)."""
    from ..units._units import Neuron

    D = unit.param_dim
    if isinstance(unit, Neuron):
        e = np.zeros((D, 1))
        e[D - 1, 0] = 1.0  # the bias b is the last coordinate
        return e
    return np.zeros((D, 0))


def discover(
    unit: Any,
    data: Any,
    *,
    n_particles: int = 32,
    lr: float = 1.0,
    horizon: int = 200,
    seed: int | None = None,
    start: Any = None,
    std: float = 0.5,
    snapshots: int = 4,
    n_sigma: float = 3.0,
    max_iter: int | None = None,
    tau: float = 1e-4,
    dtype: Any = None,
) -> Discovery:
    """Find the largest subspace supporting SI laws for the data, without knowing the group.

    Parameters
    ----------
    unit : a unit (``symfix.units``)
    data : (X, Y) arrays of shapes (n, d) and (n, c), n >= 4
    n_particles, lr, horizon : particles, step size (per-particle step lr/N), steps per iteration
    seed : seeds the initial particles and the data split
    start : (D, k) basis of E_0 (default :func:`default_start`)
    std : spread of the SI initialisation
    snapshots : number of points along each run where velocities are compared
    n_sigma : a direction counts when its signal exceeds n_sigma × the split noise along it
    max_iter : at most this many enlargements (default D)

    Returns
    -------
    Discovery

    Examples
    --------
    >>> import numpy as np
    >>> from symfix import units
    >>> u = units.neuron(2, 1, "tanh")
    >>> rng = np.random.default_rng(1)
    >>> X = rng.standard_normal((2000, 2))
    >>> T = np.array([[1.0, 0.8, -0.5, 0.2], [1.0, -0.5, 0.8, 0.2]])  # a neuron and its swap
    >>> Y = u.forward(X, T).mean(0)                  # invariant under swapping x1 and x2
    >>> r = discover(u, (X, Y), n_particles=16, horizon=100, seed=0)
    >>> r.dim                                        # a, b and w1 = w2
    3
    """
    import torch

    t0 = time.perf_counter()
    X, Y = _check_data(unit, data)
    D = unit.param_dim
    for name, v in (("n_particles", n_particles), ("horizon", horizon), ("snapshots", snapshots)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise InputError(f"{name} must be a positive int, got {v!r}")
    if not (isinstance(lr, (int, float)) and lr > 0 and np.isfinite(lr)):
        raise InputError(f"lr must be a finite number > 0, got {lr!r}")
    Q = default_start(unit) if start is None else _orthonormal(start, D)
    rng = np.random.default_rng(seed)
    perm = rng.permutation(X.shape[0])
    half = X.shape[0] // 2
    dt = torch.float64 if dtype is None else dtype
    halves = [(torch.as_tensor(X[idx], dtype=dt), torch.as_tensor(Y[idx], dtype=dt)) for idx in (perm[:half], perm[half : 2 * half])]
    full = (torch.as_tensor(X, dtype=dt), torch.as_tensor(Y, dtype=dt))
    history = []
    for it in range(D if max_iter is None else max_iter):
        if Q.shape[1] == D:
            break
        Qt = torch.as_tensor(Q, dtype=dt)
        th = torch.as_tensor(rng.standard_normal((n_particles, D)) * std, dtype=dt) @ Qt @ Qt.T
        sig, noise = [], []
        marks = set(np.linspace(0, horizon, snapshots).round().astype(int).tolist())
        for step in range(horizon + 1):
            if step in marks:
                oa, ob = (_off(_velocity(unit, h, th, tau), Qt) for h in halves)
                sig.append((oa + ob) / 2)
                noise.append((oa - ob) / 2)
            if step < horizon:
                v = _velocity(unit, full, th, tau)
                th = th - (lr / n_particles) * (v @ Qt @ Qt.T)
        S = torch.cat(sig).numpy()
        Nz = torch.cat(noise).numpy()
        _, s, vt = np.linalg.svd(S, full_matrices=False)
        # split noise along each principal direction: for a pure-noise direction the halves'
        # mean and half-difference have the same spread, for a real one the mean dominates
        along = np.linalg.norm(Nz @ vt.T, axis=0)
        scale = float(s[0]) if s.size else 0.0
        ok = (s > n_sigma * along) & (s > 1e-9 * max(scale, 1e-300))
        k = int(np.argmin(ok)) if not ok.all() else int(ok.size)  # leading run of counted directions
        threshold = float(n_sigma * along[k]) if k < along.size else 0.0
        history.append({"iteration": it, "dim": Q.shape[1], "signal": scale, "threshold": threshold,
                        "noise": float(along.max()) if along.size else 0.0, "added": k})
        if k == 0:
            break
        new = vt[:k].T
        new = new - Q @ (Q.T @ new)
        Q = np.linalg.qr(np.concatenate([Q, new], axis=1))[0]
    return Discovery(basis=Q, history=history, seconds=time.perf_counter() - t0)


def _velocity(unit: Any, data: tuple, th: Any, tau: float) -> Any:
    x, y = data

    def dloss(phi: Any) -> tuple[Any, Any]:
        diff = phi - y
        return diff * (2.0 / y.shape[0]), (diff * diff).sum() / y.shape[0]

    _, g = unit.mean_value_and_grad(x, th, dloss)
    return g + 2.0 * tau * th


def _off(v: Any, Qt: Any) -> Any:
    return v - (v @ Qt) @ Qt.T


def _orthonormal(start: Any, D: int) -> np.ndarray:
    B = start.orthonormal_basis() if hasattr(start, "orthonormal_basis") else start
    B = B.toarray() if hasattr(B, "toarray") else np.asarray(B, dtype=np.float64)
    if B.ndim != 2 or B.shape[0] != D:
        raise InputError(f"start must be a ({D}, k) basis, got shape {B.shape}")
    if B.shape[1] == 0:
        return B
    q, r = np.linalg.qr(B)
    keep = np.abs(np.diag(r)) > 1e-12 * max(1.0, np.abs(r).max())
    return q[:, keep]


def _check_data(unit: Any, data: Any) -> tuple[np.ndarray, np.ndarray]:
    if not (isinstance(data, (tuple, list)) and len(data) == 2):
        raise InputError("data must be a pair (X, Y) of arrays")
    try:
        X, Y = (np.asarray(a, dtype=np.float64) for a in data)
    except (TypeError, ValueError):
        raise InputError("data must be numeric arrays (X, Y)") from None
    if Y.ndim == 1 and unit.c == 1:
        Y = Y[:, None]
    if X.ndim != 2 or X.shape[1] != unit.d or Y.shape != (X.shape[0], unit.c):
        raise InputError(
            f"data: expected X of shape (n, {unit.d}) and Y of shape (n, {unit.c}), got {X.shape} and {Y.shape}; "
            "reshape the arrays or pick a unit with matching d and c"
        )
    if X.shape[0] < 4:
        raise InputError(f"data has {X.shape[0]} samples; discovery needs at least 4 (two halves of two)")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(Y))):
        raise InputError("data contains NaN or inf; drop or impute those samples first")
    return X, Y
