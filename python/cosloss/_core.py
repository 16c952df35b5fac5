"""The compiled Go core, loaded once, with gopy's side effects undone.

Every function here takes arrays that the caller has already validated:
native-endian float32 or float64, aligned, with non-negative strides, and
an output array that is C-contiguous and writeable. The arrays stay
referenced by the caller's frame for the whole call, which matters because
gopy releases the GIL while Go runs.
"""

import gc

import numpy as np

from cosloss._gocore import binding as _go

# gopy v0.5.0 appends callbacks to gc.callbacks that run a full Go GC after
# every Python collection (about 15x slower allocation-heavy Python, and a
# hang in a fork()ed child). Only addresses cross into Go, never Go objects,
# so there is nothing for those callbacks to free.
gc.callbacks[:] = [cb for cb in gc.callbacks
                   if not getattr(cb, "__module__", "").startswith("cosloss._gocore")]

# Forms of the cosine, as cosloss/cosine.go numbers them.
COS, NEG_COS, ONE_MINUS_COS, SQUARED_ONE_MINUS_COS = 0, 1, 2, 3

# Reductions, as cosloss/reduce.go numbers them.
SUM, MEAN, SUM_OVER_BATCH_SIZE, SUM_BY_NONZERO_WEIGHTS = 1, 2, 3, 4


def _addr(a: np.ndarray) -> int:
    return a.__array_interface__["data"][0]


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
