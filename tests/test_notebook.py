"""examples/quickstart.ipynb runs headless, draws its figures, and is committed clean.

The notebook runs in a fresh ipykernel (kernel "python3", the interpreter
running pytest) and imports the same cosloss that this pytest process
imports: the kernel gets that package's directory first on PYTHONPATH.

Skip rule, as in tf_support.py: without nbclient, nbformat, ipykernel or
matplotlib the tests that execute the notebook are skipped, except when the
environment variable CI is "true", where the import error fails them.
"""

import base64
import importlib
import json
import os
import struct
from pathlib import Path

import pytest

import cosloss

IN_CI = os.environ.get("CI") == "true"
NOTEBOOK = Path(__file__).resolve().parent.parent / "examples" / "quickstart.ipynb"
FIGURES = ["quickstart-forms.png", "quickstart-sign.png", "quickstart-timings.png",
           "quickstart-embeddings.png"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _require(name):
    if IN_CI:
        return importlib.import_module(name)  # an ImportError here fails the test in CI
    # Any ImportError (a broken install too) skips, as in tf_support.py.
    return pytest.importorskip(name, exc_type=ImportError)


def png_size(data):
    """(width, height) from a PNG's IHDR chunk, after checking the signature."""
    assert data[:8] == PNG_SIGNATURE, "not a PNG"
    assert data[12:16] == b"IHDR", "PNG without an IHDR chunk first"
    return struct.unpack(">II", data[16:24])


def assert_plausible_png(data, what):
    width, height = png_size(data)
    assert width > 100 and height > 100, f"{what}: {width}x{height} is too small for a figure"


def test_committed_notebook_has_no_outputs():
    # Plain json, so this check runs even where the notebook extras are missing.
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    assert nb["nbformat"] == 4
    code_cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code_cells
    for cell in code_cells:
        assert cell["outputs"] == [], f"cell {cell.get('id')} was committed with outputs"
        assert cell["execution_count"] is None, (
            f"cell {cell.get('id')} was committed with an execution count")


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """The executed notebook, the figures directory it saved into, and the kernel's cosloss."""
    for name in ("matplotlib", "ipykernel", "nbformat", "nbclient"):
        _require(name)
    import nbclient
    import nbformat

    nb = nbformat.read(NOTEBOOK, as_version=4)
    # One extra cell reports which cosloss the kernel imported.
    nb.cells.append(nbformat.v4.new_code_cell("import cosloss; print(cosloss.__file__, end='')"))

    workdir = tmp_path_factory.mktemp("notebook")
    figures = workdir / "figures"
    package_parent = str(Path(cosloss.__file__).resolve().parent.parent)
    env = dict(os.environ, COSLOSS_FIGURES_DIR=str(figures))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_parent, env.get("PYTHONPATH")]))

    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=300,
                                     resources={"metadata": {"path": str(workdir)}})
    client.execute(env=env)  # raises CellExecutionError on the first failing cell
    kernel_cosloss = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    return nb, figures, kernel_cosloss


def test_kernel_imports_the_same_cosloss(executed):
    _, _, kernel_cosloss = executed
    assert Path(kernel_cosloss).resolve() == Path(cosloss.__file__).resolve()


def test_notebook_runs_without_errors(executed):
    nb, _, _ = executed
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors, [f"{e.ename}: {e.evalue}" for e in errors]


def test_notebook_draws_its_figures(executed):
    nb, _, _ = executed
    pngs = [o.data["image/png"] for c in nb.cells if c.cell_type == "code" for o in c.outputs
            if "image/png" in o.get("data", {})]
    assert len(pngs) >= len(FIGURES), f"{len(pngs)} image/png outputs, expected {len(FIGURES)}"
    for i, png in enumerate(pngs):
        assert_plausible_png(base64.b64decode(png), f"image/png output {i}")


def test_notebook_saves_figures_when_asked(executed):
    _, figures, _ = executed
    assert sorted(p.name for p in figures.iterdir()) == sorted(FIGURES)
    for name in FIGURES:
        assert_plausible_png((figures / name).read_bytes(), name)
