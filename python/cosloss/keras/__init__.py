"""Keras's cosine loss and metric (tf.keras, TensorFlow ≥ 2.0 semantics)."""

from cosloss.keras import losses, metrics

__all__ = ["losses", "metrics"]
