# cosloss: `make demo` builds, installs and runs a short demo; `make test` runs every test.
# Needs Go (>= 1.26) and Python (>= 3.11) on PATH; Go modules come from go.mod and
# Python packages from PyPI through pip, so a fresh clone needs nothing else.

PYTHON ?= python3
GO ?= go
PIP := $(PYTHON) -m pip

.PHONY: install demo test gotest pytest wheel figures fuzz bench develop clean

# Build the Go extension with gopy and install cosloss with its test dependencies,
# TensorFlow included: the parity tests need it (in CI, CI=true makes them fail
# rather than skip when it is missing), and what the notebook's test runs it with.
install:
	$(PIP) install --quiet ".[test,tf,notebook]"

demo: install
	cd /tmp && $(PYTHON) -m cosloss

test: install gotest pytest

# The Go tests run once per build: portable, and with the AVX2 kernel set
# that GOEXPERIMENT=simd compiles in (each run covers every set it has);
# then once more under the race detector, for the goroutine split and the
# fork gate.
gotest:
	$(GO) vet ./cosloss/...
	GOEXPERIMENT=simd $(GO) vet ./cosloss/...
	$(GO) test ./cosloss/...
	GOEXPERIMENT=simd $(GO) test ./cosloss/...
	GOEXPERIMENT=simd $(GO) test -race ./cosloss/...

# Runs against the installed package; the numeric suites run again on the
# portable kernel set, which CPUs without AVX2 use.
pytest:
	$(PYTHON) -m pytest -q -p no:cacheprovider tests
	COSLOSS_KERNEL=portable $(PYTHON) -m pytest -q -p no:cacheprovider \
		tests/test_vectors.py tests/test_properties.py tests/test_gradients.py

# A wheel for this platform and Python (cp3XX-cp3XX-linux_x86_64: it carries the
# compiled extension) in dist/; installing it needs neither Go nor a compiler.
# setuptools reuses build/ and would pack modules left there by an older tree.
wheel:
	rm -rf build/lib build/bdist.*
	$(PIP) wheel --quiet --no-deps -w dist .

# Re-draw the quickstart notebook's figures into docs/. jupyter execute saves
# nothing without --inplace, so the committed notebook stays without outputs.
# The path must be absolute: the kernel runs in examples/.
figures: install
	COSLOSS_FIGURES_DIR=$(CURDIR)/docs $(PYTHON) -m jupyter execute --timeout=300 examples/quickstart.ipynb

# A short run of each Go fuzz target.
fuzz:
	GOEXPERIMENT=simd $(GO) test -run XXX -fuzz FuzzCosine -fuzztime 30s ./cosloss
	GOEXPERIMENT=simd $(GO) test -run XXX -fuzz FuzzL2Normalize -fuzztime 30s ./cosloss

# Go kernel benchmarks, then the issue's table (cosloss against numpy,
# TensorFlow and PyTorch when installed), also written to bench.json.
bench: install
	GOEXPERIMENT=simd $(GO) test -run XXX -bench . -benchtime 20x ./cosloss
	$(PYTHON) tests/bench.py --json bench.json

# Build the extension into python/cosloss/_gocore for in-place work:
# PYTHONPATH=python python -m pytest tests
develop:
	$(PIP) install --quiet "setuptools>=77,<81" "pybindgen==0.22.1" "numpy>=2.1,<3" "pytest>=8,<10" "hypothesis>=6.100,<7"
	$(PYTHON) setup.py --quiet build_gopy

clean:
	rm -rf build dist python/*.egg-info python/cosloss/_gocore
