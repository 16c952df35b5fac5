# cosloss: `make demo` builds, installs and runs a short demo; `make test` runs every test.
# Needs Go (>= 1.26) and Python (>= 3.11) on PATH; Go modules come from go.mod and
# Python packages from PyPI through pip, so a fresh clone needs nothing else.

PYTHON ?= python3
GO ?= go
PIP := $(PYTHON) -m pip

.PHONY: install demo test gotest pytest fuzz bench develop clean

# Build the Go extension with gopy and install cosloss with its test dependencies,
# TensorFlow included: the parity tests need it (in CI, CI=true makes them fail
# rather than skip when it is missing).
install:
	$(PIP) install --quiet ".[test,tf]"

demo: install
	cd /tmp && $(PYTHON) -m cosloss

test: install gotest pytest

gotest:
	$(GO) vet ./...
	$(GO) test ./...

# Runs against the installed package, from outside the source tree.
pytest:
	$(PYTHON) -m pytest -q -p no:cacheprovider tests

# A short run of each Go fuzz target.
fuzz:
	$(GO) test -run XXX -fuzz FuzzCosine -fuzztime 30s ./cosloss
	$(GO) test -run XXX -fuzz FuzzL2Normalize -fuzztime 30s ./cosloss

bench: install
	$(GO) test -run XXX -bench . -benchtime 20x ./cosloss
	$(PYTHON) tests/bench_cosine.py

# Build the extension into python/cosloss/_gocore for in-place work:
# PYTHONPATH=python python -m pytest tests
develop:
	$(PIP) install --quiet "pybindgen==0.22.1" "numpy>=2.1,<3" "pytest>=8,<10" "hypothesis>=6.100,<7"
	$(PYTHON) setup.py --quiet build_gopy

clean:
	rm -rf build dist python/*.egg-info python/cosloss/_gocore
