"""Built-in example problems, by name (``symfix analyze NAME``); defined as TOML specs in
:mod:`symfix._spec`."""

from __future__ import annotations

from typing import Callable

from ._errors import InputError
from ._problem import Problem
from ._spec import BUILTIN_SPECS, DEFAULT, load_spec

__all__ = ["BUILTINS", "builtin_problem", "DEFAULT"]


def _factory(name: str) -> Callable[[], Problem]:
    return lambda: load_spec(name).problem


BUILTINS: dict[str, tuple[str, Callable[[], Problem]]] = {
    name: (load_spec(name).description, _factory(name)) for name in BUILTIN_SPECS
}


def builtin_problem(name: str) -> Problem:
    try:
        return BUILTINS[name][1]()
    except KeyError:
        raise InputError(f"unknown problem {name!r}; built-in problems: {', '.join(BUILTINS)}") from None
