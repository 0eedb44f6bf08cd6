"""Algebra on operators (signed permutations, exact DomainMatrix, float arrays): sums, tensors."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import scipy.linalg as sla
from sympy.polys.matrices import DomainMatrix

from ._exact import Operator, SignedPerm, op_to_domain, op_to_float

__all__ = ["op_blockdiag", "op_kron", "op_inverse", "op_transpose", "op_identity", "op_zero", "lie_kron", "op_neg"]


def _unify(mats: Sequence[DomainMatrix]) -> list[DomainMatrix]:
    dom = mats[0].domain
    for m in mats[1:]:
        dom = dom.unify(m.domain)
    return [m.convert_to(dom) for m in mats]


def _kind(ops: Sequence[Operator]) -> str:
    if any(isinstance(o, np.ndarray) for o in ops):
        return "float"
    if all(isinstance(o, SignedPerm) for o in ops):
        return "perm"
    return "exact"


def op_blockdiag(ops: Sequence[Operator]) -> Operator:
    kind = _kind(ops)
    if kind == "perm":
        return SignedPerm.blockdiag(ops)  # type: ignore[arg-type]
    if kind == "float":
        return sla.block_diag(*[op_to_float(o) for o in ops])
    mats = _unify([op_to_domain(o) for o in ops])
    dod: dict[int, dict[int, Any]] = {}
    off = 0
    for m in mats:
        for i, row in m.to_sparse().to_dod().items():
            dod[i + off] = {j + off: v for j, v in row.items()}
        off += m.shape[0]
    return DomainMatrix.from_dod(dod, (off, off), mats[0].domain)


def op_kron(a: Operator, b: Operator) -> Operator:
    kind = _kind([a, b])
    if kind == "perm":
        return a.kron(b)  # type: ignore[union-attr]
    if kind == "float":
        return np.kron(op_to_float(a), op_to_float(b))
    x, y = _unify([op_to_domain(a), op_to_domain(b)])
    return dm_kron(x, y)


def dm_kron(x: DomainMatrix, y: DomainMatrix) -> DomainMatrix:
    """Sparse exact Kronecker product (row-major indices)."""
    n2, m2 = y.shape
    ydod = y.to_sparse().to_dod()
    dod: dict[int, dict[int, Any]] = {}
    for i, row in x.to_sparse().to_dod().items():
        for k, yrow in ydod.items():
            out = dod.setdefault(i * n2 + k, {})
            for j, v in row.items():
                for l_, w in yrow.items():
                    out[j * m2 + l_] = v * w
    return DomainMatrix.from_dod(dod, (x.shape[0] * n2, x.shape[1] * m2), x.domain)


def op_identity(n: int) -> SignedPerm:
    return SignedPerm.identity(n)


def op_zero(n: int, like: Operator | None = None) -> Operator:
    from sympy.polys.domains import QQ

    if isinstance(like, np.ndarray):
        return np.zeros((n, n))
    return DomainMatrix.from_dod({}, (n, n), QQ)


def op_inverse(o: Operator) -> Operator:
    if isinstance(o, SignedPerm):
        return o.inverse()
    if isinstance(o, DomainMatrix):
        return o.to_field().inv()
    return np.linalg.inv(o)


def op_transpose(o: Operator) -> Operator:
    if isinstance(o, SignedPerm):
        return o.inverse()
    if isinstance(o, DomainMatrix):
        return o.transpose()
    return o.T.copy()


def op_neg(o: Operator) -> Operator:
    if isinstance(o, DomainMatrix):
        return -o
    if isinstance(o, SignedPerm):
        return -o.to_domain()
    return -o


def lie_kron(alpha: Operator, beta: Operator, n_a: int, n_b: int) -> Operator:
    """Lie image on a tensor product: α ⊗ I + I ⊗ β."""
    if isinstance(alpha, np.ndarray) or isinstance(beta, np.ndarray):
        return np.kron(op_to_float(alpha), np.eye(n_b)) + np.kron(np.eye(n_a), op_to_float(beta))
    a, b = _unify([op_to_domain(alpha), op_to_domain(beta)])
    ia = SignedPerm.identity(n_a).to_domain().convert_to(a.domain)
    ib = SignedPerm.identity(n_b).to_domain().convert_to(a.domain)
    return dm_kron(a, ib).to_sparse() + dm_kron(ia, b).to_sparse()


def is_zero_op(o: Operator) -> bool:
    if isinstance(o, DomainMatrix):
        return o.to_sparse().nnz() == 0
    if isinstance(o, np.ndarray):
        return not np.any(o)
    return False
