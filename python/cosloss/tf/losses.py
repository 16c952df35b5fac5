"""tf.compat.v1.losses.cosine_distance as a TensorFlow op computed by cosloss."""

import numpy as np
import tensorflow as tf

import cosloss
from cosloss.losses import Reduction, _check_cosine_distance_args
from cosloss._weights import compute_weighted_loss_v1_weights_grad
from cosloss.tf._op import numpy_op

__all__ = ["cosine_distance", "Reduction"]


def cosine_distance(labels, predictions, axis=None, weights=1.0, scope=None,
                    loss_collection=tf.compat.v1.GraphKeys.LOSSES,
                    reduction=Reduction.SUM_BY_NONZERO_WEIGHTS, dim=None):
    """TF1's cosine_distance (1 − Σ labels·predictions, weighted and reduced) in Go.

    Like TensorFlow it casts both inputs to float32, returns float32, and in
    graph mode adds the loss to loss_collection, so
    tf.compat.v1.losses.get_total_loss() includes it. Gradients reach
    labels, predictions and weights, as TensorFlow's do.

    Example:
        >>> cosloss.tf.losses.cosine_distance(tf.constant([[0.6, 0.8]]), tf.constant([[0.8, 0.6]]), axis=1).numpy()
        np.float32(0.03999996)
    """
    axis = _check_cosine_distance_args(labels, predictions, axis, dim, reduction)
    with tf.name_scope(scope or "cosine_distance_loss"):
        labels = tf.cast(labels, tf.float32)
        predictions = tf.cast(predictions, tf.float32)
        predictions.shape.assert_is_compatible_with(labels.shape)
        weights = tf.cast(weights, tf.float32)
        loss_shape = labels.shape if labels.shape.rank is not None else tf.TensorShape(None)
        if reduction == Reduction.NONE and loss_shape.rank is not None:
            dims = list(loss_shape)
            dims[axis % len(dims)] = 1
            value_shape = tf.TensorShape(dims)
        else:
            value_shape = tf.TensorShape(None if reduction == Reduction.NONE else [])
        loss = _cosine_distance_op(labels, predictions, weights, axis, reduction, value_shape)
    if loss_collection and not tf.executing_eagerly():
        tf.compat.v1.add_to_collection(loss_collection, loss)
    return loss


def _cosine_distance_op(labels, predictions, weights, axis, reduction, value_shape):
    """The op; its backward also gives weights TensorFlow's gradient."""

    def forward(l, p, w):
        return np.asarray(cosloss.losses.cosine_distance(l, p, axis=axis, weights=w, reduction=reduction),
                          dtype=np.float32)

    def backward(l, p, w, upstream):
        _, (d_labels, d_pred) = cosloss.value_and_grad(
            cosloss.losses.cosine_distance, l, p, axis=axis, weights=w, reduction=reduction,
            upstream=upstream)
        distances = cosloss.losses.cosine_distance(l, p, axis=axis, reduction=Reduction.NONE)
        d_weights = compute_weighted_loss_v1_weights_grad(distances, w, reduction, upstream)
        return [d_labels, d_pred, d_weights.astype(np.float32)]

    return numpy_op(forward, backward, [labels, predictions, weights], tf.float32, value_shape,
                    "cosine_distance")
