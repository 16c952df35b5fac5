"""Reductions: how per-sample losses are weighted and reduced, and their gradients.

Three rule sets live here, each used by the loss that has it in TensorFlow:
TF1's compute_weighted_loss (strict broadcast, no squeeze), TF 1.15's Keras
reduction (squeeze/expand the weights' last axis, strict broadcast, float32
round trip) and tf-keras 2.x's (squeeze/expand, numpy broadcasting, in the
loss dtype); a KerasFlavour says which Keras rules apply. Weights are
converted and checked once per call (v1_weights, keras_weights) and then
serve both the reduction and its gradient.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from dataclasses import dataclass
from typing import TYPE_CHECKING

from cosloss._core import go
from cosloss._core import ops
from cosloss._core.arrays import convert

if TYPE_CHECKING:
    from cosloss._losses.flavours import KerasFlavour


def _shape_str(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def assert_broadcastable(weights: np.ndarray, values: np.ndarray, name: str = "weights") -> None:
    """TF's assert_broadcastable: a scalar, or the same rank with each dim 1 or equal."""
    if weights.ndim == 0:
        return
    rule = (f"{name} must be a scalar or have the rank of the values with each "
            f"dimension 1 or equal to the values'")
    if weights.ndim != values.ndim:
        raise ValueError(
            f"weights can not be broadcast to values. values.rank={values.ndim}. "
            f"weights.rank={weights.ndim}. values.shape={_shape_str(values.shape)}. "
            f"weights.shape={_shape_str(weights.shape)}. ({rule}.)")
    for dim, (w, v) in enumerate(zip(weights.shape, values.shape)):
        if w not in (1, v):
            raise ValueError(
                f"weights can not be broadcast to values. Mismatch at dim {dim}. "
                f"values.shape=[{' '.join(map(str, values.shape))}] "
                f"weights.shape=[{' '.join(map(str, weights.shape))}]. ({rule}.)")


def squeeze_or_expand_weights(values: np.ndarray, weights: np.ndarray, name: str) -> np.ndarray:
    """Keras's squeeze_or_expand_dimensions for sample weights.

    Weights one rank above the values lose their last axis (which must be
    1); weights one rank below gain a trailing axis of 1.
    """
    if weights.ndim == 0:
        return weights
    diff = weights.ndim - values.ndim
    if diff == 1:
        if weights.shape[-1] != 1:
            raise ValueError(
                f"Can not squeeze dim[{weights.ndim - 1}], expected a dimension of 1, got "
                f"{weights.shape[-1]}: {name} has shape {_shape_str(weights.shape)} and the "
                f"per-sample losses have shape {_shape_str(values.shape)}")
        return weights[..., 0]
    if diff == -1:
        return weights[..., np.newaxis]
    return weights


def squeeze_or_expand_inputs(y_pred: np.ndarray, y_true: np.ndarray, strict: bool,
                             ) -> tuple[np.ndarray, np.ndarray]:
    """Keras's squeeze_or_expand_dimensions(y_pred, y_true).

    When the ranks differ by exactly 1, the last axis of the higher-rank
    input is dropped if it is 1. TF 1.15 (strict) raises if that axis is
    not 1, except when y_pred is the larger one; tf-keras leaves it alone.
    """
    diff = y_pred.ndim - y_true.ndim
    if diff == 1 and y_pred.shape[-1] == 1:
        return y_pred[..., 0], y_true
    if diff == -1:
        if y_true.shape[-1] == 1:
            return y_pred, y_true[..., 0]
        if strict:
            raise ValueError(
                f"Can not squeeze dim[{y_true.ndim - 1}], expected a dimension of 1, got "
                f"{y_true.shape[-1]}: y_true has shape {_shape_str(y_true.shape)} and y_pred "
                f"{_shape_str(y_pred.shape)}")
    return y_pred, y_true


# ---- TF1 compute_weighted_loss -------------------------------------------------

_V1_CODES = {
    "weighted_sum": go.SUM,
    "weighted_mean": go.MEAN,
    "weighted_sum_over_batch_size": go.SUM_OVER_BATCH_SIZE,
    "weighted_sum_by_nonzero_weights": go.SUM_BY_NONZERO_WEIGHTS,
}


def v1_weights(weights: ArrayLike, losses_shape: tuple[int, ...]) -> np.ndarray:
    """TF1's weights: converted, checked against losses of losses_shape, float32."""
    weights = convert(weights, "weights")
    assert_broadcastable(weights, _stand_in(losses_shape, np.float32))
    return weights.astype(np.float32, copy=False)


def compute_weighted_loss_v1(losses: np.ndarray, weights32: np.ndarray, reduction: str,
                             ) -> np.ndarray | np.generic:
    """TF1's compute_weighted_loss of converted losses and v1_weights."""
    losses32 = losses.astype(np.float32, copy=False)
    if reduction == "none":
        return ops.weighted(losses32, weights32).astype(losses.dtype)
    value = ops.reduce(losses32, weights32, _V1_CODES[reduction])
    return np.asarray(value).astype(losses.dtype)[()]


def _v1_denominator(losses_shape: tuple[int, ...], weights: np.ndarray, reduction: str) -> float:
    broadcast = np.broadcast_to(weights, losses_shape)
    if reduction == "weighted_sum":
        return 1.0
    if reduction == "weighted_mean":
        return float(np.float32(np.sum(broadcast, dtype=np.float64)))
    if reduction == "weighted_sum_over_batch_size":
        return float(np.prod(losses_shape, dtype=np.int64))
    return float(np.count_nonzero(broadcast))


def compute_weighted_loss_v1_grad(losses_shape: tuple[int, ...], weights32: np.ndarray,
                                  reduction: str, upstream: ArrayLike | None) -> np.ndarray:
    """d compute_weighted_loss / d losses, float32, for losses of losses_shape.

    upstream · w / denominator, with the reduction's denominator (1 for SUM
    and NONE) and 0 where it is 0, as TF 1.15's DivNoNan gradient gives. The
    reduction is linear, so the losses' values are not needed: the caller
    can compute them in the same pass as its own gradients.
    """
    value_shape = losses_shape if reduction == "none" else ()
    upstream = upstream_for(upstream, value_shape, np.float32)
    denom = 1.0 if reduction == "none" else _v1_denominator(losses_shape, weights32, reduction)
    scale = np.float32(0 if denom == 0 else 1 / denom)
    return ops.weighted(np.ascontiguousarray(np.broadcast_to(upstream, losses_shape), np.float32),
                         weights32 * scale)


def _stand_in(shape: tuple[int, ...], dtype: DTypeLike) -> np.ndarray:
    """A zero-stride array of shape: the shape rules need shapes, not values."""
    return np.broadcast_to(np.zeros((), dtype), shape)


def compute_weighted_loss_v1_weights_grad(losses: np.ndarray, weights32: np.ndarray,
                                          reduction: str, upstream: ArrayLike | None,
                                          ) -> np.ndarray:
    """d compute_weighted_loss / d weights (float32, weights' shape), as TF's autodiff.

    The weighted sum gives upstream·l to each broadcast weight; SUM divides
    by 1, SUM_OVER_BATCH_SIZE by the size and SUM_BY_NONZERO_WEIGHTS by the
    count (which itself has no gradient). MEAN's denominator Σw also depends
    on the weights: DivNoNan's gradient (TF 1.15) gives
    upstream·(l/Σw − total/(Σw)²). Zero denominators give 0.
    """
    l32 = losses.astype(np.float32, copy=False)
    value_shape = l32.shape if reduction == "none" else ()
    g = np.broadcast_to(upstream_for(upstream, value_shape, np.float32), l32.shape)
    per_weight = ops.weighted(np.ascontiguousarray(g), l32)  # upstream·l, elementwise
    if reduction not in ("none", "weighted_sum"):
        denom = np.float32(_v1_denominator(l32.shape, weights32, reduction))
        if denom == 0:
            per_weight = np.zeros_like(per_weight)
        elif reduction == "weighted_mean":
            total = ops.reduce(l32, weights32, go.SUM)
            per_weight = per_weight / denom - g * (total / denom / denom)
        else:
            per_weight = per_weight / denom
    return ops.unbroadcast(per_weight.astype(np.float32), weights32.shape)


def upstream_for(upstream: ArrayLike | None, value_shape: tuple[int, ...],
                 dtype: DTypeLike) -> np.ndarray:
    """The upstream gradient as an array that broadcasts to the value (default ones)."""
    if upstream is None:
        return np.ones(value_shape, dtype)
    # A complex value (l2_normalize of complex x) takes a complex upstream.
    upstream = convert(upstream, "upstream",
                       complex_ok=np.dtype(dtype).kind == "c").astype(dtype, copy=False)
    try:
        return np.broadcast_to(upstream, value_shape)
    except ValueError:
        raise ValueError(f"upstream has shape {_shape_str(upstream.shape)} but the value has shape "
                         f"{_shape_str(value_shape)}; it must broadcast to it") from None


# ---- Keras reductions ----------------------------------------------------------

_KERAS_CODES = {"sum": go.SUM, "sum_over_batch_size": go.SUM_OVER_BATCH_SIZE,
                "auto": go.SUM_OVER_BATCH_SIZE}


@dataclass(frozen=True)
class KerasWeights:
    """A Keras loss object's sample weights for one call, converted and checked once.

    Attributes:
        work: The reduction's dtype.
        weights: The weights in work, squeezed or expanded so that they
            broadcast to shape.
        shape: The shape of the weighted losses.
    """

    work: np.dtype
    weights: np.ndarray
    shape: tuple[int, ...]


def keras_weights(losses_shape: tuple[int, ...], dtype: DTypeLike, sample_weight: ArrayLike | None,
                  flavour: KerasFlavour) -> KerasWeights:
    """sample_weight for per-sample losses of losses_shape and dtype, by flavour's rules."""
    float32 = flavour.float32_reduction or np.dtype(dtype) == np.float16
    work = np.dtype(np.float32) if float32 else np.dtype(dtype)
    weights = np.ones((), work) if sample_weight is None else convert(sample_weight, "sample_weight")
    losses = _stand_in(losses_shape, work)
    weights = squeeze_or_expand_weights(losses, weights.astype(work, copy=False), "sample_weight")
    if flavour.strict_weights:
        assert_broadcastable(weights, losses, "sample_weight")
        return KerasWeights(work, weights, losses_shape)
    try:
        shape = np.broadcast_shapes(losses_shape, weights.shape)
    except ValueError:
        raise ValueError(
            f"Incompatible shapes: sample_weight has shape {_shape_str(weights.shape)} "
            f"(after squeezing or expanding its last axis) and the per-sample losses have "
            f"shape {_shape_str(losses_shape)}") from None
    return KerasWeights(work, weights, shape)


def keras_reduce(losses: np.ndarray, w: KerasWeights, reduction: str) -> np.ndarray | np.floating:
    """A Keras Loss object's reduction of per-sample losses with keras_weights.

    With float32_reduction (TF 1.15, and tf.keras before December 2021)
    weights and arithmetic are float32 and the result is cast back to the
    losses' dtype; tf-keras 2.x stays in the losses' dtype.
    """
    losses_w = np.broadcast_to(losses.astype(w.work, copy=False), w.shape)
    if reduction == "none":
        return ops.weighted(losses_w, w.weights).astype(losses.dtype, copy=False)
    value = ops.reduce(losses_w, w.weights, _KERAS_CODES[reduction])
    return np.asarray(value).astype(losses.dtype)[()]


def keras_reduce_grad(losses_shape: tuple[int, ...], dtype: DTypeLike, w: KerasWeights,
                      reduction: str, upstream: ArrayLike | None) -> np.ndarray:
    """d keras_reduce / d losses for per-sample losses of losses_shape and dtype.

    upstream · w, divided by the number of losses for sum_over_batch_size.
    Like compute_weighted_loss_v1_grad it needs no loss values.
    """
    value_shape = w.shape if reduction == "none" else ()
    upstream = upstream_for(upstream, value_shape, w.work)
    size = int(np.prod(w.shape, dtype=np.int64))
    denom = size if reduction in ("auto", "sum_over_batch_size") else 1
    scale = w.work.type(0 if denom == 0 else 1 / denom)
    grad = ops.weighted(np.ascontiguousarray(np.broadcast_to(upstream, w.shape)),
                         w.weights * scale)
    return ops.unbroadcast(grad, losses_shape).astype(dtype, copy=False)
