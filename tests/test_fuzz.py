"""Bad input never escapes as a foreign exception or a hang (issue 18).

A bounded hypothesis run over every public entry point of ``tests/fuzzing.py`` (fixed
derandomised examples, so CI is reproducible), then one regression test per failure class the
fuzzing campaign found, with the exact inputs quoted in the issue. The large campaign is
``python benchmarks/fuzz.py``."""

import os

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symfix import SymfixError, certify, fixed_point_subspace, groups, load_spec, reps, train, units
from tests import fuzzing

FAST = settings(max_examples=40, derandomize=True, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize("target", sorted(fuzzing.TARGETS))
@FAST
@given(data=st.data())
def test_every_entry_point_returns_or_raises_a_symfix_error_in_time(target, data):
    out = fuzzing.run(target, fuzzing.Source(draw=data.draw), bound=fuzzing.TIME_BOUND)
    assert out.kind in ("ok", "symfix"), f"{target}: {out.kind}: {out.detail}"


def test_the_harness_catches_a_foreign_exception_and_a_hang(monkeypatch):
    """Negative control: a target that raises ZeroDivisionError is 'foreign', one that sleeps past
    the bound is 'timeout'."""
    import time

    monkeypatch.setitem(fuzzing.TARGETS, "divides", lambda src: 1 / 0)
    monkeypatch.setitem(fuzzing.TARGETS, "sleeps", lambda src: time.sleep(5))
    src = fuzzing.seeded("divides", 0)
    assert fuzzing.run("divides", src).kind == "foreign"
    assert fuzzing.run("sleeps", src, bound=0.2).kind == "timeout"


def c2():
    from symfix import Problem

    G = groups.cyclic(2)
    V = reps.permutation(G)
    return Problem(G, V, V, units.matrix_unit(2, 2, "sigmoid"))


E = fixed_point_subspace([[[0, 1], [1, 0]]])
P = c2()
X, Y = np.zeros((3, 2)), np.zeros((3, 2))

REGRESSIONS = [
    # methods of results: wrong length or dtype, wrong generator sizes, strings, objects
    ("project, vector of the wrong length", lambda: E.project(np.zeros(3)), "last axis of length 2"),
    ("project, torch tensor of the wrong length", lambda: E.project(torch.zeros(3)), "last axis of length 2"),
    ("project, strings", lambda: E.project(np.array(["a", "b"])), "real numbers"),
    ("project, object array with None", lambda: E.project(np.array([1, None], dtype=object)), "real numbers"),
    ("verify, generator of the wrong size", lambda: E.verify([[[0, 1, 0], [1, 0, 0], [0, 0, 1]]]), "R\\^3"),
    ("verify, a 0-d tensor", lambda: E.verify(torch.tensor(1.0)), "a list of matrices"),
    ("fixed_point_subspace, an array as method", lambda: fixed_point_subspace([[1, 0]], method=np.zeros(2)), "unknown method"),
    # train and certify with unusual input
    ("train, an int too large for a float", lambda: train(P, [[10**400] * 4], [(X, Y)], scheme="vanilla", lr=1.0), "too large"),
    ("train, ragged particles", lambda: train(P, [[1, 2, 3, 4], [1, 2]], [(X, Y)], scheme="vanilla", lr=1.0), "rectangular"),
    ("train, lr an int too large for a float", lambda: train(P, np.ones((2, 4)), [(X, Y)], scheme="vanilla", lr=10**400), "too large"),
    ("train, an array as scheme", lambda: train(P, np.ones((2, 4)), [(X, Y)], scheme=np.zeros(2), lr=1.0), "unknown scheme"),
    ("train, an array as dtype", lambda: train(P, np.ones((2, 4)), [(X, Y)], scheme="vanilla", lr=1.0, dtype=np.zeros(2)), "dtype"),
    ("train, a float seed", lambda: train(P, np.ones((2, 4)), [(X, Y)], scheme="vanilla", lr=1.0, seed=float("nan")), "seed"),
    ("train, an int too large as device (campaign example train 2662)",
     lambda: train(P, np.ones((2, 4)), [(X, Y)], scheme="vanilla", lr=1.0, device=10**30), "unknown device"),
    ("train, bytes as device (campaign example train 6158)",
     lambda: train(P, np.ones((2, 4)), [(X, Y)], scheme="vanilla", lr=1.0, device=b"\xff"), "unknown device"),
    ("certify, NaN data", lambda: certify(P, np.full((5, 2), np.nan), np.zeros((5, 2)), dictionary=np.eye(4)), "NaN"),
    ("certify, a string tol", lambda: certify(P, np.ones((5, 2)), np.zeros((5, 2)), dictionary=np.eye(4), tol="1e-9"), "tol"),
    ("certify, tol 0 (a division by the tolerance)",
     lambda: certify(P, np.ones((5, 2)), np.zeros((5, 2)), dictionary=np.eye(4), tol=0), "tol"),
    ("discover, a string where an int is compared ('>=' between int and str)",
     lambda: __import__("symfix").discover(units.neuron(2, 1, "tanh"), (np.ones((40, 2)), np.ones((40, 1))),
                                           n_particles="8"), "n_particles"),
    ("escape, an empty particle array (LinAlgError before)",
     lambda: __import__("symfix").numeric.escape(np.zeros((0, 2)), E), "non-empty"),
    ("certify, ragged x", lambda: certify(P, [[1, 2], [1]], [[0, 0]], dictionary=np.eye(4)), "rectangular"),
    ("unit, a string as inputs", lambda: P.unit.forward("ab", np.zeros((1, 4))), "real numbers"),
    ("unit, empty particles", lambda: P.unit.forward(np.zeros((1, 2)), np.zeros((0, 4))), "empty"),
    ("discover, a start basis that requires grad (campaign example discover 3297)",
     lambda: __import__("symfix").discover(units.neuron(2, 1, "tanh"), (np.ones((40, 2)), np.ones((40, 1))),
                                           start=torch.ones((1, 3), requires_grad=True)), "start"),
    ("w2, particles of size 1e300 (campaign example distances 4180)",
     lambda: __import__("symfix").numeric.w2(np.full((6, 4), 1e300), np.ones((5, 4))), "overflow"),
    # sizes that cannot be built
    ("symmetric(10**18)", lambda: groups.symmetric(10**18), "built for n <="),
    ("orthogonal(1000)", lambda: groups.orthogonal(1000), "built for n <="),
    ("dihedral(10**9)", lambda: groups.dihedral(10**9), "built for n <="),
    ("from_generators, cap 10**18", lambda: groups.from_generators([[[0, 1], [1, 0]]], cap=10**18), "cap"),
    # non-closing integer matrix groups, refused at once
    ("4x4 integer matrix, entries ±100, det 1",
     lambda: groups.from_generators([[[1, 100, 0, 0], [0, 1, 0, 0], [0, 0, 1, -100], [0, 0, 0, 1]]]), "infinite order"),
    ("integer matrix with an eigenvalue off the circle", lambda: groups.from_generators([[[2, 1], [1, 1]]]), "modulus"),
    # exact integers bounded before C code (GNU MP aborted the process on 10**10**12)
    ("entry 10**10**12", lambda: fixed_point_subspace([[["10**10**12", 0], [0, 1]]]), "exponent"),
    ("entry 2**(10**9)", lambda: fixed_point_subspace([[["2**(10**9)", 0], [0, 1]]]), "exponent"),
    ("entry 1e999999999", lambda: fixed_point_subspace([[["1e999999999", 0], [0, 1]]]), "decimal exponent"),
    ("entry 10**5000 as an int", lambda: fixed_point_subspace([[[10**5000, 0], [0, 1]]]), "bits"),
    ("entry with a name that is not a number", lambda: fixed_point_subspace([[["__import__('os')", 0], [0, 1]]]), "it uses"),
]


@pytest.mark.parametrize("what,call,message", REGRESSIONS, ids=[r[0] for r in REGRESSIONS])
def test_each_failure_class_is_now_a_one_line_symfix_error(what, call, message):
    import time

    t0 = time.perf_counter()
    with pytest.raises(SymfixError, match=message) as err:
        call()
    assert "\n" not in str(err.value)
    assert time.perf_counter() - t0 < 5.0, what  # refused before any work


def test_specs_that_are_not_utf8_or_divide_by_zero(tmp_path):
    bad = tmp_path / "latin1.toml"
    bad.write_bytes(b"\xff\xfe[group]\ncatalogue = 'cyclic'\n")
    with pytest.raises(SymfixError, match="UTF-8"):
        load_spec(str(bad))
    div = tmp_path / "div.toml"
    div.write_text('[group]\ngenerators = [[["1/0", 0], [0, 1]]]\n')
    with pytest.raises(SymfixError, match="divides by zero"):
        load_spec(str(div))


def test_valid_inputs_still_work_after_the_validators():
    """Positive control: the converted forms (lists, int arrays, tensors that require grad) are
    accepted and give the same numbers as float arrays."""
    th = np.arange(8.0).reshape(2, 4) / 10
    a = P.unit.forward(np.ones((3, 2)), th)
    b = P.unit.forward([[1, 1]] * 3, th.tolist())
    np.testing.assert_array_equal(a, b)
    t = torch.tensor(th, requires_grad=True)
    r1 = train(P, t, [(X, Y)], scheme="vanilla", lr=1.0).particles
    r2 = train(P, th, [(X, Y)], scheme="vanilla", lr=1.0).particles
    np.testing.assert_array_equal(r1, r2)
    np.testing.assert_allclose(E.project(torch.tensor([1.0, 3.0])).numpy(), [2.0, 2.0])
    assert groups.from_generators([[["1/2", "-sqrt(3)/2"], ["sqrt(3)/2", "1/2"]]]).order == 6
    assert groups.alternating(6).order == 360 and len(groups.alternating(5).elements()) == 60
    assert os.path.basename(fuzzing.__file__) == "fuzzing.py"
