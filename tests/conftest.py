"""Shared fixtures: the two API flavours (TF >= 2 and TF 1.15) and hypothesis settings."""

import dataclasses
import importlib
import os
from typing import Callable

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir

import reference as ref

# Keep Hypothesis' example database and patches inside tests/ (it writes its
# own .gitignore there) instead of the repository root.
set_hypothesis_home_dir(os.path.join(os.path.dirname(__file__), ".hypothesis"))

# Modest example counts keep the whole suite well under a minute.
settings.register_profile(
    "cosloss",
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.filter_too_much],
)
# COSLOSS_HYPOTHESIS_PROFILE=thorough runs ten times more examples.
settings.register_profile("thorough", parent=settings.get_profile("cosloss"),
                          max_examples=600)
settings.load_profile(os.environ.get("COSLOSS_HYPOTHESIS_PROFILE", "cosloss"))


@dataclasses.dataclass(frozen=True)
class Flavour:
    """One TF behaviour that cosloss reproduces, with its reference functions."""
    id: str
    module_name: str
    sign: int                      # sign of the Keras loss function and class
    keras_class_ref: Callable      # reference for CosineSimilarity()(...)
    keras_reduce_ref: Callable     # reference for the class's reduction step

    @property
    def mod(self):
        # Imported lazily so tests/test_reference.py runs without cosloss.
        return importlib.import_module(self.module_name)


TF2 = Flavour("tf2", "cosloss", -1, ref.keras_class_tf2, ref.keras_reduce_tf2)
TF115 = Flavour("tf115", "cosloss.tf115", +1, ref.keras_class_tf115,
                ref.keras_reduce_tf115)
FLAVOURS = [TF2, TF115]


# Session scope: hypothesis refuses function-scoped fixtures inside @given.
@pytest.fixture(scope="session", params=FLAVOURS, ids=[f.id for f in FLAVOURS])
def flavour(request):
    return request.param


@pytest.fixture(scope="session")
def cosloss():
    return importlib.import_module("cosloss")


@pytest.fixture
def restore_settings():
    """Puts cosloss's worker count and kernel set back after the test."""
    import cosloss as package

    workers, kernel = package.workers(), package.kernel()
    yield
    package.set_workers(workers)
    package.set_kernel(kernel)
