"""examples/embeddings.py (the README's training and retrieval example) runs and learns.

It runs in a fresh interpreter that imports the same cosloss as this pytest
process (that package's directory first on PYTHONPATH, as in
test_notebook.py). Skip rule, as there: without scikit-learn (the notebook
extra) the test is skipped, except when CI is "true", where it fails.
"""

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import cosloss

IN_CI = os.environ.get("CI") == "true"
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "embeddings.py"


def test_embeddings_example_trains_and_retrieves(tmp_path):
    if IN_CI:
        importlib.import_module("sklearn")
    else:
        pytest.importorskip("sklearn", exc_type=ImportError)
    package_parent = str(Path(cosloss.__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_parent, env.get("PYTHONPATH")]))
    done = subprocess.run([sys.executable, str(EXAMPLE)], capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    recall = {name: float(value) for name, value in
              re.findall(r"^(raw pixels|random W|trained W).*?recall@1 ([0-9.]+)", out, re.M)}
    assert set(recall) == {"raw pixels", "random W", "trained W"}, out
    # Training must help: a random 16-d projection retrieves ~0.86, the trained one ~0.98.
    assert recall["trained W"] >= recall["random W"] + 0.05, out
    assert recall["trained W"] >= 0.95, out
    first, last = map(float, re.search(r"loss: ([0-9.]+) over the first .*?, ([0-9.]+) over", out)
                      .groups())
    assert last < first / 2, out
