import numpy as np
import pytest

from symfix import InputError, RepresentationError, groups, reps

from .conftest import finite_catalogue, rep_catalogue

CASES = [(gn, G, rn, r) for gn, G in finite_catalogue() for rn, r in rep_catalogue(G)]


@pytest.mark.parametrize("gname,G,rname,rep", CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_homomorphism_on_sampled_elements(gname, G, rname, rep, rng):
    for _ in range(6):
        a, b = G.sample(rng), G.sample(rng)
        lhs = rep.matrix(G.compose(a, b))
        assert np.allclose(lhs, rep.matrix(a) @ rep.matrix(b), atol=1e-12)
    assert np.allclose(rep.matrix(G.identity), np.eye(rep.dim))


@pytest.mark.parametrize("gname,G,rname,rep", CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_character_is_trace(gname, G, rname, rep, rng):
    for _ in range(4):
        g = G.sample(rng)
        assert abs(rep.character(g) - np.trace(rep.matrix(g))) < 1e-9


@pytest.mark.parametrize("G", [groups.so2(), groups.so3(), groups.orthogonal(2)])
def test_lie_reps_are_homomorphisms(G, rng):
    V = reps.defining(G)
    for rep in (V, V * V, V >> (V + reps.trivial(G)), (V * V).dual):
        for _ in range(4):
            a, b = G.sample(rng), G.sample(rng)
            assert np.allclose(rep.matrix(a @ b), rep.matrix(a) @ rep.matrix(b), atol=1e-10)


def test_explicit_lie_rep_via_exponential(rng):
    # the weight-2 representation of SO(2): rotation by 2*angle
    G = groups.so2()
    rep = reps.from_images(G, [], lie_images=[[[0, -2], [2, 0]]])
    for _ in range(5):
        g = G.sample(rng)
        assert np.allclose(rep.matrix(g), g @ g, atol=1e-10)
    with pytest.raises(RepresentationError):
        reps.from_images(groups.so3(), [], lie_images=[[[0, -1], [1, 0]], [[0, 0], [0, 0]], [[0, 0], [0, 0]]])


def test_from_images_rejects_non_homomorphisms():
    with pytest.raises(RepresentationError, match="homomorphism"):
        reps.from_images(groups.cyclic(3), [[[-1]]])
    with pytest.raises(RepresentationError, match="singular"):
        reps.from_images(groups.cyclic(2), [[[0, 0], [0, 1]]])
    with pytest.raises(InputError, match="generators"):
        reps.from_images(groups.dihedral(3), [[[1]]])
    with pytest.raises(InputError):
        reps.permutation(groups.from_generators([[[0, -1], [1, 0]]]))
    with pytest.raises(InputError, match="different groups"):
        reps.permutation(groups.cyclic(3)) + reps.permutation(groups.symmetric(3))


def test_repr_round_trips_and_values_are_immutable():
    ns = {k: getattr(reps, k) for k in reps.__all__} | {k: getattr(groups, k) for k in groups.__all__}
    G = groups.dihedral(4)
    V = reps.permutation(G)
    sign = reps.from_images(G, [[[1]], [[-1]]])
    for r in (V, V + sign, V * V.dual, reps.hom(V, sign), reps.regular(G), reps.trivial(G, 3), sign.dual.dual):
        r2 = eval(repr(r), ns)
        assert r2 == r and hash(r2) == hash(r)
    with pytest.raises(AttributeError):
        V.group = groups.cyclic(2)
    assert (V + V) + V == V + (V + V)
    assert V.dual.dual == V


def test_orthogonality_check():
    G = groups.cyclic(2)
    assert reps.permutation(G).is_orthogonal()
    skew = reps.from_images(G, [[[1, 1], [0, -1]]])  # an involution that is not orthogonal
    assert not skew.is_orthogonal()
    assert reps.defining(groups.so3()).is_orthogonal()


def test_lie_images_that_no_compact_group_has_are_refused():
    """Issue 17: a symmetric generator (real eigenvalues ±1) or a nilpotent one (a Jordan block)
    cannot be the Lie image of SO(2); a skew one, also rescaled, is accepted."""
    from symfix import RepresentationError

    for bad, why in (([[0, 1], [1, 0]], "real part"), ([[0, 1], [0, 0]], "not diagonalisable")):
        with pytest.raises(RepresentationError, match=why):
            reps.from_images(groups.so2(), [], lie_images=[bad])
    for good in ([[0, -1], [1, 0]], [[0, "-1/2"], ["1/2", 0]]):
        assert reps.from_images(groups.so2(), [], lie_images=[good]).dim == 2
