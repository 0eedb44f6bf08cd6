"""Benchmark of exact Lie-group invariants on tensor powers: the ``lie`` route against the
structured ``tensor`` route (the previous default), timed in the same run.

Cases (the D6 rows use the ``rational-form`` route, the C5 and D5 rows the ``weil`` route, both
chosen by ``auto``): SO(3) invariants of V^{⊗k}, k = 3..10 (dimensions checked against the Riordan numbers
1, 3, 6, 15, 36, 91, 232, 603), Hom(V^{⊗3}, V^{⊗3}) for SO(3) and O(3), O(3) on V^{⊗k} and
SO(2) on V^{⊗k} (central binomial counts), and D6 acting on the plane with entries ±√3/2 on
Hom(V^{⊗k}, V^{⊗k}) (character formula); the non-compact groups O(1,3), SO(1,3), SO⁺(1,3),
Sp(2) and Sp(4) on small tensor powers and Hom spaces (``auto``: the tensor route; counts
from their complexifications O(4), SO(4), Sp(2n, C)). The ``tensor`` route is timed where it finishes in
about a minute (k <= 7 for SO(3): it took 952 s at k = 8).

EMLP 1.0.3, the general numeric library, is timed in the same run on the cases with D <= 2187
when an environment with it is given (``--emlp-python``, default ``$EMLP_PYTHON`` or
``.venv-emlp/bin/python``; ``make emlp-env`` makes one): ``benchmarks/emlp_cases.py`` runs
there in a subprocess, so symfix's own environment never imports jax. Its dimensions must
agree with ours.

A second table measures the memory of the lie route on SO(3) V^k, k = 8..11, each in a fresh
process: peak resident memory above the start of the solve, against the sizes of the exact basis
and of the Lie images (issue 17's target: memory O(output + nonzeros)).

    python benchmarks/bench_lie.py [--quick] [--emlp-python PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from functools import reduce
from math import comb

from symfix import groups, reps


def riordan(n: int) -> int:
    r = [1, 0]
    for m in range(2, n + 1):
        r.append((m - 1) * (2 * r[m - 1] + 3 * r[m - 2]) // (m + 1))
    return r[n]


def power(V, k):
    return reduce(lambda a, b: a * b, [V] * k)


def timed(W, method):
    t = time.perf_counter()
    E = W.fixed_subspace(method)
    return E, time.perf_counter() - t


HERE = os.path.dirname(os.path.abspath(__file__))


def emlp_times(python: str | None, cases: list[str]) -> dict:
    """{case: (dim, seconds)} from EMLP in its own environment, one process per case (EMLP caches
    bases across representations of equal shape, so a shared process would time cache hits); {}
    without an environment."""
    out = {}
    for case in cases if python else []:
        r = subprocess.run([python, os.path.join(HERE, "emlp_cases.py"), case], capture_output=True, text=True,
                           timeout=3600, env={**os.environ, "TQDM_DISABLE": "1"})
        if r.returncode != 0:
            raise SystemExit(f"EMLP run failed ({python}, {case}): {r.stderr.strip().splitlines()[-1:]}")
        row = json.loads([line for line in r.stdout.splitlines() if line.startswith("{")][-1])
        out[case] = (row["dim"], row["seconds"])
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="k <= 8 for SO(3) (seconds)")
    default = os.environ.get("EMLP_PYTHON") or os.path.join(HERE, "..", ".venv-emlp", "bin", "python")
    ap.add_argument("--emlp-python", default=default if os.path.exists(default) else None,
                    help="python of an environment with EMLP 1.0.3 (make emlp-env); default $EMLP_PYTHON or "
                         ".venv-emlp/bin/python when it exists")
    ap.add_argument("--memory-case", type=int, help=argparse.SUPPRESS)  # internal: one memory row, in a fresh process
    args = ap.parse_args(argv)
    if args.memory_case:
        memory_case(args.memory_case)
        return 0
    so3, o3, so2 = groups.so3(), groups.orthogonal(3), groups.so2()
    V3, O3, V2 = reps.defining(so3), reps.defining(o3), reps.defining(so2)
    # (name, representation, expected dimension, time the tensor route, EMLP case or None)
    cases = [(f"SO(3) V^{k}", power(V3, k), riordan(k), k <= 7, f"SO3:pow:{k}") for k in range(3, 9 if args.quick else 12)]
    cases += [("SO(3) Hom(V^3, V^3)", power(V3, 3) >> power(V3, 3), riordan(6), True, "SO3:hom:3"),
              ("O(3) Hom(V^3, V^3)", power(O3, 3) >> power(O3, 3), riordan(6), True, "O3:hom:3")]
    cases += [(f"O(3) V^{k}", power(O3, k), riordan(k) if k % 2 == 0 else 0, k <= 6, f"O3:pow:{k}") for k in (4, 6, 8)]
    cases += [(f"SO(2) V^{k}", power(V2, k), comb(k, k // 2), k <= 10, f"SO2:pow:{k}") for k in (6, 10, 12)]
    d6 = groups.from_generators([[["1/2", "-sqrt(3)/2"], ["sqrt(3)/2", "1/2"]], [[1, 0], [0, -1]]])
    D6 = reps.defining(d6)
    for k in (2, 3):
        W = power(D6, k) >> power(D6, k)
        expected = round(sum(W.character(g) for g in d6.elements()) / d6.order)  # character formula
        cases.append((f"D6 (entries sqrt(3)/2) Hom(V^{k}, V^{k})", W, expected, True, f"D6:hom:{k}"))
    c, s = "(sqrt(5)-1)/4", "sqrt(10+2*sqrt(5))/4"  # cos and sin of 72°: no rational form (the weil route)
    for label, gens in (("C5", [[[c, f"-{s}"], [s, c]]]), ("D5", [[[c, f"-{s}"], [s, c]], [[1, 0], [0, -1]]])):
        g5 = groups.from_generators(gens)
        for k in (2, 3):
            W = power(reps.defining(g5), k) >> power(reps.defining(g5), k)
            expected = round(sum(W.character(g) for g in g5.elements()) / g5.order)
            cases.append((f"{label} (entries cos, sin 72°) Hom(V^{k}, V^{k})", W, expected, True, f"{label}:hom:{k}"))
    # non-compact groups (auto: the tensor route); counts from the complexifications O(4), SO(4), Sp(2n, C)
    lor, slor, slorp = groups.lorentz(), groups.lorentz(proper=True), groups.lorentz(proper=True, orthochronous=True)
    L, SL, SLp = reps.defining(lor), reps.defining(slor), reps.defining(slorp)
    S2, S4 = reps.defining(groups.symplectic(1)), reps.defining(groups.symplectic(2))
    cases += [("O(1,3) V^4", power(L, 4), 3, False, "O13:pow:4"), ("O(1,3) V^5", power(L, 5), 0, False, "O13:pow:5"),
              ("O(1,3) Hom(V^2, V^2)", power(L, 2) >> power(L, 2), 3, False, "O13:hom:2"),
              ("O(1,3) Hom(V^3, V^3)", power(L, 3) >> power(L, 3), 15, False, "O13:hom:3"),
              ("SO(1,3) V^4", power(SL, 4), 4, False, "SO13:pow:4"),
              ("SO+(1,3) Hom(V^2, V^2)", power(SLp, 2) >> power(SLp, 2), 4, False, "SO13p:hom:2"),
              ("Sp(2) V^6", power(S2, 6), 5, False, "Sp1:pow:6"), ("Sp(2) V^8", power(S2, 8), 14, False, "Sp1:pow:8"),
              ("Sp(4) V^4", power(S4, 4), 3, False, "Sp2:pow:4")]
    emlp = emlp_times(args.emlp_python, [c[4] for c in cases if c[1].dim <= 2187])
    print("| case | D | dim E^G | expected | lie / rational-form / weil route | tensor route (same run) | ratio | EMLP 1.0.3 "
          "(same run) | EMLP / symfix |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, W, expected, baseline, key in cases:
        E, t_lie = timed(W, "lie" if W.group in (so3, o3, so2) else "auto")
        assert E.dim == expected and E.exact, (name, E.dim, expected)
        if baseline:
            B, t_base = timed(W, "tensor")
            assert B.dim == E.dim
            base, ratio = f"{t_base:.3f} s", f"{t_base / t_lie:.2f}x"
        elif W.group in (so3, o3, so2):
            base, ratio = "not run (minutes to hours)", ""
        else:
            base, ratio = "(auto is this route)", ""
        if key in emlp:
            dim, t_emlp = emlp[key]
            assert dim == E.dim, (name, "EMLP", dim, E.dim)
            em, em_ratio = f"{t_emlp:.3f} s", f"{t_emlp / t_lie:.0f}x"
        else:
            em, em_ratio = ("not run (D > 2187)" if args.emlp_python else "no EMLP environment"), ""
        print(f"| {name} | {W.dim} | {E.dim} | {expected} | {t_lie:.3f} s | {base} | {ratio} | {em} | {em_ratio} |",
              flush=True)
    if not args.emlp_python:
        print("\nNo EMLP environment (make emlp-env, or --emlp-python PATH): no EMLP column.")
    print("\nMemory of the lie route, SO(3) V^k, each k in a fresh process (peak resident memory above the "
          "process before the solve, sampled every 10 ms; the basis and the Lie images as int64 values + indices):\n")
    print("| k | D | dim E^G | seconds | peak above start | exact basis (nonzeros, MiB) | Lie images (nonzeros, MiB) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for k in (8, 9, 10) if args.quick else (8, 9, 10, 11):
        r = subprocess.run([sys.executable, os.path.abspath(__file__), "--memory-case", str(k)], capture_output=True,
                           text=True, timeout=3600)
        if r.returncode != 0:
            raise SystemExit(f"memory case {k} failed: {r.stderr.strip().splitlines()[-1:]}")
        m = json.loads(r.stdout.strip().splitlines()[-1])
        assert m["dim"] == riordan(k)
        print(f"| {k} | {m['D']} | {m['dim']} | {m['seconds']:.2f} | {m['peak_mib']:.0f} MiB | {m['basis_nnz']:,} "
              f"({m['basis_nnz'] * 16 / 2**20:.0f}) | {m['lie_nnz']:,} ({m['lie_nnz'] * 16 / 2**20:.0f}) |", flush=True)
    return 0


def memory_case(k: int) -> None:
    """One SO(3) V^k solve in this process, its peak resident memory above the start (JSON)."""
    import threading

    def rss() -> int:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS"))

    W = power(reps.defining(groups.so3()), k)
    start = peak = rss()
    stop = threading.Event()

    def watch() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, rss())
            stop.wait(0.01)

    th = threading.Thread(target=watch)
    th.start()
    E, seconds = timed(W, "lie")
    stop.set()
    th.join()
    # three generators with 2 non-zero entries each; the k terms I ⊗ .. ⊗ A ⊗ .. ⊗ I have disjoint supports
    lie_nnz = 3 * k * 2 * 3 ** (k - 1)
    print(json.dumps({"D": W.dim, "dim": E.dim, "seconds": seconds, "peak_mib": (peak - start) / 2**20,
                      "basis_nnz": int(E.basis.nnz), "lie_nnz": lie_nnz}))


if __name__ == "__main__":
    sys.exit(main())
