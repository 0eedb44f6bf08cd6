"""Mean-field SGD for wide shallow networks under the symmetry-leveraging schemes: the loop.

``train`` validates everything, compiles a :class:`~symfix.numeric._step.Trainer` for one run or
an ensemble of R runs, and drives its pure step over the batches, recording the history, writing
checkpoints and (under torchrun) holding this process's share of the particles. The step itself,
and the equation it implements, are in ``_step``.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Sequence

import numpy as np

from .._errors import InputError
from .._problem import Problem
from .._validate import choice, items, number, real_array, seed as check_seed
from ._checkpoint import Checkpoint, TrainingError, diverged, failure, load_resume, save_sharded
from ._shard import Shard, all_sums, connect, gather, split
from ._step import SCHEMES, Trainer

__all__ = ["train", "TrainResult", "Checkpoint", "TrainingError", "SCHEMES", "gather_particles", "threads_for"]

STREAMS = "counter-1"  # the random streams' version, stored in checkpoints
SMALL_WORK = 1 << 16  # elements per kernel call below which one thread is fastest (benchmarks/bench_ensemble.py)


@dataclass(frozen=True)
class TrainResult:
    """Final particles (numpy float64 copy: (N, D) for one run, (R, N, D) for an ensemble; under
    ``distributed=True`` this process's slice, see ``shard``), the history (one dict per logged
    step: ``step``, ``loss`` and ``escape`` = W2²(ν, P_#ν) to the monitored subspace when given;
    lists of R values for an ensemble), the number of steps taken in total, the final
    :class:`Checkpoint`, and ``shard`` = (start, stop, N) of the particles held here (None when
    not distributed)."""

    particles: np.ndarray
    history: list = field(default_factory=list)
    steps: int = 0
    checkpoint: Checkpoint | None = None
    shard: tuple | None = None


def _resolve(dtype: Any, device: Any) -> tuple[Any, Any]:
    import torch

    dt = torch.float64 if dtype is None else (getattr(torch, dtype, None) if isinstance(dtype, str) else dtype)
    if not isinstance(dt, torch.dtype) or dt not in (torch.float32, torch.float64):
        raise InputError(f"dtype must be float32 or float64, got {dtype!r}")
    try:
        dev = torch.device("cpu" if device is None else device)
    except (RuntimeError, TypeError, ValueError, OverflowError):
        raise InputError(f"unknown device {str(device)[:40]!r}; give 'cpu', 'cuda', 'cuda:0' or a torch.device") from None
    return dt, dev


def threads_for(work: int) -> int:
    """Torch intra-op threads for a kernel call touching ``work`` elements: one when the call is
    small (threads then cost more than they save, and contend badly on a shared machine),
    otherwise torch's current setting.

    >>> threads_for(20 * 100 * 2)
    1
    """
    import torch

    return 1 if work < SMALL_WORK else torch.get_num_threads()


@contextlib.contextmanager
def _threads(n: int) -> Iterator[None]:
    import torch

    old = torch.get_num_threads()
    if n != old:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if n != old:
            torch.set_num_threads(old)


def train(
    problem: Problem,
    particles0: Any,
    batches: Iterable[tuple[Any, Any]],
    *,
    scheme: str | Sequence[str],
    lr: float | Sequence[float],
    tau: float | Sequence[float] = 0.0,
    beta: float | Sequence[float] = 0.0,
    noise_subspace: Any = None,
    seed: int | Sequence[int] | None = None,
    device: Any = None,
    dtype: Any = None,
    log_every: int = 1,
    monitor: Any = None,
    checkpoint_every: int = 0,
    checkpoint_path: str | os.PathLike | None = None,
    resume: Checkpoint | str | os.PathLike | None = None,
    progress: bool = False,
    quadrature: int = 16,
    distributed: bool = False,
    threads: int | None = None,
) -> TrainResult:
    """Run mean-field SGD from explicit particles over an explicit sequence of batches; one run,
    or R independent runs advancing together.

    Parameters
    ----------
    problem : Problem
    particles0 : array (N, D) for one run, (R, N, D) for R runs; None when resuming
    batches : iterable of (x, y), one step each: x (B, d) and y (B, c), shared by all runs, or
        x (R, B, d) and y (R, B, c), one batch per run
    scheme : {"vanilla", "da", "da-orbit", "fa", "ea"}, or a sequence of R of them
        ``da`` draws one Haar-uniform g per sample; ``da-orbit`` averages the loss over the whole
        orbit; ``fa`` trains the averaged model Q_G Φ; ``ea`` projects gradients and noise onto
        E^G. For a compact Lie group, ``da-orbit`` and ``fa`` replace the Haar average by the
        group's ``quadrature(quadrature)`` (SO(2): equally spaced rotations, exact for
        trigonometric polynomials of degree < quadrature; others: fixed Haar samples).
        Consecutive runs with the same scheme share each kernel call.
    lr, tau, beta : step size (per-particle step lr/N), penalty weight, temperature; a number
        or one per run
    noise_subspace : FixedSubspace (or anything with ``orthonormal_basis()``), or one per run
        Project the noise ξ onto this subspace (``ea`` projects onto E^G when none is given).
    seed : int or one per run
        Names every random number of the run: the noise of particle i at step t and the DA
        samples of step t are functions of (seed, t, i) only (counter-based streams), so a run
        split across processes, resumed, or batched with others draws the same numbers;
        ``None`` means 0.
    device, dtype : torch device (default CPU) and float32/float64 (default float64)
    log_every : record the history every this many steps (0: never)
    monitor : subspace (anything with ``.project``) or callable, optional
        A subspace: also record the escape W2²(ν, P_#ν) from it in the history. A callable
        ``monitor(step, particles)`` (particles: the (N, D), or (R, N, D), tensor after the step;
        this process's slice when distributed) returning a dict of numbers: merged into the
        history entry (e.g. ``symfix.nets.UnitCharges``).
    checkpoint_every, checkpoint_path : save a :class:`Checkpoint` every this many steps
        (atomically, to ``checkpoint_path`` when given; the last one is on the result). When
        distributed, every process writes ``PATH.stepK.rankRofW.npz`` and rank 0 the manifest PATH.
    resume : Checkpoint, path or manifest, optional
        Continue a run: ``batches`` is the same full sequence, training starts at the
        checkpoint's step, and the result equals the uninterrupted run bit for bit. A manifest
        may be resumed with a different number of processes (the particles are re-sharded).
    progress : show a progress bar on stderr
    quadrature : number of elements standing in for the Haar average (Lie groups, da-orbit/fa)
    distributed : split the particles over the processes of a torchrun job (gloo on CPU, nccl on
        CUDA); every process passes the same arguments and holds particles [start, stop). Each
        step all-gathers the batch's partial sums of σ_* (R x B x c) and adds them in rank order,
        so the union of the processes' particles equals the one-process run (up to the order of
        that sum, ~1e-16 per step). ``gather_particles(result)`` collects them on rank 0.
    threads : torch intra-op threads during training; None chooses from the work per kernel call
        (``threads_for``: one thread for small problems). Restored afterwards.

    Returns
    -------
    TrainResult

    Raises
    ------
    InputError
        Before the first step, for any malformed argument.
    TrainingError
        When particles or loss become non-finite; names the step and carries the last good
        state as ``.particles`` and ``.checkpoint``.

    Examples
    --------
    >>> import numpy as np
    >>> from symfix import Problem, groups, reps, units
    >>> G = groups.cyclic(2); V = reps.permutation(G)
    >>> P = Problem(G, V, V, units.matrix_unit(2, 2, "sigmoid"))
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal((4, 2)); y = 1 / (1 + np.exp(-x))
    >>> r = train(P, rng.standard_normal((8, 4)), [(x, y)] * 3, scheme="ea", lr=1.0)
    >>> r.particles.shape, len(r.history)
    ((8, 4), 3)
    >>> runs = train(P, rng.standard_normal((2, 8, 4)), [(x, y)] * 3, scheme=["vanilla", "ea"], lr=1.0)
    >>> runs.particles.shape, runs.history[-1]["step"]
    ((2, 8, 4), 2)
    """
    import torch

    if not isinstance(problem, Problem):
        raise InputError("train needs a symfix.Problem")
    for name, v in (("log_every", log_every), ("checkpoint_every", checkpoint_every)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise InputError(f"{name} must be an int >= 0, got {v!r}")
    if not isinstance(quadrature, int) or isinstance(quadrature, bool) or quadrature < 1:
        raise InputError(f"quadrature must be an int >= 1, got {quadrature!r}")
    if threads is not None and (not isinstance(threads, int) or isinstance(threads, bool) or threads < 1):
        raise InputError(f"threads must be an int >= 1 or None, got {threads!r}")
    dt, dev = _resolve(dtype, device)
    D, d, c = problem.param_dim, problem.unit.d, problem.unit.c
    ckpt = None
    if resume is not None:
        if particles0 is not None:
            raise InputError("give particles0=None when resuming: the particles come from the checkpoint")
        if isinstance(resume, Checkpoint) and resume.shard is not None:
            raise InputError("resume a distributed job from its manifest path (checkpoint_path), not a Checkpoint object")
        ckpt = load_resume(resume, {"streams": STREAMS})
    source = ckpt.particles if ckpt is not None else particles0
    if source is None:
        raise InputError(f"particles0 must be an (N, {D}) array (or (R, N, {D}) for R runs)")
    full, ensemble = _particles(source, D)
    runs = _runs(scheme, lr, tau, beta, seed, noise_subspace, problem, full.shape[0] if ensemble else None)
    rank, world = connect(dev) if distributed else (0, 1)
    if distributed and dev.type == "cuda" and dev.index is None:
        dev = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
    R, N = full.shape[0], full.shape[1]
    shard = split(N, rank, world) if distributed else None
    trainer = Trainer(problem, runs["scheme"], runs["lr"], runs["tau"], runs["beta"], runs["seed"], runs["noise"], N,
                      dt, dev, quadrature, shard)
    settings = _settings(trainer, ensemble)
    if ckpt is not None:
        load_resume(ckpt, settings)
    batches = _check_batches(batches, R, d, c, dt, dev)
    start = 0 if ckpt is None else ckpt.step
    if start > len(batches):
        raise InputError(f"the checkpoint is at step {start} but only {len(batches)} batches were given")
    _check_monitor(monitor, D)
    state = trainer.init(full if shard is None else full[:, shard.start : shard.stop], step=start)
    history: list = [] if ckpt is None else [dict(h) for h in ckpt.history]
    B = batches[0][0].shape[1]
    n_threads = threads if threads is not None else threads_for(R * state.particles.shape[1] * B * max(c, 1))

    def snapshot(st: Any) -> Checkpoint:
        p = st.particles.detach().cpu().numpy().copy()
        return Checkpoint(st.step, p if ensemble else p[0], np.zeros(0, np.uint8), {}, tuple(dict(h) for h in history),
                          settings, None if shard is None else (shard.start, shard.stop, N))

    def fail(t: int, value: float, theta: Any, before: Any) -> Exception:
        err = failure(t, value, theta, before, last)
        if not ensemble:
            err.particles = err.particles[0]  # type: ignore[attr-defined]
        return err

    last = snapshot(state) if checkpoint_every else None
    prev = state.particles
    with _threads(n_threads):
        shown = progress and (shard is None or shard.rank == 0)  # one bar per job, not per process
        for t in _progress(range(start, len(batches)), shown, f"train {'ensemble' if ensemble else runs['scheme'][0]}"):
            x, y = batches[t]
            new, losses = trainer.step(state, x, y)
            if not bool(torch.isfinite(losses).all()):
                bad = losses[~torch.isfinite(losses)][0]
                raise fail(t, float(bad), new.particles, state.particles)
            if log_every and t % log_every == 0:
                history.append(_entry(t, losses, new.particles, monitor, shard, ensemble))
            prev, state = state.particles, new
            if checkpoint_every and (t + 1) % checkpoint_every == 0:
                if diverged(state.particles):
                    raise fail(t, float(losses.max()), state.particles, prev)
                last = snapshot(state)
                if checkpoint_path is not None:
                    if shard is None:
                        last.save(checkpoint_path)
                    else:
                        save_sharded(last, checkpoint_path, shard.rank, shard.world)
    if diverged(state.particles):
        raise fail(len(batches) - 1, float("nan"), state.particles, prev)
    final = snapshot(state)
    out = state.particles.detach().cpu().double().numpy().copy()
    return TrainResult(out if ensemble else out[0], history, len(batches), final,
                       None if shard is None else (shard.start, shard.stop, N))


def gather_particles(result: TrainResult) -> np.ndarray | None:
    """All particles of a distributed run on rank 0 (None on the other ranks); the particles
    themselves when the run was not distributed. Collective: every process calls it.

    >>> import numpy as np
    >>> from symfix import Problem, groups, reps, units
    >>> G = groups.cyclic(2); V = reps.permutation(G)
    >>> P = Problem(G, V, V, units.matrix_unit(2, 2, "sigmoid"))
    >>> r = train(P, np.zeros((3, 4)), [(np.ones((2, 2)), np.ones((2, 2)))], scheme="vanilla", lr=1.0)
    >>> gather_particles(r).shape        # not distributed: the particles themselves
    (3, 4)
    """
    import torch

    if result.shard is None:
        return result.particles
    import torch.distributed as dist

    start, stop, total = result.shard
    shard = Shard(dist.get_rank(), dist.get_world_size(), start, stop, total)
    full = gather(torch.as_tensor(result.particles), shard, dim=result.particles.ndim - 2)
    return None if full is None else full.numpy()


# ----------------------------------------------------------------------------- validation


def _per_run(value: Any, R: int | None, name: str) -> list:
    if isinstance(value, (list, tuple)):
        if R is not None and len(value) != R:
            raise InputError(f"{name} has {len(value)} entries but there are {R} runs: give one value or one per run")
        return list(value)
    return [value] * (R or 1)


def _runs(scheme: Any, lr: Any, tau: Any, beta: Any, seed: Any, noise: Any, problem: Problem, R: int | None) -> dict:
    """Every per-run setting as a tuple of length R (1 for a single run), validated."""
    if R is None and any(isinstance(v, (list, tuple)) for v in (scheme, lr, tau, beta, seed, noise)):
        raise InputError("per-run settings (lists) need particles0 of shape (R, N, D); give one value for one run")
    out = {
        "scheme": [choice(s, SCHEMES, "scheme") for s in _per_run(scheme, R, "scheme")],
        "lr": [number(v, "lr", minimum=0.0, strict=True) for v in _per_run(lr, R, "lr")],
        "tau": [number(v, "tau", minimum=0.0) for v in _per_run(tau, R, "tau")],
        "beta": [number(v, "beta", minimum=0.0) for v in _per_run(beta, R, "beta")],
        "seed": [0 if s is None else check_seed(s) for s in _per_run(seed, R, "seed")],
        "noise": _per_run(noise, R, "noise_subspace"),
    }
    out = {k: tuple(v) for k, v in out.items()}
    G, D = problem.group, problem.param_dim
    for s, q in zip(out["scheme"], out["noise"]):
        if s in ("da-orbit", "fa") and not G.is_finite and not hasattr(G, "quadrature"):
            raise InputError(f"scheme {s!r} needs a finite group or a compact Lie group; {G!r} is neither")
        if q is not None and (not hasattr(q, "orthonormal_basis") or getattr(q, "ambient_dim", D) != D):
            raise InputError(f"noise_subspace must be a subspace of R^{D} (e.g. problem.fixed_subspace())")
    E = problem.fixed_subspace() if "ea" in out["scheme"] else None
    out["noise"] = tuple(E if s == "ea" and q is None else q for s, q in zip(out["scheme"], out["noise"]))
    return out


def _particles(p: Any, D: int) -> tuple[Any, bool]:
    """(R, N, D) float array of the runs' particles (R = 1 for a single run given as (N, D)),
    and whether an ensemble was given."""
    arr = real_array(p, "particles0", finite=False, keep_tensor=True)
    ensemble = arr.ndim == 3
    if not ensemble and arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[-1] != D or arr.shape[-2] == 0 or arr.shape[0] == 0:
        raise InputError(f"particles0 must have shape (N, {D}) (or (R, N, {D}) for R runs), got {tuple(p.shape if hasattr(p, 'shape') else arr.shape)}")
    finite = np.isfinite(arr).all() if isinstance(arr, np.ndarray) else bool(arr.isfinite().all())
    if not finite:
        raise InputError("particles0 contains NaN or inf")
    return arr, ensemble


def _settings(trainer: Trainer, ensemble: bool) -> dict:
    runs = [trainer.settings(r) for r in range(len(trainer.schemes))]
    base = {"streams": STREAMS}
    return {**base, "runs": runs} if ensemble else {**base, **runs[0]}


def _check_monitor(monitor: Any, D: int) -> None:
    if monitor is not None and hasattr(monitor, "project"):
        if getattr(monitor, "ambient_dim", D) != D:
            raise InputError(f"monitor must be a subspace of R^{D} with .project (e.g. problem.fixed_subspace())")
    elif monitor is not None and not callable(monitor):
        raise InputError(f"monitor must be a subspace of R^{D} with .project (e.g. problem.fixed_subspace()) or a "
                         "callable monitor(step, particles) -> dict of floats")


def _entry(t: int, losses: Any, theta: Any, monitor: Any, shard: Shard | None, ensemble: bool) -> dict:
    one = (lambda v: [float(a) for a in v]) if ensemble else (lambda v: float(v[0]))
    entry = {"step": t, "loss": one(losses)}
    if monitor is not None and hasattr(monitor, "project"):
        off = theta - monitor.project(theta)
        total = shard.total if shard is not None else theta.shape[1]
        entry["escape"] = one(all_sums((off * off).sum((1, 2)), shard) / total)
    elif monitor is not None:
        extra = monitor(t, theta if ensemble else theta[0])
        if not isinstance(extra, dict) or not all(isinstance(k, str) for k in extra):
            raise InputError("a callable monitor must return a dict of named numbers, e.g. {'charge': 0.1}")
        entry.update({k: float(v) for k, v in extra.items()})
    return entry


def _check_batches(batches: Iterable[tuple[Any, Any]], R: int, d: int, c: int, dt: Any, dev: Any) -> list:
    """Validate every batch before the first step and convert it once to (R, B, .) tensors of
    the training dtype (a batch shared by all runs is broadcast, not copied)."""
    import torch

    out = []
    for k, b in enumerate(items(batches, "batches", "a list of (x, y) pairs")):
        if not (isinstance(b, (tuple, list)) and len(b) == 2):
            raise InputError(f"batch {k} must be a pair (x, y)")
        try:
            x, y = (torch.as_tensor(v, dtype=dt, device=dev) for v in b)
        except (TypeError, ValueError, RuntimeError, OverflowError):
            raise InputError(f"batch {k}: x and y must be numeric arrays of floats") from None
        if x.ndim == 2 and y.ndim == 2:
            x, y = x.expand(R, *x.shape), y.expand(R, *y.shape)
        if (x.ndim != 3 or y.ndim != 3 or x.shape[0] != R or y.shape[0] != R or x.shape[2] != d or y.shape[2] != c
                or x.shape[1] != y.shape[1] or x.shape[1] == 0):
            raise InputError(f"batch {k}: expected x of shape (B, {d}) and y of shape (B, {c}) (or (R, B, .) with R = "
                             f"{R} runs), got {tuple(x.shape)} and {tuple(y.shape)}")
        if not (torch.isfinite(x).all() and torch.isfinite(y).all()):
            raise InputError(f"batch {k} contains NaN or inf")
        out.append((x, y))
    if not out:
        raise InputError("batches is empty: give at least one (x, y) batch (one training step each)")
    return out


def _progress(it: Any, show: bool, desc: str) -> Any:
    if not show:
        return it
    from .._progress import progress

    return progress(it, desc)

