"""tf.losses in TensorFlow 1.15: the same functions as tf.compat.v1.losses."""

from cosloss.losses import Reduction, compute_weighted_loss, cosine_distance

__all__ = ["Reduction", "compute_weighted_loss", "cosine_distance"]
