"""Mean-field trainer: cost of a step against baselines timed in the same run.

1. vanilla step of ``symfix.train`` (neuron unit a·tanh(w·x + b), d = 10 inputs, c = 1 output,
   batch 32, float32) against the plain-torch two-layer network a user would write for the
   same N hidden neurons (the same MF update, lr / N per neuron), for N = 10^3 .. 10^6;
   target ratio <= 1.3;
2. FA step over a finite group of order |G| against |G| vanilla steps; target <= 1.2;
3. the closed-form escape metric against N·D (log-log slope; target: linear, slope ~ 1).

    python benchmarks/bench_train.py [--quick]
"""

from __future__ import annotations

import sys
import time

import numpy as np
import torch

from symfix import Problem, groups, reps, train, units
from symfix.numeric import escape


def batches(rng, n, d, B=32):
    return [(rng.standard_normal((B, d)).astype(np.float32), rng.standard_normal((B, 1)).astype(np.float32)) for _ in range(n)]


def plain_torch(theta0: np.ndarray, data, lr: float) -> float:
    """What a user writes: two weight matrices, autograd, a manual SGD step."""
    N = theta0.shape[0]
    a = torch.tensor(theta0[:, :1], dtype=torch.float32, requires_grad=True)
    W = torch.tensor(theta0[:, 1:-1], dtype=torch.float32, requires_grad=True)
    b = torch.tensor(theta0[:, -1], dtype=torch.float32, requires_grad=True)
    t = time.perf_counter()
    for xb, yb in data:
        x, y = torch.from_numpy(xb), torch.from_numpy(yb)
        out = torch.tanh(x @ W.T + b) @ a / N
        loss = ((out - y) ** 2).sum(-1).mean()
        loss.backward()
        with torch.no_grad():
            for p in (a, W, b):
                p -= lr * p.grad  # per-neuron step (lr / N) * N * dL/dp
                p.grad = None
        float(loss.detach())  # a user logs the loss
    return time.perf_counter() - t


def ours(problem, theta0, data, lr, scheme="vanilla") -> float:
    t = time.perf_counter()
    train(problem, theta0, data, scheme=scheme, lr=lr, dtype="float32")
    return time.perf_counter() - t


def best(f, reps_=3):
    return min(f() for _ in range(reps_))


def main(quick: bool = False) -> int:
    rng = np.random.default_rng(0)
    d = 10
    G = groups.symmetric(d)
    P = Problem(G, reps.permutation(G), reps.trivial(G), units.neuron(d, 1, "tanh"))
    ok = True
    print("1. vanilla step vs plain torch (neuron unit, d = 10, c = 1, batch 32, float32, CPU, "
          f"{torch.get_num_threads()} threads)")
    sizes = [10**3, 10**4, 10**5] if quick else [10**3, 10**4, 10**5, 10**6]
    for N in sizes:
        steps = max(5, min(200, int(2e7 // (N * 32))))
        data = batches(rng, steps, d)
        th0 = 0.1 * rng.standard_normal((N, d + 2))
        ours(P, th0, data[:2], 1.0)  # warm up
        plain_torch(th0, data[:2], 1.0)
        tp = best(lambda: plain_torch(th0, data, 1.0))
        to = best(lambda: ours(P, th0, data, 1.0))
        r = to / tp
        ok &= r <= 1.3
        print(f"   N = {N:>8d}: {steps:3d} steps, plain torch {1e3 * tp / steps:8.3f} ms/step, symfix "
              f"{1e3 * to / steps:8.3f} ms/step, ratio {r:5.2f} (target <= 1.3)")

    print("2. FA step over a finite group vs |G| vanilla steps")
    for name, H, N in (("C4 on 4 inputs", groups.cyclic(4), 10**4), ("D4 on 4 inputs", groups.dihedral(4), 10**4),
                       ("S4 on 4 inputs", groups.symmetric(4), 10**4)):
        Q = Problem(H, reps.permutation(H), reps.trivial(H), units.neuron(4, 1, "tanh"))
        data = batches(rng, 20, 4)
        th0 = 0.1 * rng.standard_normal((N, Q.param_dim))
        ours(Q, th0, data[:2], 1.0, "fa")
        tv = best(lambda: ours(Q, th0, data, 1.0))
        tf = best(lambda: ours(Q, th0, data, 1.0, "fa"))
        r = tf / (H.order * tv)
        ok &= r <= 1.2
        print(f"   {name} (|G| = {H.order:2d}), N = {N}: vanilla {1e3 * tv / 20:7.3f} ms/step, FA {1e3 * tf / 20:8.3f} "
              f"ms/step, FA / (|G| vanilla) = {r:4.2f} (target <= 1.2)")

    print("3. escape metric W2^2(nu, P#nu) in closed form against N*D")
    Pm = Problem(G, reps.permutation(G), reps.permutation(G), units.matrix_unit(d, d, "tanh"))
    E = Pm.fixed_subspace()
    xs, ts = [], []
    for N in ([10**3, 10**4, 10**5] if quick else [10**3, 10**4, 10**5, 4 * 10**5]):
        th = rng.standard_normal((N, Pm.param_dim))
        escape(th, E)  # warm up the projector's cache
        t = best(lambda: _timed(lambda: escape(th, E)))
        xs.append(N * Pm.param_dim)
        ts.append(t)
        print(f"   N*D = {N * Pm.param_dim:>10d}: {1e3 * t:9.3f} ms  ({1e9 * t / (N * Pm.param_dim):6.2f} ns per entry)")
    slope = np.polyfit(np.log(xs[1:]), np.log(ts[1:]), 1)[0]
    ok &= 0.8 <= slope <= 1.2
    print(f"   log-log slope (N*D >= 10^6) {slope:.2f} (target: linear, 0.8 .. 1.2)")
    return 0 if ok else 1


def _timed(f) -> float:
    t = time.perf_counter()
    f()
    return time.perf_counter() - t


if __name__ == "__main__":
    sys.exit(main("--quick" in sys.argv[1:]))
