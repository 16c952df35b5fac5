"""The spec's test vectors (§12 TV1..TV12) against cosloss and cosloss.tf115.

Expected numbers are the spec's literals (f32 = op-by-op float32 values).
Tests taking the `flavour` fixture run once for `cosloss` (TF >= 2 signs)
and once for `cosloss.tf115` (TF 1.15 signs); v1 APIs, l2_normalize and the
metric are identical in both.
"""

import re

import numpy as np
import pytest

from helpers import assert_numpy_result, assert_vector

f16, f32, f64 = np.float16, np.float32, np.float64

# f32 spellings of the spec's recurring numbers.
ONE_F32 = 0.9999999403953552        # 0.99999994
HALF_F32 = 0.4999999701976776       # 0.49999997


# ---------------------------------------------------------------------------
# TV1 l2_normalize
# ---------------------------------------------------------------------------

TV1_F32 = [
    ([3, 4], -1, [0.6000000238418579, 0.800000011920929]),
    ([0, 0], -1, [0, 0]),
    ([1e-7, 0], -1, [0.10000000149011612, 0]),       # eps floor: not unit length
    ([[1, 2], [2, 4]], [0, 1], [[0.20000000298023224, 0.4000000059604645],
                                [0.4000000059604645, 0.800000011920929]]),
    ([[1, 2], [2, 4]], None, [[0.20000000298023224, 0.4000000059604645],
                              [0.4000000059604645, 0.800000011920929]]),
    ([-2, 0, 0], -1, [-1, 0, 0]),
    ([1e20, 1e20], -1, [0, 0]),                      # sum of squares overflows
]


@pytest.mark.parametrize("x, axis, expected", TV1_F32)
def test_tv1_l2_normalize_f32(flavour, x, axis, expected):
    x = np.array(x, dtype=f32)
    assert_vector(flavour.mod.nn.l2_normalize(x, axis=axis), expected, f32, x.shape)


@pytest.mark.parametrize("x, axis, expected", TV1_F32[:3])
def test_tv1_l2_normalize_dim_alias(flavour, x, axis, expected):
    # `dim` is TF 1.15's deprecated alias of `axis`.
    x = np.array(x, dtype=f32)
    assert_vector(flavour.mod.nn.l2_normalize(x, dim=axis), expected, f32)


def test_tv1_l2_normalize_f64_no_overflow(flavour):
    x = np.array([1e20, 1e20], dtype=f64)
    assert_vector(flavour.mod.nn.l2_normalize(x, axis=-1),
                  [0.7071067811865475, 0.7071067811865475], f64)


def test_tv1_l2_normalize_list_input_is_float32(flavour):
    # A Python float list converts to float32, like tf.convert_to_tensor.
    assert_vector(flavour.mod.nn.l2_normalize([3., 4.], axis=-1),
                  [0.6000000238418579, 0.800000011920929], f32)


def test_spec2_l2_normalize_f16_zero_vector_is_nan(flavour):
    # §2: epsilon 1e-12 rounds to 0 in float16, so rsqrt(0)*0 = NaN.
    out = flavour.mod.nn.l2_normalize(np.zeros(3, dtype=f16), axis=-1)
    out = assert_numpy_result(out, (3,), f16)
    assert np.isnan(out).all()


# ---------------------------------------------------------------------------
# TV2 Keras function, normal / negative / zero / orthogonal rows
# ---------------------------------------------------------------------------

TV2_TRUE = np.array([[0, 1], [1, 1], [1, 1], [0, 0], [3, 4]], dtype=f32)
TV2_PRED = np.array([[1, 0], [1, 1], [-1, -1], [1, 2], [4, -3]], dtype=f32)
TV2_TF115 = np.array([0.0, ONE_F32, -ONE_F32, 0.0, 0.0])


@pytest.mark.parametrize("name", ["cosine_similarity", "cosine_proximity", "cosine"])
def test_tv2_keras_function_and_aliases(flavour, name):
    fn = getattr(flavour.mod.keras.losses, name)
    out = fn(TV2_TRUE, TV2_PRED)
    assert_vector(out, flavour.sign * TV2_TF115, f32, (5,))
    # Keyword and default axis give the same thing.
    assert_vector(fn(y_true=TV2_TRUE, y_pred=TV2_PRED, axis=-1),
                  flavour.sign * TV2_TF115, f32, (5,))


def test_tv2_tf2_zeros_are_negative_zero(cosloss):
    # §5/§12: TF2 computes -(+0.0) = -0.0 for zero and orthogonal rows.
    out = np.asarray(cosloss.keras.losses.cosine_similarity(TV2_TRUE, TV2_PRED))
    assert np.all(out[[0, 3, 4]] == 0)
    assert np.signbit(out[[0, 3, 4]]).all(), out


def test_tv2_float_lists(flavour):
    out = flavour.mod.keras.losses.cosine_similarity(TV2_TRUE.tolist(), TV2_PRED.tolist())
    assert_vector(out, flavour.sign * TV2_TF115, f32, (5,))


def test_issue_example_prints_minus_0_8(cosloss):
    # Issue #2 "done when": a float list pair gives float32 [-0.8].
    out = cosloss.keras.losses.cosine_similarity([[1., 2.]], [[2., 1.]])
    assert_vector(out, [-0.8], f32, (1,))


def test_issue_example_tf115_is_positive(cosloss):
    out = cosloss.tf115.keras.losses.cosine_similarity([[1., 2.]], [[2., 1.]])
    assert_vector(out, [0.8], f32, (1,))


# ---------------------------------------------------------------------------
# TV3 axis=0
# ---------------------------------------------------------------------------

TV3_TRUE = np.array([[1, 2], [3, 4]], dtype=f32)
TV3_PRED = np.array([[2, 1], [4, 3]], dtype=f32)
TV3_F32 = 0.9899494647979736


def test_tv3_function_axis0(flavour):
    out = flavour.mod.keras.losses.cosine_similarity(TV3_TRUE, TV3_PRED, axis=0)
    assert_vector(out, [flavour.sign * TV3_F32] * 2, f32, (2,))


def test_tv3_class_axis0_auto(flavour):
    loss = flavour.mod.keras.losses.CosineSimilarity(axis=0)
    assert_vector(loss(TV3_TRUE, TV3_PRED), flavour.sign * TV3_F32, f32, ())


# ---------------------------------------------------------------------------
# TV4 Keras class reductions (the documented example), axis=1
# ---------------------------------------------------------------------------

TV4_TRUE = np.array([[0, 1], [1, 1]], dtype=f32)
TV4_PRED = np.array([[1, 0], [1, 1]], dtype=f32)


@pytest.mark.parametrize("reduction, expected_tf115", [
    ("auto", HALF_F32),
    ("sum_over_batch_size", HALF_F32),
    ("sum", ONE_F32),
    ("none", [0.0, ONE_F32]),
])
def test_tv4_reductions(flavour, reduction, expected_tf115):
    loss = flavour.mod.keras.losses.CosineSimilarity(axis=1, reduction=reduction)
    expected = flavour.sign * np.asarray(expected_tf115)
    assert_vector(loss(TV4_TRUE, TV4_PRED), expected, f32)


@pytest.mark.parametrize("member, expected_tf115", [
    ("AUTO", HALF_F32),
    ("SUM_OVER_BATCH_SIZE", HALF_F32),
    ("SUM", ONE_F32),
    ("NONE", [0.0, ONE_F32]),
])
def test_tv4_reduction_enum_members(flavour, member, expected_tf115):
    red = getattr(flavour.mod.keras.losses.Reduction, member)
    loss = flavour.mod.keras.losses.CosineSimilarity(axis=1, reduction=red)
    assert_vector(loss(TV4_TRUE, TV4_PRED), flavour.sign * np.asarray(expected_tf115), f32)


def test_tv4_default_reduction_with_sample_weight(flavour):
    # The denominator is the element count (2), not the weight sum (1).
    loss = flavour.mod.keras.losses.CosineSimilarity(axis=1)
    out = loss(TV4_TRUE, TV4_PRED, sample_weight=[0.8, 0.2])
    assert_vector(out, flavour.sign * 0.09999999403953552, f32, ())
    out = loss(TV4_TRUE, TV4_PRED, sample_weight=np.array([0.8, 0.2], dtype=f32))
    assert_vector(out, flavour.sign * 0.09999999403953552, f32, ())


def test_tv4_all_zero_sample_weight(flavour):
    # Sign of this zero is unspecified (§12 TV4); only its value is asserted.
    loss = flavour.mod.keras.losses.CosineSimilarity(axis=1)
    assert_vector(loss(TV4_TRUE, TV4_PRED, sample_weight=[0, 0]), 0.0, f32, ())


def test_tv4_get_config_and_from_config(flavour):
    cls = flavour.mod.keras.losses.CosineSimilarity
    cfg = cls(axis=1).get_config()
    assert cfg == {"reduction": "auto", "name": "cosine_similarity", "axis": 1}
    assert list(cfg) == ["reduction", "name", "axis"]
    clone = cls.from_config(cfg)
    assert isinstance(clone, cls)
    assert clone.get_config() == cfg
    assert_vector(clone(TV4_TRUE, TV4_PRED), flavour.sign * HALF_F32, f32, ())


def test_tv4_get_config_keeps_reduction_as_given(flavour):
    cls = flavour.mod.keras.losses.CosineSimilarity
    cfg = cls(axis=-1, reduction="sum", name="cos").get_config()
    assert cfg == {"reduction": "sum", "name": "cos", "axis": -1}


# ---------------------------------------------------------------------------
# TV5 3-D inputs and sample-weight expansion
# ---------------------------------------------------------------------------

TV5_TRUE = np.array([[[1, 0], [0, 1]], [[1, 1], [1, 0]]], dtype=f32)
TV5_PRED = np.array([[[1, 0], [1, 0]], [[1, 1], [-1, 0]]], dtype=f32)


def test_tv5_per_sample(flavour):
    loss = flavour.mod.keras.losses.CosineSimilarity(reduction="none")
    assert_vector(loss(TV5_TRUE, TV5_PRED),
                  flavour.sign * np.array([[1, 0], [ONE_F32, -1]]), f32, (2, 2))


@pytest.mark.parametrize("weight", [[1, 0], [[1], [0]], np.array([1., 0.], f32)],
                         ids=["list(2,)", "list(2,1)", "f32(2,)"])
def test_tv5_sample_weight_expansion(flavour, weight):
    # [1, 0] is expanded to [[1],[0]]; SUM_OVER_BATCH_SIZE divides by all 4.
    loss = flavour.mod.keras.losses.CosineSimilarity()
    assert_vector(loss(TV5_TRUE, TV5_PRED, sample_weight=weight),
                  flavour.sign * 0.25, f32, ())


def test_tv5_non_broadcastable_sample_weight(flavour):
    loss = flavour.mod.keras.losses.CosineSimilarity()
    with pytest.raises(ValueError, match="weight"):
        loss(TV5_TRUE, TV5_PRED, sample_weight=[1, 0, 1])


def test_tv5_tf115_message(cosloss):
    loss = cosloss.tf115.keras.losses.CosineSimilarity()
    with pytest.raises(ValueError, match="weights can not be broadcast to values"):
        loss(TV5_TRUE, TV5_PRED, sample_weight=[1, 0, 1])


# ---------------------------------------------------------------------------
# TV6 float64 and the 1.15 float32 round trip
# ---------------------------------------------------------------------------

TV6_TRUE = np.array([[1, 2, 3]], dtype=f64)
TV6_PRED = np.array([[1, 2, 3.0001]], dtype=f64)
TV6_COS = 0.9999999998724547


def test_tv6_function_float64(flavour):
    out = flavour.mod.keras.losses.cosine_similarity(TV6_TRUE, TV6_PRED)
    out = assert_numpy_result(out, (1,), f64)
    np.testing.assert_allclose(out, [flavour.sign * TV6_COS], rtol=0, atol=1e-15)


def test_tv6_tf115_class_rounds_to_float32(cosloss):
    out = cosloss.tf115.keras.losses.CosineSimilarity()(TV6_TRUE, TV6_PRED)
    out = assert_numpy_result(out, (), f64)
    assert out == 1.0     # exactly: float32 round trip of 0.99999999987


def test_tv6_tf115_class_none_also_rounds(cosloss):
    # §6: any reduction, even NONE, goes through float32 in 1.15.
    out = cosloss.tf115.keras.losses.CosineSimilarity(reduction="none")(TV6_TRUE, TV6_PRED)
    out = assert_numpy_result(out, (1,), f64)
    assert out[0] == 1.0


def test_tv6_tf2_class_keeps_float64(cosloss):
    out = cosloss.keras.losses.CosineSimilarity()(TV6_TRUE, TV6_PRED)
    out = assert_numpy_result(out, (), f64)
    np.testing.assert_allclose(out, -TV6_COS, rtol=0, atol=1e-15)


# ---------------------------------------------------------------------------
# TV7 v1 cosine_distance, all reductions
# ---------------------------------------------------------------------------

TV7_LABELS = [[1, 0], [0, 1], [0.6, 0.8]]
TV7_PRED = [[1, 0], [1, 0], [0.8, 0.6]]
TV7_W = [[1], [0], [2]]
TV7_ZERO_W = [[0], [0], [0]]

TV7_CASES = [
    ("NONE", TV7_W, [[0], [0], [0.07999992370605469]]),
    ("SUM", TV7_W, 0.07999992370605469),
    ("MEAN", TV7_W, 0.026666641235351562),
    ("SUM_OVER_BATCH_SIZE", TV7_W, 0.026666641235351562),
    ("SUM_BY_NONZERO_WEIGHTS", TV7_W, 0.039999961853027344),
    ("SUM_OVER_NONZERO_WEIGHTS", TV7_W, 0.039999961853027344),
    ("SUM_BY_NONZERO_WEIGHTS", 1.0, 0.3466666638851166),
    ("SUM", TV7_ZERO_W, 0.0),
    ("MEAN", TV7_ZERO_W, 0.0),
    ("SUM_OVER_BATCH_SIZE", TV7_ZERO_W, 0.0),
    ("SUM_BY_NONZERO_WEIGHTS", TV7_ZERO_W, 0.0),
]


@pytest.mark.parametrize("member, weights, expected", TV7_CASES)
@pytest.mark.parametrize("in_dtype", [f32, f64], ids=["f32", "f64"])
def test_tv7_cosine_distance(flavour, member, weights, expected, in_dtype):
    losses = flavour.mod.losses
    out = losses.cosine_distance(np.array(TV7_LABELS, in_dtype),
                                 np.array(TV7_PRED, in_dtype), axis=1,
                                 weights=weights,
                                 reduction=getattr(losses.Reduction, member))
    # Output is float32 even for float64 inputs.
    assert_vector(out, expected, f32)


def test_tv7_default_reduction_is_sum_by_nonzero_weights(flavour):
    out = flavour.mod.losses.cosine_distance(TV7_LABELS, TV7_PRED, axis=1,
                                             weights=TV7_W)
    assert_vector(out, 0.039999961853027344, f32, ())


def test_tv7_reduction_strings(flavour):
    out = flavour.mod.losses.cosine_distance(TV7_LABELS, TV7_PRED, axis=1,
                                             weights=TV7_W, reduction="weighted_mean")
    assert_vector(out, 0.026666641235351562, f32, ())


def test_tv7_per_example_shape_keeps_axis(flavour):
    out = flavour.mod.losses.cosine_distance(TV7_LABELS, TV7_PRED, axis=1,
                                             reduction="none")
    assert_vector(out, [[0], [1], [0.039999961853027344]], f32, (3, 1))


@pytest.mark.parametrize("member, weights, expected", TV7_CASES)
def test_tv7_compute_weighted_loss(flavour, member, weights, expected):
    # The same reductions applied directly to TV7's per-example f32 losses.
    per_example = np.array([[0], [1], [0.039999961853027344]], dtype=f32)
    losses = flavour.mod.losses
    out = losses.compute_weighted_loss(per_example, weights=weights,
                                       reduction=getattr(losses.Reduction, member))
    assert_vector(out, expected, f32)


def test_spec4_compute_weighted_loss_float64_comes_back_float64(flavour):
    # §4 step 8: float64 losses come back as float64 holding float32 precision.
    per_example = np.array([[0], [1], [0.04]], dtype=f64)
    out = flavour.mod.losses.compute_weighted_loss(per_example, weights=TV7_W,
                                                   reduction="weighted_sum")
    out = assert_numpy_result(out, (), f64)
    assert out == np.float64(np.float32(np.float32(0.04) * np.float32(2)))


def test_spec4_num_present_counts_broadcast_elements(flavour):
    # §4: weight [[1],[0],[2]] against losses (3,4) counts 8 present elements.
    losses = np.ones((3, 4), dtype=f32)
    out = flavour.mod.losses.compute_weighted_loss(losses, weights=TV7_W)
    assert_vector(out, 12.0 / 8.0, f32, ())


# ---------------------------------------------------------------------------
# TV8 cosine_distance does not normalize
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("axis", [1, -1])
def test_tv8_no_normalization(flavour, axis):
    out = flavour.mod.losses.cosine_distance([[2, 0]], [[3, 0]], axis=axis)
    assert_vector(out, -5.0, f32, ())


def test_tv8_dim_alias(flavour):
    out = flavour.mod.losses.cosine_distance([[2., 0.]], [[3., 0.]], dim=1)
    assert_vector(out, -5.0, f32, ())


# ---------------------------------------------------------------------------
# TV9 errors (the full set is in test_errors.py)
# ---------------------------------------------------------------------------

L32 = np.ones((3, 2), dtype=f32)


def test_tv9_missing_axis(flavour):
    with pytest.raises(ValueError, match=re.escape("You must specify 'axis'.")):
        flavour.mod.losses.cosine_distance(L32, L32)


def test_tv9_dim_and_axis(flavour):
    with pytest.raises(ValueError, match=re.escape("Cannot specify both 'dim' and 'axis'")):
        flavour.mod.losses.cosine_distance(L32, L32, axis=1, dim=1)


def test_tv9_weights_rank_mismatch(flavour):
    with pytest.raises(ValueError, match="weights can not be broadcast to values"):
        flavour.mod.losses.cosine_distance(L32, L32, axis=1, weights=[1, 0, 2])


def test_tv9_weights_dim_mismatch(flavour):
    with pytest.raises(ValueError, match="weights can not be broadcast to values"):
        flavour.mod.losses.cosine_distance(L32, L32, axis=1, weights=np.ones((3, 2)))


def test_tv9_shape_mismatch(flavour):
    with pytest.raises(ValueError,
                       match=re.escape("Shapes (2, 4) and (2, 3) are incompatible")):
        flavour.mod.losses.cosine_distance(np.ones((2, 3)), np.ones((2, 4)), axis=1)


def test_tv9_int_list_y_true(flavour):
    with pytest.raises(TypeError):
        flavour.mod.keras.losses.CosineSimilarity()([[0, 1], [1, 1]],
                                                    [[1., 0.], [1., 1.]])


def test_tv9_v1_reduction_key_in_keras_class(flavour):
    with pytest.raises(ValueError, match=re.escape("Invalid Reduction Key weighted_sum")):
        flavour.mod.keras.losses.CosineSimilarity(reduction="weighted_sum")


def test_tv9_mixed_dtypes(flavour):
    with pytest.raises(TypeError):
        flavour.mod.keras.losses.CosineSimilarity()(np.ones((2, 2), f32),
                                                    np.ones((2, 2), f64))


# ---------------------------------------------------------------------------
# TV10 Keras metric (+cos in every version)
# ---------------------------------------------------------------------------

TV10_TRUE = [[0, 1], [1, 1]]
TV10_PRED = [[1, 0], [1, 1]]


def test_tv10_unweighted(flavour):
    m = flavour.mod.keras.metrics.CosineSimilarity(axis=1)
    m.update_state(TV10_TRUE, TV10_PRED)
    assert_vector(m.result(), HALF_F32, f32, ())


def test_tv10_weighted_after_reset(flavour):
    m = flavour.mod.keras.metrics.CosineSimilarity(axis=1)
    m.update_state(TV10_TRUE, TV10_PRED)
    m.reset_states()
    m.update_state(TV10_TRUE, TV10_PRED, sample_weight=[0.3, 0.7])
    assert_vector(m.result(), 0.6999999284744263, f32, ())


def test_tv10_streaming(flavour):
    # total 1.6999998 / count 3.0.
    m = flavour.mod.keras.metrics.CosineSimilarity(axis=1)
    m.update_state(TV10_TRUE, TV10_PRED)
    m.update_state(TV10_TRUE, TV10_PRED, sample_weight=[0.3, 0.7])
    assert_vector(m.result(), 0.5666666030883789, f32, ())


def test_tv10_int_inputs_are_cast(flavour):
    m = flavour.mod.keras.metrics.CosineSimilarity(axis=1)
    m.update_state([[0, 1]], [[1, 0]])
    assert_vector(m.result(), 0.0, f32, ())


def test_tv10_call_updates_then_returns_result(flavour):
    m = flavour.mod.keras.metrics.CosineSimilarity(axis=1)
    assert_vector(m(TV10_TRUE, TV10_PRED), HALF_F32, f32, ())
    assert_vector(m(TV10_TRUE, TV10_PRED, sample_weight=[0.3, 0.7]),
                  0.5666666030883789, f32, ())


def test_tv10_metric_positional_order_is_name_dtype_axis(flavour):
    # The metric's argument order differs from the loss: name comes first.
    m = flavour.mod.keras.metrics.CosineSimilarity("cos_metric", None, 1)
    assert_vector(m(TV10_TRUE, TV10_PRED), HALF_F32, f32, ())


def test_tv10_empty_metric_result_is_zero(flavour):
    m = flavour.mod.keras.metrics.CosineSimilarity()
    assert_vector(m.result(), 0.0, f32, ())


# ---------------------------------------------------------------------------
# TV11 values only (cosloss exposes no gradients yet)
# ---------------------------------------------------------------------------

def test_tv11_class_value(flavour):
    out = flavour.mod.keras.losses.CosineSimilarity()([[1., 0.]], [[1., 1.]])
    assert_vector(out, flavour.sign * 0.70710677, f32, ())


def test_tv11_zero_prediction_value(flavour):
    out = flavour.mod.keras.losses.CosineSimilarity()([[1., 0.]], [[0., 0.]])
    assert_vector(out, 0.0, f32, ())


def test_tv11_cosine_distance_value(flavour):
    out = flavour.mod.losses.cosine_distance([[0.6, 0.8]], [[0.8, 0.6]], axis=1)
    assert_vector(out, 0.039999961853027344, f32, ())


# ---------------------------------------------------------------------------
# TV12 empty and degenerate shapes
# ---------------------------------------------------------------------------

EMPTY = np.zeros((0, 3), dtype=f32)


@pytest.mark.parametrize("reduction", ["auto", "sum", "sum_over_batch_size"])
def test_tv12_empty_batch_reduces_to_zero(flavour, reduction):
    loss = flavour.mod.keras.losses.CosineSimilarity(reduction=reduction)
    assert_vector(loss(EMPTY, EMPTY), 0.0, f32, ())


def test_tv12_empty_batch_none(flavour):
    loss = flavour.mod.keras.losses.CosineSimilarity(reduction="none")
    assert_numpy_result(loss(EMPTY, EMPTY), (0,), f32)


def test_tv12_empty_function(flavour):
    assert_numpy_result(flavour.mod.keras.losses.cosine_similarity(EMPTY, EMPTY), (0,), f32)


def test_tv12_cosine_distance_empty(flavour):
    out = flavour.mod.losses.cosine_distance(EMPTY, EMPTY, axis=1)
    assert_vector(out, 0.0, f32, ())


def test_tv12_one_dimensional_inputs(flavour):
    keras = flavour.mod.keras.losses
    a, b = [0., 1., 1.], [1., 0., 1.]
    assert_vector(keras.cosine_similarity(a, b), flavour.sign * HALF_F32, f32, ())
    assert_vector(keras.CosineSimilarity(reduction="none")(a, b),
                  flavour.sign * HALF_F32, f32, ())
    # AUTO divides by size of a scalar = 1.
    assert_vector(keras.CosineSimilarity()(a, b), flavour.sign * HALF_F32, f32, ())


# ---------------------------------------------------------------------------
# Seed article forms (cosloss only): the article's example and zero vectors
# ---------------------------------------------------------------------------

SEED_A = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=f32)
SEED_B = np.array([[2.0, 1.0], [4.0, 3.0]], dtype=f32)


@pytest.mark.parametrize("name, exact", [
    ("cosine_similarity_loss", [-0.8, -0.96]),
    ("cosine_similarity_loss_v2", [0.2, 0.04]),
    ("cosine_similarity_loss_v3", [0.04, 0.0016]),
])
@pytest.mark.parametrize("dtype", [f32, f64])
def test_seed_article_example(cosloss, name, exact, dtype):
    out = getattr(cosloss, name)(SEED_A.astype(dtype), SEED_B.astype(dtype))
    out = assert_numpy_result(out, (2,), dtype)
    # Exact real values: cos 0.8 and 0.96 carry a few ulps of float32 rounding.
    atol = 3e-7 if dtype == f32 else 1e-14
    np.testing.assert_allclose(out, exact, rtol=0, atol=atol)


@pytest.mark.parametrize("name, expected", [
    ("cosine_similarity_loss", 0.0),
    ("cosine_similarity_loss_v2", 1.0),
    ("cosine_similarity_loss_v3", 1.0),
])
def test_seed_zero_vectors_are_finite(cosloss, name, expected):
    # TF's eps rule: a zero vector has cos 0 (the article's code gives NaN).
    z = np.zeros((2, 3), dtype=f32)
    b = np.array([[1, 2, 3], [0, 0, 0]], dtype=f32)
    out = getattr(cosloss, name)(z, b)
    assert_vector(out, [expected, expected], f32, (2,))
