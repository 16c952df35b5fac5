"""cosloss.value_and_grad against central differences of the numpy references.

The references (tests/reference.py) are TensorFlow's forward formulas; their
float64 central differences are the gradients TensorFlow's autodiff gives
away from the ε floor, so random data here keeps every norm well above it.
Linear losses (cosine_distance, compute_weighted_loss) are checked against
the gradient formulas of the spec's §4 and §8, and the spec's TV11 vectors
pin the corner cases.
"""

import numpy as np
import pytest
from hypothesis import assume, example, given, strategies as st

import reference as ref

F64 = np.float64
RTOL = 1e-6


def central_difference(f, x, h=1e-6):
    """d f / d x for scalar f, one coordinate at a time (float64)."""
    x = np.array(x, dtype=F64)
    grad = np.empty_like(x)
    for idx in np.ndindex(x.shape):
        orig = x[idx]
        x[idx] = orig + h
        up = f(x)
        x[idx] = orig - h
        down = f(x)
        x[idx] = orig
        grad[idx] = (up - down) / (2 * h)
    return grad


def assert_grad_close(actual, expected):
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=RTOL * max(1.0, np.abs(expected).max(initial=0)))


@st.composite
def pair_case(draw):
    """Two float64 arrays that broadcast, an axis, and an upstream gradient."""
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim)))
    axis = draw(st.integers(-ndim, ndim - 1))
    # y_true may be broadcast over the non-reduced axes (size 1 there).
    t_shape = tuple(1 if (a != axis % ndim and draw(st.booleans())) else d for a, d in enumerate(shape))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    y_true, y_pred = rng.standard_normal(t_shape), rng.standard_normal(shape)
    # Keep every slice's norm far from the ε floor and the forms' kinks.
    assume(np.min(np.sqrt(np.sum(y_true**2, axis=axis))) > 0.3)
    assume(np.min(np.sqrt(np.sum(y_pred**2, axis=axis))) > 0.3)
    value_shape = shape[:axis % ndim] + shape[axis % ndim + 1:]
    upstream = rng.standard_normal(value_shape)
    return y_true, y_pred, axis, upstream


FUNCTION_CASES = [
    ("cosloss.keras.losses.cosine_similarity", lambda t, p, axis: ref.keras_cosine(t, p, axis, sign=-1)),
    ("cosloss.tf115.keras.losses.cosine_similarity", lambda t, p, axis: ref.keras_cosine(t, p, axis, sign=+1)),
    ("cosloss.cosine_similarity_loss", ref.seed_neg_cos),
    ("cosloss.cosine_similarity_loss_v2", ref.seed_one_minus_cos),
    ("cosloss.cosine_similarity_loss_v3", ref.seed_one_minus_cos_squared),
]


def resolve(dotted):
    import importlib
    module, name = dotted.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)


@pytest.mark.parametrize("name, reference", FUNCTION_CASES, ids=[c[0] for c in FUNCTION_CASES])
@given(case=pair_case())
def test_cosine_functions_match_finite_differences(cosloss, name, reference, case):
    y_true, y_pred, axis, upstream = case
    fn = resolve(name)
    value, (d_true, d_pred) = cosloss.value_and_grad(fn, y_true, y_pred, axis=axis, upstream=upstream)
    np.testing.assert_allclose(value, reference(y_true, y_pred, axis), rtol=1e-12, atol=1e-12)
    assert d_true.shape == y_true.shape and d_pred.shape == y_pred.shape
    assert d_true.dtype == d_pred.dtype == np.float64
    loss = lambda t, p: float(np.sum(upstream * reference(t, p, axis)))
    assert_grad_close(d_true, central_difference(lambda t: loss(t, y_pred), y_true))
    assert_grad_close(d_pred, central_difference(lambda p: loss(y_true, p), y_pred))


@given(case=pair_case(), reduction=st.sampled_from(["auto", "sum", "sum_over_batch_size", "none"]),
       weighted=st.booleans(), data=st.data())
def test_keras_loss_object_matches_finite_differences(cosloss, case, reduction, weighted, data):
    y_true, y_pred, axis, _ = case
    loss_obj = cosloss.keras.losses.CosineSimilarity(axis=axis, reduction=reduction)
    losses_shape = ref.keras_cosine(y_true, y_pred, axis).shape
    rng = np.random.default_rng(data.draw(st.integers(0, 1000)))
    weights = rng.uniform(-1, 2, size=losses_shape) if weighted else None
    value_shape = losses_shape if reduction == "none" else ()
    upstream = rng.standard_normal(value_shape)
    value, (d_true, d_pred) = cosloss.value_and_grad(loss_obj, y_true, y_pred, sample_weight=weights,
                                                     upstream=upstream)
    expected = ref.keras_class_tf2(y_true, y_pred, weights, reduction, axis=axis)
    np.testing.assert_allclose(value, expected, rtol=1e-12, atol=1e-12)
    loss = lambda t, p: float(np.sum(upstream * ref.keras_class_tf2(t, p, weights, reduction, axis=axis)))
    assert_grad_close(d_true, central_difference(lambda t: loss(t, y_pred), y_true))
    assert_grad_close(d_pred, central_difference(lambda p: loss(y_true, p), y_pred))


@given(case=pair_case(), reduction=st.sampled_from(["auto", "sum", "none"]))
def test_tf115_loss_object_is_the_negated_tf2_gradient(cosloss, case, reduction):
    # TF 1.15 reduces in float32, so finite differences of its float64 value
    # are quantized; its gradient is TF2's with the sign flipped.
    y_true, y_pred, axis, _ = case
    assume(y_true.shape == y_pred.shape)
    new = cosloss.keras.losses.CosineSimilarity(axis=axis, reduction=reduction)
    old = cosloss.tf115.keras.losses.CosineSimilarity(axis=axis, reduction=reduction)
    _, new_grads = cosloss.value_and_grad(new, y_true, y_pred)
    _, old_grads = cosloss.value_and_grad(old, y_true, y_pred)
    for n, o in zip(new_grads, old_grads):
        np.testing.assert_allclose(o, -n, rtol=1e-6, atol=1e-7)


@st.composite
def normalize_case(draw):
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim)))
    kind = draw(st.sampled_from(["int", "list", "none"]))
    if kind == "none":
        axis = None
    elif kind == "int":
        axis = draw(st.integers(-ndim, ndim - 1))
    else:
        axis = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal(shape)
    axes = None if axis is None else ([axis] if isinstance(axis, int) else axis)
    sums = np.sum(x**2, axis=None if axes is None else tuple(axes))
    assume(np.min(sums) > 0.1)
    return x, axis, rng.standard_normal(shape)


@given(case=normalize_case())
def test_l2_normalize_matches_finite_differences(cosloss, case):
    x, axis, upstream = case
    value, (dx,) = cosloss.value_and_grad(cosloss.nn.l2_normalize, x, axis=axis, upstream=upstream)
    np.testing.assert_allclose(value, ref.l2_normalize(x, axis), rtol=1e-12, atol=1e-12)
    expected = central_difference(lambda v: float(np.sum(upstream * ref.l2_normalize(v, axis))), x)
    assert_grad_close(dx, expected)


V1_REDUCTIONS = ["none", "weighted_sum", "weighted_mean", "weighted_sum_over_batch_size",
                 "weighted_sum_by_nonzero_weights"]


def v1_denominator(losses_shape, weights, reduction):
    """§4: the denominator each TF1 reduction divides the weighted sum by."""
    w = np.broadcast_to(np.asarray(weights, np.float32), losses_shape)
    return {"none": 1.0, "weighted_sum": 1.0, "weighted_mean": float(np.sum(w)),
            "weighted_sum_over_batch_size": float(np.prod(losses_shape)),
            "weighted_sum_by_nonzero_weights": float(np.count_nonzero(w))}[reduction]


@given(n=st.integers(1, 5), d=st.integers(1, 4), reduction=st.sampled_from(V1_REDUCTIONS),
       weight_kind=st.sampled_from(["scalar", "column", "zeros"]), seed=st.integers(0, 1000))
@example(n=4, d=4, reduction="weighted_sum", weight_kind="scalar", seed=256)  # cancels: see atol
def test_cosine_distance_gradient_formula(cosloss, n, d, reduction, weight_kind, seed):
    # §4/§8: ∂L/∂pred = −labels·w·upstream/denom, ∂L/∂labels = −pred·w·upstream/denom,
    # and 0 where div_no_nan's denominator is 0.
    rng = np.random.default_rng(seed)
    labels = rng.standard_normal((n, d)).astype(np.float32)
    predictions = rng.standard_normal((n, d)).astype(np.float32)
    weights = {"scalar": 2.0, "column": rng.choice([0.0, 0.5, 2.0], size=(n, 1)),
               "zeros": np.zeros((n, 1))}[weight_kind]
    value, (d_labels, d_pred) = cosloss.value_and_grad(
        cosloss.losses.cosine_distance, labels, predictions, axis=1, weights=weights, reduction=reduction)
    denom = v1_denominator((n, 1), weights, reduction)
    # The reference sums in float32, left to right, as TensorFlow does: where
    # the weighted distances cancel, its own rounding (a few float32 ulps of
    # each term) exceeds 1e-6 (seed 256, n = d = 4: 1.7e-6 off the exact sum,
    # which cosloss matches to 1e-8), so the bound counts the terms' sizes.
    terms = np.broadcast_to(np.abs(np.asarray(weights, F64)), (n, 1)) * (
        1 + np.sum(np.abs(labels.astype(F64) * predictions), axis=1, keepdims=True))
    atol = 1e-6 + 4 * np.finfo(np.float32).eps * float(np.sum(terms)) / max(denom, 1.0)
    np.testing.assert_allclose(value, ref.cosine_distance(labels, predictions, 1, weights, reduction),
                               rtol=1e-6, atol=atol)
    factor = np.zeros((n, 1)) if denom == 0 else np.broadcast_to(np.asarray(weights, F64), (n, 1)) / denom
    np.testing.assert_allclose(d_pred, -labels * factor, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(d_labels, -predictions * factor, rtol=1e-6, atol=1e-7)
    assert d_pred.dtype == np.float32


@given(reduction=st.sampled_from(V1_REDUCTIONS), seed=st.integers(0, 1000))
def test_compute_weighted_loss_gradient_formula(cosloss, reduction, seed):
    rng = np.random.default_rng(seed)
    losses = rng.standard_normal((4, 3))
    weights = rng.choice([0.0, 1.0, 3.0], size=(4, 1))
    value, (d_losses,) = cosloss.value_and_grad(cosloss.losses.compute_weighted_loss, losses, weights,
                                                reduction=reduction)
    # Float32 sums: the reference adds left to right, cosloss in float64.
    np.testing.assert_allclose(value, ref.compute_weighted_loss_v1(losses, weights, reduction),
                               rtol=1e-5, atol=1e-6)
    denom = v1_denominator(losses.shape, weights, reduction)
    expected = np.zeros_like(losses) if denom == 0 else np.broadcast_to(weights, losses.shape) / denom
    np.testing.assert_allclose(d_losses, expected, rtol=1e-6)
    assert d_losses.shape == losses.shape and d_losses.dtype == losses.dtype


# The spec's TV11, in TF 1.15's sign; TF2 negates both value and gradient.
TV11 = [
    ([[1.0, 0.0]], [[1.0, 1.0]], 0.70710677, [[0.35355339, -0.35355339]]),
    ([[1.0, 0.0]], [[0.0, 0.0]], 0.0, [[1e6, 0.0]]),
    ([[0.0, 0.0]], [[1.0, 1.0]], 0.0, [[0.0, 0.0]]),
    ([[0.6, -0.8]], [[0.6, -0.8]], 1.0, [[0.0, 0.0]]),
]


@pytest.mark.parametrize("y_true, y_pred, value, d_pred", TV11)
def test_tv11_keras_gradients(flavour, y_true, y_pred, value, d_pred):
    sign = flavour.sign
    loss = flavour.mod.keras.losses.CosineSimilarity()
    got_value, (_, got_d_pred) = flavour.mod.value_and_grad(loss, y_true, y_pred)
    np.testing.assert_allclose(got_value, sign * value, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(got_d_pred, sign * np.array(d_pred), rtol=1e-6, atol=1e-6)
    assert got_d_pred.dtype == np.float32
    # A batch of two identical rows under SUM_OVER_BATCH_SIZE halves each gradient.
    _, (_, batch) = flavour.mod.value_and_grad(loss, y_true * 2, y_pred * 2)
    np.testing.assert_allclose(batch, sign * 0.5 * np.array(d_pred * 2), rtol=1e-6, atol=1e-6)


def test_tv11_l2_normalize_and_cosine_distance(cosloss):
    _, (dx,) = cosloss.value_and_grad(cosloss.nn.l2_normalize, [3.0, 4.0], upstream=[1.0, 0.0])
    np.testing.assert_allclose(dx, [0.128, -0.096], rtol=1e-6)
    _, (dx,) = cosloss.value_and_grad(cosloss.nn.l2_normalize, [1e-7, 0.0], upstream=[1.0, 1.0])
    np.testing.assert_allclose(dx, [1e6, 1e6], rtol=1e-6)
    _, (_, d_pred) = cosloss.value_and_grad(cosloss.losses.cosine_distance, [[0.6, 0.8]], [[0.8, 0.6]], axis=1)
    np.testing.assert_allclose(d_pred, [[-0.6, -0.8]], rtol=1e-6)


def test_value_and_grad_rejects_other_callables(cosloss):
    with pytest.raises(TypeError, match="fn must be a cosloss loss"):
        cosloss.value_and_grad(np.sum, [1.0])
    with pytest.raises(ValueError, match="upstream"):
        cosloss.value_and_grad(cosloss.keras.losses.cosine_similarity, [[1.0, 0.0]], [[1.0, 1.0]],
                               upstream=[1.0, 2.0, 3.0])


# Complex l2_normalize. TF's graph (nn_impl.l2_normalize, complex branch) is
# built from real, imag and complex, whose gradients pass (re, im) pairs
# through, so TF's gradient for the complex upstream g is d/dre + i d/dim of
# the real function Re Σ conj(g)·l2_normalize(x) (TF's conj-based convention;
# checked with tf.GradientTape in TF 2.21, below).
@given(case=normalize_case(), dtype=st.sampled_from([np.complex128, np.complex64]))
def test_complex_l2_normalize_matches_finite_differences(cosloss, case, dtype):
    x_re, axis, g_re = case
    rng = np.random.default_rng(int(abs(x_re.flat[0]) * 1e6))
    x_im, g_im = rng.standard_normal(x_re.shape), rng.standard_normal(x_re.shape)
    x, g = (x_re + 1j * x_im).astype(dtype), (g_re + 1j * g_im).astype(dtype)
    value, (dx,) = cosloss.value_and_grad(cosloss.nn.l2_normalize, x, axis=axis, upstream=g)
    assert value.dtype == dx.dtype == np.dtype(dtype) and dx.shape == x.shape
    x128 = x.astype(np.complex128)
    tol = dict(rtol=1e-12, atol=1e-12) if dtype == np.complex128 else dict(rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(value, ref.l2_normalize(x128, axis), **tol)

    def loss(re, im):
        return float(np.sum((np.conj(g.astype(np.complex128)) * ref.l2_normalize(re + 1j * im, axis)).real))

    re, im = x128.real.copy(), x128.imag.copy()
    expected = (central_difference(lambda r: loss(r, im), re)
                + 1j * central_difference(lambda i: loss(re, i), im))
    if dtype == np.complex128:
        assert_grad_close(dx, expected)
    else:
        np.testing.assert_allclose(dx, expected, rtol=1e-4, atol=1e-4 * max(1.0, np.abs(expected).max()))


def test_complex_l2_normalize_gradient_as_tensorflow_gives_it(cosloss):
    # Measured with TF 2.21: tf.GradientTape over tf.nn.l2_normalize(x, axis=1),
    # output_gradients=g, complex64. A zero or tiny vector (under the ε floor)
    # gets g·1e6, as for real input.
    x = np.array([[3 + 4j, 1 - 2j], [0j, 0j], [1e-7 + 0j, 0j]], np.complex64)
    g = np.array([[1 + 0.5j, -2 + 1j], [1 + 1j, 2 - 1j], [0.5j, 1]], np.complex64)
    value, (dx,) = cosloss.value_and_grad(cosloss.nn.l2_normalize, x, axis=1, upstream=g)
    np.testing.assert_allclose(value, [[0.5477226 + 0.73029673j, 0.18257418 - 0.36514837j],
                                       [0, 0], [0.1, 0]], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(dx, [[1.6431677e-01 + 6.694387e-02j, -3.7123418e-01 + 1.947458e-01j],
                                    [1e6 + 1e6j, 2e6 - 1e6j], [5e5j, 1e6]], rtol=1e-6, atol=1e-7)
    # The default upstream is ones (1 + 0j), and a real upstream is taken as
    # complex, as TF takes a float32 output_gradients here.
    _, (d_default,) = cosloss.value_and_grad(cosloss.nn.l2_normalize, x, axis=1)
    _, (d_real,) = cosloss.value_and_grad(cosloss.nn.l2_normalize, x, axis=1,
                                          upstream=np.ones((3, 2), np.float32))
    expected = [[1.09544516e-01 - 0.09737289j, 1.58230960e-01 + 0.048686445j],
                [1e6, 1e6], [1e6, 1e6]]
    np.testing.assert_allclose(d_default, expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(d_real, d_default)


@st.composite
def listed_pair_case(draw):
    """Like pair_case, with a list of axes (y_true broadcast only along the others)."""
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=ndim, max_size=ndim)))
    axes = draw(st.lists(st.integers(-ndim, ndim - 1), min_size=0, max_size=ndim,
                         unique_by=lambda a: a % ndim))
    listed = tuple(sorted(a % ndim for a in axes))
    t_shape = tuple(1 if a not in listed and draw(st.booleans()) else d for a, d in enumerate(shape))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    y_true, y_pred = rng.standard_normal(t_shape), rng.standard_normal(shape)
    assume(np.min(np.sqrt(np.sum(y_true**2, axis=listed))) > 0.3)
    assume(np.min(np.sqrt(np.sum(y_pred**2, axis=listed))) > 0.3)
    upstream = rng.standard_normal(tuple(d for a, d in enumerate(shape) if a not in listed))
    return y_true, y_pred, axes, upstream


@pytest.mark.parametrize("name, reference", FUNCTION_CASES, ids=[c[0] for c in FUNCTION_CASES])
@given(case=listed_pair_case())
def test_cosine_functions_axis_list_match_finite_differences(cosloss, name, reference, case):
    y_true, y_pred, axis, upstream = case
    value, (d_true, d_pred) = cosloss.value_and_grad(resolve(name), y_true, y_pred, axis=axis,
                                                     upstream=upstream)
    np.testing.assert_allclose(value, reference(y_true, y_pred, axis), rtol=1e-12, atol=1e-12)
    assert d_true.shape == y_true.shape and d_pred.shape == y_pred.shape
    loss = lambda t, p: float(np.sum(upstream * reference(t, p, axis)))
    assert_grad_close(d_true, central_difference(lambda t: loss(t, y_pred), y_true))
    assert_grad_close(d_pred, central_difference(lambda p: loss(y_true, p), y_pred))


@given(case=listed_pair_case(), reduction=st.sampled_from(["auto", "sum", "none"]))
def test_keras_loss_object_axis_list_matches_finite_differences(cosloss, case, reduction):
    y_true, y_pred, axis, _ = case
    loss_obj = cosloss.keras.losses.CosineSimilarity(axis=axis, reduction=reduction)
    value_shape = ref.keras_cosine(y_true, y_pred, axis).shape if reduction == "none" else ()
    upstream = np.random.default_rng(len(axis)).standard_normal(value_shape)
    out = (np.empty_like(y_true), np.empty_like(y_pred))
    value, grads = cosloss.value_and_grad(loss_obj, y_true, y_pred, upstream=upstream, out=out)
    assert grads is out
    np.testing.assert_allclose(value, ref.keras_class_tf2(y_true, y_pred, None, reduction, axis=axis),
                               rtol=1e-12, atol=1e-12)
    loss = lambda t, p: float(np.sum(upstream * ref.keras_class_tf2(t, p, None, reduction, axis=axis)))
    assert_grad_close(grads[0], central_difference(lambda t: loss(t, y_pred), y_true))
    assert_grad_close(grads[1], central_difference(lambda p: loss(y_true, p), y_pred))


@pytest.mark.parametrize("axis", [[1, 2], [0, 2], (2, 0, 1), []])
def test_cosine_distance_axis_list_gradient_formula(cosloss, axis):
    # §8: ∂L/∂predictions = −labels · w / denominator; TF 2.21's tape gives
    # −labels/2 for axis=[1, 2] on (2, 3, 4) inputs with the default reduction.
    rng = np.random.default_rng(3)
    labels, predictions = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 3, 4))
    loss_shape = tuple(1 if a in [x % 3 for x in axis] else d for a, d in enumerate(labels.shape))
    value, (d_labels, d_pred) = cosloss.value_and_grad(cosloss.losses.cosine_distance, labels,
                                                       predictions, axis=axis)
    n = float(np.prod(loss_shape))
    np.testing.assert_allclose(value, ref.cosine_distance(labels, predictions, axis), rtol=1e-6)
    np.testing.assert_allclose(d_pred, -labels.astype(np.float32) / n, rtol=1e-6)
    np.testing.assert_allclose(d_labels, -predictions.astype(np.float32) / n, rtol=1e-6)
