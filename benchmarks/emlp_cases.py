"""EMLP's side of ``bench_lie.py``: run inside a separate environment that has EMLP 1.0.3 (``make
emlp-env``), never in symfix's own (EMLP brings jax and objax; symfix does not depend on it).

    .venv-emlp/bin/python benchmarks/emlp_cases.py CASE [CASE ...]

A case is ``GROUP:KIND:k`` with GROUP one of SO3, O3, SO2, D6 (the dihedral group of order 12
acting on the plane, entries ±√3/2), C5 and D5 (rotations by 72°, and reflections), O13, SO13, SO13p (the Lorentz group O(1,3), its subgroup of
det 1 and the connected SO⁺(1,3)), Sp1, Sp2 (Sp(2, R) and Sp(4, R)), KIND ``pow`` (invariants of V^{⊗k}) or ``hom``
(Hom(V^{⊗k}, V^{⊗k})). Prints one JSON line per case: the dimension of EMLP's (float)
equivariant basis and the seconds ``equivariant_basis()`` took (jax's compilation included, as
a user meets it). EMLP caches bases across representations of the same shape, so
``bench_lie.py`` starts one process per case.
"""

from __future__ import annotations

import json
import os
import sys
import time


def main(argv: list[str]) -> int:
    os.environ.setdefault("TQDM_DISABLE", "1")  # EMLP's progress bars break with current tqdm otherwise
    from emlp.groups import O13, SO13, SO, C, D, O, SO13p, Sp
    from emlp.reps import V

    groups = {"SO3": lambda: SO(3), "O3": lambda: O(3), "SO2": lambda: SO(2), "D6": lambda: D(6), "D5": lambda: D(5),
              "C5": lambda: C(5), "O13": O13,
              "SO13": SO13, "SO13p": SO13p, "Sp1": lambda: Sp(1), "Sp2": lambda: Sp(2)}
    for case in argv:
        name, kind, k = case.split(":")
        W = V(groups[name]())
        P = W**int(k)
        rep = P >> P if kind == "hom" else P
        t = time.perf_counter()
        Q = rep.equivariant_basis()
        seconds = time.perf_counter() - t
        print(json.dumps({"case": case, "dim": int(Q.shape[1]), "seconds": seconds}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
