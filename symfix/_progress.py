"""Progress bars for loops a person waits for (tqdm on stderr; silent when disabled)."""

from __future__ import annotations

from typing import Any, Iterable


def progress(it: Iterable[Any], desc: str, *, enabled: bool = True, total: int | None = None) -> Iterable[Any]:
    """Wrap an iterable in a tqdm bar on stderr, or return it unchanged when ``enabled`` is False."""
    if not enabled:
        return it
    from tqdm.auto import tqdm

    return tqdm(it, desc=desc, total=total, leave=False, dynamic_ncols=True)
