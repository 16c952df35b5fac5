"""tf.keras.losses' cosine similarity as TensorFlow 1.14 and 1.15 shipped it: +cos.

Minimizing this loss pushes vectors apart; TF 2.0 restored -cos (see
cosloss.keras.losses). Use this module to reproduce a TF 1.15 run exactly.

Example:
    >>> cosloss.tf115.keras.losses.cosine_similarity([[1., 2.]], [[2., 1.]])
    array([0.8], dtype=float32)
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from cosloss._losses.base import face
from cosloss._losses.flavours import TF115
from cosloss._losses.keras import LossBase, Reduction, cosine_for

__all__ = ["cosine_similarity", "cosine_proximity", "cosine", "CosineSimilarity", "Reduction"]

_LOSS = cosine_for(TF115)


@face(_LOSS)
def cosine_similarity(y_true: ArrayLike, y_pred: ArrayLike,
                      axis: int | list[int] | tuple[int, ...] = -1) -> np.ndarray:
    """Computes TF 1.15's cosine "loss": the cosine similarity itself, +cos.

        loss = sum(l2_normalize(y_true, axis) * l2_normalize(y_pred, axis), axis)

    TensorFlow 1.14 and 1.15 shipped this without the minus sign, so it is
    1 when the vectors point the same way and minimizing it pushes them
    apart. Otherwise it is `cosloss.keras.losses.cosine_similarity`: the
    same checks, no dtype cast, and 0 for a zero vector. `cosine_proximity`
    and `cosine` are aliases, also exported by `cosloss.tf115.keras.metrics`
    as TF 1.15 did.

    Args:
        y_true: A float16, float32 or float64 array (Python float lists
            become float32, as in TensorFlow).
        y_pred: An array of y_true's dtype whose shape broadcasts with
            y_true's.
        axis: The dimension along which the cosine similarity is
            computed: an int, or a list or tuple of ints (TensorFlow's
            reduce_sum takes one; both inputs must then span each listed
            axis, cosloss does not broadcast along them).

    Returns:
        An array of the broadcast shape without `axis` (without every
        listed axis), in the inputs' dtype.

    Raises:
        TypeError: Integer, bool, complex or mixed dtypes (TensorFlow does
            not cast them), a numpy masked array, or an axis that is not an
            int or a list of ints.
        ValueError: None inputs, Python lists TensorFlow cannot convert
            (ragged, mixed types, ints beyond int64), shapes that do not
            broadcast, an axis out of range or repeated, or an input
            broadcast along one of several listed axes.

    Example:
        >>> y_true = [[0., 1.], [1., 1.], [1., 1.]]
        >>> y_pred = [[1., 0.], [1., 1.], [-1., -1.]]
        >>> cosloss.tf115.keras.losses.cosine_similarity(y_true, y_pred, axis=1)
        array([ 0.,  1., -1.], dtype=float32)
    """
    return _LOSS.value(y_true, y_pred, axis)


cosine_proximity = cosine_similarity
cosine = cosine_similarity


class CosineSimilarity(LossBase):
    """Computes TF 1.15's cosine loss of a batch: +cos, reduced in float32.

        losses = sum(l2_normalize(y_true, axis) * l2_normalize(y_pred, axis), axis)
        loss = cast(reduce(float32(losses) * float32(sample_weight)), losses.dtype)

    `reduce` is chosen by `reduction`: "sum_over_batch_size" (also the
    default "auto") divides the weighted sum by the number of per-sample
    losses, "sum" does not divide, and "none" returns the weighted losses.
    As released in 1.15: the loss is +cos (minimizing it pushes vectors
    apart); losses and weights are cast to float32 and the result back to
    the losses' dtype, so float64 inputs give float32 precision;
    `sample_weight` gains or loses a trailing axis of 1 and must then be a
    scalar or have the losses' rank with each dimension 1 or equal; and
    y_true and y_pred are not squeezed. Call the object as
    `loss(y_true, y_pred, sample_weight=None)`.

    Args:
        axis: The dimension along which the cosine similarity is
            computed: an int, or a list or tuple of ints (TensorFlow's
            reduce_sum takes one; both inputs must then span each listed
            axis, cosloss does not broadcast along them).
        reduction: A `Reduction` key: "auto", "sum_over_batch_size", "sum"
            or "none".
        name: The loss's name, kept for `get_config()`.

    Raises:
        TypeError: `axis` is not an int (a Python or numpy int, or a 0-d
            int array) or a list or tuple of them, or `name` is not a str
            or None.
        ValueError: An invalid `reduction` ("Invalid Reduction Key ...").

    Example:
        >>> loss = cosloss.tf115.keras.losses.CosineSimilarity(axis=1)
        >>> loss
        cosloss.tf115.keras.losses.CosineSimilarity(axis=1, reduction='auto', name='cosine_similarity')
        >>> y_true, y_pred = [[0., 1.], [1., 1.]], [[1., 0.], [1., 1.]]
        >>> loss(y_true, y_pred)  # mean of [0., 1.]
        np.float32(0.5)
        >>> loss(y_true, y_pred, sample_weight=[0.8, 0.2])  # (0.8 * 0. + 0.2 * 1.) / 2
        np.float32(0.1)
        >>> loss(np.array([[1., 2., 3.]]), np.array([[1., 2., 3.0001]]))  # float32 round trip
        np.float64(1.0)
    """

    _flavour = TF115
