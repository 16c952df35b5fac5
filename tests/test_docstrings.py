"""Every example in cosloss's public docstrings runs and prints what it shows."""

import doctest
import importlib

import numpy as np
import pytest

import cosloss

PUBLIC_MODULES = [
    "cosloss", "cosloss.nn", "cosloss.losses", "cosloss.seed", "cosloss.keras.losses",
    "cosloss.keras.metrics", "cosloss._keras", "cosloss.tf115.keras.losses", "cosloss._core",
]


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    tests = [t for t in finder.find(module, globs={"cosloss": cosloss, "np": np}) if t.examples]
    workers = cosloss.workers()
    for test in tests:
        runner.run(test)
    cosloss.set_workers(workers)  # an example changes the setting
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"


def test_every_public_callable_has_an_example():
    missing = []
    for name in PUBLIC_MODULES[1:]:
        module = importlib.import_module(name)
        for attr in getattr(module, "__all__", []):
            obj = getattr(module, attr)
            if callable(obj) and ">>>" not in (obj.__doc__ or ""):
                missing.append(f"{name}.{attr}")
    assert not missing, f"no docstring example: {missing}"
