"""Benchmark of symfix.nets: the group of a ~10^7-parameter MLP, acting on it, and weight matching.

    python benchmarks/bench_nets.py [--quick] [--monitor-only]

Rows (each against a baseline timed in the same run):
1. ``symmetries`` of a 10-layer width-1024 ReLU MLP (9.5 M parameters; its last hidden space
   feeds the output Linear directly, so it carries GL(1024)), with the peak of Python-tracked
   memory (tracemalloc: numpy allocations included); baseline: one copy of the parameters into
   a flat vector (``torch.nn.utils.parameters_to_vector``).
2. ``act`` of a sampled element and ``to_signed_perm`` on the same model, O(D); same baseline.
3. ``match`` of two independently initialised 64-512-512-10 MLPs against a plain permutation-only
   weight matching written here (Git Re-Basin's algorithm: identity start, one linear assignment
   per hidden layer per sweep), and against the ``rebasin`` package when installed.
4. ``NoetherMonitor`` (charges, predicted and measured change, no probe) after every SGD step of
   a 64-512-512-10 MLP, against the same loop without it, at batch sizes 64, 256 and 1024, with
   ``every`` = 1 and 10 (issue 13's target: at most 5% of a step), and the floor of reading θ and
   g once each (``--monitor-only``: this row alone).
Targets (issue 12): symmetries under 5 s with no D x D object; match under 2 s.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment
from torch import nn

import symfix.nets as sn


def deep_mlp(width: int, depth: int) -> nn.Module:
    layers: list[nn.Module] = [nn.Linear(64, width)]
    for _ in range(depth - 1):
        layers += [nn.ReLU(), nn.Linear(width, width)]
    return nn.Sequential(*layers, nn.Linear(width, 10))


def best(f, repeat: int = 3) -> float:
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t0)
    return min(ts)


def plain_weight_matching(a: nn.Module, b: nn.Module, sweeps: int = 50) -> list[np.ndarray]:
    """Permutation-only weight matching of two Linear/ReLU stacks (the baseline)."""
    La = [m for m in a if isinstance(m, nn.Linear)]
    Lb = [m for m in b if isinstance(m, nn.Linear)]
    Wa = [m.weight.detach().double().numpy() for m in La]
    Wb = [m.weight.detach().double().numpy() for m in Lb]
    ba = [m.bias.detach().double().numpy() for m in La]
    bb = [m.bias.detach().double().numpy() for m in Lb]
    perms = [np.arange(w.shape[0]) for w in Wa[:-1]]
    for _ in range(sweeps):
        changed = False
        for i in range(len(perms)):
            prev = perms[i - 1] if i else np.arange(Wa[0].shape[1])
            C = Wa[i] @ Wb[i][:, prev].T + np.outer(ba[i], bb[i])
            nxt = perms[i + 1] if i + 1 < len(perms) else np.arange(Wa[i + 1].shape[0])
            C += Wa[i + 1].T @ Wb[i + 1][nxt, :]
            _, col = linear_sum_assignment(C, maximize=True)
            if not np.array_equal(col, perms[i]):
                perms[i], changed = col, True
        if not changed:
            break
    return perms


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="width 256 instead of 1024 for row 1-2")
    ap.add_argument("--monitor-only", action="store_true", help="row 4 alone")
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    if args.monitor_only:
        monitor_overhead()
        return 0
    torch.manual_seed(0)
    width = 256 if args.quick else 1024
    net = deep_mlp(width, 10)
    D = sum(p.numel() for p in net.parameters())
    t_copy = best(lambda: nn.utils.parameters_to_vector(net.parameters()))
    tracemalloc.start()
    t0 = time.perf_counter()
    S = sn.symmetries(net)
    t_sym = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"1. symmetries of a 10-layer width-{width} MLP: D = {D:,}, {len(S.hidden_spaces)} hidden spaces, "
          f"Lie dim {S.lie_dim:,}, order {S.order_text[:60]}...")
    print(f"   {t_sym:.3f} s (target < 5 s); peak tracked memory {peak / 2**20:.1f} MiB = {peak / (8 * D):.3f} x 8D bytes; "
          f"baseline parameters_to_vector {t_copy:.3f} s; ratio {t_sym / t_copy:.2f}")
    theta = sn.flat_params(net)
    g = S.sample(np.random.default_rng(0), continuous=False)
    t_act = best(lambda: S.act(g, theta), 1)
    t_sp = best(lambda: S.to_signed_perm(g), 1)
    print(f"2. act of a discrete element {t_act:.2f} s ({t_act / t_copy:.1f}x the copy); to_signed_perm {t_sp:.2f} s "
          f"({t_sp / t_copy:.1f}x)")
    torch.manual_seed(1)
    a = nn.Sequential(nn.Linear(64, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
    b = nn.Sequential(nn.Linear(64, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
    t_match = best(lambda: sn.match(a, b), 3)
    t_plain = best(lambda: plain_weight_matching(a, b), 3)
    m = sn.match(a, b)
    line = (f"3. match of two 64-512-512-10 MLPs: {t_match:.3f} s (target < 2 s, {m.sweeps} sweeps, converged "
            f"{m.converged}); plain weight matching {t_plain:.3f} s; ratio {t_match / t_plain:.2f}")
    try:
        import copy

        from rebasin import PermutationCoordinateDescent

        def rb() -> None:
            b2 = copy.deepcopy(b)
            PermutationCoordinateDescent(a, b2, torch.randn(64, 64)).rebasin()

        t_rb = best(rb, 3)
        line += f"; rebasin {t_rb:.3f} s; ratio {t_match / t_rb:.2f}"
    except ImportError:
        line += "; rebasin not installed (pip install -e '.[cases]')"
    print(line)
    monitor_overhead()
    return 0


def monitor_overhead(blocks: int = 15, steps: int = 40) -> None:
    """Row 4: blocks of ``steps`` plain steps and of ``steps`` monitored steps, interleaved so that
    drifts of the machine's speed hit both; the overhead is the median over blocks (with its
    quartiles). The floor column is one elementwise product of every θ and g tensor after each
    step (no reduction, no Python around it): what any implementation that reads θ and g with
    separate torch kernels pays at least."""
    print("4. NoetherMonitor overhead on a 64-512-512-10 MLP (plain SGD; median over "
          f"{blocks} interleaved blocks of {steps} steps, quartiles in brackets):")
    for B in (64, 256, 1024):
        torch.manual_seed(0)
        net = nn.Sequential(nn.Linear(64, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
        S = sn.symmetries(net)
        x, y = torch.randn(B, 64), torch.randint(0, 10, (B,))
        opt = torch.optim.SGD(net.parameters(), lr=0.01)
        params = list(net.parameters())
        bufs = [torch.empty_like(p) for p in params]

        def step() -> None:
            opt.zero_grad()
            nn.functional.cross_entropy(net(x), y).backward()
            opt.step()

        def read_once(*_: object) -> None:
            with torch.no_grad():
                for p, b in zip(params, bufs):
                    torch.mul(p, p, out=b)
                    torch.mul(p.grad, p.grad, out=b)

        cells, base = [], []
        for label, make in (("every=1", lambda: sn.NoetherMonitor(S, every=1)),
                            ("every=10", lambda: sn.NoetherMonitor(S, every=10)),
                            ("floor", lambda: read_once)):
            extra = make()
            for _ in range(30):
                step()
                extra(net, opt)
            ratios = []
            for _ in range(blocks):
                t0 = time.perf_counter()
                for _ in range(steps):
                    step()
                t1 = time.perf_counter()
                for _ in range(steps):
                    step()
                    extra(net, opt)
                ratios.append((time.perf_counter() - t1) / (t1 - t0) - 1)
                base.append((t1 - t0) / steps)
            q = 100 * np.percentile(ratios, [25, 50, 75])
            cells.append(f"{label} {q[1]:+.1f}% [{q[0]:+.1f}, {q[2]:+.1f}]")
        print(f"   batch {B}: step {1e3 * np.median(base):.2f} ms; " + "; ".join(cells), flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
