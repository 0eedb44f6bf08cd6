import numpy as np
import pytest

from symfix import InputError, Problem, SymfixError, groups, reps, train, units


def c2_problem():
    G = groups.cyclic(2)
    V = reps.permutation(G)
    return Problem(G, V, V, units.matrix_unit(2, 2, "sigmoid"))


def teacher_data(P, teacher, n_batches, batch, rng):
    out = []
    for _ in range(n_batches):
        x = 4.0 * rng.standard_normal((batch, 2))
        y = P.unit.forward(x, teacher).mean(0)
        out.append((x, y))
    return out


ARBITRARY = 0.5 * np.array([[-1, 0, 0, 0.5], [0.5, 1, 0, 1], [-0.5, 0.3, 1, 0], [0, -1, -0.5, 1], [0.7, -0.7, 0.5, 0.7]])


def test_one_step_by_hand_matches_train(rng):
    P = c2_problem()
    N, lr, tau = 6, 0.7, 0.01
    th = rng.standard_normal((N, 4))
    x = rng.standard_normal((5, 2))
    y = rng.standard_normal((5, 2))
    # by hand: Φ(x_b) = mean_i sigmoid(z_i x_b); ∂/∂z_i of mean_b ||Φ − y||² = (1/N) mean_b 2 (Φ−y) ⊙ σ' x_bᵀ
    z = th.reshape(N, 2, 2)
    pre = np.einsum("nij,bj->nbi", z, x)
    sig = 1 / (1 + np.exp(-pre))
    phi = sig.mean(0)
    r = 2 * (phi - y)  # ∇₁ℓ
    dsig = sig * (1 - sig)
    grad_unit = np.einsum("bi,nbi,bj->nij", r, dsig, x) / x.shape[0]  # mean_b Dσᵀ ∇ℓ
    expected = th - (lr / N) * (grad_unit.reshape(N, 4) + 2 * tau * th)
    got = train(P, th, [(x, y)], scheme="vanilla", lr=lr, tau=tau).particles
    assert np.abs(got - expected).max() < 1e-12


@pytest.mark.parametrize("teacher", ["arbitrary", "symmetric"])
def test_si_start_orbit_da_fa_ea_coincide_and_stay_in_EG(teacher, rng):
    P = c2_problem()
    E = P.fixed_subspace()
    t = ARBITRARY if teacher == "arbitrary" else E.project(ARBITRARY)
    data = teacher_data(P, t, 40, 20, rng)
    th0 = E.project(0.25 * rng.standard_normal((30, 4)))
    kw = dict(lr=5.0, tau=1e-4, beta=1e-6, noise_subspace=E, seed=3)
    runs = {s: train(P, th0, data, scheme=s, **kw).particles for s in ("da-orbit", "fa", "ea")}
    assert np.abs(runs["da-orbit"] - runs["ea"]).max() < 1e-10
    assert np.abs(runs["fa"] - runs["ea"]).max() < 1e-10
    for th in runs.values():
        assert np.abs(E.project(th) - th).max() < 1e-12


def test_vanilla_leaves_EG_with_arbitrary_teacher(rng):
    P = c2_problem()
    E = P.fixed_subspace()
    data = teacher_data(P, ARBITRARY, 200, 20, rng)
    th0 = E.project(0.25 * rng.standard_normal((10, 4)))
    th = train(P, th0, data, scheme="vanilla", lr=50.0, tau=1e-4).particles
    escape = np.mean(np.sum((th - E.project(th)) ** 2, axis=1))
    rmd2 = escape / (2 * np.mean(np.sum(th**2, axis=1)) + 2 * np.mean(np.sum(E.project(th) ** 2, axis=1)))
    assert rmd2 > 1e-2


def test_deterministic_without_noise(rng):
    P = c2_problem()
    data = teacher_data(P, ARBITRARY, 5, 8, rng)
    th0 = rng.standard_normal((7, 4))
    a = train(P, th0, data, scheme="vanilla", lr=1.0, seed=1).particles
    b = train(P, th0, data, scheme="vanilla", lr=1.0, seed=2).particles
    assert np.array_equal(a, b)


def test_fa_model_is_equivariant(rng):
    P = c2_problem()
    th = rng.standard_normal((9, 4))
    mats = [P.matrices(g) for g in P.group.elements()]

    def fa(x):
        outs = [P.unit.forward(x @ a.T, th).mean(0) @ b for a, b, _ in mats]  # ρ̂_g^{-1} = ρ̂_gᵀ
        return sum(outs) / len(outs)

    from symfix.testing import assert_equivariant

    assert assert_equivariant(fa, P.rho_in, P.rho_out, dtype=np.float64) < 1e-12
    with pytest.raises(SymfixError):  # negative control: the plain model is not equivariant
        assert_equivariant(lambda x: P.unit.forward(x, th).mean(0), P.rho_in, P.rho_out)


def test_bad_input_rejected_before_training(rng):
    P = c2_problem()
    good = [(np.zeros((3, 2)), np.zeros((3, 2)))]
    with pytest.raises(InputError, match="shape"):
        train(P, np.zeros((4, 3)), good, scheme="vanilla", lr=1.0)
    with pytest.raises(InputError, match="batch 0"):
        train(P, np.zeros((4, 4)), [(np.zeros((3, 3)), np.zeros((3, 2)))], scheme="vanilla", lr=1.0)
    with pytest.raises(InputError, match="NaN"):
        train(P, np.zeros((4, 4)), [(np.full((3, 2), np.nan), np.zeros((3, 2)))], scheme="vanilla", lr=1.0)
    with pytest.raises(InputError, match="scheme"):
        train(P, np.zeros((4, 4)), good, scheme="magic", lr=1.0)
    with pytest.raises(SymfixError, match="step 0") as info:
        train(P, np.ones((4, 4)), [(np.full((3, 2), 1e3), np.full((3, 2), 1e300))], scheme="vanilla", lr=1e300)
    assert np.array_equal(info.value.particles, np.ones((4, 4)))
