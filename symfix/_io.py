"""Atomic output: write to a temporary file beside the target, then rename.

A failed write never leaves a half-written file behind, and the result gets the usual
permissions (0666 minus the umask), unlike a bare ``tempfile.mkstemp``.
"""

from __future__ import annotations

import contextlib
import csv
import os
import tempfile
from typing import Any, Callable, Iterator, Sequence

from ._errors import InputError, SymfixError

__all__ = ["check_writable", "atomic_path", "write_text", "write_csv", "save_figure"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_writable(path: str | os.PathLike) -> None:
    """Raise InputError unless ``path`` can be written: its folder exists as the system will
    resolve it (``sub/../r.md`` needs ``sub``) and ``path`` is not itself a folder."""
    path = os.fspath(path)
    folder = os.path.dirname(path) or "."
    if not os.path.isdir(folder):
        raise InputError(f"cannot write {path}: folder {folder} does not exist; create it first")
    if os.path.isdir(path):
        raise InputError(f"cannot write {path}: it is a folder; give a file name")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[str]:
    """Yield a temporary path beside ``path``; on success it is renamed onto ``path``."""
    path = os.fspath(path)
    check_writable(path)
    directory = os.path.dirname(os.path.abspath(path))
    ext = os.path.splitext(path)[1]  # some writers (torch.export) insist on the extension
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".symfix-", suffix=f".tmp{ext}")
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp, open(tmp, "w") as fh:
        fh.write(text)


def write_csv(path: str | os.PathLike, rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        raise SymfixError(f"nothing to write to {os.fspath(path)}")
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def save_figure(fig: Any, path: str | os.PathLike, *, dpi: int = 110) -> None:
    """Save a matplotlib figure as PNG, atomically."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format="png")


def write_with(path: str | os.PathLike, writer: Callable[[str], None]) -> None:
    """Call ``writer(tmp_path)`` and move the result onto ``path``."""
    with atomic_path(path) as tmp:
        writer(tmp)
