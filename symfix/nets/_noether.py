"""Noether charges of exponential symmetries and their motion under SGD (Ziyin et al., NeurIPS 2024).

An exponential symmetry is a symmetric generator A of the Lie algebra with ℓ(e^{λA}θ, x) = ℓ(θ, x)
for every sample x and every λ. Differentiating at λ = 0 gives, per sample,

    θᵀ A ∇ℓ(θ, x) = 0,                                                           (1)

hence also for any minibatch gradient g (an average of per-sample gradients): θᵀAg = 0. The
charge C_A(θ) = θᵀAθ then obeys, for the updates of ``torch.optim.SGD`` (lr η, momentum μ,
weight decay λ, dampening 0, no Nesterov), with d_t = g_t + λθ_t, b_t = μ b_{t-1} + d_t (b_0 = 0)
and θ_{t+1} = θ_t − η b_t:

    C(θ_{t+1}) − C(θ_t) = −2η θ_tᵀ A b_t + η² b_tᵀ A b_t
                        = −2η (μ θ_tᵀ A b_{t-1} + λ C(θ_t)) + η² b_tᵀ A b_t        (2)

since θ_tᵀ A b_t = μ θ_tᵀ A b_{t-1} + θ_tᵀ A g_t + λ θ_tᵀAθ_t and the middle term is 0 by (1).
Special cases: plain SGD (μ = λ = 0): ΔC = η² gᵀAg, no first-order term; weight decay only:
ΔC = ((1 − ηλ)² − 1) C + η² gᵀAg. Gradient flow conserves C (dC/dt = −2θᵀA∇L = 0).

Noise equilibrium. Along the orbit, per-sample gradients transform as ∇ℓ(e^{λA}θ) = e^{−λA}∇ℓ(θ)
(differentiate ℓ(e^{λA}θ') = ℓ(θ') and use Aᵀ = A), so the minibatch covariance becomes
Σ(λ) = e^{−λA} Σ e^{−λA}, and the mean Noether flow η² E[gᵀAg] = η² Tr[A (Σ_B + ∇L∇Lᵀ)] at
e^{λA}θ is η² G(λ) with

    G(λ) = Tr[A e^{−2λA} M],      M = Σ_B + ∇L∇Lᵀ,   Σ_B = Σ_1 / B  (B the batch size),

and G'(λ) = −2 Tr[A² e^{−2λA} M] ≤ 0: G is monotone. When A has eigenvalues of both signs
(and M charges both), G has one root λ*, the noise equilibrium; where A ⪰ 0 (scale invariance
before BatchNorm) G > 0 and the charge grows without bound. For a generator dA(X) of a scale
class, A acts as X on the channels of the writers and as −Xᵀ on the readers, so with the
class-level Gram blocks M_w = Σ_writers R(M) and M_r = Σ_readers R(M) (n x n),

    G(λ) = Tr[X e^{−2λX} M_w] − Tr[X e^{2λX} M_r]       (X symmetric).

For a rescaling E_ii this is e^{−2λ} M_w,ii − e^{2λ} M_r,ii, so λ* = ¼ ln(M_w,ii / M_r,ii) in
closed form; for GL generators E_ij + E_ji the root is bracketed and found by
``scipy.optimize.brentq``. Jointly over GL(n) the equilibrium e^{X} = G with S = GᵀG solves
S M_r S = M_w (the matrix geometric mean S = M_r^{-1/2}(M_r^{1/2} M_w M_r^{1/2})^{1/2} M_r^{-1/2}).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .._errors import InputError

__all__ = ["NoetherMonitor", "class_grams", "per_sample_grads", "noise_grams", "bilinear", "equilibrium"]


# ----------------------------------------------------------------------------- Gram blocks


def _params(S: Any, x: Any) -> dict:
    """Parameter tensors (float64, detached) from a module, a flat vector or a dict."""
    import torch

    if isinstance(x, dict):
        return {k: v if isinstance(v, torch.Tensor) else torch.as_tensor(v, dtype=torch.float64) for k, v in x.items()}
    if isinstance(x, torch.nn.Module):
        S.check_module(x)
        return {n: p.detach() for n, p in x.named_parameters()}  # products are summed in float64
    v = torch.as_tensor(np.asarray(x.detach().cpu() if hasattr(x, "detach") else x, dtype=np.float64))
    if v.shape[-1:] != (S.param_dim,):
        raise InputError(f"expected a module or a flat vector of length D = {S.param_dim}, got shape {tuple(v.shape)}")
    out, off = {}, 0
    for name, shape in S.arch.params:
        size = int(np.prod(shape))
        out[name] = v[..., off:off + size].reshape(*v.shape[:-1], *shape)
        off += size
    return out


def _rows(P: Any, axis: int, n: int, batched: bool) -> Any:
    """Rows = channels: shape (n, m), or (s, n, m) with a leading sample axis."""
    if batched:
        return P.movedim(axis + 1, 1).reshape(P.shape[0], n, -1)
    return P.movedim(axis, 0).reshape(n, -1)


def class_grams(S: Any, a: dict, b: dict, k: int, *, batched: bool = False) -> tuple[Any, Any]:
    """(W, R): n x n Gram blocks Σ_writers rows(a) rows(b)ᵀ (BatchNorm affine parameters on the
    diagonal) and Σ_readers rows(b) rows(a)ᵀ of scale class k; summed over a leading sample axis
    when ``batched``. aᵀ dA(X) b = <X, W − R> for every X of the class."""
    import torch

    sc = S.arch.scales[k]
    n = sc.width
    W = torch.zeros((n, n), dtype=torch.float64)
    R = torch.zeros((n, n), dtype=torch.float64)
    for t in sc.touches:
        if t.role == "absorber":
            continue
        ra, rb = _rows(a[t.param], t.axis, n, batched), _rows(b[t.param], t.axis, n, batched)
        if t.role == "writer":
            W += torch.einsum("...im,...jm->ij", ra, rb)
        elif t.role == "bn_writer":
            W += torch.diag(torch.einsum("...im,...im->i", ra, rb))
        else:
            R += torch.einsum("...im,...jm->ij", rb, ra)
    return W, R


class _Pairing:
    """aᵀ A_k b for every generator, with the reductions planned once from ``S``.

    For a rescaling class, aᵀ A_k b is a signed sum over the parameters the class touches of
    a ⊙ b reduced over every axis but the class's own; the plan lists, per parameter, those
    reductions and the slice of the output they land in, so each product a ⊙ b is formed once and
    nothing is looked up per call. GL classes go through their n x n Gram blocks."""

    def __init__(self, S: Any) -> None:
        import torch

        self.S = S
        self.jobs: dict[str, list] = {}
        self.gl: list[tuple[int, int, str]] = []
        ndim = {name: len(shape) for name, shape in S.arch.params}
        where: dict[str, list] = {}
        off = 0
        for k, kind in S._continuous.items():
            sc = S.arch.scales[k]
            n = sc.width
            if kind != "scale":
                self.gl.append((k, off, kind))
                off += n * n
                continue
            for t in sc.touches:
                if t.role == "absorber":
                    continue
                dims = tuple(d for d in range(ndim[t.param]) if d != t.axis)
                self.jobs.setdefault(t.param, []).append((dims, n, t.block))
                sign = -1.0 if t.role == "reader" else 1.0
                where.setdefault(t.param, []).append((torch.arange(off, off + n), torch.full((n,), sign, dtype=torch.float64)))
            off += n
        self.size = off
        flat = [w for name in self.jobs for w in where[name]]  # the order __call__ produces the sums in
        self.index = torch.cat([i for i, _ in flat]) if flat else None  # output slot of every sum's entries
        self.sign = torch.cat([s for _, s in flat]) if flat else None  # −1 for readers
        self._buf: dict[str, Any] = {}

    def _product(self, name: str, a: Any, b: Any) -> Any:
        """a ⊙ b into a buffer kept per parameter: a monitor calls this every step, and a fresh
        tensor of a large layer each time costs more in page faults than the product itself."""
        import torch

        if a.dtype != b.dtype or a.shape != b.shape:
            return a * b
        buf = self._buf.get(name)
        if buf is None or buf.shape != a.shape or buf.dtype != a.dtype or buf.device != a.device:
            buf = self._buf[name] = torch.empty_like(a)
        return torch.mul(a, b, out=buf)

    def __call__(self, pa: dict, pb: dict) -> np.ndarray:
        import torch

        parts = []
        with torch.no_grad():
            for name, jobs in self.jobs.items():
                pr = self._product(name, pa[name], pb[name])
                for dims, n, block in jobs:
                    v = pr.sum(dim=dims) if dims else pr  # sums in the parameters' dtype, differences in float64
                    parts.append(v.reshape(n, block).sum(1) if block > 1 else v)
            out = torch.zeros(self.size, dtype=torch.float64)
            if parts:
                out.index_add_(0, self.index, torch.cat(parts).to(torch.float64) * self.sign)
            if self.gl:
                da, db = ({n: v.double() for n, v in p.items()} for p in (pa, pb))
                for k, off, kind in self.gl:
                    W, R = class_grams(self.S, da, db, k)
                    F = W - R
                    out[off:off + F.shape[0] ** 2] = torch.cat(_generator_values(F, kind))
        return out.numpy()


def bilinear(S: Any, a: Any, b: Any) -> np.ndarray:
    """aᵀ A_k b for every generator A_k of ``S.lie_algebra``, in its order (float64)."""
    return _Pairing(S)(_params(S, a), _params(S, b))


def _generator_values(F: Any, kind: str) -> list:
    """<X, F> for the generators X of a class in ``lie_algebra`` order: the diagonal for
    rescalings; for GL(n) the diagonal, F_ij + F_ji (i < j), then F_ij − F_ji (i < j)."""
    import torch

    if kind == "scale":
        return [torch.diagonal(F)]
    n = F.shape[0]
    iu = torch.triu_indices(n, n, offset=1)
    return [torch.diagonal(F), F[iu[0], iu[1]] + F[iu[1], iu[0]], F[iu[0], iu[1]] - F[iu[1], iu[0]]]


# --------------------------------------------------------------------- per-sample gradients


def per_sample_grads(S: Any, module: Any, loss: Callable, x: Any, y: Any) -> dict:
    """Per-sample gradients {name: (n, *shape)} of loss(module(x_s), y_s) (torch.func.vmap of grad)."""
    from torch import nn
    from torch.func import functional_call, grad, vmap

    if any(isinstance(m, nn.modules.batchnorm._BatchNorm) and m.training for m in module.modules()):
        raise InputError("per-sample gradients are not defined for BatchNorm in training mode (batch statistics "
                         "couple the samples); probe a copy of the model in eval mode")
    params = {n: p.detach() for n, p in module.named_parameters()}
    bufs = {n: b.detach() for n, b in module.named_buffers()}

    def one(p: dict, xs: Any, ys: Any) -> Any:
        out = functional_call(module, {**p, **bufs}, (xs.unsqueeze(0),))
        return loss(out, ys.unsqueeze(0))

    try:
        return vmap(grad(one), in_dims=(None, 0, 0))(params, x, y)
    except RuntimeError as exc:
        line = (str(exc).strip().splitlines() or ["error"])[0]
        raise InputError(f"per-sample gradients failed on the probe batch ({line}); the probe must be (x, y) "
                         "tensors the model and loss accept one sample at a time") from None


def noise_grams(S: Any, G: dict, batch_size: int) -> dict:
    """Per class: (M_w, M_r) Gram blocks of M = Σ_1 / B + ḡḡᵀ from per-sample gradients G."""
    n_s = next(iter(G.values())).shape[0]
    mean = {k: v.mean(0) for k, v in G.items()}
    dev = {k: v - mean[k] for k, v in G.items()}
    out = {}
    for k in S._continuous:
        Ww, Rw = class_grams(S, dev, dev, k, batched=True)
        Wm, Rm = class_grams(S, mean, mean, k)
        out[k] = ((Ww / (n_s * batch_size) + Wm).numpy(), (Rw / (n_s * batch_size) + Rm).numpy())
    return out


# ------------------------------------------------------------------------------ equilibria


def _eig_sym(kind: str, i: int, j: int, n: int) -> list[tuple[float, np.ndarray]]:
    if kind == "diag":
        v = np.zeros(n)
        v[i] = 1.0
        return [(1.0, v)]
    vp, vm = np.zeros(n), np.zeros(n)
    vp[[i, j]] = [1 / math.sqrt(2), 1 / math.sqrt(2)]
    vm[[i, j]] = [1 / math.sqrt(2), -1 / math.sqrt(2)]
    return [(1.0, vp), (-1.0, vm)]


def equilibrium(S: Any, theta: dict, grams: dict) -> tuple[np.ndarray, np.ndarray]:
    """(λ*, C*) per generator: the root of G(λ) along its orbit and the charge there.

    λ* = +inf (-inf) where G stays positive (negative): the charge grows (shrinks) without
    bound; NaN for antisymmetric generators (no exponential symmetry)."""
    from scipy.optimize import brentq

    lam, cstar = [], []
    L = S.lie_algebra
    for c, kind, i, j in L._spec:
        n = S.arch.scales[c].width
        if kind == "skew":
            lam.append(math.nan), cstar.append(math.nan)
            continue
        Mw, Mr = grams[c]
        Qw, Qr = class_grams(S, theta, theta, c)
        Qw, Qr = Qw.numpy(), Qr.numpy()
        eig = _eig_sym(kind, i, j, n)
        pw = [(s, v @ Mw @ v, v @ Mr @ v, v @ Qw @ v, v @ Qr @ v) for s, v in eig]

        def G(x: float) -> float:
            return sum(s * (math.exp(-2 * x * s) * mw - math.exp(2 * x * s) * mr) for s, mw, mr, _, _ in pw)

        if kind == "diag":
            mw, mr = pw[0][1], pw[0][2]
            x = 0.25 * math.log(mw / mr) if mw > 0 and mr > 0 else (math.inf if mw > 0 else -math.inf if mr > 0 else math.nan)
        else:
            lo, hi = -1.0, 1.0
            while G(lo) < 0 and lo > -50:
                lo *= 2
            while G(hi) > 0 and hi < 50:
                hi *= 2
            x = brentq(G, lo, hi, xtol=1e-14) if G(lo) >= 0 >= G(hi) else (math.inf if G(hi) > 0 else -math.inf)
        lam.append(x)
        if math.isfinite(x):
            cstar.append(sum(s * (math.exp(2 * x * s) * qw - math.exp(-2 * x * s) * qr) for s, _, _, qw, qr in pw))
        else:
            cstar.append(math.inf if x > 0 else -math.inf)
    return np.array(lam), np.array(cstar)


# --------------------------------------------------------------------------------- monitor


def _sgd_settings(optimizer: Any) -> tuple[float, float, float]:
    import torch

    if not isinstance(optimizer, torch.optim.SGD):
        raise InputError(f"NoetherMonitor's formula covers torch.optim.SGD (momentum, weight decay); got "
                         f"{type(optimizer).__name__}, whose step moves the charges by a rule not derived here")
    keys = {(g["lr"], g.get("momentum", 0), g.get("weight_decay", 0), g.get("dampening", 0), g.get("nesterov", False),
             g.get("maximize", False)) for g in optimizer.param_groups}
    if len(keys) != 1:
        raise InputError("NoetherMonitor needs one lr, momentum and weight decay for all parameter groups "
                         "(with different ones the first-order term θᵀAg no longer cancels)")
    lr, mom, wd, damp, nest, maxi = keys.pop()
    if damp != 0 or nest or maxi:
        raise InputError("NoetherMonitor covers SGD with dampening=0, nesterov=False, maximize=False")
    return float(lr), float(mom), float(wd)


@dataclass
class NoetherMonitor:
    """Charges of every exponential symmetry, recorded after each optimizer step of any torch loop.

    Use: ``mon = NoetherMonitor(S)`` then, after each ``optimizer.step()``, ``mon(model, optimizer)``.
    Every ``every`` steps it records the charges C(θ_{t+1}), the change predicted by formula (2) of
    the module docstring from that step's gradient (``predicted``) and the measured change
    (``measured``, from the charges one step earlier). With ``probe=(x, y)``, ``loss`` and
    ``batch_size`` it also records, from per-sample gradients on the probe batch,
    ``noise`` = Tr[A Σ_B], ``drift`` = ∇Lᵀ A ∇L + Tr[A Σ_B] (times η² the mean Noether flow), the
    equilibrium ``lam_star`` along each orbit and the charge ``charge_star`` there.

    ``history()`` returns a dict of float64 arrays (rows = recorded steps, columns = generators in
    the order of ``S.lie_algebra``); ``names`` names the columns.
    """

    S: Any
    every: int = 1
    probe: Any = None
    loss: Callable | None = None
    batch_size: int | None = None
    _rows: dict = field(default_factory=dict, repr=False)
    _count: dict = field(default_factory=dict, repr=False)
    _last: Any = field(default=None, repr=False)
    _step: int = field(default=0, repr=False)
    _module: Any = field(default=None, repr=False)
    _named: list = field(default_factory=list, repr=False)
    _pair: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.S.lie_dim == 0:
            raise InputError("this model has no exponential symmetry (no rescaling, GL or BatchNorm scale "
                             "invariance): there is no charge to monitor")
        if not isinstance(self.every, int) or self.every < 1:
            raise InputError(f"every must be a positive integer, got {self.every!r}")
        if self.probe is not None:
            ok = isinstance(self.probe, (tuple, list)) and len(self.probe) == 2
            if not ok or not all(hasattr(t, "shape") for t in self.probe) or self.probe[0].shape[0] != self.probe[1].shape[0]:
                raise InputError("probe must be a pair (x, y) of tensors with the same number of samples")
            if self.probe[0].shape[0] < 2:
                raise InputError("probe needs at least 2 samples to estimate a covariance")
            if self.loss is None or not isinstance(self.batch_size, int) or self.batch_size < 1:
                raise InputError("with a probe, give loss=(prediction, target) -> scalar and the training batch_size")
        self._pair = _Pairing(self.S)
        for k in ("step", "charges", "predicted", "measured", "noise", "drift", "lam_star", "charge_star"):
            self._rows[k] = np.zeros((0,) if k == "step" else (0, self.S.lie_dim), dtype=np.int64 if k == "step" else np.float64)
            self._count[k] = 0

    @property
    def names(self) -> list[str]:
        return self.S.lie_algebra.names

    def _parameters(self, module: Any) -> list:
        """(name, parameter) pairs, checked against ``S`` when the module or its parameters change."""
        params = list(module.named_parameters()) if self._module is module else None
        if params is not None and len(params) == len(self._named) and all(
                p is q for (_, p), (_, q) in zip(params, self._named)):
            return self._named
        self.S.check_module(module)
        self._module, self._named = module, list(module.named_parameters())
        return self._named

    def __call__(self, module: Any, optimizer: Any) -> None:
        lr, mom, wd = _sgd_settings(optimizer)
        self._step += 1
        record = self._step % self.every == 0
        if not record and (self._step + 1) % self.every != 0:
            return
        named = self._parameters(module)
        th = {n: p.detach() for n, p in named}
        now = self._pair(th, th)
        if record:
            self._record(module, optimizer, named, th, now, lr, mom, wd)
        self._last = now

    def _record(self, module: Any, optimizer: Any, named: list, th: dict, now: np.ndarray, lr: float, mom: float,
                wd: float) -> None:
        import torch

        S, pair = self.S, self._pair
        g = {n: (p.grad.detach() if p.grad is not None else torch.zeros_like(th[n])) for n, p in named}
        if not mom:  # b_t = g + λθ_t and θ_{t+1} = (1 − ηλ)θ_t − ηg: ΔC = ((1 − ηλ)² − 1) C_t + η² gᵀAg
            if self._last is not None:
                c_prev = self._last
            else:
                c_prev = pair(*([{n: (th[n].double() + lr * g[n].double()) / (1 - lr * wd) for n in th}] * 2))
            pred = ((1 - lr * wd) ** 2 - 1) * c_prev + lr * lr * pair(g, g)
        else:  # formula (2) with μ b_{t-1} = b_t − d_t and θ_t = θ_{t+1} + η b_t
            b = {}
            for n, p in named:
                buf = optimizer.state.get(p, {}).get("momentum_buffer")
                b[n] = buf.detach().double() if buf is not None else torch.zeros_like(th[n], dtype=torch.float64)
            prev = {n: th[n].double() + lr * b[n] for n in th}
            c_prev = self._last if self._last is not None else pair(prev, prev)
            cross = pair(prev, {n: b[n] - g[n].double() - wd * prev[n] for n in th})
            pred = -2 * lr * (cross + wd * c_prev) + lr * lr * pair(b, b)
        meas = now - c_prev
        self._put("step", self._step), self._put("charges", now), self._put("predicted", pred), self._put("measured", meas)
        if self.probe is not None:
            x, y = self.probe
            G = per_sample_grads(S, module, self.loss, x, y)
            G = {n: v.to(torch.float64) for n, v in G.items()}
            n_s = x.shape[0]
            mean = {n: v.mean(0) for n, v in G.items()}
            dev = {n: v - mean[n] for n, v in G.items()}
            tr = _batched_bilinear(S, dev) / (n_s * self.batch_size)
            self._put("noise", tr)
            self._put("drift", tr + pair(mean, mean))
            lam, cst = equilibrium(S, th, noise_grams(S, G, self.batch_size))
            self._put("lam_star", lam), self._put("charge_star", cst)

    def _put(self, key: str, row: Any) -> None:
        """Append a row to a history array grown by doubling: one large block per quantity rather than
        a small array per step, which kept the allocator returning and refaulting pages every step."""
        a, i = self._rows[key], self._count[key]
        if i == a.shape[0]:
            a = self._rows[key] = np.concatenate([a, np.empty((max(16, i),) + a.shape[1:], dtype=a.dtype)])
        a[i] = row
        self._count[key] = i + 1

    def history(self) -> dict:
        """Recorded arrays: step (T,), charges, predicted, measured (T x K), and with a probe
        noise, drift, lam_star, charge_star (T x K)."""
        return {k: v[:self._count[k]].copy() for k, v in self._rows.items()}

    def plot(self, path: str, *, generators: Any = None, title: str = "") -> None:
        """Charges against steps (up to 8 generators), with the equilibrium charge when probed."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        h = self.history()
        if h["step"].size == 0:
            raise InputError("nothing recorded yet: call the monitor after optimizer steps first")
        ks = list(range(min(8, self.S.lie_dim))) if generators is None else list(generators)
        fig, ax = plt.subplots(figsize=(7, 4))
        for j, k in enumerate(ks):
            line, = ax.plot(h["step"], h["charges"][:, k], label=self.names[k][:40])
            if h["charge_star"].size:
                ax.plot(h["step"], h["charge_star"][:, k], ":", color=line.get_color())
        ax.set_xlabel("optimizer step")
        ax.set_ylabel("charge θᵀAθ" + (" (dotted: predicted equilibrium)" if h["charge_star"].size else ""))
        ax.set_title(title or "Noether charges")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)


def _batched_bilinear(S: Any, G: dict) -> np.ndarray:
    """Σ_s g_sᵀ A_k g_s for every generator (per-sample gradients with a leading axis)."""
    import torch

    parts = []
    for k, kind in S._continuous.items():
        W, R = class_grams(S, G, G, k, batched=True)
        parts += _generator_values(W - R, kind)
    return torch.cat(parts).numpy()
