"""Inputs holding NaN or ±inf give what TensorFlow's formula gives.

TensorFlow normalizes a vector holding inf to NaN at that element
(inf·rsqrt(inf) = inf·0), so its cosine is NaN; NaN propagates; cosine
distance and the reductions just do IEEE arithmetic. The references in
tests/reference.py evaluate TensorFlow's ops one by one in numpy, so their
NaN and inf come out of IEEE arithmetic too. Every public function is
compared with them here, on random arrays sprinkled with NaN and ±inf:
non-finite results must match exactly (same positions, same sign of inf),
finite ones within the usual tolerance.
"""

import numpy as np
from hypothesis import given, settings, strategies as st
import hypothesis.extra.numpy as hnp

import reference as ref
from helpers import PROPERTY_TOL

# Cheap examples; more of them than the suite's default of 60.
EXAMPLES = settings(max_examples=150)

SPECIALS = [np.nan, np.inf, -np.inf]


def assert_same(actual, expected, compute_dtype=None, scale=1.0):
    """Same shape and dtype; identical NaN and ±inf; finite values close.

    compute_dtype picks the tolerance where TensorFlow computes in another
    dtype than it returns (TF1's losses compute in float32); scale
    multiplies atol for values that are not O(1), as in helpers.
    """
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    assert actual.dtype == expected.dtype, (actual.dtype, expected.dtype)
    a, e = actual.astype(np.float64), expected.astype(np.float64)
    np.testing.assert_array_equal(np.isnan(a), np.isnan(e), err_msg=f"NaN at other places:\n{a}\n{e}")
    np.testing.assert_array_equal(np.isposinf(a), np.isposinf(e), err_msg=f"+inf differs:\n{a}\n{e}")
    np.testing.assert_array_equal(np.isneginf(a), np.isneginf(e), err_msg=f"-inf differs:\n{a}\n{e}")
    finite = np.isfinite(e)
    tol = dict(PROPERTY_TOL[np.dtype(compute_dtype or expected.dtype)])
    tol["atol"] *= max(1.0, float(scale))
    np.testing.assert_allclose(a[finite], e[finite], **tol)


@st.composite
def sprinkled(draw, dtype, shape, at_least=0):
    """An array of moderate values with NaN/±inf in up to 3 places (at least at_least)."""
    dtype = np.dtype(dtype)
    if dtype == np.float16:
        values = st.floats(-8, 8, width=16).filter(lambda v: abs(v) > 0.0625 or v == 0)
    else:
        values = st.floats(-100, 100, width=32 if dtype == np.float32 else 64)
    arr = draw(hnp.arrays(dtype, shape, elements=values))
    if arr.size:
        count = draw(st.integers(min(at_least, arr.size), min(3, arr.size)))
        for _ in range(count):
            arr.flat[draw(st.integers(0, arr.size - 1))] = draw(st.sampled_from(SPECIALS))
    return arr


@st.composite
def pair(draw, dtypes=(np.float16, np.float32, np.float64)):
    """Two sprinkled arrays of one shape (at least one non-finite), and an axis."""
    dtype = draw(st.sampled_from(dtypes))
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5))
    a, b = draw(sprinkled(dtype, shape, at_least=1)), draw(sprinkled(dtype, shape))
    if draw(st.booleans()):
        a, b = b, a
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    return a, b, axis


def errstate(fn):
    with np.errstate(all="ignore"):
        return fn()


@EXAMPLES
@given(inp=pair())
def test_l2_normalize(flavour, inp):
    x, _, axis = inp
    assert_same(flavour.mod.nn.l2_normalize(x, axis=axis), ref.l2_normalize(x, axis=axis))


@EXAMPLES
@given(inp=pair())
def test_keras_cosine_function(flavour, inp):
    a, b, axis = inp
    got = flavour.mod.keras.losses.cosine_similarity(a, b, axis=axis)
    assert_same(got, ref.keras_cosine(a, b, axis=axis, sign=flavour.sign))


@EXAMPLES
@given(inp=pair(), form=st.sampled_from([
    ("cosine_similarity_loss", ref.seed_neg_cos),
    ("cosine_similarity_loss_v2", ref.seed_one_minus_cos),
    ("cosine_similarity_loss_v3", ref.seed_one_minus_cos_squared)]))
def test_seed_forms(cosloss, inp, form):
    a, b, axis = inp
    name, reference = form
    assert_same(getattr(cosloss, name)(a, b, axis=axis), errstate(lambda: reference(a, b, axis=axis)))


@EXAMPLES
@given(inp=pair(dtypes=(np.float32, np.float64)), data=st.data())
def test_keras_loss_class(flavour, inp, data):
    a, b, axis = inp
    losses_shape = a.shape[:axis % a.ndim] + a.shape[axis % a.ndim + 1:]
    weight = data.draw(st.one_of(st.none(), sprinkled(np.float32, losses_shape)))
    reduction = data.draw(st.sampled_from(ref.K_REDUCTIONS))
    loss = flavour.mod.keras.losses.CosineSimilarity(axis=axis, reduction=reduction)
    expected = flavour.keras_class_ref(a, b, sample_weight=weight, reduction=reduction, axis=axis)
    assert_same(loss(a, b, sample_weight=weight), expected)


@EXAMPLES
@given(inp=pair(dtypes=(np.float32, np.float64)))
def test_keras_metric(flavour, inp):
    a, b, _ = inp
    metric = flavour.mod.keras.metrics.CosineSimilarity()
    assert_same(metric(a, b), ref.KerasMetric()(a, b))


@EXAMPLES
@given(inp=pair(dtypes=(np.float32, np.float64)), data=st.data())
def test_cosine_distance(flavour, inp, data):
    a, b, axis = inp
    axis %= a.ndim
    loss_shape = a.shape[:axis] + (1,) + a.shape[axis + 1:]
    weights = data.draw(st.one_of(st.just(1.0), sprinkled(np.float32, loss_shape)))
    reduction = data.draw(st.sampled_from(ref.V1_REDUCTIONS))
    got = flavour.mod.losses.cosine_distance(a, b, axis=axis, weights=weights, reduction=reduction)
    # Unnormalized dot products of values up to 100 cancel: the reference's
    # op-by-op float32 sum can be off by ulps of the products' magnitude
    # (cosloss accumulates in float64), so atol scales with Σ|w|·(1 + Σ|a·b|).
    with np.errstate(all="ignore"):
        mag = np.nan_to_num(np.sum(np.abs(a.astype(np.float64) * b), axis=axis, keepdims=True),
                            nan=0.0, posinf=0.0)
        w = np.nan_to_num(np.abs(np.broadcast_to(np.asarray(weights, np.float64), loss_shape)),
                          nan=0.0, posinf=0.0)
    assert_same(got, ref.cosine_distance(a, b, axis, weights=weights, reduction=reduction),
                np.float32, scale=1.0 + float(np.sum(w * (1.0 + mag))))


@EXAMPLES
@given(inp=pair(dtypes=(np.float32, np.float64)), data=st.data())
def test_compute_weighted_loss(flavour, inp, data):
    losses, weights, _ = inp
    weights = data.draw(st.sampled_from([1.0, weights.astype(np.float32)]))
    reduction = data.draw(st.sampled_from(ref.V1_REDUCTIONS))
    got = flavour.mod.losses.compute_weighted_loss(losses, weights=weights, reduction=reduction)
    assert_same(got, ref.compute_weighted_loss_v1(losses, weights=weights, reduction=reduction),
                np.float32)


@EXAMPLES
@given(inp=pair(dtypes=(np.float32, np.float64)))
def test_gradients_are_nan_where_the_value_is(cosloss, inp):
    # A slice with a non-finite input has a NaN value and NaN gradients
    # (TensorFlow's autodiff gives NaN in both inputs' slices, but for a
    # partner below epsilon, which gets NaN only opposite the NaN elements);
    # every other slice's value and gradients stay finite.
    a, b, axis = inp
    value, (da, db) = cosloss.value_and_grad(cosloss.keras.losses.cosine_similarity, a, b, axis=axis)
    # One row per slice, the reduced axis last.
    rows = [np.moveaxis(v, axis, -1).reshape(-1, a.shape[axis]) for v in (a, b, da, db)]
    for k, (ra, rb, ga, gb) in enumerate(zip(*rows)):
        v = value.reshape(-1)[k]
        if np.isfinite(ra).all() and np.isfinite(rb).all():
            assert np.isfinite(v) and np.isfinite(ga).all() and np.isfinite(gb).all(), (ra, rb, ga, gb)
        else:
            assert np.isnan(v), (ra, rb, v)
            assert np.isnan(ga).any() and np.isnan(gb).any(), (ra, rb, ga, gb)
