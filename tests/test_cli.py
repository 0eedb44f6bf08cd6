import json
import os
import subprocess
import sys

import pytest


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "symfix.cli", *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def test_analyze_default_reports_the_paper_problem(tmp_path):
    out = tmp_path / "a.json"
    r = run("analyze", "--json", str(out))
    assert r.returncode == 0, r.stderr
    assert "order 2" in r.stdout and "dim 2" in r.stdout
    assert "z[0,0] = z[1,1]" in r.stdout and "z[0,1] = z[1,0]" in r.stdout
    assert "equivariant" in r.stdout
    data = json.loads(out.read_text())
    assert data["dims"] == {"X": 2, "Y": 2, "Z": 4, "E^G": 2}
    assert data["character_formula_dim"] == 2
    assert data["fixed_subspace"]["basis"] == [{"z[0,0]": "1", "z[1,1]": "1"}, {"z[0,1]": "1", "z[1,0]": "1"}]
    assert data["equivariance"]["ok"] is True


@pytest.mark.parametrize("name", ["c2-neuron", "s3-neuron", "d4-patch", "so2-neuron"])
def test_analyze_builtins(name):
    r = run("analyze", name)
    assert r.returncode == 0, r.stderr
    assert "E^G" in r.stdout


def test_errors_are_one_line_and_write_nothing(tmp_path):
    out = tmp_path / "x.json"
    r = run("analyze", "no-such-problem", "--json", str(out))
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "unknown problem" in r.stderr
    assert not out.exists()
    r = run("analyze", "--json", str(tmp_path / "missing" / "x.json"))
    assert r.returncode == 2 and "does not exist" in r.stderr
    assert os.listdir(tmp_path) == []


def test_specs_lists_builtins():
    r = run("specs")
    assert r.returncode == 0 and "c2-matrix-unit" in r.stdout


@pytest.mark.parametrize("module", ["symfix.symbolic", "symfix"])
def test_import_boundary_no_torch(module):
    code = f"import sys, {module}; assert 'torch' not in sys.modules, 'torch imported'"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr


def test_import_boundary_check_can_fail():
    # negative control: the same check does fail once torch is imported
    code = "import sys, torch, symfix.symbolic; assert 'torch' not in sys.modules"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode != 0
