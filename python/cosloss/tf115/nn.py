"""tf.nn in TensorFlow 1.15: l2_normalize is the same as in TF 2.x.

Example:
    >>> cosloss.tf115.nn.l2_normalize([3., 4.])
    array([0.6, 0.8], dtype=float32)
"""

from cosloss.nn import l2_normalize

__all__ = ["l2_normalize"]
