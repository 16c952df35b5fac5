"""Keras's cosine loss and metric (tf.keras, TensorFlow ≥ 2.0 semantics).

Example:
    >>> cosloss.keras.metrics.CosineSimilarity()([[1., 2.]], [[2., 1.]])
    np.float32(0.8)
"""

from cosloss.keras import losses, metrics

__all__ = ["losses", "metrics"]
