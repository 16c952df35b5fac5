"""Training through cosloss.tf gives TensorFlow's trajectory.

A linear model pred = X·W is trained for 50 steps in graph mode with
tf.compat.v1.train.GradientDescentOptimizer(0.1), once with TensorFlow's loss
and once with cosloss's, from the same initial W on the same data. The final
weights (and the loss curve) must agree, and the loss must actually fall, so
wrong or vanishing gradients fail the test.
"""

import numpy as np
import pytest

from tf_support import ctf, tf

STEPS = 50
LEARNING_RATE = 0.1
N, D_IN, D_OUT = 32, 8, 5


def data(dtype, seed=7):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, D_IN)).astype(dtype)
    y = rng.standard_normal((N, D_OUT)).astype(dtype)
    w0 = (rng.standard_normal((D_IN, D_OUT)) / np.sqrt(D_IN)).astype(dtype)
    return x, y, w0


# Loss builders: (labels, predictions) tensors -> scalar loss tensor.

def keras_tf(y, pred):
    return tf.reduce_mean(tf.keras.losses.cosine_similarity(y, pred))


def keras_cosloss(y, pred):
    return tf.reduce_mean(ctf.keras.losses.cosine_similarity(y, pred))


def distance_tf(y, pred):
    return tf.compat.v1.losses.cosine_distance(
        tf.nn.l2_normalize(y, axis=1), tf.nn.l2_normalize(pred, axis=1), axis=1)


def distance_cosloss(y, pred):
    return ctf.losses.cosine_distance(
        ctf.nn.l2_normalize(y, axis=1), ctf.nn.l2_normalize(pred, axis=1), axis=1)


def train(loss_fn, dtype):
    """Final W and the loss before each step (plus after the last), in graph mode."""
    x, y, w0 = data(dtype)
    with tf.Graph().as_default() as graph:
        x_ph = tf.compat.v1.placeholder(dtype, [None, D_IN])
        y_ph = tf.compat.v1.placeholder(dtype, [None, D_OUT])
        w = tf.compat.v1.get_variable("W", initializer=tf.constant(w0), dtype=dtype)
        loss = loss_fn(y_ph, tf.matmul(x_ph, w))
        step = tf.compat.v1.train.GradientDescentOptimizer(LEARNING_RATE).minimize(loss)
        feed = {x_ph: x, y_ph: y}
        with tf.compat.v1.Session(graph=graph) as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            losses = []
            for _ in range(STEPS):
                value, _ = sess.run([loss, step], feed)
                losses.append(value)
            losses.append(sess.run(loss, feed))
            return sess.run(w), np.array(losses, np.float64), w0


CASES = {
    "keras_cosine_similarity": (keras_tf, keras_cosloss),
    "cosine_distance_l2_normalize": (distance_tf, distance_cosloss),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("case", list(CASES))
def test_training_matches_tensorflow(case, dtype):
    # cosine_distance computes in float32 whatever its inputs (spec §3); with
    # float64 W the gradient still flows back through the cast, so training
    # float64 weights through it is supported and compared too.
    tf_loss, cl_loss = CASES[case]
    w_tf, losses_tf, w0 = train(tf_loss, dtype)
    w_cl, losses_cl, _ = train(cl_loss, dtype)

    assert w_cl.dtype == w_tf.dtype == np.dtype(dtype)
    # TensorFlow's own run must learn, or the comparison proves nothing.
    assert losses_tf[-1] < losses_tf[0] - 0.1, losses_tf
    assert np.abs(w_tf - w0).max() > 1e-2
    # cosloss's run learns as well, along the same loss curve to the same weights.
    assert losses_cl[-1] < losses_cl[0] - 0.1, losses_cl
    np.testing.assert_allclose(losses_cl, losses_tf, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(w_cl, w_tf, rtol=1e-5, atol=1e-5)
