"""Fixed-point subspaces E^G = {z : M_h z = z for every generator h, dM(A) z = 0 for every A}.

Routes, cheapest first (chosen by ``method="auto"``):

``orbit``
    every generator is a signed permutation: E^G is spanned by one {0, ±1} vector per orbit
    whose signs are consistent; O(D * #generators) time, O(D) memory.
``tensor``
    the action is a tensor product A ⊗ C (weights W -> A W C^T): the constraints A W = W C^{-T}
    are assembled sparsely, never forming the D x D Kronecker matrix (used by ``Rep``).
``exact``
    fraction-free elimination of the stacked (M_h - I) and Lie images with sympy's DomainMatrix
    over QQ or an algebraic field (python-flint behind sympy when available).
``numeric``
    float64 SVD with a relative tolerance; reports the spectral gap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import reduce
from typing import Any, Sequence

import numpy as np
import scipy.sparse as sp
import sympy
from scipy.sparse.csgraph import breadth_first_order, connected_components
from sympy.polys.domains import QQ
from sympy.polys.matrices import DomainMatrix

from .._errors import InputError
from .._validate import choice, items, real_array
from ._exact import Operator, SignedPerm, as_operator, op_dim, op_to_domain, op_to_float

__all__ = ["FixedSubspace", "fixed_point_subspace", "METHODS"]

METHODS = ("auto", "orbit", "exact", "numeric")


@dataclass(frozen=True, eq=False)
class FixedSubspace:
    """The fixed-point subspace of a group action on R^D.

    Attributes
    ----------
    basis : scipy.sparse.csc_array (int64) | sympy.Matrix | numpy.ndarray, shape (D, dim)
        Exact integer basis (sparse) for rational actions, a sympy matrix over an algebraic
        field, or an orthonormal float64 basis for the numeric route.
    dim : int
    exact : bool
    method : str
        ``"orbit"``, ``"tensor"``, ``"exact"``, ``"numeric"``, or ``"blocks(...)"`` when a direct
        sum was solved block by block.
    gap : float or None
        Numeric route only: ratio of the smallest singular value kept as non-zero to the largest
        treated as zero (large means a clean separation); ``inf`` when nothing was cut.
    tol : float or None
        Numeric route only: the relative tolerance used.

    Examples
    --------
    >>> E = fixed_point_subspace([[2, 1, 0]])   # the transposition (0 2) of three points
    >>> E
    FixedSubspace(dim=2, D=3, exact=True, method='orbit')
    >>> import numpy as np
    >>> E.project(np.array([1.0, 5.0, 3.0])).tolist()
    [2.0, 5.0, 2.0]
    """

    basis: Any
    dim: int
    ambient_dim: int
    exact: bool
    method: str
    gap: float | None = None
    tol: float | None = None
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __repr__(self) -> str:
        extra = "" if self.exact else f", gap={self.gap:.3g}, tol={self.tol:g}"
        return f"FixedSubspace(dim={self.dim}, D={self.ambient_dim}, exact={self.exact}, method={self.method!r}{extra})"

    def _repr_latex_(self) -> str:
        """Notebook display: the basis B (θ = B c) in LaTeX when it is small, else a summary.

        >>> print(fixed_point_subspace([[1, 0]])._repr_latex_())
        $E^G = \\operatorname{span} \\left[\\begin{matrix}1\\\\1\\end{matrix}\\right]$ (dim 1 of 2, exact, route orbit)
        """
        tail = f"(dim {self.dim} of {self.ambient_dim}, {'exact' if self.exact else 'numeric'}, route {self.method})"
        if self.ambient_dim > 40 or self.dim > 12:
            return f"$E^G$ {tail}"
        B = self.basis
        M = sympy.Matrix(B.toarray()) if sp.issparse(B) else sympy.Matrix(B)
        return f"$E^G = \\operatorname{{span}} {sympy.latex(M)}$ {tail}"

    def orthonormal_basis(self) -> Any:
        """Float64 orthonormal basis Q (D x dim); sparse when the exact basis has disjoint supports."""
        if "q" not in self._cache:
            q = _orthonormalise(self.basis, self.ambient_dim, self.dim)
            if sp.issparse(q):
                b = sp.csc_array(self.basis, dtype=np.float64)
                self._cache["disjoint"] = (b, 1.0 / np.asarray(b.multiply(b).sum(axis=0)).ravel())
            self._cache["q"] = q
        return self._cache["q"]

    def project(self, v: Any) -> Any:
        """Orthogonal projection onto the subspace of arrays of shape (..., D).

        Computes ``(v Q) Q^T`` with an orthonormal basis Q, in O(D * dim) (O(D) on the orbit
        route); the D x D projector is never formed. Accepts numpy arrays and torch tensors.
        """
        v = real_array(v, "project: the vectors", last=self.ambient_dim, finite=False, keep_tensor=True)
        q = self.orthonormal_basis()
        if hasattr(v, "detach") and hasattr(v, "new_tensor"):  # torch tensor, kept on its device
            import torch

            qt = self._cache.get(("qt", v.dtype, v.device))
            if qt is None:
                dense = q.toarray() if sp.issparse(q) else q
                qt = torch.as_tensor(dense, dtype=v.dtype, device=v.device)
                self._cache[("qt", v.dtype, v.device)] = qt
            return (v @ qt) @ qt.T
        x = v
        flat = x.reshape(-1, self.ambient_dim)
        if self.dim == 0:
            return np.zeros_like(x)
        if sp.issparse(q):
            # disjoint supports: P v = B diag(1/|b_k|^2) B^T v with the integer basis B itself,
            # which keeps orbit averages exact where floating point allows
            b, w = self._cache["disjoint"]
            c = (b.T @ flat.T).T * w
            out = (b @ c.T).T
        else:
            out = (flat @ q) @ q.T
        return np.asarray(out).reshape(x.shape)

    def dense_basis(self) -> np.ndarray:
        """The basis as a dense float64 array (D x dim)."""
        if sp.issparse(self.basis):
            return self.basis.toarray().astype(np.float64)
        if isinstance(self.basis, sympy.MatrixBase):
            return np.array(self.basis.evalf(17).tolist(), dtype=np.float64).reshape(self.ambient_dim, self.dim)
        return np.asarray(self.basis, dtype=np.float64)

    def verify(self, generators: Sequence[Any], lie_generators: Sequence[Any] = ()) -> bool:
        """Check exactly (for exact bases) that M_h B = B and dM(A) B = 0.

        Numeric bases are checked to ``100 * tol`` relative to the largest generator norm.
        """
        gens = items(generators, "verify: generators", "a list of matrices or permutations")
        ops = [g if isinstance(g, (SignedPerm, DomainMatrix)) else as_operator(g) for g in gens]
        lies = [a if isinstance(a, (SignedPerm, DomainMatrix)) else as_operator(a)
                for a in items(lie_generators, "verify: lie_generators", "a list of matrices")]
        for k, o in enumerate(ops + lies):
            if op_dim(o) != self.ambient_dim:
                raise InputError(f"verify: generator {k} acts on R^{op_dim(o)}, but the subspace lies in R^{self.ambient_dim}")
        return verify_basis(self, ops, lies)



def dense_orthonormal(obj: Any) -> np.ndarray:
    """A dense float64 orthonormal basis (D, k) from a FixedSubspace (or anything with
    ``orthonormal_basis()``), a scipy sparse matrix or an array (taken as given)."""
    q = obj.orthonormal_basis() if hasattr(obj, "orthonormal_basis") else obj
    return q.toarray().astype(np.float64) if sp.issparse(q) else np.asarray(q, dtype=np.float64)


# --------------------------------------------------------------------------------------------
# public entry point


def fixed_point_subspace(
    generators: Sequence[Any],
    *,
    lie_generators: Sequence[Any] = (),
    method: str = "auto",
    rtol: float = 1e-10,
) -> FixedSubspace:
    """Fixed-point subspace of the group generated by ``generators`` (and a Lie algebra).

    Parameters
    ----------
    generators : sequence
        Square matrices (numpy arrays, nested lists of ints/Fractions/strings such as ``"1/2"``
        or ``"sqrt(2)/2"``, sympy matrices) or permutations (lists of images, sympy
        ``Permutation``). All must act on the same R^D.
    lie_generators : sequence
        Lie-algebra images dM(A) (square matrices): v is fixed by the identity component iff
        dM(A) v = 0 for every A, for compact and non-compact groups alike (Lorentz, Sp(2n); see
        ``groups.lorentz`` and ``groups.symplectic``).
    method : {"auto", "orbit", "exact", "numeric"}
        ``auto`` picks the cheapest exact route; float input with non-monomial entries goes
        to ``numeric``.
    rtol : float
        Numeric route: singular values below ``rtol * s_max`` count as zero.

    Returns
    -------
    FixedSubspace

    Examples
    --------
    >>> E = fixed_point_subspace([[[0, 1], [1, 0]]])
    >>> E.dim, E.basis.toarray().ravel().tolist()
    (1, [1, 1])
    >>> fixed_point_subspace([], lie_generators=[[[0, -1], [1, 0]]]).dim
    0
    """
    choice(method, METHODS, "method")
    if isinstance(generators, (str, bytes)) or not isinstance(generators, (list, tuple)):
        raise InputError("generators must be a list of matrices or permutations, e.g. [[[0, 1], [1, 0]]]")
    if isinstance(lie_generators, (str, bytes)) or not isinstance(lie_generators, (list, tuple)):
        raise InputError("lie_generators must be a list of square matrices")
    if not generators and not lie_generators:
        raise InputError("give at least one generator (or Lie-algebra generator); the dimension is unknown otherwise")
    ops = [as_operator(g, f"generator {k}") for k, g in enumerate(generators)]
    lies = [as_operator(a, f"Lie generator {k}") for k, a in enumerate(lie_generators)]
    dims = {op_dim(o) for o in ops + lies}
    if len(dims) != 1:
        raise InputError(f"generators act on spaces of different dimensions {sorted(dims)}; they must all be D x D")
    blocks: dict[int, Any] = {}  # integer forms of dense rational generators, shared with the solve
    for k, o in enumerate(ops):
        _check_invertible(o, f"generator {k}", blocks)
    return solve(ops, lies, dims.pop(), method=method, rtol=rtol, _blocks=blocks)


def _check_invertible(op: Operator, where: str, blocks: dict[int, Any] | None = None) -> None:
    from .._errors import GroupError

    if isinstance(op, SignedPerm):
        return
    if isinstance(op, DomainMatrix):
        singular = _exact_singular(op, blocks)
    else:
        s = np.linalg.svd(op, compute_uv=False)
        singular = s[-1] <= 1e-12 * s[0]
    if singular:
        raise GroupError(f"{where} is singular, so it is not a group element; generators must be invertible (e.g. orthogonal)")


def _exact_singular(m: DomainMatrix, blocks: dict[int, Any] | None = None) -> bool:
    """Exact singularity test: det mod a large prime first (non-zero proves invertibility).

    The integer form of m (and its image modulo that prime, which is also the first prime of
    the null-space solve) is kept in ``blocks`` for the solve.
    """
    n = m.shape[0]
    if _is_sparse(m.nnz(), n, n):  # sparse elimination, as the solve will use: no fill-in to speak of
        return m.to_sparse().to_field().rank() < n
    if m.domain.is_QQ or m.domain.is_ZZ:
        from ._modular import FIRST_PRIME, IntegerForm, flint_threads

        form = IntegerForm.of(m)
        if blocks is not None:
            blocks[id(m)] = form
        with flint_threads():
            if form.image(FIRST_PRIME).det() != 0:  # non-zero mod p proves det != 0
                return False
    return m.to_field().rank() < n


def _is_sparse(nnz: int, nrows: int, D: int) -> bool:
    """Sparse enough for sympy's sparse elimination (the route for such constraints)."""
    return nnz < 0.05 * nrows * D and D > 64


def solve(
    ops: Sequence[Operator],
    lies: Sequence[Operator],
    D: int,
    *,
    method: str = "auto",
    rtol: float = 1e-10,
    _blocks: dict[int, Any] | None = None,
) -> FixedSubspace:
    """Dispatch on operator kinds (already parsed and checked)."""
    all_perm = all(isinstance(o, SignedPerm) for o in ops) and not lies
    any_float = any(isinstance(o, np.ndarray) for o in list(ops) + list(lies))
    if method == "auto":
        method = "orbit" if all_perm else ("numeric" if any_float else "exact")
    if method == "orbit":
        if not all_perm:
            raise InputError("method='orbit' needs signed-permutation generators and no Lie generators; use 'auto'")
        return orbit_subspace(ops, D)  # type: ignore[arg-type]
    if method == "exact":
        if any_float:
            raise InputError("method='exact' needs exact input (ints, Fractions, strings); float arrays use 'numeric'")
        rows = [op_to_domain(o) for o in ops] + [op_to_domain(a) for a in lies]
        return exact_subspace(rows, D, method="exact", shifted=len(ops), blocks=_blocks)
    return numeric_subspace(ops, lies, D, rtol=rtol)


# --------------------------------------------------------------------------------------------
# orbit route


def orbit_subspace(ops: Sequence[SignedPerm], D: int) -> FixedSubspace:
    """E^G for signed-permutation generators: one signed indicator per sign-consistent orbit."""
    if not ops:
        ops = [SignedPerm.identity(D)]
    src = np.concatenate([np.arange(D, dtype=np.int64)] * len(ops))
    dst = np.concatenate([o.perm for o in ops])
    sgn = np.concatenate([o.sign for o in ops]).astype(np.int8)
    graph = sp.coo_array((np.ones(src.size, dtype=np.int8), (src, dst)), shape=(D, D)).tocsr()
    ncomp, labels = connected_components(graph, directed=True, connection="weak")
    # potential s with s[dst] = sgn * s[src], propagated along a BFS forest from one root per orbit
    pot = _orbit_potentials(graph, labels, ncomp, src, dst, sgn, D)
    bad = np.zeros(ncomp, dtype=bool)
    viol = pot[dst] != sgn * pot[src]
    bad[labels[src[viol]]] = True
    keep = ~bad[labels]
    good_ids = np.flatnonzero(~bad)
    col_of = np.full(ncomp, -1, dtype=np.int64)
    col_of[good_ids] = np.arange(good_ids.size)
    rows = np.flatnonzero(keep)
    cols = col_of[labels[rows]]
    basis = sp.csc_array((pot[rows].astype(np.int64), (rows, cols)), shape=(D, good_ids.size))
    return FixedSubspace(basis=basis, dim=int(good_ids.size), ambient_dim=D, exact=True, method="orbit")


def _orbit_potentials(graph, labels, ncomp, src, dst, sgn, D) -> np.ndarray:
    if np.all(sgn == 1):
        return np.ones(D, dtype=np.int8)
    # undirected signed edges; a super-root joined to one representative per orbit
    reps = np.full(ncomp, D, dtype=np.int64)
    np.minimum.at(reps, labels, np.arange(D))
    root = D
    a = np.concatenate([src, dst, np.full(ncomp, root), reps])
    b = np.concatenate([dst, src, reps, np.full(ncomp, root)])
    w = np.concatenate([sgn, sgn, np.ones(2 * ncomp, dtype=np.int8)]).astype(np.int64)
    g = sp.csr_array((np.ones(a.size, dtype=np.int8), (a, b)), shape=(D + 1, D + 1))
    order, pred = breadth_first_order(g, root, directed=True, return_predecessors=True)
    # sign on each tree edge pred[v] -> v, looked up through a sparse matrix of edge weights
    wmat = sp.csr_array((w, (a, b)), shape=(D + 1, D + 1))
    wmat.sum_duplicates()
    nodes = np.arange(D)
    parent = pred[:D].astype(np.int64)
    # signs of parallel edges may disagree; the consistency check afterwards catches that
    ew = np.asarray(wmat[parent, nodes]).ravel()
    es = np.sign(ew).astype(np.int8)
    es[es == 0] = 1
    # pointer jumping: acc[v] = product of edge signs from v up to anc[v]
    anc = np.concatenate([parent, [root]])
    acc = np.concatenate([es, [1]]).astype(np.int8)
    anc[root] = root
    while True:
        nxt = anc[anc]
        if np.array_equal(nxt, anc):
            break
        acc = (acc * acc[anc]).astype(np.int8)
        anc = nxt
    return acc[:D]


# --------------------------------------------------------------------------------------------
# exact route


def _minus_identity(m: DomainMatrix) -> DomainMatrix:
    return m.to_field() - DomainMatrix.eye(m.shape[0], m.domain).to_field()


def exact_subspace(
    constraints: Sequence[DomainMatrix],
    D: int,
    *,
    method: str,
    shifted: int = 0,
    blocks: dict[int, Any] | None = None,
) -> FixedSubspace:
    """Null space of stacked exact constraint matrices, as a primitive integer (or algebraic) basis.

    The first ``shifted`` constraints C stand for C - I (group generators); the rest are used
    as given (Lie-algebra images, Sylvester rows). Dense rational constraints go to the
    multi-modular solver, the others to sympy's sparse elimination over the field. ``blocks``
    may hold integer forms (d C, d) already computed, keyed by ``id(C)``.
    """
    if not constraints:
        basis = sp.identity(D, dtype=np.int64, format="csc")
        return FixedSubspace(basis=sp.csc_array(basis), dim=D, ambient_dim=D, exact=True, method=method)
    dom = reduce(lambda a, b: a.unify(b), [c.domain for c in constraints])
    nnz = sum(c.nnz() for c in constraints)
    nrows = sum(c.shape[0] for c in constraints)
    sparse = _is_sparse(nnz, nrows, D)
    rational = dom.is_QQ or dom.is_ZZ
    if rational and not sparse:
        vecs = _modular_vectors(constraints, shifted, blocks or {})
        if vecs is not None:
            return _integer_basis(vecs, D, method)
    cs = [_minus_identity(c) if k < shifted else c for k, c in enumerate(constraints)]
    cs = [c.convert_to(dom) for c in cs]
    cs = [c.to_sparse() if sparse else c.to_dense() for c in cs]
    stacked = DomainMatrix.vstack(*cs) if len(cs) > 1 else cs[0]
    null = stacked.to_field().nullspace()  # rows are basis vectors, reduced form on free variables
    if not rational:
        return FixedSubspace(basis=null.to_Matrix().T, dim=null.shape[0], ambient_dim=D, exact=True, method=method)
    vecs = []
    for _, vec in _rows_dok(null):
        den = math.lcm(*[int(v.denominator) for v in vec.values()]) if vec else 1
        vecs.append({j: int(v.numerator) * (den // int(v.denominator)) for j, v in vec.items()})
    return _integer_basis(vecs, D, method)


def _modular_vectors(constraints: Sequence[DomainMatrix], shifted: int, known: dict[int, Any]) -> list[dict[int, int]] | None:
    """Dense rational constraints: multi-modular null space, certified exactly (see _modular)."""
    from ._modular import IntegerForm, nullspace_blocks

    blocks = []
    for k, c in enumerate(constraints):
        form = known[id(c)] if id(c) in known else IntegerForm.of(c)
        blocks.append((form, form.d if k < shifted else 0))
    rows = nullspace_blocks(blocks)
    if rows is None:
        return None
    return [{j: v for j, v in enumerate(row) if v} for row in rows]


def _integer_basis(vecs: list[dict[int, int]], D: int, method: str) -> FixedSubspace:
    """Primitive integer columns, first non-zero entry positive; int64 sparse when it fits."""
    k = len(vecs)
    rows, cols, vals = [], [], []
    for c, ints in enumerate(vecs):
        g = math.gcd(*ints.values()) if ints else 1
        lead = ints[min(ints)] if ints else 1
        s = -1 if lead < 0 else 1
        for j, v in ints.items():
            rows.append(j)
            cols.append(c)
            vals.append(s * v // g)
    big = any(abs(v) >= 2**62 for v in vals)
    if big:
        M = sympy.zeros(D, k)
        for r, c, v in zip(rows, cols, vals):
            M[r, c] = v
        basis: Any = M
    else:
        basis = sp.csc_array((np.array(vals, dtype=np.int64), (np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64))), shape=(D, k))
    return FixedSubspace(basis=basis, dim=k, ambient_dim=D, exact=True, method=method)


def _rows_dok(null: DomainMatrix):
    dod = null.to_sparse().to_dod()
    for r in range(null.shape[0]):
        yield r, dod.get(r, {})


# --------------------------------------------------------------------------------------------
# numeric route


def numeric_subspace(ops: Sequence[Operator], lies: Sequence[Operator], D: int, *, rtol: float) -> FixedSubspace:
    """Float64 null space of the stacked constraints by SVD, with the spectral gap reported."""
    if not (0 < rtol < 1):
        raise InputError(f"rtol must lie in (0, 1), got {rtol}")
    blocks = [op_to_float(o) - np.eye(D) for o in ops] + [op_to_float(a) for a in lies]
    stacked = np.vstack(blocks) if blocks else np.zeros((D, D))
    if stacked.shape[0] < D:  # pad with zero rows so that the thin SVD returns all D right vectors
        stacked = np.vstack([stacked, np.zeros((D - stacked.shape[0], D))])
    _, s_full, vt = np.linalg.svd(stacked, full_matrices=False)
    smax = s_full.max() if s_full.size else 0.0
    if smax == 0.0:
        return FixedSubspace(basis=np.eye(D), dim=D, ambient_dim=D, exact=False, method="numeric", gap=math.inf, tol=rtol)
    zero = s_full <= rtol * smax
    rank = int((~zero).sum())
    kept_min = s_full[rank - 1] if rank > 0 else smax
    cut_max = s_full[rank] if rank < D else 0.0
    gap = math.inf if cut_max == 0.0 else float(kept_min / cut_max)
    basis = vt[rank:].T.copy()
    return FixedSubspace(basis=basis, dim=D - rank, ambient_dim=D, exact=False, method="numeric", gap=gap, tol=rtol)


# --------------------------------------------------------------------------------------------
# orthonormalisation and verification


def _orthonormalise(basis: Any, D: int, k: int) -> Any:
    if k == 0:
        return np.zeros((D, 0))
    if sp.issparse(basis):
        b = sp.csc_array(basis, dtype=np.float64)
        # disjoint supports: columns are already orthogonal; scale them
        support_counts = np.diff(sp.csr_array(b != 0).indptr)
        if np.all(support_counts <= 1):
            norms = np.sqrt(np.asarray((b.multiply(b)).sum(axis=0)).ravel())
            return sp.csc_array(b @ sp.diags_array(1.0 / norms))
        q, _ = np.linalg.qr(b.toarray())
        return q
    if isinstance(basis, sympy.MatrixBase):
        dense = np.array(basis.evalf(17).tolist(), dtype=np.float64).reshape(D, k)
    else:
        dense = np.asarray(basis, dtype=np.float64)
    q, _ = np.linalg.qr(dense)
    return q


def verify_basis(E: FixedSubspace, ops: Sequence[Operator], lies: Sequence[Operator]) -> bool:
    """Exact check M_h B = B and dM(A) B = 0 (tolerance-based for numeric bases)."""
    if E.dim == 0:
        return True
    if not E.exact:
        B = E.dense_basis()
        scale = max([1.0] + [np.abs(op_to_float(o)).max() for o in list(ops) + list(lies)])
        ok = all(np.abs(op_to_float(o) @ B - B).max() <= 100 * (E.tol or 1e-10) * scale for o in ops)
        return ok and all(np.abs(op_to_float(a) @ B).max() <= 100 * (E.tol or 1e-10) * scale for a in lies)
    if sp.issparse(E.basis):
        Bs = sp.csc_array(E.basis)
        for o in ops:
            if isinstance(o, SignedPerm):
                # (M B)[perm[j], :] = sign[j] * B[j, :], in exact integer arithmetic
                Pm = sp.csr_array((o.sign.astype(np.int64), (o.perm, np.arange(o.dim))), shape=(o.dim, o.dim))
                if (Pm @ Bs - Bs).count_nonzero() != 0:
                    return False
        if all(isinstance(o, SignedPerm) for o in ops) and not lies:
            return True
        Bdm = _sparse_to_domain(Bs)
    else:
        # algebraic entries (sqrt(3), ...) in their number field, not sympy's expression domain
        Bdm = DomainMatrix.from_Matrix(sympy.Matrix(E.basis), extension=True) if not isinstance(E.basis, DomainMatrix) else E.basis
    for o in ops:
        if isinstance(o, SignedPerm) and sp.issparse(E.basis):
            continue
        if isinstance(o, np.ndarray):
            return False
        M = op_to_domain(o)
        M, B2 = M.unify(Bdm)
        if not (M.to_sparse() * B2.to_sparse() - B2.to_sparse()).is_zero_matrix:
            return False
    for a in lies:
        if isinstance(a, np.ndarray):
            return False
        A, B2 = op_to_domain(a).unify(Bdm)
        if not (A.to_sparse() * B2.to_sparse()).is_zero_matrix:
            return False
    return True


def _sparse_to_domain(b: Any) -> DomainMatrix:
    coo = sp.coo_array(b)
    dod: dict[int, dict[int, Any]] = {}
    for r, c, v in zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist()):
        dod.setdefault(r, {})[c] = QQ(int(v))
    return DomainMatrix.from_dod(dod, b.shape, QQ)
