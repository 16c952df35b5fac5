"""cosloss's public docstrings: every example runs and prints what it shows, and
every public callable documents its arguments, result and errors.

The helpers here are shared with tests/test_tf_docstrings.py, which applies
them to cosloss.tf (that needs TensorFlow).
"""

import doctest
import importlib
import inspect
import io
import os
import pkgutil

import numpy as np
import pytest

import cosloss

# Every public module but cosloss.tf (tests/test_tf_docstrings.py has those).
PUBLIC_MODULES = [
    "cosloss", "cosloss.nn", "cosloss.losses", "cosloss.seed", "cosloss.keras",
    "cosloss.keras.losses", "cosloss.keras.metrics", "cosloss.tf115", "cosloss.tf115.nn",
    "cosloss.tf115.losses", "cosloss.tf115.keras", "cosloss.tf115.keras.losses",
    "cosloss.tf115.keras.metrics", "cosloss.torch", "cosloss.torch.nn",
    "cosloss.torch.nn.functional", "cosloss.pairwise", "cosloss.contrastive",
]

OPTIONFLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS

# Callables that cannot raise, so their docstrings have no "Raises:" section.
CANNOT_RAISE = {
    "cosloss._losses.tf1.Reduction", "cosloss._losses.tf1.Reduction.all",
    "cosloss._losses.keras.Reduction", "cosloss._losses.keras.Reduction.all",
    "cosloss._losses.keras.LossBase.get_config",
    "cosloss.keras.metrics.CosineSimilarity.get_config",
    "cosloss.keras.metrics.CosineSimilarity.result",
    "cosloss.keras.metrics.CosineSimilarity.reset_states",
    "cosloss._core.go.workers", "cosloss._core.go.kernel", "cosloss._core.go.kernels",
}


def public_submodules(package="cosloss"):
    """Every module of package whose dotted name has no part starting with "_".

    Found on disk, so cosloss.tf (which imports TensorFlow) is listed
    without being imported.
    """
    names = [package]
    todo = [(package, importlib.import_module(package).__path__)]
    while todo:
        name, path = todo.pop()
        for info in pkgutil.iter_modules(path):
            if info.name.startswith("_"):
                continue
            full = f"{name}.{info.name}"
            names.append(full)
            if info.ispkg:
                todo.append((full, [os.path.join(p, info.name) for p in path]))
    return sorted(names)


def _public_entries(module):
    """(name, object) for module's __all__ entries that are not modules."""
    for name in getattr(module, "__all__", ()):
        obj = getattr(module, name)
        if not inspect.ismodule(obj):
            yield name, obj


def _own_classes(cls):
    """cls and its bases defined in cosloss (not object, not Keras's)."""
    return [c for c in cls.__mro__ if c.__module__.startswith("cosloss")]


def module_doctests(module, globs):
    """The doctests of module's docstring, its objects and its public API.

    The public API includes what module re-exports (tf115.nn's
    l2_normalize, say) and the cosloss base classes of its classes.
    """
    finder = doctest.DocTestFinder()
    found = finder.find(module, globs=globs)
    for name, obj in _public_entries(module):
        for part in _own_classes(obj) if inspect.isclass(obj) else [obj]:
            found += finder.find(part, name=f"{module.__name__}.{getattr(part, '__name__', name)}",
                                 module=False, globs=globs)
    unique = {}
    for test in found:
        if test.examples:
            unique.setdefault((test.docstring, test.lineno), test)
    return list(unique.values())


def run_module_doctests(name, globs):
    """Runs every doctest of module name; fails if it has none or any fails."""
    module = importlib.import_module(name)
    tests = module_doctests(module, dict(globs))
    assert tests, f"{name} has no docstring examples"
    runner = doctest.DocTestRunner(optionflags=OPTIONFLAGS)
    out = io.StringIO()
    for test in tests:
        runner.run(test, out=out.write)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}:\n{out.getvalue()}"


def public_callables(module_names):
    """{qualified name: callable} for the public API of the named modules.

    Each module's __all__ entries that are callable, and for classes their
    public methods (and __call__) defined in cosloss. Keys are where the
    object is defined, so re-exports and aliases appear once.
    """
    found = {}
    for module_name in module_names:
        for _, obj in _public_entries(importlib.import_module(module_name)):
            if not callable(obj):
                continue
            found[f"{obj.__module__}.{obj.__qualname__}"] = obj
            if not inspect.isclass(obj):
                continue
            for attr in dir(obj):
                if attr.startswith("_") and attr != "__call__":
                    continue
                owner = next(c for c in obj.__mro__ if attr in c.__dict__)
                member = getattr(obj, attr)
                if owner.__module__.startswith("cosloss") and callable(member):
                    found[f"{owner.__module__}.{member.__qualname__}"] = member
    return found


def missing_sections(qualname, obj, cannot_raise=CANNOT_RAISE):
    """The docstring sections obj lacks: ">>>" always; "Args:" when it takes
    arguments; "Returns:" for functions that return something; "Raises:"
    unless qualname is in cannot_raise."""
    doc = inspect.getdoc(obj) or ""
    signature = inspect.signature(obj)
    needed = [">>>"]
    if any(p.name not in ("self", "cls") for p in signature.parameters.values()):
        needed.append("Args:")
    if not inspect.isclass(obj) and signature.return_annotation not in ("None", None):
        needed.append("Returns:")
    if qualname not in cannot_raise:
        needed.append("Raises:")
    return [section for section in needed if section not in doc]


def config_in_repr_problems(classes):
    """Public loss and metric classes whose docstring or repr misses their configuration."""
    problems = []
    for cls in classes:
        obj = cls()
        text = repr(obj)
        for key, value in obj.get_config().items():
            if f"{key}={value!r}" not in text:
                problems.append(f"repr {text} lacks {key}={value!r}")
        if f"{cls.__module__}.{cls.__name__}(" not in (cls.__doc__ or ""):
            problems.append(f"{cls.__qualname__}'s docstring shows no repr")
    return problems


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_docstring_examples(name):
    workers = cosloss.workers()
    try:
        run_module_doctests(name, {"cosloss": cosloss, "np": np})
    finally:
        cosloss.set_workers(workers)  # set_workers' example changes the setting


def test_every_public_module_is_doctested():
    numpy_api = [m for m in public_submodules() if m != "cosloss.tf" and not m.startswith("cosloss.tf.")]
    assert sorted(numpy_api) == sorted(PUBLIC_MODULES)


CALLABLES = public_callables(PUBLIC_MODULES)


@pytest.mark.parametrize("qualname", sorted(CALLABLES))
def test_docstring_sections(qualname):
    missing = missing_sections(qualname, CALLABLES[qualname])
    assert not missing, f"{qualname}'s docstring lacks {missing}"


def test_public_api_is_covered():
    # The section test reaches through re-exports to the objects themselves.
    for expected in ["cosloss.nn.l2_normalize", "cosloss.losses.cosine_distance",
                     "cosloss.losses.compute_weighted_loss", "cosloss._losses.tf1.Reduction.validate",
                     "cosloss.keras.losses.cosine_similarity", "cosloss._losses.keras.LossBase.__call__",
                     "cosloss._losses.keras.LossBase.value_and_grad", "cosloss._losses.keras.Reduction.all",
                     "cosloss.keras.metrics.CosineSimilarity.update_state",
                     "cosloss.tf115.keras.losses.CosineSimilarity",
                     "cosloss.seed.cosine_similarity_loss_v3", "cosloss._grad.value_and_grad"]:
        assert expected in CALLABLES


def test_keras_objects_show_their_configuration():
    classes = [cosloss.keras.losses.CosineSimilarity, cosloss.tf115.keras.losses.CosineSimilarity,
               cosloss.keras.metrics.CosineSimilarity]
    assert not config_in_repr_problems(classes)


def test_readme_examples():
    # The README's `>>>` sessions are doctests too, so its quick start
    # cannot drift from what cosloss prints.
    path = os.path.join(os.path.dirname(__file__), os.pardir, "README.md")
    with open(path, encoding="utf-8") as f:
        # A code fence right after an example would read as expected output.
        text = "".join("\n" if line.startswith("```") else line for line in f)
    parser = doctest.DocTestParser()
    test = parser.get_doctest(text, {}, "README.md", path, 0)
    assert len(test.examples) >= 10
    runner = doctest.DocTestRunner(optionflags=OPTIONFLAGS)
    runner.run(test)
    assert runner.failures == 0, f"{runner.failures} README example(s) failed"
