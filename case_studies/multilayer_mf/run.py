"""Case study: multilayer mean-field networks (Nguyen & Pham) and the degeneracy of i.i.d.
initialisation, measured with ``symfix.numeric.MFNetwork``.

(a) diversity: D_ℓ (share of E_x ||H_ℓ(x)||² off the all-equal vectors, i.e. the distance to the
    fixed subspace of layer ℓ's neuron permutations) at initialisation and after a fixed training
    time, against width, for depths L = 2..6, i.i.d. and correlated embeddings, on a teacher task
    and on scikit-learn's digits; per-layer log-log exponents with 95% intervals over seeds,
    against the layers the derivation calls degenerate (``symfix.numeric.degenerate_layers``);
(b) how long the degeneracy lasts at finite width: D_2 of depth-4 i.i.d. networks during a long
    run, and the first step at which it exceeds 0.1, against width;
(c) coupling: the output distance between widths n and 4n sampled from one embedding, after a
    fixed number of steps, against n (theory: n^{-1/2});
(d) learning: test loss (and digits accuracy) of i.i.d. and correlated networks of depth 2..6.

    python case_studies/multilayer_mf/run.py [--quick] [--out DIR]

Writes results.json, figure_*.png and README.md (every number in it comes from results.json).
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import torch

from symfix.numeric import MFNetwork, coupling_distance, degenerate_layers, diversity, exponent_fit, train_network

HERE = os.path.dirname(os.path.abspath(__file__))
LR, BATCH, T_FIXED = 0.5, 50, 150  # the fixed training time of (a) and (c): t = LR * steps = 75
LR_LEARN = 2.0  # (d): deep mean-field nets move slowly; measured on digits at depth 4-5, 2000 steps: 0.5 too slow


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


# ------------------------------------------------------------------------------ tasks


def teacher_task(seed: int) -> dict:
    """Inputs N(0, I_10); targets from a fixed wide two-layer tanh network, standardised."""
    rng = np.random.default_rng(1000 + seed)
    X = rng.standard_normal((3000, 10))
    teacher = MFNetwork([10, 256, 1], "tanh", "correlated", seed=99, mean=0.0, std=3.0)
    Y = teacher(X).numpy()
    Y = (Y - Y.mean()) / Y.std()
    return {"X": X[:2000], "Y": Y[:2000], "Xt": X[2000:], "Yt": Y[2000:]}


def digits_task(seed: int) -> dict:
    """scikit-learn's digits, pixels standardised per feature, one-hot targets, a seeded
    train/test split (1297 / 500)."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    sd = X.std(0)
    X = (X - X.mean(0)) / np.where(sd > 0, sd, 1.0)
    Y = np.eye(10)[y]
    idx = np.random.default_rng(seed).permutation(len(X))
    te, tr = idx[:500], idx[500:]
    return {"X": X[tr], "Y": Y[tr], "Xt": X[te], "Yt": Y[te]}


TASKS = {"teacher": teacher_task, "digits": digits_task}


def slope_interval(widths, per_seed: np.ndarray) -> dict:
    """``symfix.numeric.exponent_fit`` as a dict: the mean of per-seed log-log slopes with a 95%
    t-interval over seeds (the seed is the replicate: widths of one seed share nested latents),
    the slope of the per-width means and the lack-of-fit p-value of one straight line."""
    return exponent_fit(widths, np.maximum(per_seed, 1e-300)).as_dict()


# ------------------------------------------------------------------------------ (a)


def part_a(cfg: dict) -> dict:
    out: dict = {"widths": cfg["widths"], "seeds": cfg["seeds"], "steps": T_FIXED, "lr": LR, "batch": BATCH,
                 "depths": cfg["depths"], "raw": {}, "seconds_per_point": {}}
    for task, make in TASKS.items():
        for seed in range(cfg["seeds"]):
            data = make(seed)
            probe = data["X"][:300]
            for depth in cfg["depths"]:
                for emb in ("iid", "correlated"):
                    base = MFNetwork([data["X"].shape[1]] + [8] * (depth - 1) + [data["Y"].shape[1]], "sigmoid", emb,
                                     seed=seed)
                    for n in cfg["widths"]:
                        t0 = time.perf_counter()
                        net = base.resample([base.widths[0]] + [n] * (depth - 1) + [base.widths[-1]])
                        r = train_network(net, data=(data["X"], data["Y"]), batch_size=BATCH, steps=T_FIXED, lr=LR,
                                          seed=seed, log_every=0)
                        key = f"{task}/{depth}/{emb}/{seed}/{n}"
                        out["raw"][key] = {"init": diversity(net, probe).tolist(),
                                           "trained": diversity(r.network, probe).tolist()}
                        out["seconds_per_point"][f"{depth}/{n}"] = time.perf_counter() - t0
    return out


def fits_a(a: dict) -> list:
    """Per task, depth, embedding, time and layer: the exponent of D_ℓ against width and the
    verdict against the derived degenerate layers (computed from the raw results, so that
    ``--replot`` recomputes them)."""
    fits: list = []
    W, seeds = a["widths"], a["seeds"]
    for task in TASKS:
        for depth in a["depths"]:
            for emb in ("iid", "correlated"):
                for when in ("init", "trained"):
                    deg = degenerate_layers(depth, trained=when == "trained") if emb == "iid" else ()
                    for layer in range(1, depth):
                        vals = np.array([[a["raw"][f"{task}/{depth}/{emb}/{s}/{n}"][when][layer - 1] for n in W]
                                         for s in range(seeds)])
                        fit = slope_interval(W, vals)
                        predicted = layer in deg
                        decays = fit["hi"] < -0.5
                        flat = fit["lo"] > -0.5
                        verdict = ("confirmed" if (decays if predicted else flat) else
                                   "refuted" if (flat if predicted else decays) else "inconclusive")
                        fits.append({"task": task, "depth": depth, "embedding": emb, "when": when, "layer": layer,
                                     "predicted_degenerate": predicted, "verdict": verdict,
                                     "contains_minus_one": fit["lo"] <= -1 <= fit["hi"],
                                     "D_at_largest": float(vals[:, -1].mean()), **fit})
    return fits


# ------------------------------------------------------------------------------ (b)


def part_b(cfg: dict) -> dict:
    data = teacher_task(0)
    probe = data["X"][:300]
    steps, every = cfg["long_steps"], 20
    out: dict = {"depth": 4, "steps": steps, "every": every, "lr": LR, "threshold": 0.1, "curves": {}, "escape": {}}
    for seed in range(cfg["seeds"]):
        for n in cfg["escape_widths"]:
            net = MFNetwork([10, n, n, n, 1], "sigmoid", "iid", seed=seed)
            r = train_network(net, data=(data["X"], data["Y"]), batch_size=BATCH, steps=steps, lr=LR, seed=seed,
                              log_every=every, monitor=lambda step, m: {"D2": diversity(m, probe)[1]})
            curve = [(h["step"], h["D2"]) for h in r.history]
            out["curves"][f"{seed}/{n}"] = curve
            hit = [s for s, v in curve if v > out["threshold"]]
            out["escape"][f"{seed}/{n}"] = hit[0] if hit else None
    return out


# ------------------------------------------------------------------------------ (c)


def part_c(cfg: dict) -> dict:
    W = cfg["coupling_widths"]
    out: dict = {"widths": W, "steps": 100, "lr": LR, "rows": {}}
    for depth in (3, 4):
        for emb in ("iid", "correlated"):
            rows = []
            for seed in range(cfg["seeds"]):
                data = teacher_task(seed)
                base = MFNetwork([10] + [8] * (depth - 1) + [1], "sigmoid", emb, seed=seed)
                nets = {}
                for n in sorted(set(W) | {4 * n for n in W}):
                    r = train_network(base.resample([10] + [n] * (depth - 1) + [1]), data=(data["X"], data["Y"]),
                                      batch_size=BATCH, steps=100, lr=LR, seed=seed, log_every=0)
                    nets[n] = r.network
                rows.append([coupling_distance(nets[n], nets[4 * n], data["Xt"]) for n in W])
            out["rows"][f"{depth}/{emb}"] = rows
    return out


# ------------------------------------------------------------------------------ (d)


def part_d(cfg: dict) -> dict:
    out: dict = {"width": cfg["learn_width"], "steps": cfg["learn_steps"], "lr": LR_LEARN, "batch": BATCH, "rows": []}
    for task, make in TASKS.items():
        for seed in range(cfg["seeds"]):
            data = make(seed)
            for depth in cfg["depths"]:
                for emb in ("iid", "correlated"):
                    n = cfg["learn_width"]
                    net = MFNetwork([data["X"].shape[1]] + [n] * (depth - 1) + [data["Y"].shape[1]], "sigmoid", emb,
                                    seed=seed)
                    t0 = time.perf_counter()
                    r = train_network(net, data=(data["X"], data["Y"]), batch_size=BATCH, steps=cfg["learn_steps"],
                                      lr=LR_LEARN, seed=seed, log_every=0)
                    pred = r.network.forward(data["Xt"]).numpy()
                    row = {"task": task, "seed": seed, "depth": depth, "embedding": emb,
                           "test_mse": float(((pred - data["Yt"]) ** 2).sum(1).mean()),
                           "diversity": diversity(r.network, data["Xt"]).tolist(),
                           "seconds": time.perf_counter() - t0}
                    if task == "digits":
                        row["test_accuracy"] = float((pred.argmax(1) == data["Yt"].argmax(1)).mean())
                    out["rows"].append(row)
    return out


# ------------------------------------------------------------------------------ figures


def _width_ticks(ax, widths) -> None:
    """Tick labels at the measured widths (log axes otherwise crowd 3x10^1, 4x10^1, ...)."""
    from matplotlib.ticker import NullLocator

    ax.set_xticks(list(widths))
    ax.set_xticklabels([str(int(w)) for w in widths], fontsize=7)
    ax.xaxis.set_minor_locator(NullLocator())


LAYER_COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"]


def figure_a(a: dict, when: str, path: str) -> None:
    plt = _plt()
    depths = [d for d in a["depths"] if d >= 3]
    fig, axes = plt.subplots(2, len(depths), figsize=(3.6 * len(depths), 6.4), squeeze=False)
    W = np.array(a["widths"], float)
    for i, task in enumerate(TASKS):
        for j, depth in enumerate(depths):
            ax = axes[i, j]
            for emb, style, marker in (("iid", "-", "o"), ("correlated", "--", "s")):
                for layer in range(1, depth):
                    vals = np.array([[a["raw"][f"{task}/{depth}/{emb}/{s}/{n}"][when][layer - 1] for n in a["widths"]]
                                     for s in range(a["seeds"])])
                    gm = np.exp(np.log(vals).mean(0))
                    ax.errorbar(W, gm, yerr=[gm - vals.min(0), vals.max(0) - gm], ls=style, marker=marker, ms=4,
                                color=LAYER_COLOURS[layer - 1], capsize=2,
                                label=f"layer {layer}, {emb}" if i == 0 and j == len(depths) - 1 else None)
            ax.plot(W, 0.5 * W[0] / W, color="0.5", lw=1, ls=":", label="slope −1 (∝ 1/n)" if i == 0 and j == len(depths) - 1 else None)
            ax.set(xscale="log", yscale="log")
            ax.set_title(f"{task}, depth {depth}\npredicted degenerate (i.i.d.): "
                         f"{list(degenerate_layers(depth, trained=when == 'trained')) or 'none'}", fontsize=9)
            _width_ticks(ax, W)
            ax.set_xlabel("width n of every hidden layer")
            if j == 0:
                ax.set_ylabel("neuron diversity D_ℓ\n(0 = all neurons equal)")
            ax.grid(alpha=0.3, which="both")
    handles, labels = axes[0, -1].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=6, fontsize=8)
    what = "at initialisation" if when == "init" else f"after {a['steps']} steps (t = {a['lr'] * a['steps']:g})"
    fig.suptitle(f"Diversity of each hidden layer {what}: i.i.d. solid/circles, correlated dashed/squares; "
                 f"geometric mean over {a['seeds']} seeds, bars min-max")
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    fig.savefig(path, dpi=100)
    plt.close(fig)


def figure_b(b: dict, widths: list, seeds: int, path: str) -> None:
    plt = _plt()
    fig, ax = plt.subplots(1, 2, figsize=(11, 4))
    cmap = plt.get_cmap("viridis")
    for k, n in enumerate(widths):
        c = cmap(k / max(1, len(widths) - 1))
        for s in range(seeds):
            st, v = zip(*b["curves"][f"{s}/{n}"])
            ax[0].plot(st, v, color=c, lw=1, label=f"n = {n}" if s == 0 else None)
    ax[0].axhline(b["threshold"], color="k", ls=":", lw=1, label="threshold 0.1")
    ax[0].set(yscale="log", xlabel="SGD step", ylabel="diversity D_2 of layer 2",
              title=f"depth-4 i.i.d. nets, teacher task, lr {b['lr']}, {seeds} seeds per width")
    ax[0].legend(fontsize=7)
    ax[0].title.set_fontsize(10)
    for s in range(seeds):
        pts = [(n, b["escape"][f"{s}/{n}"]) for n in widths if b["escape"][f"{s}/{n}"] is not None]
        if pts:
            ax[1].plot(*zip(*pts), "o-", label=f"seed {s}")
    ax[1].set(xscale="log", xlabel="width n", ylabel="first step with D_2 > 0.1",
              title="how long layer 2 stays degenerate\n(no point: not within the run)")
    _width_ticks(ax[1], widths)
    ax[1].title.set_fontsize(10)
    ax[1].legend(fontsize=7)
    for x in ax:
        x.grid(alpha=0.3, which="both")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def figure_c(c: dict, path: str) -> None:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    W = np.array(c["widths"], float)
    styles = {"3/iid": ("#1f77b4", "-", "o"), "3/correlated": ("#1f77b4", "--", "s"),
              "4/iid": ("#d62728", "-", "o"), "4/correlated": ("#d62728", "--", "s")}
    for key, rows in c["rows"].items():
        rows = np.array(rows)
        gm = np.exp(np.log(rows).mean(0))
        col, ls, mk = styles[key]
        f = c["fits"][key]
        ax.errorbar(W, gm, yerr=[gm - rows.min(0), rows.max(0) - gm], color=col, ls=ls, marker=mk, capsize=2,
                    label=f"depth {key.replace('/', ', ')}: slope {f['slope']:.2f} [{f['lo']:.2f}, {f['hi']:.2f}]")
    ax.plot(W, 0.05 * np.sqrt(W[0] / W), color="0.5", ls=":", label="∝ n^(-1/2)")
    ax.set(xscale="log", yscale="log", xlabel="width n (compared with 4n, same embedding)",
           ylabel="RMS output distance on test inputs", title=f"Coupling of widths after {c['steps']} steps (teacher task)")
    _width_ticks(ax, W)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def figure_d(d: dict, depths: list, path: str) -> None:
    plt = _plt()
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    panels = [("teacher", "test_mse", "test MSE (teacher)"), ("digits", "test_mse", "test MSE (digits)"),
              ("digits", "test_accuracy", "test accuracy (digits)")]
    for ax, (task, key, label) in zip(axes, panels):
        for emb, style, marker, off in (("iid", "-", "o", -0.06), ("correlated", "--", "s", 0.06)):
            vals = [[r[key] for r in d["rows"] if r["task"] == task and r["depth"] == L and r["embedding"] == emb]
                    for L in depths]
            m = np.array([np.mean(v) for v in vals])
            ax.errorbar(np.array(depths) + off, m, yerr=[m - [min(v) for v in vals], [max(v) for v in vals] - m],
                        ls=style, marker=marker, capsize=3, label=emb)
        ax.set(xlabel="depth L (number of weight layers)", ylabel=label, xticks=depths,
               title=f"{label}, width {d['width']}, {d['steps']} steps")
        if key == "test_mse":
            ax.set_yscale("log")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


# ------------------------------------------------------------------------------ main


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="widths up to 256, 2 seeds, shorter runs (about a minute)")
    ap.add_argument("--out", default=HERE, help="output folder (default: this folder)")
    ap.add_argument("--replot", action="store_true", help="redraw the figures and README from OUT/results.json")
    ap.add_argument("--parts", default="abcd", help="parts to (re)run, e.g. 'd'; the others are kept from OUT/results.json")
    args = ap.parse_args(argv)
    if not args.parts or not set(args.parts) <= set("abcd"):
        ap.error(f"--parts takes letters from 'abcd', got {args.parts!r}")
    os.makedirs(args.out, exist_ok=True)
    if args.replot:
        with open(os.path.join(args.out, "results.json")) as fh:
            res = json.load(fh)
        _outputs(res, args.out)
        return 0
    torch.set_num_threads(min(2, os.cpu_count() or 1))
    if args.quick:
        cfg = {"widths": [32, 64, 128, 256], "seeds": 2, "depths": [2, 3, 4, 5, 6], "long_steps": 600, "escape_widths": [32, 64, 128, 256],
               "coupling_widths": [16, 32, 64], "learn_width": 128, "learn_steps": 1000}
    else:
        cfg = {"widths": [32, 64, 128, 256, 512, 1024, 2048], "seeds": 3, "depths": [2, 3, 4, 5, 6],
               "long_steps": 2000, "escape_widths": [32, 64, 128, 256, 512, 1024], "coupling_widths": [16, 32, 64, 128, 256, 512], "learn_width": 256,
               "learn_steps": 4000}
    path = os.path.join(args.out, "results.json")
    res: dict = {"quick": args.quick, "config": cfg, "part_seconds": {}}
    if set(args.parts) != set("abcd"):
        if not os.path.exists(path):
            ap.error(f"--parts {args.parts} keeps the other parts from {path}, which does not exist; run all parts")
        with open(path) as fh:
            res = json.load(fh)
        if res.get("quick") != args.quick:
            ap.error(f"{path} comes from a run with the other --quick setting; run all parts")
    for name, part in (("a", part_a), ("b", part_b), ("c", part_c), ("d", part_d)):
        if name not in args.parts:
            continue
        t0 = time.perf_counter()
        res[name] = part(cfg)
        res["part_seconds"][name] = time.perf_counter() - t0
        print(f"part ({name}) done in {res['part_seconds'][name]:.0f} s", flush=True)
    with open(path, "w") as fh:
        json.dump(res, fh)
    _outputs(res, args.out)
    print(f"done in {sum(res['part_seconds'].values()):.0f} s")
    return 0


def _outputs(res: dict, out: str) -> None:
    """Fits, figures and README from the raw results (also ``--replot``)."""
    cfg = res["config"]
    res["a"]["fits"] = fits_a(res["a"])
    res["c"]["fits"] = {k: slope_interval(res["c"]["widths"], np.array(rows)) for k, rows in res["c"]["rows"].items()}
    figure_a(res["a"], "init", os.path.join(out, "figure_diversity_init.png"))
    figure_a(res["a"], "trained", os.path.join(out, "figure_diversity_trained.png"))
    figure_b(res["b"], cfg["escape_widths"], cfg["seeds"], os.path.join(out, "figure_escape.png"))
    figure_c(res["c"], os.path.join(out, "figure_coupling.png"))
    figure_d(res["d"], cfg["depths"], os.path.join(out, "figure_learning.png"))
    from readme import write_readme

    write_readme(res, os.path.join(out, "README.md"))


if __name__ == "__main__":
    raise SystemExit(main())
