"""The compiled Go core, loaded once, with gopy's side effects undone.

Every function here takes arrays that the caller has already validated:
native-endian float32 or float64, aligned, with non-negative strides, and
an output array that is C-contiguous and writeable. The arrays stay
referenced by the caller's frame for the whole call, which matters because
gopy releases the GIL while Go runs.

Each Go call returns an int status (0: done; BUSY: a fork is being
prepared, so wait and call again; otherwise an error whose message
TakeError returns), never a Go error: gopy leaks a C string per call for
those.
"""

import ctypes
import gc
import os
import threading
import time

import numpy as np

from cosloss._core.arrays import empty
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

OK, BUSY = 0, -1  # statuses, as cosloss/binding/status.go numbers them


# fork() copies Go's runtime into the child without its threads, and with
# whatever locks they held at that instant (see cosloss/binding/fork.go). So
# before a fork, new calls are held back in Python, the fork waits for the
# calls other threads are running in Go, Go's collector is stopped, and the
# runtime's own threads are given a moment to park; the child then computes
# on its own thread with the collector off (calls allocate nothing on the Go
# heap). Held-back calls wait on _fork_done rather than entering Go again:
# a thread entering Go at the instant of the fork could hold a runtime lock.
_forking = False
_fork_done = threading.Condition(threading.Lock())


def _before_fork():
    global _forking
    _forking = True
    _go.BeginFork()
    while _go.Quiesce():
        time.sleep(0.0001)  # releases the GIL for the threads still in Go
    # Let Go's worker threads park and the threads that just left Go get back
    # to Python, then take the processors back from the threads that left.
    time.sleep(0.002)
    _go.ReleaseProcessors()
    # Then wait for Go's monitor thread to take this thread's processor too
    # (it does after 10-20 ms in C) and to fall asleep once every processor
    # is idle. Until then it briefly marks this thread's goroutine on each
    # of its rounds, and a child forked in that instant could never clear
    # the mark; asleep, it touches nothing.
    time.sleep(_SETTLE_SECONDS)


# How long the fork waits for Go's runtime to go quiet (see _before_fork).
_SETTLE_SECONDS = 0.03


def _after_fork_in_parent():
    global _forking
    _go.EndForkInParent()
    with _fork_done:
        _forking = False
        _fork_done.notify_all()


def _after_fork_in_child():
    global _forking, _fork_done
    _fork_done = threading.Condition(threading.Lock())  # its waiters are gone
    _forking = False
    _go.EndForkInChild()


os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_in_parent,
                    after_in_child=_after_fork_in_child)


def _wait_for_fork():
    with _fork_done:
        while _forking:
            _fork_done.wait(0.01)


def _call(fn, *args):
    """Call a Go export and raise if it failed.

    A Go error here means a bug in cosloss's own validation; it is reported
    as a ValueError rather than gopy's RuntimeError.
    """
    if _forking:
        _wait_for_fork()
    status = fn(*args)
    if status:
        _failed(fn, args, status)


def _failed(fn, args, status):
    while status == BUSY:
        # Another thread is preparing a fork (two may be at once, so the
        # gate in Go can outlast this module's flag).
        _wait_for_fork()
        time.sleep(0.001)
        status = fn(*args)
    if status:
        raise ValueError(f"cosloss core rejected the call: {_go.TakeError(status)}")


# COSLOSS_KERNEL picks a kernel set by name (see kernels()), e.g. "portable"
# to run without SIMD; the test suite uses it to check every path.
if os.environ.get("COSLOSS_KERNEL"):
    _call(_go.SetKernel, os.environ["COSLOSS_KERNEL"])

# Forms of the cosine, as cosloss/cosine.go numbers them.
COS, NEG_COS, ONE_MINUS_COS, SQUARED_ONE_MINUS_COS = 0, 1, 2, 3

# Epsilon rules (how a norm is kept away from zero), as cosloss/eps.go
# numbers them: TensorFlow's max(Σx², ε), PyTorch's max(‖x‖, ε) (clamped
# without gradient) and PyTorch CosineEmbeddingLoss's Σx² + ε.
FLOOR_SQUARED, FLOOR_NORM, ADD_SQUARED = 0, 1, 2

# Reductions, as cosloss/reduce.go numbers them.
SUM, MEAN, SUM_OVER_BATCH_SIZE, SUM_BY_NONZERO_WEIGHTS = 1, 2, 3, 4

MAX_WORKERS = _go.MaxWorkers()

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


def _extent(a: np.ndarray) -> int:
    """How many elements of a's buffer, from its first, a's layout reaches.

    Go builds each slice with this length and checks the layout it is
    asked to read against it. Strides are non-negative here (view3).
    """
    if a.size == 0:
        return 0
    return 1 + sum((d - 1) * s for d, s in zip(a.shape, a.strides)) // a.itemsize


def set_workers(n: int) -> None:
    """Use up to n goroutines for large calls (1: compute on the calling thread).

    Calls that read at least 2**20 elements split their rows (or columns)
    into contiguous pieces of at least 2**19 elements, which the calling
    thread and up to n - 1 goroutines take one at a time (a goroutine whose
    core is busy leaves its share to the others); smaller calls stay on the
    calling thread. The default
    is the number of CPUs Go sees. A fork()ed child always uses 1: Go
    cannot start threads there.

    Args:
        n: An int from 1 to 256; more goroutines than CPUs only add
            start-up cost, so larger values are capped at 256.

    Raises:
        ValueError: n is below 1.
        TypeError: n is not an int.

    Example:
        >>> cosloss.set_workers(1); cosloss.workers()
        1
    """
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"set_workers needs n as an int, got {n!r} of type {type(n).__name__}")
    if n < 1:
        raise ValueError(f"set_workers needs n >= 1, got {n}")
    _go.SetWorkers(int(min(n, MAX_WORKERS)))


def workers() -> int:
    """How many goroutines large calls split across.

    Returns:
        The int set by set_workers (capped at 256), by default the number
        of CPUs; 1 in a fork()ed child.

    Example:
        >>> cosloss.workers() >= 1
        True
    """
    return _go.Workers()


def kernels() -> tuple:
    """The kernel sets this build and CPU can run, the one chosen at start-up last.

    "portable" (plain Go) is always there; builds with Go's SIMD support add
    "avx2" where the CPU has AVX2 and FMA and "avx512" where it has AVX-512.
    Every set computes in the same order, so all give the same bits.

    Returns:
        A tuple of kernel set names, such as ("portable", "avx2", "avx512").

    Example:
        >>> "portable" in cosloss.kernels()
        True
    """
    return tuple(_go.Kernels().split(","))


def kernel() -> str:
    """The active kernel set.

    Returns:
        Its name: the last of kernels() unless set_kernel or the environment
        variable COSLOSS_KERNEL chose another.

    Example:
        >>> cosloss.kernel() in cosloss.kernels()
        True
    """
    return _go.Kernel()


def set_kernel(name: str) -> None:
    """Select a kernel set for every later call.

    Results do not change (every set gives the same bits), only speed:
    this is for benchmarks and tests. Not to be called while other threads
    are calling cosloss.

    Args:
        name: One of kernels().

    Raises:
        ValueError: name is not one of kernels().

    Example:
        >>> previous = cosloss.kernel()
        >>> cosloss.set_kernel("portable"); cosloss.kernel()
        'portable'
        >>> cosloss.set_kernel(previous)
    """
    if name not in kernels():
        raise ValueError(f"kernel must be one of {kernels()}, got {name!r}")
    _call(_go.SetKernel, name)


def _bits(a: np.ndarray) -> int:
    return a.dtype.itemsize * 8


def cosine(x3, xs, y3, ys, form, out, rule, eps):
    """form(cos) of x3 and y3 (both outer × n × inner views) into out."""
    outer, n, inner = x3.shape
    _call(_go.Cosine, _bits(x3), form, _addr(x3), _extent(x3), _addr(y3), _extent(y3),
          _addr(out), out.size, outer, n, inner, *xs, *ys, rule, float(eps))


def cosine_distance(x3, xs, y3, ys, out):
    """1 − Σx·y of x3 and y3 (both outer × n × inner views) into out."""
    outer, n, inner = x3.shape
    _call(_go.CosineDistance, _bits(x3), _addr(x3), _extent(x3), _addr(y3), _extent(y3),
          _addr(out), out.size, outer, n, inner, *xs, *ys)


def l2_normalize(x3, xs, out, eps):
    """x3 · rsqrt(max(Σx², eps)) along axis 1 of the view x3 into out."""
    outer, n, inner = x3.shape
    _call(_go.L2Normalize, _bits(x3), _addr(x3), _extent(x3), _addr(out), out.size,
          outer, n, inner, *xs, float(eps))


def weighted(losses, weights, out):
    """losses · weights into out; weights has 1 element or as many as losses."""
    _call(_go.Weighted, _bits(losses), _addr(losses), _addr(weights), _addr(out),
          losses.size, weights.size)


def reduce(losses, weights, reduction) -> float:
    """The scalar reduction of losses · weights, computed in their dtype."""
    result = np.empty(1, np.float64)
    _call(_go.Reduce, _bits(losses), _addr(losses), _addr(weights), losses.size, weights.size,
          reduction, _addr(result))
    return float(result[0])


def cosine_grad(x3, xs, y3, ys, form, upstream, value, dx, dy, rule, eps):
    """form(cos) into value and its gradients for upstream into dx, dy."""
    outer, n, inner = x3.shape
    _call(_go.CosineGrad, _bits(x3), form, _addr(x3), _extent(x3), _addr(y3), _extent(y3),
          _addr(upstream), upstream.size, _addr(value), value.size,
          _addr(dx), dx.size, _addr(dy), dy.size, outer, n, inner, *xs, *ys, rule,
          float(eps))


def cosine_distance_grad(x3, xs, y3, ys, upstream, value, dx, dy):
    """1 − Σx·y into value and its gradients for upstream into dx, dy."""
    outer, n, inner = x3.shape
    _call(_go.CosineDistanceGrad, _bits(x3), _addr(x3), _extent(x3), _addr(y3), _extent(y3),
          _addr(upstream), upstream.size, _addr(value), value.size,
          _addr(dx), dx.size, _addr(dy), dy.size, outer, n, inner, *xs, *ys)


def l2_normalize_grad(x3, xs, upstream, out, dx, eps):
    """l2_normalize into out and its gradient for the C-ordered upstream into dx."""
    outer, n, inner = x3.shape
    _call(_go.L2NormalizeGrad, _bits(x3), _addr(x3), _extent(x3), _addr(upstream), upstream.size,
          _addr(out), out.size, _addr(dx), dx.size, outer, n, inner, *xs, float(eps))


def cosine_fast(x, y, axis, form, rule, eps_by_dtype):
    """form(cos) along axis of two C-contiguous arrays, or None for other input.

    The fast path of the Keras cosine and the seed forms: it takes two
    writeable, aligned, C-contiguous float32 or float64 ndarrays of one
    shape and dtype, with an int axis in range and nothing empty, and
    returns None for anything else, which the caller then converts,
    checks and broadcasts the TensorFlow way. eps_by_dtype maps float32
    and float64 to ε as that dtype holds it. The checks are ordered and
    written for speed, because at 32 x 128 they cost as much as the
    arithmetic; the layout follows from the shape, and the extension's own
    short form is called without gopy's Python wrapper.
    """
    if type(x) is not np.ndarray or type(y) is not np.ndarray or type(axis) is not int:
        return None
    dtype = x.dtype
    eps = eps_by_dtype.get(dtype)
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
    out = empty(out_shape, dtype)
    if _forking:
        _wait_for_fork()
    oa = _address(_buffer(out))
    status = _cosine_contiguous(itemsize * 8, form, xa, ya, oa, outer, n, inner, rule, eps)
    if status:
        _failed(_cosine_contiguous, (itemsize * 8, form, xa, ya, oa, outer, n, inner, rule,
                                     eps), status)
    return out
