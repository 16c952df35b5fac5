"""tf.nn.l2_normalize (identical in TensorFlow 1.15 and 2.x).

Example:
    >>> cosloss.nn.l2_normalize([[3., 4.]], axis=1)
    array([[0.6, 0.8]], dtype=float32)
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from cosloss import _ops
from cosloss._arrays import convert, normalize_axis, require_float

__all__ = ["l2_normalize"]


def _lookup_axis(axis: Any, dim: Any) -> Any:
    """TF's deprecated_argument_lookup for the old name dim."""
    if dim is not None:
        if axis is not None:
            raise ValueError("Cannot specify both 'dim' and 'axis'")
        return dim
    return axis


def l2_normalize(x: ArrayLike, axis: int | list[int] | tuple[int, ...] | None = None,
                 epsilon: float = 1e-12, name: str | None = None,
                 dim: int | list[int] | tuple[int, ...] | None = None) -> np.ndarray:
    """Normalizes `x` along `axis` to unit L2 norm, as `tf.nn.l2_normalize`.

    For each slice along `axis`:

        output = x * rsqrt(max(sum(x ** 2, axis, keepdims=True), epsilon))

    `epsilon` floors the squared norm, so a zero vector stays zero and a
    vector with norm below sqrt(epsilon) = 1e-6 is scaled by 1e6 rather
    than to unit length. `epsilon` is converted to x's dtype: in float16 it
    is 0, so zero vectors give NaN there, as in TensorFlow.

    Args:
        x: A float16, float32 or float64 array, or anything `np.asarray`
            takes (Python float lists become float32, as in TensorFlow).
        axis: The dimension(s) to normalize along: an int (negative counts
            from the end), a list or tuple of ints, or None (the default)
            for all dimensions.
        epsilon: The lower bound on the sum of squares.
        name: Ignored (TensorFlow's op name).
        dim: Deprecated alias of `axis`.

    Returns:
        An array of x's shape and dtype.

    Raises:
        TypeError: `x` has an integer, bool or complex dtype, or an axis is
            not an int.
        ValueError: `x` is None, an axis is out of range or repeated, both
            `axis` and `dim` are given, or `x` is a Python list TensorFlow
            cannot convert.

    Example:
        >>> cosloss.nn.l2_normalize([3., 4.])
        array([0.6, 0.8], dtype=float32)
        >>> cosloss.nn.l2_normalize([[3., 4.], [0., 0.]], axis=1)
        array([[0.6, 0.8],
               [0. , 0. ]], dtype=float32)
        >>> cosloss.nn.l2_normalize([1e-7, 0.])  # norm under 1e-6: scaled by 1e6
        array([0.1, 0. ], dtype=float32)
    """
    x, axes = _prepare(x, axis, dim)
    return _ops.l2_normalize(x, axes, epsilon)


def _prepare(x: ArrayLike, axis: int | list[int] | tuple[int, ...] | None,
             dim: int | list[int] | tuple[int, ...] | None,
             ) -> tuple[np.ndarray, tuple[int, ...]]:
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
