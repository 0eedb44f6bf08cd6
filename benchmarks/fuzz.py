"""The large fuzzing campaign over symfix's public entry points (issue 18).

    python benchmarks/fuzz.py [--examples 100000] [--chunk 2000] [--bound 10] [--jobs 2]

Runs the targets of ``tests/fuzzing.py`` round-robin with seeded numpy draws (example i of
target t uses the seed (i, crc32(t)), so every input can be replayed), in child processes of
``--chunk`` calls each so that a process abort (a signal, e.g. from inside a C library) is
counted rather than ending the campaign, each call under a ``--bound`` second alarm. Prints a
table per entry point: inputs, successes, SymfixErrors, foreign exceptions, calls over the
bound, and aborted chunks; then every foreign exception and timeout with its replay key.
Exit status 1 when anything but successes and SymfixErrors was seen.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def child(target: str, start: int, stop: int, bound: float) -> None:
    """Run examples [start, stop) of one target; one JSON line per call on stdout."""
    sys.path.insert(0, ROOT)
    from tests import fuzzing

    for i in range(start, stop):
        out = fuzzing.run(target, fuzzing.seeded(target, i), bound=bound)
        print(json.dumps({"i": i, "kind": out.kind, "detail": out.detail if out.kind in ("foreign", "timeout") else ""}),
              flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=100_000, help="total inputs across all entry points")
    ap.add_argument("--chunk", type=int, default=2000, help="calls per child process")
    ap.add_argument("--bound", type=float, default=10.0, help="seconds allowed per call")
    ap.add_argument("--jobs", type=int, default=2, help="child processes at a time")
    ap.add_argument("--child", nargs=3, metavar=("TARGET", "START", "STOP"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]), int(args.child[2]), args.bound)
        return 0
    sys.path.insert(0, ROOT)
    from tests import fuzzing

    targets = sorted(fuzzing.TARGETS)
    per = -(-args.examples // len(targets))
    jobs = [(t, s, min(s + args.chunk, per)) for t in targets for s in range(0, per, args.chunk)]
    counts: dict = collections.defaultdict(collections.Counter)
    bad: list = []
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "TQDM_DISABLE": "1"}
    t0 = time.perf_counter()

    def run(job: tuple) -> tuple:
        t, s, e = job
        cmd = [sys.executable, os.path.abspath(__file__), "--bound", str(args.bound), "--child", t, str(s), str(e)]
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
        return job, p

    with ThreadPoolExecutor(args.jobs) as pool:
        for (t, s, e), p in pool.map(run, jobs):
            rows = [json.loads(line) for line in p.stdout.splitlines() if line.startswith("{")]
            for r in rows:
                counts[t][r["kind"]] += 1
                if r["kind"] in ("foreign", "timeout"):
                    bad.append((t, r["i"], r["kind"], r["detail"]))
            if p.returncode != 0:
                counts[t]["aborted chunks"] += 1
                last = rows[-1]["i"] if rows else s - 1
                bad.append((t, last + 1, f"abort (exit {p.returncode})", p.stderr.strip().splitlines()[-1:] or ""))
                counts[t]["lost after abort"] += e - (last + 1)
    wall = time.perf_counter() - t0
    cols = ["inputs", "ok", "symfix", "foreign", "timeout", "aborted chunks"]
    print(f"{args.examples} requested, {per} per entry point, bound {args.bound:g} s, {wall:.0f} s wall with {args.jobs} jobs")
    print("| entry point | " + " | ".join(cols) + " |")
    print("|---|" + "---|" * len(cols))
    total: collections.Counter = collections.Counter()
    for t in targets:
        c = counts[t]
        c["inputs"] = c["ok"] + c["symfix"] + c["foreign"] + c["timeout"]
        total.update(c)
        print(f"| {t} | " + " | ".join(str(c[k]) for k in cols) + " |")
    print("| **all** | " + " | ".join(f"**{total[k]}**" for k in cols) + " |")
    for t, i, kind, detail in bad:
        print(f"{kind}: {t} example {i} (replay: fuzzing.run({t!r}, fuzzing.seeded({t!r}, {i}))): {detail}")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
