"""tf.losses in TensorFlow 1.15: the same functions as tf.compat.v1.losses.

Example:
    >>> cosloss.tf115.losses.cosine_distance([[0.6, 0.8]], [[0.8, 0.6]], axis=1)
    np.float32(0.03999996)
"""

from cosloss.losses import Reduction, compute_weighted_loss, cosine_distance

__all__ = ["Reduction", "compute_weighted_loss", "cosine_distance"]
