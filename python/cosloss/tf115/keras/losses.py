"""tf.keras.losses' cosine similarity as TensorFlow 1.14 and 1.15 shipped it: +cos.

Minimizing this loss pushes vectors apart; TF 2.0 restored −cos (see
cosloss.keras.losses). Use this module to reproduce a TF 1.15 run exactly.
"""

from cosloss import _core
from cosloss import _keras
from cosloss._keras import LossBase, Reduction

__all__ = ["cosine_similarity", "cosine_proximity", "cosine", "CosineSimilarity", "Reduction"]


def cosine_similarity(y_true, y_pred, axis=-1):
    """TF 1.15's Keras cosine "loss": +Σ l2n(y_true)·l2n(y_pred) along axis.

    Positive: 1 when the vectors agree. Otherwise as
    cosloss.keras.losses.cosine_similarity (same checks, no dtype cast).

    Example:
        >>> cosloss.tf115.keras.losses.cosine_similarity([[0., 1.], [1., 1.]], [[1., 0.], [1., 1.]])
        array([0., 1.], dtype=float32)
    """
    return _keras.cosine(y_true, y_pred, axis, _core.COS)


cosine_proximity = cosine_similarity
cosine = cosine_similarity


class CosineSimilarity(LossBase):
    """TF 1.15's Keras loss object for +cos.

    loss = reduce(cos · sample_weight) with AUTO = SUM_OVER_BATCH_SIZE (the
    weighted sum over the number of per-sample losses). As released in 1.15:
    losses and weights are cast to float32, sample_weight gains or loses a
    trailing axis of 1 and must then be a scalar or have the losses' rank
    with each dimension 1 or equal, and the result is cast back to the
    losses' dtype (float64 inputs give float32 precision). y_true and y_pred
    are not squeezed.

    Example:
        >>> loss = cosloss.tf115.keras.losses.CosineSimilarity(axis=1)
        >>> loss([[0., 1.], [1., 1.]], [[1., 0.], [1., 1.]])
        np.float32(0.5)
    """

    _form = _core.COS
    _legacy_reduction = True
    _squeeze_inputs = False
