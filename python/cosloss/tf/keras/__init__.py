"""Keras's cosine loss and metric as TensorFlow ops computed by cosloss (TF >= 2.0 sign).

Example:
    >>> cosloss.tf.keras.losses.cosine_similarity([[1., 2.]], [[2., 1.]]).numpy()
    array([-0.8], dtype=float32)
"""

from cosloss.tf.keras import losses, metrics

__all__ = ["losses", "metrics"]
