"""Case study: the symbolic analysis of the paper's C2 teacher-student matrix unit.

X = Y = R^2, G = C2 swapping both coordinates, unit sigma(z x) with z in R^{2x2},
M_g z = g z g^T. Writes analysis.json next to this script and prints the report.

    python case_studies/c2_matrix_unit/run.py
"""

import json
import os

import numpy as np

from symfix.specs import load_spec
from symfix.cli._report import analysis, format_analysis

here = os.path.dirname(os.path.abspath(__file__))
a = analysis(load_spec("c2-matrix-unit").problem, name="c2-matrix-unit", rng=np.random.default_rng(0))
print(format_analysis(a))
with open(os.path.join(here, "analysis.json"), "w") as fh:
    json.dump(a, fh, indent=2, default=str)
