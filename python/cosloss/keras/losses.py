"""tf.keras.losses' cosine similarity, as in TensorFlow ≥ 2.0 and tf-keras.

The loss is -cos, so minimizing it pulls vectors together. TensorFlow 1.14
and 1.15 returned +cos instead; cosloss.tf115.keras.losses reproduces that.

Example:
    >>> cosloss.keras.losses.cosine_similarity([[1., 2.]], [[2., 1.]])
    array([-0.8], dtype=float32)
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from cosloss._losses.base import face
from cosloss._losses.flavours import TF2
from cosloss._losses.keras import LossBase, Reduction, cosine_for

__all__ = ["cosine_similarity", "cosine_proximity", "cosine", "CosineSimilarity", "Reduction"]

_LOSS = cosine_for(TF2)


@face(_LOSS)
def cosine_similarity(y_true: ArrayLike, y_pred: ArrayLike,
                      axis: int | list[int] | tuple[int, ...] = -1, *,
                      eps_mode: str | None = None, zero: str = "finite",
                      clamp: bool = False) -> np.ndarray:
    """Computes the negative cosine similarity between labels and predictions.

        loss = -sum(l2_normalize(y_true, axis) * l2_normalize(y_pred, axis), axis)

    where `l2_normalize(v) = v * rsqrt(max(sum(v ** 2), 1e-12))` is
    `tf.nn.l2_normalize`. The inputs need not be normalized. The result
    lies in [-1, 1]: -1 when the vectors point the same way, 1 when they
    point opposite ways, and 0 (as -0.0) when they are orthogonal or either
    is a zero vector. `cosine_proximity` and `cosine` are aliases.

    Args:
        y_true: A float16, float32 or float64 array (Python float lists
            become float32, as in TensorFlow).
        y_pred: An array of y_true's dtype whose shape broadcasts with
            y_true's.
        axis: The dimension along which the cosine similarity is
            computed: an int, or a list or tuple of ints (TensorFlow's
            reduce_sum takes one; both inputs must then span each listed
            axis, cosloss does not broadcast along them).
        eps_mode: Whose epsilon rule keeps the norms away from zero: None
            (this function's own, TensorFlow's, "tf"), "tf" (Σx² ≥ 1e-12), "keras3"
            (‖x‖ ≥ 1e-7), "torch" (each ‖x‖ ≥ 1e-8, PyTorch ≥ 2.0) or
            "optax" (no floor: optax's default epsilon=0).
        zero: What a slice with a zero vector gives: "finite" (the rule's
            own value, or the form of cos = 0 with zero gradients where the
            rule gives 0/0), "nan" (NaN value and gradients) or "raise"
            (ValueError naming the input and the first zero vector's index).
        clamp: True clips the cosine to [-1, 1] (rounding can put it an ulp
            outside), the gradient passing through unchanged.

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
        >>> cosloss.keras.losses.cosine_similarity(y_true, y_pred, axis=1)
        array([-0., -1.,  1.], dtype=float32)
        >>> x = np.ones((2, 3, 4), np.float32)
        >>> cosloss.keras.losses.cosine_similarity(x, x, axis=[1, 2])  # over 3 x 4 slices
        array([-1., -1.], dtype=float32)
    """
    return _LOSS.value(y_true, y_pred, axis, eps_mode=eps_mode, zero=zero, clamp=clamp)


cosine_proximity = cosine_similarity
cosine = cosine_similarity


class CosineSimilarity(LossBase):
    """Computes the cosine similarity loss of a batch, as tf-keras's `CosineSimilarity`.

        losses = -sum(l2_normalize(y_true, axis) * l2_normalize(y_pred, axis), axis)
        loss = reduce(losses * sample_weight)

    `reduce` is chosen by `reduction`: "sum_over_batch_size" (also the
    default "auto") divides the weighted sum by the number of per-sample
    losses, "sum" does not divide, and "none" returns the weighted losses.
    As in current tf-keras, arithmetic stays in the inputs' dtype;
    `sample_weight` gains or loses a trailing axis of 1 to match the
    per-sample losses, then broadcasts as numpy does; and when y_true and
    y_pred ranks differ by one and the larger has a last axis of 1, that
    axis is dropped first. Call the object as `loss(y_true, y_pred,
    sample_weight=None)`.

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
        >>> loss = cosloss.keras.losses.CosineSimilarity(axis=1)
        >>> loss
        cosloss.keras.losses.CosineSimilarity(axis=1, reduction='auto', name='cosine_similarity')
        >>> y_true, y_pred = [[0., 1.], [1., 1.]], [[1., 0.], [1., 1.]]
        >>> loss(y_true, y_pred)  # mean of [-0., -1.]
        np.float32(-0.5)
        >>> loss(y_true, y_pred, sample_weight=[0.8, 0.2])  # (0.8 * -0. + 0.2 * -1.) / 2
        np.float32(-0.1)
        >>> cosloss.keras.losses.CosineSimilarity(axis=1, reduction="none")(y_true, y_pred)
        array([-0., -1.], dtype=float32)
    """

    _flavour = TF2
