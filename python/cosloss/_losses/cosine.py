"""The cosine of two arrays along an axis, passed through a form: one loss, many faces.

    CosineLoss(NEG_COS, TF_NORM)        tf.keras.losses.cosine_similarity (TF >= 2.0),
                                        the seed article's cosine_similarity_loss
    CosineLoss(COS, TF_NORM)            TF 1.15's Keras loss, every version's metric values
    CosineLoss(ONE_MINUS_COS, ...), CosineLoss(SQUARED_ONE_MINUS_COS, ...)
                                        the seed article's v2 and v3
    cosloss._losses.torch.TorchCosine   PyTorch's F.cosine_similarity (its own dtype rules)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from cosloss._core import go, ops
from cosloss._core.arrays import (broadcast_shape, check_out, convert, deliver, normalize_axes,
                                  reduced_shape, require_float, require_same_dtype)
from cosloss._losses.base import Loss, Result
from cosloss._losses.flavours import TF_NORM, Norm
from cosloss._losses.reductions import upstream_for
from cosloss._losses.semantics import Semantics, choose, finish_grads, finish_value, zero_slices

_FORMS = {go.COS: "cos", go.NEG_COS: "-cos", go.ONE_MINUS_COS: "1 - cos",
          go.SQUARED_ONE_MINUS_COS: "(1 - cos)**2"}


class CosineLoss(Loss):
    """form(cos(x, y)) along axis, per slice, with TensorFlow's argument rules.

        cos = Σ x·y / (‖x‖' · ‖y‖')      in float64, rounded once to the inputs' dtype

    where ‖·‖' is the norm floored by `norm` (TensorFlow: sqrt(max(Σx², 1e-12))).
    Arguments: two float arrays of one dtype whose shapes broadcast, and an
    int axis of the broadcast shape or a list or tuple of them (merged into
    one axis for the Go core, see cosloss._core.ops._Merged). The gradient is TensorFlow's autodiff
    gradient (PyTorch's for its norm rule), written by the Go core in the
    same pass as the value. Errors call the inputs by `names` and the
    function by `op`, as the face does.
    """

    def __init__(self, form: int, norm: Norm, names: tuple[str, str] = ("y_true", "y_pred"),
                 op: str = "cosine_similarity") -> None:
        self.form, self.norm, self.names, self.op = form, norm, names, op

    def __repr__(self) -> str:
        return f"CosineLoss({_FORMS[self.form]}, {self.norm}, names={self.names}, op={self.op!r})"

    def prepare(self, x: ArrayLike, y: ArrayLike, axis: Any,
                ) -> tuple[np.ndarray, np.ndarray, int, tuple[int, ...]]:
        """(x, y, axis, broadcast shape), converted and checked once."""
        return self.check(convert(x, self.names[0]), convert(y, self.names[1]), axis)

    def check(self, x: np.ndarray, y: np.ndarray, axis: Any,
              ) -> tuple[np.ndarray, np.ndarray, int, tuple[int, ...]]:
        """prepare for arrays already converted."""
        x_name, y_name = self.names
        require_float(x, x_name, self.op)
        require_float(y, y_name, self.op)
        require_same_dtype(x, x_name, y, y_name)
        shape = broadcast_shape(x, x_name, y, y_name)
        return x, y, self.axes(x, y, axis, shape), shape

    def axes(self, x: np.ndarray, y: np.ndarray, axis: Any, shape: tuple[int, ...],
             ) -> int | tuple[int, ...]:
        """axis for the broadcast shape: an int, or a tuple of axes (a list of
        them, as TensorFlow's reduce_sum takes it) that neither input is
        broadcast along."""
        axis = normalize_axes(axis, len(shape))
        if isinstance(axis, tuple) and len(axis) > 1:
            for arr, name in ((x, self.names[0]), (y, self.names[1])):
                own = (1,) * (len(shape) - arr.ndim) + arr.shape
                for a in axis:
                    if own[a] != shape[a]:
                        # TensorFlow normalizes such an input over its own,
                        # smaller slices; one merged axis cannot express it.
                        raise ValueError(
                            f"{name} has shape {arr.shape}, which broadcasts along axis {a} "
                            f"of the listed axes {list(axis)} (broadcast shape {shape}); "
                            f"with several axes cosloss needs both inputs to span each "
                            f"listed axis. Broadcast {name} first (np.broadcast_to) if you "
                            f"mean the repeated values.")
        return axis

    def value(self, x: ArrayLike, y: ArrayLike, axis: Any = -1, *, eps_mode: Any = None,
              zero: Any = "finite", clamp: Any = False) -> np.ndarray:
        """The values; eps_mode, zero and clamp choose the semantics (see
        cosloss._losses.semantics), the face's own rule by default."""
        if eps_mode is None and zero == "finite" and clamp is False:
            return self._value(x, y, axis, self.prepare)
        sem = choose(self.norm, eps_mode, zero, clamp)
        x, y, axis, shape = self.prepare(x, y, axis)
        mask = self._zero_mask(x, y, axis, shape, sem)
        return finish_value(self.cosine(x, y, axis, shape, sem.norm), self.form, sem, mask)

    def _zero_mask(self, x: np.ndarray, y: np.ndarray, axis: Any, shape: tuple[int, ...],
                   sem: Semantics) -> np.ndarray | None:
        if not sem.needs_zero_mask:
            return None
        return zero_slices(x, y, self.names, normalize_axes(axis, len(shape)), shape, sem.zero)

    def value_of_arrays(self, x: np.ndarray, y: np.ndarray, axis: Any) -> np.ndarray:
        """value for arrays already converted (a Keras loss object's, say)."""
        return self._value(x, y, axis, self.check)

    def _value(self, x: Any, y: Any, axis: Any,
               prepare: Callable[[Any, Any, Any], tuple[np.ndarray, np.ndarray, int,
                                                        tuple[int, ...]]]) -> np.ndarray:
        # Contiguous float arrays of one shape go straight to Go; anything
        # else is prepared (converted if need be, and checked).
        out = go.cosine_fast(x, y, axis, self.form, self.norm.rule, self.norm.eps_by_dtype)
        if out is not None:
            return out
        x, y, axis, shape = prepare(x, y, axis)
        return self.cosine(x, y, axis, shape, self.norm)

    def cosine(self, x: np.ndarray, y: np.ndarray, axis: int, shape: tuple[int, ...],
               norm: Norm) -> np.ndarray:
        """The values of prepared arguments."""
        return ops.cosine(x, y, axis, self.form, shape, norm.rule, norm.eps)

    def value_and_grad(self, x: ArrayLike, y: ArrayLike, axis: Any = -1, *,
                       upstream: ArrayLike | None = None, out: Any = None, eps_mode: Any = None,
                       zero: Any = "finite", clamp: Any = False) -> Result:
        out = check_out(out, 2)
        sem = choose(self.norm, eps_mode, zero, clamp)
        x, y, axis, shape = self.prepare(x, y, axis)
        if sem.plain:
            return self.cosine_grad(x, y, axis, shape, sem.norm, upstream, out)
        mask = self._zero_mask(x, y, axis, shape, sem)
        value, grads = self.cosine_grad(x, y, axis, shape, sem.norm, upstream, None)
        grads = finish_grads(grads, (x, y), normalize_axes(axis, len(shape)), shape, sem, mask)
        return finish_value(value, self.form, sem, mask), deliver(grads, out)

    def cosine_grad(self, x: np.ndarray, y: np.ndarray, axis: int, shape: tuple[int, ...],
                    norm: Norm, upstream: ArrayLike | None, out: tuple[np.ndarray, ...] | None,
                    ) -> Result:
        """The values and gradients of prepared arguments."""
        g = upstream_for(upstream, reduced_shape(shape, axis), x.dtype)
        value, dx, dy = ops.cosine_grad(x, y, axis, self.form, shape, g, norm.rule, norm.eps,
                                        out=out)
        return value, deliver((dx, dy), out)


# The seed article's three forms; their errors call the inputs a and b.
SEED_NEGATIVE = CosineLoss(go.NEG_COS, TF_NORM, ("a", "b"), "cosine_similarity_loss")
SEED_ONE_MINUS = CosineLoss(go.ONE_MINUS_COS, TF_NORM, ("a", "b"), "cosine_similarity_loss_v2")
SEED_SQUARED_ONE_MINUS = CosineLoss(go.SQUARED_ONE_MINUS_COS, TF_NORM, ("a", "b"),
                                    "cosine_similarity_loss_v3")
