"""The ``symfix`` command: thin layer that parses, calls the library and renders."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Sequence

from ._errors import SymfixError

__all__ = ["main"]


def _write_atomic(path: str, text: str) -> None:
    """Write to a temporary file beside ``path`` and rename, so nothing is left half-written."""
    from ._io import write_text

    write_text(path, text)


def _cmd_analyze(args: argparse.Namespace) -> int:
    import numpy as np

    from ._builtins import BUILTINS, builtin_problem
    from ._report import analysis, format_analysis

    problem = builtin_problem(args.problem)
    a = analysis(problem, name=args.problem, rng=np.random.default_rng(args.seed))
    print(format_analysis(a, BUILTINS[args.problem][0]))
    if args.json:
        _write_atomic(args.json, json.dumps(a, indent=2, default=str) + "\n")
        print(f"  wrote {args.json}")
    return 0 if a["equivariance"]["ok"] else 1


def _cmd_list(args: argparse.Namespace) -> int:
    from ._builtins import BUILTINS

    for name, (desc, _) in BUILTINS.items():
        print(f"{name:16s} {desc}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from ._builtins import DEFAULT

    p = argparse.ArgumentParser(prog="symfix", description="Symmetry analysis of neural networks (mean-field view).")
    sub = p.add_subparsers(dest="command", required=True)
    a = sub.add_parser("analyze", help="group, dimensions, E^G, parameter sharing and the equivariance check")
    a.add_argument("problem", nargs="?", default=DEFAULT, help=f"built-in problem name (default {DEFAULT}); see 'symfix specs'")
    a.add_argument("--json", metavar="FILE", help="also write the report as JSON (exact entries as rational strings)")
    a.add_argument("--seed", type=int, default=0, help="seed of the sampled equivariance check")
    a.set_defaults(func=_cmd_analyze)
    s = sub.add_parser("specs", help="list the built-in problems")
    s.set_defaults(func=_cmd_list)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except SymfixError as err:
        print(f"symfix: error: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"symfix: error: {err}", file=sys.stderr)
        return 2


def _entry() -> Any:  # console-script entry point
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    _entry()
