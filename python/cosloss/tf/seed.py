"""The seed article's three cosine losses as TensorFlow ops computed by cosloss."""

import tensorflow as tf

import cosloss
from cosloss.tf._op import loss_op, reduced_shape

__all__ = ["cosine_similarity_loss", "cosine_similarity_loss_v2", "cosine_similarity_loss_v3"]


def cosine_op(fn, a, b, axis, name):
    """fn(a, b, axis=axis) for a cosloss cosine-form function fn."""
    a = tf.convert_to_tensor(a)
    b = tf.convert_to_tensor(b, dtype_hint=a.dtype)
    if a.dtype != b.dtype:
        raise TypeError(f"y_true has dtype {a.dtype.name} but y_pred has dtype {b.dtype.name}")
    shape = tf.broadcast_static_shape(a.shape, b.shape)
    return loss_op(fn, [a, b], a.dtype, reduced_shape(shape, axis), name, axis=axis)


def cosine_similarity_loss(a, b, axis=-1):
    """−cos(a, b) along axis (TensorFlow's ε rule: zero vectors give 0).

    Example:
        >>> cosloss.tf.cosine_similarity_loss(tf.constant([[1., 2.]]), tf.constant([[2., 1.]])).numpy()
        array([-0.8], dtype=float32)
    """
    return cosine_op(cosloss.cosine_similarity_loss, a, b, axis, "cosine_similarity_loss")


def cosine_similarity_loss_v2(a, b, axis=-1):
    """1 − cos(a, b) along axis.

    Example:
        >>> cosloss.tf.cosine_similarity_loss_v2(tf.constant([[1., 2.]]), tf.constant([[2., 1.]])).numpy()
        array([0.19999999], dtype=float32)
    """
    return cosine_op(cosloss.cosine_similarity_loss_v2, a, b, axis, "cosine_similarity_loss_v2")


def cosine_similarity_loss_v3(a, b, axis=-1):
    """(1 − cos(a, b))² along axis.

    Example:
        >>> cosloss.tf.cosine_similarity_loss_v3(tf.constant([[1., 2.]]), tf.constant([[2., 1.]])).numpy()
        array([0.04], dtype=float32)
    """
    return cosine_op(cosloss.cosine_similarity_loss_v3, a, b, axis, "cosine_similarity_loss_v3")
