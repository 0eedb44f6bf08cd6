"""Exact route on a general rational action, and the comparison with sympy's Matrix.nullspace.

Action: Hom(V, V) of the standard representation V of S_k written in the integer basis
e_i - e_{i+1} (not monomial, so the orbit route does not apply); generators are passed as
dense integer matrices of size D = (k-1)^2 to ``fixed_point_subspace`` (route ``exact``).
The baseline, timed in the same run, is sympy's ``Matrix.nullspace`` on the same stacked
constraints (M_h - I). A second row does the same for a monomial action of the same size,
where symfix takes the orbit route.

    python benchmarks/bench_exact.py [k_large] [k_compare]
"""

import sys
import time

import numpy as np
import sympy

from symfix import fixed_point_subspace


def std_basis_generators(k: int) -> list[np.ndarray]:
    n = k - 1
    F = np.zeros((k, n), dtype=np.int64)
    for i in range(n):
        F[i, i], F[i + 1, i] = 1, -1
    out = []
    for p in ([1, 0] + list(range(2, k)), [(i + 1) % k for i in range(k)]):
        P = np.zeros((k, k), dtype=np.int64)
        P[p, np.arange(k)] = 1
        A = np.cumsum(P @ F, axis=0)[:n]  # coordinates of P f_j in the basis f
        assert np.array_equal(F @ A, P @ F)
        out.append(A)
    return out


def hom_generators(k: int) -> list[np.ndarray]:
    return [np.kron(A, np.round(np.linalg.inv(A).T).astype(np.int64)) for A in std_basis_generators(k)]


def perm_hom_generators(n: int) -> list[np.ndarray]:
    out = []
    for p in ([1, 0] + list(range(2, n)), [(i + 1) % n for i in range(n)]):
        P = np.zeros((n, n), dtype=np.int64)
        P[p, np.arange(n)] = 1
        out.append(np.kron(P, P))
    return out


def timed(f):
    t = time.perf_counter()
    r = f()
    return r, time.perf_counter() - t


def compare(label: str, gens: list[np.ndarray]) -> float:
    D = gens[0].shape[0]
    E, ours = timed(lambda: fixed_point_subspace(gens))
    C = sympy.Matrix(np.vstack([M - np.eye(D, dtype=np.int64) for M in gens]).tolist())
    ns, base = timed(C.nullspace)
    assert len(ns) == E.dim
    print(f"{label:34s} D = {D:4d}  dim {E.dim:3d}  route {E.method:6s}  symfix {ours:8.4f} s  "
          f"sympy Matrix.nullspace {base:8.4f} s  ratio {base / ours:6.1f}x")
    return base / ours


def main(k_large: int = 32, k_compare: int = 21) -> None:
    gens = hom_generators(k_large)
    E, t = timed(lambda: fixed_point_subspace(gens))
    ok = E.verify(gens)
    print(f"general rational action: D = {gens[0].shape[0]}, dim E^G = {E.dim}, route {E.method}, "
          f"{t:.3f} s (target < 2 s), verified exactly: {ok}")
    compare("rational, non-monomial (exact)", hom_generators(k_compare))
    compare("permutation-type (orbit)", perm_hom_generators(k_compare - 1))
    if t >= 2 or not ok:
        sys.exit(1)


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
