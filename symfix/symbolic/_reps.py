"""Representations: immutable values given by the images of a group's generators.

A representation is a frozen dataclass. Equality is *structural* (same constructors, same
arguments), not up to isomorphism. ``+`` is the direct sum, ``*`` the tensor product, ``.dual``
the contragredient and ``V >> W`` (or ``hom(V, W)``) is Hom(V, W) = W ⊗ V*. The repr
round-trips: ``eval(repr(r), vars(symfix.reps) | vars(symfix.groups)) == r``.

Examples
--------
>>> from symfix.symbolic import groups, reps
>>> G = groups.symmetric(3)
>>> V = reps.permutation(G)
>>> W = V >> V
>>> W.dim, W.fixed_subspace().dim
(9, 2)
>>> W
(permutation(symmetric(3)) * permutation(symmetric(3)).dual)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, reduce
from typing import Any, Sequence

import numpy as np
import scipy.linalg as sla
from scipy.linalg import expm
from sympy.polys.matrices import DomainMatrix

from .._errors import InputError, RepresentationError
from ._exact import Operator, SignedPerm, as_operator, op_to_domain, op_to_float
from ._fixed import FixedSubspace, exact_subspace, numeric_subspace, orbit_subspace, solve
from ._groups import FiniteGroup, Group, LieGroup
from ._lie import LIE_MIN_DIM, lie_route
from ._rational_form import rational_form_route
from ._weil import weil_route
from ._ops import is_zero_op, lie_kron, op_blockdiag, op_inverse, op_kron, op_neg, op_transpose, op_zero

__all__ = [
    "Rep",
    "factor",
    "trivial",
    "permutation",
    "defining",
    "regular",
    "from_images",
    "hom",
    "direct_sum",
    "tensor",
    "intertwiners",
    "Intertwiners",
]


class Rep:
    """Base class. Subclasses provide generator images; the algebra is shared."""

    group: Group
    dim: int

    # -- images --------------------------------------------------------------------------
    def gen_images(self) -> tuple[Operator, ...]:
        """Images of ``group.generators`` (discrete generators for Lie groups)."""
        raise NotImplementedError

    def lie_images(self) -> tuple[Operator, ...]:
        """Images dρ(A) of ``group.lie_generators`` (empty for finite groups)."""
        return tuple(op_zero(self.dim) for _ in getattr(self.group, "lie_generators", ()))

    @property
    def is_monomial(self) -> bool:
        """True when every generator acts as a signed permutation and the Lie algebra trivially."""
        return all(isinstance(o, SignedPerm) for o in self.gen_images()) and all(is_zero_op(a) for a in self.lie_images())

    # -- algebra -------------------------------------------------------------------------
    def __add__(self, other: "Rep") -> "Rep":
        return direct_sum(self, other)

    def __mul__(self, other: "Rep") -> "Rep":
        return tensor(self, other)

    def __rshift__(self, other: "Rep") -> "Rep":
        return hom(self, other)

    @property
    def dual(self) -> "Rep":
        return Dual(self)

    # -- matrices ------------------------------------------------------------------------
    def matrix(self, g: Any) -> np.ndarray:
        """ρ(g) as a float64 array. ``g`` is an element of ``group`` (see ``group.sample``)."""
        if isinstance(self.group, LieGroup):
            return self._lie_matrix(np.asarray(g, dtype=np.float64))
        return op_to_float(self.exact_matrix(g))

    def exact_matrix(self, g: Any) -> Operator:
        """ρ(g) exactly (SignedPerm or DomainMatrix) for an element of a finite group."""
        G = self._finite()
        return self._word_matrix(G.word(g))

    def _word_matrix(self, word: Sequence[int]) -> Operator:
        imgs = self.gen_images()
        inv: dict[int, Operator] = {}
        out: Operator = SignedPerm.identity(self.dim)
        for i in word:
            if i < 0 and ~i not in inv:
                inv[~i] = op_inverse(imgs[~i])
            out = _op_mul(out, imgs[i] if i >= 0 else inv[~i])
        return out

    def _lie_matrix(self, g: np.ndarray) -> np.ndarray:
        G = self.group
        assert isinstance(G, LieGroup)
        word, t = G.decompose(g)  # g = (product of the generators in word) exp(Σ t_i A_i)
        X = sum((ti * op_to_float(a) for ti, a in zip(t, self.lie_images())), np.zeros((self.dim, self.dim)))
        m = expm(X)
        for i in reversed(word):
            m = op_to_float(self.gen_images()[i]) @ m
        return m

    def character(self, g: Any) -> float:
        """tr ρ(g), computed structurally (no large matrix for sums and tensor products)."""
        return float(np.trace(self.matrix(g)))

    def _finite(self) -> FiniteGroup:
        if not isinstance(self.group, FiniteGroup):
            raise InputError(f"{self.group!r} is not finite; this needs a finite group")
        return self.group

    # -- checks --------------------------------------------------------------------------
    def is_orthogonal(self) -> bool:
        """Exact check: every generator image M has Mᵀ M = I and every Lie image is skew."""
        for o in self.gen_images():
            if isinstance(o, SignedPerm):
                continue
            if isinstance(o, np.ndarray):
                if not np.allclose(o.T @ o, np.eye(self.dim), atol=1e-12):
                    return False
                continue
            m = o.to_field()
            if m.transpose() * m != DomainMatrix.eye(self.dim, m.domain):
                return False
        for a in self.lie_images():
            if isinstance(a, np.ndarray):
                if not np.allclose(a, -a.T, atol=1e-12):
                    return False
                continue
            m = op_to_domain(a)
            if not (m + m.transpose()).to_sparse().is_zero_matrix:
                return False
        return True

    # -- fixed points --------------------------------------------------------------------
    def fixed_subspace(self, method: str = "auto", *, rtol: float = 1e-10) -> FixedSubspace:
        """Fixed-point subspace of this representation by the cheapest exact route.

        ``auto`` uses orbits for monomial actions, solves direct sums block by block, tensor
        products of so2/so3/orthogonal(n)'s defining representation by the ``lie`` route (a
        finite subgroup of signed permutations, then the Lie algebra on its orbit basis: see
        ``symfix/symbolic/_lie.py``), other tensor products by the structured ``tensor`` route,
        and exact elimination otherwise; float images go to ``numeric``. ``method`` may force
        ``orbit``, ``lie``, ``tensor``, ``exact`` or ``numeric``.

        >>> from symfix.symbolic.groups import so3
        >>> V = defining(so3())
        >>> E = (V * V * V * V * V * V * V * V).fixed_subspace()   # D = 6561
        >>> E.dim, E.method
        (91, 'lie')
        """
        return _rep_fixed(self, method, rtol)

    def _repr_latex_(self) -> str:
        return f"$\\rho: {self.group!r} \\to GL({self.dim})$"


def _op_mul(a: Operator, b: Operator) -> Operator:
    if isinstance(a, SignedPerm) and isinstance(b, SignedPerm):
        return a.compose(b)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return op_to_float(a) @ op_to_float(b)
    x, y = op_to_domain(a), op_to_domain(b)
    x, y = x.unify(y)
    return x * y


# ------------------------------------------------------------------------------------------
# leaves


@dataclass(frozen=True)
class Trivial(Rep):
    group: Group
    dim: int = 1

    def __repr__(self) -> str:
        return f"trivial({self.group!r})" if self.dim == 1 else f"trivial({self.group!r}, dim={self.dim})"

    def gen_images(self) -> tuple[Operator, ...]:
        return tuple(SignedPerm.identity(self.dim) for _ in self.group.generators)  # type: ignore[attr-defined]

    def matrix(self, g: Any) -> np.ndarray:
        return np.eye(self.dim)

    def exact_matrix(self, g: Any) -> Operator:
        return SignedPerm.identity(self.dim)


@dataclass(frozen=True)
class Natural(Rep):
    group: FiniteGroup

    @property
    def dim(self) -> int:  # type: ignore[override]
        return self.group.degree

    def __repr__(self) -> str:
        return f"permutation({self.group!r})"

    def gen_images(self) -> tuple[Operator, ...]:
        return tuple(SignedPerm.from_perm(g.array_form) for g in self.group.generators)

    def exact_matrix(self, g: Any) -> Operator:
        if not self.group.contains(g):
            raise InputError(f"{g} is not an element of {self.group!r}")
        return SignedPerm.from_perm(g.array_form)

    def character(self, g: Any) -> float:
        return float(sum(1 for i, j in enumerate(g.array_form) if i == j))


@dataclass(frozen=True)
class Defining(Rep):
    group: Group

    @property
    def dim(self) -> int:  # type: ignore[override]
        G = self.group
        if isinstance(G, LieGroup):
            return G.n
        assert isinstance(G, FiniteGroup)
        return G.matrices[0].shape[0] if G.matrices is not None else G.degree

    def __repr__(self) -> str:
        return f"defining({self.group!r})"

    def gen_images(self) -> tuple[Operator, ...]:
        G = self.group
        if isinstance(G, LieGroup):
            return tuple(as_operator(m) for m in G.generators)
        assert isinstance(G, FiniteGroup)
        if G.matrix_generators is not None:
            return tuple(as_operator(m) for m in G.matrix_generators)
        return tuple(SignedPerm.from_perm(g.array_form) for g in G.generators)

    def lie_images(self) -> tuple[Operator, ...]:
        G = self.group
        return tuple(G.lie_generators) if isinstance(G, LieGroup) else ()

    def exact_matrix(self, g: Any) -> Operator:
        G = self._finite()
        if G.matrices is None:
            return SignedPerm.from_perm(g.array_form)
        if not G.contains(g):
            raise InputError(f"{g} is not an element of {G!r}")
        return as_operator(G.matrices[g.array_form[0]])

    def matrix(self, g: Any) -> np.ndarray:
        if isinstance(self.group, LieGroup):
            g = np.asarray(g, dtype=np.float64)
            if not self.group.contains(g):
                raise InputError(f"element is not in {self.group!r}")
            return g.copy()
        return op_to_float(self.exact_matrix(g))


@dataclass(frozen=True)
class Regular(Rep):
    group: FiniteGroup

    @property
    def dim(self) -> int:  # type: ignore[override]
        return self.group.order

    def __repr__(self) -> str:
        return f"regular({self.group!r})"

    def _perm_of(self, g: Any) -> SignedPerm:
        G = self.group
        if G.matrices is not None:  # already the left-regular action
            return SignedPerm.from_perm(g.array_form)
        elems = G.elements()
        return SignedPerm.from_perm([G.index(G.compose(g, x)) for x in elems])

    def gen_images(self) -> tuple[Operator, ...]:
        return tuple(self._perm_of(g) for g in self.group.generators)

    def exact_matrix(self, g: Any) -> Operator:
        if not self.group.contains(g):
            raise InputError(f"{g} is not an element of {self.group!r}")
        return self._perm_of(g)


@dataclass(frozen=True)
class Explicit(Rep):
    """A representation given by explicit generator images (see :func:`from_images`)."""

    group: Group
    images: tuple
    lie: tuple = ()

    @property
    def dim(self) -> int:  # type: ignore[override]
        first = (self.images or self.lie)[0]
        return len(first)

    def __repr__(self) -> str:
        lie = f", lie_images={_nested(self.lie)}" if self.lie else ""
        return f"from_images({self.group!r}, {_nested(self.images)}{lie})"

    @cached_property
    def _ops(self) -> tuple[tuple[Operator, ...], tuple[Operator, ...]]:
        return tuple(_parse_stored(m) for m in self.images), tuple(_parse_stored(m) for m in self.lie)

    def gen_images(self) -> tuple[Operator, ...]:
        return self._ops[0]

    def lie_images(self) -> tuple[Operator, ...]:
        return self._ops[1]


def _nested(mats: tuple) -> str:
    def ent(x: Any) -> str:
        return repr(x) if isinstance(x, (str, float)) else str(x)

    return "[" + ", ".join("[" + ", ".join("[" + ", ".join(ent(x) for x in r) + "]" for r in m) + "]" for m in mats) + "]"


def _parse_stored(m: tuple) -> Operator:
    if any(isinstance(x, float) for r in m for x in r):
        return np.array(m, dtype=np.float64)
    return as_operator([list(r) for r in m])


def _store(m: Any, where: str) -> tuple:
    """Parse a user matrix and store it hashably (ints and strings exact, floats as floats)."""
    op = as_operator(m, where)
    if isinstance(op, np.ndarray):
        return tuple(tuple(float(x) for x in r) for r in op)
    dm = op_to_domain(op)
    return tuple(tuple(_canon(x) for x in r) for r in dm.to_Matrix().tolist())


def _canon(x: Any) -> Any:
    if x.is_Integer:
        return int(x)
    return str(x)


# ------------------------------------------------------------------------------------------
# composites


@dataclass(frozen=True)
class Sum(Rep):
    parts: tuple[Rep, ...]

    @property
    def group(self) -> Group:  # type: ignore[override]
        return self.parts[0].group

    @property
    def dim(self) -> int:  # type: ignore[override]
        return sum(p.dim for p in self.parts)

    def __repr__(self) -> str:
        return "(" + " + ".join(repr(p) for p in self.parts) + ")"

    def gen_images(self) -> tuple[Operator, ...]:
        per = [p.gen_images() for p in self.parts]
        return tuple(op_blockdiag([imgs[k] for imgs in per]) for k in range(len(per[0])))

    def lie_images(self) -> tuple[Operator, ...]:
        per = [p.lie_images() for p in self.parts]
        return tuple(op_blockdiag([imgs[k] for imgs in per]) for k in range(len(per[0])))

    @property
    def is_monomial(self) -> bool:
        return all(p.is_monomial for p in self.parts)

    def matrix(self, g: Any) -> np.ndarray:
        return sla.block_diag(*[p.matrix(g) for p in self.parts])

    def exact_matrix(self, g: Any) -> Operator:
        return op_blockdiag([p.exact_matrix(g) for p in self.parts])

    def character(self, g: Any) -> float:
        return sum(p.character(g) for p in self.parts)


@dataclass(frozen=True)
class Tensor(Rep):
    parts: tuple[Rep, ...]

    @property
    def group(self) -> Group:  # type: ignore[override]
        return self.parts[0].group

    @property
    def dim(self) -> int:  # type: ignore[override]
        return int(np.prod([p.dim for p in self.parts]))

    def __repr__(self) -> str:
        return "(" + " * ".join(repr(p) for p in self.parts) + ")"

    def gen_images(self) -> tuple[Operator, ...]:
        per = [p.gen_images() for p in self.parts]
        return tuple(reduce(op_kron, [imgs[k] for imgs in per]) for k in range(len(per[0])))

    def lie_images(self) -> tuple[Operator, ...]:
        out = None
        n_acc = 0
        for p in self.parts:
            li = p.lie_images()
            if out is None:
                out, n_acc = li, p.dim
            else:
                out = tuple(lie_kron(a, b, n_acc, p.dim) for a, b in zip(out, li))
                n_acc *= p.dim
        return tuple(out or ())

    @property
    def is_monomial(self) -> bool:
        return all(p.is_monomial for p in self.parts)

    def matrix(self, g: Any) -> np.ndarray:
        return reduce(np.kron, [p.matrix(g) for p in self.parts])

    def exact_matrix(self, g: Any) -> Operator:
        return reduce(op_kron, [p.exact_matrix(g) for p in self.parts])

    def character(self, g: Any) -> float:
        return float(np.prod([p.character(g) for p in self.parts]))


@dataclass(frozen=True)
class Factor(Rep):
    """A representation of a direct product acting through one factor: (g_0, g_1) ↦ ρ(g_k)."""

    group: Group
    index: int
    base: Rep

    @property
    def dim(self) -> int:  # type: ignore[override]
        return self.base.dim

    def __repr__(self) -> str:
        return f"factor({self.group!r}, {self.index}, {self.base!r})"

    def gen_images(self) -> tuple[Operator, ...]:
        imgs, k = self.base.gen_images(), 0
        out: list[Operator] = []
        for j, _ in _tagged(self.group.generators, self.group):  # type: ignore[attr-defined]
            if j == self.index:
                out.append(imgs[k])
                k += 1
            else:
                out.append(SignedPerm.identity(self.dim))
        return tuple(out)

    def lie_images(self) -> tuple[Operator, ...]:
        imgs, k = self.base.lie_images(), 0
        out: list[Operator] = []
        for j, _ in getattr(self.group, "lie_generators", ()):
            if j == self.index:
                out.append(imgs[k])
                k += 1
            else:
                out.append(op_zero(self.dim))
        return tuple(out)

    def matrix(self, g: Any) -> np.ndarray:
        if isinstance(self.group, FiniteGroup):
            return op_to_float(self.exact_matrix(g))
        return self.base.matrix(g[self.index])

    def character(self, g: Any) -> float:
        return float(np.trace(self.matrix(g)))


def _tagged(gens: Sequence[Any], group: Group) -> list[tuple[int, Any]]:
    """The generators of a product as (factor, generator): a ProductGroup stores them so; a
    finite direct product lists its first factor's generators, then the second's."""
    if gens and isinstance(gens[0], tuple) and len(gens[0]) == 2 and isinstance(gens[0][0], int):
        return list(gens)
    G, _ = group.factors  # type: ignore[attr-defined]
    n = len(G.generators)
    return [(0 if i < n else 1, g) for i, g in enumerate(gens)]


def factor(P: Group, k: int, rep: Rep) -> Rep:
    """The representation of the direct product ``P`` that acts through its factor ``k`` by ``rep``.

    >>> from symfix.symbolic.groups import direct_product, so3, symmetric
    >>> P = direct_product(so3(), symmetric(4))
    >>> V, Q = factor(P, 0, defining(so3())), factor(P, 1, permutation(symmetric(4)))
    >>> (V * Q).dim, (V * Q).group == P
    (12, True)
    """
    factors = getattr(P, "factors", ())
    if len(factors) != 2:
        raise InputError(f"factor needs a direct product (groups.direct_product(G, H)), got {P!r}")
    if k not in (0, 1) or isinstance(k, bool):
        raise InputError(f"factor index must be 0 or 1, got {k!r}")
    if not isinstance(rep, Rep) or rep.group != factors[k]:
        raise InputError(f"factor {k} of {P!r} is {factors[k]!r}; give a representation of that group")
    return Factor(P, k, rep)


@dataclass(frozen=True)
class Dual(Rep):
    base: Rep

    @property
    def group(self) -> Group:  # type: ignore[override]
        return self.base.group

    @property
    def dim(self) -> int:  # type: ignore[override]
        return self.base.dim

    def __repr__(self) -> str:
        return f"{self.base!r}.dual"

    @property
    def dual(self) -> Rep:
        return self.base

    def gen_images(self) -> tuple[Operator, ...]:
        return tuple(op_transpose(op_inverse(o)) for o in self.base.gen_images())

    def lie_images(self) -> tuple[Operator, ...]:
        return tuple(op_neg(op_transpose(a)) for a in self.base.lie_images())

    @property
    def is_monomial(self) -> bool:
        return self.base.is_monomial

    def matrix(self, g: Any) -> np.ndarray:
        return np.linalg.inv(self.base.matrix(g)).T

    def exact_matrix(self, g: Any) -> Operator:
        return op_transpose(op_inverse(self.base.exact_matrix(g)))

    def character(self, g: Any) -> float:
        return self.base.character(self.group.inverse(g))  # type: ignore[attr-defined]


# ------------------------------------------------------------------------------------------
# constructors


def _check_group(G: Any) -> Group:
    if not isinstance(G, Group):
        raise InputError(f"expected a symfix group (e.g. groups.cyclic(2)), got {type(G).__name__}")
    return G


def trivial(G: Group, dim: int = 1) -> Rep:
    """The trivial representation on R^dim.

    >>> from symfix.symbolic.groups import cyclic
    >>> trivial(cyclic(3), dim=2).fixed_subspace().dim
    2
    """
    _check_group(G)
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 1:
        raise InputError(f"trivial: dim must be a positive integer, got {dim!r}")
    return Trivial(G, int(dim))


def permutation(G: FiniteGroup) -> Rep:
    """The natural permutation representation of a permutation group.

    >>> from symfix.symbolic.groups import symmetric
    >>> permutation(symmetric(4)).dim
    4
    """
    _check_group(G)
    if not isinstance(G, FiniteGroup) or G.matrices is not None:
        raise InputError(f"permutation() needs a permutation group; {G!r} is a matrix group: use defining(G)")
    return Natural(G)


def defining(G: Group) -> Rep:
    """The defining representation of a matrix group (or Lie group); the natural one for permutation groups."""
    _check_group(G)
    return Defining(G)


def regular(G: FiniteGroup) -> Rep:
    """The regular representation on R^|G|, basis indexed by ``G.elements()``."""
    _check_group(G)
    if not isinstance(G, FiniteGroup):
        raise InputError(f"regular() needs a finite group, {G!r} is infinite")
    return Regular(G)


def from_images(G: Group, images: Sequence[Any], lie_images: Sequence[Any] = (), *, check: bool = True) -> Rep:
    """A representation given by the images of ``G.generators`` (and of ``G.lie_generators``).

    With ``check=True`` (the default) the images are verified to define a homomorphism:
    exactly on all elements for finite groups up to 5000 elements; above, ρ(x)^{ord x} = I for
    the generators and 32 random words (a randomised necessary condition); for Lie groups by
    the Lie bracket relations and, for the discrete generators h, ρ(h)^{ord h} = I and
    ρ(h) dρ(A) ρ(h)^{-1} = dρ(h A h^{-1}).

    >>> from symfix.symbolic.groups import cyclic
    >>> sign = from_images(cyclic(2), [[[-1]]])
    >>> sign.fixed_subspace().dim
    0
    >>> from_images(cyclic(3), [[[-1]]])
    Traceback (most recent call last):
    ...
    symfix._errors.RepresentationError: the images do not define a homomorphism of cyclic(3): generator 0 applied to element 2 breaks ρ(h∘x) = ρ(h)ρ(x); check the images respect the group's relations
    """
    _check_group(G)
    gens = G.generators  # type: ignore[attr-defined]
    lies = getattr(G, "lie_generators", ())
    if not isinstance(images, (list, tuple)) or not isinstance(lie_images, (list, tuple)):
        raise InputError("images must be a list of square matrices, one per group generator")
    if len(images) != len(gens):
        raise InputError(f"{G!r} has {len(gens)} generators but {len(images)} images were given; give one image per generator in G.generators order")
    if len(lie_images) != len(lies):
        raise InputError(f"{G!r} has {len(lies)} Lie-algebra generators but {len(lie_images)} Lie images were given")
    stored = tuple(_store(m, f"image {k}") for k, m in enumerate(images))
    stored_lie = tuple(_store(m, f"Lie image {k}") for k, m in enumerate(lie_images))
    dims = {len(m) for m in stored + stored_lie}
    if len(dims) != 1:
        raise InputError(f"images have different sizes {sorted(dims)}; all must be d x d")
    rep = Explicit(G, stored, stored_lie)
    for k, o in enumerate(rep.gen_images()):
        if not isinstance(o, SignedPerm) and not isinstance(o, np.ndarray) and op_to_domain(o).to_field().det() == 0:
            raise RepresentationError(f"image {k} is singular; a representation maps generators to invertible matrices")
    for k, a in enumerate(rep.lie_images() if G.compact else ()):
        reason = _not_compact(op_to_float(a))
        if reason:
            raise RepresentationError(f"Lie image {k} cannot come from the compact group {G!r}: {reason}; images of a "
                                      "compact group's Lie algebra are skew-symmetric in an invariant inner product "
                                      "(e.g. [[0, -1], [1, 0]])")
    if check:
        _check_homomorphism(rep)
    return rep


def _not_compact(A: np.ndarray) -> str:
    """Why A cannot be dM(X) for a compact group, or '': such an A is diagonalisable over C with
    purely imaginary eigenvalues (exp(tA) stays bounded)."""
    if A.size == 0 or not np.abs(A).max() > 0:
        return ""
    ev = np.linalg.eigvals(A)
    scale = np.abs(A).max()
    if np.abs(ev.real).max() > 1e-8 * scale * A.shape[0]:
        return f"it has an eigenvalue with real part {ev.real[np.argmax(np.abs(ev.real))]:.3g}, so exp(tA) grows"
    from scipy.linalg import expm

    norms = [np.abs(expm(t * A / scale)).max() for t in (10.0, 1e4)]  # bounded for compact, ~t for a Jordan block
    if norms[1] > 100 * max(1.0, norms[0]):
        return "it is not diagonalisable (a nilpotent part makes exp(tA) grow)"
    return ""


def _power_is_identity(op: Operator, k: int) -> bool:
    """ρ^k = I: exact for signed permutations, float64 by repeated squaring otherwise (a value
    that overflows or drifts from I fails)."""
    if isinstance(op, SignedPerm):
        p = SignedPerm.identity(op.dim)
        base, e = op, k
        while e:
            if e & 1:
                p = base.compose(p)
            base, e = base.compose(base), e >> 1
        return p.is_identity()
    m = op_to_float(op)
    out, base, e = np.eye(m.shape[0]), m, k
    with np.errstate(over="ignore", invalid="ignore"):
        while e:
            if e & 1:
                out = base @ out
            base, e = base @ base, e >> 1
    return bool(np.all(np.isfinite(out)) and np.allclose(out, np.eye(m.shape[0]), atol=1e-8))


def _check_large_finite(rep: Rep, G: FiniteGroup, samples: int = 32) -> None:
    """Groups above 5000 elements: ρ(x)^{ord x} = I for every generator and for random words
    (a randomised necessary condition; exact enumeration is used up to 5000 elements)."""
    rng = np.random.default_rng(0)
    imgs = rep.gen_images()
    words = [[i] for i in range(len(G.generators))]
    words += [list(rng.integers(0, len(G.generators), size=int(rng.integers(2, 12)))) for _ in range(samples)]
    for w in words:
        x = G.word_element(w)
        img = reduce(lambda acc, gi: _op_mul(acc, imgs[gi]), w[1:], imgs[w[0]])
        if not _power_is_identity(img, int(x.order())):
            raise RepresentationError(
                f"the images do not define a homomorphism of {G!r}: the word {w} has order {x.order()} in the group "
                "but its image does not; check the images respect the group's relations")


def _check_components(rep: Rep, G: LieGroup) -> None:
    """Discrete generators h of a Lie group: ρ(h)^{ord h} = I and ρ(h) dρ(A) ρ(h)^{-1} = dρ(h A h^{-1})."""
    A = [op_to_float(a) for a in G.lie_generators]
    R = [op_to_float(a) for a in rep.lie_images()]
    basis = np.stack([a.ravel() for a in A], axis=1) if A else np.zeros((G.n * G.n, 0))
    for k, (h, img) in enumerate(zip(G.generators, rep.gen_images())):
        hf = op_to_float(h)
        order = next((j for j in range(1, 13) if np.allclose(np.linalg.matrix_power(hf, j), np.eye(G.n))), None)
        if order is not None and not _power_is_identity(img, order):
            raise RepresentationError(f"image {k} of {G!r}: the generator has order {order} but its image does not")
        rf = op_to_float(img)
        rinv = np.linalg.inv(rf)
        for i, a in enumerate(A):
            coef, *_ = np.linalg.lstsq(basis, (hf @ a @ np.linalg.inv(hf)).ravel(), rcond=None)
            rhs = sum((c * r for c, r in zip(coef, R)), np.zeros_like(R[i]))
            if not np.allclose(rf @ R[i] @ rinv, rhs, atol=1e-9):
                raise RepresentationError(
                    f"the images do not define a homomorphism of {G!r}: image {k} does not conjugate the Lie images "
                    f"as generator {k} conjugates the Lie algebra (A{i}); check ρ(h) dρ(A) ρ(h)^-1 = dρ(h A h^-1)")


def _check_homomorphism(rep: Rep) -> None:
    G = rep.group
    if isinstance(G, FiniteGroup):
        if G.order > 5000:
            _check_large_finite(rep, G)
            return
        elems, index, parent = G._bfs
        mats: list[Operator] = [SignedPerm.identity(rep.dim)]
        imgs = rep.gen_images()
        for k in range(1, len(elems)):
            p, gi = parent[k]
            mats.append(_op_mul(imgs[gi], mats[p]))
        for k, x in enumerate(elems):
            for gi, h in enumerate(G.generators):
                y = index[G.compose(h, x)]
                lhs, rhs = _op_mul(imgs[gi], mats[k]), mats[y]
                if not _op_equal(lhs, rhs):
                    raise RepresentationError(
                        f"the images do not define a homomorphism of {G!r}: generator {gi} applied to element {k} "
                        "breaks ρ(h∘x) = ρ(h)ρ(x); check the images respect the group's relations"
                    )
    elif isinstance(G, LieGroup):
        _check_brackets(rep, G)
        _check_components(rep, G)


def _op_equal(a: Operator, b: Operator) -> bool:
    if isinstance(a, SignedPerm) and isinstance(b, SignedPerm):
        return a == b
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return bool(np.allclose(op_to_float(a), op_to_float(b), atol=1e-9))
    x, y = op_to_domain(a).unify(op_to_domain(b))
    return (x.to_sparse() - y.to_sparse()).is_zero_matrix


def _check_brackets(rep: Rep, G: LieGroup) -> None:
    A = [op_to_float(a) for a in G.lie_generators]
    R = [op_to_float(a) for a in rep.lie_images()]
    basis = np.stack([a.ravel() for a in A], axis=1)
    for i in range(len(A)):
        for j in range(i + 1, len(A)):
            c = A[i] @ A[j] - A[j] @ A[i]
            coef, *_ = np.linalg.lstsq(basis, c.ravel(), rcond=None)
            lhs = R[i] @ R[j] - R[j] @ R[i]
            rhs = sum((ck * r for ck, r in zip(coef, R)), np.zeros_like(lhs))
            if not np.allclose(lhs, rhs, atol=1e-9):
                raise RepresentationError(
                    f"the Lie images do not satisfy the bracket relations of {G!r} ([A{i}, A{j}]); "
                    "give dρ(A) for A in G.lie_generators, in that order"
                )


def _same_group(reps: Sequence[Rep]) -> None:
    for r in reps:
        if not isinstance(r, Rep):
            raise InputError(f"expected representations, got {type(r).__name__}")
    groups = {r.group for r in reps}
    if len(groups) != 1:
        raise InputError(f"representations of different groups {sorted(map(repr, groups))} cannot be combined")


def direct_sum(*reps: Rep) -> Rep:
    """V1 ⊕ V2 ⊕ ... (flattened: ``(a + b) + c == a + (b + c)``)."""
    _same_group(reps)
    parts: list[Rep] = []
    for r in reps:
        parts.extend(r.parts if isinstance(r, Sum) else (r,))
    return Sum(tuple(parts))


def tensor(*reps: Rep) -> Rep:
    """V1 ⊗ V2 ⊗ ... (flattened), with row-major coordinates."""
    _same_group(reps)
    parts: list[Rep] = []
    for r in reps:
        parts.extend(r.parts if isinstance(r, Tensor) else (r,))
    return Tensor(tuple(parts))


def hom(V: Rep, W: Rep) -> Rep:
    """Hom(V, W) = W ⊗ V*: matrices X (W.dim x V.dim) acted on by X ↦ ρ_W(g) X ρ_V(g)^{-1}."""
    _same_group((V, W))
    return tensor(W, V.dual)


# ------------------------------------------------------------------------------------------
# fixed subspaces of representations


def _rep_fixed(rep: Rep, method: str, rtol: float) -> FixedSubspace:
    valid = ("auto", "orbit", "lie", "tensor", "exact", "numeric")
    if method not in valid:
        raise InputError(f"unknown method {method!r}; choose one of {', '.join(valid)}")
    if method == "auto":
        if rep.is_monomial:
            return orbit_subspace(rep.gen_images(), rep.dim)  # type: ignore[arg-type]
        if isinstance(rep, Sum):
            return _blocks([_rep_fixed(p, "auto", rtol) for p in rep.parts], rep.dim)
        floats = _has_float(rep)
        if isinstance(rep, Tensor) and not floats:
            return ((lie_route(rep) if rep.dim > LIE_MIN_DIM else None) or rational_form_route(rep) or weil_route(rep)
                    or _tensor_route(rep))
        method = "numeric" if floats else "exact"
    if method == "lie":
        E = lie_route(rep)
        if E is None:
            raise InputError("method='lie' needs a representation of a compact group (so2(), so3(), orthogonal(n)) "
                             "built from its defining representation (tensor products, duals, sums, trivial); use 'auto'")
        return E
    if method == "tensor":
        if not isinstance(rep, Tensor):
            raise InputError("method='tensor' needs a tensor-product representation (e.g. hom(V, W) or V * W)")
        return _tensor_route(rep)
    if method == "orbit" and not rep.is_monomial:
        raise InputError("method='orbit' needs a signed-permutation action; use 'auto'")
    lies = [a for a in rep.lie_images() if not is_zero_op(a)]
    if method == "numeric":
        return numeric_subspace(rep.gen_images(), lies, rep.dim, rtol=rtol)
    return solve(rep.gen_images(), lies, rep.dim, method=method, rtol=rtol)


def _has_float(rep: Rep) -> bool:
    if isinstance(rep, (Sum, Tensor)):
        return any(_has_float(p) for p in rep.parts)
    if isinstance(rep, Dual):
        return _has_float(rep.base)
    if isinstance(rep, Explicit):
        return any(isinstance(o, np.ndarray) for o in rep.gen_images() + rep.lie_images())
    return False


def _tensor_route(rep: "Tensor") -> FixedSubspace:
    """Solve A_h W = W C_h^{-T} and α W + W γᵀ = 0 with sparse constraints (no Kronecker matrix)."""
    left = rep.parts[0]
    right = rep.parts[1] if len(rep.parts) == 2 else Tensor(rep.parts[1:])
    n1, n2 = left.dim, right.dim
    D = n1 * n2
    cons = []
    for a, c in zip(left.gen_images(), right.gen_images()):
        A = op_to_domain(a).to_sparse()
        Cinv = op_to_domain(op_inverse(c)).to_sparse()
        A, Cinv = A.unify(Cinv)
        cons.append(_sylvester_rows(A.to_dod(), Cinv.to_dod(), n1, n2, sign=-1, dom=A.domain))
    for a, c in zip(left.lie_images(), right.lie_images()):
        if is_zero_op(a) and is_zero_op(c):
            continue
        A = op_to_domain(a).to_sparse()
        Cm = op_to_domain(c).to_sparse()
        A, Cm = A.unify(Cm)
        cons.append(_sylvester_rows(A.to_dod(), Cm.to_dod(), n1, n2, sign=+1, dom=A.domain))
    return exact_subspace(cons, D, method="tensor")


def _sylvester_rows(A: dict, X: dict, n1: int, n2: int, *, sign: int, dom: Any) -> DomainMatrix:
    """Sparse matrix of W ↦ A W + sign · W Xᵀ in row-major coordinates (i*n2 + j)."""
    dod: dict[int, dict[int, Any]] = {}
    for i in range(n1):
        arow = A.get(i, {})
        for j in range(n2):
            row: dict[int, Any] = {}
            for k, v in arow.items():
                row[k * n2 + j] = v
            for l_, v in X.get(j, {}).items():
                key = i * n2 + l_
                val = row.get(key, dom.zero) + (v if sign > 0 else -v)
                if val:
                    row[key] = val
                else:
                    row.pop(key, None)
            if row:
                dod[i * n2 + j] = row
    return DomainMatrix.from_dod(dod, (D := n1 * n2, D), dom)


def _blocks(parts: Sequence[FixedSubspace], D: int) -> FixedSubspace:
    import scipy.sparse as sp
    import sympy

    methods = sorted({p.method for p in parts})
    method = methods[0] if len(methods) == 1 else "blocks(" + ", ".join(methods) + ")"
    k = sum(p.dim for p in parts)
    exact = all(p.exact for p in parts)
    if exact and all(sp.issparse(p.basis) for p in parts):
        basis: Any = sp.csc_array(sp.block_diag([sp.csc_array(p.basis) for p in parts], format="csc"))
        basis = sp.csc_array((basis.data.astype(np.int64), basis.indices, basis.indptr), shape=(D, k))
    else:
        # place each part's basis at its (row, column) offset; parts of dimension 0 take no columns
        basis = sympy.zeros(D, k) if exact else np.zeros((D, k))
        r = c = 0
        for p in parts:
            if p.dim:
                if exact:
                    block = sympy.Matrix(p.basis.toarray()) if sp.issparse(p.basis) else sympy.Matrix(p.basis)
                else:
                    block = p.dense_basis()
                basis[r : r + p.ambient_dim, c : c + p.dim] = block
            r, c = r + p.ambient_dim, c + p.dim
    gaps = [p.gap for p in parts if p.gap is not None]
    tols = [p.tol for p in parts if p.tol is not None]
    return FixedSubspace(
        basis=basis, dim=k, ambient_dim=D, exact=exact, method=method,
        gap=min(gaps) if gaps else None, tol=max(tols) if tols else None,
    )


# ------------------------------------------------------------------------------------------
# intertwiners


@dataclass(frozen=True, eq=False)
class Intertwiners:
    """A basis of Hom_G(V, W): matrices X with ρ_W(g) X = X ρ_V(g) for all g."""

    V: Rep
    W: Rep
    space: FixedSubspace

    @property
    def dim(self) -> int:
        return self.space.dim

    def matrices(self) -> list[np.ndarray]:
        """Basis matrices, shape (W.dim, V.dim); exact integers when the space is exact and rational."""
        import scipy.sparse as sp

        b = self.space.basis
        cols = b.toarray() if sp.issparse(b) else (np.array(b.tolist(), dtype=object) if not isinstance(b, np.ndarray) else b)
        return [cols[:, k].reshape(self.W.dim, self.V.dim) for k in range(self.dim)]

    def __repr__(self) -> str:
        return f"Intertwiners({self.V!r} -> {self.W!r}, dim={self.dim}, method={self.space.method!r})"


def intertwiners(V: Rep, W: Rep, method: str = "auto") -> Intertwiners:
    """Basis of the G-equivariant linear maps V -> W, from the fixed-point engine.

    >>> from symfix.symbolic.groups import symmetric
    >>> V = permutation(symmetric(4))
    >>> intertwiners(V, V).dim   # identity and all-ones
    2
    """
    return Intertwiners(V, W, hom(V, W).fixed_subspace(method))

