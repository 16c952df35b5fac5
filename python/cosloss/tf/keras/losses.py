"""tf.keras.losses.cosine_similarity and CosineSimilarity, computed by cosloss."""

import tensorflow as tf

import cosloss
from cosloss.tf.seed import cosine_op

__all__ = ["cosine_similarity", "cosine_proximity", "cosine", "CosineSimilarity"]


def cosine_similarity(y_true, y_pred, axis=-1):
    """−Σ l2_normalize(y_true)·l2_normalize(y_pred) along axis, in Go.

    Example:
        >>> cosloss.tf.keras.losses.cosine_similarity(tf.constant([[1., 2.]]), tf.constant([[2., 1.]])).numpy()
        array([-0.8], dtype=float32)
    """
    return cosine_op(cosloss.keras.losses.cosine_similarity, y_true, y_pred, axis,
                     "cosine_similarity")


cosine_proximity = cosine_similarity
cosine = cosine_similarity


def _keras3() -> bool:
    return not hasattr(tf.keras.losses, "Reduction")


class CosineSimilarity(tf.keras.losses.Loss):
    """A Keras Loss whose per-sample −cos (and its gradient) comes from cosloss.

    Keras applies sample weights and the reduction itself, so the value is
    tf.keras.losses.CosineSimilarity's; use it in model.compile(loss=...).

    Example:
        >>> loss = cosloss.tf.keras.losses.CosineSimilarity(axis=1)
        >>> float(loss(tf.constant([[0., 1.], [1., 1.]]), tf.constant([[1., 0.], [1., 1.]])))
        -0.5
    """

    def __init__(self, axis=-1, reduction="auto", name="cosine_similarity"):
        if _keras3() and reduction == "auto":
            reduction = "sum_over_batch_size"  # Keras 3 has no "auto"
        super().__init__(reduction=reduction, name=name)
        self.axis = axis

    def call(self, y_true, y_pred):
        return cosine_similarity(y_true, y_pred, axis=self.axis)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config
