"""tf.compat.v1.losses.cosine_distance as a TensorFlow op computed by cosloss.

Example:
    >>> cosloss.tf.losses.cosine_distance([[0., 1.]], [[0., 1.]], axis=1).numpy()
    np.float32(0.0)
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from cosloss._losses.reductions import assert_broadcastable
from cosloss._losses.tf1 import COSINE_DISTANCE, Reduction, check_cosine_distance_args
from cosloss.tf import _primitives
from cosloss.tf._backend import resolve
from cosloss.tf._op import TensorLike, numpy_op, reduced_shape, static_axis

__all__ = ["cosine_distance", "Reduction"]


def cosine_distance(labels: TensorLike, predictions: TensorLike, axis: int | None = None,
                    weights: TensorLike = 1.0, scope: str | None = None,
                    loss_collection: str | None = tf.compat.v1.GraphKeys.LOSSES,
                    reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS,
                    dim: int | None = None, backend: str | None = None) -> tf.Tensor:
    """TF1's cosine distance of unit vectors, weighted and reduced, with cosloss's numbers.

        losses = 1 - sum(labels * predictions, axis, keepdims=True)
        return compute_weighted_loss(losses, weights, reduction=reduction)

    A TensorFlow op (graph or eager) with the numbers of
    `cosloss.losses.cosine_distance`: no normalization, both inputs cast to
    float32, a float32 result, and TF1's strict rule for `weights` against
    the [N, 1] losses. As in TensorFlow, in graph mode the loss is added to
    `loss_collection`, so `tf.compat.v1.losses.get_total_loss()` includes
    it, and gradients reach labels, predictions and weights.

    Args:
        labels: A tensor of any real dtype.
        predictions: A tensor whose shape is compatible with labels'.
        axis: The dimension of the dot product (required): an int, or a
            list of ints as TensorFlow's eager op takes.
        weights: A scalar, or a tensor of the losses' rank whose every
            dimension is 1 or equal to theirs.
        scope: The name scope of the op (default "cosine_distance_loss").
        loss_collection: The graph collection the loss is added to in graph
            mode; None or "" adds it nowhere.
        reduction: A `Reduction` key.
        dim: Deprecated alias of `axis`.
        backend: "tf" or "go" (see `cosloss.tf.set_backend`); None: the
            default.

    Returns:
        A float32 scalar tensor, or for `Reduction.NONE` a float32 tensor of
        the inputs' shape with `axis` of size 1.

    Raises:
        ValueError: No axis ("You must specify 'axis'."), both `axis` and
            `dim`, None inputs, incompatible static shapes, an invalid
            `reduction`, or (eagerly) weights that do not broadcast. In
            graph mode errors that depend on the fed values are raised by
            `Session.run` as `tf.errors.InvalidArgumentError`.

    Example:
        >>> loss = cosloss.tf.losses.cosine_distance(
        ...     tf.constant([[0.6, 0.8]]), tf.constant([[0.8, 0.6]]), axis=1)
        >>> loss.numpy()
        np.float32(0.03999996)
    """
    axis = check_cosine_distance_args(labels, predictions, axis, dim, reduction)
    with tf.name_scope(scope or "cosine_distance_loss"):
        labels = tf.cast(labels, tf.float32)
        predictions = tf.cast(predictions, tf.float32)
        predictions.shape.assert_is_compatible_with(labels.shape)
        weights = tf.cast(weights, tf.float32)
        if resolve(backend) == "go":
            loss = _cosine_distance_op(labels, predictions, weights, axis, reduction)
        else:
            loss = _cosine_distance_tf(labels, predictions, weights, axis, reduction,
                                       "axis" if dim is None else "dim")
    if loss_collection and not tf.executing_eagerly():
        tf.compat.v1.add_to_collection(loss_collection, loss)
    return loss


def _cosine_distance_tf(labels: tf.Tensor, predictions: tf.Tensor, weights: tf.Tensor,
                        axis: int, reduction: str, axis_name: str) -> tf.Tensor:
    """The op from TensorFlow primitives; TF1's weights rule checked as TensorFlow does."""
    axis = static_axis(axis, labels.shape.rank, axis_name)
    losses = _primitives.cosine_distance(labels, predictions, axis)
    if weights.shape.is_fully_defined() and losses.shape.is_fully_defined():
        # As the numpy API raises it (and TF's graph-time check).
        assert_broadcastable(np.broadcast_to(np.float32(0), weights.shape.as_list()),
                             np.broadcast_to(np.float32(0), losses.shape.as_list()))
    else:
        # TensorFlow's own check, for shapes known only when the graph runs.
        from tensorflow.python.ops import weights_broadcast_ops
        weights = weights_broadcast_ops.broadcast_weights(weights, losses)
    return _primitives.weighted_loss_v1(losses, weights, reduction)


def _cosine_distance_op(labels: tf.Tensor, predictions: tf.Tensor, weights: tf.Tensor,
                        axis: int, reduction: str) -> tf.Tensor:
    """The go backend's op; its backward also gives weights TensorFlow's gradient."""
    # The static shape TensorFlow cannot infer through numpy_function.
    if reduction == Reduction.NONE and labels.shape.rank is not None:
        value_shape = reduced_shape(labels.shape, static_axis(axis, labels.shape.rank),
                                    keepdims=True)
    else:
        value_shape = tf.TensorShape(None if reduction == Reduction.NONE else [])

    def forward(l: np.ndarray, p: np.ndarray, w: np.ndarray) -> np.ndarray:
        return np.asarray(COSINE_DISTANCE.value(l, p, axis, w, None, None, reduction),
                          dtype=np.float32)

    def backward(l: np.ndarray, p: np.ndarray, w: np.ndarray, upstream: np.ndarray,
                 ) -> list[np.ndarray]:
        # One Go pass: the distances it writes beside the gradients give
        # the weights' gradient.
        _, grads = COSINE_DISTANCE.value_and_grad_with_weights(l, p, axis, w, reduction, upstream)
        return [g.astype(np.float32, copy=False) for g in grads]

    return numpy_op(forward, backward, [labels, predictions, weights], tf.float32, value_shape,
                    "cosine_distance")
