"""The ``symfix`` command: thin layer that parses, calls the library and renders.

    symfix analyze [SPEC] [--json F] [--report F.md]     group, dims, E^G, sharing, equivariance
    symfix train [SPEC] [--scheme S] [--plot F.png]      mean-field training on teacher data
        [--checkpoint F --checkpoint-every K] [--resume] [--distributed] [--particles-out F.npz]
    symfix discover [SPEC] [--plot F.png]                find E^G from data without the group
    symfix certify [SPEC]                                best risk over all / WI / SI laws
    symfix export [SPEC] --format json|torch|onnx --out F
    symfix symmetries [MODEL] [--report F.md]            parameter symmetry group of a whole network
    symfix case-study NAME [--quick]                     run a folder of case_studies/
    symfix specs                                         built-in specs

SPEC is a built-in name (``symfix specs``) or a path to a TOML spec file. Every command takes
``--json FILE`` and ``--seed``; errors are one line on stderr with exit status 2, and no
command leaves a half-written file behind.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
from typing import Any, Sequence

from .._errors import InputError, SymfixError

__all__ = ["main"]


def _dump(args: argparse.Namespace, payload: dict) -> None:
    if getattr(args, "json", None):
        from .._io import write_text  # temporary file, then rename: never half-written

        write_text(args.json, json.dumps(payload, indent=2, default=_jsonable) + "\n")
        print(f"  wrote {args.json}")


def _jsonable(x: Any) -> Any:
    import numpy as np

    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, (np.floating, np.integer)):
        return x.item()
    return str(x)


def _spec(args: argparse.Namespace) -> Any:
    from ..specs import load_spec

    return load_spec(args.spec)


# ------------------------------------------------------------------------------------ analyze


def _cmd_analyze(args: argparse.Namespace) -> int:
    import numpy as np

    from ._report import analysis, format_analysis

    spec = _spec(args)
    a = analysis(spec.problem, name=spec.name, rng=np.random.default_rng(args.seed))
    print(format_analysis(a, spec.description))
    if args.report:
        from ._render import write_report

        png = write_report(spec, a, args.report)
        print(f"  wrote {args.report} and {png}")
    _dump(args, a)
    return 0 if a["equivariance"]["ok"] else 1


def _cmd_list(args: argparse.Namespace) -> int:
    from ..specs import BUILTIN_SPECS, load_spec

    import tomllib

    from ..nets import NETWORK_SPECS

    for name in BUILTIN_SPECS:
        print(f"{name:20s} {load_spec(name).description}")
    for name, text in NETWORK_SPECS.items():
        print(f"{name:20s} {tomllib.loads(text)['description']}  (network: symfix symmetries {name})")
    return 0


# -------------------------------------------------------------------------------- teacher data


def _teacher(problem: Any, rng: Any, k: int = 5) -> Any:
    """A WI teacher: k random units with their orbits (finite G), or k SI units (Lie groups)."""
    import numpy as np

    base = rng.standard_normal((k, problem.param_dim))
    G = problem.group
    if G.is_finite and G.order <= 64:
        return np.concatenate([problem.act(g, base) for g in G.elements()])
    return np.asarray(problem.fixed_subspace().project(base))


def _data(problem: Any, teacher: Any, n: int, rng: Any, scale: float = 2.0) -> tuple:
    x = scale * rng.standard_normal((n, problem.unit.d))
    return x, problem.unit.forward(x, teacher).mean(0)


# -------------------------------------------------------------------------------------- train


def _cmd_train(args: argparse.Namespace) -> int:
    from ._train import cmd_train

    return cmd_train(args, _spec(args), _dump, _teacher, _data)


# ----------------------------------------------------------------------------------- discover


def _cmd_discover(args: argparse.Namespace) -> int:
    import numpy as np

    from ..discovery import discover, identify

    spec = _spec(args)
    P = spec.problem
    if not (args.input_scale > 0 and np.isfinite(args.input_scale)):
        raise InputError(f"--input-scale must be a positive number, got {args.input_scale}")
    if args.max_samples < args.samples:
        raise InputError(f"--max-samples ({args.max_samples}) must be at least --samples ({args.samples})")
    teacher = _teacher(P, np.random.default_rng(args.seed))

    def sampler(rng: Any, n: int) -> tuple:  # the spec's teacher; discover draws more when it needs them
        return _data(P, teacher, n, rng, scale=args.input_scale)

    r = discover(P.unit, sampler, seed=args.seed, progress=sys.stderr.isatty(), closure=args.closure,
                 n_samples=args.samples, max_samples=args.max_samples, n_particles=args.n_particles, lr=args.lr,
                 horizon=args.horizon)
    E = P.fixed_subspace()
    angle = r.angle_to(E)
    for a in r.attempts[:-1]:
        print(f"  {a['samples']} samples: {a['status']}; drew more (the iterations below use {r.samples})")
    for h in r.history:
        notes = [f"decided by: {h['decided_by']}",
                 "probe particles" if h.get("probe") else "",
                 f"orbit closure proposed +{h['closure']}" if h.get("closure") else "",
                 "closure accepted" if h.get("closure_accepted") else "",
                 f"estimate's standard error {h['angle_error']:.2g} rad" if h.get("angle_error") else ""]
        print(f"  iteration {h['iteration']}: dim {h['dim']}, off-subspace signal {h['signal']:.3e} "
              f"(leak bound {h['leak_bound']:.3e}), t {h['t']:.2f} (quiet below {h['quiet']:.2f}, threshold "
              f"{h['threshold']:.2f}), directions added {h['added']}" + "".join(f"; {n}" for n in notes if n))
    ranked = identify(r, P.unit)
    best = ranked[0] if ranked else None
    if best is None or best.angle > 0.1:
        print("  no catalogue group action matches the discovered subspace (largest angle > 0.1 rad)")
    else:
        print(f"  best catalogue match: {best.name} (dim {best.dim}, largest angle {best.angle:.2e} rad)")
    comparison = _discovery_verdict(r, E, angle)
    verdict = f"{r.status.upper()}: {comparison}"
    print(f"  {verdict}; {r.samples} samples, {r.seconds:.2f} s")
    print(f"  ({r.reason})")
    if args.plot:
        from ._render import plot_discovery

        plot_discovery(r.history, args.plot, title=f"symfix discover {spec.name}", true_dim=E.dim, verdict=verdict)
        print(f"  wrote {args.plot}")
    _dump(args, {"spec": spec.name, "status": r.status, "reason": r.reason, "verdict": comparison, "dim": r.dim,
                 "true_dim": E.dim, "largest_angle": angle, "seconds": r.seconds, "samples": r.samples,
                 "samples_needed": r.samples_needed, "angle_error": r.angle_error, "attempts": r.attempts,
                 "history": r.history, "basis": r.basis, "rationalised": r.exact_basis is not None,
                 "exact_basis": [[str(x) for x in row] for row in r.exact_basis] if r.exact_basis else None,
                 "matches": [{"name": m.name, "dim": m.dim, "angle": m.angle} for m in ranked[:5]]})
    return 0


def _discovery_verdict(r: Any, E: Any, angle: float) -> str:
    """The result against the spec's E^G: an exact match, a subspace of E^G (k of m directions),
    or a subspace that is not inside E^G (with its largest angle to E^G)."""
    import numpy as np
    from scipy.linalg import subspace_angles

    from ..symbolic import dense_orthonormal

    if r.dim == E.dim and angle <= 1e-9:
        return f"exact match with E^G (dim {r.dim}; largest angle {angle:.1e} rad)"
    Q = np.asarray(r.basis, dtype=np.float64)
    off = float(np.linalg.norm(Q - np.asarray(E.project(Q.T)).T, 2)) if r.dim else 0.0  # ‖(I − P_E) Q‖
    if off <= 1e-6:
        return f"subspace of E^G ({r.dim} of {E.dim} directions)"
    far = float(np.max(subspace_angles(Q, dense_orthonormal(E)))) if E.dim and r.dim else float(np.pi / 2)
    return f"not inside E^G (dim {r.dim} vs {E.dim}; largest angle {far:.2g} rad)"


# ------------------------------------------------------------------------------------ certify


def _cmd_certify(args: argparse.Namespace) -> int:
    import numpy as np

    from ..discovery import certify, orbit_dictionary

    spec = _spec(args)
    P = spec.problem
    if not P.group.is_finite:
        raise InputError(f"{spec.name}: certify needs a finite group (orbit-closed dictionary)")
    rng = np.random.default_rng(args.seed)
    base = rng.standard_normal((args.units, P.param_dim))
    teacher = _teacher(P, rng, k=2)
    dic = orbit_dictionary(P, np.concatenate([base, teacher]))
    x, y = _data(P, teacher, args.samples, rng, scale=1.0)
    c = certify(P, x, y, dictionary=dic)
    print(f"  {c.summary()}")
    _dump(args, {"spec": spec.name, "risk_all": c.risk_all, "risk_wi": c.risk_wi, "risk_si": c.risk_si, "gap": c.gap,
                 "verdict": c.verdict, "slack": c.slack,
                 "status": c.status, "solver": c.solver, "tol": c.tol, "n_units": c.n_units, "n_samples": c.n_samples})
    return 0


# ------------------------------------------------------------------------------------- export


def _cmd_export(args: argparse.Namespace) -> int:
    from .. import export

    spec = _spec(args)
    if args.format == "json":
        d = export.save_design(spec, args.out)
        print(f"  design of {spec.name}: dim E^G {d['dims']['E^G']} of {d['dims']['Z']}; wrote {args.out}")
    else:
        net = export.to_torch(spec.problem, args.width, seed=args.seed)
        if args.format == "onnx":
            export.to_onnx(net, args.out)
        else:
            export.save_torch(net, args.out)
        print(f"  {args.format} module of {args.width} units constrained to E^G; wrote {args.out}")
    _dump(args, {"spec": spec.name, "format": args.format, "out": args.out})
    return 0


# --------------------------------------------------------------------------------- symmetries


def _network(model: str, seed: int) -> tuple:
    """(module, inputs, description) for a .pt2 file or a spec with a [network] table."""
    import tomllib

    import torch

    from ..nets import NETWORK_SPECS, network

    if model.endswith(".pt2"):
        if not os.path.isfile(model):
            raise InputError(f"{model}: no such file")
        try:
            ep = torch.export.load(model)
        except Exception as exc:  # torch raises many types on a foreign or damaged archive
            raise InputError(f"{model}: not a torch.export archive ({type(exc).__name__})") from None
        args_ = ep.example_inputs[0] if ep.example_inputs else ()
        if len(args_) != 1 or not isinstance(args_[0], torch.Tensor):
            raise InputError(f"{model}: the exported model must take one tensor input")
        g = torch.Generator().manual_seed(seed)
        x = torch.randn(tuple(args_[0].shape), generator=g, dtype=torch.float64)
        return ep.module(), x, f"torch.export archive {os.path.basename(model)}"
    if model in NETWORK_SPECS:
        table = tomllib.loads(NETWORK_SPECS[model])
    elif os.path.isfile(model):
        try:
            with open(model, "rb") as fh:
                table = tomllib.load(fh)
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"{model}: malformed TOML: {exc}") from None
    else:
        raise InputError(f"{model}: no such network spec or file; built-in: {', '.join(NETWORK_SPECS)}; "
                         "or give a .pt2 file (torch.export.save) or a TOML file with a [network] table")
    if "network" not in table:
        raise InputError(f"{model}: no [network] table; symfix symmetries needs a .pt2 file or a spec with "
                         "[network] widths = [...], activation = \"relu\"")
    torch.manual_seed(seed)
    net = network(table["network"], model)
    d = table["network"]["widths"][0]
    D = sum(p.numel() for p in net.parameters())
    n = max(16, min(4 * D // max(1, table["network"]["widths"][-1]), 512))
    x = torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return net, x, str(table.get("description", "network from a [network] table"))


def _cmd_symmetries(args: argparse.Namespace) -> int:
    import numpy as np

    from ..nets import symmetries

    module, x, description = _network(args.model, args.seed)
    S = symmetries(module)
    print(f"symfix symmetries {args.model}: {description}")
    print(f"  parameters D = {S.param_dim}; free hidden spaces {len(S.hidden_spaces)}; "
          f"order of the discrete part {S.order_text}; Lie dimension {S.lie_dim}")
    for line in S.table().splitlines():
        print("  " + line)
    c = S.check(module, x, n_samples=20, rng=np.random.default_rng(args.seed))
    check = (f"discrete max relative error {c.discrete_error:.1e} over {c.n_elements} elements, Lie {c.lie_error:.1e} "
             f"over {c.n_lie_checked} of {c.lie_dim} generators"
             + (f" (approximate ones: {c.approximate_error:.1e}, BatchNorm eps > 0)" if c.approximate_error else "")
             + f", control {c.control_error if c.control_error is None else f'{c.control_error:.2g}'}"
             f" -> {'verified' if c.ok else 'NOT verified to tol ' + format(c.tol, 'g')}")
    print(f"  check on {x.shape[0]} random inputs: {check}")
    fd = S.functional_dimension(module, x)
    jr = fd.note if fd.jacobian_rank is None else f"Jacobian rank {fd.jacobian_rank} on {x.shape[0]} inputs"
    print(f"  functional dimension D - dim(orbit) = {fd.by_symmetry}; {jr}")
    summary = {"model": args.model, "description": description, "param_dim": S.param_dim, "order": S.order_text,
               "lie_dim": S.lie_dim, "check": check, "check_ok": c.ok,
               "functional_dimension": {"by_symmetry": fd.by_symmetry, "orbit_dim": fd.orbit_dim,
                                        "jacobian_rank": fd.jacobian_rank, "note": fd.note},
               "hidden_spaces": [{"index": h.index, "tie": h.tie, "width": h.width, "symmetries": list(h.symmetries),
                                  "values": h.name, "note": h.note} for h in S.hidden_spaces]}
    if args.report:
        from ._render import write_network_report

        png = write_network_report(args.model, summary, S, args.report)
        print(f"  wrote {args.report} and {png}")
    _dump(args, summary)
    return 0


def _writable(*paths: str | None) -> None:
    """Refuse up front an output path whose folder does not exist (before any work, so that a
    failed run never leaves some of its outputs behind). The folder is checked as the system
    will resolve it (``sub/../r.md`` needs ``sub``)."""
    from .._io import check_writable

    for p in paths:
        if p:
            check_writable(p)


# --------------------------------------------------------------------------------- case-study


_CASE_STUDIES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "case_studies")


def _case_studies() -> list[str]:
    root = _CASE_STUDIES
    return sorted(n for n in os.listdir(root) if os.path.isfile(os.path.join(root, n, "run.py"))) if os.path.isdir(root) else []


def _cmd_case_study(args: argparse.Namespace) -> int:
    root = _CASE_STUDIES
    names = _case_studies()
    if args.name not in names:
        raise InputError(f"unknown case study {args.name!r}; available: {', '.join(names) or 'none (run from a source checkout)'}")
    cmd = [sys.executable, os.path.join(root, args.name, "run.py")]
    if args.quick:
        cmd.append("--quick")
    if args.out:
        cmd += ["--out", args.out]
    return subprocess.call(cmd)


# ------------------------------------------------------------------------------------- parser


def _int_at_least(lo: int, hi: int = 10**9) -> Any:
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if not lo <= v <= hi:
            raise argparse.ArgumentTypeError(f"must be between {lo} and {hi}, got {v}")
        return v

    return parse


def _float_in(lo: float, *, strict: bool) -> Any:
    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not (math.isfinite(v) and (v > lo if strict else v >= lo)):
            raise argparse.ArgumentTypeError(f"must be a finite number {'>' if strict else '>='} {lo:g}, got {text}")
        return v

    return parse


class _Parser(argparse.ArgumentParser):
    """Errors as one line on stderr, exit status 2 (no usage block)."""

    def error(self, message: str) -> Any:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        sys.exit(2)



def build_parser() -> argparse.ArgumentParser:
    from ..specs import DEFAULT

    from .. import __version__

    p = _Parser(prog="symfix", description="Symmetry analysis of neural networks (mean-field view).",
                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--version", action="version", version=f"symfix {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    def cmd(name: str, help_: str, func: Any, spec: bool = True) -> argparse.ArgumentParser:
        c = sub.add_parser(name, help=help_, description=help_, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
        if spec:
            c.add_argument("spec", nargs="?", default=DEFAULT, help="built-in spec name (symfix specs) or TOML file")
            c.add_argument("--json", metavar="FILE", help="also write the results as JSON")
            c.add_argument("--seed", type=_int_at_least(0, 2**32 - 1), default=0, help="seed of everything random")
        c.set_defaults(func=func)
        return c

    a = cmd("analyze", "group, dimensions, E^G, parameter sharing and the equivariance check", _cmd_analyze)
    a.add_argument("--report", metavar="FILE.md", help="write a Markdown report with LaTeX and a sharing-pattern PNG")

    t = cmd("train", "mean-field training on teacher-student data from the spec", _cmd_train)
    from ._train import add_train_arguments

    add_train_arguments(t, _int_at_least, _float_in)

    d = cmd("discover", "find the largest SI-supporting subspace from data, without the group", _cmd_discover)
    d.add_argument("--samples", type=_int_at_least(100, 10**7), default=320_000,
                   help="synthetic teacher samples drawn first (the defaults here are DiscoverySettings')")
    d.add_argument("--max-samples", type=_int_at_least(100, 10**8), default=1_280_000,
                   help="discovery draws more samples (at least twice as many) while its status is not exact, up to this")
    d.add_argument("--n-particles", type=_int_at_least(1, 10**5), default=32, help="particles per constrained run")
    d.add_argument("--lr", type=_float_in(0, strict=True), default=1.0, help="learning rate")
    d.add_argument("--horizon", type=_int_at_least(1, 10**6), default=200, help="training steps per iteration")
    d.add_argument("--input-scale", type=_float_in(0, strict=True), default=1.0,
                   help="standard deviation of the synthetic inputs")
    d.add_argument("--closure", choices=["auto", "orbits", "signed-orbits", "none"], default="auto",
                   help="auto: propose the classes of coordinates where the found vectors agree (up to sign) and keep "
                        "them only when the velocity test at their span finds nothing; orbits / signed-orbits: assume "
                        "the symmetry permutes parameter coordinates (and changes signs); none: never")
    d.add_argument("--plot", metavar="FILE.png", help="signal and threshold per iteration")

    c = cmd("certify", "best MF risk over all, WI and SI laws on a dictionary (cvxpy)", _cmd_certify)
    c.add_argument("--units", type=_int_at_least(1, 2000), default=12, help="random base units in the dictionary")
    c.add_argument("--samples", type=_int_at_least(20, 10**5), default=500, help="input samples of the risk")

    e = cmd("export", "design JSON, torch module or ONNX file constrained to E^G", _cmd_export)
    e.add_argument("--format", required=True, choices=["json", "torch", "onnx"])
    e.add_argument("--out", required=True, metavar="FILE")
    e.add_argument("--width", type=_int_at_least(1, 10**6), default=16, help="number of units of the exported module")

    s = cmd("case-study", "run a case study from case_studies/", _cmd_case_study, spec=False)
    s.add_argument("name", help="a folder of case_studies/: " + ", ".join(_case_studies()))
    s.add_argument("--quick", action="store_true", help="the short version of the study")
    s.add_argument("--out", default=None, help="output folder (default: the study's own folder)")

    y = cmd("symmetries", "parameter-space symmetry group of a whole network (.pt2 or a [network] spec)",
            _cmd_symmetries, spec=False)
    y.add_argument("model", nargs="?", default="mlp-relu",
                   help="a torch.export .pt2 file, a built-in network spec (mlp-relu, mlp-tanh-bn) or a TOML file "
                        "with a [network] table (default mlp-relu)")
    y.add_argument("--report", metavar="FILE.md", help="write a Markdown report with a picture of the network graph")
    y.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    y.add_argument("--seed", type=_int_at_least(0, 2**32 - 1), default=0, help="seed of the random weights and inputs")

    cmd("specs", "list the built-in specs", _cmd_list, spec=False)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command != "case-study":  # case-study's --out is a folder
            _writable(*(getattr(args, a, None) for a in ("json", "report", "plot", "out")))
        return int(args.func(args))
    except SymfixError as err:
        print(f"symfix: error: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"symfix: error: {err}", file=sys.stderr)
        return 2


def _entry() -> Any:  # console-script entry point
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    _entry()
