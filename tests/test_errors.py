"""Bad input raises SymfixError subclasses with a fix hint, and nothing else escapes (fuzzed)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symfix import GroupError, InputError, SymfixError, fixed_point_subspace, groups, reps


@pytest.mark.parametrize(
    "gens,match",
    [
        ([[[1, 0, 0], [0, 1, 0]]], "square"),
        ([[[0, 1], [1, 0]], [[1, 0, 0], [0, 1, 0], [0, 0, 1]]], "different dimensions"),
        ([[[1, 0], [0, 0]]], "singular"),
        ([[1, 1, 0]], "not a permutation"),
        ([], "at least one"),
        ("abc", "list"),
        ([[["x", 0], [0, 1]]], "not a real number|cannot parse"),
        ([np.array([[np.nan, 0], [0, 1.0]])], "NaN"),
        ([[[1, 2], [3]]], "different lengths"),
    ],
)
def test_fixed_point_subspace_bad_input(gens, match):
    with pytest.raises(SymfixError, match=match):
        fixed_point_subspace(gens)


def test_bad_method_and_route_mismatch():
    with pytest.raises(InputError, match="unknown method"):
        fixed_point_subspace([[1, 0]], method="magic")
    with pytest.raises(InputError, match="orbit"):
        fixed_point_subspace([[["1/2", 0], [0, 2]]], method="orbit")
    with pytest.raises(InputError, match="exact"):
        fixed_point_subspace([np.array([[0.6, -0.8], [0.8, 0.6]])], method="exact")
    with pytest.raises(GroupError):
        fixed_point_subspace([np.zeros((2, 2)) + np.array([[1.0, 1.0], [1.0, 1.0]])])


entry = st.one_of(
    st.integers(-3, 3),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=4),
    st.none(),
    st.booleans(),
    st.fractions(max_denominator=5),
)
matrix = st.lists(st.lists(entry, min_size=0, max_size=3), min_size=0, max_size=3)
perm_like = st.lists(st.integers(-2, 4), min_size=0, max_size=5)
gen = st.one_of(matrix, perm_like, entry, st.text(max_size=3))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.lists(gen, max_size=3), gen), st.sampled_from(["auto", "orbit", "exact", "numeric", "bogus"]))
def test_fuzz_fixed_point_subspace_only_raises_symfix_errors(gens, method):
    try:
        E = fixed_point_subspace(gens, method=method)
    except SymfixError:
        return
    assert 0 <= E.dim <= E.ambient_dim


@settings(max_examples=150, deadline=None)
@given(st.lists(gen, max_size=3))
def test_fuzz_group_and_rep_constructors(gens):
    try:
        G = groups.from_generators(gens, cap=200)
        assert 1 <= G.order <= 200 and G.order == len(G.elements())
    except SymfixError:
        G = groups.cyclic(2)
    try:
        r = reps.from_images(G, gens)
    except SymfixError:
        return
    assert r.group == G and len(gens) == len(G.generators)
    assert all(r.matrix(g).shape == (r.dim, r.dim) for g in G.elements()[:4])
