"""Self-test of tests/reference.py against the spec's literal numbers (§12).

The property tests trust reference.py, so it must reproduce the spec's test
vectors first.  Runs without cosloss installed.
"""

import numpy as np
import pytest

import reference as ref
from helpers import assert_vector

f32 = np.float32
f64 = np.float64


# ---- TV1 l2_normalize ------------------------------------------------------

@pytest.mark.parametrize("x, axis, expected", [
    ([3, 4], -1, [0.6000000238418579, 0.800000011920929]),
    ([0, 0], -1, [0, 0]),
    ([1e-7, 0], -1, [0.10000000149011612, 0]),
    ([[1, 2], [2, 4]], [0, 1], [[0.20000000298023224, 0.4000000059604645],
                                [0.4000000059604645, 0.800000011920929]]),
    ([[1, 2], [2, 4]], None, [[0.20000000298023224, 0.4000000059604645],
                              [0.4000000059604645, 0.800000011920929]]),
    ([-2, 0, 0], -1, [-1, 0, 0]),
    ([1e20, 1e20], -1, [0, 0]),
])
def test_tv1_l2_normalize_f32(x, axis, expected):
    out = ref.l2_normalize(np.array(x, dtype=f32), axis=axis)
    assert_vector(out, expected, f32)


def test_tv1_l2_normalize_f64_overflow_free():
    out = ref.l2_normalize(np.array([1e20, 1e20], dtype=f64), axis=-1)
    assert_vector(out, [0.7071067811865475, 0.7071067811865475], f64)


def test_l2_normalize_f16_zero_vector_is_nan():
    # §2: epsilon 1e-12 underflows to 0 in float16, rsqrt(0)=inf, 0*inf=NaN.
    out = ref.l2_normalize(np.zeros(3, dtype=np.float16), axis=-1)
    assert out.dtype == np.float16 and np.isnan(out).all()


def test_l2_normalize_int_is_type_error():
    with pytest.raises(TypeError):
        ref.l2_normalize(np.array([1, 2], dtype=np.int32))


# ---- TV2, TV3 Keras function -----------------------------------------------

TV2_TRUE = np.array([[0, 1], [1, 1], [1, 1], [0, 0], [3, 4]], dtype=f32)
TV2_PRED = np.array([[1, 0], [1, 1], [-1, -1], [1, 2], [4, -3]], dtype=f32)
TV2_TF115 = [0.0, 0.9999999403953552, -0.9999999403953552, 0.0, 0.0]


def test_tv2_keras_fn_signs():
    assert_vector(ref.keras_cosine(TV2_TRUE, TV2_PRED, sign=+1), TV2_TF115, f32)
    tf2 = ref.keras_cosine(TV2_TRUE, TV2_PRED, sign=-1)
    assert_vector(tf2, [-v for v in TV2_TF115], f32)
    # TF2 zeros are -0.0 (spec §5).
    assert np.signbit(tf2[[0, 3, 4]]).all()


def test_tv3_axis0():
    yt = np.array([[1, 2], [3, 4]], dtype=f32)
    yp = np.array([[2, 1], [4, 3]], dtype=f32)
    exp = [0.9899494647979736] * 2
    assert_vector(ref.keras_cosine(yt, yp, axis=0, sign=+1), exp, f32)
    assert_vector(ref.keras_class_tf115(yt, yp, axis=0), 0.9899494647979736, f32)
    assert_vector(ref.keras_class_tf2(yt, yp, axis=0), -0.9899494647979736, f32)


# ---- TV4, TV5, TV6, TV12 Keras class ----------------------------------------

TV4_TRUE = np.array([[0, 1], [1, 1]], dtype=f32)
TV4_PRED = np.array([[1, 0], [1, 1]], dtype=f32)


@pytest.mark.parametrize("reduction, kwargs, expected", [
    ("auto", {}, 0.4999999701976776),
    ("sum_over_batch_size", {}, 0.4999999701976776),
    ("sum", {}, 0.9999999403953552),
    ("none", {}, [0.0, 0.9999999403953552]),
    ("auto", {"sample_weight": [0.8, 0.2]}, 0.09999999403953552),
    ("auto", {"sample_weight": [0, 0]}, 0.0),
])
def test_tv4_class_reductions(reduction, kwargs, expected):
    out115 = ref.keras_class_tf115(TV4_TRUE, TV4_PRED, reduction=reduction,
                                   axis=1, **kwargs)
    assert_vector(out115, expected, f32)
    out2 = ref.keras_class_tf2(TV4_TRUE, TV4_PRED, reduction=reduction,
                               axis=1, **kwargs)
    assert_vector(out2, -np.asarray(expected), f32)


TV5_TRUE = np.array([[[1, 0], [0, 1]], [[1, 1], [1, 0]]], dtype=f32)
TV5_PRED = np.array([[[1, 0], [1, 0]], [[1, 1], [-1, 0]]], dtype=f32)


def test_tv5_per_sample_and_expansion():
    per = ref.keras_cosine(TV5_TRUE, TV5_PRED, sign=+1)
    assert_vector(per, [[1, 0], [0.9999999403953552, -1]], f32)
    for w in ([1, 0], [[1], [0]]):
        assert_vector(ref.keras_class_tf115(TV5_TRUE, TV5_PRED, w), 0.25, f32)
        assert_vector(ref.keras_class_tf2(TV5_TRUE, TV5_PRED, w), -0.25, f32)
    with pytest.raises(ValueError, match="can not be broadcast"):
        ref.keras_class_tf115(TV5_TRUE, TV5_PRED, [1, 0, 1])
    with pytest.raises(ValueError):
        ref.keras_class_tf2(TV5_TRUE, TV5_PRED, [1, 0, 1])


def test_tv6_float64():
    yt = np.array([[1, 2, 3]], dtype=f64)
    yp = np.array([[1, 2, 3.0001]], dtype=f64)
    fn = ref.keras_cosine(yt, yp, sign=+1)
    np.testing.assert_allclose(fn, [0.9999999998724547], rtol=0, atol=1e-15)
    out115 = ref.keras_class_tf115(yt, yp)
    assert out115.dtype == f64 and out115 == 1.0
    out2 = ref.keras_class_tf2(yt, yp)
    assert out2.dtype == f64
    np.testing.assert_allclose(out2, -0.9999999998724547, rtol=0, atol=1e-15)


def test_tv12_empty_and_1d():
    e = np.zeros((0, 3), dtype=f32)
    for r in ("auto", "sum"):
        assert_vector(ref.keras_class_tf115(e, e, reduction=r), 0.0, f32)
    assert ref.keras_class_tf115(e, e, reduction="none").shape == (0,)
    assert_vector(ref.cosine_distance(e, e, axis=1), 0.0, f32)
    a, b = [0., 1., 1.], [1., 0., 1.]
    assert_vector(ref.keras_class_tf115(a, b, reduction="none"), 0.4999999701976776, f32)
    assert_vector(ref.keras_class_tf115(a, b), 0.4999999701976776, f32)
    assert_vector(ref.keras_class_tf2(a, b), -0.4999999701976776, f32)


def test_issue_example_list_input_is_float32():
    out = ref.keras_cosine([[1., 2.]], [[2., 1.]], sign=-1)
    assert_vector(out, [-0.8], f32)


# ---- TV7, TV8 v1 cosine_distance --------------------------------------------

TV7_L = [[1, 0], [0, 1], [0.6, 0.8]]
TV7_P = [[1, 0], [1, 0], [0.8, 0.6]]
TV7_W = [[1], [0], [2]]


@pytest.mark.parametrize("reduction, weights, expected", [
    (ref.V1_NONE, TV7_W, [[0], [0], [0.07999992370605469]]),
    (ref.V1_SUM, TV7_W, 0.07999992370605469),
    (ref.V1_MEAN, TV7_W, 0.026666641235351562),
    (ref.V1_SUM_OVER_BATCH_SIZE, TV7_W, 0.026666641235351562),
    (ref.V1_SUM_BY_NONZERO_WEIGHTS, TV7_W, 0.039999961853027344),
    (ref.V1_SUM_BY_NONZERO_WEIGHTS, 1.0, 0.3466666638851166),
    (ref.V1_SUM, [[0], [0], [0]], 0.0),
    (ref.V1_MEAN, [[0], [0], [0]], 0.0),
    (ref.V1_SUM_OVER_BATCH_SIZE, [[0], [0], [0]], 0.0),
    (ref.V1_SUM_BY_NONZERO_WEIGHTS, [[0], [0], [0]], 0.0),
])
@pytest.mark.parametrize("in_dtype", [f32, f64])
def test_tv7_cosine_distance(reduction, weights, expected, in_dtype):
    out = ref.cosine_distance(np.array(TV7_L, dtype=in_dtype),
                              np.array(TV7_P, dtype=in_dtype), axis=1,
                              weights=weights, reduction=reduction)
    assert_vector(out, expected, f32)


def test_tv7_per_example():
    out = ref.cosine_distance(TV7_L, TV7_P, axis=1, reduction=ref.V1_NONE)
    assert_vector(out, [[0], [1], [0.039999961853027344]], f32)


def test_tv8_no_normalization():
    for axis in (1, -1):
        assert_vector(ref.cosine_distance([[2, 0]], [[3, 0]], axis=axis), -5.0, f32)


def test_tv9_reference_errors():
    l32 = np.ones((3, 2), f32)
    with pytest.raises(ValueError, match="can not be broadcast"):
        ref.cosine_distance(l32, l32, axis=1, weights=[1, 0, 2])
    with pytest.raises(ValueError, match="can not be broadcast"):
        ref.cosine_distance(l32, l32, axis=1, weights=np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"Shapes \(2, 4\) and \(2, 3\) are incompatible"):
        ref.cosine_distance(np.ones((2, 3)), np.ones((2, 4)), axis=1)
    with pytest.raises(ValueError, match="You must specify 'axis'."):
        ref.cosine_distance(l32, l32, axis=None)
    with pytest.raises(TypeError):
        ref.keras_class_tf115([[0, 1], [1, 1]], [[1., 0.], [1., 1.]])
    with pytest.raises(ValueError, match="Invalid Reduction Key"):
        ref.keras_reduce_tf115(np.ones(2, f32), reduction="weighted_sum")
    with pytest.raises(TypeError):
        ref.keras_cosine(np.ones(2, f32), np.ones(2, f64))


# ---- TV10 metric ------------------------------------------------------------

def test_tv10_metric_streaming():
    m = ref.KerasMetric(axis=1)
    m.update_state(TV4_TRUE, TV4_PRED)
    assert_vector(m.result(), 0.4999999701976776, f32)
    m.reset_states()
    m.update_state(TV4_TRUE, TV4_PRED, sample_weight=[0.3, 0.7])
    assert_vector(m.total, 0.6999999284744263, f32)
    assert_vector(m.count, 1.0, f32)
    assert_vector(m.result(), 0.6999999284744263, f32)
    m.reset_states()
    m.update_state(TV4_TRUE, TV4_PRED)
    m.update_state(TV4_TRUE, TV4_PRED, sample_weight=[0.3, 0.7])
    assert_vector(m.count, 3.0, f32)
    assert_vector(m.result(), 0.5666666030883789, f32)
    m.reset_states()
    assert_vector(m([[0, 1]], [[1, 0]]), 0.0, f32)


# ---- TV11 values (gradients are out of scope) ------------------------------

def test_tv11_values():
    assert_vector(ref.keras_class_tf115([[1., 0.]], [[1., 1.]]), 0.70710677, f32)
    assert_vector(ref.cosine_distance([[0.6, 0.8]], [[0.8, 0.6]], axis=1),
                  0.039999961853027344, f32)


# ---- seed forms -------------------------------------------------------------

def test_seed_forms_article_example():
    a = np.array([[1, 2], [3, 4]], f32)
    b = np.array([[2, 1], [4, 3]], f32)
    # Exact real values; float32 rounding of cos allows a couple of ulps.
    np.testing.assert_allclose(ref.seed_neg_cos(a, b), [-0.8, -0.96], atol=2e-7)
    np.testing.assert_allclose(ref.seed_one_minus_cos(a, b), [0.2, 0.04], atol=2e-7)
    np.testing.assert_allclose(ref.seed_one_minus_cos_squared(a, b), [0.04, 0.0016],
                               atol=2e-7)
    z = np.zeros((1, 2), f32)
    assert ref.seed_one_minus_cos(z, a[:1]) == 1.0
    assert ref.seed_one_minus_cos_squared(z, a[:1]) == 1.0


def test_complex_l2_normalize_as_tf_2_21_gives_it():
    # Measured with TF 2.21 eagerly: tf.nn.l2_normalize of complex input keeps
    # the dtype; ε = 1e-12 floors the real sum of squares, so [1e-7, 0] is
    # scaled by 1e6; a float32 sum that overflows scales to 0; inf gives NaN.
    x = np.array([[3 + 4j, 1 - 2j], [0j, 0j], [1e-7 + 0j, 0j]], np.complex64)
    out = ref.l2_normalize(x, axis=1)
    assert out.dtype == np.complex64
    np.testing.assert_allclose(out, [[0.5477226 + 0.73029673j, 0.18257418 - 0.36514837j],
                                     [0, 0], [0.1, 0]], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(ref.l2_normalize(x, axis=0),
                               [[0.6 + 0.8j, 0.4472136 - 0.8944272j], [0, 0], [2e-8, 0]],
                               rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(ref.l2_normalize(x, axis=None)[2, 0], 1.8257419e-08, rtol=1e-6)
    assert ref.l2_normalize(x.astype(np.complex128), axis=1).dtype == np.complex128
    np.testing.assert_array_equal(ref.l2_normalize(np.array([1e20 + 1e20j], np.complex64), 0), [0])
    inf = ref.l2_normalize(np.array([complex(np.inf, 1), 1j], np.complex64), 0)
    assert np.isnan(inf[0].real) and inf[0].imag == 0 and inf[1] == 0
    # epsilon=1.0 is compared with the real sum of squares: 0.25 < 1.
    np.testing.assert_allclose(ref.l2_normalize(np.array([0.3 + 0.4j], np.complex64), 0, 1.0),
                               [0.3 + 0.4j], rtol=1e-6)
