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
from cosloss._arrays import (convert, describe, normalize_axis, real_scalar, refuse_masked,
                             require_float, str_or_none)

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
            from the end; numpy ints and 0-d int arrays too), a list, tuple
            or 1-d array of ints, or None (the default) for all dimensions.
        epsilon: The lower bound on the sum of squares: a real scalar (a
            float, int or bool, a numpy scalar or a 0-d array), converted
            to x's dtype.
        name: Ignored (TensorFlow's op name); a str, bytes or None.
        dim: Deprecated alias of `axis`.

    Returns:
        An array of x's shape and dtype.

    Raises:
        TypeError: `x` has an integer, bool or complex dtype or is a numpy
            masked array, an axis is not an int, `epsilon` is a string or
            complex, or `name` is not a str, bytes or None.
        ValueError: `x` or `epsilon` is None, `epsilon` is not a scalar,
            an axis is out of range or repeated, both `axis` and `dim` are
            given, or `x` is a Python list TensorFlow cannot convert.

    Example:
        >>> cosloss.nn.l2_normalize([3., 4.])
        array([0.6, 0.8], dtype=float32)
        >>> cosloss.nn.l2_normalize([[3., 4.], [0., 0.]], axis=1)
        array([[0.6, 0.8],
               [0. , 0. ]], dtype=float32)
        >>> cosloss.nn.l2_normalize([1e-7, 0.])  # norm under 1e-6: scaled by 1e6
        array([0.1, 0. ], dtype=float32)
    """
    x, axes, epsilon = _prepare(x, axis, dim, epsilon, name)
    return _ops.l2_normalize(x, axes, epsilon)


def _prepare(x: ArrayLike, axis: int | list[int] | tuple[int, ...] | None,
             dim: int | list[int] | tuple[int, ...] | None, epsilon: Any, name: Any,
             ) -> tuple[np.ndarray, tuple[int, ...], float]:
    """(x as a float array, the sorted non-negative axes, epsilon), after TF's checks."""
    axis_name = "axis" if dim is None else "dim"  # errors name what the caller passed
    axis = _lookup_axis(axis, dim)
    # name is unused, but TensorFlow's graph mode (TF 1.15's default) takes
    # only a str (or bytes) as an op name.
    str_or_none(name, "name", allow_bytes=True)
    x = convert(x, "x")
    require_float(x, "x", "l2_normalize")
    if axis is None:
        return x, tuple(range(x.ndim)), real_scalar(epsilon, "epsilon")
    refuse_masked(axis, axis_name)
    if isinstance(axis, np.ndarray) and axis.ndim == 1:
        axis = list(axis)  # a 1-d array lists axes, as TensorFlow reads it
    elif isinstance(axis, np.ndarray) and axis.ndim > 1:
        raise TypeError(f"{axis_name} must be an int or a list of ints, got {describe(axis)}")
    listed = list(axis) if isinstance(axis, (list, tuple)) else [axis]
    axes = tuple(sorted(normalize_axis(a, x.ndim, axis_name) for a in listed))
    if len(set(axes)) != len(axes):
        raise ValueError(f"{axis_name} {axis!r} repeats an axis of x (shape {x.shape})")
    # TensorFlow converts epsilon last, in maximum(sum of squares, epsilon).
    return x, axes, real_scalar(epsilon, "epsilon")
