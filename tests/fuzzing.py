"""The fuzzing harness shared by ``tests/test_fuzz.py`` (hypothesis, bounded) and
``benchmarks/fuzz.py`` (a large seeded campaign in subprocesses).

Every target draws its arguments from a :class:`Source` (hypothesis draws or a numpy
generator), calls one public entry point, and :func:`run` classifies the outcome: ``ok``
(returned), ``symfix`` (a SymfixError), ``foreign`` (any other exception: a bug) or
``timeout`` (past the time bound: a bug).
"""

from __future__ import annotations

import os
import signal
import tempfile
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

TIME_BOUND = 10.0


class Source:
    """Random choices, driven by hypothesis (``draw``) or a numpy generator (``rng``)."""

    def __init__(self, draw: Any = None, rng: np.random.Generator | None = None) -> None:
        self.draw, self.rng = draw, rng

    def integer(self, lo: int, hi: int) -> int:
        if self.draw is not None:
            from hypothesis import strategies as st

            return self.draw(st.integers(lo, hi))
        return int(self.rng.integers(lo, hi + 1))

    def choice(self, options: list) -> Any:
        return options[self.integer(0, len(options) - 1)]


# ------------------------------------------------------------------------------ values

SCALARS: list = [0, 1, -1, 2, 3, 7, -5, 10**18, 10**400, -(10**30), 0.5, -0.0, 1e308, float("nan"), float("inf"),
                 -float("inf"), True, None, "3", "abc", "1/0", "nan", "", "sqrt(2)", b"\xff", 2 + 3j, np.int64(4),
                 np.float32(2.5), [], {}, object()]


def scalar(src: Source) -> Any:
    return src.choice(SCALARS)


def array(src: Source, shape: tuple | None = None) -> Any:
    """An array-like of a random kind: numeric arrays of random shape and dtype, nested lists
    (ragged or not), tensors (requiring grad, integer, complex), strings, objects."""
    import torch

    if shape is None:
        shape = tuple(src.integer(0, 5) for _ in range(src.integer(0, 3)))
    kind = src.integer(0, 11)
    base = np.random.default_rng(src.integer(0, 10**6)).standard_normal(shape)
    if kind == 0:
        return base
    if kind == 1:
        return base.astype(np.int64)
    if kind == 2:
        out = base.copy()
        if out.size:
            out.flat[0] = src.choice([np.nan, np.inf, 1e300])
        return out
    if kind == 3:
        return base.tolist()
    if kind == 4:
        return [[1.0, 2.0], [3.0]]  # ragged
    if kind == 5:
        return np.array(base.tolist(), dtype=object) if base.size else np.array([None], dtype=object)
    if kind == 6:
        return base.astype(str)
    if kind == 7:
        return torch.as_tensor(base).requires_grad_(True)
    if kind == 8:
        return torch.as_tensor(base.astype(np.int64))
    if kind == 9:
        return base.astype(np.complex128)
    if kind == 10:
        return [[10**400] * max(1, shape[-1] if shape else 1)]
    return scalar(src)


def value(src: Source, shape: tuple | None = None) -> Any:
    return array(src, shape) if src.integer(0, 2) else scalar(src)


def matrix_entries(src: Source, n: int) -> list:
    """An n x n nested list of exact-looking entries, some malformed or huge."""
    pool = [0, 1, -1, 2, "1/2", "-1/2", "sqrt(3)/2", "1/0", "2**(10**9)", "10**10**12", "x", 10**5000, 100, -100,
            "cos(2*pi/7)", "1e999999999", 0.5, None, "nan", "__import__('os')", "(", True]
    return [[src.choice(pool) for _ in range(n)] for _ in range(n)]


# ------------------------------------------------------------------------------ fixtures


def _c2_problem() -> Any:
    from symfix import Problem, groups, reps, units

    G = groups.cyclic(2)
    V = reps.permutation(G)
    return Problem(G, V, V, units.matrix_unit(2, 2, "sigmoid"))


_CACHE: dict = {}


def cached(name: str, make: Callable[[], Any]) -> Any:
    if name not in _CACHE:
        _CACHE[name] = make()
    return _CACHE[name]


def problem() -> Any:
    return cached("problem", _c2_problem)


def mlp() -> Any:
    import torch
    from torch import nn

    def make() -> Any:
        torch.manual_seed(0)
        return nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 2)).double()

    return cached("mlp", make)


def good_or_bad(src: Source, good: Any, bad: Callable[[], Any]) -> Any:
    """The valid value most of the time, so that later arguments get exercised too."""
    return good if src.integer(0, 3) else bad()


# ------------------------------------------------------------------------------ targets


def _groups(src: Source) -> Any:
    from symfix import groups

    f = src.choice([groups.cyclic, groups.dihedral, groups.symmetric, groups.alternating, groups.orthogonal])
    return f(src.choice([value(src), src.integer(-3, 40), 10**src.integer(3, 20)]))


def _from_generators(src: Source) -> Any:
    from symfix import groups

    n = src.integer(1, 4)
    gens = [matrix_entries(src, n) for _ in range(src.integer(0, 2))]
    if src.integer(0, 2) == 0:
        gens = [[[src.choice([0, 1, -1, 2, 100, -100]) for _ in range(n)] for _ in range(n)]]
    return groups.from_generators(src.choice([gens, value(src)]), cap=src.choice([50, 200, value(src)]))


def _fixed_point_subspace(src: Source) -> Any:
    from symfix import fixed_point_subspace

    n = src.integer(1, 4)
    gens = src.choice([[matrix_entries(src, n)], [value(src)], value(src), [[src.integer(0, n) for _ in range(n)]]])
    return fixed_point_subspace(gens, method=src.choice(["auto", "exact", "numeric", "orbit", value(src)]))


def _fixed_methods(src: Source) -> Any:
    from symfix import fixed_point_subspace

    E = cached("E", lambda: fixed_point_subspace([[[0, 1, 0], [1, 0, 0], [0, 0, 1]]]))
    which = src.integer(0, 2)
    if which == 0:
        return E.project(value(src))
    if which == 1:
        return E.verify(src.choice([[value(src)], value(src), [matrix_entries(src, src.integer(1, 4))]]))
    return E.angle_to(value(src)) if hasattr(E, "angle_to") else E.project(value(src, (3,)))


def _reps(src: Source) -> Any:
    from symfix import groups, reps

    G = cached("G", lambda: groups.dihedral(4))
    which = src.integer(0, 3)
    if which == 0:
        return reps.from_images(G, src.choice([[matrix_entries(src, 2)] * 2, value(src)]))
    if which == 1:
        return src.choice([reps.permutation, reps.defining, reps.trivial])(src.choice([G, value(src)]))
    if which == 2:
        return reps.permutation(G).matrix(src.choice([value(src), G.sample(np.random.default_rng(0))]))
    return G.sample(src.choice([value(src), np.random.default_rng(0), 3]))


def _units(src: Source) -> Any:
    from symfix import units

    which = src.integer(0, 3)
    if which == 0:
        return src.choice([units.neuron, units.matrix_unit])(value(src), src.choice([1, 2, value(src)]),
                                                              src.choice(["tanh", "relu", value(src)]))
    u = cached("unit", lambda: units.neuron(2, 1, "tanh"))
    x = good_or_bad(src, np.ones((3, 2)), lambda: value(src))
    th = good_or_bad(src, np.ones((4, 4)), lambda: value(src))
    return src.choice([u.forward, u.mean_forward])(x, th)


def _problem(src: Source) -> Any:
    from symfix import Problem, groups, reps, units

    G = groups.cyclic(2)
    V = reps.permutation(G)
    args = [G, V, V, units.matrix_unit(2, 2, "sigmoid")]
    if src.integer(0, 4):
        args[src.integer(0, 3)] = value(src)
    return Problem(*args)


def _train(src: Source) -> Any:
    from symfix import train

    P = problem()
    good_batches = [(np.ones((3, 2)), np.zeros((3, 2)))] * 2
    kw = {"scheme": good_or_bad(src, src.choice(["vanilla", "da", "fa", "ea", "da-orbit"]), lambda: value(src)),
          "lr": good_or_bad(src, 0.1, lambda: value(src))}
    for key in ("tau", "beta", "seed", "log_every", "quadrature", "dtype", "device"):
        if src.integer(0, 6) == 0:
            kw[key] = value(src)
    p0 = good_or_bad(src, np.ones((3, 4)), lambda: value(src))
    batches = good_or_bad(src, good_batches, lambda: src.choice([value(src), [(value(src), value(src))],
                                                                 [(np.ones((3, 2)), value(src))]]))
    return train(P, p0, batches, **kw)


def _certify(src: Source) -> Any:
    from symfix import certify

    P = problem()
    x = good_or_bad(src, np.random.default_rng(0).standard_normal((6, 2)), lambda: value(src))
    y = good_or_bad(src, np.zeros((6, 2)), lambda: value(src))
    from symfix.discovery import orbit_dictionary

    good = cached("dictionary", lambda: orbit_dictionary(P, np.random.default_rng(0).standard_normal((3, 4))))
    if src.integer(0, 5) == 0:
        return orbit_dictionary(P, value(src), include_projections=src.choice([True, False]))
    dic = good_or_bad(src, good, lambda: value(src))
    return certify(P, x, y, dictionary=dic, tol=good_or_bad(src, 1e-9, lambda: value(src)))


def _discover(src: Source) -> Any:
    from symfix import discover, units

    u = cached("unit", lambda: units.neuron(2, 1, "tanh"))
    X = np.random.default_rng(0).standard_normal((40, 2))
    data = good_or_bad(src, (X, np.tanh(X[:, :1])), lambda: src.choice([value(src), (value(src), value(src))]))
    kw = {"n_particles": good_or_bad(src, 2, lambda: value(src)), "horizon": good_or_bad(src, 5, lambda: value(src))}
    for key in ("lr", "seed", "closure", "n_folds", "start", "n_samples"):
        if src.integer(0, 8) == 0:
            kw[key] = value(src)
    return discover(u, data, **kw)


def _spec(src: Source) -> Any:
    from symfix import load_spec
    from symfix.specs import BUILTIN_SPECS

    text = BUILTIN_SPECS[src.choice(sorted(BUILTIN_SPECS))]
    chars = list(text)
    for _ in range(src.integer(1, 6)):
        k = src.integer(0, max(0, len(chars) - 1))
        op = src.integer(0, 3)
        junk = src.choice(['"', "[", "]", "=", "0", "-1", "1/0", "\n", "x", "\u00e9", "9999999999", ",", " "])
        if op == 0 and chars:
            del chars[k]
        elif op == 1:
            chars.insert(k, junk)
        else:
            chars[k:k + 1] = list(junk)
    data = "".join(chars).encode("utf-8")
    if src.integer(0, 9) == 0:
        data = b"\xff\xfe" + data
    fd, path = tempfile.mkstemp(suffix=".toml")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        spec = load_spec(src.choice([path, path, value(src)]))
        return spec.problem if hasattr(spec, "problem") else spec
    finally:
        os.unlink(path)


def _export(src: Source) -> Any:
    from symfix import export

    P = problem()
    which = src.integer(0, 2)
    if which == 0:
        return export.to_torch(P, width=good_or_bad(src, 3, lambda: value(src)), seed=good_or_bad(src, 0, lambda: value(src)))
    if which == 1:
        return export.to_torch(P, particles=value(src))
    return export.design(src.choice([P, value(src), "c2-matrix-unit", "nonexistent-spec"]))


def _nets(src: Source) -> Any:
    import symfix.nets as sn

    which = src.integer(0, 4)
    if which == 0:
        return sn.symmetries(src.choice([mlp(), value(src)]))
    S = cached("S", lambda: sn.symmetries(mlp()))
    if which == 1:
        return S.sample(src.choice([np.random.default_rng(0), value(src)]))
    if which == 2:
        g = S.sample(np.random.default_rng(0))
        return S.act(src.choice([g, value(src)]), good_or_bad(src, sn.flat_params(mlp()), lambda: value(src)))
    if which == 3:
        return S.fixed_subspace(src.choice([[value(src)], value(src), [S.sample(np.random.default_rng(1))]]))
    return S.check(mlp(), good_or_bad(src, np.ones((4, 3)), lambda: value(src)))


def _mfnet(src: Source) -> Any:
    from symfix.numeric import MFNetwork, diversity, train_network

    which = src.integer(0, 3)
    if which == 0:
        widths = src.choice([value(src), [src.integer(-1, 4) for _ in range(src.integer(0, 5))], [2, 10**7, 10**7, 1]])
        return MFNetwork(widths, src.choice(["tanh", "relu", value(src)]), src.choice(["iid", "correlated", value(src)]),
                         seed=good_or_bad(src, 0, lambda: value(src)))
    net = cached("mfnet", lambda: MFNetwork([2, 4, 4, 1], "tanh"))
    if which == 1:
        return net.forward(value(src))
    if which == 2:
        return diversity(net, value(src))
    X = np.ones((6, 2))
    return train_network(net, good_or_bad(src, [(X, np.ones((6, 1)))], lambda: value(src)),
                         lr=good_or_bad(src, 0.1, lambda: value(src)))


def _problem_methods(src: Source) -> Any:
    P = problem()
    which = src.integer(0, 2)
    if which == 0:
        return P.check_equivariance(n_samples=good_or_bad(src, 3, lambda: value(src)),
                                    rng=good_or_bad(src, 0, lambda: value(src)))
    if which == 1:
        return P.act(src.choice([P.group.generators[0], value(src)]), good_or_bad(src, np.ones((2, 4)), lambda: value(src)))
    return P.matrices(src.choice([P.group.generators[0], value(src)]))


def _distances(src: Source) -> Any:
    from symfix.numeric import escape, population_risk, rmd, w2, wi_distance

    P = problem()
    a = good_or_bad(src, np.random.default_rng(0).standard_normal((6, 4)), lambda: value(src))
    b = good_or_bad(src, np.random.default_rng(1).standard_normal((5, 4)), lambda: value(src))
    which = src.integer(0, 4)
    if which == 0:
        return w2(a, b, exact_max=good_or_bad(src, 3000, lambda: value(src)), rng=good_or_bad(src, 0, lambda: value(src)))
    if which == 1:
        return rmd(a, b)
    if which == 2:
        return escape(a, src.choice([P.fixed_subspace(), value(src)]))
    if which == 3:
        return wi_distance(a, src.choice([P, value(src)]), n_quadrature=good_or_bad(src, 4, lambda: value(src)))
    x = good_or_bad(src, np.ones((3, 2)), lambda: value(src))
    return population_risk(P, a, x, good_or_bad(src, np.zeros((3, 2)), lambda: value(src)),
                           scheme=src.choice(["vanilla", "fa", value(src)]))


TARGETS: dict[str, Callable[[Source], Any]] = {
    "Problem methods": _problem_methods,
    "distances": _distances,
    "groups.catalogue": _groups,
    "groups.from_generators": _from_generators,
    "fixed_point_subspace": _fixed_point_subspace,
    "FixedSubspace methods": _fixed_methods,
    "reps": _reps,
    "units": _units,
    "Problem": _problem,
    "train": _train,
    "certify": _certify,
    "discover": _discover,
    "load_spec (mutated TOML)": _spec,
    "export": _export,
    "nets": _nets,
    "MFNetwork": _mfnet,
}


# ------------------------------------------------------------------------------ running


@dataclass
class Outcome:
    target: str
    kind: str  # ok, symfix, foreign, timeout
    detail: str = ""
    seconds: float = 0.0


class _Timeout(BaseException):
    pass


def seeded(target: str, i: int) -> Source:
    """The numpy-driven source of example ``i`` of a target (stable across processes)."""
    import zlib

    return Source(rng=np.random.default_rng([i, zlib.crc32(target.encode())]))


def run(target: str, src: Source, bound: float = TIME_BOUND) -> Outcome:
    """Call one target with the time bound (SIGALRM, main thread) and classify the outcome."""
    import warnings

    from symfix import SymfixError

    def alarm(*_: Any) -> None:
        raise _Timeout

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, bound)
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            TARGETS[target](src)
        kind, detail = "ok", ""
    except _Timeout:
        kind, detail = "timeout", f"over {bound:g} s"
    except SymfixError as exc:
        kind, detail = "symfix", str(exc)[:200]
    except Exception as exc:  # noqa: BLE001 - classifying every other exception is the point
        import traceback

        where = traceback.extract_tb(exc.__traceback__)[-1]
        kind = "foreign"
        detail = f"{type(exc).__name__}: {str(exc)[:160]} [{os.path.basename(where.filename)}:{where.lineno}]"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    return Outcome(target, kind, detail, time.perf_counter() - t0)
