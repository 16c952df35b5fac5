"""TF1's losses (tf.compat.v1.losses): Reduction, compute_weighted_loss, cosine_distance.

These are the same in TensorFlow 1.15 and in tf.compat.v1 of TF 2.x.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from cosloss._core import ops
from cosloss._core.arrays import (check_out, convert, deliver, describe, normalize_axes,
                                  reduced_shape, str_or_none)
from cosloss._losses.base import Loss, Result
from cosloss._losses.normalize import lookup_axis
from cosloss._losses.reductions import (compute_weighted_loss_v1, compute_weighted_loss_v1_grad,
                                        compute_weighted_loss_v1_weights_grad, v1_weights)


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


def check_cosine_distance_args(labels: Any, predictions: Any, axis: int | None,
                                dim: int | None, reduction: str) -> int:
    """TF's argument checks for cosine_distance, in its order; returns the axis."""
    axis = lookup_axis(axis, dim)
    if axis is None:
        raise ValueError("You must specify 'axis'.")
    if labels is None:
        raise ValueError("labels must not be None.")
    if predictions is None:
        raise ValueError("predictions must not be None.")
    Reduction.validate(reduction)
    return axis


def check_scope(scope: Any) -> None:
    # scope is unused, but TensorFlow's graph mode (TF 1.15's default) takes
    # only a str (or bytes) as a name scope.
    str_or_none(scope, "scope", allow_bytes=True)


def _grad_dtype(arr: np.ndarray) -> np.dtype:
    """A gradient's dtype: its input's if floating (TF casts ints to float32)."""
    return arr.dtype if arr.dtype.kind == "f" else np.dtype(np.float32)


class WeightedLoss(Loss):
    """TF1's compute_weighted_loss: losses · weights, reduced by a TF1 Reduction, in float32.

    Arguments in the face's order: losses, weights, scope, loss_collection,
    reduction. Weights broadcast by TF's strict rule; the gradient with
    respect to the losses is upstream · w / denominator (0 where the
    denominator is 0, DivNoNan's gradient).
    """

    def _prepare(self, losses: ArrayLike, weights: ArrayLike, scope: Any, reduction: str,
                 ) -> tuple[np.ndarray, np.ndarray]:
        check_scope(scope)
        Reduction.validate(reduction)
        losses = convert(losses, "losses")
        return losses, v1_weights(weights, losses.shape)

    def value(self, losses: ArrayLike, weights: ArrayLike = 1.0, scope: Any = None,
              loss_collection: Any = "losses", reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS,
              ) -> np.ndarray | np.generic:
        losses, weights32 = self._prepare(losses, weights, scope, reduction)
        return compute_weighted_loss_v1(losses, weights32, reduction)

    def value_and_grad(self, losses: ArrayLike, weights: ArrayLike = 1.0, scope: Any = None,
                       loss_collection: Any = "losses",
                       reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS, *,
                       upstream: ArrayLike | None = None, out: Any = None) -> Result:
        out = check_out(out, 1)
        losses, weights32 = self._prepare(losses, weights, scope, reduction)
        value = compute_weighted_loss_v1(losses, weights32, reduction)
        grad = compute_weighted_loss_v1_grad(losses.shape, weights32, reduction, upstream)
        return value, deliver((grad.astype(_grad_dtype(losses)),), out)


class CosineDistance(Loss):
    """TF1's cosine_distance: 1 − Σ labels·predictions along axis (kept), weighted and reduced.

    Arguments in the face's order: labels, predictions, axis, weights,
    scope, loss_collection, reduction, dim. Both inputs are cast to float32
    and not normalized; the distances go through WeightedLoss's rules with
    the weights against the [.., 1, ..] losses. The gradients are −g·y and
    −g·x for the per-distance upstream g the reduction's gradient gives,
    from the Go pass that also writes the distances.
    """

    def _prepare(self, labels: ArrayLike, predictions: ArrayLike, axis: int | None,
                 weights: ArrayLike, scope: Any, reduction: str, dim: int | None,
                 ) -> tuple[np.ndarray, np.ndarray, int, np.ndarray]:
        """(labels, predictions, axis, float32 weights) after TF's checks, each done once.

        The arrays keep their dtypes (the Go calls take them in float32, as TF does).
        """
        axis_name = "axis" if dim is None else "dim"  # errors name what the caller passed
        axis = check_cosine_distance_args(labels, predictions, axis, dim, reduction)
        check_scope(scope)
        labels = convert(labels, "labels")
        predictions = convert(predictions, "predictions")
        if labels.shape != predictions.shape:
            raise ValueError(f"Shapes {predictions.shape} and {labels.shape} are incompatible "
                             f"(predictions has shape {predictions.shape}, labels {labels.shape}; "
                             f"cosine_distance does not broadcast)")
        # An int, or a list of axes: TF's reduce_sum(axis=(axis,)) takes a list
        # eagerly (TF 2.21) and keeps every listed axis.
        axis = normalize_axes(axis, labels.ndim, axis_name)
        loss_shape = reduced_shape(labels.shape, axis, keepdims=True)
        return labels, predictions, axis, v1_weights(weights, loss_shape)

    def value(self, labels: ArrayLike, predictions: ArrayLike, axis: int | None = None,
              weights: ArrayLike = 1.0, scope: Any = None, loss_collection: Any = "losses",
              reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS, dim: int | None = None,
              ) -> np.ndarray | np.float32:
        labels, predictions, axis, weights32 = self._prepare(labels, predictions, axis, weights,
                                                             scope, reduction, dim)
        distances = ops.cosine_distance(labels.astype(np.float32, copy=False),
                                        predictions.astype(np.float32, copy=False), axis)
        return compute_weighted_loss_v1(distances, weights32, reduction)  # type: ignore[return-value]

    def value_and_grad(self, labels: ArrayLike, predictions: ArrayLike, axis: int | None = None,
                       weights: ArrayLike = 1.0, scope: Any = None,
                       loss_collection: Any = "losses",
                       reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS, dim: int | None = None,
                       *, upstream: ArrayLike | None = None, out: Any = None) -> Result:
        out = check_out(out, 2)
        labels, predictions, axis, weights32 = self._prepare(labels, predictions, axis, weights,
                                                             scope, reduction, dim)
        value, (d_labels, d_pred), _ = self._grads(labels, predictions, axis, weights32, reduction,
                                                   upstream)
        return value, deliver((d_labels.astype(_grad_dtype(labels)),
                               d_pred.astype(_grad_dtype(predictions))), out)

    def value_and_grad_with_weights(self, labels: ArrayLike, predictions: ArrayLike, axis: int,
                                    weights: ArrayLike, reduction: str,
                                    upstream: ArrayLike | None) -> Result:
        """value_and_grad plus the weights' gradient (TensorFlow's ops differentiate it).

        One Go pass over the inputs: the distances it writes beside the
        gradients give the weights' gradient.
        """
        labels, predictions, axis, weights32 = self._prepare(labels, predictions, axis, weights,
                                                             None, reduction, None)
        value, (d_labels, d_pred), distances = self._grads(labels, predictions, axis, weights32,
                                                           reduction, upstream)
        d_weights = compute_weighted_loss_v1_weights_grad(distances, weights32, reduction,
                                                          upstream)
        return value, (d_labels, d_pred, d_weights)

    def _grads(self, labels: np.ndarray, predictions: np.ndarray, axis: int,
               weights32: np.ndarray, reduction: str, upstream: ArrayLike | None,
               ) -> tuple[np.ndarray | np.generic, tuple[np.ndarray, np.ndarray], np.ndarray]:
        """(value, float32 gradients, distances) of prepared arguments."""
        loss_shape = reduced_shape(labels.shape, axis, keepdims=True)
        per_loss = compute_weighted_loss_v1_grad(loss_shape, weights32, reduction, upstream)
        distances, d_labels, d_pred = ops.cosine_distance_grad(
            labels.astype(np.float32, copy=False), predictions.astype(np.float32, copy=False),
            axis, per_loss)
        return compute_weighted_loss_v1(distances, weights32, reduction), (d_labels, d_pred), distances


WEIGHTED_LOSS = WeightedLoss()
COSINE_DISTANCE = CosineDistance()
