"""Problem spec files (TOML): load a built-in spec by name or a file by path.

>>> from symfix.specs import load_spec
>>> spec = load_spec("c2-neuron")
>>> spec.problem.fixed_subspace().dim
3
"""

from ._spec import BUILTIN_SPECS, DEFAULT, Spec, load_spec, parse_spec

__all__ = ["Spec", "load_spec", "parse_spec", "BUILTIN_SPECS", "DEFAULT"]
