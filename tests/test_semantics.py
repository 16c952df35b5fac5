"""eps_mode, zero and clamp on the row-wise cosines, against numpy references
written from each framework's documented formula (and TensorFlow and Keras 3
themselves, where installed)."""

import numpy as np
import pytest

import cosloss
from cosloss.keras.losses import cosine_similarity as keras_cos
from cosloss.seed import (cosine_similarity_loss, cosine_similarity_loss_v2,
                          cosine_similarity_loss_v3)


def _sumsq(v):
    return np.sum(v.astype(np.float64) ** 2, axis=-1)


# Each framework's cosine of two row batches, in float64, from its formula.
def ref_tf(x, y):  # tf.nn.l2_normalize: x * rsqrt(max(sum(x**2), 1e-12))
    return np.sum(x * y, -1) / np.sqrt(np.maximum(_sumsq(x), 1e-12)
                                       * np.maximum(_sumsq(y), 1e-12))


def ref_keras3(x, y):  # keras.ops.normalize: x * minimum(rsqrt(sum(x**2)), 1 / 1e-7)
    with np.errstate(divide="ignore"):
        ix = np.minimum(1 / np.sqrt(_sumsq(x)), 1e7)
        iy = np.minimum(1 / np.sqrt(_sumsq(y)), 1e7)
    return np.sum(x * y, -1) * ix * iy


def ref_torch(x, y):  # F.cosine_similarity (torch >= 2.0): dot / (max(|x|, eps) * max(|y|, eps))
    return np.sum(x * y, -1) / (np.maximum(np.sqrt(_sumsq(x)), 1e-8)
                                * np.maximum(np.sqrt(_sumsq(y)), 1e-8))


def ref_optax(x, y):  # optax.losses.cosine_similarity, epsilon=0
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sum(x * y, -1) / np.sqrt(np.maximum(_sumsq(x) * _sumsq(y), 0.0))


REFS = {"tf": ref_tf, "keras3": ref_keras3, "torch": ref_torch, "optax": ref_optax}
MODES = list(REFS)
FORMS = [(keras_cos, lambda c: -c), (cosine_similarity_loss, lambda c: -c),
         (cosine_similarity_loss_v2, lambda c: 1 - c),
         (cosine_similarity_loss_v3, lambda c: (1 - c) ** 2)]


def _rows(rng, n=64, d=5):
    x, y = rng.standard_normal((2, n, d))
    # Rows below every floor but not zero: where the rules part ways.
    x[1] *= 1e-9
    y[2] *= 3e-8
    x[3] *= 1e-7
    return x, y


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("fn,form", FORMS)
def test_values_follow_each_rule(mode, fn, form):
    x, y = _rows(np.random.default_rng(1))
    got = fn(x, y, eps_mode=mode)
    np.testing.assert_allclose(got, form(REFS[mode](x, y)), rtol=1e-12, atol=1e-15)


def test_rules_differ_below_the_floors():
    x, y = _rows(np.random.default_rng(1))
    values = {m: keras_cos(x, y, eps_mode=m)[1] for m in MODES}
    # 1e-9-scaled x: tf floors Σx² at 1e-12 (|x| ~ 2e-9 << 1e-6), keras3 |x| at
    # 1e-7, torch at 1e-8, optax not at all.
    assert len({float(v) for v in values.values()}) == 4
    assert keras_cos(x, y)[1] == values["tf"]


def test_default_is_tf_rule_bit_for_bit():
    x, y = np.random.default_rng(2).standard_normal((2, 33, 7)).astype(np.float32)
    np.testing.assert_array_equal(keras_cos(x, y), keras_cos(x, y, eps_mode="tf"))
    np.testing.assert_array_equal(keras_cos(x, y), keras_cos(x, y, zero="nan"))


def _numeric_grad(fn, x, y, h=1e-6):
    gx = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[idx] += h
        xm[idx] -= h
        gx[idx] = (fn(xp, y).sum() - fn(xm, y).sum()) / (2 * h)
    return gx


@pytest.mark.parametrize("mode", MODES)
def test_gradients_match_finite_differences(mode):
    x, y = np.random.default_rng(3).standard_normal((2, 6, 4))
    _, (dx, dy) = cosloss.value_and_grad(keras_cos, x, y, eps_mode=mode)
    ref = REFS[mode]
    np.testing.assert_allclose(dx, _numeric_grad(lambda a, b: -ref(a, b), x, y),
                               rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(dy, _numeric_grad(lambda a, b: -ref(b, a), y, x),
                               rtol=1e-6, atol=1e-9)


def test_gradient_below_the_floor_per_rule():
    # x far below every floor: each rule's gradient wrt x is y / (floored |x| * |y|)
    # where the floor wins (tf, keras3: the floor gets no gradient) and torch's
    # clamp passes the gradient to the unclamped norm.
    y = np.array([[1.0, 2.0, 2.0]])
    x = np.array([[1e-10, 0.0, 0.0]])
    ny = 3.0
    for mode, floor in (("tf", 1e-6), ("keras3", 1e-7)):
        _, (dx, _) = cosloss.value_and_grad(keras_cos, x, y, eps_mode=mode)
        np.testing.assert_allclose(dx, -y / (floor * ny), rtol=1e-12)
    _, (dx, _) = cosloss.value_and_grad(keras_cos, x, y, eps_mode="torch")
    nx = 1e-10
    dot = 1e-10
    # d(x / n)/dx = I / n - x (x / |x|)^T / n^2 with n = max(|x|, eps) = eps held
    # constant by torch's no-grad clamp_min_, but its norm's gradient kept.
    want = -(y / (1e-8 * ny) - dot * x / (ny * 1e-8 ** 2 * nx))
    np.testing.assert_allclose(dx, want, rtol=1e-9)


ZERO = np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]])
ONES = np.ones((2, 3))


@pytest.mark.parametrize("mode", MODES)
def test_zero_finite(mode):
    v, (dx, dy) = cosloss.value_and_grad(keras_cos, ZERO, ONES, eps_mode=mode, zero="finite")
    assert np.all(np.isfinite(v)) and np.all(np.isfinite(dx)) and np.all(np.isfinite(dy))
    assert v[0] == 0
    np.testing.assert_allclose(v[1], -ref_tf(ZERO[1:], ONES[1:])[0], rtol=1e-15)
    if mode == "optax":  # no floor: 0/0, replaced by cos = 0 and zero gradients
        assert np.all(dx[0] == 0) and np.all(dy[0] == 0)
    else:  # the floored rule's own gradient, y / (floor * |y|)
        floor = {"tf": 1e-6, "keras3": 1e-7, "torch": 1e-8}[mode]
        np.testing.assert_allclose(dx[0], -ONES[0] / (floor * np.sqrt(3)), rtol=1e-12)


def test_optax_rule_without_policy_is_nan_free():
    # optax itself gives NaN here; cosloss's default policy gives a finite value.
    assert np.isnan(ref_optax(ZERO, ONES)[0])
    assert keras_cos(ZERO, ONES, eps_mode="optax")[0] == 0


@pytest.mark.parametrize("fn,form", FORMS)
@pytest.mark.parametrize("mode", [None] + MODES)
def test_zero_nan(fn, form, mode):
    v, (dx, dy) = cosloss.value_and_grad(fn, ZERO, ONES, eps_mode=mode, zero="nan")
    assert np.isnan(v[0]) and np.all(np.isnan(dx[0])) and np.all(np.isnan(dy[0]))
    np.testing.assert_allclose(v[1], form(ref_tf(ZERO[1:], ONES[1:]))[0], rtol=1e-12)
    assert np.all(np.isfinite(dx[1])) and np.all(np.isfinite(dy[1]))


def test_zero_nan_reaches_a_broadcast_input():
    x = np.array([[[0.0, 0.0]], [[1.0, 2.0]]])  # (2, 1, 2)
    y = np.array([[1.0, 1.0], [2.0, -1.0], [3.0, 0.0]])  # (3, 2), broadcast over axis 0
    v, (dx, dy) = cosloss.value_and_grad(keras_cos, x, y, zero="nan")
    assert v.shape == (2, 3)
    assert np.all(np.isnan(v[0])) and np.all(np.isfinite(v[1]))
    assert np.all(np.isnan(dx[0])) and np.all(np.isfinite(dx[1]))
    assert np.all(np.isnan(dy))  # every row of y meets the zero vector


def test_zero_raise_names_input_and_index():
    x = np.ones((2, 3, 4))
    y = np.ones((2, 3, 4))
    y[1, 2] = 0
    with pytest.raises(ValueError,
                       match=r"y_pred has a zero vector along axis 2 at index \(1, 2\)"):
        keras_cos(x, y, zero="raise")
    with pytest.raises(ValueError, match=r"^b has a zero vector"):
        cosloss.value_and_grad(cosine_similarity_loss_v2, x, y, zero="raise")
    # Along axis 1 no vector is zero.
    np.testing.assert_allclose(keras_cos(x, y, axis=1, zero="raise"),
                               -ref_tf(np.moveaxis(x, 1, -1), np.moveaxis(y, 1, -1)))
    xs = np.ones((2, 3, 4))
    xs[0] = 0
    with pytest.raises(ValueError,
                       match=r"y_true has a zero vector along axis \[1, 2\] at index \(0,\)"):
        keras_cos(xs, y, axis=[1, 2], zero="raise")


def test_bad_options():
    with pytest.raises(ValueError, match="eps_mode must be None or one of"):
        keras_cos(ONES, ONES, eps_mode="jax")
    with pytest.raises(ValueError, match="zero must be one of"):
        keras_cos(ONES, ONES, zero="zero")
    with pytest.raises(TypeError, match="clamp must be a bool"):
        keras_cos(ONES, ONES, clamp="yes")


def _near_parallel(dtype, n=200_000):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((n, 3)).astype(dtype)
    y = (x * rng.uniform(0.5, 3.0, (n, 1))).astype(dtype)
    return x, y


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_clamp_keeps_the_range(dtype):
    x, y = _near_parallel(dtype)
    for fn, lo, hi in ((keras_cos, -1, 1), (cosine_similarity_loss_v2, 0, 2),
                       (cosine_similarity_loss_v3, 0, 4)):
        v = fn(x, -y, clamp=True) if fn is keras_cos else fn(x, y, clamp=True)
        assert v.min() >= lo and v.max() <= hi
    plain = keras_cos(x, y)
    if dtype is np.float64:  # float64 sums round a parallel pair's |cos| above 1 (measured)
        assert (np.abs(plain) > 1).any()
    clamped, (dx, dy) = cosloss.value_and_grad(keras_cos, x, y, clamp=True)
    np.testing.assert_array_equal(clamped, np.clip(plain, -1, 1))
    _, (px, py) = cosloss.value_and_grad(keras_cos, x, y)
    np.testing.assert_array_equal(dx, px)  # the gradient passes through
    np.testing.assert_array_equal(dy, py)


def test_inputs_are_not_modified():
    x, y = ZERO.copy(), ONES.copy()
    cosloss.value_and_grad(keras_cos, x, y, zero="nan", clamp=True, eps_mode="torch")
    np.testing.assert_array_equal(x, ZERO)
    np.testing.assert_array_equal(y, ONES)


def test_keras3_rule_matches_keras3():
    keras = pytest.importorskip("keras")
    if not keras.__version__.startswith("3"):
        pytest.skip("keras is not Keras 3")
    x, y = _rows(np.random.default_rng(5))
    x, y = x.astype(np.float32), y.astype(np.float32)
    want = np.asarray(keras.losses.cosine_similarity(y_true=x, y_pred=y))
    np.testing.assert_allclose(keras_cos(x, y, eps_mode="keras3"), want, rtol=2e-6, atol=1e-7)


def test_tf_rule_matches_tensorflow_gradient():
    tf = pytest.importorskip("tensorflow")
    x, y = _rows(np.random.default_rng(6))
    tx, ty = tf.constant(x), tf.constant(y)
    with tf.GradientTape() as tape:
        tape.watch([tx, ty])
        loss = -tf.reduce_sum(tf.nn.l2_normalize(tx, -1) * tf.nn.l2_normalize(ty, -1), -1)
    gx, gy = tape.gradient(loss, [tx, ty])
    v, (dx, dy) = cosloss.value_and_grad(keras_cos, x, y, eps_mode="tf")
    np.testing.assert_allclose(v, loss.numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(dx, gx.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dy, gy.numpy(), rtol=1e-10, atol=1e-12)


def test_one_vector_gives_a_0d_array_under_every_option():
    plain = keras_cos(np.zeros(3), np.ones(3))
    for opts in ({"zero": "nan"}, {"clamp": True}, {"eps_mode": "optax"}):
        got = keras_cos(np.zeros(3), np.ones(3), **opts)
        assert type(got) is type(plain) and got.shape == plain.shape == ()
