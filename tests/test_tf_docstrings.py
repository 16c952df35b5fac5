"""The docstring examples of cosloss.tf run eagerly and print what they show."""

import doctest
import importlib

import numpy as np
import pytest

from tf_support import tf  # first: selects Keras 2 and applies the CI skip rule

import cosloss

TF_MODULES = ["cosloss.tf.nn", "cosloss.tf.losses", "cosloss.tf.seed", "cosloss.tf.keras.losses"]


@pytest.mark.parametrize("name", TF_MODULES)
def test_tf_docstring_examples(name):
    module = importlib.import_module(name)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    tests = [t for t in doctest.DocTestFinder().find(module, globs={"cosloss": cosloss, "np": np, "tf": tf})
             if t.examples]
    assert tests, f"{name} has no docstring examples"
    for test in tests:
        runner.run(test)
    assert runner.summarize(verbose=False).failed == 0
