"""tf.nn.l2_normalize as a TensorFlow op computed by cosloss.

Example:
    >>> cosloss.tf.nn.l2_normalize([[3., 4.]], axis=1).numpy()
    array([[0.6, 0.8]], dtype=float32)
"""

from __future__ import annotations

import tensorflow as tf

from cosloss._losses.normalize import L2_NORMALIZE, lookup_axis
from cosloss.tf import _primitives
from cosloss.tf._backend import resolve
from cosloss.tf._op import TensorLike, loss_op, static_axis

__all__ = ["l2_normalize"]


def l2_normalize(x: TensorLike, axis: int | list[int] | tuple[int, ...] | None = None,
                 epsilon: float = 1e-12, name: str | None = None,
                 dim: int | list[int] | tuple[int, ...] | None = None,
                 backend: str | None = None) -> tf.Tensor:
    """Normalizes `x` along `axis` to unit L2 norm, as `tf.nn.l2_normalize`, with cosloss's numbers.

        output = x * rsqrt(max(sum(x ** 2, axis, keepdims=True), epsilon))

    A TensorFlow op (graph or eager) with the numbers of
    `cosloss.nn.l2_normalize`: Σx² in float64, each output rounded once.
    A zero vector stays zero, and its gradient is TensorFlow's finite
    `upstream * 1e6`.

    Args:
        x: A float16, float32, float64, complex64 or complex128 tensor, or
            anything `tf.convert_to_tensor` takes.
        axis: The dimension(s) to normalize along: an int, a list or tuple
            of ints, or None (the default) for all dimensions.
        epsilon: The lower bound on the sum of squares.
        name: The op's name (default "l2_normalize").
        dim: Deprecated alias of `axis`.
        backend: "tf" or "go" (see `cosloss.tf.set_backend`); None: the
            default.

    Returns:
        A tensor of x's shape and dtype.

    Raises:
        TypeError: `x` is not of a floating or complex dtype.
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
    axis_name = "axis" if dim is None else "dim"
    axis = lookup_axis(axis, dim)
    x = tf.convert_to_tensor(x)
    if not (x.dtype.is_floating or x.dtype.is_complex):
        raise TypeError(f"l2_normalize needs x of a floating or complex dtype, got {x.dtype.name}")
    name = name or "l2_normalize"
    if resolve(backend) == "go":
        return loss_op(L2_NORMALIZE, [x], x.dtype, x.shape, name, axis, epsilon)
    # The axes as the numpy API checks them (sorted, in range, not repeated)
    # when the rank is known; None normalizes over all of them.
    axes = None if axis is None else static_axis(axis, x.shape.rank, axis_name)
    with tf.name_scope(name):
        return _primitives.l2_normalize(x, axes, float(epsilon))
