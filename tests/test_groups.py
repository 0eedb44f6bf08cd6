import math
from functools import reduce

import numpy as np
import pytest

from symfix import GroupError, InputError, groups

from .conftest import finite_catalogue


@pytest.mark.parametrize("name,G", finite_catalogue())
def test_elements_match_order_and_group_laws(name, G, rng):
    elems = G.elements()
    assert len(elems) == G.order == len(set(elems))
    assert elems[0] == G.identity
    for _ in range(10):
        a, b, c = (G.sample(rng) for _ in range(3))
        assert G.contains(a)
        assert G.compose(G.compose(a, b), c) == G.compose(a, G.compose(b, c))
        assert G.compose(a, G.inverse(a)) == G.identity


@pytest.mark.parametrize("name,G", finite_catalogue())
def test_words_rebuild_elements(name, G, rng):
    for _ in range(10):
        g = G.sample(rng)
        w = G.word(g)
        assert all(i >= 0 for i in w)
        assert reduce(G.compose, [G.generators[i] for i in w], G.identity) == g


def test_words_for_groups_too_large_to_enumerate(rng):
    G = groups.symmetric(9)  # 362880 > enumeration cap: words come from Schreier-Sims
    for _ in range(5):
        g = G.sample(rng)
        assert G.word_element(G.word(g)) == g
    with pytest.raises(GroupError):
        G.elements()


def test_catalogue_orders():
    assert [groups.cyclic(n).order for n in (1, 2, 7)] == [1, 2, 7]
    assert groups.dihedral(6).order == 12
    assert groups.symmetric(5).order == 120 == groups.symmetric(5).perm_group.order()
    assert groups.alternating(5).order == 60 == groups.alternating(5).perm_group.order()
    assert groups.symmetric(12).order == math.factorial(12)
    assert groups.direct_product(groups.dihedral(3), groups.cyclic(4)).order == 24


def test_sampling_is_uniform(rng):
    G = groups.dihedral(3)
    counts = {}
    n = 6000
    for _ in range(n):
        g = G.sample(rng)
        counts[g] = counts.get(g, 0) + 1
    assert len(counts) == 6
    expected = n / 6
    chi2 = sum((c - expected) ** 2 / expected for c in counts.values())
    assert chi2 < 25  # 5 degrees of freedom; p < 1e-4 under uniformity


def test_matrix_group_closure_and_cap():
    G = groups.from_generators([[[0, -1], [1, 0]], [[1, 0], [0, -1]]])
    assert G.order == 8
    with pytest.raises(GroupError, match="do not close"):  # finite, but larger than the cap
        groups.from_generators([[[0, -1], [1, 0]], [[1, 0], [0, -1]]], cap=5)
    with pytest.raises(GroupError, match="singular"):
        groups.from_generators([[[1, 0], [0, 0]]])


@pytest.mark.parametrize("G", [groups.so2(), groups.so3(), groups.orthogonal(3)])
def test_lie_groups_sample_haar_elements(G, rng):
    for _ in range(20):
        g = G.sample(rng)
        assert np.allclose(g @ g.T, np.eye(G.n), atol=1e-12)
        assert G.contains(g)
    dets = [np.linalg.det(G.sample(rng)) for _ in range(200)]
    if G.connected:
        assert np.allclose(dets, 1.0)
    else:
        assert 50 < sum(d < 0 for d in dets) < 150
    assert G.order is None and not G.is_finite
    with pytest.raises(GroupError):
        G.elements()


def test_so3_haar_mean_is_zero(rng):
    # for Haar measure E[g] = 0 (no invariant vectors in the defining representation)
    G = groups.so3()
    mean = np.mean([G.sample(rng) for _ in range(4000)], axis=0)
    assert np.abs(mean).max() < 0.05


def test_bad_catalogue_arguments():
    for bad in (0, -1, 2.5, "3", True):
        with pytest.raises(InputError):
            groups.cyclic(bad)
    with pytest.raises(InputError):
        groups.dihedral(2)
    with pytest.raises(InputError):
        groups.direct_product(groups.so2(), "cyclic(2)")  # a Lie factor is fine (ProductGroup); a string is not
    with pytest.raises(InputError):
        groups.from_generators([])


def test_equality_is_structural_and_repr_round_trips():
    ns = {k: getattr(groups, k) for k in groups.__all__}
    for _, G in finite_catalogue():
        assert eval(repr(G), ns) == G
        assert hash(eval(repr(G), ns)) == hash(G)
    assert eval(repr(groups.so3()), ns) == groups.so3()
    assert groups.cyclic(2) != groups.symmetric(2)


def test_membership(rng):
    G = groups.dihedral(5)
    S = groups.symmetric(5)
    outside = [g for g in S.elements() if not G.contains(g)]
    assert len(outside) == 120 - 10
    big = groups.symmetric(5000)
    assert big.contains(big.sample(rng))
    assert not big.contains(groups.symmetric(4).identity)


def test_sample_draws_do_not_depend_on_whether_order_was_read():
    import numpy as np

    from symfix import groups

    a, b = groups.symmetric(5), groups.symmetric(5)
    _ = a.order  # read on one copy only
    ra, rb = np.random.default_rng(7), np.random.default_rng(7)
    assert [a.sample(ra) for _ in range(10)] == [b.sample(rb) for _ in range(10)]
