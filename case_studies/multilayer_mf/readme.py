"""README of the multilayer mean-field case study, written from results.json by run.py."""

from __future__ import annotations

import numpy as np


def _fit(f: dict) -> str:
    return f"{f['slope']:.2f} [{f['lo']:.2f}, {f['hi']:.2f}]"


def write_readme(r: dict, path: str) -> None:
    a, b, c, d, cfg = r["a"], r["b"], r["c"], r["d"], r["config"]
    secs = r["part_seconds"]
    per_point = a["seconds_per_point"]
    widest = max(a["widths"])
    L = ["# Multilayer mean-field networks: the degeneracy of i.i.d. initialisation", "",
         "Written by `run.py`" + (" (`--quick`)" if r["quick"] else "") + " from `results.json`; time per part on this "
         "machine (2 cores): " + ", ".join(f"({k}) {v:.0f} s" for k, v in secs.items())
         + f"; one point of (a) at width {widest} ({a['steps']} steps, batch {a['batch']}) took "
         + ", ".join(f"{per_point[f'{L_}/{widest}']:.1f} s at depth {L_}" for L_ in a["depths"]) + ".", "",
         "Networks: `MFNetwork(widths, 'sigmoid', embedding)` with H_ℓ = (1/n_{ℓ−1}) Σ w_ℓ φ(H_{ℓ−1}), trained by "
         "`train_network` (per-layer step scalings n_1, n_{ℓ−1}n_ℓ, n_{L−1}; lr "
         f"{a['lr']}, batch {a['batch']}). Depth L counts weight layers (L = 2: one hidden layer). The derivation "
         "(docstring of `symfix/numeric/_mfnet.py`): under i.i.d. initialisation every hidden layer 2..L−1 is degenerate "
         "at initialisation (its neurons compute one function, up to O(n^{−1/2})); during training layer L−1 gains an "
         "index dependence through the finite output layer, layer 1 keeps its own, and the middle layers 2..L−2 stay "
         "degenerate. So the prediction is D_ℓ ∝ 1/n for ℓ = 2..L−1 at initialisation and ℓ = 2..L−2 after training, "
         "D_ℓ = O(1) otherwise, and no decay at all for the correlated embedding (w_ℓ a smooth function of both "
         "neurons' latents).", "",
         f"## (a) Diversity against width ({', '.join(map(str, a['widths']))}; {a['seeds']} seeds; trained: "
         f"{a['steps']} steps, t = {a['lr'] * a['steps']:g})", "",
         "Exponent of D_ℓ against n: mean of the per-seed log-log slopes with a 95% t-interval over seeds (the seed "
         "is the independent replicate; widths of one seed share nested latents). Verdict: a predicted-degenerate "
         "layer is *confirmed* when the interval lies below −0.5, a predicted-diverse one when it lies above −0.5; "
         "*refuted* when it lies on the wrong side; otherwise *inconclusive*. `lof p`: lack-of-fit p-value of a "
         "straight line through the per-width means.", "",
         "| task | depth | embedding | when | layer | predicted | exponent [95%] | contains −1 | lof p | "
         f"D at n = {widest} | verdict |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for f in a["fits"]:
        L.append(f"| {f['task']} | {f['depth']} | {f['embedding']} | {f['when']} | {f['layer']} | "
                 f"{'degenerate' if f['predicted_degenerate'] else 'diverse'} | {_fit(f)} | "
                 f"{'yes' if f['contains_minus_one'] else 'no'} | {f['lack_of_fit_p']:.2g} | {f['D_at_largest']:.3g} | "
                 f"{f['verdict']} |")
    counts = {v: sum(f["verdict"] == v for f in a["fits"]) for v in ("confirmed", "refuted", "inconclusive")}
    deg = [f for f in a["fits"] if f["predicted_degenerate"]]
    L += ["", f"Summary: {counts['confirmed']} of {len(a['fits'])} rows confirmed, {counts['refuted']} refuted, "
          f"{counts['inconclusive']} inconclusive; of the {len(deg)} predicted-degenerate rows, "
          f"{sum(f['contains_minus_one'] for f in deg)} have an interval containing −1 (exponents "
          f"{min(f['slope'] for f in deg):.2f} to {max(f['slope'] for f in deg):.2f}).", "",
          "![diversity at initialisation](figure_diversity_init.png)", "",
          "![diversity after training](figure_diversity_trained.png)", ""]
    esc = b["escape"]
    W = sorted({int(k.split("/")[1]) for k in esc})
    seeds = sorted({int(k.split("/")[0]) for k in esc})
    L += [f"## (b) How long the degeneracy lasts (depth 4, i.i.d., teacher task, {b['steps']} steps)", "",
          "The mean-field theorem holds for a fixed training time as n → ∞. At a fixed width the O(n^{−1/2}) index "
          "dependence of layer 2 can grow during training; the first logged step (every "
          f"{b['every']}) at which D_2 exceeds {b['threshold']} (— : not within the run):", "",
          "| width | " + " | ".join(f"seed {s}" for s in seeds) + " |", "|---|" + "---|" * len(seeds)]
    for n in W:
        L.append(f"| {n} | " + " | ".join(str(esc[f'{s}/{n}']) if esc[f'{s}/{n}'] is not None else "—" for s in seeds)
                 + " |")
    L += ["", "![escape](figure_escape.png)", "",
          f"## (c) Coupling of widths (teacher task, {c['steps']} steps)", "",
          "RMS distance between the outputs of widths n and 4n sampled from one embedding, on the test inputs; "
          "exponent over n with a 95% t-interval over seeds (theory: −1/2):", "",
          "| depth, embedding | " + " | ".join(f"n = {n}" for n in c["widths"]) + " | exponent [95%] | lof p |",
          "|---|" + "---|" * (len(c["widths"]) + 2)]
    for key, rows in c["rows"].items():
        m = np.exp(np.log(np.array(rows)).mean(0))
        f = c["fits"][key]
        L.append(f"| {key.replace('/', ', ')} | " + " | ".join(f"{v:.3g}" for v in m) + f" | {_fit(f)} | "
                 f"{f['lack_of_fit_p']:.2g} |")
    L += ["", "![coupling](figure_coupling.png)", "",
          f"## (d) Learning with depth (width {d['width']}, {d['steps']} steps, lr {d['lr']})", "",
          "Test loss (mean squared error summed over outputs) and digits accuracy, mean [min, max] over seeds:", "",
          "| task | depth | i.i.d. test MSE | correlated test MSE | i.i.d. accuracy | correlated accuracy |",
          "|---|---|---|---|---|---|"]

    def cell(task: str, depth: int, emb: str, key: str) -> str:
        v = [x[key] for x in d["rows"] if x["task"] == task and x["depth"] == depth and x["embedding"] == emb and key in x]
        return f"{np.mean(v):.3g} [{min(v):.3g}, {max(v):.3g}]" if v else "—"

    for task in ("teacher", "digits"):
        for depth in cfg["depths"]:
            L.append(f"| {task} | {depth} | {cell(task, depth, 'iid', 'test_mse')} | "
                     f"{cell(task, depth, 'correlated', 'test_mse')} | {cell(task, depth, 'iid', 'test_accuracy')} | "
                     f"{cell(task, depth, 'correlated', 'test_accuracy')} |")
    L += ["", "![learning](figure_learning.png)", ""]
    with open(path, "w") as fh:
        fh.write("\n".join(L) + "\n")
