"""tf.nn.l2_normalize as a TensorFlow op computed by cosloss."""

import tensorflow as tf

import cosloss
from cosloss.nn import _lookup_axis
from cosloss.tf._op import loss_op

__all__ = ["l2_normalize"]


def l2_normalize(x, axis=None, epsilon=1e-12, name=None, dim=None):
    """tf.nn.l2_normalize: x · rsqrt(max(Σx², epsilon)), forward and gradient in Go.

    Example:
        >>> cosloss.tf.nn.l2_normalize(tf.constant([3., 4.])).numpy()
        array([0.6, 0.8], dtype=float32)
    """
    axis = _lookup_axis(axis, dim)
    x = tf.convert_to_tensor(x)
    if not x.dtype.is_floating:
        raise TypeError(f"l2_normalize needs x of a floating dtype, got {x.dtype.name}")
    return loss_op(cosloss.nn.l2_normalize, [x], x.dtype, x.shape, name or "l2_normalize",
                    axis=axis, epsilon=epsilon)
