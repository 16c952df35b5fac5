"""Argument checks shared by cosloss.tf.pairwise and cosloss.tf.contrastive.

The numpy faces' rules, applied when the op is built (static shapes and
dtypes); what only the fed values decide is left to TensorFlow's own ops
when the graph runs.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import tensorflow as tf

from cosloss._losses.keras import Reduction

_REFUSED = (tf.float16, tf.bfloat16)


def tensor(x: object, name: str, fn: str) -> tf.Tensor:
    """x as a tensor of a real dtype (TypeError names the argument otherwise)."""
    if x is None:
        raise TypeError(f"{fn} needs {name}, got None")
    x = x if isinstance(x, tf.Tensor) else tf.convert_to_tensor(x)
    dtype = x.dtype
    if dtype in _REFUSED:
        raise TypeError(f"{fn} takes float32 or float64 {name} (integer and bool inputs are "
                        f"computed in float64), got {name} of dtype {dtype.name}")
    if not (dtype.is_floating or dtype.is_integer or dtype == tf.bool):
        raise TypeError(f"{fn} needs {name} of a real dtype (float32 or float64), got "
                        f"{dtype.name}")
    return x


def compute_dtype(tensors: Sequence[tf.Tensor]) -> tf.DType:
    """float32 when every input is float32, otherwise float64 (the numpy faces' rule)."""
    return tf.float32 if all(t.dtype == tf.float32 for t in tensors) else tf.float64


def as_dtype(tensors: Sequence[tf.Tensor], dtype: tf.DType) -> list[tf.Tensor]:
    """The tensors cast to dtype (a float32 input's gradient comes back in float32)."""
    return [t if t.dtype == dtype else tf.cast(t, dtype) for t in tensors]


def rank(x: tf.Tensor, name: str, fn: str, ranks: tuple[int, ...] = (2,),
         what: str = "a 2-D (rows, features) tensor") -> None:
    """ValueError naming x when its static rank is not one of ranks."""
    if x.shape.rank is not None and x.shape.rank not in ranks:
        raise ValueError(f"{fn} needs {name} as {what}, got {name} of shape "
                         f"{tuple(x.shape.as_list())}")


def same_dim(x: tf.Tensor, x_name: str, y: tf.Tensor, y_name: str, fn: str, axis_x: int,
             axis_y: int, what: str) -> None:
    """ValueError when the static sizes x.shape[axis_x] and y.shape[axis_y] differ."""
    if x.shape.rank is None or y.shape.rank is None:
        return
    a, b = x.shape[axis_x], y.shape[axis_y]
    if a is not None and b is not None and a != b:
        raise ValueError(f"{fn} needs {x_name} and {y_name} with the same {what}, got "
                         f"{x_name} of shape {tuple(x.shape.as_list())} and {y_name} of shape "
                         f"{tuple(y.shape.as_list())}")


def real(value: object, name: str, fn: str) -> float:
    """value as a Python float (TypeError unless a real number)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{fn} needs {name} as a real number, got {value!r}")
    return float(value)


def flag(value: object, name: str, fn: str) -> bool:
    if not isinstance(value, (bool, int)) or isinstance(value, float):
        raise TypeError(f"{fn} needs {name} as a bool, got {value!r}")
    return bool(value)


def reduction(key: object) -> str:
    """A Keras reduction key (Reduction.validate's ValueError otherwise)."""
    Reduction.validate(key)  # type: ignore[arg-type]
    return key  # type: ignore[return-value]


def sample_weight(weights: object, anchors: tf.Tensor, fn: str) -> tf.Tensor | None:
    """Per-sample weights: None, a scalar, or (B,); they get no gradient."""
    if weights is None:
        return None
    w = tensor(weights, "sample_weight", fn)
    rank(w, "sample_weight", fn, (0, 1), "a scalar or a (batch,) tensor")
    if w.shape.rank == 1:
        same_dim(w, "sample_weight", anchors, "anchors", fn, 0, 0, "batch size")
    return tf.stop_gradient(w)
