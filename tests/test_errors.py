"""Bad input raises ValueError/TypeError naming the argument (spec §10), never RuntimeError.

pytest.raises(ValueError) does not catch RuntimeError (a Go error leaking
through gopy), so each case also checks "never a RuntimeError".
"""

import re

import importlib

import numpy as np
import pytest

f32, f64 = np.float32, np.float64
X = np.ones((2, 3), dtype=f32)
X64 = np.ones((2, 3), dtype=f64)


def _keras_fn(flavour):
    return flavour.mod.keras.losses.cosine_similarity


def _keras_cls(flavour):
    return flavour.mod.keras.losses.CosineSimilarity()


def _metric_update(flavour):
    return flavour.mod.keras.metrics.CosineSimilarity().update_state


def _seed(cosloss_mod):
    return [cosloss_mod.cosine_similarity_loss, cosloss_mod.cosine_similarity_loss_v2,
            cosloss_mod.cosine_similarity_loss_v3]


# ---------------------------------------------------------------------------
# None inputs
# ---------------------------------------------------------------------------

def test_cosine_distance_none_labels(flavour):
    with pytest.raises(ValueError, match=re.escape("labels must not be None.")):
        flavour.mod.losses.cosine_distance(None, X, axis=1)


def test_cosine_distance_none_predictions(flavour):
    with pytest.raises(ValueError, match=re.escape("predictions must not be None.")):
        flavour.mod.losses.cosine_distance(X, None, axis=1)


@pytest.mark.parametrize("get", [_keras_fn, _keras_cls, _metric_update],
                         ids=["function", "class", "metric"])
@pytest.mark.parametrize("which", ["y_true", "y_pred"])
def test_keras_none_inputs(flavour, get, which):
    args = {"y_true": X, "y_pred": X, which: None}
    with pytest.raises((ValueError, TypeError), match=which):
        get(flavour)(args["y_true"], args["y_pred"])


def test_l2_normalize_none(flavour):
    with pytest.raises((ValueError, TypeError), match=r"\bx\b"):
        flavour.mod.nn.l2_normalize(None, axis=-1)


def test_compute_weighted_loss_none(flavour):
    with pytest.raises((ValueError, TypeError), match="losses"):
        flavour.mod.losses.compute_weighted_loss(None)


# The seed forms' arguments are called `a` and `b`: too short to search for
# in a message, so only the exception type is asserted for them.
@pytest.mark.parametrize("idx", [0, 1, 2])
def test_seed_none(cosloss, idx):
    with pytest.raises((ValueError, TypeError)):
        _seed(cosloss)[idx](None, X)
    with pytest.raises((ValueError, TypeError)):
        _seed(cosloss)[idx](X, None)


# ---------------------------------------------------------------------------
# Shape mismatches
# ---------------------------------------------------------------------------

def test_cosine_distance_shape_mismatch_message(flavour):
    # Predictions' shape comes first, as in TF.
    with pytest.raises(ValueError,
                       match=re.escape("Shapes (2, 4) and (2, 3) are incompatible")) as e:
        flavour.mod.losses.cosine_distance(np.ones((2, 3), f32), np.ones((2, 4), f32), axis=1)
    assert re.search("labels|predictions", str(e.value))


def test_cosine_distance_no_broadcasting(flavour):
    # §3: no broadcasting between labels and predictions, even when numpy could.
    with pytest.raises(ValueError, match="incompatible"):
        flavour.mod.losses.cosine_distance(np.ones((1, 3), f32), np.ones((2, 3), f32), axis=1)
    with pytest.raises(ValueError, match="incompatible"):
        flavour.mod.losses.cosine_distance(np.ones(3, f32), np.ones((2, 3), f32), axis=-1)


@pytest.mark.parametrize("get", [_keras_fn, _keras_cls], ids=["function", "class"])
def test_keras_incompatible_shapes(flavour, get):
    with pytest.raises(ValueError, match="y_true|y_pred"):
        get(flavour)(np.ones((2, 3), f32), np.ones((2, 4), f32))


def test_metric_incompatible_shapes(flavour):
    with pytest.raises(ValueError, match="y_true|y_pred"):
        _metric_update(flavour)(np.ones((2, 3), f32), np.ones((2, 4), f32))


@pytest.mark.parametrize("idx", [0, 1, 2])
def test_seed_incompatible_shapes(cosloss, idx):
    with pytest.raises(ValueError):
        _seed(cosloss)[idx](np.ones((2, 3), f32), np.ones((2, 4), f32))


@pytest.mark.parametrize("idx", [0, 1, 2])
def test_seed_errors_use_the_seed_signature(cosloss, idx):
    # The seed forms take (a, b): their messages say so, and name the form.
    fn = _seed(cosloss)[idx]
    with pytest.raises(ValueError, match=r"^Incompatible shapes: a has shape \(2, 3\) and b has shape \(2, 4\)"):
        fn(np.ones((2, 3), f32), np.ones((2, 4), f32))
    with pytest.raises(TypeError, match=rf"^{fn.__name__} needs b of a floating dtype .* got int64"):
        fn(np.ones((2, 3), f32), np.ones((2, 3), np.int64))
    with pytest.raises(ValueError, match=r"^Incompatible shapes: a has shape"):
        cosloss.value_and_grad(fn, np.ones((2, 3), f32), np.ones((2, 4), f32))


# ---------------------------------------------------------------------------
# axis out of range, dim/axis conflicts, missing axis
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("axis", [2, -3, 7, [0, 2]])
def test_l2_normalize_axis_out_of_range(flavour, axis):
    with pytest.raises(ValueError, match="axis"):
        flavour.mod.nn.l2_normalize(X, axis=axis)


@pytest.mark.parametrize("axis", [2, -3])
def test_cosine_distance_axis_out_of_range(flavour, axis):
    with pytest.raises(ValueError, match="axis"):
        flavour.mod.losses.cosine_distance(X, X, axis=axis)


# TF 2.21 eagerly: cosine_distance, the Keras function, class and metric
# take a list of axes; a repeated one is an InvalidArgumentError ("Axes
# contains duplicate dimension: 1"), one out of range too ("Invalid
# reduction dimension (3 for input with 3 dimension(s)"). cosloss raises
# ValueError naming the argument, as for a single axis.
LIST_AXIS_USERS = {
    "cosine_distance": lambda f, a, b, axis: f.mod.losses.cosine_distance(a, b, axis=axis),
    "cosine_distance dim": lambda f, a, b, axis: f.mod.losses.cosine_distance(a, b, dim=axis),
    "function": lambda f, a, b, axis: _keras_fn(f)(a, b, axis=axis),
    "class": lambda f, a, b, axis: f.mod.keras.losses.CosineSimilarity(axis=axis)(a, b),
    "metric": lambda f, a, b, axis: f.mod.keras.metrics.CosineSimilarity(axis=axis)(a, b),
    "seed": lambda f, a, b, axis: _seed(importlib.import_module("cosloss"))[0](a, b, axis=axis),
}


@pytest.mark.parametrize("user", LIST_AXIS_USERS)
@pytest.mark.parametrize("axis, match", [
    ([1, 1], r"NAME=\[1, 1\] repeats an axis"), ((2, -1), r"NAME=\(2, -1\) repeats an axis"),
    ([1, 3], r"NAME=3 is out of range"), ((0, -4), r"NAME=-4 is out of range"),
])
def test_axis_list_repeated_or_out_of_range(flavour, user, axis, match):
    x = np.ones((2, 3, 4), f32)
    name = "dim" if user.endswith("dim") else "axis"
    with pytest.raises(ValueError, match=match.replace("NAME", name)):
        LIST_AXIS_USERS[user](flavour, x, x, axis)


@pytest.mark.parametrize("user", LIST_AXIS_USERS)
@pytest.mark.parametrize("axis, got", [
    ([1, 1.5], "1.5 of type float"), ([[1, 2]], r"\[\[1, 2\]\] of type list, which nests"),
    (np.array([[1, 2]]), r"an array of shape \(1, 2\)"), ([True], "True of type bool"),
])
def test_axis_list_of_non_ints(flavour, user, axis, got):
    # TF flattens nested axes; cosloss takes one level and says so.
    x = np.ones((2, 3, 4), f32)
    name = "dim" if user.endswith("dim") else "axis"
    with pytest.raises(TypeError, match=rf"^{name} must be an int.*, got {got}"):
        LIST_AXIS_USERS[user](flavour, x, x, axis)


@pytest.mark.parametrize("user", ["function", "class", "metric", "seed"])
def test_axis_list_input_broadcast_along_a_listed_axis(flavour, user):
    # TF normalizes such an input over its own smaller slices; cosloss, which
    # merges the listed axes into one, refuses it and names the input.
    with pytest.raises(ValueError, match=r"(y_true|a) has shape \(2, 1, 4\), which broadcasts "
                                         r"along axis 1 of the listed axes \[1, 2\]"):
        LIST_AXIS_USERS[user](flavour, np.ones((2, 1, 4), f32), np.ones((2, 3, 4), f32), [1, 2])


@pytest.mark.parametrize("axis", [2, -3])
def test_keras_function_axis_out_of_range(flavour, axis):
    with pytest.raises(ValueError, match="axis"):
        _keras_fn(flavour)(X, X, axis=axis)


def test_keras_class_axis_out_of_range(flavour):
    with pytest.raises(ValueError, match="axis"):
        flavour.mod.keras.losses.CosineSimilarity(axis=5)(X, X)


def test_metric_axis_out_of_range(flavour):
    with pytest.raises(ValueError, match="axis"):
        flavour.mod.keras.metrics.CosineSimilarity(axis=5).update_state(X, X)


@pytest.mark.parametrize("idx", [0, 1, 2])
def test_seed_axis_out_of_range(cosloss, idx):
    with pytest.raises(ValueError, match="axis"):
        _seed(cosloss)[idx](X, X, axis=2)


def test_cosine_distance_without_axis(flavour):
    with pytest.raises(ValueError, match=re.escape("You must specify 'axis'.")):
        flavour.mod.losses.cosine_distance(X, X)


def test_cosine_distance_axis_checked_before_none_inputs(flavour):
    # §3 check order: the axis check comes before the None checks.
    with pytest.raises(ValueError, match=re.escape("You must specify 'axis'.")):
        flavour.mod.losses.cosine_distance(None, None)


@pytest.mark.parametrize("call", ["cosine_distance", "l2_normalize"])
def test_dim_with_axis(flavour, call):
    msg = re.escape("Cannot specify both 'dim' and 'axis'")
    with pytest.raises(ValueError, match=msg):
        if call == "cosine_distance":
            flavour.mod.losses.cosine_distance(X, X, axis=1, dim=1)
        else:
            flavour.mod.nn.l2_normalize(X, axis=1, dim=1)


# ---------------------------------------------------------------------------
# Invalid reductions
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["sum", "auto", "bogus"])
def test_v1_invalid_reduction(flavour, key):
    with pytest.raises(ValueError, match=re.escape(f"Invalid Reduction Key {key}")):
        flavour.mod.losses.cosine_distance(X, X, axis=1, reduction=key)
    with pytest.raises(ValueError, match=re.escape(f"Invalid Reduction Key {key}")):
        flavour.mod.losses.compute_weighted_loss(X, reduction=key)


@pytest.mark.parametrize("key", ["weighted_sum", "weighted_mean", "mean", "bogus"])
def test_keras_invalid_reduction(flavour, key):
    # The constructor validates (§6), before any data is seen.
    with pytest.raises(ValueError, match=re.escape(f"Invalid Reduction Key {key}")):
        flavour.mod.keras.losses.CosineSimilarity(reduction=key)


@pytest.mark.parametrize("key", ["Bar", "weighted_sum", None])
def test_keras_reduction_set_later_is_validated_when_used(flavour, key):
    # TensorFlow checks the reduction again when it reduces, so an attribute
    # set after construction gives its ValueError, not a KeyError.
    loss = flavour.mod.keras.losses.CosineSimilarity()
    loss.reduction = key
    with pytest.raises(ValueError, match=re.escape(f"Invalid Reduction Key {key}")):
        loss(X, X)
    with pytest.raises(ValueError, match=re.escape(f"Invalid Reduction Key {key}")):
        loss.value_and_grad(X, X)


# ---------------------------------------------------------------------------
# Weights that don't broadcast
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(2,), (2, 3), (3, 1), (1, 1, 1)])
def test_cosine_distance_bad_weights(flavour, shape):
    # Losses have shape (2, 1); weights must be scalar, (2,1), (1,1) or (1,... same rank).
    with pytest.raises(ValueError, match="weights can not be broadcast to values"):
        flavour.mod.losses.cosine_distance(X, X, axis=1, weights=np.ones(shape, f32))


@pytest.mark.parametrize("shape", [(3,), (2, 2), (4, 3)])
def test_compute_weighted_loss_bad_weights(flavour, shape):
    with pytest.raises(ValueError, match="weights can not be broadcast to values"):
        flavour.mod.losses.compute_weighted_loss(X, weights=np.ones(shape, f32))


@pytest.mark.parametrize("shape", [(3,), (2, 3), (3, 1)])
def test_keras_class_bad_sample_weight(flavour, shape):
    # Losses have shape (2,): (3,) and (3,1) mismatch; (2,3) has a non-1 axis to squeeze.
    loss = flavour.mod.keras.losses.CosineSimilarity()
    with pytest.raises(ValueError, match="weight"):
        loss(X, X, sample_weight=np.ones(shape, f32))


def test_tf115_class_strict_weight_rank(cosloss):
    # Losses (2,2) and weights (1,1,1,2): a rank difference of 2 is neither
    # squeezed nor expanded.  tf-keras would numpy-broadcast it; 1.15's strict
    # rule rejects the rank mismatch (§6, §13).
    y = np.ones((2, 2, 3), f32)
    w = np.ones((1, 1, 1, 2), f32)
    with pytest.raises(ValueError, match="weight"):
        cosloss.tf115.keras.losses.CosineSimilarity()(y, y, sample_weight=w)


def test_metric_bad_sample_weight(flavour):
    m = flavour.mod.keras.metrics.CosineSimilarity()
    with pytest.raises(ValueError, match="weight"):
        m.update_state(X, X, sample_weight=np.ones(3, f32))


# ---------------------------------------------------------------------------
# Unsupported dtypes: object, complex, integer, mixed
# ---------------------------------------------------------------------------

OBJ = np.array([[1.0, "a", None]], dtype=object)
CPLX = np.ones((2, 3), dtype=np.complex64)


# complex64 and complex128 are l2_normalize's (TF 2.x's complex branch); a
# complex dtype TensorFlow has no counterpart of is not.
@pytest.mark.parametrize("bad", [OBJ, CPLX.astype(np.clongdouble)], ids=["object", "clongdouble"])
def test_l2_normalize_bad_dtype(flavour, bad):
    with pytest.raises(TypeError, match=r"\bx\b"):
        flavour.mod.nn.l2_normalize(bad, axis=-1)


def test_l2_normalize_complex_errors(flavour):
    # A complex epsilon stays a TypeError (TF 2.21: "Cannot convert (1e-12+0j)
    # to EagerTensor of dtype float"), and a complex upstream for real x too.
    with pytest.raises(TypeError, match="epsilon"):
        flavour.mod.nn.l2_normalize(CPLX, axis=-1, epsilon=1e-12 + 0j)
    with pytest.raises(TypeError, match="upstream"):
        flavour.mod.value_and_grad(flavour.mod.nn.l2_normalize, np.ones((2, 3), f32),
                                   upstream=CPLX)
    with pytest.raises(ValueError, match=r"axis=\[1, -1\] repeats"):
        flavour.mod.nn.l2_normalize(CPLX, axis=[1, -1])
    # TensorFlow types a Python list that starts with a float and holds a
    # complex as mixed types (a ValueError); one that starts complex is complex128.
    with pytest.raises(ValueError, match="mixed types"):
        flavour.mod.nn.l2_normalize([3.0, 4j])
    assert flavour.mod.nn.l2_normalize([4j, 3]).dtype == np.complex128


@pytest.mark.parametrize("bad", [OBJ, CPLX], ids=["object", "complex"])
@pytest.mark.parametrize("which", ["labels", "predictions"])
def test_cosine_distance_bad_dtype(flavour, bad, which):
    good = np.ones(bad.shape, f32)
    args = {"labels": good, "predictions": good, which: bad}
    with pytest.raises(TypeError, match=which):
        flavour.mod.losses.cosine_distance(args["labels"], args["predictions"], axis=1)


@pytest.mark.parametrize("bad", [OBJ, CPLX], ids=["object", "complex"])
@pytest.mark.parametrize("get", [_keras_fn, _keras_cls, _metric_update],
                         ids=["function", "class", "metric"])
@pytest.mark.parametrize("which", ["y_true", "y_pred"])
def test_keras_bad_dtype(flavour, bad, get, which):
    good = np.ones(bad.shape, f32)
    args = {"y_true": good, "y_pred": good, which: bad}
    with pytest.raises(TypeError, match=which):
        get(flavour)(args["y_true"], args["y_pred"])


def test_object_weights(flavour):
    # (Complex weights are not asserted: TF's cast from complex keeps the real part.)
    with pytest.raises(TypeError, match="weights"):
        flavour.mod.losses.compute_weighted_loss(np.ones(OBJ.shape, f32), weights=OBJ)
    with pytest.raises(TypeError, match="weights"):
        flavour.mod.losses.cosine_distance(np.ones((1, 3), f32), np.ones((1, 3), f32),
                                           axis=1, weights=np.array([[None]], object))
    with pytest.raises(TypeError, match="sample_weight"):
        flavour.mod.keras.losses.CosineSimilarity()(
            np.ones((1, 3), f32), np.ones((1, 3), f32),
            sample_weight=np.array([None], object))
    with pytest.raises(TypeError, match="sample_weight"):
        flavour.mod.keras.metrics.CosineSimilarity().update_state(
            np.ones((1, 3), f32), np.ones((1, 3), f32),
            sample_weight=np.array([None], object))


@pytest.mark.parametrize("bad", [OBJ, CPLX], ids=["object", "complex"])
@pytest.mark.parametrize("idx", [0, 1, 2])
def test_seed_bad_dtype(cosloss, bad, idx):
    with pytest.raises(TypeError):
        _seed(cosloss)[idx](bad, np.ones(bad.shape, f32))
    with pytest.raises(TypeError):
        _seed(cosloss)[idx](np.ones(bad.shape, f32), bad)


@pytest.mark.parametrize("ints", [np.array([[0, 1], [1, 1]], np.int32),
                                  np.array([[0, 1], [1, 1]], np.int64),
                                  [[0, 1], [1, 1]]],
                         ids=["int32", "int64", "int-list"])
def test_integer_inputs_to_keras_loss(flavour, ints):
    # §2/§9: the Keras loss has no cast; l2_normalize rejects integers.
    floats = np.array([[1., 0.], [1., 1.]], f32)
    with pytest.raises(TypeError, match="y_true"):
        _keras_fn(flavour)(ints, floats)
    with pytest.raises(TypeError, match="y_pred"):
        _keras_cls(flavour)(floats, ints)


def test_integer_input_to_l2_normalize(flavour):
    with pytest.raises(TypeError, match=r"\bx\b"):
        flavour.mod.nn.l2_normalize(np.array([3, 4], np.int32), axis=-1)
    with pytest.raises(TypeError, match=r"\bx\b"):
        flavour.mod.nn.l2_normalize([3, 4])


@pytest.mark.parametrize("get", [_keras_fn, _keras_cls], ids=["function", "class"])
def test_mixed_float_dtypes(flavour, get):
    # §9: no cast in the Keras loss, so float32 vs float64 fails like TF's Mul.
    with pytest.raises(TypeError, match="y_true|y_pred"):
        get(flavour)(X, X64)
    with pytest.raises(TypeError, match="y_true|y_pred"):
        get(flavour)(X64, X)


def test_float_list_with_float64_array_is_mixed(flavour):
    # §9: a float list converts to float32, so with a float64 array it mismatches.
    with pytest.raises(TypeError, match="y_true|y_pred"):
        _keras_fn(flavour)([[1., 1., 1.], [1., 1., 1.]], X64)


def test_metric_accepts_mixed_and_int(flavour):
    # Contrast: the metric casts to float32, so these are fine (§7).
    m = flavour.mod.keras.metrics.CosineSimilarity()
    m.update_state(np.array([[1, 0]], np.int64), np.array([[1., 0.]], f64))
    np.testing.assert_allclose(np.asarray(m.result()), 1.0, rtol=1e-6)
