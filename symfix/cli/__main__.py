"""``python -m symfix.cli``: the ``symfix`` command."""

from . import _entry

_entry()
