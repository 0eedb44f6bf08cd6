"""`symfix symmetries`: network specs, torch.export archives, reports, and bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from torch import nn

import symfix
import symfix.nets as sn


def run(*args):
    return subprocess.run([sys.executable, "-m", "symfix.cli", *args], capture_output=True, text=True, timeout=300)


def test_symmetries_of_the_default_network_spec(tmp_path):
    rep, js = tmp_path / "r.md", tmp_path / "r.json"
    r = run("symmetries", "--report", str(rep), "--json", str(js))
    assert r.returncode == 0, r.stderr
    data = json.loads(js.read_text())
    assert data["param_dim"] == 64 * 128 + 128 + 128 * 128 + 128 + 128 * 10 + 10
    assert data["lie_dim"] == 256 and data["order"].startswith("128! * 128!")
    assert data["check_ok"] is True and "verified" in r.stdout
    assert data["functional_dimension"]["by_symmetry"] == data["param_dim"] - 256
    assert (tmp_path / "r-graph.png").stat().st_size > 1000 and "![network graph](r-graph.png)" in rep.read_text()


def test_batchnorm_spec_counts_bias_translations_and_agrees_with_the_jacobian(tmp_path):
    spec = tmp_path / "n.toml"
    spec.write_text('[network]\nwidths = [5, 6, 4, 2]\nactivation = "tanh"\nbatchnorm = true\n')
    js = tmp_path / "n.json"
    r = run("symmetries", str(spec), "--json", str(js))
    assert r.returncode == 0, r.stderr
    fd = json.loads(js.read_text())["functional_dimension"]
    D = 5 * 6 + 6 + 2 * 6 + 6 * 4 + 4 + 2 * 4 + 4 * 2 + 2
    # per BatchNorm: n scale invariances of the weights feeding it and n bias translations
    assert fd["by_symmetry"] == D - 2 * (6 + 4) == fd["jacobian_rank"]


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_a_torch_export_archive_gives_the_same_group_as_the_eager_model(tmp_path):
    class Res(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b, self.o = nn.Linear(3, 4), nn.Linear(4, 4), nn.Linear(4, 2)

        def forward(self, x):
            h = self.a(x)
            return self.o(torch.tanh(h + self.b(torch.relu(h))))

    torch.manual_seed(0)
    for net, x in [(Res(), torch.randn(8, 3)),
                   (nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 36, 4), nn.Tanh(),
                                  nn.Linear(4, 2)), torch.randn(8, 2, 8, 8))]:
        path = tmp_path / "m.pt2"
        ep = torch.export.export(net, (x,))
        torch.export.save(ep, str(path))
        S0, S1 = sn.symmetries(net), sn.symmetries(torch.export.load(str(path)).module())
        assert (S0.order, S0.lie_dim, S0.param_dim) == (S1.order, S1.lie_dim, S1.param_dim)
        assert [h.width for h in S0.hidden_spaces] == [h.width for h in S1.hidden_spaces]
        g = ep.module()
        assert S1.check(g, x.double(), n_samples=10).ok
        js = tmp_path / "m.json"
        r = run("symmetries", str(path), "--json", str(js))
        assert r.returncode == 0, r.stderr
        assert json.loads(js.read_text())["lie_dim"] == S0.lie_dim


@pytest.mark.parametrize("args, words", [
    (["no-such-net"], "no such network spec"),
    (["c2-neuron"], "no such network spec"),
    (["mlp-relu", "--report", "/nonexistent-folder/r.md"], "does not exist"),
])
def test_symmetries_bad_input_is_one_line(args, words):
    r = run("symmetries", *args)
    assert r.returncode == 2 and words in r.stderr and r.stderr.strip().count("\n") == 0
    assert "Traceback" not in r.stderr


def test_network_table_errors_name_the_key(tmp_path):
    from symfix.nets import network

    for table, words in [({"widths": [3, 4, 2], "activaton": "relu"}, "did you mean 'activation'"),
                         ({"widths": [3]}, "at least two"), ({"widths": [3, 2.5, 2]}, "integers"),
                         ({"widths": [3, 4, 2], "activation": "swish"}, "unknown 'network.activation"),
                         ({"widths": [3, 4, 2], "batchnorm": "yes"}, "true or false")]:
        with pytest.raises(symfix.SymfixError, match=words):
            network(table)
    spec = tmp_path / "bad.toml"
    spec.write_bytes(b"\xff\xfe[network]")
    r = run("symmetries", str(spec))
    assert r.returncode == 2 and "malformed" in r.stderr


def test_specs_lists_the_network_specs():
    r = run("specs")
    assert r.returncode == 0 and "mlp-relu" in r.stdout and "mlp-tanh-bn" in r.stdout


def test_check_separates_approximate_batchnorm_generators():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2)).double()
    S = sn.symmetries(net)
    c = S.check(net, torch.randn(16, 3, dtype=torch.float64), rng=np.random.default_rng(0))
    assert 1e-9 < c.approximate_error < 1e-3  # eps = 1e-5 breaks scale invariance slightly
    assert c.discrete_error <= 1e-12 and c.lie_error <= 1e-12 and c.ok
    assert S.hidden_spaces[0].note.startswith("approximate")


def test_every_readme_python_block_runs_in_order(tmp_path):
    """The README's Python blocks, concatenated in order, run as written (warnings are errors)."""
    import os
    import re

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with open(os.path.join(root, "README.md")) as fh:
        text = fh.read()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 5 and sum("import symfix.nets" in b for b in blocks) == 2
    for b in blocks:  # only public names
        assert not re.search(r"from symfix[.\w]*\._\w+ import|import symfix\.[\w.]*\._", b), b
    script = tmp_path / "readme.py"
    script.write_text("\n".join(blocks))
    r = subprocess.run([sys.executable, "-W", "error", str(script)], capture_output=True, text=True, timeout=600,
                       cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "S_32" in r.stdout and "(R+)^32" in r.stdout and "(C2)^32" in r.stdout
    assert (tmp_path / "d4.onnx").exists() and (tmp_path / "run.npz").exists()


def test_mode_connectivity_case_study_quick(tmp_path):
    """The case study's --quick run: alignment lowers the test-loss barrier, function unchanged."""
    import os

    pytest.importorskip("sklearn")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    r = subprocess.run([sys.executable, os.path.join(root, "case_studies", "mode_connectivity_digits", "run.py"),
                        "--quick", "--out", str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    s = json.loads((tmp_path / "summary.json").read_text())
    for w in s["widths"].values():
        assert w["after_mean"] < 0.25 * w["before_mean"]
        assert w["max_output_change_after_align"] < 1e-10
    assert (tmp_path / "figure_paths.png").exists() and "| 512 |" in (tmp_path / "README.md").read_text()
