"""Turning user input into arrays the Go core can read, TensorFlow's way.

Conversion follows tf.convert_to_tensor: numpy arrays (and anything with
__array__) keep their dtype, and Python scalars and nested lists or tuples
are typed as TensorFlow types them (see _python_to_array): floats become
float32, ints int32, or int64 when a value does not fit int32. Nothing
here copies an input unless its memory layout cannot be described to Go as
outer × axis × inner with non-negative strides.
"""

from __future__ import annotations

import contextlib
import math
import operator
import reprlib
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from numbers import Number
from typing import Any

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))
COMPLEX_DTYPES = (np.dtype(np.complex64), np.dtype(np.complex128))  # l2_normalize takes them

_INT32_MIN, _INT32_MAX = -2**31, 2**31 - 1

# Who allocates the arrays the Go core writes results into (empty); a caller
# that hands them on, cosloss.tf's go backend, can choose (allocating_with).
_allocator = threading.local()
# How many allocating_with blocks are open on any thread: while none is,
# empty skips the thread-local lookup, which cost 0.6 us of a 4 us call.
_allocators_open = 0
_allocators_lock = threading.Lock()


def empty(shape: Any, dtype: Any) -> np.ndarray:
    """An uninitialized C-contiguous result array: np.empty, or this thread's
    allocating_with allocator."""
    if not _allocators_open:
        return np.empty(shape, dtype)
    allocate = getattr(_allocator, "fn", None)
    return np.empty(shape, dtype) if allocate is None else allocate(shape, dtype)


@contextlib.contextmanager
def allocating_with(allocate: Callable[[Any, Any], np.ndarray]) -> Iterator[None]:
    """Result arrays on this thread come from allocate(shape, dtype) inside the block."""
    global _allocators_open
    previous = getattr(_allocator, "fn", None)
    _allocator.fn = allocate
    with _allocators_lock:
        _allocators_open += 1
    try:
        yield
    finally:
        with _allocators_lock:
            _allocators_open -= 1
        _allocator.fn = previous
_INT64_MIN, _INT64_MAX = -2**63, 2**63 - 1


def describe(value: Any) -> str:
    """value for an error message: an array by shape and dtype, anything else by repr and type."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"{reprlib.repr(value)} of type {type(value).__name__}"


def refuse_masked(value: Any, name: str) -> None:
    """TypeError for a numpy masked array, whose mask cosloss (like TensorFlow) would ignore.

    numpy.ma is not imported here: a masked array can only exist once it
    has been, so looking it up in sys.modules keeps the check cheap.
    """
    ma = sys.modules.get("numpy.ma")
    if ma is None or not isinstance(value, ma.MaskedArray):
        return
    ignored = f"{name} is a numpy masked array, whose mask cosloss (like TensorFlow) would ignore."
    if name in ("axis", "dim", "epsilon"):
        raise TypeError(f"{ignored} Pass a plain number.")
    if name in ("sample_weight", "weights"):
        raise TypeError(f"{ignored} Pass {name}.filled(0): weight 0 leaves a sample out, "
                        f"which is what the mask meant.")
    raise TypeError(f"{ignored} Pass {name}.filled(0) (or {name}.data) instead, and leave the "
                    f"masked samples out with weight 0: sample_weight for the Keras losses and "
                    f"metric, weights for cosine_distance and compute_weighted_loss.")


def convert(value: Any, name: str, complex_ok: bool = False) -> np.ndarray:
    """An ndarray for value, typed as TensorFlow would type it.

    Complex arrays are refused unless complex_ok (tf.nn.l2_normalize takes
    them); Python complex numbers become complex128, as in TensorFlow.
    """
    if value is None:
        raise ValueError(f"{name} must not be None.")
    if isinstance(value, (list, tuple, Number)) and not isinstance(value, np.generic):
        arr = _python_to_array(value, name)
    else:
        refuse_masked(value, name)
        try:
            arr = np.asarray(value)
        except (ValueError, TypeError) as err:
            raise ValueError(f"{name} could not be converted to an array: {err}") from None
    kind = arr.dtype.kind
    if kind == "c" and not (complex_ok and arr.dtype in COMPLEX_DTYPES):
        raise TypeError(f"{name} has complex dtype {arr.dtype}; cosloss supports real "
                        f"dtypes (float16, float32, float64, and ints where TensorFlow casts them)")
    if kind not in "fiubc":
        raise TypeError(f"{name} must hold real numbers, got an array of dtype {arr.dtype}")
    if not arr.dtype.isnative:
        arr = arr.astype(arr.dtype.newbyteorder("="))
    return arr


# ---- Python scalars and sequences: tf.convert_to_tensor's rules ------------------
#
# TensorFlow (python/lib/core/py_seq_tensor.cc) takes the dtype from the
# first scalar of the sequence (element 0 at every level): a Python float
# gives float32, np.float64 float64, np.float16 float16, other numpy floats
# float32, a bool bool, an int (Python or numpy) int32 or int64. It then
# converts every element in order. Ints are tried as int32, then int64 once
# one needs it, then float32 once a float turns up; an int outside int64
# before any float is an error, and so is a bool where ints or floats are
# expected to follow a bool. A float that overflows float32 is an error, an
# int that does is inf. numpy does the arithmetic here; the element-by-
# element walk (_convert_like_tf) runs only where numpy's typing cannot
# decide (ragged, object or mixed-up input, or an overflow).
#
# One difference is kept for speed: a np.bool_ among ints or floats counts
# as 0 or 1 here, where TensorFlow reports mixed types. Telling it apart
# would mean looking at the type of every element of every list.

_EMPTY = object()  # the first scalar of a sequence that has none


_OUT_OF_RANGE_INT = "Can't convert Python sequence with out-of-range integer to Tensor."
_OUT_OF_RANGE_FLOAT = ("Can't convert Python sequence with a value out of range for a "
                       "double-precision float.")
_MIXED = "Can't convert Python sequence with mixed types to Tensor."


def _tf_error(sentence: str, name: str, detail: str) -> ValueError:
    # TensorFlow's own sentence first, so that its users recognise the error.
    return ValueError(f"{sentence} {name} {detail}")


def _int_out_of_range(name: str, v: int) -> ValueError:
    return _tf_error(_OUT_OF_RANGE_INT, name,
                     f"holds the int {reprlib.repr(v)}, outside int64's range; TensorFlow types "
                     f"Python ints int32, or int64 when one does not fit int32. Pass floats, "
                     f"or a numpy array of the dtype you mean.")


def _scalar(obj: Any) -> Any:
    """obj, or the scalar of a 0-d array (TensorFlow's ZeroDimArrayToScalar)."""
    return obj[()] if isinstance(obj, np.ndarray) and obj.ndim == 0 else obj


def _is_sequence(obj: Any) -> bool:
    return isinstance(obj, (Sequence, np.ndarray)) and not isinstance(obj, (str, bytes))


def _first_scalar(value: Any) -> tuple[list[int], Any]:
    """(shape, first scalar) as TensorFlow infers them, following element 0 down."""
    shape: list[int] = []
    obj = _scalar(value)
    while _is_sequence(obj):
        shape.append(len(obj))
        if not len(obj):
            return shape, _EMPTY
        obj = _scalar(obj[0])
    return shape, obj


def _target(first: Any) -> Any:
    """The dtype TensorFlow gives a sequence whose first scalar is first ("int": int32 or int64)."""
    if isinstance(first, (str, bytes)):
        return "str"
    if isinstance(first, np.float64):  # a subclass of float: test it first
        return np.dtype(np.float64)
    if isinstance(first, np.float16):
        return np.dtype(np.float16)
    if isinstance(first, (float, np.floating)):
        return np.dtype(np.float32)
    if isinstance(first, (bool, np.bool_)):  # bool is a subclass of int: test it first
        return np.dtype(np.bool_)
    if isinstance(first, (int, np.integer)):
        return "int"
    if isinstance(first, (complex, np.complexfloating)):
        return "complex"
    return None


def _python_to_array(value: Any, name: str) -> np.ndarray:
    """value (a Python scalar, list or tuple) as tf.convert_to_tensor types it."""
    shape, first = _first_scalar(value)
    target = _target(first)
    if first is not _EMPTY and target is None:
        raise ValueError(f"Attempt to convert a value ({reprlib.repr(first)}) with an "
                         f"unsupported type ({type(first)!r}) to a Tensor. {name} must hold "
                         f"numbers (bools, ints or floats).")
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError, OverflowError):
        arr = None  # ragged, or numbers numpy cannot hold
    if arr is None or arr.dtype.kind not in "biuf":
        return _convert_like_tf(value, name, shape, first, target)
    if first is _EMPTY:
        return arr.astype(np.float32)  # TensorFlow types an empty sequence float32
    if target == np.dtype(np.bool_):
        # numpy makes a bool array only of bools; anything else mixes types.
        return arr if arr.dtype.kind == "b" else _convert_like_tf(value, name, shape, first, target)
    if target == "int":
        if arr.dtype.kind in "iu":
            return _int_array(arr, name)
        # Ints and floats. An int outside int64 before the first float is an
        # error, which float64 values cannot tell; look at such input closely.
        if (np.abs(arr) >= 2.0**63).any():  # (not max(): a NaN would hide the rest)
            return _convert_like_tf(value, name, shape, first, target)
        target = np.dtype(np.float32)
    with np.errstate(over="ignore"):
        out = arr.astype(target)
    if not np.isfinite(out).all() and (np.isinf(out) & np.isfinite(arr)).any():
        # An overflow: an error for a float, inf for an int. Only the
        # elements themselves say which.
        return _convert_like_tf(value, name, shape, first, target)
    return out


def _int_array(arr: np.ndarray, name: str) -> np.ndarray:
    """An all-int arr as int32 when every value fits, else int64; beyond int64 is an error."""
    if not arr.size:
        return arr.astype(np.int32)
    low, high = int(arr.min()), int(arr.max())
    if _INT32_MIN <= low and high <= _INT32_MAX:
        return arr.astype(np.int32)
    if _INT64_MIN <= low and high <= _INT64_MAX:
        return arr.astype(np.int64)
    raise _int_out_of_range(name, high if high > _INT64_MAX else low)


def _convert_like_tf(value: Any, name: str, shape: list[int], first: Any, target: Any,
                     ) -> np.ndarray:
    """TensorFlow's element-by-element conversion, for input numpy cannot type its way."""
    if first is _EMPTY:
        # TensorFlow does not look past an empty first element: [[], [1]] is (2, 0).
        return np.zeros(shape, np.float32)
    if target in ("str", "complex"):
        try:
            return np.asarray(value)  # convert() then says why cosloss refuses it
        except (ValueError, TypeError):
            pass

    def leaves():
        """Every scalar in order, checking that value is rectangular on the way."""
        def walk(obj, depth):
            obj = _scalar(obj)
            if depth == len(shape):
                yield obj
                return
            if not _is_sequence(obj) or len(obj) != shape[depth]:
                raise ValueError(f"Can't convert non-rectangular Python sequence to Tensor. "
                                 f"{name} has elements of different lengths along dimension "
                                 f"{depth}: the first has {shape[depth]}, another "
                                 f"{len(obj) if _is_sequence(obj) else 'is a scalar'}.")
            for item in obj:
                yield from walk(item, depth + 1)
        return walk(value, 0)

    def mixed(x, expected):
        return _tf_error(_MIXED, name, f"starts with {describe(first)}, so every element must "
                                       f"be {expected}, but one is {describe(x)}.")

    if target == np.dtype(np.bool_):
        bools = []
        for x in leaves():
            if not isinstance(x, (bool, np.bool_)):
                raise mixed(x, "a bool")
            bools.append(bool(x))
        return np.array(bools, np.bool_).reshape(shape)
    if target == "int":
        ints, wide = [], False
        for x in leaves():
            if isinstance(x, (float, np.floating)):
                break  # the rest, and what came before, convert as floats
            if not isinstance(x, (int, np.integer)):  # np.bool_ is not a numpy integer
                raise mixed(x, "an int or a float")
            v = int(x)
            if not _INT64_MIN <= v <= _INT64_MAX:
                raise _int_out_of_range(name, v)
            wide = wide or not _INT32_MIN <= v <= _INT32_MAX
            ints.append(v)
        else:
            return np.array(ints, np.int64 if wide else np.int32).reshape(shape)
        target = np.dtype(np.float32)
    floats = []
    for x in leaves():
        if isinstance(x, (int, np.integer)) and not isinstance(x, np.bool_):
            # Ints (and Python bools) go through a double, unchecked: 2**200 is inf in float32.
            try:
                floats.append(float(x))
            except OverflowError:
                raise _tf_error(_OUT_OF_RANGE_FLOAT, name,
                                f"holds the int {reprlib.repr(x)}, too large for a float64.") from None
        elif isinstance(x, (float, np.floating)):
            v = float(x)
            with np.errstate(over="ignore"):
                overflows = math.isfinite(v) and not np.isfinite(target.type(v))
            if overflows:
                raise _tf_error(_OUT_OF_RANGE_FLOAT, name,
                                f"holds {v!r}, which overflows {target}, the dtype TensorFlow "
                                f"gives this sequence (from its first element, "
                                f"{describe(first)}).")
            floats.append(v)
        else:
            raise mixed(x, "an int or a float")
    with np.errstate(over="ignore"):
        return np.array(floats, np.float64).astype(target).reshape(shape)


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


def axis_index(axis: Any, name: str = "axis") -> int:
    """axis as a Python int, or TypeError naming the argument.

    Python and numpy ints and 0-d integer arrays are ints, as TensorFlow
    takes them. bools are refused although TensorFlow reads True as 1: an
    axis of True is far likelier a mistake than a request for axis 1.
    """
    refuse_masked(axis, name)
    if isinstance(axis, (bool, np.bool_)) or (isinstance(axis, np.ndarray)
                                              and axis.dtype.kind not in "iu"):
        raise TypeError(f"{name} must be an int, got {describe(axis)}")
    try:
        return operator.index(axis)  # ints, numpy ints and 0-d int arrays
    except TypeError:
        raise TypeError(f"{name} must be an int, got {describe(axis)}") from None


def normalize_axis(axis: Any, ndim: int, name: str = "axis") -> int:
    """A non-negative axis, or TypeError/ValueError naming the argument."""
    axis = axis_index(axis, name)
    if not -ndim <= axis < ndim:
        raise ValueError(f"{name}={axis} is out of range for an input of rank {ndim}; "
                         f"expected an int in [{-ndim}, {ndim})")
    return axis % ndim


def axes_arg(axis: Any, name: str = "axis") -> int | list[int] | tuple[int, ...]:
    """An axis argument that may list axes, checked without a rank: an int, or its ints.

    An int (as axis_index takes it) comes back as an int; a list, a tuple or
    a 1-d int array of them comes back as a list or tuple of Python ints
    (an array as a list), as TensorFlow's reductions take them. Ranges and
    repeats depend on the input's rank: normalize_axes checks them.
    """
    refuse_masked(axis, name)
    if isinstance(axis, np.ndarray) and axis.ndim == 1:
        axis = list(axis)  # a 1-d array lists axes, as TensorFlow reads it
    if isinstance(axis, (list, tuple)):
        ints = [_listed_axis(a, axis, name) for a in axis]
        return ints if isinstance(axis, list) else tuple(ints)
    if isinstance(axis, np.ndarray) and axis.ndim > 1:
        raise TypeError(f"{name} must be an int or a list of ints, got {describe(axis)}")
    return axis_index(axis, name)


def _listed_axis(a: Any, axis: Any, name: str) -> int:
    if isinstance(a, (list, tuple, np.ndarray)) and np.ndim(a) > 0:
        # TensorFlow flattens nested axes; cosloss takes one level, as documented.
        raise TypeError(f"{name} must be an int or a list of ints, got {describe(axis)}, "
                        f"which nests {describe(a)}")
    return axis_index(a, name)


def normalize_axes(axis: Any, ndim: int, name: str = "axis") -> int | tuple[int, ...]:
    """An axis argument for an input of rank ndim: a non-negative int, or sorted axes.

    An int, or a list of one axis, gives a non-negative int; any other list
    (the empty one included) a sorted tuple of non-negative axes. Errors
    name the argument: TypeError for what is not an int (axes_arg),
    ValueError for an axis out of range or repeated.
    """
    axis = axes_arg(axis, name)
    if not isinstance(axis, (list, tuple)):
        return normalize_axis(axis, ndim, name)
    axes = sorted(normalize_axis(a, ndim, name) for a in axis)
    if len(set(axes)) != len(axes):
        raise ValueError(f"{name}={axis!r} repeats an axis of an input of rank {ndim}; "
                         f"TensorFlow's reductions refuse it (\"Axes contains duplicate "
                         f"dimension\")")
    return axes[0] if len(axes) == 1 else tuple(axes)


def reduced_shape(shape: tuple[int, ...], axis: int | tuple[int, ...],
                  keepdims: bool = False) -> tuple[int, ...]:
    """shape without axis (an int or a tuple of axes), or with it set to 1 for keepdims."""
    axes = (axis,) if isinstance(axis, int) else axis
    if keepdims:
        return tuple(1 if a in axes else d for a, d in enumerate(shape))
    return tuple(d for a, d in enumerate(shape) if a not in axes)


def real_scalar(value: Any, name: str) -> float:
    """A real scalar argument (epsilon) as a float, with TensorFlow's errors.

    TensorFlow converts it to the input's dtype: bools, ints, floats, numpy
    real scalars and 0-d real arrays are accepted; None and other objects
    raise ValueError, strings and complex numbers TypeError. An array of
    more than one element, which TensorFlow would broadcast, is refused.
    """
    if value is None:
        raise ValueError(f"Attempt to convert a value (None) with an unsupported type "
                         f"(<class 'NoneType'>) to a Tensor. {name} must be a real number "
                         f"(a float, int or bool), got None.")
    refuse_masked(value, name)
    if isinstance(value, (str, bytes, complex, np.complexfloating)):
        raise TypeError(f"{name} must be a real number (a float, int or bool), "
                        f"got {describe(value)}")
    if isinstance(value, (bool, int, float)):
        try:
            return float(value)
        except OverflowError:
            raise ValueError(f"{name} must be a real number within float64's range, "
                             f"got {describe(value)}") from None
    if isinstance(value, (list, tuple)):
        raise ValueError(f"{name} must be a scalar, got {describe(value)}")
    if not isinstance(value, (np.ndarray, np.generic)):
        raise ValueError(f"Attempt to convert a value ({reprlib.repr(value)}) with an "
                         f"unsupported type ({type(value)!r}) to a Tensor. {name} must be a "
                         f"real number (a float, int or bool).")
    arr = np.asarray(value)
    if arr.dtype.kind in "cUS":
        raise TypeError(f"{name} must be a real number (a float, int or bool), "
                        f"got {describe(value)}")
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be a real number (a float, int or bool), "
                         f"got {describe(value)}")
    if arr.ndim:
        raise ValueError(f"{name} must be a scalar, got {describe(value)}")
    return float(arr)


def str_or_none(value: Any, name: str, allow_bytes: bool = False) -> None:
    """TypeError unless value is a str or None (or bytes, where TensorFlow takes them)."""
    kinds = (str, bytes) if allow_bytes else (str,)
    if value is not None and not isinstance(value, kinds):
        expected = "a str, bytes or None" if allow_bytes else "a str or None"
        raise TypeError(f"{name} must be {expected}, got {describe(value)}")


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


def overlap(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether a and b share an element, exactly (interleaved views do not).

    An overlap too hard for numpy to rule out counts as one.
    """
    try:
        return bool(np.shares_memory(a, b))
    except np.exceptions.TooHardError:
        return True


def check_out(out: object, count: int) -> tuple[np.ndarray, ...] | None:
    """out= of value_and_grad: None, or a tuple of count writeable, disjoint ndarrays."""
    if out is None:
        return None
    if (not isinstance(out, tuple) or len(out) != count
            or not all(isinstance(o, np.ndarray) for o in out)):
        got = (f"a tuple of {len(out)}: ({', '.join(type(o).__name__ for o in out)})"
               if isinstance(out, tuple) else type(out).__name__)
        raise TypeError(f"out must be a tuple of {count} numpy arrays, one per gradient, got {got}")
    ma = sys.modules.get("numpy.ma")
    for i, o in enumerate(out):
        if ma is not None and isinstance(o, ma.MaskedArray):
            # Its mask would hide part of the gradient written under it.
            raise TypeError(f"out[{i}] is a numpy masked array; pass an ndarray "
                            f"(its .data, say) to receive the gradient")
        if not o.flags.writeable:
            raise ValueError(f"out[{i}] is read-only")
    # Each gradient needs memory of its own: where two out arrays share
    # elements, the second gradient would overwrite the first.
    for i in range(count):
        for j in range(i + 1, count):
            if overlap(out[i], out[j]):
                raise ValueError(f"out[{i}] and out[{j}] overlap; each gradient needs memory "
                                 f"of its own, so pass arrays that share no element")
    return out


def check_out_fits(out: tuple[np.ndarray, ...] | None, shapes: tuple[tuple[int, ...], ...],
                   dtype: np.dtype) -> None:
    """deliver's shape and dtype checks, made before anything is computed, so
    that a call which refuses one out array has written none of them."""
    if out is None:
        return
    for i, (o, shape) in enumerate(zip(out, shapes)):
        if o.shape != shape:
            raise ValueError(f"out[{i}] must have the gradient's shape {shape}, got {o.shape}")
        if o.dtype != dtype:
            raise TypeError(f"out[{i}] must have the gradient's dtype {dtype}, got {o.dtype}")


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
