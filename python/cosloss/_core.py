"""The compiled Go core, loaded once, with gopy's side effects undone.

Every function here takes arrays that the caller has already validated:
native-endian float32 or float64, aligned, with non-negative strides, and
an output array that is C-contiguous and writeable. The arrays stay
referenced by the caller's frame for the whole call, which matters because
gopy releases the GIL while Go runs.
"""

import ctypes
import gc
import os

import numpy as np

from cosloss._gocore import _gocore as _ext
from cosloss._gocore import binding as _go

# The extension's own function, without gopy's Python wrapper around it.
_cosine_contiguous = _ext.binding_CosineContiguous

# gopy v0.5.0 appends callbacks to gc.callbacks that run a full Go GC after
# every Python collection (about 15x slower allocation-heavy Python, and a
# hang in a fork()ed child). Only addresses cross into Go, never Go objects,
# so there is nothing for those callbacks to free.
gc.callbacks[:] = [cb for cb in gc.callbacks
                   if not getattr(cb, "__module__", "").startswith("cosloss._gocore")]

# COSLOSS_KERNEL picks a kernel set by name (see kernels()), e.g. "portable"
# to run without SIMD; the test suite uses it to check every path.
if os.environ.get("COSLOSS_KERNEL"):
    _go.SetKernel(os.environ["COSLOSS_KERNEL"])

# A fork()ed child inherits the Go runtime without its threads: goroutines
# started there would never run, so the child computes on its own thread.
os.register_at_fork(after_in_child=lambda: _go.SetWorkers(1))

# Forms of the cosine, as cosloss/cosine.go numbers them.
COS, NEG_COS, ONE_MINUS_COS, SQUARED_ONE_MINUS_COS = 0, 1, 2, 3

# Reductions, as cosloss/reduce.go numbers them.
SUM, MEAN, SUM_OVER_BATCH_SIZE, SUM_BY_NONZERO_WEIGHTS = 1, 2, 3, 4


_buffer = ctypes.c_char.from_buffer
_address = ctypes.addressof


def _addr(a: np.ndarray) -> int:
    # ctypes reads the address of a writeable C-contiguous buffer about 4x
    # faster than __array_interface__, which small calls notice; it refuses
    # read-only, strided and empty arrays, which take the slow way.
    try:
        return _address(_buffer(a))
    except (TypeError, ValueError):
        return a.__array_interface__["data"][0]


def set_workers(n: int) -> None:
    """Use up to n goroutines for large calls (1: compute on the calling thread).

    Calls that read at least 65536 elements split their rows (or columns)
    into n contiguous pieces, one goroutine each; smaller calls stay on the
    calling thread. The default is the number of CPUs Go sees; a fork()ed
    child uses 1.

    Args:
        n: An int >= 1.

    Raises:
        ValueError: n is not an int, or is below 1.

    Example:
        >>> cosloss.set_workers(1); cosloss.workers()
        1
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"workers must be an int >= 1, got {n!r}")
    _go.SetWorkers(int(n))


def workers() -> int:
    """How many goroutines large calls split across.

    Returns:
        The int set by set_workers, by default the number of CPUs.

    Example:
        >>> cosloss.workers() >= 1
        True
    """
    return _go.Workers()


def kernels() -> tuple:
    """The kernel sets this build and CPU can run, best last."""
    return tuple(_go.Kernels().split(","))


def kernel() -> str:
    """The active kernel set."""
    return _go.Kernel()


def set_kernel(name: str) -> None:
    """Select a kernel set by name (see kernels()); for tests and benchmarks."""
    if name not in kernels():
        raise ValueError(f"kernel must be one of {kernels()}, got {name!r}")
    _go.SetKernel(name)


def _bits(a: np.ndarray) -> int:
    return a.dtype.itemsize * 8


def _call(fn, *args):
    # A Go error here means a bug in cosloss's own validation; report it as a
    # ValueError rather than gopy's RuntimeError.
    try:
        return fn(*args)
    except RuntimeError as err:
        raise ValueError(f"cosloss core rejected the call: {err}") from None


def cosine(x3, xs, y3, ys, form, out, eps):
    """form(cos) of x3 and y3 (both outer × n × inner views) into out."""
    outer, n, inner = x3.shape
    _call(_go.Cosine, _bits(x3), form, _addr(x3), _addr(y3), _addr(out),
          outer, n, inner, *xs, *ys, float(eps))


def cosine_distance(x3, xs, y3, ys, out):
    """1 − Σx·y of x3 and y3 (both outer × n × inner views) into out."""
    outer, n, inner = x3.shape
    _call(_go.CosineDistance, _bits(x3), _addr(x3), _addr(y3), _addr(out),
          outer, n, inner, *xs, *ys)


def l2_normalize(x3, xs, out, eps):
    """x3 · rsqrt(max(Σx², eps)) along axis 1 of the view x3 into out."""
    outer, n, inner = x3.shape
    _call(_go.L2Normalize, _bits(x3), _addr(x3), _addr(out), outer, n, inner, *xs, float(eps))


def weighted(losses, weights, out):
    """losses · weights into out; weights has 1 element or as many as losses."""
    _call(_go.Weighted, _bits(losses), _addr(losses), _addr(weights), _addr(out),
          losses.size, weights.size)


def reduce(losses, weights, reduction) -> float:
    """The scalar reduction of losses · weights, computed in their dtype."""
    return _call(_go.Reduce, _bits(losses), _addr(losses), _addr(weights),
                 losses.size, weights.size, reduction)


def cosine_grad(x3, xs, y3, ys, form, upstream, value, dx, dy, eps):
    """form(cos) into value and its gradients for upstream into dx, dy."""
    outer, n, inner = x3.shape
    _call(_go.CosineGrad, _bits(x3), form, _addr(x3), _addr(y3), _addr(upstream), _addr(value),
          _addr(dx), _addr(dy), outer, n, inner, *xs, *ys, float(eps))


def cosine_distance_grad(x3, xs, y3, ys, upstream, value, dx, dy):
    """1 − Σx·y into value and its gradients for upstream into dx, dy."""
    outer, n, inner = x3.shape
    _call(_go.CosineDistanceGrad, _bits(x3), _addr(x3), _addr(y3), _addr(upstream), _addr(value),
          _addr(dx), _addr(dy), outer, n, inner, *xs, *ys)


def l2_normalize_grad(x3, xs, upstream, out, dx, eps):
    """l2_normalize into out and its gradient for the C-ordered upstream into dx."""
    outer, n, inner = x3.shape
    _call(_go.L2NormalizeGrad, _bits(x3), _addr(x3), _addr(upstream), _addr(out), _addr(dx),
          outer, n, inner, *xs, float(eps))


# ε of tf.nn.l2_normalize in each dtype the fast path takes (native byte order).
_FAST_EPSILON = {np.dtype(t): float(t(1e-12)) for t in (np.float32, np.float64)}


def cosine_fast(x, y, axis, form):
    """form(cos) along axis of two C-contiguous arrays, or None for other input.

    The fast path of the Keras cosine and the seed forms: it takes two
    writeable, aligned, C-contiguous float32 or float64 ndarrays of one
    shape and dtype, with an int axis in range and nothing empty, and
    returns None for anything else, which the caller then converts,
    checks and broadcasts the TensorFlow way. The checks are ordered and
    written for speed, because at 32 x 128 they cost as much as the
    arithmetic; the layout follows from the shape, and the extension's own
    short form is called without gopy's Python wrapper.
    """
    if type(x) is not np.ndarray or type(y) is not np.ndarray or type(axis) is not int:
        return None
    dtype = x.dtype
    eps = _FAST_EPSILON.get(dtype)
    shape = x.shape
    ndim = len(shape)
    if eps is None or y.dtype != dtype or y.shape != shape or not -ndim <= axis < ndim:
        return None
    if axis == -1 or axis == ndim - 1:
        # The usual axis, without the general case's tuple work.
        n, inner, out_shape = shape[-1], 1, shape[:-1]
    else:
        if axis < 0:
            axis += ndim
        n, inner, out_shape = shape[axis], 1, shape[:axis] + shape[axis + 1:]
        for d in shape[axis + 1:]:
            inner *= d
    outer = x.size // (n * inner) if n * inner else 0
    if not outer:
        return None
    try:
        # ctypes refuses read-only and non-C-contiguous buffers.
        xa, ya = _address(_buffer(x)), _address(_buffer(y))
    except (TypeError, ValueError):
        return None
    itemsize = x.itemsize
    if xa % itemsize or ya % itemsize:
        return None
    out = np.empty(out_shape, dtype)
    _call(_cosine_contiguous, itemsize * 8, form, xa, ya, _address(_buffer(out)),
          outer, n, inner, eps)
    return out
