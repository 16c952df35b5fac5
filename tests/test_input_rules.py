"""Input rules of issue #9: how Python ints are typed, out= arrays that overlap
the inputs or each other, scalar arguments, and numpy masked arrays.

Expected values come from tests/reference.py (TensorFlow's formulas), from
the gradient formulas of the spec's §4 and §8 written out below, or from
TensorFlow 2.21 as measured (quoted where used). cosloss is asked for an
expectation only where the contract itself is "the same as without out=".
"""

import os
import re
import subprocess
import sys

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


# ---------------------------------------------------------------------------
# 2. out= overlapping any input leaves value and gradients as without it
# ---------------------------------------------------------------------------

RNG = np.random.default_rng(9)
N, D = 5, 4
T = RNG.standard_normal((N, D))
P = RNG.standard_normal((N, D))
G = RNG.standard_normal((N, D))      # upstream of l2_normalize
U = RNG.standard_normal(N)           # upstream of a per-sample value
W = RNG.random(N) + 0.5              # sample weights
WC = (RNG.random(N) + 0.5)[:, None]  # weights against [N, 1] or [N, D] losses
U0 = np.array(0.7)                   # upstream of a scalar value


def cos_grads(t, p):
    """c = t̂·p̂ along the last axis and (∂c/∂t, ∂c/∂p), spec §8 away from the ε floor:
    ∂c/∂p = (t̂ − c·p̂) / ‖p‖ and symmetrically for t."""
    tn = np.linalg.norm(t, axis=-1, keepdims=True)
    pn = np.linalg.norm(p, axis=-1, keepdims=True)
    th, ph = t / tn, p / pn
    c = np.sum(th * ph, axis=-1, keepdims=True)
    return c[..., 0], (ph - c * th) / tn, (th - c * ph) / pn


def cosine_expected(dloss_dc, reference):
    """(value, grads) of a per-sample loss of cos, with upstream U."""
    def expected(a):
        c, dt, dp = cos_grads(a["y_true"], a["y_pred"])
        scale = (a["upstream"] * dloss_dc(c))[:, None]
        return reference(a["y_true"], a["y_pred"]), (scale * dt, scale * dp)
    return expected


def object_expected(sign, reference, reduction):
    def expected(a):
        c, dt, dp = cos_grads(a["y_true"], a["y_pred"])
        per = a["sample_weight"] * a["upstream"] * sign
        if reduction == "auto":
            per = per / N
        scale = np.broadcast_to(per, (N,))[:, None]
        return (reference(a["y_true"], a["y_pred"], a["sample_weight"], reduction),
                (scale * dt, scale * dp))
    return expected


def l2_expected(a):
    # Spec §8: dx = (g − u·(u·g)) / ‖x‖ with u = x / ‖x‖.
    x, g = a["x"], a["upstream"]
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    u = x / norm
    return ref.l2_normalize(x, axis=1), ((g - u * np.sum(u * g, axis=1, keepdims=True)) / norm,)


def cosine_distance_expected(a):
    # Spec §4/§8: ∂L/∂predictions = −labels · w / count of non-zero weights (here N).
    scale = a["upstream"] * a["weights"] / N
    value = ref.cosine_distance(a["labels"], a["predictions"], 1, weights=a["weights"])
    return value, (-a["predictions"] * scale, -a["labels"] * scale)


def weighted_loss_expected(a):
    # Spec §4: ∂L/∂losses = upstream · w / count of non-zero broadcast weights (N·D).
    grad = np.broadcast_to(a["upstream"] * a["weights"] / (N * D), (N, D))
    return ref.compute_weighted_loss_v1(a["losses"], a["weights"]), (grad,)


def _cosine_call(fn):
    return lambda a, out: cosloss.value_and_grad(fn, a["y_true"], a["y_pred"],
                                                 upstream=a["upstream"], out=out)


def _object_call(loss):
    return lambda a, out: loss.value_and_grad(a["y_true"], a["y_pred"],
                                              sample_weight=a["sample_weight"],
                                              upstream=a["upstream"], out=out)


# name: (call(inputs, out), inputs, gradient shapes, expected(inputs) -> (value, grads), tolerance)
RULES = {
    "keras function": (
        _cosine_call(cosloss.keras.losses.cosine_similarity),
        {"y_true": T, "y_pred": P, "upstream": U}, 2,
        cosine_expected(lambda c: -1.0, lambda t, p: ref.keras_cosine(t, p, sign=-1)), 1e-12),
    "tf115 function": (
        _cosine_call(cosloss.tf115.keras.losses.cosine_similarity),
        {"y_true": T, "y_pred": P, "upstream": U}, 2,
        cosine_expected(lambda c: 1.0, lambda t, p: ref.keras_cosine(t, p, sign=+1)), 1e-12),
    "seed v3": (
        _cosine_call(cosloss.cosine_similarity_loss_v3),
        {"y_true": T, "y_pred": P, "upstream": U}, 2,
        cosine_expected(lambda c: -2.0 * (1.0 - c), ref.seed_one_minus_cos_squared), 1e-12),
    "keras object": (
        _object_call(cosloss.keras.losses.CosineSimilarity()),
        {"y_true": T, "y_pred": P, "sample_weight": W, "upstream": U0}, 2,
        object_expected(-1.0, lambda t, p, w, r: ref.keras_class_tf2(t, p, w, r), "auto"), 1e-12),
    "tf115 object": (
        # TF 1.15 reduces in float32, so its numbers have float32 precision.
        _object_call(cosloss.tf115.keras.losses.CosineSimilarity(reduction="none")),
        {"y_true": T, "y_pred": P, "sample_weight": W, "upstream": U}, 2,
        object_expected(1.0, lambda t, p, w, r: ref.keras_class_tf115(t, p, w, r), "none"), 1e-6),
    "l2_normalize": (
        lambda a, out: cosloss.value_and_grad(cosloss.nn.l2_normalize, a["x"], axis=1,
                                              upstream=a["upstream"], out=out),
        {"x": T, "upstream": G}, 1, l2_expected, 1e-12),
    "cosine_distance": (
        # Computed in float32 (TF casts both inputs), float64 gradients.
        lambda a, out: cosloss.value_and_grad(cosloss.losses.cosine_distance, a["labels"],
                                              a["predictions"], axis=1, weights=a["weights"],
                                              upstream=a["upstream"], out=out),
        {"labels": T, "predictions": P, "weights": WC, "upstream": U0}, 2,
        cosine_distance_expected, 1e-6),
    "compute_weighted_loss": (
        lambda a, out: cosloss.value_and_grad(cosloss.losses.compute_weighted_loss, a["losses"],
                                              weights=a["weights"], upstream=a["upstream"],
                                              out=out),
        {"losses": T, "weights": WC, "upstream": U0}, 1, weighted_loss_expected, 1e-6),
}


def view_inside(buf, shape):
    """A view of buf's memory with the given shape (for weights and upstreams)."""
    index = tuple(slice(0, d) for d in shape) + (0,) * (buf.ndim - len(shape))
    return buf[index + (Ellipsis,)]


def alias_cases():
    """(rule, input, out index, how): every input of every rule in every out array."""
    for rule, (_, inputs, n_out, _, _) in RULES.items():
        for name, value in inputs.items():
            for k in range(n_out):
                for how in (("same", "shifted") if value.shape == (N, D) else ("inside",)):
                    yield rule, name, k, how


def aliased(inputs, n_out, name, k, how):
    """Copies of inputs and out arrays, with inputs[name] in memory that out[k] covers."""
    inputs = {key: value.copy() for key, value in inputs.items()}
    out = [np.full((N, D), np.nan) for _ in range(n_out)]
    value = inputs[name]
    if how == "same":
        out[k] = inputs[name]
    elif how == "shifted":
        # A window one row off: the two overlap without being the same array.
        big = np.full((N + 1, D), np.nan)
        big[1:] = value
        inputs[name], out[k] = big[1:], big[:-1]
    else:
        view = view_inside(out[k], value.shape)
        view[...] = value
        inputs[name] = view
    return inputs, tuple(out)


@pytest.mark.parametrize("rule, name, k, how", list(alias_cases()))
def test_out_overlapping_an_input_changes_nothing(rule, name, k, how):
    call, inputs, n_out, expected_fn, tol = RULES[rule]
    value_ref, grads_ref = expected_fn(inputs)
    value_plain, grads_plain = call({key: v.copy() for key, v in inputs.items()}, None)

    args, out = aliased(inputs, n_out, name, k, how)
    value, grads = call(args, out)

    assert grads is out
    np.testing.assert_allclose(value, value_ref, rtol=tol, atol=tol)
    for g, e in zip(grads, grads_ref):
        np.testing.assert_allclose(g, e, rtol=tol, atol=tol)
    # The contract: exactly what the same call without out= gives.
    np.testing.assert_array_equal(value, value_plain)
    for g, e in zip(grads, grads_plain):
        np.testing.assert_array_equal(g, e)


def test_sample_weight_inside_out_is_read_before_it_is_overwritten():
    # The case of issue #9: the core wrote d_y_true into out[0] before the
    # value was reduced with the sample weights that out[0] held.
    loss = cosloss.keras.losses.CosineSimilarity()
    buf = np.full((N, D), np.nan)
    buf[:, 0] = W
    value, _ = loss.value_and_grad(T, P, sample_weight=buf[:, 0], out=(buf, np.empty((N, D))))
    np.testing.assert_allclose(value, ref.keras_class_tf2(T, P, W), rtol=1e-12)


# ---------------------------------------------------------------------------
# 3. out arrays must not overlap each other
# ---------------------------------------------------------------------------

TWO_GRADIENTS = {
    "keras function": lambda out: cosloss.value_and_grad(
        cosloss.keras.losses.cosine_similarity, T, P, out=out),
    "seed v2": lambda out: cosloss.value_and_grad(cosloss.cosine_similarity_loss_v2, T, P, out=out),
    "keras object": lambda out: cosloss.keras.losses.CosineSimilarity().value_and_grad(T, P, out=out),
    "tf115 object": lambda out: cosloss.value_and_grad(
        cosloss.tf115.keras.losses.CosineSimilarity(), T, P, out=out),
    "cosine_distance": lambda out: cosloss.value_and_grad(
        cosloss.losses.cosine_distance, T, P, axis=1, out=out),
}


def _overlapping_pairs():
    buf = np.full((N, D), 7.0)
    big = np.full((N + 1, D), 7.0)
    return {
        "the same array": (buf, buf),
        "the same memory, two views": (buf, buf[:]),
        "rows one apart": (big[:-1], big[1:]),
    }


@pytest.mark.parametrize("rule", TWO_GRADIENTS)
@pytest.mark.parametrize("pair", ["the same array", "the same memory, two views", "rows one apart"])
def test_overlapping_out_arrays_are_refused(rule, pair):
    out = _overlapping_pairs()[pair]
    with pytest.raises(ValueError, match=r"out\[0\] and out\[1\] overlap"):
        TWO_GRADIENTS[rule](out)
    assert (out[0] == 7.0).all() and (out[1] == 7.0).all()  # nothing written


def test_out_arrays_sharing_a_single_element_are_refused():
    flat = np.full(2 * N * D - 1, 7.0)
    first = flat[:N * D].reshape(N, D)
    second = flat[N * D - 1:].reshape(N, D)  # starts on first's last element
    with pytest.raises(ValueError, match=r"out\[0\] and out\[1\] overlap"):
        cosloss.value_and_grad(cosloss.keras.losses.cosine_similarity, T, P, out=(first, second))


def test_interleaved_out_arrays_share_no_element_and_are_accepted():
    # One buffer, even and odd columns: their bounds overlap but no element
    # does, which np.shares_memory (exact) tells apart.
    buf = np.full((N, 2 * D), np.nan)
    out = (buf[:, 0::2], buf[:, 1::2])
    _, grads = cosloss.value_and_grad(cosloss.keras.losses.cosine_similarity, T, P,
                                      upstream=U, out=out)
    _, (dt, dp) = RULES["keras function"][3]({"y_true": T, "y_pred": P, "upstream": U})
    assert grads is out
    np.testing.assert_allclose(buf[:, 0::2], dt, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(buf[:, 1::2], dp, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------------
# 4. Scalar arguments: accepted where TensorFlow accepts them, else named errors
# ---------------------------------------------------------------------------

XE = np.array([[3.0, 4.0], [0.0, 0.0]], f32)


# TF 2.21 accepts each of these as epsilon of l2_normalize(float32 x).
@pytest.mark.parametrize("epsilon", [True, 1, np.array(1e-12), np.float64(1e-12), np.int64(1),
                                     np.float16(1e-3), 2**63, 1e-12, -1.0],
                         ids=["True", "1", "0-d array", "float64", "int64", "float16", "2**63",
                              "1e-12", "negative"])
def test_l2_normalize_epsilon_accepted(epsilon):
    out = cosloss.nn.l2_normalize(XE, axis=1, epsilon=epsilon)
    expected = ref.l2_normalize(XE, axis=1, epsilon=float(epsilon))
    np.testing.assert_allclose(out, expected, rtol=1e-6, equal_nan=True)
    assert out.dtype == f32


def test_l2_normalize_negative_epsilon_gives_nan_for_a_zero_vector():
    # TF 2.21: epsilon=-1.0 leaves the zero row at rsqrt(0) * 0 = NaN.
    out = cosloss.nn.l2_normalize(XE, axis=1, epsilon=-1.0)
    assert np.isnan(out[1]).all()
    np.testing.assert_allclose(out[0], [0.6, 0.8], rtol=1e-6)


# (epsilon, error, message): TF 2.21 raises ValueError for None and objects,
# TypeError for strings and complex numbers; cosloss refuses arrays of
# more than one element (TensorFlow would broadcast them).
BAD_EPSILON = [
    (None, ValueError, re.escape("Attempt to convert a value (None) with an unsupported type "
                                 "(<class 'NoneType'>) to a Tensor. epsilon must be a real number")),
    ("a", TypeError, r"epsilon must be a real number \(a float, int or bool\), got 'a' of type str"),
    (b"a", TypeError, r"epsilon must be a real number .*got b'a' of type bytes"),
    (1j, TypeError, r"epsilon must be a real number .*got 1j of type complex"),
    (np.complex64(1), TypeError, r"epsilon must be a real number .*complex64"),
    (np.array("a"), TypeError, r"epsilon must be a real number .*dtype <U1"),
    (object(), ValueError, r"unsupported type \(<class 'object'>\) to a Tensor. epsilon"),
    (np.array([1e-12, 1.0]), ValueError, r"epsilon must be a scalar, got an array of shape \(2,\)"),
    ([1e-12], ValueError, r"epsilon must be a scalar, got \[1e-12\] of type list"),
]


@pytest.mark.parametrize("epsilon, error, message", BAD_EPSILON,
                         ids=[repr(c[0])[:20] for c in BAD_EPSILON])
def test_l2_normalize_bad_epsilon(epsilon, error, message):
    with pytest.raises(error, match=message):
        cosloss.nn.l2_normalize(XE, axis=1, epsilon=epsilon)
    with pytest.raises(error, match=message):
        cosloss.value_and_grad(cosloss.nn.l2_normalize, XE, axis=1, epsilon=epsilon)


A23 = np.array([[1.0, 2.0, 2.0], [0.0, 3.0, 4.0]], f32)
B23 = np.array([[2.0, 1.0, 2.0], [4.0, 3.0, 0.0]], f32)

# What takes an int axis, with the reference value at axis=1.
AXIS_USERS = {
    "keras function": (lambda axis: cosloss.keras.losses.cosine_similarity(A23, B23, axis=axis),
                       lambda: ref.keras_cosine(A23, B23, 1, sign=-1)),
    "tf115 function": (lambda axis: cosloss.tf115.keras.losses.cosine_similarity(A23, B23, axis),
                       lambda: ref.keras_cosine(A23, B23, 1, sign=+1)),
    "seed": (lambda axis: cosloss.cosine_similarity_loss(A23, B23, axis=axis),
             lambda: ref.seed_neg_cos(A23, B23, 1)),
    "keras object": (lambda axis: cosloss.keras.losses.CosineSimilarity(axis=axis)(A23, B23),
                     lambda: ref.keras_class_tf2(A23, B23, axis=1)),
    "tf115 object": (lambda axis: cosloss.tf115.keras.losses.CosineSimilarity(axis)(A23, B23),
                     lambda: ref.keras_class_tf115(A23, B23, axis=1)),
    "metric": (lambda axis: cosloss.keras.metrics.CosineSimilarity(axis=axis)(A23, B23),
               lambda: ref.KerasMetric(axis=1)(A23, B23)),
    "cosine_distance": (lambda axis: cosloss.losses.cosine_distance(A23, B23, axis=axis),
                        lambda: ref.cosine_distance(A23, B23, 1)),
    "cosine_distance dim": (lambda dim: cosloss.losses.cosine_distance(A23, B23, dim=dim),
                            lambda: ref.cosine_distance(A23, B23, 1)),
    "l2_normalize": (lambda axis: cosloss.nn.l2_normalize(A23, axis=axis),
                     lambda: ref.l2_normalize(A23, axis=1)),
    "l2_normalize dim": (lambda dim: cosloss.nn.l2_normalize(A23, dim=dim),
                         lambda: ref.l2_normalize(A23, axis=1)),
    "value_and_grad": (lambda axis: cosloss.value_and_grad(
        cosloss.keras.losses.cosine_similarity, A23, B23, axis=axis)[0],
        lambda: ref.keras_cosine(A23, B23, 1, sign=-1)),
}


# TF 2.21 takes numpy ints and 0-d int arrays as an axis, and (eagerly) a
# list, tuple or 1-d array of axes wherever the axis reaches a reduce_sum.
@pytest.mark.parametrize("user", AXIS_USERS)
@pytest.mark.parametrize("axis", [1, np.int64(1), np.int32(1), np.uint8(1), np.array(1), -1,
                                  [1], (-1,), np.array([1]), [np.int64(1)]],
                         ids=["int", "int64", "int32", "uint8", "0-d array", "-1",
                              "list", "tuple", "1-d array", "list of int64"])
def test_int_like_axis_accepted(user, axis):
    call, expected = AXIS_USERS[user]
    np.testing.assert_allclose(call(axis), expected(), rtol=1e-6, atol=1e-7)


# TF 2.21: axis=0.0 or 1.0 is a TypeError, a str or complex axis an
# InvalidArgumentError. True, which TF reads as 1, is refused here (see
# _arrays.axis_index).
@pytest.mark.parametrize("user", [u for u in AXIS_USERS if not u.startswith("l2_normalize")])
@pytest.mark.parametrize("axis, got", [
    (0.0, "0.0 of type float"), (1.0, "1.0 of type float"),
    (np.float64(1), r"np.float64\(1.0\) of type float64"),
    ("a", "'a' of type str"), (1j, "1j of type complex"), (True, "True of type bool"),
    (np.array(1.0), r"an array of shape \(\) and dtype float64"),
], ids=["0.0", "1.0", "np.float64", "str", "complex", "True", "0-d float"])
def test_bad_axis_is_named(user, axis, got):
    name = "dim" if user.endswith("dim") else "axis"
    with pytest.raises(TypeError, match=rf"^{name} must be an int, got {got}"):
        AXIS_USERS[user][0](axis)


@pytest.mark.parametrize("user", ["l2_normalize", "l2_normalize dim"])
@pytest.mark.parametrize("axis, error, got", [
    (0.0, TypeError, "0.0 of type float"), ("a", TypeError, "'a' of type str"),
    (1j, TypeError, "1j of type complex"), (True, TypeError, "True of type bool"),
    ([0, 1.5], TypeError, "1.5 of type float"),
    (np.array([[1]]), TypeError, r"an array of shape \(1, 1\)"),
], ids=["0.0", "str", "complex", "True", "list with a float", "2-d array"])
def test_bad_l2_normalize_axis_is_named(user, axis, error, got):
    name = "dim" if user.endswith("dim") else "axis"
    with pytest.raises(error, match=rf"^{name} must be an int.*, got {got}"):
        AXIS_USERS[user][0](axis)


def test_l2_normalize_takes_a_1d_array_of_axes():
    # TF 2.21: axis=np.array([1]) is the list [1].
    np.testing.assert_allclose(cosloss.nn.l2_normalize(A23, axis=np.array([1])),
                               ref.l2_normalize(A23, axis=1), rtol=1e-6)
    np.testing.assert_allclose(cosloss.nn.l2_normalize(A23, axis=np.array([0, 1])),
                               ref.l2_normalize(A23, axis=(0, 1)), rtol=1e-6)


def test_bad_axis_of_a_loss_or_metric_object_is_refused_by_the_constructor():
    for cls in (cosloss.keras.losses.CosineSimilarity, cosloss.tf115.keras.losses.CosineSimilarity):
        with pytest.raises(TypeError, match="^axis must be an int, got None"):
            cls(axis=None)
        with pytest.raises(TypeError, match="^axis must be an int, got 1.5"):
            cls.from_config({"reduction": "auto", "name": "cos", "axis": 1.5})
    with pytest.raises(TypeError, match="^axis must be an int, got 'a'"):
        cosloss.keras.metrics.CosineSimilarity(axis="a")


# TF 2.21 raises ValueError("Invalid Reduction Key ...") for each.
BAD_REDUCTIONS = [None, 1, ["sum"], b"sum", np.array(["sum", "auto"]), "SUM"]
REDUCTION_USERS = {
    "keras object": lambda r: cosloss.keras.losses.CosineSimilarity(reduction=r),
    "tf115 object": lambda r: cosloss.tf115.keras.losses.CosineSimilarity(reduction=r),
    "keras validate": lambda r: cosloss.keras.losses.Reduction.validate(r),
    "cosine_distance": lambda r: cosloss.losses.cosine_distance(A23, B23, axis=1, reduction=r),
    "compute_weighted_loss": lambda r: cosloss.losses.compute_weighted_loss(A23, reduction=r),
    "v1 validate": lambda r: cosloss.losses.Reduction.validate(r),
}


@pytest.mark.parametrize("user", REDUCTION_USERS)
@pytest.mark.parametrize("reduction", BAD_REDUCTIONS, ids=[repr(r)[:20] for r in BAD_REDUCTIONS])
def test_bad_reduction_is_named(user, reduction):
    with pytest.raises(ValueError, match=r"^Invalid Reduction Key .*'reduction'"):
        REDUCTION_USERS[user](reduction)


def test_numpy_str_reduction_is_a_str():
    # TF 2.21 takes np.str_('sum') as the Keras key 'sum'.
    loss = cosloss.keras.losses.CosineSimilarity(axis=1, reduction=np.str_("sum"))
    np.testing.assert_allclose(loss(A23, B23), ref.keras_class_tf2(A23, B23, reduction="sum",
                                                                   axis=1), rtol=1e-6)


# tf-keras 2.21 refuses these names of a loss (AttributeError/TypeError) and
# of the metric (TypeError "Expected `name` argument to be a string").
@pytest.mark.parametrize("make", [cosloss.keras.losses.CosineSimilarity,
                                  cosloss.tf115.keras.losses.CosineSimilarity,
                                  lambda name: cosloss.keras.metrics.CosineSimilarity(name=name)],
                         ids=["keras object", "tf115 object", "metric"])
@pytest.mark.parametrize("name, got", [(1, "1 of type int"), (b"b", "b'b' of type bytes"),
                                       (["a"], r"\['a'\] of type list"), (1.5, "1.5 of type float")])
def test_bad_object_name_is_named(make, name, got):
    with pytest.raises(TypeError, match=rf"^name must be a str or None, got {got}"):
        make(name=name)


def test_none_names_as_tf_keras_has_them():
    # tf-keras 2.21: a loss keeps name None; the metric takes its class's name.
    assert cosloss.keras.losses.CosineSimilarity(name=None).get_config()["name"] is None
    assert cosloss.keras.metrics.CosineSimilarity(name=None).get_config()["name"] == "cosine_similarity"


# TF 2.21 in graph mode (TF 1.15's default) needs a str or bytes op name or name scope.
@pytest.mark.parametrize("call, name", [
    (lambda v: cosloss.nn.l2_normalize(A23, name=v), "name"),
    (lambda v: cosloss.losses.cosine_distance(A23, B23, axis=1, scope=v), "scope"),
    (lambda v: cosloss.losses.compute_weighted_loss(A23, scope=v), "scope"),
    (lambda v: cosloss.value_and_grad(cosloss.nn.l2_normalize, A23, name=v), "name"),
], ids=["l2_normalize", "cosine_distance", "compute_weighted_loss", "value_and_grad"])
def test_op_names_must_be_strings(call, name):
    for bad, got in [(1, "1 of type int"), (["a"], r"\['a'\] of type list"), (1.5, "1.5 of type float")]:
        with pytest.raises(TypeError, match=rf"^{name} must be a str, bytes or None, got {got}"):
            call(bad)
    for good in (None, "ok", b"ok", ""):
        call(good)


@pytest.mark.parametrize("dtype, got", [
    (1j, "1j of type complex"), (["float32"], r"\['float32'\] of type list"),
    ("complex64", "'complex64' of type str \\(dtype complex64\\)"),
    ("bool", "'bool' of type str"), (1, "1 of type int"), ("not a dtype", "'not a dtype'"),
])
def test_bad_metric_dtype_is_named(dtype, got):
    with pytest.raises(TypeError, match=rf"^dtype must be None, a float dtype \(float16, "
                                        rf"float32 or float64\) or an integer dtype .*, got {got}"):
        cosloss.keras.metrics.CosineSimilarity(dtype=dtype)


# tf-keras (TF 2.21): CosineSimilarity(dtype="int32") constructs, with int32
# total and count and get_config()["dtype"] == "int32"; update_state casts
# y_true and y_pred to int32 and then raises TypeError("Cannot convert 1e-12
# to EagerTensor of dtype int32") in l2_normalize, leaving the state at 0;
# result() is divide_no_nan(0, 0): float64 for int32/int64/uint32/uint64,
# float32 for int8/int16/uint8/uint16. (Keras 3 differs, see metrics.py.)
@pytest.mark.parametrize("dtype, result_dtype", [
    ("int32", f64), (np.int64, f64), ("uint32", f64), ("uint64", f64),
    ("int8", f32), ("int16", f32), (np.uint8, f32), ("uint16", f32),
])
def test_integer_metric_dtype_as_tf_keras(dtype, result_dtype):
    m = cosloss.keras.metrics.CosineSimilarity(dtype=dtype)
    name = np.dtype(dtype).name
    assert m.dtype == np.dtype(dtype) and m.get_config()["dtype"] == name
    assert type(m.total) is np.dtype(dtype).type and m.total == 0 and m.count == 0
    for call in (m.update_state, m):
        for y in ([[1., 0.]], [[1, 0]], np.array([[1., 0.]])):
            with pytest.raises(TypeError, match=rf"^Cannot convert 1e-12 to EagerTensor of "
                                                rf"dtype {name} .*dtype={name!r}"):
                call(y, y)
    assert m.total == 0 and m.count == 0
    result = m.result()
    assert isinstance(result, np.generic) and result.dtype == result_dtype and result == 0
    m.reset_states()
    assert type(m.count) is np.dtype(dtype).type
    # Input errors come first, as TF's cast sees the inputs before l2_normalize.
    with pytest.raises(ValueError, match="y_true must not be None"):
        m.update_state(None, [[1., 0.]])
    assert repr(cosloss.keras.metrics.CosineSimilarity.from_config(m.get_config())) == repr(m)


@pytest.mark.parametrize("dtype, expected", [(None, f32), ("float64", f64), (np.float16, f16),
                                             ("float16", f16), (np.dtype(f64), f64)])
def test_metric_dtype_accepted(dtype, expected):
    assert cosloss.keras.metrics.CosineSimilarity(dtype=dtype).dtype == np.dtype(expected)


# ---------------------------------------------------------------------------
# 5. numpy masked arrays are refused: their masks would be ignored
# ---------------------------------------------------------------------------

def masked(shape, dtype=f32):
    data = np.ones(shape, dtype)
    mask = np.zeros(shape, bool)
    mask.flat[0] = True
    return np.ma.masked_array(data, mask=mask)


M = masked((2, 3))
MW = masked((2,), f64)
MWC = masked((2, 1))

# (call, argument name) for every array argument of every public function.
MASKED_SLOTS = [
    (lambda: cosloss.keras.losses.cosine_similarity(M, X23), "y_true"),
    (lambda: cosloss.keras.losses.cosine_similarity(X23, M), "y_pred"),
    (lambda: cosloss.tf115.keras.losses.cosine_similarity(M, X23), "y_true"),
    (lambda: cosloss.tf115.keras.metrics.cosine(X23, M), "y_pred"),
    (lambda: cosloss.cosine_similarity_loss(M, X23), "a"),
    (lambda: cosloss.cosine_similarity_loss_v2(X23, M), "b"),
    (lambda: cosloss.cosine_similarity_loss_v3(M, X23), "a"),
    (lambda: cosloss.keras.losses.CosineSimilarity()(M, X23), "y_true"),
    (lambda: cosloss.keras.losses.CosineSimilarity()(X23, M), "y_pred"),
    (lambda: cosloss.keras.losses.CosineSimilarity()(X23, X23, sample_weight=MW), "sample_weight"),
    (lambda: cosloss.tf115.keras.losses.CosineSimilarity()(X23, X23, MW), "sample_weight"),
    (lambda: cosloss.tf115.keras.losses.CosineSimilarity()(X23, M), "y_pred"),
    (lambda: cosloss.keras.metrics.CosineSimilarity()(M, X23), "y_true"),
    (lambda: cosloss.keras.metrics.CosineSimilarity().update_state(X23, M), "y_pred"),
    (lambda: cosloss.keras.metrics.CosineSimilarity().update_state(X23, X23, MW), "sample_weight"),
    (lambda: cosloss.losses.cosine_distance(M, X23, axis=1), "labels"),
    (lambda: cosloss.losses.cosine_distance(X23, M, axis=1), "predictions"),
    (lambda: cosloss.losses.cosine_distance(X23, X23, axis=1, weights=MWC), "weights"),
    (lambda: cosloss.losses.compute_weighted_loss(M), "losses"),
    (lambda: cosloss.losses.compute_weighted_loss(X23, weights=MWC), "weights"),
    (lambda: cosloss.nn.l2_normalize(M), "x"),
    (lambda: cosloss.value_and_grad(cosloss.keras.losses.cosine_similarity, M, X23), "y_true"),
    (lambda: cosloss.value_and_grad(cosloss.keras.losses.cosine_similarity, X23, X23,
                                    upstream=MW), "upstream"),
    (lambda: cosloss.keras.losses.CosineSimilarity().value_and_grad(X23, X23, MW), "sample_weight"),
    (lambda: cosloss.keras.losses.CosineSimilarity().value_and_grad(X23, X23, upstream=MW[0:1]),
     "upstream"),
    (lambda: cosloss.value_and_grad(cosloss.nn.l2_normalize, M), "x"),
    (lambda: cosloss.value_and_grad(cosloss.losses.cosine_distance, X23, X23, axis=1,
                                    weights=MWC), "weights"),
    (lambda: cosloss.value_and_grad(cosloss.losses.cosine_distance, X23, M, axis=1), "predictions"),
    (lambda: cosloss.value_and_grad(cosloss.losses.compute_weighted_loss, M), "losses"),
    (lambda: cosloss.value_and_grad(cosloss.losses.compute_weighted_loss, X23, weights=MWC),
     "weights"),
]


@pytest.mark.parametrize("call, name", MASKED_SLOTS,
                         ids=[f"{i}-{name}" for i, (_, name) in enumerate(MASKED_SLOTS)])
def test_masked_arrays_are_refused(call, name):
    with pytest.raises(TypeError, match=rf"^{name} is a numpy masked array, whose mask cosloss "
                                        rf"\(like TensorFlow\) would ignore\.") as e:
        call()
    message = str(e.value)
    assert f"{name}.filled(0)" in message
    assert "weight 0" in message  # how to leave masked samples out instead


@pytest.mark.parametrize("call, name", [
    (lambda: cosloss.nn.l2_normalize(X23, axis=np.ma.masked_array([1], mask=[True])), "axis"),
    (lambda: cosloss.nn.l2_normalize(X23, epsilon=np.ma.masked_array(1e-12, mask=True)), "epsilon"),
    (lambda: cosloss.keras.losses.cosine_similarity(X23, X23, axis=np.ma.masked_array(1)), "axis"),
], ids=["l2_normalize axis", "epsilon", "keras axis"])
def test_masked_scalar_arguments_are_refused(call, name):
    with pytest.raises(TypeError, match=rf"^{name} is a numpy masked array"):
        call()


def test_masked_out_is_refused():
    out = (np.ma.masked_array(np.empty((2, 3), f32)), np.empty((2, 3), f32))
    with pytest.raises(TypeError, match=r"^out\[0\] is a numpy masked array"):
        cosloss.value_and_grad(cosloss.keras.losses.cosine_similarity, X23, X23, out=out)


def test_filled_masked_array_with_zero_weights_is_the_way():
    # What the error suggests: fill, and weight the masked samples 0.
    y_true = np.ma.masked_array(A23, mask=[[False] * 3, [True] * 3])
    weights = (~y_true.mask.any(axis=1)).astype(f32)
    value = cosloss.keras.losses.CosineSimilarity()(y_true.filled(0), B23, sample_weight=weights)
    np.testing.assert_allclose(value, ref.keras_class_tf2(A23, B23, weights), rtol=1e-6)


def test_masked_array_check_does_not_import_numpy_ma():
    # The check looks numpy.ma up in sys.modules instead of importing it.
    code = ("import sys, numpy as np, cosloss\n"
            "x = np.ones((2, 3), np.float32)\n"
            "cosloss.keras.losses.cosine_similarity(x.tolist(), x[:, ::-1])\n"
            "cosloss.keras.losses.CosineSimilarity()(x, x, sample_weight=[1., 2.])\n"
            "cosloss.losses.cosine_distance(x, x, axis=1, weights=[[1.], [2.]])\n"
            "cosloss.nn.l2_normalize(x, epsilon=np.float64(1e-12))\n"
            "cosloss.value_and_grad(cosloss.keras.losses.cosine_similarity, x, x, "
            "upstream=[1., 2.], out=(np.empty_like(x), np.empty_like(x)))\n"
            "assert 'numpy.ma' not in sys.modules, 'numpy.ma was imported'\n")
    subprocess.run([sys.executable, "-c", code], check=True, env=dict(os.environ))
