"""Install pip into a virtual environment made with `python -m venv --without-pip`.

Debian and Ubuntu ship ensurepip apart from python3 (package python3-venv),
so there `python3 -m venv .venv` fails until that package is installed. The
Makefile then creates .venv without pip and runs this script with the venv's
interpreter: it downloads one pinned pip wheel from PyPI, checks its sha256,
and lets that wheel install itself (a pip wheel runs as `python pip.whl/pip`).

Usage: .venv/bin/python tools/bootstrap_pip.py
"""

import hashlib
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

# pip 26.3, from https://pypi.org/simple/pip/ (its link and sha256 there).
PIP_URL = ("https://files.pythonhosted.org/packages/07/25/"
           "ee8c38ae72d66b844ce8eb9711ba905dba21ca1a8a0c960057c41cd23337/pip-26.3-py3-none-any.whl")
PIP_SHA256 = "f3b60b20ffaadd4415ed7957212a38ac63fa4c5fa375bd0f4a797777940fad13"


def main() -> None:
    if sys.prefix == sys.base_prefix:
        sys.exit("bootstrap_pip.py installs pip into a virtual environment: run it with the venv's python")
    name = PIP_URL.rsplit("/", 1)[1]
    print(f"downloading {name} from PyPI", flush=True)
    with urllib.request.urlopen(PIP_URL, timeout=120) as response:
        data = response.read()
    digest = hashlib.sha256(data).hexdigest()
    if digest != PIP_SHA256:
        sys.exit(f"{name}: sha256 {digest}, expected {PIP_SHA256}; not installing it")
    with tempfile.TemporaryDirectory() as tmp:
        wheel = Path(tmp) / name
        wheel.write_bytes(data)
        subprocess.run([sys.executable, str(wheel / "pip"), "install", "--quiet", "--no-index",
                        "--disable-pip-version-check", str(wheel)], check=True)


if __name__ == "__main__":
    main()
