"""tf.nn.l2_normalize (identical in TensorFlow 1.15 and 2.x).

Example:
    >>> cosloss.nn.l2_normalize([[3., 4.]], axis=1)
    array([[0.6, 0.8]], dtype=float32)
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from cosloss._losses.base import face
from cosloss._losses.normalize import L2_NORMALIZE

__all__ = ["l2_normalize"]


@face(L2_NORMALIZE)
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

    Complex input is normalized as TensorFlow 2.x does it: the sum is of
    `real(x)**2 + imag(x)**2`, epsilon is converted to the real dtype
    (float32 for complex64), and the result keeps x's complex dtype. Its
    gradient (`cosloss.value_and_grad`) is TensorFlow's: for a complex
    upstream g, d/d(re) + i·d/d(im) of `Re(sum(conj(g) * output))`.

    Args:
        x: A float16, float32, float64, complex64 or complex128 array, or
            anything `np.asarray` takes (Python float lists become float32,
            complex lists complex128, as in TensorFlow).
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
        TypeError: `x` has an integer or bool dtype (or a complex one other
            than complex64 and complex128) or is a numpy masked array, an axis is not an int, `epsilon` is a string or
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
        >>> cosloss.nn.l2_normalize(np.array([3 + 4j, 0j], np.complex64))
        array([0.6+0.8j, 0. +0.j ], dtype=complex64)
    """
    return L2_NORMALIZE.value(x, axis, epsilon, name, dim)
