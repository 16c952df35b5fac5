"""TF's names, argument order, defaults and enums (spec §2-§7)."""

import inspect

import pytest


def _params(fn):
    sig = inspect.signature(fn)
    return [(p.name, p.default) for p in sig.parameters.values()
            if p.name != "self"]


def _tf_params(fn):
    """The parameters a TensorFlow caller can pass: all but cosloss's keyword-only options."""
    return [(p.name, p.default) for p in inspect.signature(fn).parameters.values()
            if p.kind is not p.KEYWORD_ONLY]


def _options(fn):
    """cosloss's keyword-only semantics options (issue #14), which TensorFlow lacks."""
    return [(p.name, p.default) for p in inspect.signature(fn).parameters.values()
            if p.kind is p.KEYWORD_ONLY]


OPTIONS = [("eps_mode", None), ("zero", "finite"), ("clamp", False)]


E = inspect.Parameter.empty


def test_l2_normalize_signature(flavour):
    assert _params(flavour.mod.nn.l2_normalize) == [
        ("x", E), ("axis", None), ("epsilon", 1e-12), ("name", None), ("dim", None)]


def test_cosine_distance_signature(flavour):
    losses = flavour.mod.losses
    assert _params(losses.cosine_distance) == [
        ("labels", E), ("predictions", E), ("axis", None), ("weights", 1.0),
        ("scope", None), ("loss_collection", "losses"),
        ("reduction", "weighted_sum_by_nonzero_weights"), ("dim", None)]


def test_compute_weighted_loss_signature(flavour):
    assert _params(flavour.mod.losses.compute_weighted_loss) == [
        ("losses", E), ("weights", 1.0), ("scope", None),
        ("loss_collection", "losses"),
        ("reduction", "weighted_sum_by_nonzero_weights")]


@pytest.mark.parametrize("name", ["cosine_similarity", "cosine_proximity", "cosine"])
def test_keras_function_signature(flavour, name):
    fn = getattr(flavour.mod.keras.losses, name)
    assert _tf_params(fn) == [("y_true", E), ("y_pred", E), ("axis", -1)]
    # TF 1.15 as released has no options; the TF >= 2.0 face has them.
    assert _options(fn) == ([] if flavour.mod.__name__.endswith("tf115") else OPTIONS)


def test_keras_loss_class_signature(flavour):
    cls = flavour.mod.keras.losses.CosineSimilarity
    assert _params(cls.__init__) == [
        ("axis", -1), ("reduction", "auto"), ("name", "cosine_similarity")]
    assert _params(cls.__call__) == [
        ("y_true", E), ("y_pred", E), ("sample_weight", None)]


def test_keras_metric_signature(flavour):
    cls = flavour.mod.keras.metrics.CosineSimilarity
    assert _params(cls.__init__) == [
        ("name", "cosine_similarity"), ("dtype", None), ("axis", -1)]
    assert _params(cls.update_state) == [
        ("y_true", E), ("y_pred", E), ("sample_weight", None)]


@pytest.mark.parametrize("name", ["cosine_similarity_loss", "cosine_similarity_loss_v2",
                                  "cosine_similarity_loss_v3"])
def test_seed_form_signature(cosloss, name):
    assert _tf_params(getattr(cosloss, name)) == [("a", E), ("b", E), ("axis", -1)]
    assert _options(getattr(cosloss, name)) == OPTIONS


def test_v1_reduction_enum(flavour):
    R = flavour.mod.losses.Reduction
    assert R.NONE == "none"
    assert R.SUM == "weighted_sum"
    assert R.MEAN == "weighted_mean"
    assert R.SUM_OVER_BATCH_SIZE == "weighted_sum_over_batch_size"
    assert R.SUM_BY_NONZERO_WEIGHTS == "weighted_sum_by_nonzero_weights"
    assert R.SUM_OVER_NONZERO_WEIGHTS == "weighted_sum_by_nonzero_weights"
    # all() is a 6-tuple including the duplicate alias string.
    assert isinstance(R.all(), tuple) and len(R.all()) == 6
    assert sorted(R.all()) == sorted([
        "none", "weighted_sum", "weighted_mean", "weighted_sum_over_batch_size",
        "weighted_sum_by_nonzero_weights", "weighted_sum_by_nonzero_weights"])


@pytest.mark.parametrize("key", ["none", "weighted_sum", "weighted_mean",
                                 "weighted_sum_over_batch_size",
                                 "weighted_sum_by_nonzero_weights"])
def test_v1_reduction_validate_accepts(flavour, key):
    flavour.mod.losses.Reduction.validate(key)


@pytest.mark.parametrize("key", ["sum", "auto", "sum_over_batch_size", "mean", ""])
def test_v1_reduction_validate_rejects_keras_keys(flavour, key):
    # §4: only 'none' is shared between the v1 and Keras enums.
    with pytest.raises(ValueError, match="Invalid Reduction Key"):
        flavour.mod.losses.Reduction.validate(key)


def test_keras_reduction_enum(flavour):
    R = flavour.mod.keras.losses.Reduction
    assert (R.AUTO, R.NONE, R.SUM, R.SUM_OVER_BATCH_SIZE) == (
        "auto", "none", "sum", "sum_over_batch_size")


def test_keras_aliases_agree(flavour):
    k = flavour.mod.keras.losses
    a, b = [[1., 2., 3.]], [[3., 1., 2.]]
    out = [k.cosine_similarity(a, b), k.cosine_proximity(a, b), k.cosine(a, b)]
    assert out[0] == out[1] == out[2]


def test_public_docstrings(flavour, cosloss):
    # Issue #2: every public function and class has a docstring.
    objs = [flavour.mod.nn.l2_normalize, flavour.mod.losses.cosine_distance,
            flavour.mod.losses.compute_weighted_loss,
            flavour.mod.keras.losses.cosine_similarity,
            flavour.mod.keras.losses.CosineSimilarity,
            flavour.mod.keras.metrics.CosineSimilarity,
            cosloss.cosine_similarity_loss, cosloss.cosine_similarity_loss_v2,
            cosloss.cosine_similarity_loss_v3]
    missing = [getattr(o, "__qualname__", o) for o in objs
               if not (o.__doc__ or "").strip()]
    assert not missing


def test_pairwise_signatures(cosloss):
    # Issue #13's faces: scikit-learn's cosine_similarity(X, Y=None) with
    # out= keyword-only, and top_k as torch.topk / semantic_search order it.
    assert _params(cosloss.pairwise.cosine_similarity) == [("x", E), ("y", None), ("out", None)]
    assert inspect.signature(cosloss.pairwise.cosine_similarity).parameters["out"].kind \
        == inspect.Parameter.KEYWORD_ONLY
    assert _params(cosloss.pairwise.top_k) == [("queries", E), ("corpus", E), ("k", E),
                                               ("largest", True)]
    assert cosloss.pairwise.__all__ == ["cosine_similarity", "top_k"]
    assert "pairwise" in cosloss.__all__
