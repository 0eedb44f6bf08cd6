"""Benchmark of the multilayer mean-field trainer against the same network in plain torch.

    python benchmarks/bench_mfnet.py [--quick] [--threads T]

One scaled SGD step (loss mean_b ||ŷ − y||², per-layer step scalings n_1, n_{ℓ-1} n_ℓ, n_{L-1})
of a depth-5, width-1024 sigmoid MF network (input 64, output 10, batch 128, float64) with
``symfix.numeric.network_step`` (closed-form backward, in-place updates), against the same
network written as an ``nn.Sequential`` of bias-free ``nn.Linear`` layers with the 1/n factors
as modules, trained with autograd and the same scaled update, timed in the same run. The two
steps are first checked to give the same weights (≤ 1e-12). Widths 256 and 4096 are added as
rows without --quick. Target (issue 14): symfix within 1.3x of the torch step.

Second table (issue 15): R runs of a small network stepped together (the run axis of
``train_network``) against the same R runs stepped one call each, checked equal (≤ 1e-12).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from torch import nn

from symfix.numeric import MFNetwork, network_step


class Scale(nn.Module):
    def __init__(self, factor: float) -> None:
        super().__init__()
        self.factor = factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.factor


def torch_sequential(net: MFNetwork) -> tuple[nn.Sequential, list[float]]:
    """The MF network as nn.Sequential, and the step scaling of each Linear's gradient."""
    ws, layers, n = net.weights, [], net.widths
    for ell, w in enumerate(ws):
        lin = nn.Linear(w.shape[1], w.shape[0], bias=False).double()
        with torch.no_grad():
            lin.weight.copy_(w)
        layers.append(lin)
        if ell:
            layers.insert(len(layers) - 1, Scale(1.0 / w.shape[1]))
        if ell < len(ws) - 1:
            layers.append(nn.Sigmoid())
    L = len(ws)
    scale = [float(n[1])] + [float(n[ell] * n[ell + 1]) for ell in range(1, L - 1)] + [float(n[L - 1])]
    return nn.Sequential(*layers), scale


def torch_step(model: nn.Sequential, scale: list[float], x: torch.Tensor, y: torch.Tensor, lr: float) -> None:
    loss = ((model(x) - y) ** 2).sum(-1).mean()
    params = [m.weight for m in model if isinstance(m, nn.Linear)]
    grads = torch.autograd.grad(loss, params)
    with torch.no_grad():
        for p, g, s in zip(params, grads, scale):
            p.add_(g, alpha=-lr * s)


def per_step(f, steps: int, repeat: int = 5) -> float:
    f()  # warm-up
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(steps):
            f()
        ts.append((time.perf_counter() - t0) / steps)
    return float(np.median(ts))


def row(width: int, depth: int, batch: int, steps: int) -> tuple[float, float]:
    net = MFNetwork([64] + [width] * (depth - 1) + [10], "sigmoid", "iid", seed=0)
    rng = np.random.default_rng(0)
    x = torch.as_tensor(rng.standard_normal((batch, 64)))
    y = torch.as_tensor(rng.standard_normal((batch, 10)))
    model, scale = torch_sequential(net)
    weights = [w.clone() for w in net.weights]
    network_step(net, weights, x, y, 1e-3)
    torch_step(model, scale, x, y, 1e-3)
    lin = [m.weight for m in model if isinstance(m, nn.Linear)]
    err = max(float((a - b.detach()).abs().max() / b.detach().abs().max()) for a, b in zip(weights, lin))
    assert err < 1e-12, f"the two steps disagree ({err:.2e})"
    t_sym = per_step(lambda: network_step(net, weights, x, y, 1e-3), steps)
    t_torch = per_step(lambda: torch_step(model, scale, x, y, 1e-3), steps)
    return t_sym, t_torch


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="width 1024 only, fewer repeats")
    ap.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's choice)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, float64, depth 5, batch 128")
    print(f"{'width':>6} {'symfix ms/step':>15} {'nn.Sequential ms/step':>22} {'ratio':>6}")
    widths = [1024] if args.quick else [256, 1024, 4096]
    for w in widths:
        t_sym, t_torch = row(w, 5, 128, steps=5 if w >= 4096 else 20)
        print(f"{w:>6} {1e3 * t_sym:>15.2f} {1e3 * t_torch:>22.2f} {t_sym / t_torch:>6.2f}")
    print("\nRuns in one call (train_network with a list of networks): R runs of a depth-4 sigmoid network "
          "(input 8, output 2, batch 32), one batched step against R separate network_step calls, same run")
    print(f"{'width':>6} {'R':>4} {'batched ms/step':>16} {'separate ms/step':>17} {'separate / batched':>19}")
    for w in (32, 128):
        for R in (1, 4, 16) if args.quick else (1, 4, 16, 64):
            t_b, t_s = runs_row(w, R)
            print(f"{w:>6} {R:>4} {1e3 * t_b:>16.3f} {1e3 * t_s:>17.3f} {t_s / t_b:>19.2f}")


def runs_row(width: int, R: int) -> tuple[float, float]:
    """Seconds per step: R runs batched, and the same R runs stepped one by one (checked equal)."""
    nets = [MFNetwork([8, width, width, width, 2], "sigmoid", "iid", seed=s) for s in range(R)]
    rng = np.random.default_rng(0)
    x = torch.as_tensor(rng.standard_normal((R, 32, 8)))
    y = torch.as_tensor(rng.standard_normal((R, 32, 2)))
    stacked = [torch.stack([n.weights[ell] for n in nets]) for ell in range(4)]
    alone = [[w.clone() for w in n.weights] for n in nets]
    network_step(nets[0], stacked, x, y, 0.1)
    for r in range(R):
        network_step(nets[r], alone[r], x[r], y[r], 0.1)
    err = max(float((stacked[ell][r] - alone[r][ell]).abs().max()) for r in range(R) for ell in range(4))
    assert err < 1e-12, f"batched and separate steps disagree ({err:.2e})"
    t_b = per_step(lambda: network_step(nets[0], stacked, x, y, 1e-3), 50)
    t_s = per_step(lambda: [network_step(nets[r], alone[r], x[r], y[r], 1e-3) for r in range(R)], 50)
    return t_b, t_s


if __name__ == "__main__":
    main()
