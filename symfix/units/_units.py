"""Unit architectures σ_*(x, z): their parameter layouts, parameter-space actions, and evaluation.

Each unit is an immutable value. ``param_rep(rho_in, rho_out)`` gives the representation M on
the unit's parameters Z = R^D, so that the unit is jointly equivariant,
σ_*(ρ_g x, M_g z) = ρ̂_g σ_*(x, z), whenever the activation commutes with the hidden actions.
``act(theta, mats)`` applies M_g to a batch of particles (N, D) without forming a D x D matrix;
``forward(x, theta)`` evaluates every particle on every input at once (torch or numpy).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from .._errors import InputError
from .._validate import real_array
from ..symbolic.reps import Rep, hom, trivial
from ._activations import is_torch, resolve_activation, resolve_forward_backward, resolve_value_and_derivative
from ._kernels import autograd_grad, matrix_grad, neuron_grad

__all__ = ["Unit", "Neuron", "MatrixUnit", "MLP", "neuron", "matrix_unit", "mlp"]


def _einsum(spec: str, *args: Any) -> Any:
    if is_torch(args[0]):
        import torch

        return torch.einsum(spec, *args)
    return np.einsum(spec, *args)


def _check_dim(v: Any, name: str) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
        raise InputError(f"{name} must be a positive integer, got {v!r}")
    return int(v)


class Unit:
    """Interface shared by all units."""

    d: int
    c: int
    activation: Any

    @property
    def param_dim(self) -> int:
        return len(self.param_names)

    @property
    def param_names(self) -> tuple[str, ...]:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def sigma(self) -> Callable[[Any], Any]:
        return resolve_activation(self.activation)

    def hidden_reps(self, group: Any) -> tuple[Rep, ...]:
        return ()

    def param_rep(self, rho_in: Rep, rho_out: Rep) -> Rep:  # pragma: no cover - abstract
        raise NotImplementedError

    def forward(self, x: Any, theta: Any) -> Any:  # pragma: no cover - abstract
        """Outputs σ_*(x_b, θ_n), shape (N, B, c), for x of shape (B, d) and θ of shape (N, D)."""
        raise NotImplementedError

    def mean_forward(self, x: Any, theta: Any) -> Any:
        """The mean-field model Φ(x_b) = (1/N) Σ_n σ_*(x_b, θ_n), shape (B, c)."""
        return self.forward(x, theta).mean(0)

    def mean_value_and_grad(self, x: Any, theta: Any, dloss: Callable[[Any], tuple[Any, Any]]) -> tuple[Any, Any]:
        """Loss and N ∂L/∂θ (N, D) for a loss L(Φ(x)) whose gradient in Φ is given (torch).

        ``dloss(phi)`` returns (R, loss) with R = ∂L/∂Φ of shape (B, c). Then
        N ∂L/∂θ_n = Σ_b Dσ_*(x_b, θ_n)ᵀ R_b. This default uses autograd; units with a named
        entrywise activation override it with the closed form.
        """
        import torch

        th = theta.detach().requires_grad_(True)
        phi = self.mean_forward(x, th)
        R, loss = dloss(phi.detach())
        (g,) = torch.autograd.grad(phi, th, R)
        return loss, g.mul_(theta.shape[0])

    def ensemble_value_and_grad(self, x: Any, theta: Any, dloss: Callable[[Any], tuple[Any, Any]]) -> tuple[Any, Any]:
        """Losses (R,) and drifts (R, N, D) of R runs at once (torch): x (R, B, d), θ (R, N, D).

        ``dloss(S)`` receives the partial sums S = Σ_n σ_*(x_rb, θ_rn), shape (R, B, c), and
        returns (G, losses) with G = ∂L/∂Φ; the drift is Σ_b Dσ_*(x_rb, θ_rn)ᵀ G_rb. Because
        only sums cross the particle axis, a run's particles may be split across processes.
        This default uses autograd; units with a named entrywise activation use closed forms.
        """
        return autograd_grad(self, x, theta, dloss)

    def act(self, theta: Any, rho_in: Any, rho_out: Any, hidden: Sequence[Any] = ()) -> Any:  # pragma: no cover
        """M_g θ for particles θ (N, D), given the matrices ρ_g, ρ̂_g (and hidden-layer ρ_l(g))."""
        raise NotImplementedError

    def _inputs(self, x: Any, theta: Any) -> tuple[Any, Any]:
        """(x, θ) validated: float arrays or tensors as given; anything else (lists, ints) is
        converted to float64 numpy (or to θ's tensor type when θ is a tensor)."""
        fast = lambda v: (is_torch(v) and v.is_floating_point()) or (isinstance(v, np.ndarray) and v.dtype.kind == "f")
        if not (fast(x) and fast(theta) and is_torch(x) == is_torch(theta)):
            x = real_array(x, "inputs x", ndim=2, finite=False, keep_tensor=True)
            theta = real_array(theta, "particles", ndim=2, finite=False, keep_tensor=True)
            if is_torch(x) != is_torch(theta):
                import torch

                ref = x if is_torch(x) else theta
                x, theta = (torch.as_tensor(v, dtype=ref.dtype, device=ref.device) for v in (x, theta))
            elif is_torch(x) and x.dtype != theta.dtype:
                x = x.to(theta.dtype)
        self._check_x_theta(x, theta)
        return x, theta

    def _check_x_theta(self, x: Any, theta: Any) -> None:
        if x.ndim != 2 or x.shape[1] != self.d:
            raise InputError(f"inputs must have shape (B, {self.d}), got {tuple(x.shape)}")
        if theta.ndim != 2 or theta.shape[1] != self.param_dim:
            raise InputError(f"particles must have shape (N, {self.param_dim}), got {tuple(theta.shape)}")
        if theta.shape[0] == 0:
            raise InputError("particles are empty (N = 0): the mean-field model (1/N) Σ σ_*(x, θ_n) needs N >= 1")


@dataclass(frozen=True)
class Neuron(Unit):
    """σ_*(x, (a, w, b)) = a σ(w·x + b), with a ∈ R^c, w ∈ R^d, b ∈ R; M_g = ρ̂_g ⊕ ρ_g^{-T} ⊕ 1."""

    d: int
    c: int
    activation: Any = "tanh"

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple([f"a[{k}]" for k in range(self.c)] + [f"w[{j}]" for j in range(self.d)] + ["b"])

    def param_rep(self, rho_in: Rep, rho_out: Rep) -> Rep:
        return rho_out + rho_in.dual + trivial(rho_in.group)

    def forward(self, x: Any, theta: Any) -> Any:
        x, theta = self._inputs(x, theta)
        c, d = self.c, self.d
        a, w, b = _split_cols(theta, (c, d, 1))
        h = self.sigma(x @ w.T + b[:, 0])  # (B, N)
        return _einsum("bn,nc->nbc", h, a)

    def mean_forward(self, x: Any, theta: Any) -> Any:
        """(1/N) σ(x Wᵀ + b) a: one matrix product, no (N, B, c) intermediate."""
        x, theta = self._inputs(x, theta)
        c, d = self.c, self.d
        a, w, b = _split_cols(theta, (c, d, 1))
        return (self.sigma(x @ w.T + b[:, 0]) @ a) / theta.shape[0]

    def mean_value_and_grad(self, x: Any, theta: Any, dloss: Callable[[Any], tuple[Any, Any]]) -> tuple[Any, Any]:
        """Closed form: with pre = x wᵀ + b, h = σ(pre), u = (R aᵀ) ⊙ σ'(pre), the gradient blocks
        are hᵀR (a), uᵀx (w) and Σ_b u (b); written straight into a parameter-major (D, N) buffer."""
        fb = resolve_forward_backward(self.activation)
        if fb is None:
            return super().mean_value_and_grad(x, theta, dloss)
        import torch

        c, d, N = self.c, self.d, theta.shape[0]
        a, w, b = _split_cols(theta, (c, d, 1))
        h, backward = fb(torch.addmm(b[:, 0], x, w.T))  # (B, N)
        R, loss = dloss((h @ a) / N)
        u = backward(R @ a.T)
        out = torch.empty((self.param_dim, N), dtype=theta.dtype, device=theta.device)
        torch.mm(R.T, h, out=out[:c])
        torch.mm(x.T, u, out=out[c : c + d])
        torch.sum(u, dim=0, out=out[c + d])
        return loss, out.T

    def ensemble_value_and_grad(self, x: Any, theta: Any, dloss: Callable[[Any], tuple[Any, Any]]) -> tuple[Any, Any]:
        fb = resolve_forward_backward(self.activation)
        return autograd_grad(self, x, theta, dloss) if fb is None else neuron_grad(self, x, theta, dloss, fb)

    def act(self, theta: Any, rho_in: Any, rho_out: Any, hidden: Sequence[Any] = ()) -> Any:
        c, d = self.c, self.d
        a, w, b = theta[:, :c], theta[:, c : c + d], theta[:, c + d :]
        inv_t = _inv_t(rho_in)
        parts = [a @ rho_out.T, w @ inv_t.T, b]
        return _cat(parts)


@dataclass(frozen=True)
class MatrixUnit(Unit):
    """σ_*(x, z) = σ(z x) entrywise, z ∈ R^{c×d} (row-major); M_g z = ρ̂_g z ρ_g^{-1}."""

    d: int
    c: int
    activation: Any = "sigmoid"

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(f"z[{i},{j}]" for i in range(self.c) for j in range(self.d))

    def param_rep(self, rho_in: Rep, rho_out: Rep) -> Rep:
        return hom(rho_in, rho_out)

    def forward(self, x: Any, theta: Any) -> Any:
        x, theta = self._inputs(x, theta)
        z = theta.reshape(theta.shape[0], self.c, self.d)
        return self.sigma(_einsum("ncd,bd->nbc", z, x))

    def mean_value_and_grad(self, x: Any, theta: Any, dloss: Callable[[Any], tuple[Any, Any]]) -> tuple[Any, Any]:
        """Closed form: N ∂L/∂z_n = Σ_b (R_b ⊙ σ'(z_n x_b)) x_bᵀ."""
        fb = resolve_forward_backward(self.activation)
        if fb is None:
            return super().mean_value_and_grad(x, theta, dloss)
        import torch

        N = theta.shape[0]
        z = theta.reshape(N, self.c, self.d)
        h, backward = fb(torch.einsum("ncd,bd->nbc", z, x))
        R, loss = dloss(h.mean(0))
        v = backward(R.expand(N, -1, -1).contiguous())
        g = torch.einsum("nbc,bd->ncd", v, x)
        return loss, g.reshape(N, self.param_dim)

    def ensemble_value_and_grad(self, x: Any, theta: Any, dloss: Callable[[Any], tuple[Any, Any]]) -> tuple[Any, Any]:
        vd = resolve_value_and_derivative(self.activation)
        return autograd_grad(self, x, theta, dloss) if vd is None else matrix_grad(self, x, theta, dloss, vd)

    def act(self, theta: Any, rho_in: Any, rho_out: Any, hidden: Sequence[Any] = ()) -> Any:
        z = theta.reshape(theta.shape[0], self.c, self.d)
        out = _einsum("ij,njk,lk->nil", rho_out, z, _inv_t(rho_in))
        return out.reshape(theta.shape[0], self.c * self.d)


@dataclass(frozen=True)
class MLP(Unit):
    """A multilayer unit: x -> σ(W1 x + b1) -> ... -> W_L h + b_L (linear output layer).

    ``hidden`` holds one representation per hidden layer (of the problem's group); ``None``
    means every hidden layer is acted on trivially. Weights transform as ρ_out ⊗ ρ_in^* of
    their layer, biases as ρ_out.
    """

    widths: tuple[int, ...]
    activation: Any = "tanh"
    hidden: tuple[Rep, ...] | None = None

    @property
    def d(self) -> int:  # type: ignore[override]
        return self.widths[0]

    @property
    def c(self) -> int:  # type: ignore[override]
        return self.widths[-1]

    @property
    def param_names(self) -> tuple[str, ...]:
        names: list[str] = []
        for l_ in range(len(self.widths) - 1):
            m, n = self.widths[l_ + 1], self.widths[l_]
            names += [f"W{l_ + 1}[{i},{j}]" for i in range(m) for j in range(n)]
            names += [f"b{l_ + 1}[{i}]" for i in range(m)]
        return tuple(names)

    @property
    def param_dim(self) -> int:
        w = self.widths
        return sum(w[i + 1] * w[i] + w[i + 1] for i in range(len(w) - 1))

    def hidden_reps(self, group: Any) -> tuple[Rep, ...]:
        if self.hidden is None:
            return tuple(trivial(group, h) for h in self.widths[1:-1])
        return self.hidden

    def param_rep(self, rho_in: Rep, rho_out: Rep) -> Rep:
        layers = [rho_in, *self.hidden_reps(rho_in.group), rho_out]
        parts: list[Rep] = []
        for a, b in zip(layers[:-1], layers[1:]):
            parts += [hom(a, b), b]
        out = parts[0]
        for p in parts[1:]:
            out = out + p
        return out

    def _split(self, theta: Any) -> list[tuple[Any, Any]]:
        out, off, N = [], 0, theta.shape[0]
        for l_ in range(len(self.widths) - 1):
            m, n = self.widths[l_ + 1], self.widths[l_]
            W = theta[:, off : off + m * n].reshape(N, m, n)
            off += m * n
            b = theta[:, off : off + m]
            off += m
            out.append((W, b))
        return out

    def forward(self, x: Any, theta: Any) -> Any:
        x, theta = self._inputs(x, theta)
        layers = self._split(theta)
        W, b = layers[0]
        h = _einsum("nij,bj->nbi", W, x) + b[:, None, :]
        for W, b in layers[1:]:
            h = _einsum("nij,nbj->nbi", W, self.sigma(h)) + b[:, None, :]
        return h

    def act(self, theta: Any, rho_in: Any, rho_out: Any, hidden: Sequence[Any] = ()) -> Any:
        mats = [rho_in, *hidden, rho_out]
        if len(mats) != len(self.widths):
            raise InputError(f"act needs {len(self.widths) - 2} hidden-layer matrices, got {len(hidden)}")
        parts = []
        for (W, b), (a, m) in zip(self._split(theta), zip(mats[:-1], mats[1:])):
            W2 = _einsum("ij,njk,lk->nil", m, W, _inv_t(a))
            parts += [W2.reshape(theta.shape[0], -1), b @ m.T]
        return _cat(parts)


def _inv_t(m: Any) -> Any:
    """ρ^{-T}; equals ρ for orthogonal matrices."""
    if is_torch(m):
        import torch

        return torch.linalg.inv(m).T
    return np.linalg.inv(m).T


def _split_cols(theta: Any, sizes: Sequence[int]) -> list[Any]:
    """Column blocks of θ; in torch one split op, whose backward is a single concatenation
    (slicing three times would allocate three full-size zero gradients)."""
    if is_torch(theta):
        return list(theta.split(list(sizes), dim=1))
    out, k = [], 0
    for n in sizes:
        out.append(theta[:, k : k + n])
        k += n
    return out


def _cat(parts: Sequence[Any]) -> Any:
    if is_torch(parts[0]):
        import torch

        return torch.cat(list(parts), dim=1)
    return np.concatenate(parts, axis=1)


def neuron(d: int, c: int = 1, activation: Any = "tanh") -> Neuron:
    """The single-neuron unit a·σ(w·x + b), D = c + d + 1.

    >>> u = neuron(2, 1, "tanh")
    >>> u.param_dim, u.param_names
    (4, ('a[0]', 'w[0]', 'w[1]', 'b'))
    """
    resolve_activation(activation)
    return Neuron(_check_dim(d, "d"), _check_dim(c, "c"), activation)


def matrix_unit(d: int, c: int, activation: Any = "sigmoid") -> MatrixUnit:
    """The matrix unit σ(z x), z ∈ R^{c×d} (the paper's teacher-student unit), D = c·d.

    >>> matrix_unit(2, 2).param_names
    ('z[0,0]', 'z[0,1]', 'z[1,0]', 'z[1,1]')
    """
    resolve_activation(activation)
    return MatrixUnit(_check_dim(d, "d"), _check_dim(c, "c"), activation)


def mlp(widths: Sequence[int], activation: Any = "tanh", hidden_reps: Sequence[Rep] | None = None) -> MLP:
    """A multilayer unit with widths [d, h1, ..., c] and optional hidden-layer representations.

    >>> mlp([3, 4, 1]).param_dim
    21
    """
    if isinstance(widths, (str, bytes)) or not isinstance(widths, (list, tuple)) or len(widths) < 2:
        raise InputError("mlp widths must be a list [d, h1, ..., c] with at least two entries")
    ws = tuple(_check_dim(w, "each width") for w in widths)
    resolve_activation(activation)
    hidden = None
    if hidden_reps is not None:
        hidden = tuple(hidden_reps)
        if len(hidden) != len(ws) - 2:
            raise InputError(f"mlp has {len(ws) - 2} hidden layers but {len(hidden)} hidden_reps were given")
        for k, (r, w) in enumerate(zip(hidden, ws[1:-1])):
            if not isinstance(r, Rep):
                raise InputError(f"hidden_reps[{k}] is not a representation")
            if r.dim != w:
                raise InputError(f"hidden_reps[{k}] has dimension {r.dim} but hidden layer {k + 1} has width {w}")
    return MLP(ws, activation, hidden)
