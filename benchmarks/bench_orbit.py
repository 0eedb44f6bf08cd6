"""Permutation-type action with D ~ 10^6: exact basis time and peak memory, vs a baseline.

The action: hidden-neuron permutations (S_h) of a wide MLP d -> h -> 1. The baseline, timed in
the same run, is the cheapest thing one can do with the same data: one pass that applies every
generator to a vector (np.take), i.e. the cost of reading the action once.

    python benchmarks/bench_orbit.py [h] [d]
"""

import sys
import time
import tracemalloc

import numpy as np

from symfix import Problem, groups, reps, units


def main(h: int = 10_000, d: int = 98) -> None:
    G = groups.symmetric(h)
    P = Problem(G, reps.trivial(G, d), reps.trivial(G), units.mlp([d, h, 1], "tanh", [reps.permutation(G)]))
    rep = P.param_rep
    D = rep.dim
    gens = rep.gen_images()  # signed permutations, O(D) each

    v = np.random.default_rng(0).standard_normal(D)
    t = time.perf_counter()
    for g in gens:
        g.apply(v)
    base = time.perf_counter() - t

    tracemalloc.start()
    t = time.perf_counter()
    E = rep.fixed_subspace()
    solve = time.perf_counter() - t
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    t = time.perf_counter()
    ok = E.verify(gens)
    verify = time.perf_counter() - t
    print(f"D = {D}, dim E^G = {E.dim}, method = {E.method}, exact basis verified: {ok}")
    print(f"solve {solve:.3f} s (target < 5 s); peak traced memory {peak / 2**20:.1f} MiB = {peak / D:.0f} bytes/parameter")
    print(f"baseline (apply each generator once) {base:.4f} s; ratio solve/baseline = {solve / base:.1f}x")
    print(f"exact verification M_h B = B: {verify:.2f} s")
    if solve >= 5 or not ok:
        sys.exit(1)


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
