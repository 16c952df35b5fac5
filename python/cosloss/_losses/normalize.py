"""tf.nn.l2_normalize as a loss object (identical in TensorFlow 1.15 and 2.x)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from cosloss._core import ops
from cosloss._core.arrays import (COMPLEX_DTYPES, check_out, convert, deliver, normalize_axes,
                                  real_scalar, require_float, str_or_none)
from cosloss._losses.base import Loss, Result
from cosloss._losses.reductions import upstream_for

Axes = int | list[int] | tuple[int, ...] | None


def lookup_axis(axis: Any, dim: Any) -> Any:
    """TF's deprecated_argument_lookup for the old name dim."""
    if dim is not None:
        if axis is not None:
            raise ValueError("Cannot specify both 'dim' and 'axis'")
        return dim
    return axis


class L2Normalize(Loss):
    """x · rsqrt(max(Σx², ε)) over axes, with tf.nn.l2_normalize's arguments and checks.

    Arguments in the face's order: x, axis, epsilon, name, dim. The
    gradient is TensorFlow's autodiff gradient (inv·g − inv³·x·Σ(g·x) where
    Σx² ≥ ε, inv·g elsewhere), written by the Go core in the pass that
    computes the value. Complex x (complex64, complex128) is TF 2.x's
    complex branch, computed by the Go core on x's (re, im) pairs (see
    cosloss._core.ops).
    """

    def value(self, x: ArrayLike, axis: Axes = None, epsilon: Any = 1e-12, name: Any = None,
              dim: Axes = None) -> np.ndarray:
        x, axes, epsilon = self.prepare(x, axis, dim, epsilon, name)
        return ops.l2_normalize(x, axes, epsilon)

    def value_and_grad(self, x: ArrayLike, axis: Axes = None, epsilon: Any = 1e-12,
                       name: Any = None, dim: Axes = None, *, upstream: ArrayLike | None = None,
                       out: Any = None) -> Result:
        out = check_out(out, 1)
        x, axes, epsilon = self.prepare(x, axis, dim, epsilon, name)
        g = upstream_for(upstream, x.shape, x.dtype)
        value, dx = ops.l2_normalize_grad(x, axes, epsilon, g)
        return value, deliver((dx,), out)

    def prepare(self, x: ArrayLike, axis: Axes, dim: Axes, epsilon: Any, name: Any,
                ) -> tuple[np.ndarray, tuple[int, ...], float]:
        """(x as a float or complex array, the sorted non-negative axes, epsilon), after TF's checks."""
        axis_name = "axis" if dim is None else "dim"  # errors name what the caller passed
        axis = lookup_axis(axis, dim)
        # name is unused, but TensorFlow's graph mode (TF 1.15's default) takes
        # only a str (or bytes) as an op name.
        str_or_none(name, "name", allow_bytes=True)
        x = convert(x, "x", complex_ok=True)
        if x.dtype not in COMPLEX_DTYPES:
            require_float(x, "x", "l2_normalize")
        if axis is None:
            return x, tuple(range(x.ndim)), real_scalar(epsilon, "epsilon")
        axes = normalize_axes(axis, x.ndim, axis_name)
        # TensorFlow converts epsilon last, in maximum(sum of squares, epsilon).
        return x, (axes,) if isinstance(axes, int) else axes, real_scalar(epsilon, "epsilon")


L2_NORMALIZE = L2Normalize()
