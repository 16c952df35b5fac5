"""Array operations over the Go core, shared by every loss.

Callers pass converted, validated arrays of one float dtype; these functions
arrange memory for Go (broadcast views, float16 widening) and shape results.
"""

from __future__ import annotations

import numpy as np

from cosloss._core import go
from cosloss._core.arrays import compute_dtype, empty, view3


def _eps_for(dtype: np.dtype, epsilon: float) -> float:
    # TensorFlow converts epsilon to the input dtype: 1e-12 is 0 in float16.
    return float(np.asarray(epsilon, dtype=dtype))


def _broadcast_input(a: np.ndarray, axis: int, shape: tuple, work: np.dtype) -> np.ndarray:
    """a broadcast to shape, in the work dtype.

    The Go core reads a zero stride along the reduced axis as an input of
    length 1 there, normalized on its own as TensorFlow does. An array that
    already has a zero stride along a longer axis (np.broadcast_to output)
    is a real vector of repeated values, so it is copied first.
    """
    own_axis = axis - (len(shape) - a.ndim)
    repeated = own_axis >= 0 and a.shape[own_axis] > 1 and a.strides[own_axis] == 0
    # Layouts Go cannot read are fixed here, before broadcasting, so that
    # the fix copies the input rather than its broadcast.
    unreadable = not a.flags.aligned or any(st < 0 for st in a.strides)
    if repeated or unreadable:
        a = np.ascontiguousarray(a)
    # Cast before broadcasting: a cast of the broadcast view would copy it
    # and lose the zero strides the Go core reads.
    return np.broadcast_to(a.astype(work, copy=False), shape)


def cosine(x: np.ndarray, y: np.ndarray, axis: int, form: int, shape: tuple,
           rule: int = go.FLOOR_SQUARED, epsilon: float = 1e-12) -> np.ndarray:
    """form(cos(x, y)) along axis of the broadcast shape, axis removed.

    rule and epsilon say how each norm is kept away from zero (see go).
    axis may be a tuple of axes (see _merged): the value is then of shape
    without them.
    """
    if isinstance(axis, tuple):
        m = _Merged(x, y, axis, shape)
        return cosine(m.x, m.y, m.axis, form, m.shape, rule, epsilon).reshape(m.value_shape)
    dtype, work = x.dtype, compute_dtype(x.dtype)
    out = empty(shape[:axis] + shape[axis + 1:], dtype=work)
    if out.size:
        go.cosine(*_pair_views(x, y, axis, shape, work), form, out, rule, _eps_for(dtype, epsilon))
    return out.astype(dtype, copy=False)


def _pair_views(x: np.ndarray, y: np.ndarray, axis: int, shape: tuple[int, ...], work: np.dtype,
                ) -> tuple[np.ndarray, tuple[int, ...], np.ndarray, tuple[int, ...]]:
    """(x3, x strides, y3, y strides): both inputs broadcast to shape, as Go reads them."""
    x3, xs = view3(_broadcast_input(x, axis, shape, work), axis)
    y3, ys = view3(_broadcast_input(y, axis, shape, work), axis)
    return x3, xs, y3, ys


class _Merged:
    """Two inputs with the listed axes of their broadcast shape merged into one.

    TensorFlow reduces over a list of axes; the Go core over one. Each input
    (of rank padded to the broadcast shape's) gets the listed axes merged as
    l2_normalize's _AxesLayout merges them: consecutive axes in place, others
    moved last, which copies. The callers check that neither input is
    broadcast along a listed axis (TensorFlow normalizes such an input over
    its own, smaller, slices, which a merged axis cannot express), so the
    merged axis has one length in both and the other axes broadcast as
    before. No input is modified.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, axes: tuple, shape: tuple):
        ndim = len(shape)
        self.x_shape, self.y_shape = x.shape, y.shape
        self.x_layout = _AxesLayout((1,) * (ndim - x.ndim) + x.shape, axes)
        self.y_layout = _AxesLayout((1,) * (ndim - y.ndim) + y.shape, axes)
        self.x = self.x_layout.merge(x.reshape(self.x_layout.shape))
        self.y = self.y_layout.merge(y.reshape(self.y_layout.shape))
        self.axis = self.x_layout.axis
        self.shape = np.broadcast_shapes(self.x.shape, self.y.shape)
        self.value_shape = tuple(d for a, d in enumerate(shape) if a not in axes)
        self.kept_shape = tuple(1 if a in axes else d for a, d in enumerate(shape))

    def restore(self, dx: np.ndarray, dy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Gradients of the merged inputs as gradients of the inputs."""
        return (self.x_layout.restore(dx).reshape(self.x_shape),
                self.y_layout.restore(dy).reshape(self.y_shape))


def cosine_distance(labels: np.ndarray, predictions: np.ndarray, axis: int | tuple) -> np.ndarray:
    """1 − Σ labels·predictions along axis, an int or a tuple of axes (float32, axes kept)."""
    if isinstance(axis, tuple):
        m = _Merged(labels, predictions, axis, labels.shape)
        return cosine_distance(m.x, m.y, m.axis).reshape(m.kept_shape)
    shape = labels.shape
    out = empty(shape[:axis] + (1,) + shape[axis + 1:], dtype=np.float32)
    if out.size:
        go.cosine_distance(*_pair_views(labels, predictions, axis, shape, labels.dtype), out)
    return out


class _AxesLayout:
    """How l2_normalize sees x: one merged axis of a (possibly transposed) array."""

    def __init__(self, shape: tuple, axes: tuple):
        ndim = len(shape)
        self.shape = shape
        if not axes:
            # Reducing over no axis of a 0-d input: the element is its own slice.
            self.order, self.merged_shape, self.axis = None, shape + (1,), ndim
        elif axes == tuple(range(axes[0], axes[-1] + 1)):
            # Consecutive axes are one axis of the C-ordered array: no copy.
            first, last = axes[0], axes[-1]
            merged = int(np.prod(shape[first:last + 1]))
            self.order, self.merged_shape, self.axis = None, shape[:first] + (merged,) + shape[last + 1:], first
        else:
            # Scattered axes are moved last and merged, which copies.
            rest = [a for a in range(ndim) if a not in axes]
            self.order = rest + list(axes)
            merged = int(np.prod([shape[a] for a in axes]))
            self.merged_shape, self.axis = tuple(shape[a] for a in rest) + (merged,), len(rest)

    def merge(self, a: np.ndarray) -> np.ndarray:
        if self.order is not None:
            a = np.transpose(a, self.order)
        return a.reshape(self.merged_shape)

    def restore(self, merged: np.ndarray) -> np.ndarray:
        if self.order is None:
            return merged.reshape(self.shape)
        transposed = merged.reshape(tuple(self.shape[a] for a in self.order))
        return np.ascontiguousarray(np.transpose(transposed, np.argsort(self.order)))


def _pairs(z: np.ndarray) -> np.ndarray:
    """A complex array as a real one with a trailing axis of 2 (re, im): a view, no copy.

    x.real is a view with x's strides; the imaginary part sits half an
    element further on, whatever those strides are.
    """
    half = z.itemsize // 2
    return np.lib.stride_tricks.as_strided(z.real, z.shape + (2,), z.strides + (half,),
                                           writeable=False)


def _complex(pairs: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """_pairs undone for a C-contiguous real array: a complex view of it."""
    return np.ascontiguousarray(pairs).view(dtype)[..., 0]


# Complex x (TF >= 2.x's branch of tf.nn.l2_normalize):
#
#     square_sum = real(reduce_sum(square(real(x)) + square(imag(x)), axis, keepdims))
#     x_inv_norm = rsqrt(maximum(square_sum, epsilon))        # epsilon in the real dtype
#     return complex(real(x) * x_inv_norm, imag(x) * x_inv_norm)
#
# is the real l2_normalize of x's (re, im) pairs over axis plus the pair
# axis, so the Go core computes it (sum of squares accumulated in float64,
# as for real input) on a real view of x, and epsilon is rounded to the
# real dtype as TensorFlow's maximum does. TensorFlow's gradient is the
# real one too: real, imag and complex pass gradients through as pairs, so
# with the complex upstream g the gradient is d/dre + i d/dim of
# Σ re(g)·re(out) + im(g)·im(out) = Re Σ conj(g)·out, which is TF's
# convention (conj-based: for holomorphic f it gives conj(f'(z))·g). The
# pairs' real gradient is that, so the same Go pass gives it.
def _as_pairs(x: np.ndarray, axes: tuple) -> tuple[np.ndarray, tuple]:
    return _pairs(x), tuple(axes) + (x.ndim,)


def l2_normalize(x: np.ndarray, axes: tuple, epsilon: float) -> np.ndarray:
    """x · rsqrt(max(Σx², ε)) over axes (sorted, unique, non-negative); complex x by pairs."""
    if x.dtype.kind == "c":
        pairs, pair_axes = _as_pairs(x, axes)
        return _complex(l2_normalize(pairs, pair_axes, epsilon), x.dtype)
    dtype, work = x.dtype, compute_dtype(x.dtype)
    layout = _AxesLayout(x.shape, axes)
    out = empty(layout.merged_shape, dtype=work)
    if out.size:
        x3, xs = view3(layout.merge(x.astype(work, copy=False)), layout.axis)
        go.l2_normalize(x3, xs, out, _eps_for(dtype, epsilon))
    return layout.restore(out).astype(dtype, copy=False)


def l2_normalize_grad(x: np.ndarray, axes: tuple, epsilon: float, upstream: np.ndarray,
                      ) -> tuple[np.ndarray, np.ndarray]:
    """(l2_normalize(x), its gradient for upstream of x's shape); complex x by pairs."""
    if x.dtype.kind == "c":
        pairs, pair_axes = _as_pairs(x, axes)
        g = _pairs(np.ascontiguousarray(np.broadcast_to(upstream, x.shape), dtype=x.dtype))
        value, dx = l2_normalize_grad(pairs, pair_axes, epsilon, g)
        return _complex(value, x.dtype), _complex(dx, x.dtype)
    dtype, work = x.dtype, compute_dtype(x.dtype)
    layout = _AxesLayout(x.shape, axes)
    out = empty(layout.merged_shape, dtype=work)
    dx = empty(layout.merged_shape, dtype=work)
    if out.size:
        x3, xs = view3(layout.merge(x.astype(work, copy=False)), layout.axis)
        g = np.ascontiguousarray(layout.merge(np.broadcast_to(upstream, x.shape)), dtype=work)
        go.l2_normalize_grad(x3, xs, g, out, dx, _eps_for(dtype, epsilon))
    return (layout.restore(out).astype(dtype, copy=False),
            layout.restore(dx).astype(dtype, copy=False))


def cosine_grad(x: np.ndarray, y: np.ndarray, axis: int, form: int, shape: tuple,
                upstream: np.ndarray, rule: int = go.FLOOR_SQUARED, epsilon: float = 1e-12,
                out: tuple[np.ndarray, ...] | None = None, reads: tuple[np.ndarray, ...] = (),
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(form(cos), d/dx, d/dy) over the broadcast shape; upstream has the value's shape.

    out, when given, holds two arrays the core may write d/dx and d/dy into
    directly (see _writable_into); the results are then those arrays.
    reads lists the caller's other arrays that are read after this call
    (sample weights, say): an out array overlapping one of them is not
    written here, so that they still hold the caller's values then.
    """
    if isinstance(axis, tuple):
        # The gradients are computed in the merged layout, so out is filled
        # by the caller's deliver once they are restored.
        m = _Merged(x, y, axis, shape)
        g = np.broadcast_to(upstream, m.value_shape).reshape(
            m.shape[:m.axis] + m.shape[m.axis + 1:])
        value, dx, dy = cosine_grad(m.x, m.y, m.axis, form, m.shape, g, rule, epsilon)
        return (value.reshape(m.value_shape), *m.restore(dx, dy))
    dtype, work = x.dtype, compute_dtype(x.dtype)
    value = empty(shape[:axis] + shape[axis + 1:], dtype=work)
    g = np.ascontiguousarray(np.broadcast_to(upstream, value.shape), dtype=work)
    dx = dy = None
    if out is not None:
        dx = out[0] if _writable_into(out[0], shape, work, x, y, g, out[1], *reads) else None
        dy = out[1] if _writable_into(out[1], shape, work, x, y, g, out[0], *reads) else None
    dx = empty(shape, dtype=work) if dx is None else dx
    dy = empty(shape, dtype=work) if dy is None else dy
    if value.size:
        go.cosine_grad(*_pair_views(x, y, axis, shape, work), form, g, value, dx, dy, rule,
                       _eps_for(dtype, epsilon))
    return (value.astype(dtype, copy=False), unbroadcast(dx, x.shape).astype(dtype, copy=False),
            unbroadcast(dy, y.shape).astype(dtype, copy=False))


def _writable_into(o: np.ndarray, shape: tuple, dtype: np.dtype, *others: np.ndarray) -> bool:
    """Whether the core can write a gradient of shape and dtype straight into o.

    Anything else (another layout, or memory that may overlap an input, the
    upstream, the other output or an array the caller reads later) gets a
    fresh array, copied into o once everything has been read. A possible
    overlap (np.may_share_memory, which only compares bounds) is enough:
    a false alarm costs a copy, a missed overlap a wrong result.
    """
    return (o.shape == shape and o.dtype == dtype and o.flags.c_contiguous and o.flags.writeable
            and not any(np.may_share_memory(o, a) for a in others))


def cosine_distance_grad(labels: np.ndarray, predictions: np.ndarray, axis: int | tuple,
                         upstream: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(1 − Σ labels·predictions with axis kept, d/dlabels, d/dpredictions), float32.

    axis is an int or a tuple of axes, as in cosine_distance.
    """
    if isinstance(axis, tuple):
        m = _Merged(labels, predictions, axis, labels.shape)
        g = np.broadcast_to(upstream, m.kept_shape).reshape(
            m.shape[:m.axis] + (1,) + m.shape[m.axis + 1:])
        value, dl, dp = cosine_distance_grad(m.x, m.y, m.axis, g)
        return (value.reshape(m.kept_shape), *m.restore(dl, dp))
    shape = labels.shape
    value = empty(shape[:axis] + (1,) + shape[axis + 1:], dtype=np.float32)
    dl, dp = empty(shape, np.float32), empty(shape, np.float32)
    if value.size:
        g = np.ascontiguousarray(np.broadcast_to(upstream, value.shape), dtype=np.float32)
        go.cosine_distance_grad(*_pair_views(labels, predictions, axis, shape, labels.dtype),
                                   g, value, dl, dp)
    return value, dl, dp


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum grad over the axes along which an input of shape was broadcast."""
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + a for a, d in enumerate(shape)
                                      if d == 1 and grad.shape[lead + a] != 1)
    return np.sum(grad, axis=axes, keepdims=False).reshape(shape) if axes else grad.reshape(shape)


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
    out = empty(losses.shape, dtype=work.dtype)
    if out.size:
        go.weighted(_flat(work), _weights_for(work, weights), out)
    return out.astype(losses.dtype, copy=False)


def reduce(losses: np.ndarray, weights: np.ndarray, reduction: int) -> np.floating:
    """The scalar reduction of losses · weights, rounded to losses' dtype."""
    work = losses.astype(compute_dtype(losses.dtype), copy=False)
    value = go.reduce(_flat(work), _weights_for(work, weights), reduction)
    return losses.dtype.type(work.dtype.type(value))
