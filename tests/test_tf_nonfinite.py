"""cosloss.tf against TensorFlow on inputs holding NaN and ±inf.

Values and gradients, graph mode and eager, each computed by TensorFlow
itself: NaN and ±inf must come out where TensorFlow's do (assert_allclose
compares NaN positions), finite entries within the usual tolerance. The
rows cover an inf, a NaN, an inf against a zero vector (TensorFlow's
Maximum gradient then gives NaN only opposite the inf) and ordinary rows.
"""

import numpy as np
import pytest

from tf_support import assert_pair_close, ctf, run_pair, tf, tol

MODES = ["graph", "eager"]
INF, NAN = np.inf, np.nan


def rows(dtype):
    x = np.array([[INF, 1, 2], [1, 2, 3], [NAN, 0, 1], [-INF, 1, 0], [3, 4, 0], [0, 0, 0]], dtype)
    y = np.array([[2, 1, 0], [1, -INF, 0], [1, 1, 1], [0, 0, 0], [4, 3, 1], [1, 2, 2]], dtype)
    return x, y


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_l2_normalize(mode, dtype):
    x, _ = rows(dtype)
    expected, actual = run_pair(mode, lambda t: tf.nn.l2_normalize(t, axis=-1),
                                lambda t: ctf.nn.l2_normalize(t, axis=-1), [x], seed=1)
    assert np.isnan(expected["grads"][0]).any()
    assert_pair_close(expected, actual, tol(np.dtype(dtype)), what="l2_normalize")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("axis", [-1, 0])
def test_keras_cosine_similarity(mode, dtype, axis):
    x, y = rows(dtype)
    expected, actual = run_pair(
        mode, lambda t, p: tf.keras.losses.cosine_similarity(t, p, axis=axis),
        lambda t, p: ctf.keras.losses.cosine_similarity(t, p, axis=axis), [x, y], seed=2)
    assert np.isnan(expected["value"]).any()
    assert_pair_close(expected, actual, tol(np.dtype(dtype)), what=f"cosine_similarity(axis={axis})")


@pytest.mark.parametrize("mode", MODES)
def test_keras_class(mode):
    x, y = rows(np.float32)
    w = np.array([1, 0.5, 2, 1, 1, 0], np.float32)
    expected, actual = run_pair(
        mode, lambda t, p, sw: tf.keras.losses.CosineSimilarity()(t, p, sample_weight=sw),
        lambda t, p, sw: ctf.keras.losses.CosineSimilarity()(t, p, sample_weight=sw),
        [x, y], extras=[w], seed=3)
    assert_pair_close(expected, actual, tol(np.dtype(np.float32)), what="CosineSimilarity")


@pytest.mark.parametrize("mode", MODES)
def test_cosine_distance(mode):
    x, y = rows(np.float32)
    expected, actual = run_pair(
        mode, lambda t, p: tf.compat.v1.losses.cosine_distance(t, p, axis=1, reduction="none"),
        lambda t, p: ctf.losses.cosine_distance(t, p, axis=1, reduction="none"), [x, y], seed=4)
    assert_pair_close(expected, actual, tol(np.dtype(np.float32)), what="cosine_distance")
