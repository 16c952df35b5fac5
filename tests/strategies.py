"""Hypothesis strategies: shapes, axes, dtypes, values, weights and memory layouts."""

import numpy as np
from hypothesis import strategies as st
import hypothesis.extra.numpy as hnp

f16, f32, f64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)
FLOAT_DTYPES = [f16, f32, f64]

# Weight values: exact in every float dtype, so sums of weights (MEAN's and the
# metric's denominators) are exact and no tolerance hides a wrong count.
NONNEG_WEIGHTS = [0.0, 0.25, 0.5, 1.0, 2.0, 3.0]
SIGNED_WEIGHTS = NONNEG_WEIGHTS + [-1.0, -0.5]

LAYOUTS = ["C", "F", "strided", "reversed", "zero_stride", "readonly"]


def float_elements(dtype, bound=100.0):
    """Moderate magnitudes (no overflow of sums of squares).

    float16 stays away from 0: its epsilon underflows to 0, so a zero or tiny
    vector gives NaN/inf by design (§2, tested on its own), and half-precision
    rounding would dominate near zero.
    """
    dtype = np.dtype(dtype)
    if dtype == f16:
        mag = st.floats(0.0625, 8.0, width=16)
        return st.builds(lambda m, s: np.float16(m * s), mag, st.sampled_from([1, -1]))
    width = 32 if dtype == f32 else 64
    bound = float(dtype.type(bound))          # hypothesis wants a representable bound
    return st.one_of(
        st.just(0.0),
        st.floats(-bound, bound, width=width, allow_nan=False, allow_infinity=False),
    )


def arrays(dtype, shape, bound=100.0):
    dtype = np.dtype(dtype)
    if np.issubdtype(dtype, np.integer):
        return hnp.arrays(dtype, shape, elements=st.integers(-4, 4))
    return hnp.arrays(dtype, shape, elements=float_elements(dtype, bound))


def shapes(min_dims=1, max_dims=4, min_side=0, max_side=4):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims,
                            min_side=min_side, max_side=max_side)


@st.composite
def single_axis(draw, ndim):
    """An int axis in [-ndim, ndim)."""
    return draw(st.integers(-ndim, ndim - 1))


@st.composite
def any_axis(draw, ndim):
    """int, negative int, list of distinct ints (mixed signs) or None."""
    kind = draw(st.sampled_from(["int", "list", "none"]))
    if kind == "none":
        return None
    if kind == "int":
        return draw(single_axis(ndim))
    axes = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return [a - ndim if draw(st.booleans()) else a for a in axes]


# ---------------------------------------------------------------------------
# Memory layouts
# ---------------------------------------------------------------------------

@st.composite
def layout_of(draw, a):
    """Return an array equal in value to `a` (or, for zero_stride, derived
    from it) with a different memory layout.  Gaps of strided views hold NaN
    so that a kernel that ignores strides produces NaN, not a near miss."""
    a = np.asarray(a)
    layout = draw(st.sampled_from(LAYOUTS))
    if a.ndim == 0 or a.size == 0 or layout == "C":
        return np.ascontiguousarray(a)
    axis = draw(st.integers(0, a.ndim - 1))
    if layout == "F":
        return np.asfortranarray(a)
    if layout == "strided":                      # like a[:, ::2]
        big_shape = list(a.shape)
        big_shape[axis] *= 2
        big = np.full(big_shape, np.nan if a.dtype.kind == "f" else 99, dtype=a.dtype)
        idx = [slice(None)] * a.ndim
        idx[axis] = slice(None, None, 2)
        big[tuple(idx)] = a
        return big[tuple(idx)]
    if layout == "reversed":                     # negative strides
        return np.flip(np.flip(a, axis).copy(), axis)
    if layout == "zero_stride":                  # broadcast view, stride 0
        idx = [slice(None)] * a.ndim
        idx[axis] = slice(0, 1)
        return np.broadcast_to(a[tuple(idx)], a.shape)
    out = a.copy()                               # readonly
    out.setflags(write=False)
    return out


@st.composite
def laid_out_array(draw, dtype, shape, bound=100.0):
    return draw(layout_of(draw(arrays(dtype, shape, bound))))


# ---------------------------------------------------------------------------
# Weights
# ---------------------------------------------------------------------------

@st.composite
def ones_replaced(draw, shape):
    """`shape` with some dims replaced by 1 (strictly broadcastable to it)."""
    return tuple(1 if draw(st.booleans()) else d for d in shape)


@st.composite
def weight_shape(draw, loss_shape, keras):
    """Mostly legal weight shapes for losses of `loss_shape`, sometimes any shape.

    keras=True adds the shapes that Keras squeezes (+[1]) or expands (rank-1).
    Illegal shapes check that cosloss raises ValueError whenever the
    reference (TF) does.
    """
    loss_shape = tuple(loss_shape)
    options = ["scalar", "same", "ones", "random"]
    if keras:
        options += ["plus_one", "drop_last"] if loss_shape else ["plus_one"]
    kind = draw(st.sampled_from(options))
    if kind == "scalar":
        return ()
    if kind == "same":
        return loss_shape
    if kind == "ones":
        return draw(ones_replaced(loss_shape))
    if kind == "plus_one":
        return draw(ones_replaced(loss_shape)) + (1,)
    if kind == "drop_last":
        return draw(ones_replaced(loss_shape[:-1]))
    return draw(hnp.array_shapes(min_dims=0, max_dims=len(loss_shape) + 2,
                                 min_side=1, max_side=4))


def nonneg_weight_array(shape, dtype=f32):
    return hnp.arrays(dtype, shape, elements=st.sampled_from(NONNEG_WEIGHTS))


@st.composite
def weights_for(draw, loss_shape, keras, signed=True):
    shape = draw(weight_shape(loss_shape, keras))
    dtype = draw(st.sampled_from([f32, f64]))
    values = SIGNED_WEIGHTS if signed else NONNEG_WEIGHTS
    return draw(hnp.arrays(dtype, shape, elements=st.sampled_from(values)))


# ---------------------------------------------------------------------------
# Keras input pairs
# ---------------------------------------------------------------------------

@st.composite
def keras_pair_shapes(draw, allow_broadcast=True):
    """(y_true shape, y_pred shape, axis).

    Equal shapes take any axis; numpy-broadcastable shapes (like y_true [D]
    against y_pred [N, D]) take a negative axis within the smaller rank.
    """
    if allow_broadcast and draw(st.booleans()):
        bs = draw(hnp.mutually_broadcastable_shapes(
            num_shapes=2, min_dims=1, max_dims=4, min_side=0, max_side=4))
        t_shape, p_shape = bs.input_shapes
        if draw(st.booleans()):
            t_shape, p_shape = p_shape, t_shape
        rank = min(len(t_shape), len(p_shape))
        # The reduced dims may broadcast too (1 vs D): TF normalizes each
        # input first, then t*p broadcasts (§5).
        axis = draw(st.integers(-rank, -1))
        return t_shape, p_shape, axis
    shape = draw(shapes())
    return shape, shape, draw(single_axis(len(shape)))
