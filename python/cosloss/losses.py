"""TF1's tf.compat.v1.losses: cosine_distance, compute_weighted_loss, Reduction.

These are the same in TensorFlow 1.15 and in tf.compat.v1 of TF 2.x.
"""

import numpy as np

from cosloss import _ops
from cosloss._arrays import convert, normalize_axis
from cosloss._weights import compute_weighted_loss_v1
from cosloss.nn import _lookup_axis

__all__ = ["Reduction", "compute_weighted_loss", "cosine_distance"]


class Reduction:
    """TF1's loss reductions (tf.compat.v1.losses.Reduction).

    NONE keeps the weighted losses; SUM is Σw·l; MEAN divides by Σw;
    SUM_OVER_BATCH_SIZE by the number of losses; SUM_BY_NONZERO_WEIGHTS (the
    default, alias SUM_OVER_NONZERO_WEIGHTS) by the number of losses whose
    broadcast weight is not 0. A zero denominator gives 0 (div_no_nan).

    Example:
        >>> cosloss.losses.Reduction.validate(cosloss.losses.Reduction.MEAN)
        >>> cosloss.losses.compute_weighted_loss([1., 3.], [1., 0.], reduction="weighted_sum")
        np.float32(1.0)
    """

    NONE = "none"
    SUM = "weighted_sum"
    SUM_OVER_BATCH_SIZE = "weighted_sum_over_batch_size"
    MEAN = "weighted_mean"
    SUM_BY_NONZERO_WEIGHTS = "weighted_sum_by_nonzero_weights"
    SUM_OVER_NONZERO_WEIGHTS = SUM_BY_NONZERO_WEIGHTS

    @classmethod
    def all(cls):
        return (cls.NONE, cls.SUM, cls.MEAN, cls.SUM_OVER_BATCH_SIZE,
                cls.SUM_OVER_NONZERO_WEIGHTS, cls.SUM_BY_NONZERO_WEIGHTS)

    @classmethod
    def validate(cls, key):
        if key not in cls.all():
            raise ValueError(f"Invalid Reduction Key {key}. (argument 'reduction'; "
                             f"expected one of {sorted(set(cls.all()))})")


def compute_weighted_loss(losses, weights=1.0, scope=None, loss_collection="losses",
                          reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """TF1's weighted reduction of an array of losses.

    weighted = losses · weights in float32; then NONE returns it, SUM its
    sum, MEAN sum / Σ broadcast weights, SUM_OVER_BATCH_SIZE sum / size,
    SUM_BY_NONZERO_WEIGHTS sum / count(broadcast weights ≠ 0); a zero
    denominator gives 0. The result is cast back to losses' dtype.

    weights must be a scalar or have losses' rank with each dimension 1 or
    equal (TF's strict rule: no rank promotion). scope and loss_collection
    are accepted for signature compatibility and ignored (no graph here).

    Raises:
        ValueError: an invalid reduction, weights that do not broadcast.

    Example:
        >>> cosloss.losses.compute_weighted_loss([[0.], [1.], [0.04]], [[1.], [0.], [2.]])
        np.float32(0.04)
    """
    Reduction.validate(reduction)
    return compute_weighted_loss_v1(losses, weights, reduction)


def _check_cosine_distance_args(labels, predictions, axis, dim, reduction):
    """TF's argument checks for cosine_distance, in its order; returns the axis."""
    axis = _lookup_axis(axis, dim)
    if axis is None:
        raise ValueError("You must specify 'axis'.")
    if labels is None:
        raise ValueError("labels must not be None.")
    if predictions is None:
        raise ValueError("predictions must not be None.")
    Reduction.validate(reduction)
    return axis


def cosine_distance(labels, predictions, axis=None, weights=1.0, scope=None,
                    loss_collection="losses",
                    reduction=Reduction.SUM_BY_NONZERO_WEIGHTS, dim=None):
    """TF1's cosine distance: 1 − Σ labels·predictions along axis, weighted and reduced.

    It does not normalize: the inputs are assumed to be unit vectors, and
    raw vectors give any real number ([[2, 0]] and [[3, 0]] give −5). Both
    inputs are cast to float32 and the result is float32. The reduced axis
    is kept, so [N, D] inputs give [N, 1] losses before the reduction (see
    compute_weighted_loss; weights must broadcast to [N, 1]).

    Args:
        labels, predictions: arrays of the same shape (no broadcasting).
        axis: the int axis of the dot product (required). dim: its old name.
        weights, reduction: as compute_weighted_loss. scope, loss_collection: ignored.

    Raises:
        ValueError: no axis, both axis and dim, None inputs, shape mismatch,
            weights that do not broadcast, an invalid reduction.

    Example:
        >>> cosloss.losses.cosine_distance([[0.6, 0.8]], [[0.8, 0.6]], axis=1)
        np.float32(0.03999996)
    """
    labels, predictions, axis = _prepare_cosine_distance(labels, predictions, axis, dim, reduction)
    losses = _ops.cosine_distance(labels.astype(np.float32, copy=False),
                                  predictions.astype(np.float32, copy=False), axis)
    return compute_weighted_loss_v1(losses, weights, reduction)


def _prepare_cosine_distance(labels, predictions, axis, dim, reduction):
    """(labels, predictions, axis) as arrays of one shape and a valid axis, after TF's checks.

    The arrays keep their dtypes (callers cast to float32, as TF does).
    """
    axis = _check_cosine_distance_args(labels, predictions, axis, dim, reduction)
    labels = convert(labels, "labels")
    predictions = convert(predictions, "predictions")
    if labels.shape != predictions.shape:
        raise ValueError(f"Shapes {predictions.shape} and {labels.shape} are incompatible "
                         f"(predictions has shape {predictions.shape}, labels {labels.shape}; "
                         f"cosine_distance does not broadcast)")
    return labels, predictions, normalize_axis(axis, labels.ndim)
