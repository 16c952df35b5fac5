"""Keras's cosine loss as TensorFlow ops computed by cosloss (TF >= 2.0 sign)."""

from cosloss.tf.keras import losses

__all__ = ["losses"]
