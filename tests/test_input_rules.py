"""Input rules of issue #9: how Python ints are typed.

Expected values come from tests/reference.py (TensorFlow's formulas) or
from TensorFlow 2.21 as measured (quoted where used); cosloss is never
asked for an expectation.
"""

import re

import numpy as np
import pytest

import cosloss
import reference as ref

f16, f32, f64 = np.float16, np.float32, np.float64


def v1_loss_dtype(value):
    """The dtype and shape cosloss gives a Python value: compute_weighted_loss
    returns its losses (reduction "none") in the dtype they converted to."""
    # The float32 round trip turns 2**31 - 1 into 2**31, which int32 cannot
    # hold (TensorFlow wraps it too); only dtype and shape are looked at.
    with np.errstate(invalid="ignore"):
        out = np.asarray(cosloss.losses.compute_weighted_loss(value, reduction="none"))
    return out.dtype, out.shape


# ---------------------------------------------------------------------------
# 1. Python ints are int32 only when they fit (tf.convert_to_tensor's rules)
# ---------------------------------------------------------------------------

# (value, dtype, shape) as TensorFlow 2.21 types them: tf.constant(value).dtype.
TF_DTYPES = [
    ([2**31, 1], "int64", (2,)),
    ([2**31 - 1, 1], "int32", (2,)),
    ([-2**31, 1], "int32", (2,)),
    ([-2**31 - 1, 1], "int64", (2,)),
    ([2**63 - 1], "int64", (1,)),
    ([-2**63], "int64", (1,)),
    (2**31, "int64", ()),
    (2**40, "int64", ()),
    ((1, 2**40), "int64", (2,)),
    ([[1, 2**33], [3, 4]], "int64", (2, 2)),
    ([[1, 2], [3, 2**33]], "int64", (2, 2)),
    ([2**40, 1.5], "float32", (2,)),
    ([[1, 2**33], [3.5, 4]], "float32", (2, 2)),
    ([1.5, 2**63], "float32", (2,)),       # a float first: ints go through float64
    ([1, 1.5, 2**63], "float32", (3,)),    # a float before the big int: likewise
    ([2**40, 1.5, 2**70], "float32", (3,)),
    ([1, True], "int32", (2,)),            # an int first: True is 1
    ([1.5, True], "float32", (2,)),
    ([True, False], "bool", (2,)),
    ([np.float64(1), 2.0], "float64", (2,)),   # the first element decides
    ([2.0, np.float64(1)], "float32", (2,)),
    ([np.float16(1), 2.0], "float16", (2,)),
    ([np.int64(1), 2], "int32", (2,)),
    ([np.int64(2**40), 2], "int64", (2,)),
    ([np.uint8(200), 1], "int32", (2,)),
    ([np.array([1.5, 2.5]), np.array([1, 2])], "float64", (2, 2)),
    ([np.array([1, 2]), np.array([1.5, 2.5])], "float32", (2, 2)),
    ([np.array(1.5)], "float64", (1,)),
    ([], "float32", (0,)),
    ([[], [1]], "float32", (2, 0)),        # TensorFlow looks no further than the empty first
]


@pytest.mark.parametrize("value, dtype, shape", TF_DTYPES, ids=[repr(c[0])[:40] for c in TF_DTYPES])
def test_python_values_are_typed_as_tensorflow_types_them(value, dtype, shape):
    assert v1_loss_dtype(value) == (np.dtype(dtype), shape)


def test_int_list_beyond_int32_keeps_its_value():
    # TF 2.21: compute_weighted_loss([2**31, 1], reduction="weighted_sum") is int64 2147483648.
    value = cosloss.losses.compute_weighted_loss([2**31, 1], reduction="weighted_sum")
    assert type(value) is np.int64 and value == 2147483648
    expected = ref.compute_weighted_loss_v1([2**31, 1], reduction=ref.V1_SUM)
    assert expected.dtype == np.int64 and value == expected


def test_int_weights_beyond_int32():
    # TF 2.21: weights [2**32, 1] against losses [1., 1.], weighted_sum: float32 4.2949673e9.
    value = cosloss.losses.compute_weighted_loss([1.0, 1.0], weights=[2**32, 1],
                                                 reduction="weighted_sum")
    assert type(value) is np.float32 and value == np.float32(4.2949673e9)
    assert value == ref.compute_weighted_loss_v1([1.0, 1.0], [2**32, 1], reduction=ref.V1_SUM)


def test_cosine_distance_of_ints_beyond_int32():
    # TF 2.21: cosine_distance([[2**32, 0]], [[1, 0]], axis=1) is float32 -4.2949673e9.
    value = cosloss.losses.cosine_distance([[2**32, 0]], [[1, 0]], axis=1)
    assert type(value) is np.float32 and value == np.float32(-4.2949673e9)
    assert value == ref.cosine_distance([[2**32, 0]], [[1, 0]], axis=1)


@pytest.mark.parametrize("metric", [cosloss.keras.metrics.CosineSimilarity,
                                    cosloss.tf115.keras.metrics.CosineSimilarity])
def test_metric_casts_ints_beyond_int32(metric):
    # tf-keras casts metric inputs to float32: TF 2.21 gives about 1.0.
    value = metric()([[2**40, 1]], [[1, 0]])
    expected = ref.KerasMetric()([[2**40, 1]], [[1, 0]])
    assert type(value) is np.float32
    np.testing.assert_allclose(value, expected, rtol=1e-6)
    np.testing.assert_allclose(value, 1.0, rtol=1e-6)


def test_int_upstream_beyond_int32_is_not_wrapped_to_zero():
    # TF 2.21, GradientTape with output_gradients=[2.**32] on the TF2 loss of
    # [[1, 0]] and [[1, 1]]: [[-1.5185004e+09, 1.5185001e+09]]; the spec's
    # TV11 gradient (+cos: [0.35355339, -0.35355339]) negated, times 2**32.
    expected = -np.array([[0.35355339, -0.35355339]]) * 2.0**32
    _, (_, d_pred) = cosloss.value_and_grad(cosloss.keras.losses.cosine_similarity,
                                            [[1.0, 0.0]], [[1.0, 1.0]], upstream=[2**32])
    np.testing.assert_allclose(d_pred, expected, rtol=1e-6)
    # TV11: l2_normalize([3, 4]) with upstream [1, 0] gives [0.128, -0.096].
    _, (dx,) = cosloss.value_and_grad(cosloss.nn.l2_normalize, [3.0, 4.0], upstream=[2**32, 0])
    np.testing.assert_allclose(dx, np.array([0.128, -0.096]) * 2.0**32, rtol=1e-6)
    # TV11: cosine_distance's d/dpredictions is -labels; a scalar int upstream of 2**32.
    _, (_, d_pred) = cosloss.value_and_grad(cosloss.losses.cosine_distance, [[0.6, 0.8]],
                                            [[0.8, 0.6]], axis=1, upstream=2**32)
    np.testing.assert_allclose(d_pred, np.array([[-0.6, -0.8]]) * 2.0**32, rtol=1e-6)


OUT_OF_RANGE = re.escape("Can't convert Python sequence with out-of-range integer to Tensor.")
MIXED = re.escape("Can't convert Python sequence with mixed types to Tensor.")
FLOAT_RANGE = re.escape("Can't convert Python sequence with a value out of range for a "
                        "double-precision float.")
RAGGED = re.escape("Can't convert non-rectangular Python sequence to Tensor.")
UNSUPPORTED = re.escape("Attempt to convert a value (None) with an unsupported type "
                        "(<class 'NoneType'>) to a Tensor.")

# (value, TensorFlow 2.21's ValueError for tf.constant(value)).
TF_ERRORS = [
    ([2**63, 1], OUT_OF_RANGE),
    ([2**64 - 1], OUT_OF_RANGE),
    (2**63, OUT_OF_RANGE),
    ([-2**63 - 1], OUT_OF_RANGE),
    ([2**70, 2.0], OUT_OF_RANGE),          # the big int comes before any float
    ([1, 2**63, 1.5], OUT_OF_RANGE),
    ([2**40, 2**70, 1.5], OUT_OF_RANGE),
    ([[1], [2**63]], OUT_OF_RANGE),
    ([1, np.uint64(2**63)], OUT_OF_RANGE),
    ([True, 1], MIXED),
    ([True, 1.5], MIXED),
    ([1, None], MIXED),
    ([1.5, "a"], MIXED),
    ([1, [2]], MIXED),
    ([1.5, None, 1e300], MIXED),           # the first problem, in order, is reported
    ([1e300], FLOAT_RANGE),
    (1e300, FLOAT_RANGE),
    ([1.5, 1e300, None], FLOAT_RANGE),
    ([1, 1e300], FLOAT_RANGE),
    ([1.5, 2**1100], FLOAT_RANGE),
    ([np.float16(1), 1e10], FLOAT_RANGE),
    ([[1, 2], [3]], RAGGED),
    ([[1], []], RAGGED),
    ([[1.5], 2.5], RAGGED),
    ([None], UNSUPPORTED),
    ([[None, 1], 2], UNSUPPORTED),
]

# Where a Python value can go in, and the name its errors must use.
X23 = np.ones((2, 3), f32)
ARGUMENT_SLOTS = {
    "y_true": lambda v: cosloss.keras.losses.cosine_similarity(v, X23),
    "sample_weight": lambda v: cosloss.keras.losses.CosineSimilarity()(X23, X23, sample_weight=v),
    "labels": lambda v: cosloss.losses.cosine_distance(v, X23, axis=1),
    "weights": lambda v: cosloss.losses.compute_weighted_loss(X23, weights=v),
    "x": lambda v: cosloss.nn.l2_normalize(v),
    "upstream": lambda v: cosloss.value_and_grad(cosloss.keras.losses.cosine_similarity,
                                                 X23, X23, upstream=v),
}


@pytest.mark.parametrize("value, message", TF_ERRORS, ids=[repr(c[0])[:40] for c in TF_ERRORS])
def test_python_values_tensorflow_cannot_convert(value, message):
    with pytest.raises(ValueError, match=message + ".*losses"):
        cosloss.losses.compute_weighted_loss(value)


@pytest.mark.parametrize("slot", ARGUMENT_SLOTS)
@pytest.mark.parametrize("value, message", [([2**63, 1], OUT_OF_RANGE), ([True, 1], MIXED)],
                         ids=["out-of-range", "mixed"])
def test_conversion_errors_name_the_argument(slot, value, message):
    with pytest.raises(ValueError, match=message + rf" {slot} "):
        ARGUMENT_SLOTS[slot](value)


def test_values_tensorflow_converts_with_overflow():
    # TF 2.21: an int that overflows the sequence's float dtype is inf, not an error.
    out = cosloss.losses.compute_weighted_loss([1.5, 2**200], reduction="none")
    assert out.dtype == f32 and out[0] == 1.5 and out[1] == np.inf
    with np.errstate(over="ignore"):  # the float32 round trip of float16's inf
        out = cosloss.losses.compute_weighted_loss([np.float16(1), 70000], reduction="none")
    assert out.dtype == f16 and out[0] == 1 and out[1] == np.inf


def test_float_lists_and_numpy_arrays_keep_their_rules():
    # Python floats stay float32 and numpy arrays keep their dtype.
    assert v1_loss_dtype([[0.5, 1.5]]) == (np.dtype(f32), (1, 2))
    for dtype in (np.int64, np.int32, np.uint64, f64, f16):
        out = cosloss.losses.compute_weighted_loss(np.ones(3, dtype), reduction="none")
        assert out.dtype == np.dtype(dtype)
