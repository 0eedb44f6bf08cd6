# Set-up and the two entry points of the README: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test install bench emlp-env clean

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/symfix analyze --report demo/report.md

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_orbit.py
	$(BIN)/python benchmarks/bench_exact.py
	$(BIN)/python benchmarks/bench_train.py
	$(BIN)/python benchmarks/bench_nets.py
	$(BIN)/python benchmarks/bench_mfnet.py
	$(BIN)/python benchmarks/bench_ensemble.py
	$(BIN)/python benchmarks/bench_lie.py
	$(BIN)/python benchmarks/fuzz.py
	$(BIN)/python benchmarks/discovery/run.py
	$(BIN)/python benchmarks/discovery/cost.py

# EMLP 1.0.3 for the side-by-side columns of benchmarks/bench_lie.py, in an environment of its
# own (it brings jax and objax; symfix does not depend on it)
emlp-env:
	$(PYTHON) -m venv .venv-emlp
	.venv-emlp/bin/python -m pip install -q emlp==1.0.3 six

clean:
	rm -rf $(VENV) .venv-emlp .pytest_cache .hypothesis
