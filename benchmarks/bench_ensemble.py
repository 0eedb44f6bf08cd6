"""Benchmark of ensembles (R runs in one tensor) and of particles split over processes.

    python benchmarks/bench_ensemble.py [--quick] [--threads T]

Part 1, ensembles: the C2 teacher-student problem of case_studies/teacher_student_c2 (matrix
unit sigmoid(z x), z in R^{2x2}, batch 20, vanilla with noise projected onto E^G, float64). For
each N and R, ``train`` of R runs batched (one call with a leading run axis, each run its own
data and seed) against the same R runs trained one after the other, timed in the same run;
both include train's set-up, as a user would pay it. The batched result is first checked to
equal the separate runs (<= 1e-12).

Part 2, throughput: particle-steps per second of one vanilla run (batch 4) for N = 10^3 .. 10^7,
in one process with one thread (the baseline), one process with two threads, and two processes
(torchrun, gloo on loopback, one thread each; the union of their particles is checked against
the one-process run).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np


def problem():
    from symfix import Problem, groups, reps, units

    G = groups.cyclic(2)
    V = reps.permutation(G)
    return Problem(G, V, V, units.matrix_unit(2, 2, "sigmoid"))


def data(R, steps, B, seed=0):
    rng = np.random.default_rng(seed)
    x = 4.0 * rng.standard_normal((steps, R, B, 2))
    y = 1.0 / (1.0 + np.exp(-x[..., ::-1]))
    return x, y


def ensembles(Ns, Rs, threads):
    from symfix.numeric import train

    P = problem()
    E = P.fixed_subspace()
    kw = dict(lr=50.0, tau=1e-4, beta=1e-6, noise_subspace=E, log_every=0, threads=threads)
    print("| N | R | steps | batched: run-steps/s | separate: run-steps/s | batched / separate |")
    print("| --- | --- | --- | --- | --- | --- |")
    rows = []
    x, y = data(1, 2, 20)  # warm-up: the first call pays for imports and E^G
    train(P, np.zeros((4, 4)), list(zip(x[:, 0], y[:, 0])), scheme="vanilla", **kw)
    for N in Ns:
        for R in Rs:
            steps = int(np.clip(3e6 / (R * N * 40), 20, 300))
            x, y = data(R, steps, 20)
            th0 = 0.25 * np.random.default_rng(1).standard_normal((R, N, 4))
            t = time.perf_counter()
            batched = train(P, th0, list(zip(x, y)), scheme="vanilla", seed=list(range(R)), **kw).particles
            tb = time.perf_counter() - t
            t = time.perf_counter()
            sep = [train(P, th0[k], list(zip(x[:, k], y[:, k])), scheme="vanilla", seed=k, **kw).particles for k in range(R)]
            ts = time.perf_counter() - t
            assert np.abs(batched - np.stack(sep)).max() <= 1e-12, "batched runs differ from separate runs"
            rows.append({"N": N, "R": R, "steps": steps, "batched": R * steps / tb, "separate": R * steps / ts})
            print(f"| {N} | {R} | {steps} | {R * steps / tb:,.0f} | {R * steps / ts:,.0f} | {ts / tb:.2f}x |", flush=True)
    return rows


def throughput_one(N, steps, threads, distributed=False, out=None):
    """Particle-steps/s of one vanilla run; under torchrun each process times its share."""
    import torch

    from symfix.numeric import gather_particles, train

    P = problem()
    x, y = data(1, steps + 1, 4, seed=2)
    th0 = 0.25 * np.random.default_rng(3).standard_normal((N, 4))
    batches = list(zip(x[:, 0], y[:, 0]))
    kw = dict(scheme="vanilla", lr=1.0, beta=1e-6, seed=0, log_every=0, threads=threads, distributed=distributed)
    train(P, th0, batches[:1], **kw)  # warm-up (and, when distributed, joining the process group)
    if distributed:
        torch.distributed.barrier()
    t = time.perf_counter()
    r = train(P, th0, batches[1:], **kw)
    full = gather_particles(r)
    dt = time.perf_counter() - t
    if out is not None and full is not None:
        np.save(out, full)
    return N * steps / dt


def throughput(Ns, quick):
    print("\n| N | steps | 1 process, 1 thread: particle-steps/s | 1 process, 2 threads | 2 processes (gloo) | "
          "2 processes / 1 thread |")
    print("| --- | --- | --- | --- | --- | --- |")
    rows = []
    for N in Ns:
        steps = int(np.clip(4e8 / (N * 8 * 40), 5, 200))
        with tempfile.TemporaryDirectory() as tmp:
            one = throughput_one(N, steps, 1, out=os.path.join(tmp, "one.npy"))
            two_threads = throughput_one(N, steps, 2)
            cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-port", "29677",
                   os.path.abspath(__file__), "--worker", str(N), str(steps), os.path.join(tmp, "two.npy")]
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
            if r.returncode != 0:
                raise SystemExit(f"torchrun worker failed:\n{r.stderr[-3000:]}")
            two = json.loads(r.stdout.strip().splitlines()[-1])["rate"]
            diff = float(np.abs(np.load(os.path.join(tmp, "one.npy")) - np.load(os.path.join(tmp, "two.npy"))).max())
            assert diff <= 1e-12, f"two processes differ from one by {diff}"
        rows.append({"N": N, "steps": steps, "one": one, "two_threads": two_threads, "two_processes": two})
        print(f"| {N:.0e} | {steps} | {one:,.3g} | {two_threads:,.3g} | {two:,.3g} | {two / one:.2f}x |", flush=True)
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer sizes (about a minute)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads for part 1")
    ap.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:  # one process of part 2's torchrun job
        import torch.distributed as dist

        N, steps, out = int(args.worker[0]), int(args.worker[1]), args.worker[2]
        rate = throughput_one(N, steps, 1, distributed=True, out=out)
        if dist.get_rank() == 0:
            print(json.dumps({"rate": rate}))
        return 0
    Ns = [5, 500] if args.quick else [5, 50, 500, 5000]
    Rs = [1, 16, 64] if args.quick else [1, 4, 16, 64, 256]
    print("## Ensembles: R runs batched against R separate runs (C2 matrix unit, batch 20, float64)\n")
    ensembles(Ns, Rs, args.threads)
    print("\n## Particle throughput, one run (batch 4, float64)")
    throughput([10**3, 10**5] if args.quick else [10**3, 10**4, 10**5, 10**6, 10**7], args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
