"""What every loss definition is, and how a public function finds its own.

A loss object holds, for one loss: how its arguments are converted and
checked (once per call), its forward Go call (`value`), its backward Go
call (`value_and_grad`), its reduction and weight rules, and what it
computes (its class docstring). The public functions are faces: each is a
documented signature whose body calls one loss object, marked with
`face(loss)` so that `cosloss.value_and_grad(fn, ...)` can ask that object
for the gradient. Loss objects a user holds (Keras's CosineSimilarity,
PyTorch's CosineEmbeddingLoss) are Loss instances themselves.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

Result = tuple[np.ndarray | np.generic, tuple[np.ndarray, ...]]

F = TypeVar("F", bound=Callable[..., Any])

_ATTRIBUTE = "__cosloss_loss__"


class Loss:
    """A loss object: `value(*args)` and `value_and_grad(*args, upstream=, out=)`.

    Both take their face's arguments in the face's order (the face fills in
    defaults); value_and_grad returns (value, gradients of the array inputs).
    A Loss a user holds and calls (a Keras loss object) is its own face:
    `__call__` is its value.
    """

    value_and_grad: Callable[..., Result]


def face(loss: Loss) -> Callable[[F], F]:
    """Marks a public function as the face of loss (see value_and_grad)."""

    def mark(fn: F) -> F:
        setattr(fn, _ATTRIBUTE, loss)
        return fn

    return mark


def value_and_grad(fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any], upstream: Any,
                   out: Any) -> Result:
    """fn's value and gradients from the loss object behind fn."""
    if isinstance(fn, Loss):
        return fn.value_and_grad(*args, upstream=upstream, out=out, **kwargs)
    loss = getattr(fn, _ATTRIBUTE, None)
    if not isinstance(loss, Loss):
        raise TypeError(f"fn must be a cosloss loss function or loss object, got {fn!r}")
    # The face's signature gives the defaults and the order the loss takes.
    bound = inspect.signature(fn).bind(*args, **kwargs)
    bound.apply_defaults()
    # Keyword-only options (eps_mode, zero, clamp) go through by name; a
    # face's own out= (pairwise.cosine_similarity's, for its value) is not
    # the gradients' out and is not passed.
    options = {k: v for k, v in bound.kwargs.items() if k != "out"}
    return loss.value_and_grad(*bound.args, upstream=upstream, out=out, **options)
