"""TF1's tf.compat.v1.losses: cosine_distance, compute_weighted_loss, Reduction.

These are the same in TensorFlow 1.15 and in tf.compat.v1 of TF 2.x.

Example:
    >>> cosloss.losses.cosine_distance([[0., 1.]], [[0., 1.]], axis=1)
    np.float32(0.0)
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
from numpy.typing import ArrayLike

from cosloss import _ops
from cosloss._arrays import convert, describe, normalize_axis, str_or_none
from cosloss._weights import compute_weighted_loss_v1
from cosloss.nn import _lookup_axis

__all__ = ["Reduction", "compute_weighted_loss", "cosine_distance"]


class Reduction:
    """TF1's loss reductions (`tf.compat.v1.losses.Reduction`).

    With `weighted = losses * weights` (weights broadcast to the losses):

    * `NONE` ("none"): `weighted` itself.
    * `SUM` ("weighted_sum"): `sum(weighted)`.
    * `MEAN` ("weighted_mean"): `sum(weighted) / sum(weights)`.
    * `SUM_OVER_BATCH_SIZE` ("weighted_sum_over_batch_size"):
      `sum(weighted) / size(losses)`.
    * `SUM_BY_NONZERO_WEIGHTS` ("weighted_sum_by_nonzero_weights", the
      default, alias `SUM_OVER_NONZERO_WEIGHTS`):
      `sum(weighted) / count_nonzero(weights)`.

    A zero denominator gives 0 (`div_no_nan`). The Keras keys "sum",
    "auto" and "sum_over_batch_size" are not valid here.

    Example:
        >>> cosloss.losses.Reduction.SUM
        'weighted_sum'
        >>> cosloss.losses.compute_weighted_loss(
        ...     [1., 3.], [1., 0.], reduction=cosloss.losses.Reduction.SUM)
        np.float32(1.0)
    """

    NONE = "none"
    SUM = "weighted_sum"
    SUM_OVER_BATCH_SIZE = "weighted_sum_over_batch_size"
    MEAN = "weighted_mean"
    SUM_BY_NONZERO_WEIGHTS = "weighted_sum_by_nonzero_weights"
    SUM_OVER_NONZERO_WEIGHTS = SUM_BY_NONZERO_WEIGHTS

    @classmethod
    def all(cls) -> tuple[str, ...]:
        """Every reduction key, as TensorFlow lists them.

        Returns:
            A tuple of 6 strings; the alias SUM_OVER_NONZERO_WEIGHTS repeats
            SUM_BY_NONZERO_WEIGHTS, as in TensorFlow.

        Example:
            >>> cosloss.losses.Reduction.all()
            ('none', 'weighted_sum', 'weighted_mean', 'weighted_sum_over_batch_size',
             'weighted_sum_by_nonzero_weights', 'weighted_sum_by_nonzero_weights')
        """
        return (cls.NONE, cls.SUM, cls.MEAN, cls.SUM_OVER_BATCH_SIZE,
                cls.SUM_OVER_NONZERO_WEIGHTS, cls.SUM_BY_NONZERO_WEIGHTS)

    @classmethod
    def validate(cls, key: str) -> None:
        """Checks that `key` is one of `all()`.

        Args:
            key: A reduction key.

        Raises:
            ValueError: `key` is not a TF1 reduction ("Invalid Reduction Key ..."),
                a str or not.

        Example:
            >>> cosloss.losses.Reduction.validate("weighted_sum")
            >>> cosloss.losses.Reduction.validate("sum")
            Traceback (most recent call last):
            ...
            ValueError: Invalid Reduction Key sum. (argument 'reduction'; expected one of [...])
        """
        # A str test first: an array key would make `in` raise numpy's
        # truth-value error instead of naming the argument.
        if not isinstance(key, str):
            raise ValueError(f"Invalid Reduction Key {key!r}. (argument 'reduction' must be "
                             f"one of the strs {sorted(set(cls.all()))}, got {describe(key)})")
        if key not in cls.all():
            raise ValueError(f"Invalid Reduction Key {key}. (argument 'reduction'; "
                             f"expected one of {sorted(set(cls.all()))})")


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
    _check_scope(scope)
    Reduction.validate(reduction)
    return compute_weighted_loss_v1(losses, weights, reduction)


def _check_cosine_distance_args(labels: Any, predictions: Any, axis: int | None,
                                dim: int | None, reduction: str) -> int:
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


def cosine_distance(labels: ArrayLike, predictions: ArrayLike, axis: int | None = None,
                    weights: ArrayLike = 1.0, scope: str | None = None,
                    loss_collection: str | None = "losses",
                    reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS,
                    dim: int | None = None) -> np.ndarray | np.float32:
    """TF1's cosine distance of unit vectors, weighted and reduced.

        losses = 1 - sum(labels * predictions, axis, keepdims=True)
        return compute_weighted_loss(losses, weights, reduction=reduction)

    It does not normalize: the inputs are assumed to be unit vectors, and
    raw vectors give any real number ([[2, 0]] and [[3, 0]] give -5). Both
    inputs are cast to float32 and the result is float32. The reduced axis
    is kept, so [N, D] inputs give [N, 1] losses, and `weights` must
    broadcast to [N, 1] by TF's strict rule (scalar, [N, 1] or [1, 1]).

    Args:
        labels: An array of any real dtype.
        predictions: An array of the shape of `labels` (no broadcasting).
        axis: The int dimension of the dot product (required).
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
            broadcast, an invalid `reduction`, an axis out of range, or
            Python lists TensorFlow cannot convert (ragged, mixed types,
            ints beyond int64).
        TypeError: Non-numeric or complex inputs, a numpy masked array
            (pass `.filled(...)` and weight masked samples 0), a non-int
            axis, or a `scope` that is not a str, bytes or None.

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
    """
    labels, predictions, axis = _prepare_cosine_distance(labels, predictions, axis, dim, reduction,
                                                         scope)
    losses = _ops.cosine_distance(labels.astype(np.float32, copy=False),
                                  predictions.astype(np.float32, copy=False), axis)
    # The result has the float32 losses' dtype.
    return cast("np.ndarray | np.float32", compute_weighted_loss_v1(losses, weights, reduction))


def _check_scope(scope: Any) -> None:
    # scope is unused, but TensorFlow's graph mode (TF 1.15's default) takes
    # only a str (or bytes) as a name scope.
    str_or_none(scope, "scope", allow_bytes=True)


def _prepare_cosine_distance(labels: ArrayLike, predictions: ArrayLike, axis: int | None,
                             dim: int | None, reduction: str, scope: Any = None,
                             ) -> tuple[np.ndarray, np.ndarray, int]:
    """(labels, predictions, axis) as arrays of one shape and a valid axis, after TF's checks.

    The arrays keep their dtypes (callers cast to float32, as TF does).
    """
    axis_name = "axis" if dim is None else "dim"  # errors name what the caller passed
    axis = _check_cosine_distance_args(labels, predictions, axis, dim, reduction)
    _check_scope(scope)
    labels = convert(labels, "labels")
    predictions = convert(predictions, "predictions")
    if labels.shape != predictions.shape:
        raise ValueError(f"Shapes {predictions.shape} and {labels.shape} are incompatible "
                         f"(predictions has shape {predictions.shape}, labels {labels.shape}; "
                         f"cosine_distance does not broadcast)")
    return labels, predictions, normalize_axis(axis, labels.ndim, axis_name)
