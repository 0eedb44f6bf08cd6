"""``python -m symfix``: the command line (same as the ``symfix`` script; torchrun can start it as ``-m symfix``)."""

from .cli import _entry

if __name__ == "__main__":
    _entry()
