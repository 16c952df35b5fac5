"""TensorFlow's rules for weights: shapes, broadcasting and reductions.

Three rule sets live here, each used by the API that has it in TensorFlow:
TF1's compute_weighted_loss (strict broadcast, no squeeze), TF 1.15's Keras
reduction (squeeze/expand the weights' last axis, strict broadcast, float32
round trip) and tf-keras 2.x's (squeeze/expand, numpy broadcasting, in the
loss dtype).
"""

import numpy as np

from cosloss import _core, _ops
from cosloss._arrays import convert


def _shape_str(shape) -> str:
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


def squeeze_or_expand_inputs(y_pred: np.ndarray, y_true: np.ndarray, strict: bool):
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
    "weighted_sum": _core.SUM,
    "weighted_mean": _core.MEAN,
    "weighted_sum_over_batch_size": _core.SUM_OVER_BATCH_SIZE,
    "weighted_sum_by_nonzero_weights": _core.SUM_BY_NONZERO_WEIGHTS,
}


def compute_weighted_loss_v1(losses, weights, reduction: str):
    """TF1's compute_weighted_loss after reduction validation."""
    losses = convert(losses, "losses")
    weights = convert(weights, "weights")
    assert_broadcastable(weights, losses)
    input_dtype = losses.dtype
    losses32 = losses.astype(np.float32, copy=False)
    weights32 = weights.astype(np.float32, copy=False)
    if reduction == "none":
        result = _ops.weighted(losses32, weights32)
        return result.astype(input_dtype)
    value = _ops.reduce(losses32, weights32, _V1_CODES[reduction])
    return np.asarray(value).astype(input_dtype)[()]


# ---- Keras reductions ----------------------------------------------------------

_KERAS_CODES = {"sum": _core.SUM, "sum_over_batch_size": _core.SUM_OVER_BATCH_SIZE,
                "auto": _core.SUM_OVER_BATCH_SIZE}


def keras_reduce(losses: np.ndarray, sample_weight, reduction: str, legacy: bool):
    """A Keras Loss object's reduction of per-sample losses.

    legacy=True is TF 1.15 (and tf.keras before December 2021): weights and
    arithmetic in float32, the result cast back to the losses' dtype, weights
    broadcast by the strict rule. legacy=False is tf-keras 2.x: everything
    stays in the losses' dtype and weights broadcast as numpy does.
    """
    input_dtype = losses.dtype
    work = np.dtype(np.float32) if legacy or input_dtype == np.float16 else input_dtype
    weights = np.ones((), work) if sample_weight is None else convert(sample_weight, "sample_weight")
    losses_w = losses.astype(work, copy=False)
    weights = squeeze_or_expand_weights(losses_w, weights.astype(work, copy=False), "sample_weight")
    if legacy:
        assert_broadcastable(weights, losses_w, "sample_weight")
    else:
        try:
            shape = np.broadcast_shapes(losses_w.shape, weights.shape)
        except ValueError:
            raise ValueError(
                f"Incompatible shapes: sample_weight has shape {_shape_str(weights.shape)} "
                f"(after squeezing or expanding its last axis) and the per-sample losses have "
                f"shape {_shape_str(losses_w.shape)}") from None
        losses_w = np.broadcast_to(losses_w, shape)
    if reduction == "none":
        result = _ops.weighted(losses_w, weights)
        return result.astype(input_dtype, copy=False)
    value = _ops.reduce(losses_w, weights, _KERAS_CODES[reduction])
    return np.asarray(value).astype(input_dtype)[()]
