"""The seed article's three cosine losses as TensorFlow ops with cosloss's numbers.

Example:
    >>> cosloss.tf.cosine_similarity_loss_v2([[1., 0.]], [[0., 0.]]).numpy()  # zero vector
    array([1.], dtype=float32)
"""

from __future__ import annotations

import tensorflow as tf

from cosloss._losses.cosine import (SEED_NEGATIVE, SEED_ONE_MINUS, SEED_SQUARED_ONE_MINUS,
                                    CosineLoss)
from cosloss.tf import _primitives
from cosloss.tf._backend import resolve
from cosloss.tf._op import TensorLike, loss_op, reduced_shape, static_axis

__all__ = ["cosine_similarity_loss", "cosine_similarity_loss_v2", "cosine_similarity_loss_v3"]


def cosine_op(loss: CosineLoss, a: TensorLike, b: TensorLike, axis: int, name: str,
              backend: str | None) -> tf.Tensor:
    """loss.value(a, b, axis) as an op; errors call a and b by the loss's names."""
    a = tf.convert_to_tensor(a)
    b = tf.convert_to_tensor(b, dtype_hint=a.dtype)
    a_name, b_name = loss.names
    if a.dtype != b.dtype:
        raise TypeError(f"{a_name} has dtype {a.dtype.name} but {b_name} has dtype {b.dtype.name}")
    if a.dtype not in (tf.float16, tf.float32, tf.float64):
        raise TypeError(f"{name} needs {a_name} and {b_name} of a floating dtype (float16, "
                        f"float32 or float64), got {a.dtype.name}")
    shape = tf.broadcast_static_shape(a.shape, b.shape)
    axis = static_axis(axis, shape.rank)
    if resolve(backend) == "go":
        return loss_op(loss, [a, b], a.dtype, reduced_shape(shape, axis), name, axis)
    with tf.name_scope(name):
        return _primitives.cosine(a, b, axis, loss.form, loss.norm.rule, loss.norm.eps)


def cosine_similarity_loss(a: TensorLike, b: TensorLike, axis: int = -1,
                           backend: str | None = None) -> tf.Tensor:
    """Negative cosine similarity as a TensorFlow op with cosloss's numbers, in [-1, 1].

        loss = -sum(l2_normalize(a, axis) * l2_normalize(b, axis), axis)

    Values and gradients are `cosloss.cosine_similarity_loss`'s;
    zero vectors give 0.

    Args:
        a: A float16, float32 or float64 tensor, or anything
            `tf.convert_to_tensor` takes.
        b: A tensor of a's dtype whose shape broadcasts with a's.
        axis: The int dimension along which the cosine is computed.
        backend: "tf" or "go" (see `cosloss.tf.set_backend`); None: the
            default.

    Returns:
        A tensor of the broadcast shape without `axis`, in the inputs' dtype.

    Raises:
        TypeError: The inputs' dtypes differ or are not floating.
        ValueError: Shapes that do not broadcast, or (eagerly) an axis out
            of range. In graph mode errors that depend on the fed values are
            raised by `Session.run` as `tf.errors.InvalidArgumentError`.

    Example:
        >>> cosloss.tf.cosine_similarity_loss(tf.constant([[1., 2.]]), tf.constant([[2., 1.]])).numpy()
        array([-0.8], dtype=float32)
    """
    return cosine_op(SEED_NEGATIVE, a, b, axis, "cosine_similarity_loss", backend)


def cosine_similarity_loss_v2(a: TensorLike, b: TensorLike, axis: int = -1,
                              backend: str | None = None) -> tf.Tensor:
    """One minus the cosine similarity as a TensorFlow op with cosloss's numbers, in [0, 2].

        loss = 1 - sum(l2_normalize(a, axis) * l2_normalize(b, axis), axis)

    Values and gradients are `cosloss.cosine_similarity_loss_v2`'s;
    zero vectors give 1.

    Args:
        a: A float16, float32 or float64 tensor, or anything
            `tf.convert_to_tensor` takes.
        b: A tensor of a's dtype whose shape broadcasts with a's.
        axis: The int dimension along which the cosine is computed.
        backend: "tf" or "go" (see `cosloss.tf.set_backend`); None: the
            default.

    Returns:
        A tensor of the broadcast shape without `axis`, in the inputs' dtype.

    Raises:
        TypeError: The inputs' dtypes differ or are not floating.
        ValueError: Shapes that do not broadcast, or (eagerly) an axis out
            of range. In graph mode errors that depend on the fed values are
            raised by `Session.run` as `tf.errors.InvalidArgumentError`.

    Example:
        >>> cosloss.tf.cosine_similarity_loss_v2(tf.constant([[1., 2.]]), tf.constant([[2., 1.]])).numpy()
        array([0.19999999], dtype=float32)
    """
    return cosine_op(SEED_ONE_MINUS, a, b, axis, "cosine_similarity_loss_v2", backend)


def cosine_similarity_loss_v3(a: TensorLike, b: TensorLike, axis: int = -1,
                              backend: str | None = None) -> tf.Tensor:
    """One minus the cosine similarity, squared, as a TensorFlow op with cosloss's numbers, in [0, 4].

        loss = (1 - sum(l2_normalize(a, axis) * l2_normalize(b, axis), axis)) ** 2

    Values and gradients are `cosloss.cosine_similarity_loss_v3`'s;
    zero vectors give 1.

    Args:
        a: A float16, float32 or float64 tensor, or anything
            `tf.convert_to_tensor` takes.
        b: A tensor of a's dtype whose shape broadcasts with a's.
        axis: The int dimension along which the cosine is computed.
        backend: "tf" or "go" (see `cosloss.tf.set_backend`); None: the
            default.

    Returns:
        A tensor of the broadcast shape without `axis`, in the inputs' dtype.

    Raises:
        TypeError: The inputs' dtypes differ or are not floating.
        ValueError: Shapes that do not broadcast, or (eagerly) an axis out
            of range. In graph mode errors that depend on the fed values are
            raised by `Session.run` as `tf.errors.InvalidArgumentError`.

    Example:
        >>> cosloss.tf.cosine_similarity_loss_v3(tf.constant([[1., 2.]]), tf.constant([[2., 1.]])).numpy()
        array([0.04], dtype=float32)
    """
    return cosine_op(SEED_SQUARED_ONE_MINUS, a, b, axis, "cosine_similarity_loss_v3", backend)
