"""Case study: mean-field training under a compact Lie group, SO(2).

A point x in R^2 is fed to the network through its second moment x (x) x in R^4, on which SO(2)
acts by g (x) g (the tensor square V (x) V of the rotation representation); the output is
invariant. Unit: neuron a tanh(w . (x (x) x) + b), parameters (a, w, b) in R^6. Its E^G has
dimension 4: a, b, and w in span(vec I, vec J), so an SI neuron sees x only through |x|^2
(a radial feature). Teachers, four neurons each:

* SI: radial neurons (w in E^G), so the data are rotation invariant;
* arbitrary: generic neurons, data not invariant.

Schemes: vanilla, DA (one Haar-random rotation per sample), FA (the model averaged over the
16 equally spaced rotations, symfix's quadrature for SO(2)), EA; SI initialisation, noise
projected onto E^G, all coupled (same particles, nested in N, same batches).

Outputs next to this script (or in --out): results.csv, figure_so2.png (RMD to E^G vs N per
scheme, for both teachers; and the final test risk), and the fitted decay exponent of vanilla's
escape with the SI teacher.

    python case_studies/teacher_student_so2/run.py [--quick] [--out DIR]
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
from symfix.numeric import escape, nested, population_risk, strongly_invariant

SCHEMES = ("vanilla", "da", "fa", "ea")


def problem() -> Problem:
    G = groups.so2()
    V = reps.defining(G)
    return Problem(G, V * V, reps.trivial(G), units.neuron(4, 1, "tanh"))


def teachers(P: Problem, E) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    generic = rng.standard_normal((4, P.param_dim))
    generic[:, 0] = [1.5, -1.0, 1.0, -0.8]  # output weights a
    return {"SI": E.project(generic), "arbitrary": generic}


def features(x: np.ndarray) -> np.ndarray:
    return np.einsum("bi,bj->bij", x, x).reshape(x.shape[0], 4)


def make_batches(P, teacher, n, rng, batch=20):
    f = features(rng.standard_normal((n * batch, 2)))
    y = P.unit.forward(f, teacher).mean(0)
    return list(zip(f.reshape(n, batch, 4), y.reshape(n, batch, 1)))


def run(args) -> int:
    P = problem()
    E = P.fixed_subspace()
    assert E.dim == 4
    Ns = [5, 20, 80, 320] if args.quick else [5, 20, 80, 320, 1280]
    T, seeds = 10, [0, 1] if args.quick else [0, 1, 2, 3]
    kw = dict(lr=5.0, tau=1e-4, beta=1e-6, noise_subspace=E, log_every=0)
    xt = features(np.random.default_rng(99).standard_normal((4000, 2)))
    rows = []
    t0 = time.perf_counter()
    jobs = [(name, N, seed) for name in ("SI", "arbitrary") for N in Ns for seed in seeds]
    for name, N, seed in progress(jobs, "teacher-student SO(2)", enabled=not args.no_progress):
        teacher = teachers(P, E)[name]
        cloud = strongly_invariant(P, max(Ns), std=0.5, rng=np.random.default_rng(100 + seed))
        th0 = nested(cloud, [N])[0]
        data = make_batches(P, teacher, N * T, np.random.default_rng(200 + 31 * seed + N))
        yt = P.unit.forward(xt, teacher).mean(0)
        for scheme in SCHEMES:
            r = train(P, th0, data, scheme=scheme, seed=seed, **kw)
            esc = escape(r.particles, E)
            risk = population_risk(P, r.particles, xt, yt, scheme="fa" if scheme == "fa" else "vanilla")
            rows.append({"teacher": name, "N": N, "seed": seed, "scheme": scheme, "steps": r.steps,
                         "escape_w2sq": esc.w2sq, "rmd_to_EG": esc.rmd, "test_risk": risk})
    os.makedirs(args.out, exist_ok=True)
    write_csv(os.path.join(args.out, "results.csv"), rows)
    pts = [(r["N"], r["escape_w2sq"]) for r in rows if r["teacher"] == "SI" and r["scheme"] == "vanilla"]
    fit = stats.linregress(np.log([p[0] for p in pts]), np.log([p[1] for p in pts]))
    t = stats.t.ppf(0.975, len(pts) - 2)
    expo = {"slope": fit.slope, "ci95": [fit.slope - t * fit.stderr, fit.slope + t * fit.stderr], "points": len(pts),
            "quantity": "W2^2(nu, P#nu) of vanilla vs N, SI teacher"}
    write_text(os.path.join(args.out, "exponent.json"), json.dumps(expo, indent=2))
    _figure(rows, Ns, os.path.join(args.out, "figure_so2.png"))
    for name in ("SI", "arbitrary"):
        for s in SCHEMES:
            v = [np.mean([r["rmd_to_EG"] for r in rows if r["teacher"] == name and r["scheme"] == s and r["N"] == N]) for N in Ns]
            k = [np.mean([r["test_risk"] for r in rows if r["teacher"] == name and r["scheme"] == s and r["N"] == N]) for N in Ns]
            print(f"{name:9s} {s:8s} RMD to E^G by N: " + "  ".join(f"{x:.1e}" for x in v) + "   test risk: "
                  + "  ".join(f"{x:.1e}" for x in k))
    print(f"SI teacher: vanilla escape ~ N^{expo['slope']:+.2f} (95% CI {expo['ci95'][0]:+.2f} .. {expo['ci95'][1]:+.2f})")
    print(f"wrote results.csv, exponent.json, figure_so2.png to {args.out} ({time.perf_counter() - t0:.1f} s)")
    return 0


def _figure(rows, Ns, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(11, 8), sharex=True)
    for j, name in enumerate(("SI", "arbitrary")):
        for s in SCHEMES:
            for i, key in enumerate(("rmd_to_EG", "test_risk")):
                v = [np.mean([r[key] for r in rows if r["teacher"] == name and r["scheme"] == s and r["N"] == N]) for N in Ns]
                axes[i, j].plot(Ns, np.maximum(v, 1e-17), "o-", label=s)
        axes[0, j].set_title(f"{name} teacher")
        axes[1, j].set_xlabel("N (particles)")
    axes[0, 0].set_ylabel("RMD(ν, P_E^G # ν)  (1e-17: exact zero)")
    axes[1, 0].set_ylabel("test risk")
    for ax in axes.ravel():
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.grid(True, which="both", alpha=0.3)
    axes[0, 1].legend()
    fig.suptitle("SO(2) acting on x⊗x, invariant output: SI initialisation, noise projected onto E^G")
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="N up to 320, 2 seeds")
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)), help="output folder")
    ap.add_argument("--no-progress", action="store_true")
    return run(ap.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
