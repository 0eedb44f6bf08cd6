"""Metrics, initial laws, nested clouds, checkpoints, and the mean-field facts of issue 3."""

import numpy as np
import pytest
import torch

from symfix import InputError, Problem, SymfixError, groups, reps, train, units
from symfix.numeric import (
    Checkpoint,
    escape,
    gaussian,
    nested,
    population_risk,
    rmd,
    same_n_floor,
    strongly_invariant,
    w2,
    weakly_invariant,
    wi_distance,
)

ARBITRARY = 0.5 * np.array([[-1, 0, 0, 0.5], [0.5, 1, 0, 1], [-0.5, 0.3, 1, 0], [0, -1, -0.5, 1], [0.7, -0.7, 0.5, 0.7]])


def c2():
    G = groups.cyclic(2)
    V = reps.permutation(G)
    return Problem(G, V, V, units.matrix_unit(2, 2, "sigmoid"))


def wi_teacher(P):
    return np.concatenate([ARBITRARY, P.act(P.group.generators[0], ARBITRARY)])


def batches(P, teacher, n, rng, B=20):
    out = []
    for _ in range(n):
        x = 4.0 * rng.standard_normal((B, 2))
        out.append((x, P.unit.forward(x, teacher).mean(0)))
    return out


# ----------------------------------------------------------------------------------- metrics


def test_escape_closed_form_equals_optimal_transport(rng):
    P = c2()
    E = P.fixed_subspace()
    th = rng.standard_normal((40, 4))
    closed = escape(th, E)
    ot = w2(th, E.project(th))
    assert closed.method == "closed-form" and ot.method == "exact-ot"
    assert abs(closed.w2sq - ot.w2sq) < 1e-10
    assert abs(closed.rmd - ot.rmd) < 1e-10
    # the closed form is the optimum: a different coupling (shuffled) costs more
    perm = rng.permutation(40)
    shuffled = np.mean(np.sum((th - E.project(th)[perm]) ** 2, axis=1))
    assert shuffled > closed.w2sq
    assert escape(E.project(th), E).w2sq < 1e-24


def test_escape_accepts_orthonormal_basis_and_rejects_bad_one(rng):
    P = c2()
    E = P.fixed_subspace()
    th = rng.standard_normal((10, 4))
    assert abs(escape(th, E.orthonormal_basis()).w2sq - escape(th, E).w2sq) < 1e-12
    with pytest.raises(InputError, match="orthonormal"):
        escape(th, 2 * E.orthonormal_basis())


def test_w2_exact_is_a_metric_on_small_clouds(rng):
    a, b, c = (rng.standard_normal((12, 3)) for _ in range(3))
    ab, bc, ac = (np.sqrt(w2(*p).w2sq) for p in ((a, b), (b, c), (a, c)))
    assert ac <= ab + bc + 1e-12
    assert w2(a, a[rng.permutation(12)]).w2sq < 1e-20  # relabelling is free
    assert abs(w2(a, b).w2sq - w2(b, a).w2sq) < 1e-12
    # unequal sizes: a cloud against itself repeated is at distance 0
    assert w2(a, np.concatenate([a, a])).w2sq < 1e-20


def test_sliced_w2_exact_in_one_dimension_and_a_lower_bound(rng):
    a, b = rng.standard_normal((300, 1)), 1.0 + 2 * rng.standard_normal((300, 1))
    exact, sliced = w2(a, b), w2(a, b, exact_max=0, rng=0)
    assert sliced.method == "sliced" and abs(exact.w2sq - sliced.w2sq) < 1e-9
    A, B = rng.standard_normal((200, 4)), rng.standard_normal((200, 4)) + 1.0
    assert w2(A, B, exact_max=0, rng=0).w2sq <= w2(A, B).w2sq + 1e-12


def test_wi_distance_zero_for_orbit_symmetrised_cloud_positive_otherwise(rng):
    P = c2()
    wi = weakly_invariant(P, 30, rng=rng)
    assert wi_distance(wi, P).rmd < 1e-7
    generic = gaussian(P, 30, rng=rng)
    assert wi_distance(generic, P).rmd > 1e-2  # negative control


def test_wi_distance_on_lie_group(rng):
    G = groups.so2()
    V = reps.defining(G)
    P = Problem(G, V, reps.trivial(G), units.neuron(2, 1, "tanh"))
    iso = weakly_invariant(P, 400, rng=rng)
    skew = iso.copy()
    skew[:, 1] += 3.0  # shift w along one axis: far from rotation invariant
    assert wi_distance(iso, P, rng=0).rmd < wi_distance(skew, P, rng=0).rmd


def test_same_n_floor_and_pairwise_rmd(rng):
    floor = same_n_floor(lambda r: r.standard_normal((50, 2)))
    assert 0 < floor.rmd < 0.5
    assert rmd(np.ones((5, 2)), -np.ones((5, 2))) == pytest.approx(1.0)  # W2² = 4, M2 + M2 = 4 + 4


def test_population_risk_zero_at_teacher(rng):
    P = c2()
    t = wi_teacher(P)
    x = rng.standard_normal((100, 2))
    y = P.unit.forward(x, t).mean(0)
    assert population_risk(P, t, x, y) < 1e-30
    assert population_risk(P, t, x, y, scheme="fa") < 1e-30  # a WI teacher is its own average
    assert population_risk(P, ARBITRARY, x, y) > 1e-4


def test_metrics_reject_bad_input():
    with pytest.raises(InputError):
        escape(np.full((3, 4), np.nan), c2().fixed_subspace())
    with pytest.raises(InputError):
        w2(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(InputError):
        escape(np.zeros((3, 5)), c2().fixed_subspace())


# ------------------------------------------------------------------------------ initial laws


def test_initial_laws(rng):
    P = c2()
    E = P.fixed_subspace()
    si = strongly_invariant(P, 100, std=0.25, rng=rng)
    assert np.abs(E.project(si) - si).max() < 1e-12
    assert escape(gaussian(P, 100, std=0.25, rng=rng), E).w2sq > 1e-3
    wi = weakly_invariant(P, 100, rng=rng)
    g = P.group.generators[0]
    assert np.abs(P.act(g, wi[0::2]) - wi[1::2]).max() < 1e-15  # stored orbit by orbit
    with pytest.raises(InputError, match="divisible"):
        weakly_invariant(P, 7, rng=rng)
    with pytest.raises(InputError):
        gaussian(P, 0)
    a = gaussian(P, 10, rng=5)
    assert np.array_equal(a, gaussian(P, 10, rng=5))  # randomness is an explicit argument


def test_nested_clouds_are_prefixes(rng):
    cloud = gaussian(c2(), 100, rng=rng)
    small, mid, big = nested(cloud, [10, 50, 100])
    assert np.array_equal(mid[:10], small) and np.array_equal(big, cloud)
    with pytest.raises(InputError, match="1..100"):
        nested(cloud, [0, 200])


# -------------------------------------------------------------------------------- checkpoints


@pytest.mark.parametrize("scheme", ["vanilla", "da", "ea"])
def test_resume_reproduces_uninterrupted_run_bit_for_bit(scheme, rng, tmp_path):
    P = c2()
    E = P.fixed_subspace()
    data = batches(P, ARBITRARY, 30, rng)
    th0 = gaussian(P, 16, std=0.25, rng=rng)
    kw = dict(scheme=scheme, lr=5.0, tau=1e-3, beta=1e-4, noise_subspace=E if scheme == "vanilla" else None, seed=7)
    full = train(P, th0, data, **kw)
    path = tmp_path / "ck.npz"
    train(P, th0, data[:12], checkpoint_every=6, checkpoint_path=path, **kw)
    resumed = train(P, None, data, resume=path, **kw)
    assert np.array_equal(full.particles, resumed.particles)
    assert full.history == resumed.history
    # in memory, from the result of a shorter run
    part = train(P, th0, data[:20], **kw)
    again = train(P, None, data, resume=part.checkpoint, **kw)
    assert np.array_equal(full.particles, again.particles)


def test_resume_with_other_settings_is_refused(rng, tmp_path):
    P = c2()
    data = batches(P, ARBITRARY, 4, rng)
    r = train(P, gaussian(P, 4, rng=rng), data, scheme="vanilla", lr=1.0)
    with pytest.raises(InputError, match="lr"):
        train(P, None, data, scheme="vanilla", lr=2.0, resume=r.checkpoint)
    with pytest.raises(InputError, match="checkpoint"):
        Checkpoint.load(tmp_path / "missing.npz")


def test_divergence_keeps_last_good_checkpoint(rng):
    P = Problem(groups.cyclic(2), reps.permutation(groups.cyclic(2)), reps.trivial(groups.cyclic(2)), units.neuron(2, 1, "identity"))
    x = np.ones((4, 2))
    data = [(x, np.full((4, 1), 1e6))] * 200
    with pytest.raises(SymfixError, match="step") as info:
        train(P, np.ones((3, 4)), data, scheme="vanilla", lr=3.0, checkpoint_every=2)
    err = info.value
    assert np.all(np.isfinite(err.particles))
    assert err.checkpoint is not None and np.all(np.isfinite(err.checkpoint.particles))


def test_monitor_records_escape(rng):
    P = c2()
    E = P.fixed_subspace()
    r = train(P, strongly_invariant(P, 8, rng=rng), batches(P, ARBITRARY, 5, rng), scheme="ea", lr=1.0, monitor=E)
    assert all(h["escape"] < 1e-24 for h in r.history)


def test_float32_runs_and_stays_close_to_float64(rng):
    P = c2()
    data = batches(P, ARBITRARY, 10, rng)
    th0 = gaussian(P, 8, std=0.25, rng=rng)
    a = train(P, th0, data, scheme="vanilla", lr=1.0, dtype="float32").particles
    b = train(P, th0, data, scheme="vanilla", lr=1.0, dtype=torch.float64).particles
    assert np.abs(a - b).max() < 1e-4
    with pytest.raises(InputError, match="dtype"):
        train(P, th0, data, scheme="vanilla", lr=1.0, dtype="int8")


# ------------------------------------------------------------------------- mean-field facts


def test_vanilla_escape_with_wi_teacher_shrinks_with_n():
    P = c2()
    E = P.fixed_subspace()
    t = wi_teacher(P)
    means = []
    for N in (5, 20, 80):
        es = []
        for seed in range(3):
            r = np.random.default_rng(seed)
            th0 = strongly_invariant(P, N, std=0.25, rng=r)
            run = train(P, th0, batches(P, t, 2 * N, r), scheme="vanilla", lr=50.0, tau=1e-4, beta=1e-6,
                        noise_subspace=E, seed=seed, log_every=0)
            es.append(escape(run.particles, E).w2sq)
        means.append(np.mean(es))
    assert means[0] > means[1] > means[2]
    assert means[2] < means[0] / 100


def population_gradient(P, theta, teacher, n, rng):
    x = torch.as_tensor(4.0 * rng.standard_normal((n, 2)))
    y = P.unit.mean_forward(x, torch.as_tensor(teacher))
    th = torch.as_tensor(theta).requires_grad_(True)
    loss = ((P.unit.mean_forward(x, th) - y) ** 2).sum(-1).mean()
    (g,) = torch.autograd.grad(loss, th)
    return g.numpy() * theta.shape[0]


def test_population_gradient_at_si_law_is_tangent_to_EG_for_symmetric_data(rng):
    P = c2()
    E = P.fixed_subspace()
    th = strongly_invariant(P, 6, std=0.5, rng=rng)
    g = population_gradient(P, th, wi_teacher(P), 400_000, rng)
    off = np.linalg.norm(g - E.project(g)) / np.linalg.norm(g)
    assert off < 2e-2
    # negative control: data without the symmetry (arbitrary teacher) pushes off E^G
    g_bad = population_gradient(P, th, ARBITRARY, 400_000, rng)
    assert np.linalg.norm(g_bad - E.project(g_bad)) / np.linalg.norm(g_bad) > 0.1


def test_fa_on_lie_group_by_quadrature_coincides_with_ea_from_si_start(rng):
    G = groups.so2()
    V = reps.defining(G)
    P = Problem(G, V * V, reps.trivial(G), units.neuron(4, 1, "tanh"))
    E = P.fixed_subspace()
    x = rng.standard_normal((40, 2))
    f = np.einsum("bi,bj->bij", x, x).reshape(40, 4)
    teacher = rng.standard_normal((3, 6))
    y = P.unit.forward(f, teacher).mean(0)
    data = [(f[i : i + 8], y[i : i + 8]) for i in range(0, 40, 8)]
    th0 = strongly_invariant(P, 12, std=0.5, rng=rng)
    kw = dict(lr=2.0, tau=1e-3, beta=1e-6, noise_subspace=E, seed=0)
    fa = train(P, th0, data, scheme="fa", quadrature=16, **kw).particles
    ea = train(P, th0, data, scheme="ea", **kw).particles
    assert np.abs(E.project(fa) - fa).max() < 1e-12
    assert np.abs(fa - ea).max() < 1e-10
    vanilla = train(P, th0, data, scheme="vanilla", **kw).particles  # negative control: leaves E^G
    assert np.abs(E.project(vanilla) - vanilla).max() > 1e-4
    with pytest.raises(InputError, match="quadrature"):
        train(P, th0, data, scheme="fa", quadrature=0, **kw)


def test_progress_bar_goes_to_stderr(rng, capsys):
    P = c2()
    train(P, gaussian(P, 4, rng=rng), batches(P, ARBITRARY, 3, rng), scheme="vanilla", lr=1.0, progress=True)
    out = capsys.readouterr()
    assert out.out == ""
    assert "train vanilla" in out.err and "/3" in out.err  # the bar itself, on stderr
    train(P, gaussian(P, 4, rng=rng), batches(P, ARBITRARY, 3, rng), scheme="vanilla", lr=1.0, progress=False)
    assert capsys.readouterr().err == ""  # control: no bar when disabled


def test_w2_between_unequal_clouds_is_exact_not_sliced():
    """1000 vs 999 particles: exact OT with weights (POT), equal to the assignment on the replicated
    clouds where that is small enough to check."""
    from symfix.numeric import w2

    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((1000, 3)), rng.standard_normal((999, 3)) + 0.5
    d = w2(A, B)
    assert d.method == "exact-ot"
    s = w2(A, B, exact_max=500)  # both clouds above the cap: sliced, a lower bound, and it says so
    assert s.method == "sliced" and s.w2sq <= d.w2sq
    a, b = A[:40], B[:30]  # lcm 120: both routes apply; they agree
    assert w2(a, b, exact_max=10).method == "sliced"
    assert abs(w2(a, b, exact_max=100).w2sq - w2(a, b, exact_max=200).w2sq) <= 1e-10


def test_exponent_fit_covers_the_true_exponent_and_detects_a_bend():
    """Synthetic power laws with multiplicative noise: over 200 repetitions the 95% interval
    contains the true exponent in 90-99% of them, and the lack-of-fit p is uniform-ish (about 5%
    below 0.05); a bent curve (two regimes) gets p < 0.01 in most repetitions (negative control)."""
    from symfix.numeric import exponent_fit

    rng = np.random.default_rng(0)
    n = np.array([10, 30, 100, 300, 1000, 3000])
    cover, small_p, bent_small_p = 0, 0, 0
    for _ in range(200):
        noise = np.exp(0.1 * rng.standard_normal((5, n.size)))
        f = exponent_fit(n, 3.0 * n ** -0.7 * noise)
        cover += f.contains(-0.7)
        small_p += f.lack_of_fit_p < 0.05
        bent = np.where(n < 200, n ** -2.0, 200.0 ** -1.5 * n ** -0.5) * noise
        bent_small_p += exponent_fit(n, bent).lack_of_fit_p < 0.01
    assert 180 <= cover <= 198, cover
    assert small_p <= 25, small_p
    assert bent_small_p >= 190, bent_small_p
