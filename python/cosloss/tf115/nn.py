"""tf.nn in TensorFlow 1.15: l2_normalize is the same as in TF 2.x."""

from cosloss.nn import l2_normalize

__all__ = ["l2_normalize"]
