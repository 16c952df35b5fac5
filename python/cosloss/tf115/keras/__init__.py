"""tf.keras in TensorFlow 1.15: a +cos cosine loss."""

from cosloss.tf115.keras import losses, metrics

__all__ = ["losses", "metrics"]
