"""Turning user input into arrays the Go core can read, TensorFlow's way.

Conversion follows tf.convert_to_tensor: Python floats become float32 and
Python ints int32, while numpy arrays (and anything with __array__) keep
their dtype. Nothing here copies an input unless its memory layout cannot be
described to Go as outer × axis × inner with non-negative strides.
"""

from __future__ import annotations

import math
from numbers import Number
from typing import Any

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))


def convert(value: Any, name: str) -> np.ndarray:
    """An ndarray for value, typed as TensorFlow would type it."""
    if value is None:
        raise ValueError(f"{name} must not be None.")
    if isinstance(value, (list, tuple, Number)) and not isinstance(value, np.generic):
        arr = _python_to_array(value, name)
    else:
        try:
            arr = np.asarray(value)
        except (ValueError, TypeError) as err:
            raise ValueError(f"{name} could not be converted to an array: {err}") from None
    kind = arr.dtype.kind
    if kind == "c":
        raise TypeError(f"{name} has complex dtype {arr.dtype}; cosloss supports real "
                        f"dtypes (float16, float32, float64, and ints where TensorFlow casts them)")
    if kind not in "fiub":
        raise TypeError(f"{name} must hold real numbers, got an array of dtype {arr.dtype}")
    if not arr.dtype.isnative:
        arr = arr.astype(arr.dtype.newbyteorder("="))
    return arr


def _python_to_array(value: Any, name: str) -> np.ndarray:
    try:
        arr = np.asarray(value)
    except ValueError as err:  # ragged nested lists
        raise ValueError(f"{name} could not be converted to an array: {err}") from None
    if arr.dtype == np.float64:
        return arr.astype(np.float32)
    if arr.dtype.kind in "iu":
        return arr.astype(np.int32)
    return arr


def require_float(arr: np.ndarray, name: str, op: str) -> None:
    """TypeError unless arr has a dtype the TensorFlow op accepts uncast."""
    if arr.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{op} needs {name} of a floating dtype (float16, float32 or float64), "
                        f"got {arr.dtype}; TensorFlow does not cast it either. Cast {name} "
                        f"to a float dtype first.")


def require_same_dtype(a: np.ndarray, a_name: str, b: np.ndarray, b_name: str) -> None:
    if a.dtype != b.dtype:
        raise TypeError(f"{a_name} has dtype {a.dtype} but {b_name} has dtype {b.dtype}; "
                        f"TensorFlow's Mul rejects mixed dtypes. Cast one of them.")


def normalize_axis(axis: Any, ndim: int, name: str = "axis") -> int:
    """A non-negative axis, or ValueError naming the argument."""
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {axis!r} of type {type(axis).__name__}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{name}={axis} is out of range for an input of rank {ndim}; "
                         f"expected an int in [{-ndim}, {ndim})")
    return int(axis) % ndim


def broadcast_shape(a: np.ndarray, a_name: str, b: np.ndarray, b_name: str,
                    ) -> tuple[int, ...]:
    try:
        return np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(f"Incompatible shapes: {a_name} has shape {a.shape} and {b_name} "
                         f"has shape {b.shape}, which do not broadcast") from None


def compute_dtype(dtype: np.dtype) -> np.dtype:
    """The dtype the Go core computes in: float16 is computed in float32."""
    return np.dtype(np.float32) if dtype == np.float16 else dtype


def view3(arr: np.ndarray, axis: int) -> tuple[np.ndarray, tuple[int, ...]]:
    """arr as an outer × len × inner view reduced along axis, and its strides.

    Returns (view, strides in elements). The view shares memory with arr
    when numpy can express it; otherwise it is a C-ordered copy.
    """
    shape = arr.shape
    dims = (math.prod(shape[:axis]), shape[axis], math.prod(shape[axis + 1:]))
    try:
        v = arr.reshape(dims, copy=False)
    except ValueError:
        if arr.strides[axis] == 0 and shape[axis] > 1:
            # Broadcast along the axis: copy one step of it and broadcast
            # that, so the zero stride (which the Go core reads as a
            # length-1 input) survives the copy.
            first = np.ascontiguousarray(arr[(slice(None),) * axis + (slice(0, 1),)])
            v = np.broadcast_to(first.reshape(dims[0], 1, dims[2]), dims)
        else:
            v = np.ascontiguousarray(arr).reshape(dims)
    size = v.dtype.itemsize
    if not v.flags.aligned or any(s < 0 or s % size for s in v.strides):
        v = np.ascontiguousarray(v)
    # A dimension of length 1 is never stepped over, so its stride is moot;
    # zero keeps Go's bounds check from seeing an arbitrary value.
    strides = tuple(0 if d == 1 else s // size for d, s in zip(v.shape, v.strides))
    return v, strides


def check_out(out: object, count: int) -> tuple[np.ndarray, ...] | None:
    """out= of value_and_grad: None, or a tuple of count writeable ndarrays."""
    if out is None:
        return None
    if (not isinstance(out, tuple) or len(out) != count
            or not all(isinstance(o, np.ndarray) for o in out)):
        got = (f"a tuple of {len(out)}: ({', '.join(type(o).__name__ for o in out)})"
               if isinstance(out, tuple) else type(out).__name__)
        raise TypeError(f"out must be a tuple of {count} numpy arrays, one per gradient, got {got}")
    for i, o in enumerate(out):
        if not o.flags.writeable:
            raise ValueError(f"out[{i}] is read-only")
    return out


def deliver(grads: tuple[np.ndarray, ...], out: tuple[np.ndarray, ...] | None,
            ) -> tuple[np.ndarray, ...]:
    """grads, or out holding them: the numpy convention for out= arguments.

    Each out[i] must have its gradient's exact shape and dtype; a gradient
    the core already wrote into out[i] is not copied again.
    """
    if out is None:
        return grads
    for i, (g, o) in enumerate(zip(grads, out)):
        if o.shape != g.shape:
            raise ValueError(f"out[{i}] must have the gradient's shape {g.shape}, got {o.shape}")
        if o.dtype != g.dtype:
            raise TypeError(f"out[{i}] must have the gradient's dtype {g.dtype}, got {o.dtype}")
    for g, o in zip(grads, out):
        if g is not o:
            np.copyto(o, g)
    return out
