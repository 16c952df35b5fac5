"""Array operations over the Go core, shared by every public API.

Callers pass converted, validated arrays of one float dtype; these functions
arrange memory for Go (broadcast views, float16 widening) and shape results.
"""

import numpy as np

from cosloss import _core
from cosloss._arrays import compute_dtype, view3


def _eps_for(dtype: np.dtype, epsilon: float) -> float:
    # TensorFlow converts epsilon to the input dtype: 1e-12 is 0 in float16.
    return float(np.asarray(epsilon, dtype=dtype))


def cosine(x: np.ndarray, y: np.ndarray, axis: int, form: int, shape: tuple,
           epsilon: float = 1e-12) -> np.ndarray:
    """form(cos(x, y)) along axis of the broadcast shape, axis removed."""
    dtype = x.dtype
    work = compute_dtype(dtype)
    xb = np.broadcast_to(x, shape).astype(work, copy=False)
    yb = np.broadcast_to(y, shape).astype(work, copy=False)
    out_shape = shape[:axis] + shape[axis + 1:]
    out = np.empty(out_shape, dtype=work)
    if out.size:
        x3, xs = view3(xb, axis)
        y3, ys = view3(yb, axis)
        _core.cosine(x3, xs, y3, ys, form, out, _eps_for(dtype, epsilon))
    return out.astype(dtype, copy=False)


def cosine_distance(labels: np.ndarray, predictions: np.ndarray, axis: int) -> np.ndarray:
    """1 − Σ labels·predictions along axis (float32, axis kept)."""
    shape = labels.shape
    out = np.empty(shape[:axis] + (1,) + shape[axis + 1:], dtype=np.float32)
    if out.size:
        x3, xs = view3(labels, axis)
        y3, ys = view3(predictions, axis)
        _core.cosine_distance(x3, xs, y3, ys, out)
    return out


def l2_normalize(x: np.ndarray, axes: tuple, epsilon: float) -> np.ndarray:
    """x · rsqrt(max(Σx², ε)) over axes (sorted, unique, non-negative)."""
    dtype = x.dtype
    work = compute_dtype(dtype)
    xw = x.astype(work, copy=False)
    ndim = x.ndim
    contiguous_run = axes == tuple(range(axes[0], axes[-1] + 1)) if axes else True
    if not axes:
        # Reducing over no axis of a 0-d input: each element is its own slice.
        moved, merged_axis, restore = xw.reshape(xw.shape + (1,)), ndim, None
    elif contiguous_run:
        # Consecutive axes are one axis of the C-ordered array: no copy.
        first, last = axes[0], axes[-1]
        merged = xw.reshape(xw.shape[:first] + (-1,) + xw.shape[last + 1:]) if xw.size else xw
        moved, merged_axis, restore = merged, first, None
    else:
        # Scattered axes: move them last and merge them, which copies.
        rest = [a for a in range(ndim) if a not in axes]
        moved = np.transpose(xw, rest + list(axes))
        moved = moved.reshape(moved.shape[:len(rest)] + (-1,))
        merged_axis, restore = len(rest), rest + list(axes)
    out = np.empty(moved.shape, dtype=work)
    if out.size:
        x3, xs = view3(moved, merged_axis)
        _core.l2_normalize(x3, xs, out, _eps_for(dtype, epsilon))
    if restore is None:
        result = out.reshape(x.shape)
    else:
        transposed_shape = tuple(x.shape[a] for a in restore)
        result = np.ascontiguousarray(np.transpose(out.reshape(transposed_shape), np.argsort(restore)))
    return result.astype(dtype, copy=False)


def _flat(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a).reshape(-1)


def _weights_for(losses: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """weights in losses' dtype: 1 element, or broadcast to losses and flattened."""
    weights = weights.astype(losses.dtype, copy=False)
    if weights.size == 1:
        return _flat(weights)
    return _flat(np.broadcast_to(weights, losses.shape))


def weighted(losses: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """losses · weights, weights broadcastable to losses, in losses' dtype."""
    work = losses.astype(compute_dtype(losses.dtype), copy=False)
    out = np.empty(losses.shape, dtype=work.dtype)
    if out.size:
        _core.weighted(_flat(work), _weights_for(work, weights), out)
    return out.astype(losses.dtype, copy=False)


def reduce(losses: np.ndarray, weights: np.ndarray, reduction: int):
    """The scalar reduction of losses · weights, rounded to losses' dtype."""
    work = losses.astype(compute_dtype(losses.dtype), copy=False)
    value = _core.reduce(_flat(work), _weights_for(work, weights), reduction)
    return losses.dtype.type(work.dtype.type(value))
