"""The CLI under hypothesis-generated option values: exit 0 or 2, never a traceback, and a failed
run writes nothing."""

from __future__ import annotations

import contextlib
import io
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symfix.cli import main

BAD_NUMBERS = ["-1", "0", "1e30", "nan", "inf", "-inf", "abc", "", "2.5", "99999999999999999999"]
OPTIONS = {
    "analyze": {"--seed": ["0", "3"], "--report": ["r.md", "nodir/r.md", "sub/../r.md"], "--json": ["a.json", "x/y.json"]},
    "train": {"--steps": ["2", "3"], "--batch": ["2"], "--n-particles": ["3"], "--lr": ["1.0"], "--tau": ["0"],
              "--beta": ["0"], "--scheme": ["vanilla", "ea", "bogus"], "--device": ["cpu", "cuda", "tpu"],
              "--plot": ["p.png", "nodir/p.png"], "--json": ["t.json"], "--seed": ["1"]},
    "certify": {"--units": ["2"], "--samples": ["30"], "--json": ["c.json", "missing/c.json"]},
    "export": {"--format": ["json", "torch", "yaml"], "--out": ["o.json", "nodir/o.json"], "--width": ["2"]},
    "symmetries": {"--seed": ["0"], "--report": ["s.md", "no/s.md"], "--json": ["s.json"]},
}
SPECS = {"analyze": ["c2-neuron", "nope", "s3-neuron"], "train": ["c2-neuron"], "certify": ["c2-neuron"],
         "export": ["c2-neuron", "so2-neuron"], "symmetries": ["mlp-tanh-bn", "c2-neuron", "x.pt2"]}


@st.composite
def invocations(draw):
    cmd = draw(st.sampled_from(sorted(OPTIONS)))
    args = [cmd, draw(st.sampled_from(SPECS[cmd]))]
    opts = OPTIONS[cmd]
    for name in draw(st.lists(st.sampled_from(sorted(opts)), unique=True, max_size=4)):
        args += [name, draw(st.sampled_from(opts[name] + BAD_NUMBERS))]
    if cmd == "export" and "--format" not in args:
        args += ["--format", "json"]
    if cmd == "export" and "--out" not in args:
        args += ["--out", "o.json"]
    if cmd == "symmetries" and args[1] == "mlp-tanh-bn":
        args[1] = "tiny.toml"
    return args


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(invocations())
def test_cli_options_never_escape_as_tracebacks(tmp_path_factory, args):
    work = tmp_path_factory.mktemp("fuzz")
    (work / "sub").mkdir()  # sub/../x resolves; nodir/, missing/ and no/ do not exist
    (work / "tiny.toml").write_text('[network]\nwidths = [3, 4, 2]\nactivation = "relu"\n')
    cwd = os.getcwd()
    os.chdir(work)
    try:
        before = set(os.listdir("."))
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                rc = main(args)
            except SystemExit as e:  # argparse
                rc = e.code
        after = set(os.listdir("."))
    finally:
        os.chdir(cwd)
    assert rc in (0, 1, 2), (args, rc)
    assert "Traceback" not in err.getvalue()
    if rc == 2:
        assert after == before, (args, after - before)  # nothing written by a failed run
        assert err.getvalue().strip().count("\n") == 0, err.getvalue()
