"""Property tests: cosloss against tests/reference.py over random inputs.

Random shapes (rank 1-4, sides 0-4), axes (int, negative, list, None),
dtypes (float16/32/64, ints where TF casts), memory layouts (C, Fortran,
strided with NaN-filled gaps, negative strides, zero strides, read-only),
weights of legal and illegal shapes and every reduction.  Where the
reference (TF) raises ValueError, cosloss must raise ValueError too.
"""

import numpy as np
import pytest
from hypothesis import given, note, strategies as st

import reference as ref
import strategies as S
from helpers import assert_matches_reference

f16, f32, f64 = S.f16, S.f32, S.f64

V1_REDUCTIONS = ref.V1_REDUCTIONS
KERAS_REDUCTIONS = ref.K_REDUCTIONS


def native(x):
    """Native-byte-order C copy, for the reference (and as a pristine copy)."""
    x = np.asarray(x)
    return np.array(x, dtype=x.dtype.newbyteorder("="), order="C", copy=True)


def expect_same_outcome(actual_fn, expected_fn):
    """Run the reference; if it raises ValueError, cosloss must raise ValueError."""
    try:
        expected = expected_fn()
    except ValueError as e:
        note(f"reference raised: {e}")
        with pytest.raises(ValueError):
            actual_fn()
        return None, None
    return actual_fn(), expected


def assert_unchanged(arrays, copies):
    for a, c in zip(arrays, copies):
        np.testing.assert_array_equal(np.asarray(a), c)


def weight_scale(w, shape):
    """1 + sum |broadcast weight|: bounds |sum w*l| for |l| <= 1."""
    try:
        return 1.0 + float(np.sum(np.abs(np.broadcast_to(np.asarray(w, f64), shape))))
    except ValueError:
        return 1.0 + float(np.sum(np.abs(np.asarray(w, f64)))) * max(1, int(np.prod(shape)))


# ---------------------------------------------------------------------------
# l2_normalize
# ---------------------------------------------------------------------------

@given(data=st.data())
def test_l2_normalize(flavour, data):
    dtype = data.draw(st.sampled_from(S.FLOAT_DTYPES), label="dtype")
    shape = data.draw(S.shapes(), label="shape")
    x = data.draw(S.laid_out_array(dtype, shape), label="x")
    axis = data.draw(S.any_axis(len(shape)), label="axis")
    x0 = native(x)
    out = flavour.mod.nn.l2_normalize(x, axis=axis)
    assert_matches_reference(out, ref.l2_normalize(x0, axis=axis))
    assert_unchanged([x], [x0])


@given(data=st.data())
def test_l2_normalize_epsilon(flavour, data):
    # A larger epsilon moves the linear region: tiny vectors scale by 1/sqrt(eps).
    shape = data.draw(S.shapes(max_dims=2), label="shape")
    x = data.draw(S.arrays(f32, shape, bound=1e-2), label="x")
    eps = data.draw(st.sampled_from([1e-12, 1e-6, 1e-4, 1.0]), label="epsilon")
    out = flavour.mod.nn.l2_normalize(x, axis=-1, epsilon=eps)
    assert_matches_reference(out, ref.l2_normalize(x, axis=-1, epsilon=eps))


# ---------------------------------------------------------------------------
# Keras function (sign by flavour) and seed forms
# ---------------------------------------------------------------------------

@st.composite
def keras_inputs(draw, allow_broadcast=True):
    t_shape, p_shape, axis = draw(S.keras_pair_shapes(allow_broadcast))
    dtype = draw(st.sampled_from(S.FLOAT_DTYPES))
    y_true = draw(S.laid_out_array(dtype, t_shape))
    y_pred = draw(S.laid_out_array(dtype, p_shape))
    return y_true, y_pred, axis


@given(inp=keras_inputs())
def test_keras_cosine_function(flavour, inp):
    y_true, y_pred, axis = inp
    t0, p0 = native(y_true), native(y_pred)
    out, exp = expect_same_outcome(
        lambda: flavour.mod.keras.losses.cosine_similarity(y_true, y_pred, axis=axis),
        lambda: ref.keras_cosine(t0, p0, axis=axis, sign=flavour.sign))
    if exp is not None:
        assert_matches_reference(out, exp)
    assert_unchanged([y_true, y_pred], [t0, p0])


SEED_FORMS = [
    ("cosine_similarity_loss", ref.seed_neg_cos),
    ("cosine_similarity_loss_v2", ref.seed_one_minus_cos),
    ("cosine_similarity_loss_v3", ref.seed_one_minus_cos_squared),
]


@pytest.mark.parametrize("name, reference", SEED_FORMS, ids=[n for n, _ in SEED_FORMS])
@given(inp=keras_inputs())
def test_seed_forms(cosloss, name, reference, inp):
    a, b, axis = inp
    a0, b0 = native(a), native(b)
    out, exp = expect_same_outcome(lambda: getattr(cosloss, name)(a, b, axis=axis),
                                   lambda: reference(a0, b0, axis=axis))
    if exp is not None:
        # (1-cos)^2 doubles the relative error of 1-cos; allow twice the atol.
        assert_matches_reference(out, exp, scale=4.0)
    assert_unchanged([a, b], [a0, b0])


@pytest.mark.parametrize("y_true, y_pred", [
    (np.zeros((2, 3), f16), np.ones((2, 3), f16)),          # zero vector: NaN (§2)
    (np.ones((2, 3), f16), np.zeros((2, 3), f16)),
    (np.zeros((2, 0), f16), np.zeros((2, 0), f16)),          # empty axis: sum of nothing = 0
    (np.zeros((0,), f16), np.zeros((0,), f16)),
], ids=["zero-true", "zero-pred", "empty-axis-2d", "empty-axis-1d"])
def test_float16_edge_cases(flavour, cosloss, y_true, y_pred):
    # float16's epsilon is 0: a zero vector normalizes to NaN, but an empty axis
    # has nothing to normalize, and reduce_sum over it is exactly 0.
    assert_matches_reference(flavour.mod.keras.losses.cosine_similarity(y_true, y_pred),
                             ref.keras_cosine(y_true, y_pred, sign=flavour.sign))
    for name, reference in SEED_FORMS:
        assert_matches_reference(getattr(cosloss, name)(y_true, y_pred),
                                 reference(y_true, y_pred))


@pytest.mark.parametrize("dtype", [f16, f32, f64], ids=["f16", "f32", "f64"])
@pytest.mark.parametrize("t_shape, p_shape", [((1,), (2,)), ((3, 1), (3, 2)),
                                              ((2,), (4, 1))])
def test_broadcast_along_reduced_axis(flavour, cosloss, dtype, t_shape, p_shape):
    # §5: each input is l2-normalized on its own, THEN t*p broadcasts.  With a
    # size-1 reduced axis against size D, TF sums D copies: y_true=[1] and
    # y_pred=[1,1] give 2*0.7071 = 1.414, not cos of the broadcast vectors (1.0).
    rng = np.random.default_rng(0)
    y_true = (rng.random(t_shape) + 0.5).astype(dtype)
    y_pred = (rng.random(p_shape) + 0.5).astype(dtype)
    assert_matches_reference(flavour.mod.keras.losses.cosine_similarity(y_true, y_pred),
                             ref.keras_cosine(y_true, y_pred, sign=flavour.sign))
    assert_matches_reference(cosloss.cosine_similarity_loss_v2(y_true, y_pred),
                             ref.seed_one_minus_cos(y_true, y_pred))


@pytest.mark.parametrize("dtype", [f32, f64])
def test_broadcast_true_vector_against_batch(flavour, dtype):
    # §5: y_true of shape [D] against y_pred of shape [N, D] gives [N].
    rng = np.random.default_rng(1)
    y_true = rng.standard_normal(3).astype(dtype)
    y_pred = rng.standard_normal((4, 3)).astype(dtype)
    out = flavour.mod.keras.losses.cosine_similarity(y_true, y_pred)
    assert_matches_reference(out, ref.keras_cosine(y_true, y_pred, sign=flavour.sign))
    loss = flavour.mod.keras.losses.CosineSimilarity(reduction="none")
    assert_matches_reference(loss(y_true, y_pred), flavour.keras_class_ref(
        y_true, y_pred, reduction="none"))


def test_keras_class_rank_difference(flavour):
    # tf-keras squeezes y_pred [D, 1] to [D] before the loss (one scalar);
    # TF 1.15 does not, so y_pred's size-1 last axis broadcasts against
    # y_true [D] and the loss has shape [D].
    rng = np.random.default_rng(2)
    y_true = rng.standard_normal(3).astype(f32)
    y_pred = rng.standard_normal((3, 1)).astype(f32)
    loss = flavour.mod.keras.losses.CosineSimilarity(reduction="none")
    exp = flavour.keras_class_ref(y_true, y_pred, reduction="none")
    assert exp.shape == (() if flavour.id == "tf2" else (3,))
    assert_matches_reference(loss(y_true, y_pred), exp)


# ---------------------------------------------------------------------------
# Keras loss class: reductions and sample_weight
# ---------------------------------------------------------------------------

@given(inp=keras_inputs(), data=st.data())
def test_keras_loss_class(flavour, inp, data):
    y_true, y_pred, axis = inp
    t0, p0 = native(y_true), native(y_pred)
    reduction = data.draw(st.sampled_from(KERAS_REDUCTIONS), label="reduction")
    try:
        per_sample_shape = flavour.keras_class_ref(t0, p0, reduction="none", axis=axis).shape
    except ValueError:
        per_sample_shape = np.broadcast_shapes(t0.shape, p0.shape)[:-1]
    sw = data.draw(st.one_of(st.none(), S.weights_for(per_sample_shape, keras=True)),
                   label="sample_weight")
    loss = flavour.mod.keras.losses.CosineSimilarity(axis=axis, reduction=reduction)
    out, exp = expect_same_outcome(
        lambda: loss(y_true, y_pred, sample_weight=sw),
        lambda: flavour.keras_class_ref(t0, p0, sample_weight=sw,
                                        reduction=reduction, axis=axis))
    if exp is not None:
        # 1.15 reduces in float32 whatever the input dtype.
        compute = f32 if (flavour.id == "tf115" and exp.dtype == f64) else None
        scale = weight_scale(1.0 if sw is None else sw, per_sample_shape)
        assert_matches_reference(out, exp, compute_dtype=compute, scale=scale)


# ---------------------------------------------------------------------------
# Keras metric (streaming, +cos, float32 state)
# ---------------------------------------------------------------------------

@st.composite
def metric_update(draw, axis_ndim=None):
    shape = draw(S.shapes(min_dims=1, max_dims=4, min_side=1))
    t_dtype = draw(st.sampled_from(S.FLOAT_DTYPES + [np.dtype(np.int32)]))
    p_dtype = draw(st.sampled_from(S.FLOAT_DTYPES + [np.dtype(np.int32)]))
    y_true = draw(S.laid_out_array(t_dtype, shape))
    y_pred = draw(S.laid_out_array(p_dtype, shape))
    values_shape = shape[:-1]
    kind = draw(st.sampled_from(["none", "weights", "fallback"]))
    if kind == "none":
        sw = None
    elif kind == "fallback" and len(values_shape) >= 3:
        # Weights of rank <= rank(values)-2: TF reduce_means the extra axes.
        k = draw(st.integers(1, len(values_shape) - 2))
        sw = draw(S.nonneg_weight_array(values_shape[:k]))
    else:
        sw = draw(S.weights_for(values_shape, keras=True, signed=False))
    return y_true, y_pred, sw


@given(updates=st.lists(metric_update(), min_size=1, max_size=3))
def test_keras_metric(flavour, updates):
    # axis=-1 throughout, so consecutive updates may have different shapes.
    metric = flavour.mod.keras.metrics.CosineSimilarity()
    reference = ref.KerasMetric(axis=-1)
    for y_true, y_pred, sw in updates:
        t0, p0 = native(y_true), native(y_pred)
        try:
            reference.update_state(t0, p0, sample_weight=sw)
        except ValueError:
            with pytest.raises(ValueError):
                metric.update_state(y_true, y_pred, sample_weight=sw)
            return
        metric.update_state(y_true, y_pred, sample_weight=sw)
        assert_unchanged([y_true, y_pred], [t0, p0])
    n = sum(np.asarray(u[0]).size for u in updates)
    assert_matches_reference(metric.result(), reference.result(), scale=1 + n)
    metric.reset_states()
    assert_matches_reference(metric.result(), np.float32(0))


# ---------------------------------------------------------------------------
# v1 cosine_distance and compute_weighted_loss
# ---------------------------------------------------------------------------

@given(data=st.data())
def test_cosine_distance(flavour, data):
    shape = data.draw(S.shapes(), label="shape")
    l_dtype = data.draw(st.sampled_from(S.FLOAT_DTYPES + [np.dtype(np.int32)]), label="l_dtype")
    p_dtype = data.draw(st.sampled_from(S.FLOAT_DTYPES + [np.dtype(np.int32)]), label="p_dtype")
    labels = data.draw(S.laid_out_array(l_dtype, shape, bound=10.0), label="labels")
    predictions = data.draw(S.laid_out_array(p_dtype, shape, bound=10.0), label="predictions")
    axis = data.draw(S.single_axis(len(shape)), label="axis")
    reduction = data.draw(st.sampled_from(V1_REDUCTIONS), label="reduction")
    loss_shape = tuple(1 if i == axis % len(shape) else d for i, d in enumerate(shape))
    weights = data.draw(st.one_of(
        st.just(1.0),
        S.weights_for(loss_shape, keras=False, signed=reduction != ref.V1_MEAN)),
        label="weights")
    l0, p0 = native(labels), native(predictions)
    out, exp = expect_same_outcome(
        lambda: flavour.mod.losses.cosine_distance(labels, predictions, axis=axis,
                                                   weights=weights, reduction=reduction),
        lambda: ref.cosine_distance(l0, p0, axis=axis, weights=weights,
                                    reduction=reduction))
    if exp is not None:
        # Unnormalized dot products: scale atol by their magnitude.
        dot_mag = np.sum(np.abs(l0.astype(f64) * p0.astype(f64)), axis=axis, keepdims=True)
        scale = float(np.sum(np.abs(np.broadcast_to(np.asarray(weights, f64), loss_shape))
                             * (1 + dot_mag))) + 1
        assert_matches_reference(out, exp, scale=scale)
    assert_unchanged([labels, predictions], [l0, p0])


@given(data=st.data())
def test_compute_weighted_loss(flavour, data):
    shape = data.draw(S.shapes(min_dims=0, max_dims=3), label="shape")
    dtype = data.draw(st.sampled_from(S.FLOAT_DTYPES), label="dtype")
    losses = data.draw(S.laid_out_array(dtype, shape, bound=10.0), label="losses")
    reduction = data.draw(st.sampled_from(V1_REDUCTIONS), label="reduction")
    weights = data.draw(st.one_of(
        st.just(1.0),
        S.weights_for(shape, keras=False, signed=reduction != ref.V1_MEAN)),
        label="weights")
    l0 = native(losses)
    out, exp = expect_same_outcome(
        lambda: flavour.mod.losses.compute_weighted_loss(losses, weights=weights,
                                                         reduction=reduction),
        lambda: ref.compute_weighted_loss_v1(l0, weights=weights, reduction=reduction))
    if exp is not None:
        # v1 arithmetic is float32 whatever the input dtype.
        compute = f16 if dtype == f16 else f32
        scale = 1 + float(np.sum(np.abs(l0.astype(f64) * np.asarray(weights, f64))))
        assert_matches_reference(out, exp, compute_dtype=compute, scale=scale)
    assert_unchanged([losses], [l0])


# ---------------------------------------------------------------------------
# Keras class reduction step on its own, through per-sample losses of any rank
# ---------------------------------------------------------------------------

@given(data=st.data())
def test_keras_reduction_of_3d_inputs(flavour, data):
    # [B,T,D] inputs give [B,T] losses; sample_weight [B] expands to [B,1].
    b, t, d = (data.draw(st.integers(1, 4), label=n) for n in "BTD")
    dtype = data.draw(st.sampled_from([f32, f64]), label="dtype")
    y_true = data.draw(S.arrays(dtype, (b, t, d)), label="y_true")
    y_pred = data.draw(S.arrays(dtype, (b, t, d)), label="y_pred")
    sw = data.draw(S.nonneg_weight_array((b,)), label="sample_weight")
    reduction = data.draw(st.sampled_from(KERAS_REDUCTIONS), label="reduction")
    loss = flavour.mod.keras.losses.CosineSimilarity(reduction=reduction)
    out = loss(y_true, y_pred, sample_weight=sw)
    exp = flavour.keras_class_ref(y_true, y_pred, sample_weight=sw, reduction=reduction)
    compute = f32 if flavour.id == "tf115" else None
    assert_matches_reference(out, exp, compute_dtype=compute,
                             scale=1 + float(np.sum(np.abs(sw))) * t)


def test_big_endian_inputs(flavour):
    # np.asarray accepts non-native byte order; the values must be read right.
    x = np.array([[3., 4.], [1., 2.]], dtype=">f4")
    y = np.array([[4., 3.], [2., 1.]], dtype=">f8")
    assert_matches_reference(flavour.mod.nn.l2_normalize(x, axis=-1),
                             ref.l2_normalize(native(x), axis=-1))
    assert_matches_reference(flavour.mod.keras.losses.cosine_similarity(y, y[::-1]),
                             ref.keras_cosine(native(y), native(y[::-1]), sign=flavour.sign))
    assert_matches_reference(flavour.mod.losses.cosine_distance(x, y, axis=1),
                             ref.cosine_distance(native(x), native(y), axis=1))


# ---------------------------------------------------------------------------
# l2_normalize of complex input (TF 2.x's complex branch)
# ---------------------------------------------------------------------------

CPLX_DTYPES = [np.dtype(np.complex64), np.dtype(np.complex128)]


@given(data=st.data())
def test_l2_normalize_complex(flavour, data):
    dtype = data.draw(st.sampled_from(CPLX_DTYPES), label="dtype")
    shape = data.draw(S.shapes(), label="shape")
    real = dtype.type(0).real.dtype
    re = data.draw(S.arrays(real, shape), label="re")
    im = data.draw(S.arrays(real, shape), label="im")
    x = data.draw(S.layout_of((re + 1j * im).astype(dtype)), label="x")
    axis = data.draw(S.any_axis(len(shape)), label="axis")
    x0 = native(x)
    out = flavour.mod.nn.l2_normalize(x, axis=axis)
    expected = ref.l2_normalize(x0, axis=axis)
    assert_matches_reference(out.real, expected.real)
    assert_matches_reference(out.imag, expected.imag)
    assert out.dtype == dtype and out.shape == x.shape
    assert_unchanged([x], [x0])


# ---------------------------------------------------------------------------
# Lists of axes (TF 2.21 eagerly: cosine_distance, the Keras function, loss
# class and metric reduce over every listed axis; cosine_distance keeps them)
# ---------------------------------------------------------------------------

@st.composite
def axis_list(draw, ndim):
    """A list or tuple of distinct axes (possibly none), mixed signs, any order."""
    axes = draw(st.lists(st.integers(0, ndim - 1), min_size=0, max_size=ndim, unique=True))
    axes = [a - ndim if draw(st.booleans()) else a for a in axes]
    return tuple(axes) if draw(st.booleans()) else axes


@st.composite
def listed_inputs(draw, min_side=0):
    shape = draw(S.shapes(min_side=min_side))
    dtype = draw(st.sampled_from(S.FLOAT_DTYPES))
    # y_true may broadcast along the axes that are not listed.
    axes = draw(axis_list(len(shape)))
    listed = {a % len(shape) for a in axes}
    t_shape = tuple(1 if a not in listed and draw(st.booleans()) else d
                    for a, d in enumerate(shape))
    return (draw(S.laid_out_array(dtype, t_shape)), draw(S.laid_out_array(dtype, shape)), axes)


@given(inp=listed_inputs())
def test_keras_cosine_function_axis_list(flavour, inp):
    y_true, y_pred, axis = inp
    t0, p0 = native(y_true), native(y_pred)
    out = flavour.mod.keras.losses.cosine_similarity(y_true, y_pred, axis=axis)
    assert_matches_reference(out, ref.keras_cosine(t0, p0, axis=axis, sign=flavour.sign))
    assert_unchanged([y_true, y_pred], [t0, p0])


@given(inp=listed_inputs(), data=st.data())
def test_keras_loss_class_axis_list(flavour, inp, data):
    y_true, y_pred, axis = inp
    t0, p0 = native(y_true), native(y_pred)
    reduction = data.draw(st.sampled_from(KERAS_REDUCTIONS), label="reduction")
    per_sample_shape = flavour.keras_class_ref(t0, p0, reduction="none", axis=axis).shape
    sw = data.draw(st.one_of(st.none(), S.weights_for(per_sample_shape, keras=True)),
                   label="sample_weight")
    loss = flavour.mod.keras.losses.CosineSimilarity(axis=axis, reduction=reduction)
    assert loss.get_config()["axis"] == axis  # kept as given, as tf-keras keeps it
    out, exp = expect_same_outcome(
        lambda: loss(y_true, y_pred, sample_weight=sw),
        lambda: flavour.keras_class_ref(t0, p0, sample_weight=sw, reduction=reduction, axis=axis))
    if exp is not None:
        compute = f32 if (flavour.id == "tf115" and exp.dtype == f64) else None
        scale = weight_scale(1.0 if sw is None else sw, per_sample_shape)
        assert_matches_reference(out, exp, compute_dtype=compute, scale=scale)


@given(inp=listed_inputs(min_side=1))
def test_keras_metric_axis_list(flavour, inp):
    y_true, y_pred, axis = inp
    metric = flavour.mod.keras.metrics.CosineSimilarity(axis=axis)
    metric.update_state(y_true, y_pred)
    expected = ref.KerasMetric(axis=axis).update_state(native(y_true), native(y_pred)).result()
    assert_matches_reference(metric.result(), expected, scale=1 + np.asarray(y_pred).size)


@given(data=st.data())
def test_cosine_distance_axis_list(flavour, data):
    shape = data.draw(S.shapes(), label="shape")
    dtype = data.draw(st.sampled_from(S.FLOAT_DTYPES + [np.dtype(np.int32)]), label="dtype")
    labels = data.draw(S.laid_out_array(dtype, shape, bound=10.0), label="labels")
    predictions = data.draw(S.laid_out_array(dtype, shape, bound=10.0), label="predictions")
    axis = data.draw(axis_list(len(shape)), label="axis")
    reduction = data.draw(st.sampled_from(V1_REDUCTIONS), label="reduction")
    listed = {a % len(shape) for a in axis}
    loss_shape = tuple(1 if i in listed else d for i, d in enumerate(shape))
    weights = data.draw(st.one_of(
        st.just(1.0), S.weights_for(loss_shape, keras=False, signed=reduction != ref.V1_MEAN)),
        label="weights")
    l0, p0 = native(labels), native(predictions)
    out, exp = expect_same_outcome(
        lambda: flavour.mod.losses.cosine_distance(labels, predictions, axis=axis,
                                                   weights=weights, reduction=reduction),
        lambda: ref.cosine_distance(l0, p0, axis=axis, weights=weights, reduction=reduction))
    if exp is not None:
        dot_mag = np.sum(np.abs(l0.astype(f64) * p0.astype(f64)), axis=tuple(listed),
                         keepdims=True)
        scale = float(np.sum(np.abs(np.broadcast_to(np.asarray(weights, f64), loss_shape))
                             * (1 + dot_mag))) + 1
        assert_matches_reference(out, exp, scale=scale)
    assert_unchanged([labels, predictions], [l0, p0])
