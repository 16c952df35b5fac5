"""The "tf" backend: cosloss's formulas written with TensorFlow primitives.

Each function computes what the Go core computes, in the same float64
arithmetic, so the values agree with the numpy API (bit for bit unless a
float64 sum taken in TensorFlow's order rounds differently from the Go
core's, which for float32 inputs is rare and at most one ulp):

* sums Σx·y, Σx², Σy² of float32 (and float16) inputs are taken in float64,
  where each product is exact;
* each cosine is finished in float64 and rounded once to the compute dtype
  (float32 for float16 inputs, as the Go core computes them), then passed
  through the loss's form;
* TensorFlow's edge cases are kept as the Go core keeps them: a Σx² that
  overflows the compute dtype scales its vector to 0, an inf or NaN element
  gives NaN, an empty axis gives a cosine of 0.

The gradients are TensorFlow's own autodiff of these graphs, which is the
gradient the Go core writes (TensorFlow's autodiff of its own ops, and
PyTorch's autograd for the PyTorch rules), finite at a zero vector. Nothing
here calls Python at run time, so these ops serialize, compile under XLA
and run on any device.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from cosloss._core import go

_F64 = tf.float64


def compute_dtype(dtype: tf.DType) -> tf.DType:
    """The dtype the Go core computes in: float16 inputs are computed in float32."""
    return tf.float32 if dtype == tf.float16 else dtype


def eps_in(eps: float, dtype: tf.DType) -> float:
    """eps converted to dtype, as TensorFlow converts it (1e-12 is 0 in float16)."""
    return float(np.asarray(eps, dtype.as_numpy_dtype))


def _overflows(sum_squares: tf.Tensor, work: tf.DType) -> tf.Tensor:
    """Whether a float64 Σx² is inf in the compute dtype (TensorFlow's would be)."""
    return tf.math.is_inf(tf.cast(sum_squares, work))


def _round(value64: tf.Tensor, dtype: tf.DType) -> tf.Tensor:
    """value64 rounded to the compute dtype, then to dtype (float16 rounds twice, as in Go)."""
    work = compute_dtype(dtype)
    value = tf.cast(value64, work)
    return value if work == dtype else tf.cast(value, dtype)


def l2_normalize(x: tf.Tensor, axes: int | tuple[int, ...] | None, epsilon: float,
                 ) -> tf.Tensor:
    """x · rsqrt(max(Σx², ε)) over axes (an int, a tuple, or None: all), the sums in
    float64."""
    if x.dtype.is_complex:
        return _l2_normalize_complex(x, axes, epsilon)
    x64 = tf.cast(x, _F64)
    sum_squares = tf.reduce_sum(tf.square(x64), axes, keepdims=True)
    work = compute_dtype(x.dtype)
    inv = _inverse_norm(sum_squares, eps_in(epsilon, x.dtype), work)
    # As the Go core scales: the inverse norm rounded to the compute dtype,
    # then one product in it (TensorFlow's own x * rsqrt(...) in float32).
    out = tf.cast(x, work) * tf.cast(inv, work)
    return out if work == x.dtype else tf.cast(out, x.dtype)


def _l2_normalize_complex(x: tf.Tensor, axes: int | tuple[int, ...] | None, epsilon: float,
                          ) -> tf.Tensor:
    """TensorFlow's complex l2_normalize: Σ|x|² in float64, x · rsqrt(max(Σ|x|², ε))."""
    real = x.dtype.real_dtype
    re, im = tf.cast(tf.math.real(x), _F64), tf.cast(tf.math.imag(x), _F64)
    sum_squares = tf.reduce_sum(tf.square(re) + tf.square(im), axes, keepdims=True)
    inv = tf.cast(_inverse_norm(sum_squares, eps_in(epsilon, real), real), real)
    return tf.complex(tf.math.real(x) * inv, tf.math.imag(x) * inv)


def _inverse_norm(sum_squares: tf.Tensor, eps: float, work: tf.DType) -> tf.Tensor:
    """1/√max(Σx², ε) in float64, and 0 where Σx² overflows the compute dtype.

    The overflowed rows take rsqrt of the sum rounded to the compute dtype,
    inf, as TensorFlow does: the value is 0 and, as in TensorFlow, the
    gradient through it is NaN when the vector holds an inf (upstream inf
    times rsqrt's slope 0) and 0 otherwise.
    """
    inv = 1.0 / tf.sqrt(tf.maximum(sum_squares, eps))
    rounded = tf.cast(tf.cast(sum_squares, work), _F64)
    overflowed = tf.math.is_inf(rounded)
    # The other rows take rsqrt(1), whose slope is finite: a where passes
    # zeros to its unchosen side, and 0 times the slope at 0 would be NaN.
    rounded = tf.where(overflowed, rounded, tf.ones_like(rounded))
    return tf.where(overflowed, 1.0 / tf.sqrt(rounded), inv)


def _safe_norm(sum_squares: tf.Tensor) -> tf.Tensor:
    """√Σx², with gradient 0 (not NaN) at a zero vector, as PyTorch's norm has."""
    positive = sum_squares > 0
    return tf.where(positive, tf.sqrt(tf.where(positive, sum_squares, tf.ones_like(sum_squares))),
                    tf.zeros_like(sum_squares))


def _floor_passing_gradient(norm: tf.Tensor, eps: float) -> tf.Tensor:
    """max(norm, eps) whose gradient is norm's own, as PyTorch clamps without gradient.

    Below eps the value is (norm − norm) + eps, which is exactly eps, while
    the gradient of norm − stop_gradient(norm) is 1.
    """
    return tf.where(norm >= eps, norm, (norm - tf.stop_gradient(norm)) + eps)


def _nonfinite(v64: tf.Tensor, sum_squares: tf.Tensor, axis: Axes, work: tf.DType,
               ) -> tf.Tensor:
    """Whether a slice holds an inf or a NaN, given its float64 Σ²."""
    if work != _F64:
        # A float64 sum of float32 squares is inf only for an inf element.
        return tf.logical_not(tf.math.is_finite(sum_squares))
    # Finite float64 elements above ~1e154 overflow the sum too.
    return tf.math.is_nan(sum_squares) | tf.reduce_any(tf.math.is_inf(v64), axis, keepdims=True)


def _pad_rank(v: tf.Tensor, rank: int) -> tf.Tensor:
    """v with leading axes of 1 up to rank, as broadcasting reads it."""
    for _ in range(rank - v.shape.rank):
        v = tf.expand_dims(v, 0)
    return v


Axes = int | tuple[int, ...]


def broadcast_axis(x: tf.Tensor, y: tf.Tensor, axis: Axes) -> tuple[tf.Tensor, tf.Tensor, Axes]:
    """x and y at the broadcast rank, and axis (an int or a tuple) as non-negative
    indices of it.

    With an unknown rank the axis is left as given, for an input of the
    broadcast rank.
    """
    if x.shape.rank is None or y.shape.rank is None:
        return x, y, axis
    rank = max(x.shape.rank, y.shape.rank)
    if rank:
        axis = axis % rank if isinstance(axis, int) else tuple(a % rank for a in axis)
    return _pad_rank(x, rank), _pad_rank(y, rank), axis


def cosine(x: tf.Tensor, y: tf.Tensor, axis: Axes, form: int, rule: int, eps: float,
           ) -> tf.Tensor:
    """form(cos(x, y)) along axis (an int or a tuple of axes) of the broadcast shape,
    as the Go core's Cosine.

    x and y share a floating dtype; rule and eps are a Norm's. The result
    drops axis and has the inputs' dtype.
    """
    dtype = x.dtype
    work = compute_dtype(dtype)
    x, y, axis = broadcast_axis(x, y, axis)
    x64, y64 = tf.cast(x, _F64), tf.cast(y, _F64)
    dot = tf.reduce_sum(x64 * y64, axis, keepdims=True)
    if rule == go.FLOOR_NORM:
        # F.cosine_similarity expands its inputs before taking the norms, so
        # an input of length 1 along axis counts once per element of the other.
        shape = tf.broadcast_dynamic_shape(tf.shape(x64), tf.shape(y64))
        x64, y64 = tf.broadcast_to(x64, shape), tf.broadcast_to(y64, shape)
    # Otherwise each input is normalized over its own length along axis, as
    # TensorFlow's l2_normalize does before the product broadcasts.
    xx = tf.reduce_sum(tf.square(x64), axis, keepdims=True)
    yy = tf.reduce_sum(tf.square(y64), axis, keepdims=True)
    e = eps_in(eps, dtype)
    if rule == go.FLOOR_NORM:
        nx = _floor_passing_gradient(_safe_norm(xx), e)
        ny = _floor_passing_gradient(_safe_norm(yy), e)
        c = _over(dot, nx * ny, lambda: dot / nx / ny, work)
    else:
        if rule == go.ADD_SQUARED:
            mx, my = xx + e, yy + e
        else:
            mx, my = tf.maximum(xx, e), tf.maximum(yy, e)
        c = _over(dot, tf.sqrt(mx * my), lambda: dot / tf.sqrt(mx) / tf.sqrt(my), work)
    zero = tf.zeros_like(c)
    c = tf.where(_overflows(xx, work) | _overflows(yy, work), zero, c)
    c = tf.where(_nonfinite(x64, xx, axis, work) | _nonfinite(y64, yy, axis, work),
                 zero + np.nan, c)
    if e == 0:
        # An empty slice has cosine 0 even where ε is 0 (float16).
        length = tf.reduce_prod(tf.gather(tf.shape(x64), axis))
        c = tf.where(length > 0, c, zero)
    # The cosine is rounded to the compute dtype before the form is applied.
    c = tf.cast(tf.cast(c, work), _F64)
    value = _form(c, form)
    return tf.squeeze(_round(value, dtype), axis)


def _over(dot: tf.Tensor, denominator: tf.Tensor, split, work: tf.DType) -> tf.Tensor:
    """dot / denominator, or split() where the product under the root overflows float64.

    Sums of float32 squares cannot overflow it, so only float64 inputs need
    the second form.
    """
    c = dot / denominator
    if work != _F64:
        return c
    return tf.where(tf.math.is_finite(denominator), c, split())


def _form(c: tf.Tensor, form: int) -> tf.Tensor:
    if form == go.NEG_COS:
        return -c
    if form == go.ONE_MINUS_COS:
        return 1.0 - c
    if form == go.SQUARED_ONE_MINUS_COS:
        return tf.square(1.0 - c)
    return c


def cosine_distance(labels32: tf.Tensor, predictions32: tf.Tensor, axis: Axes) -> tf.Tensor:
    """TF1's per-sample 1 − Σ labels·predictions (axis kept), the sum in float64."""
    dot = tf.reduce_sum(tf.cast(labels32, _F64) * tf.cast(predictions32, _F64), axis,
                        keepdims=True)
    return 1.0 - tf.cast(dot, tf.float32)


def weighted_loss_v1(losses32: tf.Tensor, weights32: tf.Tensor, reduction: str) -> tf.Tensor:
    """TF1's compute_weighted_loss of float32 losses, as the Go core's Reduce.

    Each weighted loss is rounded to float32, the total and the weights' sum
    are taken in float64 and rounded once, and the division is DivNoNan's.
    """
    weighted = losses32 * weights32
    if reduction == "none":
        return weighted
    total = tf.cast(tf.reduce_sum(tf.cast(weighted, _F64)), tf.float32)
    if reduction == "weighted_sum":
        return total
    if reduction == "weighted_mean":
        every = tf.broadcast_to(weights32, tf.shape(weighted))
        denominator = tf.cast(tf.reduce_sum(tf.cast(every, _F64)), tf.float32)
    elif reduction == "weighted_sum_over_batch_size":
        denominator = tf.cast(tf.size(weighted), tf.float32)
    else:  # weighted_sum_by_nonzero_weights
        every = tf.broadcast_to(weights32, tf.shape(weighted))
        denominator = tf.cast(tf.math.count_nonzero(every), tf.float32)
    return tf.math.divide_no_nan(total, denominator)


def cosine_embedding_loss(cos: tf.Tensor, target: tf.Tensor, margin: float, reduction: str,
                          ) -> tf.Tensor:
    """PyTorch's CosineEmbeddingLoss from the cosines, as cosloss.torch computes it."""
    dtype = cos.dtype
    cos64 = tf.cast(cos, _F64)
    positive = _round(1.0 - cos64, dtype)
    clamped = _round(cos64 - eps_in(margin, dtype), dtype)
    negative = tf.maximum(clamped, tf.zeros_like(clamped))
    t64 = tf.cast(target, _F64)
    # A target other than 1 and -1 gives NaN: the graph's assertion raises
    # instead, but XLA compiles assertions away, and NaN is never mistaken
    # for a loss.
    losses = tf.where(tf.equal(t64, 1.0), positive,
                      tf.where(tf.equal(t64, -1.0), negative, tf.zeros_like(negative) + np.nan))
    if reduction == "none":
        return losses
    total = tf.reduce_sum(tf.cast(losses, _F64))
    if reduction == "sum":
        return _round(total, dtype)
    # The mean of no pairs is NaN (0 / 0), as in PyTorch.
    return _round(total / tf.cast(tf.size(losses), _F64), dtype)
