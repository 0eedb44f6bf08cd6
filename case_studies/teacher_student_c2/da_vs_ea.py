"""Does DA approach EA for the arbitrary teacher? Larger N and longer training than run.py.

The theory predicts that from an SI start DA's law equals EA's in the mean-field limit. In the
quick study (horizon T = 20, N ≤ 500) DA's distance to EA at N = 500 is about three times EA's
same-N floor. This script trains DA and EA from the same SI particles, batches and noise, and a
second EA run from independent particles, data and noise (the same-N floor), for N in {500,
1000, 2000} and horizons T in {20, 60} (N·T steps, lr = 50 as in run.py), and records the RMD of
DA to EA against the floor. Writes da_vs_ea.csv (next to this script or into --out); run.py's
README quotes it when present.

    python case_studies/teacher_student_c2/da_vs_ea.py [--out DIR] [--seed S]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from run import LR, make_batches, problem, teachers  # noqa: E402  (the study's own settings)

from symfix import train  # noqa: E402
from symfix._io import write_csv  # noqa: E402
from symfix.numeric import nested, strongly_invariant, w2  # noqa: E402

NS, HORIZONS = (500, 1000, 2000), (20, 60)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)), help="output folder")
    ap.add_argument("--seed", type=int, default=0, help="seed of the coupled DA/EA runs (the floor uses seed + 1)")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)  # tiny tensors: one thread is fastest, and it does not collapse when the machine is shared
    P = problem()
    E = P.fixed_subspace()
    teacher = teachers(P)["arbitrary"]
    kw = dict(lr=LR, tau=1e-4, beta=1e-6, noise_subspace=E, log_every=0)
    rows = []
    t0 = time.perf_counter()
    for T in HORIZONS:
        for N in NS:
            runs = {}
            for seed, schemes in ((args.seed, ("da", "ea")), (args.seed + 1, ("ea",))):
                cloud = strongly_invariant(P, max(NS), std=0.25, rng=np.random.default_rng(1000 + seed))
                th0 = nested(cloud, [N])[0]
                data = list(zip(*make_batches(P, teacher, N * T, np.random.default_rng(2000 + 7919 * seed + N))))
                for s in schemes:
                    runs[(seed, s)] = train(P, th0, data, scheme=s, seed=seed, **kw).particles
            d = w2(runs[(args.seed, "da")], runs[(args.seed, "ea")], rng=0)
            f = w2(runs[(args.seed, "ea")], runs[(args.seed + 1, "ea")], rng=0)
            rows.append({"N": N, "T": T, "steps": N * T, "seed": args.seed, "rmd_da_ea": d.rmd, "method": d.method,
                         "floor_ea": f.rmd, "ratio": d.rmd / f.rmd, "seconds": time.perf_counter() - t0})
            print(f"T = {T}, N = {N}: RMD(DA, EA) {d.rmd:.3g}, EA floor {f.rmd:.3g}, ratio {d.rmd / f.rmd:.2f} "
                  f"({time.perf_counter() - t0:.0f} s)", flush=True)
    os.makedirs(args.out, exist_ok=True)
    write_csv(os.path.join(args.out, "da_vs_ea.csv"), rows)
    print(f"wrote da_vs_ea.csv to {args.out} ({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
