"""cosloss.tf.torch: PyTorch's cosine functions as TensorFlow ops, eager and in graphs.

Expectations come from tests/test_torch.py's numpy references of PyTorch's
formulas, never from cosloss.
"""

import numpy as np
import pytest

from tf_support import ctf, tf  # noqa: I001  (selects Keras 2 before TensorFlow loads)

from test_torch import TOL, ref_cosine, ref_embedding, rows


def _eager(fn, inputs, constants=()):
    xs = [tf.constant(a) for a in inputs]
    with tf.GradientTape() as tape:
        for x in xs:
            tape.watch(x)
        y = fn(*xs, *[tf.constant(c) for c in constants])
    return y.numpy(), [g.numpy() for g in tape.gradient(y, xs)]


def _graph(fn, inputs, constants=()):
    with tf.Graph().as_default():
        xs = [tf.compat.v1.placeholder(a.dtype, shape=[None] + list(a.shape[1:])) for a in inputs]
        cs = [tf.compat.v1.placeholder(np.asarray(c).dtype) for c in constants]
        y = fn(*xs, *cs)
        grads = tf.gradients(y, xs)
        with tf.compat.v1.Session() as sess:
            feed = dict(zip(xs + cs, list(inputs) + list(constants)))
            value, grad_values = sess.run([y, grads], feed)
    return value, grad_values


@pytest.mark.parametrize("run", [_eager, _graph], ids=["eager", "graph"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cosine_similarity_op(run, dtype):
    rng = np.random.default_rng(8)
    x1 = rows(rng, (5, 4), dtype, zero=[1], tiny=[2])
    x2 = rows(rng, (5, 4), dtype, zero=[3])
    value, d1, d2 = ref_cosine(x1, x2)
    got, (g1, g2) = run(lambda a, b: ctf.torch.cosine_similarity(a, b, dim=1), [x1, x2])
    assert got.dtype == dtype
    np.testing.assert_allclose(got, value, **TOL[np.dtype(dtype)])
    np.testing.assert_allclose(g1, d1, **TOL[np.dtype(dtype)])
    np.testing.assert_allclose(g2, d2, **TOL[np.dtype(dtype)])


@pytest.mark.parametrize("run", [_eager, _graph], ids=["eager", "graph"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cosine_embedding_loss_op(run, reduction):
    rng = np.random.default_rng(9)
    x1, x2 = rows(rng, (6, 3), np.float32), rows(rng, (6, 3), np.float32)
    target = np.array([1, -1, 1, -1, -1, 1], np.int32)
    value, d1, d2 = ref_embedding(x1, x2, target, 0.1, reduction)
    got, (g1, g2) = run(lambda a, b, t: ctf.torch.cosine_embedding_loss(
        a, b, t, margin=0.1, reduction=reduction), [x1, x2], [target])
    np.testing.assert_allclose(got, value, **TOL[np.dtype(np.float32)])
    np.testing.assert_allclose(g1, d1, **TOL[np.dtype(np.float32)])
    np.testing.assert_allclose(g2, d2, **TOL[np.dtype(np.float32)])


def test_ops_refuse_what_the_numpy_faces_refuse():
    with pytest.raises(TypeError, match="x1 and x2"):
        ctf.torch.cosine_similarity(tf.constant([[1.]]), tf.constant([[1.]], tf.float64))
    with pytest.raises(ValueError, match="reduction"):
        ctf.torch.cosine_embedding_loss([[1.]], [[1.]], [1], reduction="avg")
    with pytest.raises(ValueError, match="only 1 and -1"):
        ctf.torch.cosine_embedding_loss([[1., 0.]], [[1., 0.]], [0])
