"""TensorFlow ops whose values and gradients come from cosloss's loss objects."""

from __future__ import annotations

import secrets
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import tensorflow as tf

from cosloss._core.arrays import allocating_with, axes_arg, normalize_axes
from cosloss._losses.base import Loss

# What tf.convert_to_tensor takes: tensors, numpy arrays, Python numbers and lists.
TensorLike = tf.types.experimental.TensorLike

IMPORTED_GRAPH_HINT = (
    "cosloss.tf: if this graph was built in another process and holds cosloss.tf ops of the "
    "go backend (tf.numpy_function registers its Python functions per process), build the "
    "graph in code in this process, or build the ops with backend=\"tf\", which serializes "
    "like TensorFlow's own ops.")


def _name_cosloss_in_missing_callbacks() -> None:
    """Adds IMPORTED_GRAPH_HINT to TensorFlow's "Could not find callback" error.

    A go-backend op imported into a process that has not built it finds no
    function under its token, and TensorFlow's error names neither cosloss
    nor the cure. TensorFlow's C++ side calls one registry object; giving it
    a subclass whose __call__ adds the hint changes nothing else. If
    TensorFlow's internals differ from 2.21's, its own message stays.
    """
    try:
        from tensorflow.python.ops import script_ops
        registry = script_ops._py_funcs
        base = script_ops.FuncRegistry
    except (ImportError, AttributeError):  # pragma: no cover - another TensorFlow
        return
    if type(registry) is not base:
        return

    class HintingRegistry(base):  # type: ignore[misc, valid-type]
        def __call__(self, token: Any, device: Any, args: Any) -> Any:
            if self.get(token, None) is None:
                raise ValueError(f"Could not find callback with key={token} in the registry. "
                                 f"{IMPORTED_GRAPH_HINT}")
            return super().__call__(token, device, args)

    registry.__class__ = HintingRegistry


_name_cosloss_in_missing_callbacks()


def _keyed(fn: Callable[..., Any], key: int, name: str) -> Callable[..., Any]:
    """fn for tf.numpy_function, refusing a call that does not pass key last.

    tf.numpy_function finds its Python function by a token ("pyfunc_N")
    that only this process knows. A graph exported and imported into
    another process can find another op's function under the same token
    and compute the wrong thing without an error. So each op hands its
    functions a key of its own, a constant of the graph that travels with
    it, and they refuse any other.
    """
    def call(*arrays: np.ndarray) -> Any:
        *arrays_, got = arrays
        if int(got) != key:
            raise ValueError(
                f"cosloss.tf: the {name} op was built in another process, and the Python "
                f"function TensorFlow found for it here is not its own (tf.numpy_function "
                f"registers functions per process). Build the graph in code in this process, "
                f"or build the op with backend=\"tf\", which serializes like TensorFlow's "
                f"own ops.")
        # Results the Go core writes go to TensorFlow as they are.
        with allocating_with(tf_empty):
            return fn(*arrays_)
    return call


def numpy_op(forward: Callable[..., Any], backward: Callable[..., Any], inputs: Sequence[tf.Tensor],
             value_dtype: tf.DType, value_shape: tf.TensorShape, name: str,
             constants: Sequence[tf.Tensor] = ()) -> tf.Tensor:
    """A TensorFlow op: forward(*arrays) -> value, backward(*arrays, upstream) -> grads.

    arrays are the inputs, then the constants (which get no gradient, as a
    target does not); backward returns one gradient array per input.
    value_shape is the static shape TensorFlow cannot infer through
    numpy_function.
    """
    n = len(inputs)
    key = secrets.randbits(63)

    @tf.custom_gradient
    def op(*xs: tf.Tensor) -> tuple[tf.Tensor, Callable[[tf.Tensor], list[tf.Tensor | None]]]:
        key_tensor = tf.constant(key, tf.int64)
        value = tf.numpy_function(_keyed(forward, key, name), list(xs) + [key_tensor],
                                  value_dtype, stateful=False, name=name)
        value.set_shape(value_shape)

        def grad(upstream: tf.Tensor) -> list[tf.Tensor | None]:
            grads = tf.numpy_function(_keyed(backward, key, name),
                                      list(xs) + [upstream, key_tensor],
                                      [x.dtype for x in xs[:n]], stateful=False,
                                      name=f"{name}_grad")
            if not isinstance(grads, (list, tuple)):  # eager mode unwraps a single output
                grads = [grads]
            for g, x in zip(grads, xs):
                g.set_shape(x.shape)
            return list(grads) + [None] * (len(xs) - n)

        return value, grad

    return op(*inputs, *constants)


def loss_op(loss: Loss, inputs: Sequence[tf.Tensor], value_dtype: tf.DType,
            value_shape: tf.TensorShape, name: str, *params: Any,
            constants: Sequence[tf.Tensor] = ()) -> tf.Tensor:
    """loss.value(*inputs, *constants, *params) as an op whose gradient is
    loss.value_and_grad's.

    params are the loss's arguments after its array inputs, in its order;
    constants are array inputs that get no gradient.
    """
    n = len(inputs)

    def forward(*arrays: np.ndarray) -> np.ndarray:
        return np.asarray(loss.value(*arrays, *params),  # type: ignore[attr-defined]
                          dtype=value_dtype.as_numpy_dtype)

    def backward(*arrays: np.ndarray) -> list[np.ndarray]:
        *args, upstream = arrays
        _, grads = loss.value_and_grad(*args, *params, upstream=upstream)
        return [np.asarray(g, dtype=a.dtype) for g, a in zip(grads, args[:n])]

    return numpy_op(forward, backward, inputs, value_dtype, value_shape, name, constants)


def face_op(face: Callable[..., Any], inputs: dict[str, tf.Tensor], value_dtype: tf.DType,
            value_shape: tf.TensorShape, name: str, constants: dict[str, tf.Tensor] | None = None,
            **params: Any) -> tf.Tensor:
    """face(**inputs, **constants, **params) as an op whose gradient is
    cosloss.value_and_grad(face, ...)'s.

    inputs (by the face's argument names) get gradients, in the order the
    face's value_and_grad returns them; constants (labels, weights) get none.
    """
    from cosloss._grad import value_and_grad

    names = list(inputs) + list(constants or {})
    n = len(inputs)

    def forward(*arrays: np.ndarray) -> np.ndarray:
        value = face(**dict(zip(names, arrays)), **params)
        return np.asarray(value, dtype=value_dtype.as_numpy_dtype)

    def backward(*arrays: np.ndarray) -> list[np.ndarray]:
        *args, upstream = arrays
        _, grads = value_and_grad(face, upstream=upstream, **dict(zip(names, args)), **params)
        return [np.asarray(g, dtype=a.dtype) for g, a in zip(grads[:n], args[:n])]

    return numpy_op(forward, backward, list(inputs.values()), value_dtype, value_shape, name,
                    list((constants or {}).values()))


def face_pair_op(face: Callable[..., Any], inputs: dict[str, tf.Tensor],
                 dtypes: tuple[tf.DType, tf.DType], shape: tf.TensorShape, name: str,
                 **params: Any) -> tuple[tf.Tensor, tf.Tensor]:
    """A face returning (values, integer indices) as an op; the gradient flows through
    values only, from cosloss.value_and_grad(face, ..., upstream=d values)."""
    from cosloss._grad import value_and_grad

    names = list(inputs)
    key = secrets.randbits(63)

    def forward(*arrays: np.ndarray) -> list[np.ndarray]:
        values, indices = face(**dict(zip(names, arrays)), **params)
        return [np.asarray(values, dtypes[0].as_numpy_dtype),
                np.asarray(indices, dtypes[1].as_numpy_dtype)]

    def backward(*arrays: np.ndarray) -> list[np.ndarray]:
        *args, upstream = arrays
        _, grads = value_and_grad(face, upstream=upstream, **dict(zip(names, args)), **params)
        return [np.asarray(g, dtype=a.dtype) for g, a in zip(grads, args)]

    @tf.custom_gradient
    def op(*xs: tf.Tensor) -> Any:
        key_tensor = tf.constant(key, tf.int64)
        values, indices = tf.numpy_function(_keyed(forward, key, name), list(xs) + [key_tensor],
                                            list(dtypes), stateful=False, name=name)
        values.set_shape(shape)
        indices.set_shape(shape)

        def grad(upstream: tf.Tensor, _indices_upstream: Any = None) -> list[tf.Tensor]:
            grads = tf.numpy_function(_keyed(backward, key, name),
                                      list(xs) + [upstream, key_tensor],
                                      [x.dtype for x in xs], stateful=False,
                                      name=f"{name}_grad")
            if not isinstance(grads, (list, tuple)):
                grads = [grads]
            for g, x in zip(grads, xs):
                g.set_shape(x.shape)
            return list(grads)

        return (values, indices), grad

    return op(*inputs.values())


# TensorFlow wraps an array a numpy_function returns without copying it only
# when its data is aligned to EIGEN_MAX_ALIGN_BYTES (64 in TensorFlow's
# builds); numpy's large arrays start 16 bytes into a page, so TensorFlow
# copies each of them (about 20 ms for 100 MB on the benchmark machine).
_TF_ALIGN = 64
# Below this many bytes the copy costs less than arranging the alignment.
_ALIGN_FROM = 1 << 16


def tf_empty(shape: Any, dtype: Any) -> np.ndarray:
    """An uninitialized C-contiguous array TensorFlow takes without a copy: its data
    starts on a _TF_ALIGN boundary (small arrays: numpy's own), in a buffer of
    _POOL, reused once TensorFlow has let go of it."""
    dtype = np.dtype(dtype)
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if nbytes < _ALIGN_FROM:
        return np.empty(shape, dtype)
    buf = _POOL.take(nbytes + _TF_ALIGN)
    start = -buf.ctypes.data % _TF_ALIGN
    return buf[start:start + nbytes].view(dtype).reshape(shape)


class BufferPool:
    """Large result buffers kept for reuse, so a training loop's steps do not
    page-fault fresh memory in each call (12 ms per 100 MB on the benchmark
    machine, a tenth of an l2_normalize -> cosine_distance step).

    A buffer is free when nothing but the pool refers to it: an array handed
    to TensorFlow is a view of its buffer, and TensorFlow holds that view for
    as long as a tensor uses the memory (it releases it after the tensor),
    so the buffer's reference count says when it can be written again. At
    most limit bytes are kept; beyond that, buffers are not pooled.
    """

    def __init__(self, limit: int) -> None:
        self._buffers: list[np.ndarray] = []
        self._lock = threading.Lock()
        self._limit = limit
        # The reference count of a buffer only the pool holds, as _is_free sees it.
        self._buffers.append(np.empty(1, np.uint8))
        self._free_count = self._count(0)
        self._buffers.clear()

    def _count(self, i: int) -> int:
        return sys.getrefcount(self._buffers[i])

    def take(self, nbytes: int) -> np.ndarray:
        """A free buffer of exactly nbytes, or a new one (pooled while under the limit)."""
        with self._lock:
            # By index: a loop variable (or enumerate's tuple) would hold a reference.
            for i in range(len(self._buffers)):
                if self._buffers[i].nbytes == nbytes and self._count(i) == self._free_count:
                    return self._buffers[i]
            buf = np.empty(nbytes, np.uint8)
            held = sum(b.nbytes for b in self._buffers)
            if held + nbytes > self._limit:
                # Make room from free buffers, oldest first.
                for i in range(len(self._buffers) - 1, -1, -1):
                    if held + nbytes <= self._limit:
                        break
                    if self._count(i) == self._free_count:
                        held -= self._buffers.pop(i).nbytes
            if held + nbytes <= self._limit:
                self._buffers.append(buf)
            return buf


_POOL = BufferPool(limit=1 << 30)


def reduced_shape(shape: tf.TensorShape, axis: int | Sequence[int],
                  keepdims: bool = False) -> tf.TensorShape:
    """shape without axis (an int or a list of axes), or with it set to 1; unknown when
    the rank is."""
    if shape.rank is None:
        return tf.TensorShape(None)
    axes = {a % shape.rank for a in ([axis] if isinstance(axis, int) else axis)}
    dims = list(shape)
    if keepdims:
        return tf.TensorShape([1 if a in axes else d for a, d in enumerate(dims)])
    return tf.TensorShape([d for a, d in enumerate(dims) if a not in axes])


def static_axis(axis: object, rank: int | None, name: str = "axis") -> int | tuple[int, ...]:
    """axis as an int or a tuple of ints, checked against a known rank as the numpy API
    checks it.

    TypeError or ValueError names the argument; with an unknown rank the
    axes are left for TensorFlow to check when the graph runs.
    """
    if rank is None:
        axis = axes_arg(axis, name)
        return tuple(axis) if isinstance(axis, list) else axis
    return normalize_axes(axis, rank, name)
