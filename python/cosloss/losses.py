"""TF1's tf.compat.v1.losses: cosine_distance, compute_weighted_loss, Reduction.

These are the same in TensorFlow 1.15 and in tf.compat.v1 of TF 2.x.

Example:
    >>> cosloss.losses.cosine_distance([[0., 1.]], [[0., 1.]], axis=1)
    np.float32(0.0)
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from cosloss._losses.base import face
from cosloss._losses.tf1 import COSINE_DISTANCE, WEIGHTED_LOSS, Reduction

__all__ = ["Reduction", "compute_weighted_loss", "cosine_distance"]


@face(WEIGHTED_LOSS)
def compute_weighted_loss(losses: ArrayLike, weights: ArrayLike = 1.0, scope: str | None = None,
                          loss_collection: str | None = "losses",
                          reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS,
                          ) -> np.ndarray | np.generic:
    """Weights and reduces an array of losses, as TF1's `compute_weighted_loss`.

    In float32:

        weighted = losses * weights
        NONE:                   weighted
        SUM:                    sum(weighted)
        MEAN:                   sum(weighted) / sum(broadcast weights)
        SUM_OVER_BATCH_SIZE:    sum(weighted) / size(losses)
        SUM_BY_NONZERO_WEIGHTS: sum(weighted) / count_nonzero(broadcast weights)

    A zero denominator gives 0 (`div_no_nan`), and the result is cast back
    to the dtype of `losses`.

    Args:
        losses: An array of losses of any shape and real dtype.
        weights: A scalar, or an array of the rank of `losses` whose every
            dimension is 1 or equal to the losses' (TF's strict rule: no
            rank promotion).
        scope: Ignored (TensorFlow's name scope); a str, bytes or None.
        loss_collection: Ignored (no graph collections outside TensorFlow).
        reduction: A `Reduction` key.

    Returns:
        A numpy scalar of the losses' dtype, or for `Reduction.NONE` an
        array of their shape and dtype.

    Raises:
        ValueError: An invalid `reduction`, `weights` that do not broadcast
            to `losses`, None inputs, or Python lists TensorFlow cannot
            convert (ragged, mixed types, ints beyond int64).
        TypeError: Non-numeric or complex `losses` or `weights`, a numpy
            masked array (pass `.filled(...)` and weight masked losses 0),
            or a `scope` that is not a str, bytes or None.

    Example:
        >>> losses = [[0.], [1.], [0.04]]
        >>> cosloss.losses.compute_weighted_loss(losses, [[1.], [0.], [2.]])  # 0.08 / 2
        np.float32(0.04)
        >>> cosloss.losses.compute_weighted_loss(losses, [[1.], [0.], [2.]],
        ...                                      reduction=cosloss.losses.Reduction.MEAN)
        np.float32(0.026666665)
    """
    return WEIGHTED_LOSS.value(losses, weights, scope, loss_collection, reduction)


@face(COSINE_DISTANCE)
def cosine_distance(labels: ArrayLike, predictions: ArrayLike,
                    axis: int | list[int] | tuple[int, ...] | None = None,
                    weights: ArrayLike = 1.0, scope: str | None = None,
                    loss_collection: str | None = "losses",
                    reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS,
                    dim: int | list[int] | tuple[int, ...] | None = None,
                    ) -> np.ndarray | np.float32:
    """TF1's cosine distance of unit vectors, weighted and reduced.

        losses = 1 - sum(labels * predictions, axis, keepdims=True)
        return compute_weighted_loss(losses, weights, reduction=reduction)

    It does not normalize: the inputs are assumed to be unit vectors, and
    raw vectors give any real number ([[2, 0]] and [[3, 0]] give -5). Both
    inputs are cast to float32 and the result is float32. The reduced axis
    (each of a list of axes) is kept, so [N, D] inputs give [N, 1] losses,
    and `weights` must broadcast to [N, 1] by TF's strict rule (scalar,
    [N, 1] or [1, 1]).

    Args:
        labels: An array of any real dtype.
        predictions: An array of the shape of `labels` (no broadcasting).
        axis: The dimension of the dot product (required): an int, or a
            list or tuple of ints, as TF 2.21's eager op takes them;
            every listed axis is kept with size 1.
        weights: As in `compute_weighted_loss`, against the [N, 1] losses.
        scope: Ignored (TensorFlow's name scope); a str, bytes or None.
        loss_collection: Ignored (no graph collections outside TensorFlow).
        reduction: A `Reduction` key.
        dim: Deprecated alias of `axis`.

    Returns:
        A float32 numpy scalar, or for `Reduction.NONE` a float32 array of
        the inputs' shape with `axis` of size 1.

    Raises:
        ValueError: No axis ("You must specify 'axis'."), both `axis` and
            `dim`, None inputs, shapes that differ, `weights` that do not
            broadcast, an invalid `reduction`, an axis out of range or
            repeated, or Python lists TensorFlow cannot convert (ragged,
            mixed types, ints beyond int64).
        TypeError: Non-numeric or complex inputs, a numpy masked array
            (pass `.filled(...)` and weight masked samples 0), an axis
            that is not an int or a list of ints, or a `scope` that is not
            a str, bytes or None.

    Example:
        >>> cosloss.losses.cosine_distance([[0.6, 0.8]], [[0.8, 0.6]], axis=1)
        np.float32(0.03999996)
        >>> cosloss.losses.cosine_distance(
        ...     [[1., 0.], [0., 1.], [0.6, 0.8]], [[1., 0.], [1., 0.], [0.8, 0.6]], axis=1,
        ...     weights=[[1.], [0.], [2.]], reduction=cosloss.losses.Reduction.NONE)
        array([[0.        ],
               [0.        ],
               [0.07999992]], dtype=float32)
        >>> cosloss.losses.cosine_distance([[2., 0.]], [[3., 0.]], axis=1)  # not normalized
        np.float32(-5.0)
        >>> x = np.full((2, 2, 2), 0.5, np.float32)  # two unit vectors over axes 1 and 2
        >>> cosloss.losses.cosine_distance(x, x, axis=[1, 2],
        ...                                reduction=cosloss.losses.Reduction.NONE)
        array([[[0.]],
        <BLANKLINE>
               [[0.]]], dtype=float32)
    """
    return COSINE_DISTANCE.value(labels, predictions, axis, weights, scope, loss_collection,
                                 reduction, dim)
