"""tf.compat.v1.losses.cosine_distance as a TensorFlow op computed by cosloss."""

import tensorflow as tf

import cosloss
from cosloss.losses import Reduction, _check_cosine_distance_args
from cosloss.tf._op import numpy_op

__all__ = ["cosine_distance", "Reduction"]


def cosine_distance(labels, predictions, axis=None, weights=1.0, scope=None,
                    loss_collection=tf.compat.v1.GraphKeys.LOSSES,
                    reduction=Reduction.SUM_BY_NONZERO_WEIGHTS, dim=None):
    """TF1's cosine_distance (1 − Σ labels·predictions, weighted and reduced) in Go.

    Like TensorFlow it casts both inputs to float32, returns float32, and in
    graph mode adds the loss to loss_collection, so
    tf.compat.v1.losses.get_total_loss() includes it. Gradients reach
    labels and predictions; weights get none.

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
        loss = numpy_op(cosloss.losses.cosine_distance, [labels, predictions], tf.float32,
                        value_shape, "cosine_distance", tensor_kwargs={"weights": weights},
                        axis=axis, reduction=reduction)
    if loss_collection and not tf.executing_eagerly():
        tf.compat.v1.add_to_collection(loss_collection, loss)
    return loss
