"""TensorFlow 1.15 as released, for reproducing TF1 training scripts.

Same structure as cosloss: nn, losses, keras.losses, keras.metrics. The
difference is Keras's cosine loss: TF 1.14 and 1.15 return +cos from
tf.keras.losses.cosine_similarity (and cosine_proximity, cosine) and from
CosineSimilarity, so minimizing it pushes vectors apart; their loss objects
also reduce in float32 and broadcast sample weights by TF's strict rule.

Example:
    >>> cosloss.tf115.keras.losses.cosine_similarity([[1., 2.]], [[2., 1.]])  # +cos
    array([0.8], dtype=float32)
    >>> cosloss.keras.losses.cosine_similarity([[1., 2.]], [[2., 1.]])  # TF >= 2.0: -cos
    array([-0.8], dtype=float32)
"""

from cosloss.tf115 import keras, losses, nn
from cosloss._grad import value_and_grad

__all__ = ["nn", "losses", "keras", "value_and_grad"]
