"""tf.nn.l2_normalize (identical in TensorFlow 1.15 and 2.x)."""

from cosloss import _ops
from cosloss._arrays import convert, normalize_axis, require_float

__all__ = ["l2_normalize"]


def _lookup_axis(axis, dim):
    """TF's deprecated_argument_lookup for the old name dim."""
    if dim is not None:
        if axis is not None:
            raise ValueError("Cannot specify both 'dim' and 'axis'")
        return dim
    return axis


def l2_normalize(x, axis=None, epsilon=1e-12, name=None, dim=None):
    """Scale x to unit L2 norm along axis: x · rsqrt(max(Σx², epsilon)).

    epsilon floors the squared norm, so a zero vector stays zero and a
    vector with norm below sqrt(epsilon) = 1e-6 is scaled by 1e6 rather
    than to unit length. epsilon is converted to x's dtype: in float16 it
    is 0, so zero vectors give NaN there, as in TensorFlow.

    Args:
        x: a float16/float32/float64 array (Python float lists become float32).
        axis: an int, a list of ints, or None for all axes.
        epsilon: the floor on Σx². name: ignored (TF graph naming).
        dim: deprecated alias of axis.

    Returns:
        An array of x's shape and dtype.

    Raises:
        TypeError: x has an integer or complex dtype.
        ValueError: x is None, axis out of range or repeated, both dim and axis.

    Example:
        >>> cosloss.nn.l2_normalize([3., 4.])
        array([0.6, 0.8], dtype=float32)
    """
    x, axes = _prepare(x, axis, dim)
    return _ops.l2_normalize(x, axes, epsilon)


def _prepare(x, axis, dim):
    """(x as a float array, the sorted non-negative axes), after TF's checks."""
    axis = _lookup_axis(axis, dim)
    x = convert(x, "x")
    require_float(x, "x", "l2_normalize")
    if axis is None:
        return x, tuple(range(x.ndim))
    listed = list(axis) if isinstance(axis, (list, tuple)) else [axis]
    axes = tuple(sorted(normalize_axis(a, x.ndim) for a in listed))
    if len(set(axes)) != len(axes):
        raise ValueError(f"axis {axis!r} repeats an axis of x (shape {x.shape})")
    return x, axes
