"""Exact linear operators: signed permutations and exact matrices, and parsing of user input.

Three kinds of operator flow through the symbolic engine:

* :class:`SignedPerm` -- a monomial matrix with entries in {0, +1, -1}, stored as two length-D
  arrays, so that an action on 10^6 coordinates costs O(D) memory;
* exact matrices -- sympy ``DomainMatrix`` over ``QQ`` or an algebraic field (backed by
  python-flint when sympy uses flint ground types);
* float matrices -- ``numpy.ndarray`` of float64, handled by the numeric route only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from tokenize import TokenError
from typing import Any, Sequence, Union

import numpy as np
import sympy
from sympy.polys.domains import QQ
from sympy.polys.matrices import DomainMatrix

from .._errors import InputError

__all__ = ["SignedPerm", "Operator", "as_operator", "to_domain_matrix", "is_exact"]


@dataclass(frozen=True, eq=False)
class SignedPerm:
    """A signed permutation matrix M with ``M e_j = sign[j] e_{perm[j]}``.

    Parameters
    ----------
    perm : ndarray of int64, shape (D,)
        Image of each coordinate.
    sign : ndarray of int8, shape (D,)
        Sign (+1 or -1) carried along.

    Examples
    --------
    >>> s = SignedPerm.from_perm([1, 2, 0])
    >>> s.to_dense().astype(int).tolist()
    [[0, 0, 1], [1, 0, 0], [0, 1, 0]]
    >>> s.compose(s.inverse()).is_identity()
    True
    """

    perm: np.ndarray
    sign: np.ndarray

    @staticmethod
    def from_perm(images: Sequence[int], sign: Sequence[int] | None = None) -> "SignedPerm":
        p = np.asarray(images, dtype=np.int64)
        s = np.ones(len(p), dtype=np.int8) if sign is None else np.asarray(sign, dtype=np.int8)
        return SignedPerm(p, s)

    @staticmethod
    def identity(n: int) -> "SignedPerm":
        return SignedPerm(np.arange(n, dtype=np.int64), np.ones(n, dtype=np.int8))

    @property
    def dim(self) -> int:
        return int(self.perm.shape[0])

    def compose(self, other: "SignedPerm") -> "SignedPerm":
        """Return the matrix product ``self @ other``."""
        return SignedPerm(self.perm[other.perm], (other.sign * self.sign[other.perm]).astype(np.int8))

    def inverse(self) -> "SignedPerm":
        inv = np.empty_like(self.perm)
        inv[self.perm] = np.arange(self.dim, dtype=np.int64)
        return SignedPerm(inv, self.sign[inv].copy())

    def kron(self, other: "SignedPerm") -> "SignedPerm":
        """Kronecker product in row-major order: index ``i * other.dim + j``."""
        n = other.dim
        perm = (self.perm[:, None] * n + other.perm[None, :]).reshape(-1)
        sign = (self.sign[:, None] * other.sign[None, :]).reshape(-1).astype(np.int8)
        return SignedPerm(perm, sign)

    @staticmethod
    def blockdiag(parts: Sequence["SignedPerm"]) -> "SignedPerm":
        offsets = np.cumsum([0] + [p.dim for p in parts[:-1]])
        perm = np.concatenate([p.perm + o for p, o in zip(parts, offsets)])
        sign = np.concatenate([p.sign for p in parts]).astype(np.int8)
        return SignedPerm(perm, sign)

    def is_identity(self) -> bool:
        return bool(np.all(self.perm == np.arange(self.dim)) and np.all(self.sign == 1))

    def apply(self, x: np.ndarray) -> np.ndarray:
        """Apply to the last axis of ``x`` (shape (..., D))."""
        out = np.empty_like(x)
        out[..., self.perm] = x * self.sign
        return out

    def to_dense(self, dtype: Any = np.float64) -> np.ndarray:
        m = np.zeros((self.dim, self.dim), dtype=dtype)
        m[self.perm, np.arange(self.dim)] = self.sign
        return m

    def to_domain(self) -> DomainMatrix:
        dod = {int(p): {j: QQ(int(s))} for j, (p, s) in enumerate(zip(self.perm, self.sign))}
        return DomainMatrix.from_dod(dod, (self.dim, self.dim), QQ)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, SignedPerm)
            and np.array_equal(self.perm, other.perm)
            and np.array_equal(self.sign, other.sign)
        )

    def __hash__(self) -> int:
        return hash((self.perm.tobytes(), self.sign.tobytes()))


Operator = Union[SignedPerm, DomainMatrix, np.ndarray]


def is_exact(op: Operator) -> bool:
    return not isinstance(op, np.ndarray)


MAX_ENTRY_BITS = 996  # numerators and denominators beyond 2^996 are refused: no big-integer work, and float conversion stays finite
MAX_ENTRY_CHARS = 1000
MAX_EXPONENT = 64


def _bounded(f: Fraction, shown: Any) -> Fraction:
    if f.numerator.bit_length() > MAX_ENTRY_BITS or f.denominator.bit_length() > MAX_ENTRY_BITS:
        bits = max(f.numerator.bit_length(), f.denominator.bit_length())
        shown = repr(shown[:40]) if isinstance(shown, str) else f"of {bits} bits"
        raise InputError(f"matrix entry {shown} has more than {MAX_ENTRY_BITS} bits; exact entries this "
                         "large are refused (rescale the matrix, or use a float array for the numeric route)")
    return f


_NAMES = frozenset({"sqrt", "cbrt", "root", "cos", "sin", "tan", "pi", "exp", "log", "Rational", "E"})


def _check_expression(text: str) -> None:
    """Refuse, before evaluation, anything but arithmetic on numbers and a few named functions,
    integers too large, and powers with large exponents (``10**10**12`` would exhaust memory
    inside the big-integer library, which no ``except`` can catch)."""
    from sympy.parsing.sympy_parser import parse_expr

    names = set(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", text))
    if not names <= _NAMES or not re.fullmatch(r"[0-9A-Za-z_+\-*/().,\s^]*", text):
        bad = sorted(names - _NAMES) or ["a character"]
        raise InputError(f"cannot parse matrix entry {text[:40]!r}: it uses {bad[0]!r}; entries are numbers with + - * / ** and "
                         f"{', '.join(sorted(_NAMES))}")
    e = parse_expr(text, evaluate=False)
    for node in sympy.preorder_traversal(e):
        if isinstance(node, sympy.Integer) and int(node).bit_length() > MAX_ENTRY_BITS:
            raise InputError(f"matrix entry {text[:40]!r} holds an integer of more than {MAX_ENTRY_BITS} bits")
        if isinstance(node, sympy.Pow):
            ex = node.exp.evalf(15)  # floating evaluation: safe for huge values
            if ex.is_Number and (not ex.is_finite or abs(float(ex)) > MAX_EXPONENT):
                raise InputError(f"matrix entry {text[:40]!r} has an exponent of {ex:.3g}, above {MAX_EXPONENT}; exact "
                                 "entries this large are refused")


def _parse_entry(x: Any) -> Any:
    """Parse one matrix entry into a Fraction (rational) or a sympy expression (algebraic)."""
    if isinstance(x, bool):
        raise InputError(f"matrix entry {x!r} is a bool; give numbers such as 0, 1, '1/2' or 'sqrt(2)/2'")
    if isinstance(x, (int, np.integer)):
        return _bounded(Fraction(int(x)), x)
    if isinstance(x, Fraction):
        return _bounded(x, x)
    if isinstance(x, str):
        if len(x) > MAX_ENTRY_CHARS:
            raise InputError(f"matrix entry {x[:40]!r}... is longer than {MAX_ENTRY_CHARS} characters")
        big = re.search(r"[eE]\s*([+-]?\d+)\s*$", x)
        if big and abs(int(big.group(1)[:12])) > 1000:
            raise InputError(f"matrix entry {x[:40]!r} has a decimal exponent beyond ±1000; exact entries this large are refused")
        try:
            return _bounded(Fraction(x.strip()), x)
        except ZeroDivisionError:
            raise InputError(f"matrix entry {x!r} divides by zero; give finite numbers") from None
        except ValueError:
            pass
        try:
            _check_expression(x)
            e = sympy.sympify(x, rational=True)
        except InputError:
            raise
        except (sympy.SympifyError, TypeError, SyntaxError, ValueError, AttributeError, TokenError) as err:
            raise InputError(f"cannot parse matrix entry {x!r}; write rationals as '1/2' or algebraic numbers as 'sqrt(2)/2'") from err
        return _parse_entry(e)
    if isinstance(x, sympy.Basic):
        if x.is_Rational:
            return _bounded(Fraction(int(x.p), int(x.q)), x)
        if x.free_symbols or not x.is_number or x.is_real is False:
            raise InputError(f"matrix entry {x} is not a real number; give exact real numbers")
        if x.is_finite is not True or x.has(sympy.nan, sympy.zoo, sympy.oo):
            raise InputError(f"matrix entry {x} is not a finite number; give exact finite numbers")
        return x
    raise InputError(
        f"matrix entry {x!r} of type {type(x).__name__} is not exact; give ints, Fractions, strings like '1/2', "
        "sympy numbers, or a float numpy array for the numeric route"
    )


def to_domain_matrix(rows: Sequence[Sequence[Any]]) -> DomainMatrix:
    """Build an exact DomainMatrix over QQ (or an algebraic field) from nested entries."""
    parsed = [[_parse_entry(x) for x in row] for row in rows]
    n, m = len(parsed), len(parsed[0]) if parsed else 0
    if all(isinstance(x, Fraction) for row in parsed for x in row):
        return DomainMatrix([[QQ(x.numerator, x.denominator) for x in row] for row in parsed], (n, m), QQ)
    sym = [[sympy.Rational(x.numerator, x.denominator) if isinstance(x, Fraction) else x for x in row] for row in parsed]
    return DomainMatrix.from_list_sympy(n, m, sym, extension=True)


def _is_permutation_list(obj: Any) -> bool:
    if isinstance(obj, np.ndarray):
        return obj.ndim == 1
    return isinstance(obj, (list, tuple)) and len(obj) > 0 and all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in obj
    )


def _perm_from_images(images: Sequence[int], where: str) -> SignedPerm:
    arr = np.asarray(images)
    if arr.dtype.kind not in "iu":
        raise InputError(f"{where}: a permutation must be a list of integer images, got dtype {arr.dtype}")
    n = arr.shape[0]
    if n == 0 or sorted(arr.tolist()) != list(range(n)):
        raise InputError(
            f"{where}: {arr.tolist()[:12]}{'...' if n > 12 else ''} is not a permutation of 0..{n - 1}; "
            "give the image of each point 0..n-1 exactly once"
        )
    return SignedPerm.from_perm(arr)


def _check_square(shape: tuple[int, ...], where: str) -> None:
    if len(shape) != 2 or shape[0] != shape[1] or shape[0] == 0:
        raise InputError(f"{where}: expected a non-empty square matrix, got shape {tuple(shape)}")


def as_operator(obj: Any, where: str = "generator") -> Operator:
    """Parse a generator given by the user into an operator.

    Permutations (lists of images, sympy ``Permutation``) and monomial matrices with entries
    0/±1 become :class:`SignedPerm`; other exact input becomes a ``DomainMatrix``; float
    arrays with other entries stay float64 numpy arrays (numeric route).
    """
    from sympy.combinatorics import Permutation

    if isinstance(obj, SignedPerm):
        return obj
    if isinstance(obj, Permutation):
        return SignedPerm.from_perm(obj.array_form)
    if isinstance(obj, DomainMatrix):
        _check_square(obj.shape, where)
        return _monomial_or(obj)
    if isinstance(obj, sympy.MatrixBase):
        _check_square(obj.shape, where)
        dm = obj.to_DM()  # sympy keeps rational matrices over ZZ/QQ already: no per-entry work
        if dm.domain.is_ZZ or dm.domain.is_QQ:
            return _monomial_or(_as_qq(dm))
        return _monomial_or(to_domain_matrix(obj.tolist()))
    if _is_permutation_list(obj):
        return _perm_from_images(obj, where)
    try:
        import scipy.sparse as sp

        if sp.issparse(obj):
            obj = obj.toarray()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(obj, np.ndarray):
        _check_square(obj.shape, where)
        if obj.dtype.kind in "iu":
            if obj.dtype.kind == "u" and obj.size and int(obj.max()) > np.iinfo(np.int64).max:
                return _monomial_or(to_domain_matrix(obj.tolist()))  # beyond int64: exact Python ints
            return _monomial_or(None, dense=obj.astype(np.int64))
        if obj.dtype.kind == "f":
            if not np.all(np.isfinite(obj)):
                raise InputError(f"{where}: matrix has NaN or inf entries")
            if np.all(np.isin(obj, (-1.0, 0.0, 1.0))):
                sp_ = _signed_perm_from_dense(obj)
                if sp_ is not None:
                    return sp_
            return obj.astype(np.float64)
        if obj.dtype == object:
            return _monomial_or(to_domain_matrix(obj.tolist()))
        raise InputError(f"{where}: unsupported array dtype {obj.dtype}")
    if isinstance(obj, (list, tuple)):
        if not obj or not all(isinstance(r, (list, tuple, np.ndarray)) for r in obj):
            raise InputError(
                f"{where}: expected a square matrix (list of rows) or a permutation (list of images), got {obj!r:.80}"
            )
        lens = {len(r) for r in obj}
        if len(lens) != 1:
            raise InputError(f"{where}: rows have different lengths {sorted(lens)}; a matrix needs equal rows")
        _check_square((len(obj), lens.pop()), where)
        if all(isinstance(x, (int, np.integer)) and not isinstance(x, bool) for x in obj[0]):
            try:
                arr = np.array(obj)
            except (ValueError, OverflowError):
                arr = None
            if arr is not None and arr.dtype.kind == "i" and arr.ndim == 2:  # uint64 would wrap in int64
                return _monomial_or(None, dense=arr.astype(np.int64))
        return _monomial_or(to_domain_matrix(obj))
    raise InputError(
        f"{where}: cannot read {type(obj).__name__}; give a square matrix (nested lists, numpy array, sympy Matrix) "
        "or a permutation (list of images)"
    )


def _signed_perm_from_dense(m: np.ndarray) -> SignedPerm | None:
    nz = m != 0
    if not (np.all(nz.sum(axis=0) == 1) and np.all(nz.sum(axis=1) == 1)):
        return None
    rows = np.argmax(nz, axis=0)
    vals = m[rows, np.arange(m.shape[1])]
    if not np.all(np.abs(vals) == 1):
        return None
    return SignedPerm(rows.astype(np.int64), vals.astype(np.int8))


def int_array_to_domain(a: np.ndarray) -> DomainMatrix:
    """Exact DomainMatrix over QQ from an integer numpy array, touching only its non-zeros."""
    rows, cols = np.nonzero(a)
    vals = a[rows, cols].tolist()
    dod: dict[int, dict[int, Any]] = {}
    for r, c, v in zip(rows.tolist(), cols.tolist(), vals):
        dod.setdefault(r, {})[c] = QQ(v)
    dm = DomainMatrix.from_dod(dod, a.shape, QQ)
    return dm if 2 * len(vals) < a.size else dm.to_dense()


def _as_qq(dm: DomainMatrix) -> DomainMatrix:
    """The matrix over QQ; no copy when it already is (sympy's convert_to copies)."""
    return dm if dm.domain == QQ else dm.convert_to(QQ)


def _monomial_or(dm: DomainMatrix | None, dense: np.ndarray | None = None) -> Operator:
    if dense is not None:
        sp_ = _signed_perm_from_dense(dense)
        if sp_ is not None:
            return sp_
        return int_array_to_domain(dense)
    assert dm is not None
    if dm.domain == QQ or dm.domain.is_ZZ:
        n = dm.shape[0]
        if dm.nnz() != n:
            return _as_qq(dm)
        dok = dm.to_dok()
        if len(dok) == n:
            rows = np.full(n, -1, dtype=np.int64)
            sign = np.zeros(n, dtype=np.int8)
            for (i, j), v in dok.items():
                if v not in (1, -1) or rows[j] != -1:
                    return _as_qq(dm)
                rows[j], sign[j] = i, int(v)
            if np.all(rows >= 0) and len(set(rows.tolist())) == n:
                return SignedPerm(rows, sign)
        return _as_qq(dm)
    return dm


def op_to_domain(op: Operator) -> DomainMatrix:
    if isinstance(op, SignedPerm):
        return op.to_domain()
    if isinstance(op, DomainMatrix):
        return op
    raise InputError("a float matrix cannot enter exact arithmetic; use method='numeric'")


def op_to_float(op: Operator) -> np.ndarray:
    if isinstance(op, SignedPerm):
        return op.to_dense()
    if isinstance(op, DomainMatrix):
        if op.domain == QQ or op.domain.is_ZZ:
            return np.array([[float(x) for x in row] for row in op.to_list()], dtype=np.float64)
        return np.array(op.to_Matrix().evalf(17).tolist(), dtype=np.float64)
    return np.asarray(op, dtype=np.float64)


def op_dim(op: Operator) -> int:
    if isinstance(op, SignedPerm):
        return op.dim
    return int(op.shape[0])
