"""tf.keras.losses' cosine similarity, as in TensorFlow ≥ 2.0 and tf-keras.

The loss is −cos, so minimizing it pulls vectors together. TensorFlow 1.14
and 1.15 returned +cos instead; cosloss.tf115.keras.losses reproduces that.
"""

from cosloss import _core
from cosloss import _keras
from cosloss._keras import LossBase, Reduction

__all__ = ["cosine_similarity", "cosine_proximity", "cosine", "CosineSimilarity", "Reduction"]


def cosine_similarity(y_true, y_pred, axis=-1):
    """Negative cosine similarity along axis: −Σ l2n(y_true)·l2n(y_pred).

    l2n(v) = v · rsqrt(max(Σv², 1e-12)) is tf.nn.l2_normalize, so a zero
    vector gives 0 (as −0.0), not NaN. The result lies in [−1, 1]; −1 means
    the vectors point the same way.

    Args:
        y_true, y_pred: float16/float32/float64 arrays of one dtype, shapes
            that broadcast. Python float lists become float32, as in TF.
        axis: the axis the similarity is computed along (an int).

    Returns:
        The broadcast shape without axis, in the inputs' dtype.

    Raises:
        TypeError: integer, complex or mixed dtypes (TF does not cast).
        ValueError: None inputs, shapes that do not broadcast, axis out of range.

    Example:
        >>> cosloss.keras.losses.cosine_similarity([[0., 1.], [1., 1.]], [[1., 0.], [1., 1.]])
        array([-0., -1.], dtype=float32)
    """
    return _keras.cosine(y_true, y_pred, axis, _core.NEG_COS)


cosine_proximity = cosine_similarity
cosine = cosine_similarity


class CosineSimilarity(LossBase):
    """Keras loss object for −cos, reduced over the batch (tf-keras 2.x).

    loss = reduce(−cos(y_true, y_pred) · sample_weight), where reduce is
    'sum_over_batch_size' (the default 'auto': the weighted sum divided by
    the number of per-sample losses), 'sum' or 'none'. sample_weight gains
    or loses a trailing axis of 1 to match the per-sample losses, then
    broadcasts as numpy does; arithmetic stays in the inputs' dtype. If
    y_true and y_pred ranks differ by one and the larger has a last axis of
    1, that axis is dropped first.

    Args:
        axis: the axis of the similarity. reduction: a Reduction value.
        name: kept for get_config().

    Raises:
        ValueError: an unknown reduction ("Invalid Reduction Key ...").

    Example:
        >>> loss = cosloss.keras.losses.CosineSimilarity(axis=1)
        >>> loss([[0., 1.], [1., 1.]], [[1., 0.], [1., 1.]])
        np.float32(-0.5)
    """

    _form = _core.NEG_COS
    _legacy_reduction = False
    _squeeze_inputs = True
