"""Groups as their generators.

Finite groups are permutation groups (``sympy.combinatorics``) with a known spec string; a
finite *matrix* group is closed under multiplication once (with a size cap) and carried as its
left-regular permutation action, so that every finite group shares one machinery: elements are
``sympy`` ``Permutation`` objects. Compact Lie groups carry exact Lie-algebra generators (integer
skew matrices), discrete generators for their other components, and Haar sampling.

Composition convention: ``G.compose(a, b)`` is ``a ∘ b`` (apply ``b`` first); every
representation satisfies ``ρ(a ∘ b) = ρ(a) ρ(b)``.

Equality is structural: two groups are equal when built by the same constructor call.
"""

from __future__ import annotations

import math
from functools import cached_property
from typing import Any, Callable, Sequence

import numpy as np
from sympy.combinatorics import Permutation, PermutationGroup
from sympy.polys.matrices import DomainMatrix

from .._errors import GroupError, InputError
from .._validate import count
from ._exact import SignedPerm, as_operator, op_to_domain, to_domain_matrix

__all__ = [
    "Group",
    "FiniteGroup",
    "LieGroup",
    "ProductGroup",
    "cyclic",
    "dihedral",
    "symmetric",
    "alternating",
    "direct_product",
    "from_generators",
    "so2",
    "so3",
    "orthogonal",
    "special_orthogonal",
    "DEFAULT_CLOSURE_CAP",
]

DEFAULT_CLOSURE_CAP = 20_000
_ENUMERATION_CAP = 200_000


class Group:
    """Common interface: ``order`` (None when infinite), ``generators``, ``sample(rng)``;
    ``compact`` is False only for the non-compact Lie groups (no Haar probability)."""

    spec: str
    order: int | None
    compact = True

    def __repr__(self) -> str:
        return self.spec

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.spec == other.spec  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.spec))

    @property
    def is_finite(self) -> bool:
        return self.order is not None

    def sample(self, rng: np.random.Generator) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError


class FiniteGroup(Group):
    """A finite group given by permutation generators on ``degree`` points.

    Use the constructors (:func:`cyclic`, :func:`from_generators`, ...) rather than this class.

    Examples
    --------
    >>> G = dihedral(4)
    >>> G.order, len(G.generators), len(G.elements())
    (8, 2, 8)
    >>> g = G.sample(np.random.default_rng(0))
    >>> G.compose(g, G.inverse(g)) == G.identity
    True
    """

    def __init__(
        self,
        spec: str,
        perms: Sequence[Sequence[int]],
        degree: int,
        *,
        order: int | Callable[[], int] | None = None,
        matrices: tuple[DomainMatrix, ...] | None = None,
        matrix_generators: tuple[DomainMatrix, ...] | None = None,
        factors: tuple["FiniteGroup", ...] = (),
    ) -> None:
        self.spec = spec
        self.degree = int(degree)
        self.generators: tuple[Permutation, ...] = tuple(Permutation(list(p), size=degree) for p in perms)
        self._order = order
        self.matrices = matrices  # element matrices of a matrix group, indexed by regular point
        self.matrix_generators = matrix_generators
        self.factors = factors

    @cached_property
    def perm_group(self) -> PermutationGroup:
        gens = list(self.generators) or [Permutation(list(range(self.degree)))]
        return PermutationGroup(gens)

    @property
    def order(self) -> int:  # type: ignore[override]
        if self._order is None:
            self._order = int(self.perm_group.order())
        elif callable(self._order):  # a formula worth computing only when asked (n! for n = 10^6 takes seconds)
            self._order = int(self._order())
        return self._order

    @property
    def identity(self) -> Permutation:
        return Permutation(list(range(self.degree)))

    def compose(self, a: Permutation, b: Permutation) -> Permutation:
        """``a ∘ b``: apply ``b`` first, then ``a``."""
        return b * a  # sympy multiplies left to right

    def inverse(self, a: Permutation) -> Permutation:
        return ~a

    def contains(self, g: Permutation) -> bool:
        if not isinstance(g, Permutation) or g.size != self.degree:
            return False
        if self._order == math.factorial(self.degree):  # the full symmetric group on its points
            return True
        return bool(self.perm_group.contains(g))

    @cached_property
    def _bfs(self) -> tuple[list[Permutation], dict[Permutation, int], list[tuple[int, int]]]:
        """Elements in breadth-first order; element k = generator[gk] ∘ element[parent_k]."""
        if self.order > _ENUMERATION_CAP:
            raise GroupError(
                f"{self.spec} has {self.order} elements, more than {_ENUMERATION_CAP} can be enumerated; "
                "use sample(rng) or generator-based methods"
            )
        e = self.identity
        elems, index, parent = [e], {e: 0}, [(-1, -1)]
        k = 0
        while k < len(elems):
            x = elems[k]
            for gi, h in enumerate(self.generators):
                y = self.compose(h, x)
                if y not in index:
                    index[y] = len(elems)
                    elems.append(y)
                    parent.append((k, gi))
            k += 1
        return elems, index, parent

    def elements(self) -> list[Permutation]:
        """All elements, identity first, in breadth-first order over the generators."""
        return list(self._bfs[0])

    def index(self, g: Permutation) -> int:
        """Position of ``g`` in :meth:`elements`."""
        try:
            return self._bfs[1][g]
        except KeyError:
            raise InputError(f"{g} is not an element of {self.spec}") from None

    def word(self, g: Permutation) -> list[int]:
        """Generator indices ``[i1, ..., ik]`` with ``g = h_i1 ∘ ... ∘ h_ik``.

        A negative entry ``~i`` (that is ``-i - 1``) stands for the inverse of generator ``i``.
        """
        if self.order <= _ENUMERATION_CAP:
            elems, index, parent = self._bfs
            k = index.get(g)
            if k is None:
                raise InputError(f"{g} is not an element of {self.spec}")
            out: list[int] = []
            while k != 0:
                k, gi = parent[k]
                out.append(gi)
            return out
        if not self.contains(g):
            raise InputError(f"{g} is not an element of {self.spec}")
        lookup = {h: i for i, h in enumerate(self.generators)}
        lookup.update({~h: ~i for i, h in enumerate(self.generators) if ~h not in lookup})
        prod = self.perm_group.generator_product(g, original=True)
        # sympy: g = prod[-1] * ... * prod[0] (left to right) = prod[0] ∘ ... ∘ prod[-1]
        return [lookup[h] for h in prod]

    def word_element(self, word: Sequence[int]) -> Permutation:
        """The element ``h_i1 ∘ ... ∘ h_ik`` of a word (negative entries are inverses)."""
        g = self.identity
        for i in word:
            g = self.compose(g, self.generators[i] if i >= 0 else ~self.generators[~i])
        return g

    def sample(self, rng: np.random.Generator) -> Permutation:
        """A Haar-uniform (uniform) random element, drawn with ``rng``.

        Uses the Schreier-Sims transversals: a uniform pick from each basic transversal.
        """
        if not isinstance(rng, np.random.Generator):
            raise InputError("sample needs a numpy Generator, e.g. np.random.default_rng(0)")
        if self.order == math.factorial(self.degree):  # full symmetric group: a uniform shuffle (same path
            # whether or not .order was read before: same seed, same draws)
            return Permutation(rng.permutation(self.degree).tolist())
        g = self.identity
        for tr in self._transversals:
            u = tr[int(rng.integers(len(tr)))]
            g = u * g  # sympy product; uniform over the group whatever the order of factors
        return g

    @cached_property
    def _transversals(self) -> list[list[Permutation]]:
        return [list(t.values()) for t in self.perm_group.basic_transversals]

    def orbits(self) -> list[list[int]]:
        """Orbits of the group on its points, each sorted, in order of their smallest point.

        >>> from_generators([[1, 0, 2, 3], [0, 1, 3, 2]]).orbits()
        [[0, 1], [2, 3]]
        """
        return sorted(sorted(o) for o in self.perm_group.orbits())

    def natural_perm(self, g: Permutation) -> SignedPerm:
        return SignedPerm.from_perm(g.array_form)


class LieGroup(Group):
    """A compact matrix Lie group in its defining representation on R^n.

    ``lie_generators`` are exact integer skew matrices spanning the Lie algebra; ``generators``
    are exact matrices reaching the other connected components (empty when connected).

    Examples
    --------
    >>> G = so3()
    >>> R = G.sample(np.random.default_rng(1))
    >>> bool(np.allclose(R @ R.T, np.eye(3))), round(float(np.linalg.det(R)), 12)
    (True, 1.0)
    """

    order = None

    def __init__(self, spec: str, n: int, *, connected: bool) -> None:
        self.spec = spec
        self.n = n
        self.connected = connected
        lie = []
        for i in range(n):
            for j in range(i + 1, n):
                a = [[0] * n for _ in range(n)]
                a[j][i], a[i][j] = 1, -1
                lie.append(a)
        self.lie_generators: tuple[DomainMatrix, ...] = tuple(to_domain_matrix(a) for a in lie)
        if connected:
            self.generators: tuple[Any, ...] = ()
        else:
            r = [[1 if i == j else 0 for j in range(n)] for i in range(n)]
            r[0][0] = -1
            self.generators = (to_domain_matrix(r),)

    @property
    def identity(self) -> np.ndarray:
        return np.eye(self.n)

    def compose(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a @ b

    def inverse(self, a: np.ndarray) -> np.ndarray:
        return a.T

    def elements(self) -> list:
        raise GroupError(f"{self.spec} is infinite; it has no element list. Use sample(rng) for test elements")

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        """A Haar-distributed element (QR of a Gaussian matrix with the sign fix)."""
        if not isinstance(rng, np.random.Generator):
            raise InputError("sample needs a numpy Generator, e.g. np.random.default_rng(0)")
        if self.n == 1:
            return np.array([[1.0 if self.connected or rng.random() < 0.5 else -1.0]])
        q, r = np.linalg.qr(rng.standard_normal((self.n, self.n)))
        q = q * np.sign(np.diag(r))
        if self.connected and np.linalg.det(q) < 0:
            q[:, 0] = -q[:, 0]
        return q

    def quadrature(self, k: int, rng: np.random.Generator | None = None) -> list[np.ndarray]:
        """k elements whose uniform average stands in for the Haar integral.

        SO(2) and O(2): k equally spaced rotations (with their reflections for O(2), 2k in
        all), exact for trigonometric polynomials of degree < k. Other groups: k Haar samples
        from ``rng`` (default seed 0), a Monte-Carlo rule.

        >>> Rs = so2().quadrature(4)
        >>> bool(np.allclose(sum(Rs), 0))
        True
        """
        if not isinstance(k, int) or k < 1:
            raise InputError(f"a quadrature needs k >= 1 elements, got {k!r}")
        if self.n == 2:
            t = 2 * np.pi * np.arange(k) / k
            rots = [np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]) for a in t]
            if self.connected:
                return rots
            f = np.diag([-1.0, 1.0])
            return rots + [r @ f for r in rots]
        gen = rng if rng is not None else np.random.default_rng(0)
        return [self.sample(gen) for _ in range(k)]

    def contains(self, g: Any) -> bool:
        g = np.asarray(g, dtype=np.float64)
        ok = g.shape == (self.n, self.n) and np.allclose(g @ g.T, np.eye(self.n), atol=1e-9)
        return bool(ok and (not self.connected or np.linalg.det(g) > 0))

    def decompose(self, g: np.ndarray) -> tuple[tuple[int, ...], np.ndarray]:
        """Write ``g = c exp(Σ t_i A_i)`` with ``c`` a product of the discrete generators; return
        (indices of those generators, in order, t): () or (0,) (the reflection) here."""
        from scipy.linalg import logm

        g = np.asarray(g, dtype=np.float64)
        if not self.contains(g):
            raise InputError(f"element is not in {self.spec}: expected an orthogonal {self.n}x{self.n} matrix")
        word: tuple[int, ...] = ()
        if not self.connected and np.linalg.det(g) < 0:
            word = (0,)
            d = np.eye(self.n)
            d[0, 0] = -1
            g = d @ g  # d is its own inverse
        x = np.real(logm(g))
        x = 0.5 * (x - x.T)
        t = [x[j, i] for i in range(self.n) for j in range(i + 1, self.n)]
        return word, np.array(t)


# ------------------------------------------------------------------------------------------
# catalogue


MAX_DEGREE = 10**6  # permutation groups: generators are lists of n images
MAX_LIE_DIM = 32  # orthogonal(n): the so(n) generators are built exactly, O(n^4) work


def _check_n(n: Any, name: str, minimum: int = 1, maximum: int = MAX_DEGREE) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < minimum:
        raise InputError(f"{name}(n) needs an integer n >= {minimum}, got {n!r}")
    if n > maximum:
        raise InputError(f"{name}(n) is built for n <= {maximum}, got {n}; symfix forms its generators explicitly")
    return int(n)


def cyclic(n: int) -> FiniteGroup:
    """The cyclic group C_n rotating n points.

    >>> cyclic(5).order
    5
    """
    n = _check_n(n, "cyclic")
    return FiniteGroup(f"cyclic({n})", [[(i + 1) % n for i in range(n)]], n, order=n)


def dihedral(n: int) -> FiniteGroup:
    """The dihedral group D_n of order 2n, acting on the n vertices of a polygon (n >= 3).

    >>> dihedral(6).order
    12
    """
    n = _check_n(n, "dihedral", 3)
    rot = [(i + 1) % n for i in range(n)]
    ref = [(-i) % n for i in range(n)]
    return FiniteGroup(f"dihedral({n})", [rot, ref], n, order=2 * n)


def symmetric(n: int) -> FiniteGroup:
    """The symmetric group S_n permuting n points, generated by (0 1) and the n-cycle.

    >>> symmetric(4).order
    24
    """
    n = _check_n(n, "symmetric")
    if n == 1:
        return FiniteGroup("symmetric(1)", [[0]], 1, order=1)
    swap = list(range(n))
    swap[0], swap[1] = 1, 0
    cyc = [(i + 1) % n for i in range(n)]
    gens = [swap] if n == 2 else [swap, cyc]
    return FiniteGroup(f"symmetric({n})", gens, n, order=lambda: math.factorial(n))


def alternating(n: int) -> FiniteGroup:
    """The alternating group A_n (even permutations of n points), generated by 3-cycles.

    >>> alternating(4).order
    12
    """
    n = _check_n(n, "alternating")
    if n < 3:
        gens = [list(range(n))]
    else:  # the 3-cycle (0 1 2) and an (n-1)- or n-cycle of even sign generate A_n
        c3 = [1, 2, 0] + list(range(3, n))
        cyc = list(range(1, n)) + [0] if n % 2 else [0] + list(range(2, n)) + [1]
        gens = [c3, cyc]
    return FiniteGroup(f"alternating({n})", gens, n, order=lambda: max(1, math.factorial(n) // 2))


def direct_product(G: Group, H: Group) -> Group:
    """G × H; generators of G, then of H. Two finite groups give a finite group acting on the
    disjoint union of their points; with a compact Lie factor the result is a
    :class:`ProductGroup` (elements are pairs). Representations of a factor become
    representations of the product with ``reps.factor(P, k, rep)``.

    >>> direct_product(cyclic(2), cyclic(3)).order
    6
    >>> P = direct_product(so3(), symmetric(4))
    >>> P.order is None, len(P.lie_generators), len(P.generators)
    (True, 3, 2)
    """
    for F in (G, H):
        if not isinstance(F, (FiniteGroup, LieGroup)) or not F.compact:
            raise InputError(f"direct_product takes finite groups and compact Lie groups from the catalogue, got {F!r}")
    if isinstance(G, LieGroup) or isinstance(H, LieGroup):
        return ProductGroup(G, H)
    n, m = G.degree, H.degree
    gens = [list(g.array_form) + list(range(n, n + m)) for g in G.generators]
    gens += [list(range(n)) + [n + i for i in h.array_form] for h in H.generators]
    return FiniteGroup(f"direct_product({G.spec}, {H.spec})", gens, n + m, order=G.order * H.order, factors=(G, H))


class ProductGroup(Group):
    """G × H with a compact Lie factor: elements are pairs (g, h), composed factor by factor.

    ``generators`` and ``lie_generators`` are the factors' own, tagged with the factor they
    come from: pairs (k, element) and (k, A). Use :func:`direct_product` to build one.
    """

    order = None

    def __init__(self, G: Group, H: Group) -> None:
        self.factors = (G, H)
        self.spec = f"direct_product({G.spec}, {H.spec})"
        self.generators = tuple((k, g) for k, F in enumerate(self.factors) for g in F.generators)
        self.lie_generators = tuple((k, a) for k, F in enumerate(self.factors) for a in getattr(F, "lie_generators", ()))

    @property
    def identity(self) -> tuple:
        return tuple(F.identity for F in self.factors)

    def compose(self, a: tuple, b: tuple) -> tuple:
        return tuple(F.compose(x, y) for F, x, y in zip(self.factors, a, b))

    def inverse(self, a: tuple) -> tuple:
        return tuple(F.inverse(x) for F, x in zip(self.factors, a))

    def sample(self, rng: np.random.Generator) -> tuple:
        return tuple(F.sample(rng) for F in self.factors)

    def elements(self) -> list:
        raise GroupError(f"{self.spec} is infinite; it has no element list. Use sample(rng) for test elements")


def from_generators(gens: Sequence[Any], *, cap: int = DEFAULT_CLOSURE_CAP) -> FiniteGroup:
    """A finite group from permutations (lists of images) or exact invertible matrices.

    Matrix generators are closed under multiplication exactly; a group with more than ``cap``
    elements raises :class:`GroupError` (raise ``cap`` or check the generators have finite order).

    Examples
    --------
    >>> from_generators([[1, 2, 0]]).order
    3
    >>> G = from_generators([[[0, -1], [1, 0]]])   # rotation by 90 degrees
    >>> G.order
    4
    """
    if isinstance(gens, (str, bytes)) or not isinstance(gens, (list, tuple)) or not gens:
        raise InputError("from_generators needs a non-empty list of permutations or square matrices")
    ops = [as_operator(g, f"generator {k}") for k, g in enumerate(gens)]
    if any(isinstance(o, np.ndarray) for o in ops):
        raise InputError("from_generators needs exact matrices (ints, Fractions, strings); float arrays cannot be closed exactly")
    dims = {o.dim if isinstance(o, SignedPerm) else o.shape[0] for o in ops}
    if len(dims) != 1:
        raise InputError(f"generators have different sizes {sorted(dims)}; all must be n x n (or permutations of n points)")
    is_perm_input = all(_is_perm_like(g) for g in gens)
    if is_perm_input:
        perms = [o.perm.tolist() for o in ops]  # type: ignore[union-attr]
        return FiniteGroup(f"from_generators({perms!r})", perms, len(perms[0]))
    mats = [op_to_domain(o).convert_to(op_to_domain(o).domain) for o in ops]
    for k, m in enumerate(mats):
        det = m.det()
        if det == 0:
            raise GroupError(f"generator {k} is singular, so it generates no finite group; give invertible matrices")
        if m.domain.is_QQ or m.domain.is_ZZ:
            if abs(det) != 1:  # g^k = I forces det(g)^k = 1, so a rational det is ±1
                raise GroupError(f"generator {k} has determinant {det}, not ±1, so it has infinite order and "
                                 "generates no finite group; give matrices of finite order (e.g. orthogonal ones)")
        reason = _infinite_order(m)
        if reason:
            raise GroupError(f"generator {k} has infinite order ({reason}), so it generates no finite group; give "
                             "matrices of finite order (e.g. orthogonal ones)")
    cap = count(cap, "cap", maximum=10**7, why="closure keeps every element as an exact matrix")
    elems, perms = _close(mats, cap)
    spec = f"from_generators({_matrices_repr(mats)!s})" if cap == DEFAULT_CLOSURE_CAP else f"from_generators({_matrices_repr(mats)!s}, cap={cap})"
    return FiniteGroup(spec, perms, len(elems), order=len(elems), matrices=tuple(elems), matrix_generators=tuple(mats))


def _infinite_order(m: DomainMatrix) -> str:
    """A reason why the matrix has infinite order, found at once, or ''. An element of finite
    order is diagonalisable with eigenvalues on the unit circle, so its powers stay bounded:
    an eigenvalue off the circle, or powers g^(2^j) whose norm keeps growing (a Jordan block,
    e.g. [[1, 1], [0, 1]]), prove infinite order. Bounded powers prove nothing (the exact
    closure decides)."""
    try:
        a = np.array(m.to_Matrix().evalf(30).tolist(), dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        return ""
    if not np.isfinite(a).all():
        return ""
    lam = np.abs(np.linalg.eigvals(a)).max(initial=0.0)
    if lam > 1 + 1e-6:
        return f"an eigenvalue of modulus {lam:.4g} > 1"
    norms, p = [], a.copy()
    for _ in range(24):  # g^(2^j), j = 1..24: a Jordan block grows like 2^j, a finite-order g stays bounded
        p = p @ p
        nrm = np.abs(p).max()
        if not np.isfinite(nrm):
            return "its powers overflow"
        norms.append(nrm)
    if norms[-1] > 1e3 * max(1.0, max(norms[:10])) and norms[-1] > 16 * max(norms[:19]):
        return f"the entries of g^(2^j) grow without bound: {norms[9]:.3g} at j = 10, {norms[-1]:.3g} at j = 24"
    return ""


def _is_perm_like(g: Any) -> bool:
    return isinstance(g, Permutation) or (
        isinstance(g, (list, tuple, np.ndarray)) and np.asarray(g, dtype=object).ndim == 1
    )


def _key(m: DomainMatrix) -> tuple:
    return tuple(m.to_list_flat())


def _close(gens: list[DomainMatrix], cap: int) -> tuple[list[DomainMatrix], list[list[int]]]:
    dom = gens[0].domain
    for g in gens[1:]:
        dom = dom.unify(g.domain)
    gens = [g.convert_to(dom) for g in gens]
    n = gens[0].shape[0]
    e = DomainMatrix.eye(n, dom)
    elems, index = [e], {_key(e): 0}
    k = 0
    while k < len(elems):
        for h in gens:
            y = h * elems[k]
            key = _key(y)
            if key not in index:
                if len(elems) >= cap:
                    raise GroupError(
                        f"the matrix generators do not close within {cap} elements: the group is infinite or larger "
                        "than the cap; check each generator has finite order, or pass a larger cap= (in a spec file: "
                        "cap = N under [group])"
                    )
                index[key] = len(elems)
                elems.append(y)
        k += 1
    perms = [[index[_key(h * x)] for x in elems] for h in gens]
    return elems, perms


def _matrices_repr(mats: Sequence[DomainMatrix]) -> str:
    def ent(x: Any) -> str:
        s = str(x)
        return s if s.lstrip("-").isdigit() else repr(s)

    out = []
    for m in mats:
        rows = m.to_Matrix().tolist()
        out.append("[" + ", ".join("[" + ", ".join(ent(x) for x in r) + "]" for r in rows) + "]")
    return "[" + ", ".join(out) + "]"


def so2() -> LieGroup:
    """SO(2), rotations of the plane.

    >>> so2().order is None
    True
    """
    return LieGroup("so2()", 2, connected=True)


def so3() -> LieGroup:
    """SO(3), rotations of space, with Lie-algebra generators L_x, L_y, L_z."""
    return LieGroup("so3()", 3, connected=True)


def special_orthogonal(n: int) -> LieGroup:
    """SO(n), rotations of R^n (connected), with the so(n) generators; ``so2()`` and ``so3()``
    are the same groups for n = 2, 3 under their own names.

    >>> G = special_orthogonal(4)
    >>> len(G.lie_generators), G.connected
    (6, True)
    """
    n = _check_n(n, "special_orthogonal", minimum=2, maximum=MAX_LIE_DIM)
    return LieGroup(f"special_orthogonal({n})", n, connected=True)


def orthogonal(n: int) -> LieGroup:
    """O(n): so(n) generators plus the reflection diag(-1, 1, ..., 1)."""
    n = _check_n(n, "orthogonal", maximum=MAX_LIE_DIM)
    return LieGroup(f"orthogonal({n})", n, connected=False)

