"""Cost of discovery on large data: a 9-parameter matrix unit (C3 permuting R^3 on both sides,
E^G = circulant matrices, dim 3) with 200 000 samples.

Two runs on the same data, timed in the same process: the defaults with 200 particles (the
constrained runs train on a fixed subsample of 640 000 / 200 = 3 200 samples; the velocity
test uses all 200 000) and the baseline of the earlier versions, which trained on all the data
(``train_samples`` = all) with their default 32 particles. Printed: status, dimension, angle
to E^G and wall time of each, and the ratio. Target (issue 16): under 2 minutes on 2 cores,
with the same result as the full-data run.

    python benchmarks/discovery/cost.py [--samples 200000] [--particles 200] [--no-baseline]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from symfix import Problem, groups, reps, units
from symfix.discovery import discover


def problem() -> Problem:
    C3 = groups.cyclic(3)
    V = reps.permutation(C3)
    return Problem(C3, V, V, units.matrix_unit(3, 3, "tanh"))


def data(P: Problem, n: int, seed: int = 0) -> tuple:
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((3, P.param_dim))
    T = np.concatenate([P.act(g, base) for g in P.group.elements()])
    X = rng.standard_normal((n, P.unit.d))
    return X, P.unit.forward(X, T).mean(0)


def timed(P: Problem, X: np.ndarray, Y: np.ndarray, **options) -> tuple:
    t = time.perf_counter()
    r = discover(P.unit, (X, Y), seed=0, **options)
    return r, time.perf_counter() - t


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=200_000)
    ap.add_argument("--particles", type=int, default=200)
    ap.add_argument("--no-baseline", action="store_true", help="skip the full-data run (minutes)")
    args = ap.parse_args(argv)
    P = problem()
    E = P.fixed_subspace()
    X, Y = data(P, args.samples)
    r, dt = timed(P, X, Y, n_particles=args.particles)
    print(f"defaults, {args.particles} particles, {args.samples} samples: {r.status}, dim {r.dim} (E^G {E.dim}), "
          f"angle {r.angle_to(E):.1e}, {dt:.1f} s, {len(r.history)} iterations")
    ok = r.status == "exact" and r.angle_to(E) <= 1e-9 and dt < 120
    if not args.no_baseline:
        b, db = timed(P, X, Y, n_particles=32, train_samples=X.shape[0])
        same = b.dim == r.dim and (b.dim == 0 or np.max(np.abs(b.basis @ b.basis.T - r.basis @ r.basis.T)) < 1e-9)
        print(f"baseline: full-data training, 32 particles: {b.status}, dim {b.dim}, angle {b.angle_to(E):.1e}, "
              f"{db:.1f} s; same subspace: {same}; time ratio baseline / defaults {db / dt:.2f}")
        ok &= same
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
