"""tf.nn.l2_normalize as a TensorFlow op computed by cosloss.

Example:
    >>> cosloss.tf.nn.l2_normalize([[3., 4.]], axis=1).numpy()
    array([[0.6, 0.8]], dtype=float32)
"""

from __future__ import annotations

import tensorflow as tf

from cosloss._losses.normalize import L2_NORMALIZE, lookup_axis
from cosloss.tf._op import TensorLike, loss_op

__all__ = ["l2_normalize"]


def l2_normalize(x: TensorLike, axis: int | list[int] | tuple[int, ...] | None = None,
                 epsilon: float = 1e-12, name: str | None = None,
                 dim: int | list[int] | tuple[int, ...] | None = None) -> tf.Tensor:
    """Normalizes `x` along `axis` to unit L2 norm, as `tf.nn.l2_normalize`, in Go.

        output = x * rsqrt(max(sum(x ** 2, axis, keepdims=True), epsilon))

    A TensorFlow op (graph or eager) whose forward pass and gradient both
    run in cosloss's Go core; the numbers are `cosloss.nn.l2_normalize`'s.
    A zero vector stays zero, and its gradient is TensorFlow's finite
    `upstream * 1e6`.

    Args:
        x: A float16, float32 or float64 tensor, or anything
            `tf.convert_to_tensor` takes.
        axis: The dimension(s) to normalize along: an int, a list or tuple
            of ints, or None (the default) for all dimensions.
        epsilon: The lower bound on the sum of squares.
        name: The op's name (default "l2_normalize").
        dim: Deprecated alias of `axis`.

    Returns:
        A tensor of x's shape and dtype.

    Raises:
        TypeError: `x` is not of a floating dtype.
        ValueError: Both `axis` and `dim` are given, or (eagerly) an axis is
            out of range or repeated. In graph mode errors that depend on
            the fed values are raised by `Session.run` as
            `tf.errors.InvalidArgumentError`.

    Example:
        >>> x = tf.constant([3., 4.])
        >>> with tf.GradientTape() as tape:
        ...     tape.watch(x)
        ...     y = cosloss.tf.nn.l2_normalize(x)
        >>> y.numpy()
        array([0.6, 0.8], dtype=float32)
        >>> tape.gradient(y, x, output_gradients=tf.constant([1., 0.])).numpy()
        array([ 0.128, -0.096], dtype=float32)
    """
    axis = lookup_axis(axis, dim)
    x = tf.convert_to_tensor(x)
    if not x.dtype.is_floating:
        raise TypeError(f"l2_normalize needs x of a floating dtype, got {x.dtype.name}")
    return loss_op(L2_NORMALIZE, [x], x.dtype, x.shape, name or "l2_normalize", axis, epsilon)
