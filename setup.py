"""Builds cosloss: gopy compiles the Go binding into a CPython extension.

`pip install .` runs the build_py command below, which needs Go on PATH
(the Go modules, gopy and goimports included, come from go.mod) and pybindgen
(a build requirement in pyproject.toml). `python setup.py build_gopy` builds
the same extension into python/cosloss/_gocore for in-place development.
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


def run(cmd, env=None):
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=ROOT, env=env, check=True)


def build_gocore(dest: Path) -> None:
    """Compile the binding with gopy and copy the importable files to dest."""
    if shutil.which("go") is None:
        sys.exit("cosloss needs Go (1.26 or later) on PATH to build its extension")
    with tempfile.TemporaryDirectory() as tools:
        # gopy runs goimports from PATH; build the version go.mod pins.
        run(["go", "build", "-o", os.path.join(tools, "goimports"), "golang.org/x/tools/cmd/goimports"])
        env = dict(os.environ, PATH=tools + os.pathsep + os.environ["PATH"])
        # Go 1.26's experimental simd/archsimd enables the AVX2 kernel set;
        # the portable set is compiled in beside it and chosen on other CPUs.
        # COSLOSS_GOEXPERIMENT="" builds the portable set alone.
        env["GOEXPERIMENT"] = os.environ.get("COSLOSS_GOEXPERIMENT", "simd")
        shutil.rmtree(GOPY_OUT, ignore_errors=True)
        run(["go", "tool", "gopy", "build", f"-output={GOPY_OUT}", "-name=gocore",
             f"-vm={sys.executable}", BINDING], env=env)
    ext = "_gocore" + sysconfig.get_config_var("EXT_SUFFIX")
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    for name in GENERATED + (ext,):
        shutil.copy2(GOPY_OUT / name, dest / name)


class BuildPyWithGo(build_py):
    """build_py that also compiles the Go extension into the build tree."""

    def run(self):
        super().run()
        build_gocore(Path(self.build_lib) / "cosloss" / "_gocore")


class BuildGopy(Command):
    """Build the extension into python/cosloss/_gocore (development)."""

    description = "build the gopy extension in place"
    user_options = []

    def initialize_options(self):
        pass

    def finalize_options(self):
        pass

    def run(self):
        build_gocore(ROOT / "python" / "cosloss" / "_gocore")


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
