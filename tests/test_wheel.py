"""The wheel installs and runs where there is no Go: a fresh venv, Go off PATH.

Building the wheel needs Go (gopy compiles the extension); using it must not,
since the Go runtime is linked into the extension. COSLOSS_WHEEL=path/to.whl
tests that wheel instead of building one (a wheel from `make wheel`, say).
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Building, a venv and a numpy download from PyPI: about a minute, not seconds.
pytestmark = pytest.mark.slow

# Runs inside the venv, from a directory outside the repository.
SMOKE = """
import importlib.metadata, importlib.resources, shutil, sys
import numpy as np
import cosloss

assert shutil.which("go") is None, shutil.which("go")
assert cosloss.__file__.startswith(sys.prefix), cosloss.__file__
assert cosloss.__version__ == importlib.metadata.version("cosloss"), cosloss.__version__
got = cosloss.keras.losses.cosine_similarity([[1., 2.]], [[2., 1.]])
assert got.dtype == np.float32 and np.array_equal(got, np.float32([-0.8])), repr(got)
assert importlib.resources.files("cosloss").joinpath("py.typed").is_file()

md = importlib.metadata.metadata("cosloss")
assert md["Requires-Python"] == ">=3.11", md["Requires-Python"]
assert md["License-Expression"] == "Apache-2.0", md["License-Expression"]
assert md["Description-Content-Type"] == "text/markdown", md["Description-Content-Type"]
assert {"test", "tf", "notebook"} <= set(md.get_all("Provides-Extra")), md.get_all("Provides-Extra")
print("smoke ok:", cosloss.__version__, got)
"""

# Left out of the copy that is built: outputs of earlier builds, which
# setuptools would otherwise pack into the wheel, and what a build never reads.
NOT_SOURCE = shutil.ignore_patterns(".git", "build", "dist", "*.egg-info", "_gocore", "__pycache__",
                                    ".hypothesis", ".pytest_cache", ".venv", "*.whl", "*.so")


def build_wheel(tmp_path: Path) -> Path:
    # A copy, so this build neither reads nor writes the work tree's build/,
    # which `make install` or another build may be using at the same time.
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=NOT_SOURCE)
    out = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--disable-pip-version-check", "-w", str(out), str(src)], check=True)
    (wheel,) = out.glob("cosloss-*.whl")
    return wheel


def go_free_env() -> dict:
    # No directory that holds a `go` executable, and no Go settings: the
    # installed package must not find a toolchain even by accident. PYTHONPATH
    # goes too, so that python/ (in-place builds) cannot stand in for the wheel.
    path = [d for d in os.environ.get("PATH", "").split(os.pathsep)
            if d and not os.access(os.path.join(d, "go"), os.X_OK)]
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("GO") and k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["PATH"] = os.pathsep.join(path)
    return env


def test_wheel_installs_and_runs_without_go(tmp_path):
    prebuilt = os.environ.get("COSLOSS_WHEEL")
    wheel = Path(prebuilt).resolve() if prebuilt else build_wheel(tmp_path)

    # The extension is compiled for one Python on one platform; a pure tag
    # (py3-none-any) would let pip install it where it cannot load.
    py = f"cp{sys.version_info.major}{sys.version_info.minor}"
    assert f"-{py}-{py}-linux_" in wheel.name, wheel.name

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    env = go_free_env()
    # numpy comes from PyPI as the wheel's dependency.
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    str(wheel)], check=True, env=env)

    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    smoke = subprocess.run([python, "-c", SMOKE], cwd=cwd, env=env,
                           capture_output=True, text=True)
    assert smoke.returncode == 0, smoke.stdout + smoke.stderr
    assert "smoke ok" in smoke.stdout
