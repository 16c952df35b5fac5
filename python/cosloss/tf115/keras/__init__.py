"""tf.keras in TensorFlow 1.15: a +cos cosine loss.

Example:
    >>> cosloss.tf115.keras.losses.CosineSimilarity()([[1., 2.]], [[2., 1.]])
    np.float32(0.8)
"""

from cosloss.tf115.keras import losses, metrics

__all__ = ["losses", "metrics"]
