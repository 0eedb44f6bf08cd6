"""Discovery from data: planted problem, noise control, bad input."""

import numpy as np
import pytest

from symfix import InputError, Problem, groups, reps, units
from symfix.discovery import default_start, discover

from .conftest import d4_patch_problem


def c2_neuron():
    G = groups.cyclic(2)
    return Problem(G, reps.permutation(G), reps.trivial(G), units.neuron(2, 1, "tanh"))


def wi_data(P, n, rng):
    T = np.array([[1.0, 0.8, -0.5, 0.2], [-0.7, -0.3, 1.1, 0.1]])
    T = np.concatenate([T, P.act(P.group.generators[0], T)])
    X = rng.standard_normal((n, 2))
    return X, P.unit.forward(X, T).mean(0)


def orbit_teacher_data(P, k, n, seed, scale=1.0):
    """(X, Y) from a WI teacher: k random units with their whole G-orbits, X ~ N(0, scale² I)."""
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((k, P.param_dim))
    T = np.concatenate([P.act(g, base) for g in P.group.elements()])
    X = scale * rng.standard_normal((n, P.unit.d))
    return X, P.unit.forward(X, T).mean(0)


def test_planted_c2_neuron_finds_EG_without_the_group():
    P = c2_neuron()
    X, Y = wi_data(P, 2000, np.random.default_rng(1))
    r = discover(P.unit, (X, Y), n_particles=16, horizon=100, seed=0)
    E = P.fixed_subspace()
    assert r.dim == E.dim == 3
    assert r.exact_basis is not None and r.angle_to(E) < 1e-9  # rationalised onto E^G itself
    assert r.status == "exact" and r.samples == 2000 and r.samples_needed is None
    assert r.summary().startswith("exact")
    # the verdict: the usual and the probe particles at E^G, both quiet
    assert [h["probe"] for h in r.history[-2:]] == [False, True]
    assert all(h["decided_by"] == "verification" and h["added"] == 0 for h in r.history[-2:])
    assert np.allclose(r.basis.T @ r.basis, np.eye(3), atol=1e-12)
    assert [h["dim"] for h in r.history][0] == 2  # E_0 = span(a, b) for a scalar output
    # the paper's escape of a short free run: large from E_0, small (finite data only) from E^G
    assert r.history[0]["escape"] > 100 * r.history[-1]["escape"] >= 0
    assert r.seconds > 0


def test_planted_s3_neuron():
    G = groups.symmetric(3)
    P = Problem(G, reps.permutation(G), reps.trivial(G), units.neuron(3, 1, "tanh"))
    r = discover(P.unit, orbit_teacher_data(P, 3, 5000, 0), n_particles=16, horizon=100, seed=0)
    assert r.dim == 3 and r.angle_to(P.fixed_subspace()) < 1e-9


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_data_without_symmetry_gives_the_full_space(seed):
    """The last w-direction is a curvature (second-order) effect; with 50 000 samples it beats
    both the t threshold and the leak bound of the first direction's estimation error."""
    P = c2_neuron()
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((50_000, 2))
    T = np.array([[1.0, 0.8, -0.5, 0.2], [-0.7, -0.3, 1.1, 0.1]])  # no swap images: not invariant
    r = discover(P.unit, (X, P.unit.forward(X, T).mean(0)), n_particles=16, horizon=100, seed=0)
    assert r.dim == P.param_dim and r.status == "exact"
    last = r.history[-1]
    assert last["added"] == 1 and last["t"] > last["threshold"] and last["signal"] > last["leak_bound"] > 0


def _c2_matrix_data(seed, n):
    G = groups.cyclic(2)
    V = reps.permutation(G)
    P = Problem(G, V, V, units.matrix_unit(2, 2, "sigmoid"))
    return (P, *orbit_teacher_data(P, 3, n, seed, scale=4.0))


def _inside(r, E):
    """The found basis lies in E (orthogonal projection changes nothing)."""
    return np.abs(E.project(r.basis.T).T - r.basis).max() < 1e-9


def test_leak_guard_then_refinement_recover_the_exact_EG_across_seeds():
    """C2 matrix unit, random WI teacher, 30 000 samples, teacher/data seeds 0-7, no closure.
    Measured: 5 of 8 exact E^G (in seeds 1 and 2 the second direction is too rough to snap;
    the stop is refined and snapped), seeds 3 and 4 inexact at dim 1, seed 7 inexact at
    0.058 rad. The assertions: at least 4 of 8 exact E^G, the refinement taken and successful
    at least once, and no exact result that is not E^G in any seed."""
    exact_EG, refined = 0, 0
    for seed in range(8):
        P, X, Y = _c2_matrix_data(seed, 30_000)
        r = discover(P.unit, (X, Y), n_particles=8, lr=5.0, horizon=50, seed=0, closure="none")
        E = P.fixed_subspace()
        right = r.dim == E.dim and r.angle_to(E) < 1e-9
        assert r.status != "exact" or right, seed  # never a wrong exact subspace
        if r.status == "inexact":
            assert r.exact_basis is None and r.angle_error > 0 and r.samples_needed == 4 * 30_000
        if right and r.status == "exact":
            exact_EG += 1
            refined += "refinement" in [h["decided_by"] for h in r.history]
    assert exact_EG >= 4 and refined >= 1, (exact_EG, refined)


def test_without_the_leak_guard_the_leak_inflates_the_dimension(monkeypatch):
    """Negative control for the test above: with the leak bound switched off, the same data
    give the full space."""
    import symfix.discovery._steps as steps

    monkeypatch.setattr(steps, "LEAK_Z", 0.0)
    P, X, Y = _c2_matrix_data(1, 30_000)
    assert discover(P.unit, (X, Y), n_particles=8, lr=5.0, horizon=50, seed=0, closure="none").dim == P.param_dim


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_refinement_does_not_snap_data_without_the_symmetry(seed):
    """At 5 000 samples the no-symmetry control stops at 3 directions (the last one is a
    curvature effect under the leak bound); the refinement must not present that as an exact
    subspace: there is no leak to remove, so the snap is refused."""
    P = c2_neuron()
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((5000, 2))
    T = np.array([[1.0, 0.8, -0.5, 0.2], [-0.7, -0.3, 1.1, 0.1]])
    r = discover(P.unit, (X, P.unit.forward(X, T).mean(0)), n_particles=16, horizon=100, seed=0)
    assert r.dim == 3 and r.exact_basis is None and r.status == "inexact"
    assert r.history[-1]["decided_by"] == "stop"


def test_pure_noise_at_small_n_does_not_inflate_the_dimension():
    rng = np.random.default_rng(2)
    P = c2_neuron()
    X, Y = rng.standard_normal((50, 2)), 0.1 * rng.standard_normal((50, 1))
    r = discover(P.unit, (X, Y), n_particles=4, horizon=50, seed=0)
    assert r.dim == 2  # the documented E_0 = span(a, b): nothing escapes beyond the noise


def test_default_start_per_unit():
    assert default_start(units.neuron(3, 1)).shape == (5, 2)
    assert default_start(units.neuron(3, 2)).shape == (6, 1)
    assert default_start(units.matrix_unit(2, 2)).shape == (4, 0)


def test_bad_input_names_the_fix():
    u = units.neuron(2, 1, "tanh")
    with pytest.raises(InputError, match="shape"):
        discover(u, (np.zeros((10, 3)), np.zeros((10, 1))))
    with pytest.raises(InputError, match="NaN"):
        discover(u, (np.full((10, 2), np.nan), np.zeros((10, 1))))
    with pytest.raises(InputError, match="at least 8"):
        discover(u, (np.zeros((2, 2)), np.zeros((2, 1))))
    with pytest.raises(InputError, match="pair"):
        discover(u, np.zeros((10, 2)))
    with pytest.raises(InputError, match="n_particles"):
        discover(u, (np.zeros((10, 2)), np.zeros((10, 1))), n_particles=0)
    with pytest.raises(InputError, match="unknown option"):
        discover(u, (np.zeros((10, 2)), np.zeros((10, 1))), particles=8)
    with pytest.raises(InputError, match="max_samples"):
        discover(u, (np.zeros((10, 2)), np.zeros((10, 1))), n_samples=1000, max_samples=100)
    with pytest.raises(InputError, match="settings"):
        discover(u, (np.zeros((10, 2)), np.zeros((10, 1))), {"n_particles": 3})


def test_identify_ranks_the_true_symmetry_first_and_rejects_others():
    from symfix.discovery import identify

    P = c2_neuron()
    X, Y = wi_data(P, 2000, np.random.default_rng(1))
    r = discover(P.unit, (X, Y), n_particles=16, horizon=100, seed=0)
    ranked = identify(r, P.unit)
    assert ranked[0].angle < 1e-9 and "inputs" in ranked[0].name
    flips = [m for m in ranked if m.name.startswith("sign flip")]
    assert flips and all(m.angle > 0.1 for m in flips)  # negative control
    assert len(r.snapshots) == len(r.history) and r.snapshots[0]["particles"].shape == (16, 4)


def test_sampler_input_is_drawn_reproducibly():
    P = c2_neuron()
    T = np.array([[1.0, 0.8, -0.5, 0.2], [-0.7, -0.3, 1.1, 0.1]])
    T = np.concatenate([T, P.act(P.group.generators[0], T)])

    def sampler(rng, n):
        X = rng.standard_normal((n, 2))
        return X, P.unit.forward(X, T).mean(0)

    a = discover(P.unit, sampler, n_samples=2000, n_particles=16, horizon=100, seed=0)
    b = discover(P.unit, sampler, n_samples=2000, n_particles=16, horizon=100, seed=0)
    assert a.dim == 3 and np.array_equal(a.basis, b.basis)
    with pytest.raises(InputError, match="sampler failed"):
        discover(P.unit, lambda rng, n: 1 / 0, n_samples=100)


def test_data_symmetry_larger_than_the_guess_is_found():
    # S4-invariant data; a user guessing the swap of the first two inputs would keep 5 directions
    S4 = groups.symmetric(4)
    truth = Problem(S4, reps.permutation(S4), reps.trivial(S4), units.neuron(4, 1, "tanh"))
    swap = groups.from_generators([[1, 0, 2, 3]])
    guess = Problem(swap, reps.permutation(swap), reps.trivial(swap), units.neuron(4, 1, "tanh"))
    r = discover(truth.unit, orbit_teacher_data(truth, 3, 5000, 0), n_particles=16, horizon=100, seed=0)
    assert r.dim == truth.fixed_subspace().dim == 3 < guess.fixed_subspace().dim
    assert r.angle_to(truth.fixed_subspace()) < 1e-9


def test_direction_standard_error_is_calibrated_and_shrinks_with_the_noise():
    """The per-fold spread predicts the real angle error of the all-fold direction estimate."""
    from symfix.discovery._steps import direction_error as _direction_error, snap_tolerance as _snap_tolerance

    rng = np.random.default_rng(0)
    K, rows, D = 16, 12, 6
    u = np.zeros(D)
    u[1] = 1.0
    pattern = rng.standard_normal(rows)
    for noise in (0.3, 0.03):
        actual, predicted = [], []
        for _ in range(200):
            O = pattern[None, :, None] * u[None, None, :] + noise * rng.standard_normal((K, rows, D))
            vt = np.linalg.svd(O.mean(0), full_matrices=False)[2]
            actual.append(np.arccos(min(1.0, abs(vt[0] @ u))))
            predicted.append(_direction_error(O, vt, 1))
        rms_actual, mean_pred = np.sqrt(np.mean(np.square(actual))), np.mean(predicted)
        assert 0.5 < mean_pred / rms_actual < 2.0, (noise, mean_pred, rms_actual)
    # negative control: the prediction follows the noise level (10x less noise, ~10x smaller error)
    O_lo = pattern[None, :, None] * u[None, None, :] + 0.01 * rng.standard_normal((K, rows, D))
    O_hi = pattern[None, :, None] * u[None, None, :] + 0.1 * rng.standard_normal((K, rows, D))
    e_lo = _direction_error(O_lo, np.linalg.svd(O_lo.mean(0))[2], 1)
    e_hi = _direction_error(O_hi, np.linalg.svd(O_hi.mean(0))[2], 1)
    assert 5 < e_hi / e_lo < 20
    assert _snap_tolerance(1e-3, 5e-2) == pytest.approx(4e-3) and _snap_tolerance(1.0, 5e-2) == 5e-2


def test_planted_d4_patch_with_orbit_closure_across_seeds():
    """D4 on a 3x3 patch, invariant teacher, 40 000 samples, teacher/data seeds 0-9. The linear
    correlation u lies in E^G and its equal entries show centre, edges and corners, so with
    closure="orbits" one direction gives E^G exactly. When two orbits of u have values closer
    than the noise they form one class: a rational subspace of E^G, short of it. The
    assertions: at least 5 of 10 exact E^G, identified as the 3x3 patch, every rational result
    inside E^G, and no exact status for a subspace that is not E^G."""
    from symfix.discovery import identify

    P = d4_patch_problem()
    E = P.fixed_subspace()
    exact_EG = 0
    for seed in range(10):
        X, Y = orbit_teacher_data(P, 3, 40_000, seed)
        r = discover(P.unit, (X, Y), n_particles=16, horizon=100, seed=0, closure="orbits")
        right = r.dim == E.dim == 5 and r.angle_to(E) < 1e-9
        if r.exact_basis is not None:
            assert _inside(r, E), seed  # a closure that split an orbit would leave E^G
        assert r.status != "exact" or right, seed
        if right and r.status == "exact":
            exact_EG += 1
            assert r.history[0]["added"] == 1 and r.history[0]["closure"] == 2
            assert "3x3 patch" in identify(r, P.unit)[0].name
    assert exact_EG >= 5, exact_EG


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_orbit_closure_on_data_without_symmetry_gives_the_full_space(seed):
    P = c2_neuron()
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((50_000, 2))
    T = np.array([[1.0, 0.8, -0.5, 0.2], [-0.7, -0.3, 1.1, 0.1]])
    r = discover(P.unit, (X, P.unit.forward(X, T).mean(0)), n_particles=16, horizon=100, seed=0, closure="orbits")
    assert r.dim == P.param_dim


def test_orbit_closure_adds_nothing_to_pure_noise():
    rng = np.random.default_rng(2)
    P = c2_neuron()
    X, Y = rng.standard_normal((50, 2)), 0.1 * rng.standard_normal((50, 1))
    assert discover(P.unit, (X, Y), n_particles=4, horizon=50, seed=0, closure="orbits").dim == 2


def test_closure_must_be_known():
    u = units.neuron(2, 1, "tanh")
    with pytest.raises(InputError, match="closure"):
        discover(u, (np.zeros((10, 2)), np.zeros((10, 1))), closure="signs")


def test_orbit_closure_follows_sign_changes():
    """C2 acting by x -> (-x2, -x1): E^G = span(a, w1 - w2, b); with closure="signed-orbits"
    the classes are taken up to sign, so the hull is that signed subspace, identified as a
    swap with a sign change."""
    from symfix.discovery import identify

    G = groups.from_generators([[[0, -1], [-1, 0]]])
    P = Problem(G, reps.defining(G), reps.trivial(G), units.neuron(2, 1, "tanh"))
    data = orbit_teacher_data(P, 3, 20_000, 0)
    r = discover(P.unit, data, n_particles=16, horizon=100, seed=0, closure="signed-orbits")
    E = P.fixed_subspace()
    assert r.dim == E.dim == 3 and r.angle_to(E) < 1e-9
    assert [str(x) for x in r.exact_basis[1]] == ["0", "1", "-1", "0"]
    assert identify(r, P.unit)[0].name == "swap of inputs 0 and 1 with a sign change"
    assert r.history[0].get("closure") == 0  # the first direction, snapped by its signed class
    # negative control: the unsigned closure takes w1 and w2 (opposite values) as two orbits,
    # so the wrong assumption on the action gives the full space
    assert discover(P.unit, data, n_particles=16, horizon=100, seed=0, closure="orbits").dim == 4


def _sampler(P, T, scale=1.0):
    def sampler(rng, n):
        X = scale * rng.standard_normal((n, P.unit.d))
        return X, P.unit.forward(X, T).mean(0)

    return sampler


def _orbit_teacher(P, seed):
    base = np.random.default_rng(1000 + seed).standard_normal((3, P.param_dim))
    return np.concatenate([P.act(g, base) for g in P.group.elements()])


@pytest.mark.parametrize("problem", ["c2-neuron", "d4-patch"])
def test_defaults_are_exact_across_seeds(problem):
    """Default settings (closure="auto", 320 000 samples first, more while not exact) on planted
    problems, teacher/data seeds 0-5. The benchmark (benchmarks/discovery/run.py, 20 seeds)
    measured: C2 neuron 19 of 20 exact, 1 inexact; D4 patch 19 of 20 exact, 1 inexact; no
    wrong exact in either. Asserted: at least 4 of 6 exact and right (the measured 19 of 20
    with a binomial margin) and never an exact status at a wrong subspace."""
    P = c2_neuron() if problem == "c2-neuron" else d4_patch_problem()
    E = P.fixed_subspace()
    right_exact = 0
    for seed in range(6):
        r = discover(P.unit, _sampler(P, _orbit_teacher(P, seed)), seed=seed)
        right = r.dim == E.dim and r.angle_to(E) < 1e-9
        assert r.status in ("exact", "partial", "inexact")
        assert right or r.status != "exact", (seed, r.dim, r.reason)
        right_exact += r.status == "exact" and right
    assert right_exact >= 4, right_exact


@pytest.mark.parametrize("seed", [0, 1])
def test_without_closure_the_curvature_only_directions_are_reported_not_hidden(seed):
    """D4 patch with closure="none": the last two directions are curvature-only (module
    docstring), so discovery cannot reach E^G from 20 000 samples; the status must say so
    (partial or inexact, with the samples that would decide), never exact."""
    P = d4_patch_problem()
    r = discover(P.unit, _sampler(P, _orbit_teacher(P, seed)), seed=seed, closure="none", n_samples=20_000,
                 max_samples=20_000, n_particles=16, horizon=100)
    assert r.status in ("partial", "inexact") and r.dim < P.fixed_subspace().dim
    assert r.samples_needed is not None and r.samples_needed > r.samples == 20_000
    assert str(r.samples_needed) in r.reason and r.summary().startswith(r.status)


def test_a_sampler_is_drawn_again_while_the_status_is_not_exact():
    P = d4_patch_problem()
    r = discover(P.unit, _sampler(P, _orbit_teacher(P, 1)), seed=1, closure="none", n_samples=10_000,
                 max_samples=20_000, n_particles=16, horizon=100)
    assert [a["samples"] for a in r.attempts] == [10_000, 20_000] and r.samples == 20_000
    assert r.attempts[0]["status"] != "exact"
    # with fixed data there is nothing to draw: one attempt
    X, Y = _sampler(P, _orbit_teacher(P, 1))(np.random.default_rng(1), 10_000)
    fixed = discover(P.unit, (X, Y), seed=1, closure="none", n_particles=16, horizon=100)
    assert len(fixed.attempts) == 1 and fixed.samples == 10_000


def test_a_refuted_closure_hypothesis_is_dropped(monkeypatch):
    """Negative control of the auto closure: a hull that is not inside E^G (span(a, w1, w2),
    which holds the antisymmetric w1 - w2) is proposed; the test at it must find the way out, discovery
    must go back to the found subspace, never propose that hull again, and end at E^G."""
    import symfix.discovery._steps as steps

    P = c2_neuron()
    wrong = np.eye(4)[:, :3]  # span(a, w1, w2): not inside E^G (w1 - w2 is not invariant)
    calls = []
    real = steps.closure_hypothesis

    def propose(Q, err, mode, rejected):
        calls.append(len(rejected))
        if Q.shape[1] == 3 and not rejected:
            return [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]], wrong
        return real(Q, err, mode, rejected)

    monkeypatch.setattr(steps, "closure_hypothesis", propose)
    r = discover(P.unit, wi_data(P, 4000, np.random.default_rng(1)), n_particles=16, horizon=100, seed=0)
    decided = [h["decided_by"] for h in r.history]
    assert "closure" in decided and "closure rejected" in decided
    assert r.status == "exact" and r.angle_to(P.fixed_subspace()) < 1e-9


def test_settings_object_and_options():
    from symfix.discovery import DiscoverySettings

    s = DiscoverySettings(n_particles=8, horizon=20)
    u = units.neuron(2, 1, "tanh")
    X = np.random.default_rng(0).standard_normal((400, 2))
    Y = np.tanh(X.sum(1, keepdims=True))
    a = discover(u, (X, Y), s, seed=0)
    b = discover(u, (X, Y), seed=0, n_particles=8, horizon=20)
    assert np.array_equal(a.basis, b.basis) and a.status == b.status
    assert a.snapshots[0]["particles"].shape == (8, 4)
    for bad in (dict(closure="signs"), dict(quiet=0.7), dict(n_folds=7), dict(train_samples=2), dict(lr=-1.0)):
        with pytest.raises(InputError):
            DiscoverySettings(**bad)
