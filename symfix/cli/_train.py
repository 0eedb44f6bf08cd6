"""``symfix train``: the schemes trained as one ensemble on the spec's teacher data, with
checkpoints, resume, and particles split over torchrun processes."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Callable

from .._errors import InputError

__all__ = ["add_train_arguments", "cmd_train"]


def add_train_arguments(t: argparse.ArgumentParser, ints: Callable, floats: Callable) -> None:
    t.add_argument("--scheme", default="all", choices=["all", "vanilla", "da", "da-orbit", "fa", "ea"],
                   help="all = vanilla, da, da-orbit, fa, ea (fa only where the group can be averaged), trained "
                        "together as one ensemble")
    t.add_argument("--n-particles", type=ints(1, 10**7), default=100, help="number of units N")
    t.add_argument("--steps", type=ints(1, 10**7), default=1000, help="SGD steps")
    t.add_argument("--batch", type=ints(1, 10**5), default=20, help="samples per step")
    t.add_argument("--lr", type=floats(0, strict=True), default=5.0, help="learning rate (per-particle step lr/N)")
    t.add_argument("--tau", type=floats(0, strict=False), default=1e-4, help="penalty tau ||theta||^2")
    t.add_argument("--beta", type=floats(0, strict=False), default=1e-6, help="temperature of the noise")
    t.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda")
    t.add_argument("--dtype", default="float64", choices=["float32", "float64"], help="floating-point type")
    t.add_argument("--threads", type=ints(1, 1024), default=None,
                   help="torch threads (default: one for small problems, else torch's setting; on a shared machine "
                        "or with one process per core use 1)")
    t.add_argument("--plot", metavar="FILE.png", help="loss and escape curves")
    t.add_argument("--checkpoint", metavar="FILE", help="checkpoint file (with --distributed: a manifest naming one "
                                                        "file per process)")
    t.add_argument("--checkpoint-every", type=ints(0, 10**9), default=0, metavar="K", help="save every K steps")
    t.add_argument("--resume", action="store_true", help="continue from --checkpoint (same command otherwise)")
    t.add_argument("--distributed", action="store_true",
                   help="split the particles over the processes of a torchrun job (gloo on cpu, nccl on cuda)")
    t.add_argument("--particles-out", metavar="F.npz", help="write the final particles (R x N x D, one run per scheme)")


def _check(args: argparse.Namespace) -> None:
    import torch

    try:
        dev = torch.device(args.device)
    except (RuntimeError, TypeError):
        raise InputError(f"--device {args.device!r} is not a torch device; use cpu or cuda") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"--device {args.device}: this machine has no CUDA device; use --device cpu")
    if dev.type not in ("cpu", "cuda"):
        raise InputError(f"--device {args.device}: symfix train runs on cpu or cuda")
    if args.steps * args.batch > 10**8:
        raise InputError(f"--steps x --batch = {args.steps * args.batch} samples is more than 10^8; the teacher data "
                         "would not fit in memory: lower one of them")
    if (args.checkpoint_every or args.resume) and not args.checkpoint:
        raise InputError("--checkpoint-every and --resume need --checkpoint FILE")
    if args.resume and not os.path.exists(args.checkpoint):
        raise InputError(f"--resume: no checkpoint at {args.checkpoint!r}; run once with --checkpoint-every first")
    from .._io import check_writable

    for path in (args.checkpoint, args.particles_out):
        if path:
            check_writable(path)


def cmd_train(args: argparse.Namespace, spec: Any, dump: Callable, teacher: Callable, data: Callable) -> int:
    import numpy as np

    from ..numeric import gather_particles, strongly_invariant, train

    _check(args)
    P = spec.problem
    E = P.fixed_subspace()
    rng = np.random.default_rng(args.seed)
    t = teacher(P, rng)
    x, y = data(P, t, args.steps * args.batch, rng)
    batches = list(zip(x.reshape(args.steps, args.batch, -1), y.reshape(args.steps, args.batch, -1)))
    xt, yt = data(P, t, 2000, np.random.default_rng(args.seed + 1))
    th0 = strongly_invariant(P, args.n_particles, std=0.5, rng=rng)
    G = P.group
    averageable = G.is_finite or hasattr(G, "quadrature")
    schemes = [s for s in (["vanilla", "da", "da-orbit", "fa", "ea"] if args.scheme == "all" else [args.scheme])
               if averageable or s not in ("fa", "da-orbit")]
    if not schemes:
        raise InputError(f"scheme {args.scheme!r} needs a finite group or a compact Lie group; {G!r} is neither")
    kw = dict(scheme=schemes, lr=args.lr, tau=args.tau, beta=args.beta, noise_subspace=E, seed=args.seed,
              device=args.device, dtype=args.dtype, monitor=E, log_every=max(1, args.steps // 200),
              checkpoint_every=args.checkpoint_every, checkpoint_path=args.checkpoint, distributed=args.distributed,
              threads=args.threads)
    particles0 = None if args.resume else np.stack([th0] * len(schemes))
    try:
        r = train(P, particles0, batches, resume=args.checkpoint if args.resume else None, progress=sys.stderr.isatty(),
                  **kw)
        particles = gather_particles(r)
        if particles is not None:  # rank 0 of a distributed job reports
            _report(args, spec, P, E, schemes, r, particles, xt, yt, dump)
    finally:
        if args.distributed:
            _leave()
    return 0


def _leave() -> None:
    """Wait for every process, then close the process group (a process that exits with gloo's
    threads still running aborts)."""
    import torch.distributed as dist

    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def _report(args: argparse.Namespace, spec: Any, P: Any, E: Any, schemes: list, r: Any, particles: Any, xt: Any, yt: Any,
            dump: Callable) -> None:
    import numpy as np

    from ..numeric import escape, population_risk

    where = f", {r.shard[1] - r.shard[0]} of them on rank 0" if r.shard else ""
    print(f"symfix train {spec.name}: {spec.description}\n  {args.n_particles} particles{where}, {args.steps} steps x "
          f"batch {args.batch}, lr {args.lr:g}, tau {args.tau:g}, beta {args.beta:g}, {args.dtype} on {args.device}; "
          f"schemes {', '.join(schemes)} (one ensemble); dim E^G {E.dim} of {P.param_dim}")
    results, curves = {}, {}
    for k, s in enumerate(schemes):
        esc = escape(particles[k], E)
        risk = population_risk(P, particles[k], xt, yt, scheme="fa" if s == "fa" else "vanilla")
        curves[s] = [{"step": h["step"], "loss": h["loss"][k], "escape": h["escape"][k]} for h in r.history]
        results[s] = {"final_loss": curves[s][-1]["loss"], "test_risk": risk, "escape_w2sq": esc.w2sq,
                      "rmd_to_EG": esc.rmd}
        print(f"  {s:8s} test risk {risk:.3e}   RMD to E^G {esc.rmd:.2e}   (W2^2 {esc.w2sq:.2e})")
    if args.particles_out:
        from .._io import write_with

        def write(tmp: str) -> None:
            with open(tmp, "wb") as f:
                np.savez(f, particles=particles, schemes=np.array(schemes))

        write_with(args.particles_out, write)
        print(f"  wrote {args.particles_out}")
    if args.plot:
        from ._render import plot_training

        plot_training(curves, args.plot, title=f"symfix train {spec.name}")
        print(f"  wrote {args.plot}")
    dump(args, {"spec": spec.name, "settings": {k: v for k, v in vars(args).items() if k != "func"}, "results": results,
                "history": curves})
