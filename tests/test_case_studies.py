"""The committed case-study outputs and their READMEs agree: every fitted number a README
quotes is recomputed here from the committed raw outputs (CSV/JSON) with the study's own code."""

import importlib.util
import json
import pathlib

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent / "case_studies"


def load(study: str):
    spec = importlib.util.spec_from_file_location(f"cs_{study}", ROOT / study / "run.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def read_csv(path):
    """The CSV reader of the case studies themselves (numbers converted)."""
    return load("teacher_student_c2").read_csv(path)


@pytest.mark.parametrize("run", ["quick", "full"])
def test_teacher_student_exponents_are_refitted_from_the_csv_and_quoted_as_computed(run):
    mod = load("teacher_student_c2")
    folder = ROOT / "teacher_student_c2" / ("full" if run == "full" else "")
    rows = read_csv(folder / "results.csv")
    Ns = sorted({r["N"] for r in rows})
    expo = mod._exponents(rows, Ns)
    stored = json.loads((folder / "exponent.json").read_text())
    readme = (folder / "README.md").read_text()
    for name, e in expo.items():
        assert e["n_range"][0] >= mod.LR  # only the mean-field regime lr/N <= 1
        for key in ("slope", "lo", "hi", "lack_of_fit_p"):
            assert abs(e[key] - stored[name][key]) <= 1e-9 * max(1.0, abs(e[key])), (name, key)
        assert f"| {name} | {e['slope']:.2f} [{e['lo']:.2f}, {e['hi']:.2f}] |" in readme


def test_multilayer_fits_and_summary_are_refitted_from_the_raw_results():
    mod = load("multilayer_mf")
    folder = ROOT / "multilayer_mf"
    res = json.loads((folder / "results.json").read_text())
    fits = mod.fits_a(res["a"])
    readme = (folder / "README.md").read_text()
    for f in fits:
        row = (f"| {f['task']} | {f['depth']} | {f['embedding']} | {f['when']} | {f['layer']} | "
               f"{'degenerate' if f['predicted_degenerate'] else 'diverse'} | {f['slope']:.2f} [{f['lo']:.2f}, {f['hi']:.2f}] |")
        assert row in readme, row
    confirmed = sum(f["verdict"] == "confirmed" for f in fits)
    assert f"Summary: {confirmed} of {len(fits)} rows confirmed" in readme
    for key, rows in res["c"]["rows"].items():
        f = mod.slope_interval(res["c"]["widths"], np.array(rows))
        assert f"{f['slope']:.2f} [{f['lo']:.2f}, {f['hi']:.2f}]" in readme


def test_discovery_readme_quotes_this_runs_history():
    folder = ROOT / "discovery_c2"
    r = json.loads((folder / "result.json").read_text())
    readme = (folder / "README.md").read_text()
    for h in r["history"]:
        assert f"| {h['iteration']} | {h['dim']} | {h['t']:.1f} |" in readme


@pytest.mark.parametrize("study", ["teacher_student_c2", "teacher_student_so2", "multilayer_mf", "discovery_c2", "noise_equilibrium"])
def test_every_study_writes_its_readme(study):
    """No hand-written numbers: the README is an output of run.py."""
    src = (ROOT / study / "run.py").read_text() + "".join(p.read_text() for p in (ROOT / study).glob("readme.py"))
    assert "README.md" in src


def test_so2_exponent_is_refitted_from_the_csv_and_quoted_as_computed():
    mod = load("teacher_student_so2")
    folder = ROOT / "teacher_student_so2"
    rows = read_csv(folder / "results.csv")
    e = mod.exponents(rows, sorted({r["N"] for r in rows}))
    assert abs(e["slope"] - json.loads((folder / "exponent.json").read_text())["slope"]) < 1e-9
    assert f"exponent {e['slope']:.2f} [{e['lo']:.2f}, {e['hi']:.2f}]" in (folder / "README.md").read_text()


def test_da_vs_ea_table_is_the_csv():
    folder = ROOT / "teacher_student_c2"
    readme = (folder / "README.md").read_text()
    for r in read_csv(folder / "da_vs_ea.csv"):
        assert f"| {r['T']} | {r['N']} | {r['steps']} | {r['rmd_da_ea']:.3g} | {r['floor_ea']:.3g} | {r['ratio']:.2f} |" in readme


def test_mode_connectivity_readme_is_the_csv():
    """Barrier means and ranges in the README recomputed from results.csv."""
    folder = ROOT / "mode_connectivity_digits"
    rows = read_csv(folder / "results.csv")
    readme = (folder / "README.md").read_text()
    for h in sorted({r["width"] for r in rows}):
        before = [r["barrier_before"] for r in rows if r["width"] == h]
        after = [r["barrier_after"] for r in rows if r["width"] == h]
        assert (f"| {h} | {len(before)} | {np.mean(before):.3f} ({min(before):.3f}-{max(before):.3f}) | "
                f"{np.mean(after):.3f} ({min(after):.3f}-{max(after):.3f}) |") in readme


def test_noise_equilibrium_drift_exponent_is_refitted():
    """Part (d): the exponent and its interval recomputed from the per-seed rows in results.json."""
    from symfix.numeric import exponent_fit

    folder = ROOT / "noise_equilibrium"
    d = json.loads((folder / "results.json").read_text())["d"]
    fit = exponent_fit(d["N"], [[r["drift"] for N in d["N"] for r in d["rows"] if r["N"] == N and r["seed"] == s]
                                for s in d["seeds"]])
    readme = (folder / "README.md").read_text()
    assert f"~ N^{fit.slope:.2f}, 95% interval [{fit.lo:.2f}, {fit.hi:.2f}]" in readme
