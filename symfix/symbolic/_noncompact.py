"""Non-compact matrix Lie groups that preserve a form: the Lorentz groups O(1,n) and their
subgroups, and the real symplectic groups Sp(2n, R).

Each group is {g : gᵀ Q g = Q} (intersected with the component conditions) for an integer form
Q: Q = η = diag(1, -1, ..., -1) for Lorentz, Q = J = [[0, I], [-I, 0]] for Sp(2n). Its Lie algebra
is {X : Xᵀ Q + Q X = 0}, spanned by exact integer generators:

- o(1, n): X_ij = η_jj E_ij − η_ii E_ji (i < j): rotations E_ji − E_ij among the space axes,
  boosts −(E_0j + E_j0) mixing time and space (symmetric, so exp(tX) grows);
- sp(2n): [[A, B], [C, −Aᵀ]] with A = E_ij, and B, C = E_ij + E_ji (i ≤ j).

Invariant theory needs only the Lie algebra and the component generators, so fixed subspaces
are exact through the same routes as for compact groups (the ``lie`` route, which relies on a
finite subgroup of signed permutations of a compact group, is not used). What a non-compact
group lacks is a Haar probability: there is no average over it, so ``quadrature`` refuses, and
``sample`` draws exp of a Gaussian Lie-algebra element times a random component, a test
distribution for equivariance checks, not an invariant one.

>>> from symfix import reps
>>> V = reps.defining(lorentz())
>>> (V * V).fixed_subspace().basis.toarray().ravel().tolist()   # the Minkowski metric η
[1, 0, 0, 0, 0, -1, 0, 0, 0, 0, -1, 0, 0, 0, 0, -1]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._errors import GroupError, InputError
from ._exact import to_domain_matrix
from ._groups import LieGroup, _check_n

__all__ = ["NoncompactLieGroup", "lorentz", "symplectic"]

MAX_N = 16  # generators are built exactly, O(n^4) work


def _diag(values: list[int]) -> list[list[int]]:
    return [[v if i == j else 0 for j in range(len(values))] for i, v in enumerate(values)]


class NoncompactLieGroup(LieGroup):
    """A non-compact matrix Lie group {g : gᵀ Q g = Q, component conditions} on R^n.

    ``form`` is Q (integer), ``lie_generators`` exact integer matrices spanning {X : XᵀQ + QX = 0},
    ``generators`` one exact matrix per extra component (products of them reach every component).
    Build with :func:`lorentz` or :func:`symplectic`.
    """

    compact = False  # no Haar probability: quadrature refuses, the lie route (quarter turns) does not apply

    def __init__(self, spec: str, form: list[list[int]], lie: list[list[list[int]]], components: list[list[list[int]]],
                 *, proper: bool = False, orthochronous: bool = False) -> None:
        self.spec = spec
        self.n = len(form)
        self.connected = not components
        self.form = np.array(form, dtype=np.float64)
        self.proper, self.orthochronous = proper, orthochronous
        self.lie_generators = tuple(to_domain_matrix(a) for a in lie)
        self.generators = tuple(to_domain_matrix(c) for c in components)
        self._lie = [np.array(a, dtype=np.float64) for a in lie]
        self._comp = [np.array(c, dtype=np.float64) for c in components]

    def inverse(self, a: np.ndarray) -> np.ndarray:
        return np.linalg.solve(self.form, a.T @ self.form)

    def quadrature(self, k: int, rng: np.random.Generator | None = None) -> list:
        raise GroupError(f"{self.spec} is not compact: it has no Haar probability, so averaging over it (feature "
                         "averaging, data augmentation, quadrature) is undefined; its fixed subspaces are exact "
                         "(rep.fixed_subspace())")

    def sample(self, rng: np.random.Generator, scale: float = 0.5) -> np.ndarray:
        """exp(Σ t_i A_i) with t_i ~ N(0, scale² / dim) times a uniformly chosen product of the
        component generators. Not invariant (no invariant probability exists): a test
        distribution for equivariance checks."""
        from scipy.linalg import expm

        if not isinstance(rng, np.random.Generator):
            raise InputError("sample needs a numpy Generator, e.g. np.random.default_rng(0)")
        t = rng.normal(0.0, scale / np.sqrt(len(self._lie)), size=len(self._lie))
        g = expm(sum((ti * a for ti, a in zip(t, self._lie)), np.zeros((self.n, self.n))))
        for c in self._comp:
            if rng.random() < 0.5:
                g = c @ g
        return g

    def contains(self, g: Any) -> bool:
        g = np.asarray(g, dtype=np.float64)
        if g.shape != (self.n, self.n) or not np.all(np.isfinite(g)):
            return False
        scale = max(1.0, float(np.abs(g).max()) ** 2)
        if not np.allclose(g.T @ self.form @ g, self.form, atol=1e-9 * scale):
            return False
        if self.proper and np.linalg.det(g) < 0:
            return False
        return not (self.orthochronous and g[0, 0] < 0)

    def decompose(self, g: np.ndarray) -> tuple[tuple[int, ...], np.ndarray]:
        """Write ``g = c exp(Σ t_i A_i)`` with ``c`` a product of component generators; return
        (indices of those generators, in order, t). Raises InputError when the identity
        component's part has no real logarithm (Sp(2n) is not exponential)."""
        from scipy.linalg import logm

        g = np.asarray(g, dtype=np.float64)
        if not self.contains(g):
            raise InputError(f"element is not in {self.spec}")
        word: tuple[int, ...] = ()
        if self._comp:  # Lorentz: components by det and the sign of g00
            want = (np.linalg.det(g) < 0, g[0, 0] < 0)
            for mask in range(1 << len(self._comp)):
                idx = tuple(i for i in range(len(self._comp)) if mask >> i & 1)
                c = np.eye(self.n)
                for i in idx:
                    c = c @ self._comp[i]
                if (np.linalg.det(c) < 0, c[0, 0] < 0) == want:
                    word, g = idx, np.linalg.solve(c, g)
                    break
        x = logm(g)
        if np.abs(np.imag(x)).max() > 1e-9 * max(1.0, np.abs(x).max()):
            raise InputError(f"this element of {self.spec} is not an exponential (no real logarithm); build the "
                             "representation from tensor products of the defining one, whose matrices need no logarithm")
        basis = np.stack([a.ravel() for a in self._lie], axis=1)
        t, *_ = np.linalg.lstsq(basis, np.real(x).ravel(), rcond=None)
        return word, t


def lorentz(n: int = 3, *, proper: bool = False, orthochronous: bool = False) -> NoncompactLieGroup:
    """O(1, n), the Lorentz group of R^{1+n} with η = diag(1, -1, ..., -1) (time first); with
    ``proper`` SO(1, n) (det 1), with ``orthochronous`` O⁺(1, n) (g00 > 0), with both the
    connected SO⁺(1, n). Components: parity P = diag(1, -1, 1, ...) and time reversal
    T = diag(-1, 1, ...) for O(1, n); PT for SO(1, n); P for O⁺(1, n).

    >>> G = lorentz()
    >>> len(G.lie_generators), len(G.generators), G.compact
    (6, 2, False)
    >>> from symfix import reps
    >>> V = reps.defining(lorentz(proper=True))
    >>> (V * V * V * V).fixed_subspace().dim   # three pairings of η and the Levi-Civita tensor
    4
    """
    n = _check_n(n, "lorentz", minimum=1, maximum=MAX_N - 1)
    if not isinstance(proper, bool) or not isinstance(orthochronous, bool):
        raise InputError("proper and orthochronous are booleans")
    d = n + 1
    eta = [1] + [-1] * n
    lie = []
    for i in range(d):
        for j in range(i + 1, d):
            a = [[0] * d for _ in range(d)]
            a[i][j], a[j][i] = eta[j], -eta[i]
            lie.append(a)
    P, T = _diag([1, -1] + [1] * (n - 1)), _diag([-1] + [1] * n)
    PT = _diag([-1, -1] + [1] * (n - 1))
    comps = {(False, False): [P, T], (True, False): [PT], (False, True): [P], (True, True): []}[(proper, orthochronous)]
    spec = f"lorentz({n}" + (", proper=True" if proper else "") + (", orthochronous=True" if orthochronous else "") + ")"
    return NoncompactLieGroup(spec, _diag(eta), lie, comps, proper=proper, orthochronous=orthochronous)


def symplectic(n: int) -> NoncompactLieGroup:
    """Sp(2n, R) on R^{2n}: {g : gᵀ J g = J}, J = [[0, I_n], [-I_n, 0]]; connected, dimension
    n(2n + 1).

    >>> G = symplectic(1)   # Sp(2, R) = SL(2, R)
    >>> len(G.lie_generators)
    3
    >>> from symfix import reps
    >>> V = reps.defining(G)
    >>> (V * V).fixed_subspace().basis.toarray().ravel().tolist()   # the form J
    [0, 1, -1, 0]
    """
    n = _check_n(n, "symplectic", minimum=1, maximum=MAX_N // 2)
    d = 2 * n

    def unit(*entries: tuple[int, int, int]) -> list[list[int]]:
        a = [[0] * d for _ in range(d)]
        for i, j, v in entries:
            a[i][j] += v
        return a

    lie = [unit((i, j, 1), (n + j, n + i, -1)) for i in range(n) for j in range(n)]  # [[E_ij, 0], [0, -E_ji]]
    for i in range(n):
        for j in range(i, n):
            lie.append(unit((i, n + j, 1), (j, n + i, 1)) if i != j else unit((i, n + i, 1)))  # B symmetric
            lie.append(unit((n + i, j, 1), (n + j, i, 1)) if i != j else unit((n + i, i, 1)))  # C symmetric
    J = unit(*[(i, n + i, 1) for i in range(n)], *[(n + i, i, -1) for i in range(n)])
    return NoncompactLieGroup(f"symplectic({n})", J, lie, [])
