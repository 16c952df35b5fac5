"""cosloss.value_and_grad: a loss and its gradients in one call.

Gradients are TensorFlow's autodiff gradients, computed analytically by the
Go core in the same pass as the value (see cosloss/grad.go).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from cosloss import _core, _keras, _ops, keras, losses, nn, seed, tf115
from cosloss._arrays import check_out, convert, deliver
from cosloss._weights import (compute_weighted_loss_v1, compute_weighted_loss_v1_grad,
                              upstream_for)

__all__ = ["value_and_grad"]

_Result = tuple[np.ndarray | np.generic, tuple[np.ndarray, ...]]

# Loss functions of the form f(a, b, axis) -> form(cos(a, b)).
_COSINE_FORMS = {
    keras.losses.cosine_similarity: _core.NEG_COS,
    tf115.keras.losses.cosine_similarity: _core.COS,
    seed.cosine_similarity_loss: _core.NEG_COS,
    seed.cosine_similarity_loss_v2: _core.ONE_MINUS_COS,
    seed.cosine_similarity_loss_v3: _core.SQUARED_ONE_MINUS_COS,
}


def value_and_grad(fn: Callable[..., Any], *args: Any, upstream: ArrayLike | None = None,
                   out: tuple[np.ndarray, ...] | None = None,
                   **kwargs: Any) -> tuple[np.ndarray | np.generic, tuple[np.ndarray, ...]]:
    """Computes `fn(*args, **kwargs)` and its gradients with respect to its array inputs.

        value = fn(*args, **kwargs)
        grads = tuple(d sum(upstream * value) / d x for x in the array inputs)

    The gradients are TensorFlow's autodiff gradients, computed
    analytically by the Go core in the same pass as the value, corner cases
    included: a vector under the epsilon floor (a zero vector, say) gets the
    finite `g * 1e6` (1/sqrt(1e-12)) TensorFlow gives, not NaN, and a slice
    gets no gradient from a zero partner.

    Args:
        fn: A cosloss loss function or loss object:
            `keras.losses.cosine_similarity` (and its aliases, also from
            `tf115`), a `keras.losses.CosineSimilarity` object (either
            flavour), `losses.cosine_distance`,
            `losses.compute_weighted_loss`, `nn.l2_normalize`, or a seed
            form (`cosine_similarity_loss`, `_v2`, `_v3`).
        *args: fn's positional arguments.
        upstream: The gradient of the value, broadcastable to its shape;
            None (the default) means ones.
        out: Optional arrays to write the gradients into, as numpy's `out=`:
            a tuple with one writeable array per gradient, each of that
            gradient's shape and dtype, no two sharing memory. Reusing them
            across calls (a training loop, say) saves allocating fresh
            gradient memory each time, which for large inputs costs more
            than computing them. An out array may overlap any input (the
            arrays, sample weights, weights or upstream): it is then
            written only once the value and every gradient are done, so
            the results are those of the same call without `out`.
        **kwargs: fn's keyword arguments.

    Returns:
        (value, grads): value is what `fn(*args, **kwargs)` returns; grads
        holds one gradient per array input, in fn's argument order:
        (y_true, y_pred), (labels, predictions), (a, b), (losses,) or (x,),
        each of its input's shape and dtype (float32 for integer inputs).
        With `out`, grads is `out`.

    Raises:
        TypeError: `fn` is not a cosloss loss function or loss object, the
            arguments do not fit its signature, `out` is not a tuple of one
            array per gradient, one is a numpy masked array or has another
            dtype than its gradient, `upstream` is a masked array, or fn
            itself raises it.
        ValueError: `upstream` does not broadcast to the value, an `out`
            array is read-only or has another shape than its gradient, two
            `out` arrays overlap, or fn itself raises it.

    Example:
        >>> value, (d_true, d_pred) = cosloss.value_and_grad(
        ...     cosloss.keras.losses.cosine_similarity, [[1., 0.]], [[1., 1.]])
        >>> value, d_pred
        (array([-0.70710677], dtype=float32), array([[-0.35355338,  0.35355338]], dtype=float32))
        >>> value, (dx,) = cosloss.value_and_grad(cosloss.nn.l2_normalize, [0., 0.])
        >>> dx  # a zero vector: 1e6 per unit of upstream, as in TensorFlow
        array([1.e+06, 1.e+06], dtype=float32)
    """
    if isinstance(fn, _keras.LossBase):
        # args fill at most y_true, y_pred and sample_weight; mypy cannot know that.
        return fn.value_and_grad(*args, upstream=upstream, out=out, **kwargs)  # type: ignore[misc]
    try:
        rule = _RULES.get(fn) or (_cosine_rule if fn in _COSINE_FORMS else None)
    except TypeError:  # unhashable fn
        rule = None
    if rule is None:
        raise TypeError(f"fn must be a cosloss loss function or loss object, got {fn!r}")
    bound = inspect.signature(fn).bind(*args, **kwargs)
    bound.apply_defaults()
    return rule(fn, bound.arguments, upstream, out)


def _cosine_rule(fn: Callable[..., Any], a: dict[str, Any],
                 upstream: ArrayLike | None, out: object) -> _Result:
    out = check_out(out, 2)
    names = list(a)[:2]
    x, y, axis, shape = _keras.prepare(a[names[0]], a[names[1]], a["axis"], (names[0], names[1]),
                                       fn.__name__)
    value_shape = shape[:axis] + shape[axis + 1:]
    g = upstream_for(upstream, value_shape, x.dtype)
    value, dx, dy = _ops.cosine_grad(x, y, axis, _COSINE_FORMS[fn], shape, g, out=out)
    return value, deliver((dx, dy), out)


def _l2_normalize_rule(fn: Callable[..., Any], a: dict[str, Any],
                       upstream: ArrayLike | None, out: object) -> _Result:
    out = check_out(out, 1)
    x, axes, epsilon = nn._prepare(a["x"], a["axis"], a["dim"], a["epsilon"], a["name"])
    g = upstream_for(upstream, x.shape, x.dtype)
    value, dx = _ops.l2_normalize_grad(x, axes, epsilon, g)
    return value, deliver((dx,), out)


def _cosine_distance_rule(fn: Callable[..., Any], a: dict[str, Any],
                          upstream: ArrayLike | None, out: object) -> _Result:
    out = check_out(out, 2)
    labels, predictions, axis = losses._prepare_cosine_distance(
        a["labels"], a["predictions"], a["axis"], a["dim"], a["reduction"], a["scope"])
    loss_shape = labels.shape[:axis] + (1,) + labels.shape[axis + 1:]
    per_loss = compute_weighted_loss_v1_grad(loss_shape, a["weights"], a["reduction"], upstream)
    distances, dl, dp = _ops.cosine_distance_grad(labels.astype(np.float32), predictions.astype(np.float32),
                                                  axis, per_loss)
    value = compute_weighted_loss_v1(distances, a["weights"], a["reduction"])
    return value, deliver((dl.astype(_grad_dtype(labels)), dp.astype(_grad_dtype(predictions))), out)


def _compute_weighted_loss_rule(fn: Callable[..., Any], a: dict[str, Any],
                                upstream: ArrayLike | None, out: object) -> _Result:
    out = check_out(out, 1)
    value = fn(**a)
    values = convert(a["losses"], "losses")
    grad = compute_weighted_loss_v1_grad(values.shape, a["weights"], a["reduction"], upstream)
    return value, deliver((grad.astype(_grad_dtype(values)),), out)


def _grad_dtype(arr: np.ndarray) -> np.dtype:
    return arr.dtype if arr.dtype.kind == "f" else np.dtype(np.float32)


_RULES = {
    nn.l2_normalize: _l2_normalize_rule,
    losses.cosine_distance: _cosine_distance_rule,
    losses.compute_weighted_loss: _compute_weighted_loss_rule,
}
