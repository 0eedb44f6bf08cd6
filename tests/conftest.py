import numpy as np
import pytest

from symfix import Problem, groups, reps, units


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def finite_catalogue():
    """(name, group) pairs covering every finite constructor."""
    return [
        ("C5", groups.cyclic(5)),
        ("D4", groups.dihedral(4)),
        ("D5", groups.dihedral(5)),
        ("S3", groups.symmetric(3)),
        ("S4", groups.symmetric(4)),
        ("A4", groups.alternating(4)),
        ("C2xC3", groups.direct_product(groups.cyclic(2), groups.cyclic(3))),
        ("rot90", groups.from_generators([[[0, -1], [1, 0]]])),
        ("perm-gens", groups.from_generators([[1, 0, 2, 3], [0, 1, 3, 2]])),
        ("rot45", groups.from_generators([[["sqrt(2)/2", "-sqrt(2)/2"], ["sqrt(2)/2", "sqrt(2)/2"]]])),
    ]


def rep_catalogue(G):
    """Representations of a finite group G exercising every constructor and operation."""
    base = reps.defining(G)
    out = [
        ("defining", base),
        ("trivial2", reps.trivial(G, 2)),
        ("regular", reps.regular(G)),
        ("sum", base + reps.trivial(G)),
        ("tensor", base * base),
        ("hom", base >> base),
        ("dual", base.dual),
    ]
    if G.matrices is None:
        out.append(("perm-hom", reps.hom(reps.permutation(G) * reps.permutation(G), reps.permutation(G))))
    return out


def d4_patch_problem():
    """D4 rotating and reflecting a 3x3 patch (pixel (r, c) at index 3 r + c), invariant tanh neuron."""
    G = groups.from_generators([[6, 3, 0, 7, 4, 1, 8, 5, 2], [2, 1, 0, 5, 4, 3, 8, 7, 6]])
    return Problem(G, reps.permutation(G), reps.trivial(G), units.neuron(9, 1, "tanh"))
