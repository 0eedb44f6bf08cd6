"""Validators shared by every public boundary: arrays of real numbers and sizes.

Each returns the validated value or raises :class:`InputError` with one line that names the
argument, what was wrong and what to give instead. No torch import here: tensors are
recognised by their methods, so the symbolic layer can use these too.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._errors import InputError

__all__ = ["real_array", "count", "choice", "seed", "number", "items"]


def _is_tensor(x: Any) -> bool:
    return hasattr(x, "detach") and hasattr(x, "new_tensor")


def real_array(x: Any, name: str, *, ndim: int | None = None, last: int | None = None, finite: bool = True,
               keep_tensor: bool = False) -> Any:
    """``x`` as a float64 numpy array (or, with ``keep_tensor``, a floating torch tensor kept on
    its device, detached), after checking that it holds real numbers only: no strings, objects,
    complex values, ragged nesting or integers too large for a float; optionally its number of
    axes, the length of its last axis and finiteness."""
    if isinstance(x, (str, bytes)) or x is None:
        raise InputError(f"{name} must be an array of real numbers, got {type(x).__name__}")
    if _is_tensor(x):
        t = x.detach()
        if t.is_complex() or not (t.is_floating_point() or str(t.dtype).startswith(("torch.int", "torch.uint"))):
            raise InputError(f"{name} must hold real numbers, got a tensor of dtype {t.dtype}")
        if keep_tensor:
            if not t.is_floating_point():
                t = t.double()
            _check_shape(tuple(t.shape), name, ndim, last)
            if finite and t.numel() and not bool(t.isfinite().all()):
                raise InputError(f"{name} contains NaN or inf")
            return t
        x = t.cpu().numpy()
    try:
        a = np.asarray(x)
    except (ValueError, TypeError, OverflowError) as exc:
        raise InputError(f"{name} must be a rectangular array of real numbers ({str(exc).splitlines()[0][:80]})") from None
    if a.dtype == object:
        import numbers

        if not all(isinstance(e, numbers.Real) for e in a.ravel()):
            bad = next(e for e in a.ravel() if not isinstance(e, numbers.Real))
            raise InputError(f"{name} must hold real numbers only, found {type(bad).__name__} {str(bad)[:20]!r}")
        try:
            a = np.asarray(a.tolist(), dtype=np.float64)
        except OverflowError:
            raise InputError(f"{name} has an integer too large for a float; rescale the data") from None
        except (ValueError, TypeError):
            raise InputError(f"{name} must be a rectangular array of real numbers (found other objects or ragged rows)") from None
    if a.dtype.kind not in "biuf":
        raise InputError(f"{name} must hold real numbers, got dtype {a.dtype}")
    a = a.astype(np.float64, copy=False)
    _check_shape(a.shape, name, ndim, last)
    if finite and a.size and not np.isfinite(a).all():
        raise InputError(f"{name} contains NaN or inf")
    return a


def _check_shape(shape: tuple, name: str, ndim: int | None, last: int | None) -> None:
    if ndim is not None and len(shape) != ndim:
        want = {1: "a vector", 2: "a matrix"}.get(ndim, f"{ndim} axes")
        raise InputError(f"{name} must be {want}, got shape {shape}")
    if last is not None and (not shape or shape[-1] != last):
        raise InputError(f"{name} must have last axis of length {last}, got shape {shape}")


def count(n: Any, name: str, *, minimum: int = 1, maximum: int | None = None, why: str = "") -> int:
    """An int in [minimum, maximum] (numpy ints accepted, bools refused)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < minimum:
        raise InputError(f"{name} needs an integer >= {minimum}, got {n!r}")
    if maximum is not None and n > maximum:
        raise InputError(f"{name} = {n} is larger than the {maximum} symfix can build{'; ' + why if why else ''}")
    return int(n)


def choice(value: Any, options: Any, name: str) -> str:
    """One of the named options (a string); arrays, numbers and typos get one clear line."""
    if not isinstance(value, str) or value not in options:
        raise InputError(f"unknown {name} {value!r}; choose one of {', '.join(map(str, options))}")
    return value


def seed(value: Any, name: str = "seed") -> int | None:
    """None or an int >= 0 (numpy's seeding rules), checked before any random stream is made."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0 or value >= 2**128:
        raise InputError(f"{name} must be None or an int between 0 and 2**128 - 1, got {value!r}")
    return int(value)


def number(value: Any, name: str, *, minimum: float | None = None, strict: bool = False) -> float:
    """A finite real number, optionally >= (or >, with ``strict``) ``minimum``."""
    import math

    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InputError(f"{name} must be a number, got {value!r}")
    try:
        v = float(value)
    except OverflowError:
        raise InputError(f"{name} = {value!r} is too large") from None
    if not math.isfinite(v) or (minimum is not None and (v <= minimum if strict else v < minimum)):
        bound = "" if minimum is None else f" {'>' if strict else '>='} {minimum:g}"
        raise InputError(f"{name} must be a finite number{bound}, got {value!r}")
    return v


def items(obj: Any, name: str, what: str = "a list") -> list:
    """``list(obj)`` for a sequence argument; strings, scalars and 0-d arrays are refused."""
    if isinstance(obj, (str, bytes, dict)) or obj is None:
        raise InputError(f"{name} must be {what}, got {type(obj).__name__}")
    try:
        return list(obj)
    except TypeError:
        raise InputError(f"{name} must be {what}, got {type(obj).__name__}") from None
