"""tf.keras.metrics in TensorFlow 1.15.

The metric object is +cos in every version (the same class as
cosloss.keras.metrics); TF 1.15 also exported its +cos loss function under
the metric names cosine_proximity and cosine.

Example:
    >>> cosloss.tf115.keras.metrics.cosine([[1., 2.]], [[2., 1.]])
    array([0.8], dtype=float32)
"""

from cosloss.keras.metrics import CosineSimilarity
from cosloss.tf115.keras.losses import cosine, cosine_proximity

__all__ = ["CosineSimilarity", "cosine_proximity", "cosine"]
