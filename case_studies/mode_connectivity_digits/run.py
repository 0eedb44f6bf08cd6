"""Case study: linear mode connectivity of MLPs on scikit-learn's digits, before and after alignment.

Two MLPs 64-h-h-10 (ReLU) are trained from different seeds on the digits data bundled with
scikit-learn (1797 8x8 images; no download): 1297 for training, 500 for testing. Their test loss
and accuracy are measured along the straight line between their weights, first as trained, then
after ``symfix.nets.align`` has moved the second net by the hidden-neuron permutations that best
match the first (weight matching, Ainsworth et al. 2023). The same alignment is run with the
``rebasin`` package (PyPI) when it is installed, side by side. Widths h = 128 and 512, five seed
pairs each. Outputs: results.csv, summary.json, figure_paths.png and README.md (its numbers are
written by this script).

    python case_studies/mode_connectivity_digits/run.py [--quick] [--out DIR]

Needs scikit-learn (``pip install -e '.[cases]'``).
"""

from __future__ import annotations

import argparse
import copy
import csv
import json
import os
import sys
import time

import numpy as np
import torch
from torch import nn

import symfix.nets as sn

HERE = os.path.dirname(os.path.abspath(__file__))


def load_digits_split(seed: int = 0) -> tuple:
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        sys.exit("this case study needs scikit-learn: pip install -e '.[cases]'")
    X, y = load_digits(return_X_y=True)
    perm = np.random.default_rng(seed).permutation(len(y))
    X = (X / 16.0 - 0.5) * 2.0
    tr, te = perm[:1297], perm[1297:]
    f = lambda a: torch.as_tensor(a, dtype=torch.float32)  # noqa: E731
    return f(X[tr]), torch.as_tensor(y[tr]), f(X[te]), torch.as_tensor(y[te])


def mlp(h: int) -> nn.Module:
    return nn.Sequential(nn.Linear(64, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU(), nn.Linear(h, 10))


def train(h: int, seed: int, data: tuple, epochs: int) -> nn.Module:
    xtr, ytr = data[0], data[1]
    torch.manual_seed(seed)
    net = mlp(h)
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    g = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        order = torch.randperm(len(ytr), generator=g)
        for k in range(0, len(ytr), 64):
            idx = order[k:k + 64]
            opt.zero_grad()
            nn.functional.cross_entropy(net(xtr[idx]), ytr[idx]).backward()
            opt.step()
    return net.double().eval()


def path(a: nn.Module, b: nn.Module, x: torch.Tensor, y: torch.Tensor, points: int) -> tuple:
    loss = sn.barrier(a, b, nn.functional.cross_entropy, (x, y), points=points)
    acc = sn.barrier(a, b, lambda out, t: (out.argmax(1) == t).double().mean(), (x, y), points=points)
    return loss, acc.losses


def rebasin_align(a: nn.Module, b: nn.Module, x: torch.Tensor) -> tuple:
    try:
        from rebasin import PermutationCoordinateDescent
    except ImportError:
        return None, None
    b2 = copy.deepcopy(b)
    t0 = time.perf_counter()
    pcd = PermutationCoordinateDescent(a, b2, x[:64])
    pcd.rebasin()
    return b2, time.perf_counter() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="two seed pairs, fewer epochs and path points")
    ap.add_argument("--out", default=HERE)
    args = ap.parse_args(argv)
    torch.set_num_threads(min(2, os.cpu_count() or 1))
    data = load_digits_split()
    xte, yte = data[2].double(), data[3]
    pairs, epochs, points = (2, 10, 11) if args.quick else (5, 30, 25)
    rows, curves = [], {}
    t_start = time.perf_counter()
    for h in (128, 512):
        for k in range(pairs):
            a, b = train(h, 2 * k, data, epochs), train(h, 2 * k + 1, data, epochs)
            before, acc_before = path(a, b, xte, yte, points)
            t0 = time.perf_counter()
            m = sn.match(a, b)
            t_align = time.perf_counter() - t0
            after, acc_after = path(a, m.module, xte, yte, points)
            rb, t_rb = rebasin_align(a, b, data[0].double())
            rb_barrier = path(a, rb, xte, yte, points)[0].barrier if rb is not None else float("nan")
            with torch.no_grad():
                same = float((m.module(xte) - b(xte)).abs().max())
            rows.append({"width": h, "pair": k, "barrier_before": before.barrier, "barrier_after": after.barrier,
                         "barrier_rebasin": rb_barrier, "loss_a": before.losses[0], "loss_b": before.losses[-1],
                         "acc_a": acc_before[0], "acc_b": acc_before[-1], "acc_mid_before": acc_before[points // 2],
                         "acc_mid_after": acc_after[points // 2], "seconds_symfix": t_align,
                         "seconds_rebasin": t_rb if t_rb is not None else float("nan"), "sweeps": m.sweeps,
                         "output_change_after_align": same})
            curves.setdefault(h, []).append((before.t, before.losses, after.losses, acc_before, acc_after))
            r = rows[-1]
            print(f"h={h} pair {k}: barrier {r['barrier_before']:.3f} -> {r['barrier_after']:.3f} (rebasin "
                  f"{r['barrier_rebasin']:.3f}); mid-path accuracy {r['acc_mid_before']:.3f} -> "
                  f"{r['acc_mid_after']:.3f}; align {t_align:.2f} s (rebasin {r['seconds_rebasin']:.2f} s)", flush=True)
    summary = _summary(rows, time.perf_counter() - t_start, args.quick)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "results.csv"), "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    with open(os.path.join(args.out, "summary.json"), "w") as fh:
        json.dump(summary, fh, indent=2)
    _figure(curves, os.path.join(args.out, "figure_paths.png"))
    _readme(summary, os.path.join(args.out, "README.md"))
    for h, s in summary["widths"].items():
        print(f"h={h}: mean barrier {s['before_mean']:.3f} -> {s['after_mean']:.3f} (ratio {s['ratio']:.3f}); "
              f"rebasin {s['rebasin_mean']:.3f}")
    return 0


def _summary(rows: list, seconds: float, quick: bool) -> dict:
    out: dict = {"quick": quick, "seconds": seconds, "widths": {}}
    for h in sorted({r["width"] for r in rows}):
        rs = [r for r in rows if r["width"] == h]
        b = np.array([r["barrier_before"] for r in rs])
        a = np.array([r["barrier_after"] for r in rs])
        rb = np.array([r["barrier_rebasin"] for r in rs])
        out["widths"][str(h)] = {
            "pairs": len(rs), "before_mean": float(b.mean()), "before_min": float(b.min()), "before_max": float(b.max()),
            "after_mean": float(a.mean()), "after_min": float(a.min()), "after_max": float(a.max()),
            "ratio": float(a.mean() / b.mean()), "rebasin_mean": float(np.mean(rb)),
            "acc_end_mean": float(np.mean([r["acc_a"] for r in rs] + [r["acc_b"] for r in rs])),
            "acc_mid_before_mean": float(np.mean([r["acc_mid_before"] for r in rs])),
            "acc_mid_after_mean": float(np.mean([r["acc_mid_after"] for r in rs])),
            "seconds_symfix_mean": float(np.mean([r["seconds_symfix"] for r in rs])),
            "seconds_rebasin_mean": float(np.mean([r["seconds_rebasin"] for r in rs])),
            "max_output_change_after_align": float(max(r["output_change_after_align"] for r in rs)),
        }
    return out


def _figure(curves: dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, len(curves), figsize=(5.2 * len(curves), 7), squeeze=False)
    for j, (h, cs) in enumerate(sorted(curves.items())):
        t = cs[0][0]
        for i, (lab, kb, ka) in enumerate([("test loss (cross-entropy)", 1, 2), ("test accuracy", 3, 4)]):
            ax = axes[i, j]
            for key, colour, style, name in [(kb, "tab:red", "--", "as trained"), (ka, "tab:blue", "-", "after symfix.nets.align")]:
                Y = np.array([c[key] for c in cs])
                ax.plot(t, Y.mean(0), style, color=colour, marker="o", ms=3, label=f"{name} (mean of {len(cs)} pairs)")
                ax.fill_between(t, Y.min(0), Y.max(0), color=colour, alpha=0.18, label=f"{name}: min-max over pairs")
            ax.set_xlabel("interpolation t: weights (1 - t)·A + t·B")
            ax.set_ylabel(lab)
            ax.set_title(f"MLP 64-{h}-{h}-10 on digits: {lab.split(' (')[0]}")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _readme(s: dict, path: str) -> None:
    lines = [
        "# Linear mode connectivity on digits, before and after `symfix.nets.align`",
        "",
        "Written by `run.py`" + (" (`--quick`)" if s["quick"] else "") + f"; {s['seconds']:.0f} s on this machine.",
        "",
        "Two ReLU MLPs 64-h-h-10 trained from different seeds (SGD with momentum 0.9, lr 0.05, batch 64) on "
        "scikit-learn's digits (1297 train, 500 test). Barrier = max over t of the test loss along (1-t)A + tB minus "
        "the straight line between the ends. `align` moves B by the hidden-neuron permutations that maximise "
        "<θ_A, g·θ_B> (coordinate descent of linear assignment problems); B's function is unchanged "
        "(largest output change listed below). `rebasin` is the PyPI package (weight matching too), run on the same pairs.",
        "",
        "| h | pairs | test-loss barrier before (min-max) | after align (min-max) | after/before | rebasin barrier | "
        "mid-path accuracy before → after | align s | rebasin s | output change |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for h, w in s["widths"].items():
        lines.append(f"| {h} | {w['pairs']} | {w['before_mean']:.3f} ({w['before_min']:.3f}-{w['before_max']:.3f}) | "
                     f"{w['after_mean']:.3f} ({w['after_min']:.3f}-{w['after_max']:.3f}) | {w['ratio']:.3f} | "
                     f"{w['rebasin_mean']:.3f} | {w['acc_mid_before_mean']:.3f} → {w['acc_mid_after_mean']:.3f} | "
                     f"{w['seconds_symfix_mean']:.2f} | {w['seconds_rebasin_mean']:.2f} | "
                     f"{w['max_output_change_after_align']:.1e} |")
    lines += [
        "",
        "![loss and accuracy along the path](figure_paths.png)",
        "",
        "## What `rebasin` does and does not support, compared with `symfix.nets`",
        "",
        "- `rebasin` (0.0.47) finds permutations by weight matching over the graph it reads with torchview, "
        "and also offers interpolation and merging of many models; it handles permutations only.",
        "- `symfix.nets` adds sign flips behind odd activations, reports the continuous part of the group "
        "(rescalings, GL(n), BatchNorm scale invariance), its exact order, fixed subspaces and a verified check, "
        "a canonical form, and refuses layers it does not know (rather than giving a wrong group).",
        "- Alignment quality on these pairs is in the table; both are coordinate descents and can stop at "
        "different local optima.",
    ]
    with open(path, "w") as fh:
        fh.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
