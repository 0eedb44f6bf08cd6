"""Case study: the symbolic analysis of the paper's C2 teacher-student matrix unit.

X = Y = R^2, G = C2 swapping both coordinates, unit sigma(z x) with z in R^{2x2},
M_g z = g z g^T. Writes analysis.json (next to this script, or into --out) and prints the report.

    python case_studies/c2_matrix_unit/run.py [--quick] [--out DIR]
"""

import argparse
import json
import os

import numpy as np

from symfix.cli._report import analysis, format_analysis
from symfix.specs import load_spec


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the same run (it takes a second); for a uniform interface")
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    args = ap.parse_args(argv)
    a = analysis(load_spec("c2-matrix-unit").problem, name="c2-matrix-unit", rng=np.random.default_rng(0))
    print(format_analysis(a))
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "analysis.json"), "w") as fh:
        json.dump(a, fh, indent=2, default=str)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
