"""cosloss.tf's docstrings: the examples run eagerly and print what they show,
and every public callable documents its arguments, result and errors."""

import numpy as np
import pytest

from tf_support import tf  # first: selects Keras 2 and applies the CI skip rule

import cosloss
from test_docstrings import (CANNOT_RAISE, config_in_repr_problems, missing_sections,
                             public_callables, public_submodules, run_module_doctests)

TF_MODULES = ["cosloss.tf", "cosloss.tf.nn", "cosloss.tf.losses", "cosloss.tf.seed",
              "cosloss.tf.keras", "cosloss.tf.keras.losses", "cosloss.tf.keras.metrics",
              "cosloss.tf.torch", "cosloss.tf.pairwise", "cosloss.tf.contrastive"]

TF_CANNOT_RAISE = CANNOT_RAISE | {"cosloss.tf.keras.losses.CosineSimilarity.get_config",
                                  "cosloss.tf.keras.metrics.CosineSimilarity.get_config",
                                  "cosloss.tf._backend.get_backend"}


@pytest.mark.parametrize("name", TF_MODULES)
def test_tf_docstring_examples(name):
    run_module_doctests(name, {"cosloss": cosloss, "np": np, "tf": tf})


def test_every_tf_module_is_doctested():
    tf_api = [m for m in public_submodules() if m == "cosloss.tf" or m.startswith("cosloss.tf.")]
    assert sorted(tf_api) == sorted(TF_MODULES)


CALLABLES = public_callables(TF_MODULES)


@pytest.mark.parametrize("qualname", sorted(CALLABLES))
def test_tf_docstring_sections(qualname):
    missing = missing_sections(qualname, CALLABLES[qualname], TF_CANNOT_RAISE)
    assert not missing, f"{qualname}'s docstring lacks {missing}"


def test_tf_public_api_is_covered():
    for expected in ["cosloss.tf.nn.l2_normalize", "cosloss.tf.losses.cosine_distance",
                     "cosloss.tf.keras.losses.cosine_similarity",
                     "cosloss.tf.keras.losses.CosineSimilarity.call",
                     "cosloss.tf.seed.cosine_similarity_loss_v2"]:
        assert expected in CALLABLES


def test_tf_keras_loss_shows_its_configuration():
    assert not config_in_repr_problems([cosloss.tf.keras.losses.CosineSimilarity])
