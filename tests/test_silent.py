"""Regression tests for the wrong answers once given without an error (found by fuzzing): each
input quoted in the issue now raises a SymfixError or gives the correct answer."""

from __future__ import annotations

import subprocess
import sys
import tomllib

import numpy as np
import pytest

import symfix
from symfix import Problem, fixed_point_subspace, groups, reps, train, units


def test_uint64_entries_are_exact_not_wrapped():
    m = np.array([[2, 2**64 - 1], [1, 0]], dtype=np.uint64)
    assert fixed_point_subspace([m]).dim == 0  # M v = v has no non-zero solution (det(M - I) != 0)
    assert fixed_point_subspace([[[2, 2**64 - 1], [1, 0]]]).dim == 0
    with pytest.raises(symfix.GroupError, match="determinant"):
        groups.from_generators([m])  # infinite order: refused at once, with its reason
    ok = np.array([[0, 1], [1, 0]], dtype=np.uint64)  # control: a swap in uint64 still works
    assert fixed_point_subspace([ok]).dim == 1 and groups.from_generators([ok]).order == 2


@pytest.mark.parametrize("entry", ["nan", "oo", "-oo", "zoo", "1/0"])
def test_non_finite_string_entries_are_refused(entry):
    with pytest.raises(symfix.InputError):
        fixed_point_subspace([[[entry, 0], [0, 1]]])


def test_maps_that_are_not_homomorphisms_are_refused():
    with pytest.raises(symfix.RepresentationError, match="order 6000"):
        reps.from_images(groups.cyclic(6000), [[[2, 0], [0, 1]]])  # above the 5000-element enumeration
    with pytest.raises(symfix.RepresentationError, match="conjugate"):
        reps.from_images(groups.orthogonal(2), [[[1, 0], [0, 1]]], [[[0, -1], [1, 0]]])
    # controls: genuine representations pass
    assert reps.from_images(groups.cyclic(6000), [[[1]]]).dim == 1
    assert reps.from_images(groups.orthogonal(2), [[[-1, 0], [0, 1]]], [[[0, -1], [1, 0]]]).dim == 2
    assert reps.from_images(groups.orthogonal(2), [[[-1]]], [[[0]]]).dim == 1  # the determinant rep


def test_certify_never_labels_inconsistent_risks_optimal():
    from symfix.discovery import SolverError, check_consistent

    with pytest.raises(SolverError, match="violate"):
        check_consistent(0.0, 0.01, 0.01 - 3.6e-4, 1e-6, 1.0)  # SI below WI by far more than the accuracy
    with pytest.raises(SolverError, match="non-finite"):
        check_consistent(np.inf, np.inf, np.inf, 1e-3, 1.0)
    # within the accuracy (tol = 1e-3): no error, and no certified gap
    assert check_consistent(0.0, 0.01, 0.01 - 3.6e-4, 1e-3, 1.0) == pytest.approx(1e-2)
    G = groups.cyclic(2)
    P = Problem(G, reps.permutation(G), reps.trivial(G), units.neuron(2, 1, "identity"))
    x = np.random.default_rng(0).standard_normal((200, 2))
    from symfix.discovery import certify, orbit_dictionary

    dic = orbit_dictionary(P, [[2.0, 1.0, 0.0, 0.0], [1.0, 0.5, 0.5, 0.0]])
    c = certify(P, x, x[:, :1] + x[:, 1:], dictionary=dic)
    assert c.verdict == "no gap beyond the solver's accuracy" and "no gap" in c.summary()


def _c2():
    G = groups.cyclic(2)
    return Problem(G, reps.permutation(G), reps.trivial(G), units.neuron(2, 1, "tanh"))


@pytest.mark.parametrize("kwargs", [dict(alpha=float("nan")), dict(alpha=0.0), dict(alpha=float("inf")),
                                    dict(n_folds=1), dict(tau=-1.0), dict(std=0.0), dict(std=-1.0),
                                    dict(start=np.full((5, 1), np.nan))])
def test_discover_refuses_settings_that_cannot_be_vouched_for(kwargs):
    from symfix.discovery import discover

    P = _c2()
    X = np.random.default_rng(0).standard_normal((400, 2))
    Y = P.unit.forward(X, np.array([[1.0, 0.5, 0.5, 0.0]])).mean(0)
    if "start" in kwargs:
        kwargs = dict(start=np.full((P.param_dim, 1), np.nan))
    with pytest.raises(symfix.InputError):
        discover(P.unit, (X, Y), n_particles=4, horizon=5, **kwargs)


def test_train_refuses_empty_batches_and_stops_a_divergent_run():
    from symfix.numeric import TrainingError

    P = _c2()
    th0 = np.random.default_rng(0).standard_normal((4, P.param_dim))
    with pytest.raises(symfix.InputError, match="empty"):
        train(P, th0, [], scheme="vanilla", lr=1.0)
    x = np.random.default_rng(1).standard_normal((8, 2))
    y = np.ones((8, 1))
    with pytest.raises(TrainingError, match="diverged"):
        train(P, th0, [(x, y)] * 3, scheme="vanilla", lr=1e300)
    r = train(P, th0, [(x, y)] * 3, scheme="vanilla", lr=0.1)  # control
    assert np.all(np.isfinite(r.particles)) and np.abs(r.particles).max() < 100


def test_checks_on_nothing_and_means_of_nothing_are_refused():
    P = _c2()
    with pytest.raises(symfix.InputError, match="n_samples"):
        P.check_equivariance(n_samples=0)
    with pytest.raises(symfix.InputError, match="empty"):
        P.unit.mean_forward(np.zeros((3, 2)), np.zeros((0, P.param_dim)))
    assert P.check_equivariance(n_samples=2).ok  # control


def test_spec_typos_and_fractional_dims_are_refused():
    from symfix.specs import BUILTIN_SPECS, parse_spec

    t = tomllib.loads(BUILTIN_SPECS["c2-neuron"])
    t["unit"]["activaton"] = "relu"
    with pytest.raises(symfix.InputError, match="did you mean 'unit.activation'"):
        parse_spec(t)
    t = tomllib.loads(BUILTIN_SPECS["c2-neuron"])
    t["rho_out"]["dim"] = 2.7
    with pytest.raises(symfix.InputError, match="positive integer"):
        parse_spec(t)
    t = tomllib.loads(BUILTIN_SPECS["c2-neuron"])
    t["group"]["catalog"] = "cyclic"
    with pytest.raises(symfix.InputError, match="did you mean 'group.catalogue'"):
        parse_spec(t)


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "symfix.cli", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


def test_a_failed_cli_run_leaves_no_output_behind(tmp_path):
    r = _cli("export", "--format", "json", "--out", "out.json", "--json", "nodir/x.json", cwd=tmp_path)
    assert r.returncode == 2 and not (tmp_path / "out.json").exists()
    r = _cli("analyze", "--report", "sub/../r.md", cwd=tmp_path)
    assert r.returncode == 2 and list(tmp_path.iterdir()) == []
    r = _cli("export", "--format", "json", "--out", "out.json", cwd=tmp_path)  # control
    assert r.returncode == 0 and (tmp_path / "out.json").exists()


def test_a_spec_can_raise_the_closure_cap():
    from symfix.specs import parse_spec

    t = {"group": {"generators": [[[0, -1], [1, 0]]], "cap": 3}, "rho_in": {"rep": "defining"},
         "rho_out": {"rep": "trivial"}, "unit": {"kind": "neuron"}}
    with pytest.raises(symfix.GroupError, match="cap = N under \\[group\\]"):
        parse_spec(t)
    t["group"]["cap"] = 4
    assert parse_spec(t).problem.group.order == 4
    t["group"]["cap"] = 2.5
    with pytest.raises(symfix.InputError, match="group.cap"):
        parse_spec(t)
