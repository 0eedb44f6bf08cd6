"""Exact route on general rational actions, and the comparison with sympy's Matrix.nullspace.

Four kinds of action, each given to ``fixed_point_subspace`` as explicit sympy matrices:

* sparse rational: Hom(V, V) of the standard representation V of S_k written in the integer
  basis e_i - e_{i+1} (not monomial, so the orbit route does not apply), D = (k-1)^2;
* dense rational, reflected frame: the permutation action of S_n on R^n (x) R^n written in the
  frame T = H_u H_v, a product of two Householder reflections H_u = I - 2 u u^T / u^T u with
  random integer u, v (entries -3..3): every generator T P T^-1 is dense (96% non-zeros) with
  small denominators, D = n^2 -- the typical dense rational input;
* dense rational, stress: the same action in a random LU frame T = L U (unit-lower L, upper U
  with diagonal 1 or 2, entries -1..1), whose inverse makes entries of ~740 bits at D = 961
  (about 85 MB of integer data per generator): a stress test of big-integer throughput;
* permutation-type: the same action in the standard basis (route ``orbit``).

The baselines, timed in the same run, are sympy's ``Matrix.nullspace`` on the same stacked
constraints (M_h - I), handed to it as one sympy Matrix (its construction is not timed), and
python-flint's own ``fmpz_mat.nullspace`` on the same constraints cleared of denominators (the
strongest exact baseline; symfix's verification and invertibility checks are not in it).

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


def _conjugated(n: int, T, Ti) -> list[sympy.Matrix]:
    import flint

    D = n * n
    out = []
    for P in perm_hom_generators(n):
        C = T * flint.fmpq_mat(flint.fmpz_mat(P.tolist())) * Ti
        out.append(sympy.Matrix(D, D, [sympy.Rational(int(x.p), int(x.q)) for x in C.entries()]))
    return out


def dense_rational_generators(n: int, seed: int = 0) -> list[sympy.Matrix]:
    """Stress case: the action in a random LU frame (entries of hundreds of bits)."""
    import flint

    rng = np.random.default_rng(seed)
    D = n * n
    L = np.tril(rng.integers(-1, 2, (D, D)), -1) + np.eye(D, dtype=np.int64)
    U = np.triu(rng.integers(-1, 2, (D, D)), 1) + np.diag(rng.integers(1, 3, D))
    T = flint.fmpq_mat(flint.fmpz_mat(L.tolist()) * flint.fmpz_mat(U.tolist()))
    return _conjugated(n, T, T.inv())


def reflected_generators(n: int, seed: int = 0) -> list[sympy.Matrix]:
    """Typical dense case: the action in the frame of two Householder reflections."""
    import flint

    rng = np.random.default_rng(seed)
    D = n * n
    one = flint.fmpq_mat(flint.fmpz_mat(D, D, [int(i == j) for i in range(D) for j in range(D)]))

    def householder(u: np.ndarray):
        col = flint.fmpz_mat(D, 1, [int(x) for x in u])
        return one - flint.fmpq_mat(col * col.transpose()) * flint.fmpq(2, int((col.transpose() * col)[0, 0]))

    T = householder(rng.integers(-3, 4, D)) * householder(rng.integers(-3, 4, D))
    return _conjugated(n, T, T.inv())


def timed(f):
    t = time.perf_counter()
    r = f()
    return r, time.perf_counter() - t


def flint_nullspace(C: sympy.Matrix) -> tuple:
    """python-flint's own exact null space of the stacked constraints (the strongest baseline):
    the rational matrix is built (not timed), then cleared of denominators and solved over Z."""
    import flint

    Q = flint.fmpq_mat(C.rows, C.cols, [flint.fmpq(int(x.p), int(x.q)) for x in C])

    def solve() -> int:
        Z, _ = Q.numer_denom()
        _, nullity = Z.nullspace()
        return int(nullity)

    return timed(solve)


def compare(label: str, gens: list) -> float:
    D = gens[0].shape[0]
    E, ours = timed(lambda: fixed_point_subspace(gens))
    C = sympy.Matrix.vstack(*[sympy.Matrix(M) - sympy.eye(D) for M in gens])
    ns, base = timed(C.nullspace)
    assert len(ns) == E.dim
    nullity, fl = flint_nullspace(C)
    assert nullity == E.dim
    print(f"{label:36s} D = {D:4d}  dim {E.dim:3d}  route {E.method:6s}  symfix {ours:8.4f} s  "
          f"sympy Matrix.nullspace {base:8.4f} s  ratio {base / ours:6.1f}x  "
          f"python-flint fmpz_mat.nullspace {fl:8.4f} s  ratio {fl / ours:6.2f}x")
    return base / ours


def large(label: str, gens: list, target: float, gate: bool = True) -> bool:
    E, t = timed(lambda: fixed_point_subspace(gens))
    ok = E.verify(gens)
    goal = f"(target < {target:g} s{'' if gate else ', stress case: reported, not gated'})"
    print(f"{label:36s} D = {gens[0].shape[0]:4d}  dim {E.dim:3d}  route {E.method:6s}  symfix {t:8.4f} s "
          f"{goal}, verified exactly: {ok}")
    return ok and t < target


def main(k_large: int = 32, k_compare: int = 21) -> None:
    n_large, n_compare = k_large - 1, k_compare - 1
    ok = large("sparse rational (exact)", hom_generators(k_large), 2.0)
    ok &= large("dense rational, reflected (exact)", reflected_generators(n_large), 2.0)
    large("dense rational, stress (exact)", dense_rational_generators(n_large), 2.0, gate=False)
    ratio = compare("dense rational, reflected (exact)", reflected_generators(n_compare))
    stress = compare("dense rational, stress (exact)", dense_rational_generators(n_compare))
    compare("sparse rational (exact)", hom_generators(k_compare))
    compare("permutation-type (orbit)", perm_hom_generators(n_compare))
    print(f"target: >= 20x on dense rational actions at D ~ 400: reflected {ratio:.0f}x, stress {stress:.0f}x")
    if not ok or min(ratio, stress) < 20:
        sys.exit(1)


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
