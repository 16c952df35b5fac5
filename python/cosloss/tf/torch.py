"""PyTorch's cosine functions as TensorFlow ops computed by cosloss (PyTorch >= 2.0 semantics).

The numbers and gradients are cosloss.torch.nn.functional's; for a training
script moving between the two frameworks, or a TF model that must score
the way a PyTorch one did.

Example:
    >>> cosloss.tf.torch.cosine_similarity([[1., 2.]], [[2., 1.]]).numpy()
    array([0.8], dtype=float32)
"""

from __future__ import annotations

import tensorflow as tf

import numpy as np

from cosloss._core import go
from cosloss._losses.torch import (COSINE_EMBEDDING, TORCH_COSINE, check_reduction,
                                   check_target_values)
from cosloss.tf import _primitives
from cosloss.tf._backend import resolve
from cosloss.tf._op import TensorLike, loss_op, reduced_shape, static_axis

__all__ = ["cosine_similarity", "cosine_embedding_loss"]


def _float_pair(x1: TensorLike, x2: TensorLike, names: tuple[str, str],
                ) -> tuple[tf.Tensor, tf.Tensor]:
    x1 = tf.convert_to_tensor(x1)
    x2 = tf.convert_to_tensor(x2, dtype_hint=x1.dtype)
    if x1.dtype != x2.dtype or not x1.dtype.is_floating:
        raise TypeError(f"{names[0]} and {names[1]} must share a floating dtype in a TensorFlow "
                        f"op, got {x1.dtype.name} and {x2.dtype.name}")
    return x1, x2


def cosine_similarity(x1: TensorLike, x2: TensorLike, dim: int = 1, eps: float = 1e-8,
                      backend: str | None = None) -> tf.Tensor:
    """PyTorch's F.cosine_similarity as a TensorFlow op with cosloss's numbers.

        similarity = sum(x1 * x2, dim) / (max(‖x1‖, eps) · max(‖x2‖, eps))

    Values and gradients are `cosloss.torch.nn.functional.cosine_similarity`'s.

    Args:
        x1: A float16, float32 or float64 tensor, or anything
            `tf.convert_to_tensor` takes.
        x2: A tensor of x1's dtype whose shape broadcasts with x1's.
        dim: The int dimension of the broadcast shape (default 1).
        eps: The floor on each norm.
        backend: "tf" or "go" (see `cosloss.tf.set_backend`); None: the
            default.

    Returns:
        A tensor of the broadcast shape without `dim`, in the inputs' dtype.

    Raises:
        TypeError: The inputs' dtypes differ or are not floating.
        ValueError: Shapes that do not broadcast, or (eagerly) a dim out of
            range. In graph mode errors that depend on the fed values are
            raised by `Session.run` as `tf.errors.InvalidArgumentError`.

    Example:
        >>> cosloss.tf.torch.cosine_similarity(tf.constant([[3., 4.]]), tf.constant([[4., 3.]])).numpy()
        array([0.96], dtype=float32)
    """
    x1, x2 = _float_pair(x1, x2, ("x1", "x2"))
    shape = tf.broadcast_static_shape(x1.shape, x2.shape)
    if resolve(backend) == "go":
        return loss_op(TORCH_COSINE, [x1, x2], x1.dtype, reduced_shape(shape, dim),
                       "cosine_similarity", dim, eps)
    with tf.name_scope("cosine_similarity"):
        return _primitives.cosine(x1, x2, static_axis(dim, shape.rank, "dim"), go.COS,
                                  go.FLOOR_NORM, float(eps))


def cosine_embedding_loss(input1: TensorLike, input2: TensorLike, target: TensorLike,
                          margin: float = 0.0, reduction: str = "mean",
                          backend: str | None = None) -> tf.Tensor:
    """PyTorch's F.cosine_embedding_loss as a TensorFlow op with cosloss's numbers.

        loss_i = 1 - cos_i (target 1),  max(0, cos_i - margin) (target -1)

    with cos from Σx² + 1e-12 norms, reduced by "mean", "sum" or "none".
    Values and gradients are
    `cosloss.torch.nn.functional.cosine_embedding_loss`'s; target gets no
    gradient.

    Args:
        input1: An (N, D) float tensor (with an (N,) target), or (D,) with a
            0-d target.
        input2: A tensor of input1's dtype and rank.
        target: 1 or -1 per pair, of any real dtype.
        margin: A real scalar.
        reduction: "mean", "sum" or "none".
        backend: "tf" or "go" (see `cosloss.tf.set_backend`); None: the
            default.

    Returns:
        A scalar tensor, or for "none" the per-pair losses.

    Raises:
        TypeError: The inputs' dtypes differ or are not floating.
        ValueError: An invalid reduction, or (eagerly) a target of the wrong
            shape or with values other than 1 and -1. In graph mode errors
            that depend on the fed values are raised by `Session.run` as
            `tf.errors.InvalidArgumentError`; under XLA, which drops
            assertions, such a pair's loss is NaN.

    Example:
        >>> cosloss.tf.torch.cosine_embedding_loss(
        ...     tf.constant([[1., 0.]]), tf.constant([[0., 1.]]), tf.constant([1])).numpy()
        np.float32(1.0)
    """
    check_reduction(reduction)
    input1, input2 = _float_pair(input1, input2, ("input1", "input2"))
    target = tf.convert_to_tensor(target)
    if reduction == "none":
        value_shape = tf.broadcast_static_shape(input1.shape, input2.shape)[:-1]
    else:
        value_shape = tf.TensorShape([])
    if resolve(backend) == "go":
        return loss_op(COSINE_EMBEDDING, [input1, input2], input1.dtype, value_shape,
                       "cosine_embedding_loss", margin, reduction, constants=[target])
    with tf.name_scope("cosine_embedding_loss"):
        target = _checked_target(input1, input2, target)
        cos = _primitives.cosine(input1, input2, -1, go.COS, COSINE_EMBEDDING.cos.norm.rule,
                                 COSINE_EMBEDDING.cos.norm.eps)
        return _primitives.cosine_embedding_loss(cos, target, float(margin), reduction)


def _checked_target(input1: tf.Tensor, input2: tf.Tensor, target: tf.Tensor) -> tf.Tensor:
    """target after the numpy API's checks: its dtype and rank when the op is built,
    its values eagerly (the same errors), or in a graph by an assertion that fails
    when the graph runs."""
    if not (target.dtype.is_floating or target.dtype.is_integer or target.dtype == tf.bool):
        raise TypeError(f"cosine_embedding_loss needs target of a real dtype, got "
                        f"{target.dtype.name}")
    rank = target.shape.rank
    if rank is not None and rank not in (0, 1):
        raise ValueError(f"cosine_embedding_loss needs a 0-d or 1-d target (one +1 or -1 per "
                         f"pair), got target of shape {target.shape}")
    for a, name in ((input1, "input1"), (input2, "input2")):
        if rank is not None and a.shape.rank is not None and a.shape.rank != rank + 1:
            raise ValueError(f"a {rank}-d target needs {rank + 1}-d input1 and input2, got "
                             f"{name} of shape {tuple(a.shape.as_list())}")
    pairs = tf.broadcast_static_shape(input1.shape, input2.shape)[:-1]
    if isinstance(target, tf.__internal__.EagerTensor) and pairs.is_fully_defined():
        # Only the target comes to numpy: the inputs may live on another device.
        check_target_values(target.numpy(), tuple(pairs.as_list()))
        return target
    t64 = tf.cast(target, tf.float64)
    ok = tf.reduce_all(tf.equal(t64, 1.0) | tf.equal(t64, -1.0))
    check = tf.debugging.Assert(ok, ["cosine_embedding_loss: target must hold only 1 and -1"])
    with tf.control_dependencies([check]):
        return tf.identity(target)
