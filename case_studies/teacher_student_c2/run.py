"""Case study: the paper's C2 teacher-student experiment (its Appendix F), with symfix.

X = Y = R^2, G = C2 swapping the two coordinates of both, unit sigmoid(z x) with z in R^{2x2},
M_g z = g z g^T, X ~ N(0, 16 I), Y = teacher(X). Three teachers:

* arbitrary: five particles (flattened rows of z, times 0.5)
  (-1,0,0,.5), (.5,1,0,1), (-.5,.3,1,0), (0,-1,-.5,1), (.7,-.7,.5,.7);
* WI: these five together with their images under the swap (10 particles);
* SI: five particles with coordinates (1,0), (.5,1), (-.5,.3), (0,-1), (.7,.7) in the
  orthonormal basis I/sqrt2, P/sqrt2 of E^G (P the swap matrix).

Training: lr = 50, tau = 1e-4, beta = 1e-6, batch 20, horizon T = 20 (N*T steps), initial
entries N(0, 1/16) projected onto E^G (SI initialisation), noise projected onto E^G; schemes
vanilla, DA (one random g per sample), FA, EA, all coupled (same initial particles, nested
across N, same batches, same noise seed). For each teacher, N and seed the script records the
distance of the final law to E^G, pairwise distances between schemes, each scheme against EA,
and the same-N floor (two independent runs of a scheme), then fits the decay exponent of
vanilla's escape against N.

Outputs, next to this script (or in --out): results.csv, pairwise.csv, exponent.json,
figure_main.png (columns: arbitrary, WI, SI teacher; rows: RMD to E^G vs N, pairwise RMD
between schemes, each scheme vs EA), figure_particles.png (particles in E^G and orthogonal
coordinates).

    python case_studies/teacher_student_c2/run.py [--quick] [--out DIR] [--seeds K]

--quick runs N in {5, 10, 50, 100, 500} with 2 seeds (under 3 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np
from scipy import stats

from symfix import Problem, groups, reps, train, units
from symfix._io import save_figure, write_csv, write_text
from symfix._progress import progress
from symfix.numeric import escape, nested, strongly_invariant, w2
from symfix.symbolic._fixed import dense_orthonormal

SCHEMES = ("vanilla", "da", "fa", "ea")
ARBITRARY = 0.5 * np.array([[-1, 0, 0, 0.5], [0.5, 1, 0, 1], [-0.5, 0.3, 1, 0], [0, -1, -0.5, 1], [0.7, -0.7, 0.5, 0.7]])
SI_COORDS = np.array([[1, 0], [0.5, 1], [-0.5, 0.3], [0, -1], [0.7, 0.7]])


def problem() -> Problem:
    G = groups.cyclic(2)
    V = reps.permutation(G)
    return Problem(G, V, V, units.matrix_unit(2, 2, "sigmoid"))


def teachers(P: Problem) -> dict[str, np.ndarray]:
    swap = P.act(P.group.generators[0], ARBITRARY)
    basis = np.array([[1, 0, 0, 1], [0, 1, 1, 0]]) / np.sqrt(2)  # I/sqrt2, P/sqrt2 flattened
    return {"arbitrary": ARBITRARY, "WI": np.concatenate([ARBITRARY, swap]), "SI": SI_COORDS @ basis}


def make_batches(P, teacher, n, rng, batch=20):
    x = 4.0 * rng.standard_normal((n, batch, 2))
    y = P.unit.forward(x.reshape(-1, 2), teacher).mean(0).reshape(n, batch, 2)
    return list(zip(x, y))


def run(args) -> int:
    P = problem()
    E = P.fixed_subspace()
    Q = dense_orthonormal(E)
    Qperp = np.array([[1, 0, 0, -1], [0, 1, -1, 0]]).T / np.sqrt(2)  # orthogonal complement
    Ns = [5, 10, 50, 100, 500] if args.quick else [5, 10, 50, 100, 500, 1000, 5000]
    T = 20
    seeds = list(range(args.seeds if args.seeds else (2 if args.quick else 5)))
    kw = dict(lr=50.0, tau=1e-4, beta=1e-6, noise_subspace=E, log_every=0)
    rows, pairs, finals = [], [], {}
    t0 = time.perf_counter()
    jobs = [(name, N, seed) for name in teachers(P) for N in Ns for seed in seeds + [max(seeds) + 1]]
    for name, N, seed in progress(jobs, "teacher-student C2", enabled=not args.no_progress):
        teacher = teachers(P)[name]
        rng = np.random.default_rng(1000 + seed)
        cloud = strongly_invariant(P, max(Ns), std=0.25, rng=rng)  # one SI cloud per seed, nested in N
        th0 = nested(cloud, [N])[0]
        data = make_batches(P, teacher, N * T, np.random.default_rng(2000 + 7919 * seed + N))
        xt = 4.0 * np.random.default_rng(3).standard_normal((2000, 2))
        yt = P.unit.forward(xt, teacher).mean(0)
        for scheme in SCHEMES:
            r = train(P, th0, data, scheme=scheme, seed=seed, **kw)
            finals[(name, N, seed, scheme)] = r.particles
            if seed in seeds:
                esc = escape(r.particles, E)
                risk = float(np.mean(np.sum((P.unit.forward(xt, r.particles).mean(0) - yt) ** 2, axis=1)))
                rows.append({"teacher": name, "N": N, "seed": seed, "scheme": scheme, "steps": r.steps,
                             "escape_w2sq": esc.w2sq, "rmd_to_EG": esc.rmd, "test_risk": risk})
    print(f"training done in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    for name in teachers(P):
        for N in Ns:
            for seed in seeds:
                f = {s: finals[(name, N, seed, s)] for s in SCHEMES}
                for i, a in enumerate(SCHEMES):
                    for b in SCHEMES[i + 1 :]:
                        d = w2(f[a], f[b], rng=0)
                        pairs.append({"teacher": name, "N": N, "seed": seed, "pair": f"{a}-{b}", "rmd": d.rmd, "method": d.method})
                # same-N floor: the same scheme from independent initial particles, data and noise
                for s in SCHEMES:
                    d = w2(f[s], finals[(name, N, max(seeds) + 1, s)], rng=0)
                    pairs.append({"teacher": name, "N": N, "seed": seed, "pair": f"floor:{s}", "rmd": d.rmd, "method": d.method})
    os.makedirs(args.out, exist_ok=True)
    write_csv(os.path.join(args.out, "results.csv"), rows)
    write_csv(os.path.join(args.out, "pairwise.csv"), pairs)
    expo = _exponents(rows, Ns)
    write_text(os.path.join(args.out, "exponent.json"), json.dumps(expo, indent=2))
    _figure_main(rows, pairs, Ns, os.path.join(args.out, "figure_main.png"))
    big = max(Ns)
    _figure_particles(finals, Q, Qperp, big, seeds[0], os.path.join(args.out, "figure_particles.png"))
    for name, e in expo.items():
        print(f"{name:9s} vanilla escape ~ N^{e['slope']:+.2f}  (95% CI {e['ci95'][0]:+.2f} .. {e['ci95'][1]:+.2f}, "
              f"{e['points']} points)")
    _summary(rows, pairs, Ns)
    print(f"wrote results.csv, pairwise.csv, exponent.json, figure_main.png, figure_particles.png to {args.out} "
          f"({time.perf_counter() - t0:.1f} s)")
    return 0


def _exponents(rows, Ns):
    out = {}
    for name in ("arbitrary", "WI", "SI"):
        pts = [(r["N"], r["escape_w2sq"]) for r in rows if r["teacher"] == name and r["scheme"] == "vanilla" and r["escape_w2sq"] > 0]
        x = np.log([p[0] for p in pts])
        y = np.log([p[1] for p in pts])
        fit = stats.linregress(x, y)
        t = stats.t.ppf(0.975, len(pts) - 2)
        out[name] = {"slope": fit.slope, "ci95": [fit.slope - t * fit.stderr, fit.slope + t * fit.stderr],
                     "intercept": fit.intercept, "points": len(pts), "quantity": "W2^2(nu, P#nu) of vanilla vs N"}
    return out


def _summary(rows, pairs, Ns):
    for name in ("arbitrary", "WI", "SI"):
        for s in SCHEMES:
            vals = [np.mean([r["rmd_to_EG"] for r in rows if r["teacher"] == name and r["scheme"] == s and r["N"] == N]) for N in Ns]
            print(f"{name:9s} {s:8s} RMD to E^G by N: " + "  ".join(f"{v:.1e}" for v in vals))


def _mean_by_n(items, key, Ns, **match):
    out = []
    for N in Ns:
        v = [it[key] for it in items if it["N"] == N and all(it[k] == m for k, m in match.items())]
        out.append(np.mean(v) if v else np.nan)
    return np.maximum(np.array(out), FLOOR)  # exact zeros drawn at the bottom of the log axis


FLOOR = 1e-17


def _figure_main(rows, pairs, Ns, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = ("arbitrary", "WI", "SI")
    fig, axes = plt.subplots(3, 3, figsize=(13, 11), sharex=True)
    colors = {"vanilla": "C0", "da": "C1", "fa": "C2", "ea": "C3"}
    for j, name in enumerate(names):
        ax = axes[0, j]
        for s in SCHEMES:
            ax.plot(Ns, _mean_by_n(rows, "rmd_to_EG", Ns, teacher=name, scheme=s), "o-", color=colors[s], label=s)
        ax.set_title(f"{name} teacher")
        ax.set_ylabel("RMD(ν, P_E^G # ν)" if j == 0 else "")
        ax = axes[1, j]
        for pair in ("vanilla-da", "vanilla-fa", "da-fa", "vanilla-ea"):
            ax.plot(Ns, _mean_by_n(pairs, "rmd", Ns, teacher=name, pair=pair), "o-", label=pair)
        ax.plot(Ns, _mean_by_n(pairs, "rmd", Ns, teacher=name, pair="floor:vanilla"), "k--", label="same-N floor (vanilla)")
        ax.set_ylabel("pairwise RMD" if j == 0 else "")
        ax = axes[2, j]
        for s in ("vanilla", "da", "fa"):
            ax.plot(Ns, _mean_by_n(pairs, "rmd", Ns, teacher=name, pair=f"{s}-ea"), "o-", color=colors[s], label=f"{s} vs EA")
        ax.plot(Ns, _mean_by_n(pairs, "rmd", Ns, teacher=name, pair="floor:ea"), "k--", label="same-N floor (EA)")
        ax.set_xlabel("N (particles)")
        ax.set_ylabel("RMD to EA" if j == 0 else "")
    for ax in axes.ravel():
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_ylim(FLOOR / 3, 3)
        ax.grid(True, which="both", alpha=0.3)
    for i in range(3):
        axes[i, 2].legend(fontsize=8, loc="best")
    fig.suptitle("C2 teacher-student (mean-field SGD, SI initialisation, noise projected onto E^G); "
                 f"points at {FLOOR:g} are <= {FLOOR:g} (exact zeros)")
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def _figure_particles(finals, Q, Qperp, N, seed, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = ("arbitrary", "WI", "SI")
    fig, axes = plt.subplots(2, 3, figsize=(13, 8))
    for j, name in enumerate(names):
        for s, m in zip(SCHEMES, "o^sx"):
            th = finals[(name, N, seed, s)]
            axes[0, j].scatter(th @ Q[:, 0], th @ Q[:, 1], s=6, marker=m, alpha=0.6, label=s)
            axes[1, j].scatter(th @ Qperp[:, 0], th @ Qperp[:, 1], s=6, marker=m, alpha=0.6, label=s)
        axes[0, j].set_title(f"{name} teacher, N = {N}: coordinates in E^G")
        axes[1, j].set_title("coordinates in (E^G)^⊥ (0 for an SI law)")
    axes[0, 2].legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="N up to 500, 2 seeds (under 3 minutes on 2 cores)")
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)), help="output folder")
    ap.add_argument("--seeds", type=int, default=0, help="number of seeds (default 2 quick, 5 full)")
    ap.add_argument("--no-progress", action="store_true")
    return run(ap.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
