"""Identify a discovered subspace with a known symmetry: rank candidate group actions by the
largest principal angle between their E^G and the discovered subspace."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from .._errors import InputError, SymfixError
from ..symbolic import dense_orthonormal

__all__ = ["identify", "Match", "candidate_problems"]


@dataclass(frozen=True)
class Match:
    """One candidate: its name, the dimension of its E^G and the largest principal angle
    (radians; pi/2 when the dimensions differ) to the discovered subspace."""

    name: str
    dim: int
    angle: float
    problem: Any


def candidate_problems(unit: Any) -> list[tuple[str, Any]]:
    """Catalogue actions on the unit's inputs (and outputs): permutation groups (symmetric,
    cyclic, dihedral, each transposition; rotations and reflections of an m × m patch when
    d = m²), sign flips of each input, swaps with a sign change, rotations of R^2; outputs
    trivial for a scalar output, or the same permutation action when c == d."""
    from .. import groups, reps
    from .._problem import Problem

    d, c = unit.d, unit.c
    cands: list[tuple[str, Any]] = []

    def add(name: str, G: Any, rin: Any) -> None:
        if c == 1:
            rout = reps.trivial(G)
        elif c == d:
            rout = rin
        else:
            return
        try:
            cands.append((name, Problem(G, rin, rout, unit)))
        except SymfixError:
            pass

    if d >= 2:
        G = groups.symmetric(d)
        add(f"S{d} permuting the inputs", G, reps.permutation(G))
    if d >= 3:
        G = groups.cyclic(d)
        add(f"C{d} cycling the inputs", G, reps.permutation(G))
        G = groups.dihedral(d)
        add(f"D{d} on the inputs as a {d}-gon", G, reps.permutation(G))
    m = int(round(np.sqrt(d)))
    if m >= 2 and m * m == d:  # the inputs as an m x m image patch, pixel (r, c) at index r m + c
        rot = [(m - 1 - c) * m + r for r in range(m) for c in range(m)]
        ref = [r * m + (m - 1 - c) for r in range(m) for c in range(m)]
        G = groups.from_generators([rot, ref])
        add(f"D4 rotating and reflecting the {m}x{m} patch", G, reps.permutation(G))
        G = groups.from_generators([rot])
        add(f"C4 rotating the {m}x{m} patch", G, reps.permutation(G))
    if 2 <= d <= 6:
        for i in range(d):
            for j in range(i + 1, d):
                p = list(range(d))
                p[i], p[j] = j, i
                G = groups.from_generators([p])
                add(f"swap of inputs {i} and {j}", G, reps.permutation(G))
                s = np.eye(d, dtype=int)[p]  # the same swap, both coordinates negated
                s[[i, j], [j, i]] = -1
                G = groups.from_generators([s.tolist()])
                add(f"swap of inputs {i} and {j} with a sign change", G, reps.defining(G))
    if d <= 6:
        for i in range(d):
            m = np.eye(d, dtype=int)
            m[i, i] = -1
            G = groups.from_generators([m.tolist()])
            add(f"sign flip of input {i}", G, reps.defining(G))
    if d == 2:
        G = groups.so2()
        add("SO(2) rotating the inputs", G, reps.defining(G))
    return cands


def identify(discovered: Any, unit: Any, candidates: Sequence[tuple[str, Any]] | None = None) -> list[Match]:
    """Candidates ranked by agreement with the discovered subspace (equal dimension and smallest
    largest principal angle first). ``discovered`` is a :class:`~symfix.discovery.Discovery` or
    an orthonormal (D, k) basis.

    >>> import numpy as np
    >>> from symfix import units
    >>> Q = np.array([[1, 0, 0, 0], [0, 1, 1, 0], [0, 0, 0, 1]]).T / np.array([1, np.sqrt(2), 1])
    >>> identify(Q, units.neuron(2, 1, "tanh"))[0].name
    'S2 permuting the inputs'
    """
    from scipy.linalg import subspace_angles

    Q = discovered.basis if hasattr(discovered, "basis") else np.asarray(discovered, dtype=np.float64)
    if Q.ndim != 2 or Q.shape[0] != unit.param_dim:
        raise InputError(f"discovered basis must be ({unit.param_dim}, k), got shape {Q.shape}")
    out = []
    for name, P in candidate_problems(unit) if candidates is None else candidates:
        E = P.fixed_subspace()
        B = dense_orthonormal(E)
        if E.dim != Q.shape[1]:
            angle = float(np.pi / 2)
        elif E.dim == 0:
            angle = 0.0
        else:
            angle = float(np.max(subspace_angles(B, Q)))
        out.append(Match(name, E.dim, angle, P))
    return sorted(out, key=lambda m: (m.angle, abs(m.dim - Q.shape[1])))
