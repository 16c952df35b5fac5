"""Numpy reference implementations of TensorFlow's cosine losses.

Written from /work/shared/spec/tf-semantics.md only; this module never imports
cosloss.  Each function emulates TensorFlow op by op: every op (Square, Sum,
Maximum, Rsqrt, Mul, ...) is evaluated in the tensor's dtype and rounded there,
and sums run left to right like the spec's "f32" test-vector convention.  That
makes the spec's literal float32 numbers come out (nearly) bit for bit, which
tests/test_reference.py checks.

Section numbers (§n) refer to the spec.
"""

import numpy as np

F32 = np.dtype(np.float32)

# --------------------------------------------------------------------------
# Reduction keys (§4 and §6)
# --------------------------------------------------------------------------

V1_NONE = "none"
V1_SUM = "weighted_sum"
V1_SUM_OVER_BATCH_SIZE = "weighted_sum_over_batch_size"
V1_MEAN = "weighted_mean"
V1_SUM_BY_NONZERO_WEIGHTS = "weighted_sum_by_nonzero_weights"
V1_REDUCTIONS = (V1_NONE, V1_SUM, V1_SUM_OVER_BATCH_SIZE, V1_MEAN,
                 V1_SUM_BY_NONZERO_WEIGHTS)

K_AUTO = "auto"
K_NONE = "none"
K_SUM = "sum"
K_SUM_OVER_BATCH_SIZE = "sum_over_batch_size"
K_REDUCTIONS = (K_AUTO, K_NONE, K_SUM, K_SUM_OVER_BATCH_SIZE)


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------

def tf_convert(x):
    """tf.convert_to_tensor for numpy users.

    numpy arrays and numpy scalars keep their dtype.  Python floats (and lists
    of them) become float32, Python ints int32, as TF does (§9 table), or
    int64 when a value does not fit int32 (measured with TF 2.21:
    tf.constant([2**31, 1]) is int64).
    """
    if isinstance(x, (np.ndarray, np.generic)):
        return np.asarray(x)
    arr = np.asarray(x)
    if arr.dtype == np.float64:
        return arr.astype(np.float32)
    if arr.dtype == np.int64:
        fits = arr.size == 0 or (arr.min() >= -2**31 and arr.max() < 2**31)
        return arr.astype(np.int32) if fits else arr
    return arr


def _check_float(x, name):
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"{name} must be a floating tensor, got {x.dtype}")


def _norm_axes(axis, ndim):
    """Return a sorted tuple of non-negative axes (axis=None -> all axes)."""
    if axis is None:
        return tuple(range(ndim))
    axes = [axis] if np.isscalar(axis) else list(axis)
    out = []
    for a in axes:
        a = int(a)
        if not -ndim <= a < ndim:
            raise ValueError(f"axis {a} out of range for rank {ndim}")
        out.append(a % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"repeated axis in {axis}")
    return tuple(sorted(out))


def seq_sum(x, axis=None, keepdims=False):
    """Sum in x's dtype, left to right along the reduced (flattened) axes.

    np.sum uses pairwise summation (and float32 accumulation for float16);
    a strict left-to-right loop is what the spec's op-by-op vectors assume.
    """
    x = np.asarray(x)
    dt = x.dtype
    axes = _norm_axes(axis, x.ndim)
    keep = [a for a in range(x.ndim) if a not in axes]
    moved = np.transpose(x, keep + list(axes))
    kept_shape = tuple(x.shape[a] for a in keep)
    n_reduced = int(np.prod([x.shape[a] for a in axes], dtype=np.int64))
    flat = moved.reshape(kept_shape + (n_reduced,))
    acc = np.zeros(kept_shape, dtype=dt)
    with np.errstate(all="ignore"):
        for k in range(flat.shape[-1]):
            acc = (acc + flat[..., k]).astype(dt)
    if keepdims:
        shape = [1 if a in axes else x.shape[a] for a in range(x.ndim)]
        acc = acc.reshape(shape)
    return np.asarray(acc, dtype=dt)


def div_no_nan(x, y):
    """tf.math.divide_no_nan: 0 where y == 0 (even for inf/NaN x), else x/y."""
    x = np.asarray(x)
    y = np.asarray(y, dtype=x.dtype)
    with np.errstate(all="ignore"):
        q = np.true_divide(x, y).astype(x.dtype)
    return np.where(y == 0, np.zeros_like(q), q).astype(x.dtype)


def strictly_broadcastable(w_shape, v_shape):
    """TF's assert_broadcastable (§4): scalar, or same rank with dims in {1, d}."""
    if len(w_shape) == 0:
        return True
    if len(w_shape) != len(v_shape):
        return False
    return all(w in (1, v) for w, v in zip(w_shape, v_shape))


def assert_broadcastable(weights, values, name="weights"):
    if not strictly_broadcastable(weights.shape, values.shape):
        raise ValueError(
            f"{name} can not be broadcast to values. values.shape="
            f"{values.shape} weights.shape={weights.shape}.")


def squeeze_or_expand_weights(losses, w, name="sample_weight"):
    """losses_utils.squeeze_or_expand_dimensions(losses, None, w) (§6 step 3.2)."""
    if w.ndim == 0:
        return w
    diff = w.ndim - losses.ndim
    if diff == 1:
        if w.shape[-1] != 1:
            raise ValueError(
                f"Can not squeeze dim[{w.ndim - 1}] of {name}, expected a "
                f"dimension of 1, got {w.shape[-1]}")
        return w.reshape(w.shape[:-1])
    if diff == -1:
        return w.reshape(w.shape + (1,))
    return w


# --------------------------------------------------------------------------
# §2 l2_normalize
# --------------------------------------------------------------------------

def l2_normalize(x, axis=None, epsilon=1e-12):
    """x * rsqrt(max(sum(x**2, axis, keepdims), epsilon)), op by op in x.dtype.

    Complex x follows TF 2.21's complex branch (nn_impl.l2_normalize, read
    in the installed source):
        square_sum = real(reduce_sum(square(real(x)) + square(imag(x)), axis, keepdims))
        x_inv_norm = rsqrt(maximum(square_sum, epsilon))   # epsilon in the real dtype
        return complex(real(x) * x_inv_norm, imag(x) * x_inv_norm)
    """
    x = tf_convert(x)
    if x.dtype.kind == "c":
        rt = x.real.dtype
        re, im = x.real.astype(rt), x.imag.astype(rt)
        with np.errstate(all="ignore"):
            sq = (np.square(re).astype(rt) + np.square(im).astype(rt)).astype(rt)
            s = seq_sum(sq, axis=axis, keepdims=True)
            m = np.maximum(s, np.asarray(epsilon, dtype=rt))
            inv = (rt.type(1) / np.sqrt(m).astype(rt)).astype(rt)
            out = np.empty(x.shape, x.dtype)
            out.real, out.imag = (re * inv).astype(rt), (im * inv).astype(rt)
            return out
    _check_float(x, "x")
    dt = x.dtype
    with np.errstate(all="ignore"):
        sq = np.square(x).astype(dt)
        s = seq_sum(sq, axis=axis, keepdims=True)
        # maximum() converts epsilon to x.dtype: 1e-12 is 0 in float16.
        m = np.maximum(s, np.asarray(epsilon, dtype=dt))
        inv = (dt.type(1) / np.sqrt(m).astype(dt)).astype(dt)   # rsqrt
        return (x * inv).astype(dt)


# --------------------------------------------------------------------------
# §5 Keras cosine function (sign=+1 TF 1.14/1.15, sign=-1 TF >= 2)
# --------------------------------------------------------------------------

def keras_cosine(y_true, y_pred, axis=-1, sign=-1):
    """sign * reduce_sum(l2n(y_true, axis) * l2n(y_pred, axis), axis).

    No cast (mixed dtypes raise TypeError like TF's Mul), no squeeze;
    numpy broadcasting between the normalized inputs.
    """
    t = tf_convert(y_true)
    p = tf_convert(y_pred)
    _check_float(t, "y_true")
    _check_float(p, "y_pred")
    if t.dtype != p.dtype:
        raise TypeError(f"y_true dtype {t.dtype} != y_pred dtype {p.dtype}")
    tn = l2_normalize(t, axis)
    pn = l2_normalize(p, axis)
    with np.errstate(all="ignore"):
        prod = (tn * pn).astype(t.dtype)     # raises ValueError if not broadcastable
    s = seq_sum(prod, axis=axis)
    # Negation keeps TF2's signed zero: -(+0.0) == -0.0.
    return np.negative(s) if sign < 0 else s


def cosine_value(a, b, axis=-1):
    """+cos with TF's eps rule, in the input dtype (the seed forms' core)."""
    return keras_cosine(a, b, axis=axis, sign=+1)


# Seed article forms (/work/shared/seed): computed in the input dtype from cos.
def seed_neg_cos(a, b, axis=-1):
    return np.negative(cosine_value(a, b, axis))


def seed_one_minus_cos(a, b, axis=-1):
    c = cosine_value(a, b, axis)
    return (c.dtype.type(1) - c).astype(c.dtype)


def seed_one_minus_cos_squared(a, b, axis=-1):
    d = seed_one_minus_cos(a, b, axis)
    return np.square(d).astype(d.dtype)


# --------------------------------------------------------------------------
# §4 v1 compute_weighted_loss and §3 cosine_distance
# --------------------------------------------------------------------------

def compute_weighted_loss_v1(losses, weights=1.0,
                             reduction=V1_SUM_BY_NONZERO_WEIGHTS):
    if reduction not in V1_REDUCTIONS:
        raise ValueError(f"Invalid Reduction Key {reduction}.")
    losses = tf_convert(losses)
    weights = tf_convert(weights)
    assert_broadcastable(weights, losses)
    input_dtype = losses.dtype
    l32 = losses.astype(F32)
    w32 = weights.astype(F32)
    with np.errstate(all="ignore"):
        weighted = (l32 * w32).astype(F32)
        if reduction == V1_NONE:
            loss = weighted
        else:
            total = seq_sum(weighted)
            if reduction == V1_SUM:
                loss = total
            elif reduction == V1_MEAN:
                denom = seq_sum((np.ones_like(l32) * w32).astype(F32))
                loss = div_no_nan(total, denom)
            elif reduction == V1_SUM_BY_NONZERO_WEIGHTS:
                # num_present counts broadcast elements whose weight != 0
                # (NaN and negative weights count as present).
                present = np.where(w32 == 0, np.float32(0), np.float32(1))
                present = np.broadcast_to(present, l32.shape).astype(F32)
                loss = div_no_nan(total, seq_sum(present))
            else:  # SUM_OVER_BATCH_SIZE
                loss = div_no_nan(total, np.float32(l32.size))
        # Cast back; float -> int truncates toward zero like tf.cast.
        return np.asarray(loss).astype(input_dtype)


def cosine_distance(labels, predictions, axis, weights=1.0,
                    reduction=V1_SUM_BY_NONZERO_WEIGHTS):
    """1 - sum(labels*predictions, axis, keepdims=True), float32, then v1 reduction."""
    if axis is None:
        raise ValueError("You must specify 'axis'.")
    if labels is None:
        raise ValueError("labels must not be None.")
    if predictions is None:
        raise ValueError("predictions must not be None.")
    lab = tf_convert(labels).astype(F32)
    pred = tf_convert(predictions).astype(F32)
    if lab.shape != pred.shape:
        raise ValueError(f"Shapes {pred.shape} and {lab.shape} are incompatible")
    with np.errstate(all="ignore"):
        prod = (pred * lab).astype(F32)
        # TF 2.21 eagerly takes a list of axes here too (reduce_sum(axis=(axis,))).
        listed = isinstance(axis, (list, tuple, np.ndarray)) and np.ndim(axis) == 1
        s = seq_sum(prod, axis=list(axis) if listed else int(axis), keepdims=True)
        losses = (np.float32(1) - s).astype(F32)
    return compute_weighted_loss_v1(losses, weights, reduction)


# --------------------------------------------------------------------------
# §6 Keras loss class reductions
# --------------------------------------------------------------------------

def _keras_validate(reduction):
    if reduction not in K_REDUCTIONS:
        raise ValueError(f"Invalid Reduction Key {reduction}.")
    return K_SUM_OVER_BATCH_SIZE if reduction == K_AUTO else reduction


def _keras_reduce(weighted, reduction):
    if reduction == K_NONE:
        return weighted
    total = seq_sum(weighted)
    if reduction == K_SUM:
        return total
    return div_no_nan(total, np.asarray(weighted.size, dtype=weighted.dtype))


def keras_reduce_tf115(losses, sample_weight=None, reduction=K_AUTO):
    """TF 1.15 losses_utils.compute_weighted_loss: float32 round trip, strict weights."""
    reduction = _keras_validate(reduction)
    if sample_weight is None:
        sample_weight = 1.0
    losses = tf_convert(losses)
    input_dtype = losses.dtype
    l32 = losses.astype(F32)
    w = tf_convert(sample_weight).astype(F32)
    w = squeeze_or_expand_weights(l32, w)
    # broadcast_weights: equal shapes pass, else the strict assert, then w*ones.
    if w.shape != l32.shape:
        assert_broadcastable(w, l32, name="sample_weight")
        w = (w * np.ones_like(l32)).astype(F32)
    with np.errstate(all="ignore"):
        weighted = (l32 * w).astype(F32)
        loss = _keras_reduce(weighted, reduction)
    return np.asarray(loss).astype(input_dtype)


def keras_reduce_tf2(losses, sample_weight=None, reduction=K_AUTO):
    """tf-keras compute_weighted_loss after the Dec-2021 fix (keras 099a48f78)."""
    reduction = _keras_validate(reduction)
    if sample_weight is None:
        sample_weight = 1.0
    losses = tf_convert(losses)
    input_dtype = losses.dtype
    casted = not np.issubdtype(input_dtype, np.floating)
    if casted:
        losses = losses.astype(F32)
    dt = losses.dtype
    w = tf_convert(sample_weight).astype(dt)
    w = squeeze_or_expand_weights(losses, w)
    with np.errstate(all="ignore"):
        # Plain multiply: full numpy broadcasting (ValueError if impossible).
        weighted = np.multiply(losses, w).astype(dt)
        loss = _keras_reduce(weighted, reduction)
    loss = np.asarray(loss)
    return loss.astype(input_dtype) if casted else loss


def squeeze_inputs_tf2(y_true, y_pred):
    """tf-keras LossFunctionWrapper: squeeze_or_expand_dimensions(y_pred, y_true).

    Ranks differing by exactly 1: the higher-rank one loses its last axis
    when that axis is 1; otherwise nothing happens (no error).
    """
    diff = y_pred.ndim - y_true.ndim
    if diff == 1 and y_pred.shape[-1] == 1:
        y_pred = y_pred.reshape(y_pred.shape[:-1])
    elif diff == -1 and y_true.shape[-1] == 1:
        y_true = y_true.reshape(y_true.shape[:-1])
    return y_true, y_pred


def keras_class_tf115(y_true, y_pred, sample_weight=None, reduction=K_AUTO,
                      axis=-1):
    """tf.keras.losses.CosineSimilarity in TF 1.15: +cos, no input squeeze."""
    _keras_validate(reduction)
    losses = keras_cosine(y_true, y_pred, axis=axis, sign=+1)
    return keras_reduce_tf115(losses, sample_weight, reduction)


def keras_class_tf2(y_true, y_pred, sample_weight=None, reduction=K_AUTO,
                    axis=-1):
    """tf-keras CosineSimilarity: squeeze inputs, -cos, reduce in the loss dtype."""
    _keras_validate(reduction)
    t, p = squeeze_inputs_tf2(tf_convert(y_true), tf_convert(y_pred))
    losses = keras_cosine(t, p, axis=axis, sign=-1)
    return keras_reduce_tf2(losses, sample_weight, reduction)


# --------------------------------------------------------------------------
# §7 Keras metric CosineSimilarity (+cos in every version)
# --------------------------------------------------------------------------

def _squeeze_metric_inputs(y_pred, y_true):
    """TF 1.15 squeeze_or_expand_dimensions(y_pred, y_true) for the metric."""
    diff = y_pred.ndim - y_true.ndim
    if diff == 1:
        if y_pred.shape[-1] == 1:
            y_pred = y_pred.reshape(y_pred.shape[:-1])
    elif diff == -1:
        if y_true.shape[-1] != 1:
            raise ValueError("Can not squeeze the last dim of y_true, "
                             f"expected 1, got {y_true.shape[-1]}")
        y_true = y_true.reshape(y_true.shape[:-1])
    return y_pred, y_true


class KerasMetric:
    """Streaming mean of +cos: float32 total and count, div_no_nan result."""

    def __init__(self, axis=-1):
        self.axis = axis
        self.reset_states()

    def reset_states(self):
        self.total = np.float32(0)
        self.count = np.float32(0)

    def update_state(self, y_true, y_pred, sample_weight=None):
        t = tf_convert(y_true).astype(F32)
        p = tf_convert(y_pred).astype(F32)
        p, t = _squeeze_metric_inputs(p, t)
        values = keras_cosine(t, p, axis=self.axis, sign=+1)
        with np.errstate(all="ignore"):
            if sample_weight is not None:
                w = tf_convert(sample_weight).astype(F32)
                w = squeeze_or_expand_weights(values, w)
                if w.shape == values.shape:
                    pass
                elif strictly_broadcastable(w.shape, values.shape):
                    w = (w * np.ones_like(values)).astype(F32)
                else:
                    # broadcast_weights raised ValueError: reduce_mean the
                    # trailing axes of values down to the weights' rank.
                    axes = tuple(range(w.ndim, values.ndim))
                    if axes:
                        values = np.asarray(
                            np.mean(values, axis=axes, dtype=F32), dtype=F32)
                values = np.multiply(values, w).astype(F32)
                count = seq_sum(w)
            else:
                count = np.float32(values.size)
            self.total = np.float32(self.total + seq_sum(values))
            self.count = np.float32(self.count + count)
        return self

    def result(self):
        return div_no_nan(self.total, self.count)[()]

    def __call__(self, y_true, y_pred, sample_weight=None):
        self.update_state(y_true, y_pred, sample_weight)
        return self.result()
