"""Keras's cosine loss: the function and the loss object, for every Keras flavour.

cosloss.keras (TF ≥ 2.0, tf-keras) and cosloss.tf115 differ only in their
KerasFlavour (the loss's sign, the reduction's dtype, how sample weights
broadcast, whether inputs are squeezed); each public module binds its
flavour to its own names.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np
from numpy.typing import ArrayLike

from cosloss._core import go, ops
from cosloss._core.arrays import (axes_arg, check_out, convert, deliver, describe, reduced_shape,
                                  str_or_none)
from cosloss._losses.base import Loss
from cosloss._losses.cosine import CosineLoss
from cosloss._losses.flavours import KERAS3_NORM, TF2, TF115, KerasFlavour
from cosloss._losses.reductions import (keras_reduce, keras_reduce_grad, keras_weights,
                                        squeeze_or_expand_inputs)


class Reduction:
    """Keras's loss reductions (`tf.keras.losses.Reduction`, ReductionV2).

    With `weighted = per_sample_losses * sample_weight`:

    * `AUTO` ("auto", the default): `SUM_OVER_BATCH_SIZE`.
    * `NONE` ("none"): `weighted` itself.
    * `SUM` ("sum"): `sum(weighted)`.
    * `SUM_OVER_BATCH_SIZE` ("sum_over_batch_size"):
      `sum(weighted) / size(per_sample_losses)`; zero weights still count,
      and an empty batch gives 0.

    TF1's keys ("weighted_sum", ...) are not valid here.

    Example:
        >>> cosloss.keras.losses.Reduction.SUM
        'sum'
        >>> loss = cosloss.keras.losses.CosineSimilarity(
        ...     reduction=cosloss.keras.losses.Reduction.SUM)
        >>> loss([[1., 0.], [1., 1.]], [[1., 0.], [-1., -1.]])  # -1 + 1
        np.float32(0.0)
    """

    AUTO = "auto"
    NONE = "none"
    SUM = "sum"
    SUM_OVER_BATCH_SIZE = "sum_over_batch_size"

    @classmethod
    def all(cls) -> tuple[str, ...]:
        """Every reduction key.

        Returns:
            The tuple ("auto", "none", "sum", "sum_over_batch_size").

        Example:
            >>> cosloss.keras.losses.Reduction.all()
            ('auto', 'none', 'sum', 'sum_over_batch_size')
        """
        return (cls.AUTO, cls.NONE, cls.SUM, cls.SUM_OVER_BATCH_SIZE)

    @classmethod
    def validate(cls, key: str) -> None:
        """Checks that `key` is one of `all()`.

        Args:
            key: A reduction key.

        Raises:
            ValueError: `key` is not a Keras reduction ("Invalid Reduction Key ..."),
                a str or not.

        Example:
            >>> cosloss.keras.losses.Reduction.validate("sum")
            >>> cosloss.keras.losses.Reduction.validate("weighted_sum")
            Traceback (most recent call last):
            ...
            ValueError: Invalid Reduction Key weighted_sum. Expected keys are ('auto', ...).
        """
        # A str test first: an array key would make `in` raise numpy's
        # truth-value error instead of naming the argument.
        if not isinstance(key, str):
            raise ValueError(f"Invalid Reduction Key {key!r}. Expected keys are {cls.all()} "
                             f"(argument 'reduction' must be one of these strs, got "
                             f"{describe(key)}).")
        if key not in cls.all():
            raise ValueError(f"Invalid Reduction Key {key}. Expected keys are {cls.all()} "
                             f"(argument 'reduction').")


def cosine_for(flavour: KerasFlavour) -> CosineLoss:
    """The Keras cosine loss function of flavour, as a loss object."""
    return _COSINES[flavour.name]


_COSINES = {f.name: CosineLoss(f.form, f.norm) for f in (TF2, TF115)}

# Keras 3's loss function (-cos) and metric function (+cos), with its norm
# floor; cosloss.tf.keras uses them when tf.keras is Keras 3.
KERAS3_COSINE = CosineLoss(go.NEG_COS, KERAS3_NORM)
KERAS3_METRIC_COSINE = CosineLoss(go.COS, KERAS3_NORM)


class LossBase(Loss):
    """A Keras cosine loss object; a subclass names its KerasFlavour, nothing else.

    The public subclasses are cosloss.keras.losses.CosineSimilarity (-cos)
    and cosloss.tf115.keras.losses.CosineSimilarity (+cos); their class
    docstrings describe the arguments.
    """

    _flavour: KerasFlavour

    def __init__(self, axis: int | list[int] | tuple[int, ...] = -1,
                 reduction: str = Reduction.AUTO,
                 name: str = "cosine_similarity") -> None:
        Reduction.validate(reduction)
        # Checked here rather than at the first call, where TensorFlow checks
        # them, so that a bad argument is reported where it was passed.
        self.axis = axes_arg(axis)  # an int, or a list or tuple of ints kept as given
        str_or_none(name, "name")
        self.reduction = reduction
        self.name = name

    def __call__(self, y_true: ArrayLike, y_pred: ArrayLike,
                 sample_weight: ArrayLike | None = None) -> np.ndarray | np.floating:
        """The weighted, reduced cosine loss of a batch.

            losses = cosine_similarity(y_true, y_pred, axis)   # per sample
            return reduce(losses * sample_weight)              # by self.reduction

        Args:
            y_true: A float16, float32 or float64 array (Python float lists
                become float32).
            y_pred: An array of y_true's dtype whose shape broadcasts with
                y_true's.
            sample_weight: None (weight 1), a scalar, or an array that
                broadcasts to the per-sample losses after gaining or losing a
                trailing axis of 1.

        Returns:
            A numpy scalar in the inputs' dtype, or for reduction "none" an
            array of the per-sample losses' shape.

        Raises:
            TypeError: Integer, bool, complex or mixed dtypes (TensorFlow does
                not cast them), or a numpy masked array (pass `.filled(...)`
                and give masked samples weight 0 through sample_weight).
            ValueError: None inputs, Python lists TensorFlow cannot convert
                (ragged, mixed types, ints beyond int64), shapes that do not
                broadcast, an axis out of range, or a sample_weight that does
                not broadcast.

        Example:
            >>> loss = cosloss.keras.losses.CosineSimilarity(axis=1)
            >>> loss([[0., 1.], [1., 1.]], [[1., 0.], [1., 1.]])  # (-0 - 1) / 2
            np.float32(-0.5)
            >>> loss([[0., 1.], [1., 1.]], [[1., 0.], [1., 1.]], sample_weight=[0.8, 0.2])
            np.float32(-0.1)
        """
        y_true, y_pred, _ = self._convert(y_true, y_pred)
        losses = cosine_for(self._flavour).value_of_arrays(y_true, y_pred, self.axis)
        # Checked again where TensorFlow checks it, when reducing: the
        # attribute may have been set since construction.
        Reduction.validate(self.reduction)
        weights = keras_weights(losses.shape, losses.dtype, sample_weight, self._flavour)
        return keras_reduce(losses, weights, self.reduction)

    def _convert(self, y_true: ArrayLike, y_pred: ArrayLike,
                 ) -> tuple[np.ndarray, np.ndarray, tuple[tuple[int, ...], ...]]:
        """The inputs as arrays, as the loss function sees them (squeezed in
        tf-keras), and their shapes before squeezing."""
        y_true, y_pred = convert(y_true, "y_true"), convert(y_pred, "y_pred")
        shapes = (y_true.shape, y_pred.shape)
        if self._flavour.squeeze_inputs:
            y_pred, y_true = squeeze_or_expand_inputs(y_pred, y_true, strict=False)
        return y_true, y_pred, shapes

    def value_and_grad(self, y_true: ArrayLike, y_pred: ArrayLike,
                       sample_weight: ArrayLike | None = None, upstream: ArrayLike | None = None,
                       out: tuple[np.ndarray, ...] | None = None,
                       ) -> tuple[np.ndarray | np.floating, tuple[np.ndarray, ...]]:
        """The loss of a batch and its gradients with respect to both inputs.

            value = self(y_true, y_pred, sample_weight)
            grads = (d sum(upstream * value) / d y_true,
                     d sum(upstream * value) / d y_pred)

        The gradients are TensorFlow's autodiff gradients, computed by the
        Go core in the same pass as the value; see `cosloss.value_and_grad`.

        Args:
            y_true: As in `__call__`.
            y_pred: As in `__call__`.
            sample_weight: As in `__call__` (it gets no gradient).
            upstream: The gradient of the value, broadcastable to its shape;
                None (the default) means ones.
            out: Optional (d_y_true, d_y_pred) arrays to write the gradients
                into; see `cosloss.value_and_grad`.

        Returns:
            (value, (d_y_true, d_y_pred)), each gradient of its input's
            shape and of the inputs' dtype; with `out`, the arrays of `out`.

        Raises:
            TypeError: As `__call__` (upstream included), or an `out` that is
                not two arrays (masked arrays refused) of the gradients'
                dtype.
            ValueError: As `__call__`, an upstream that does not broadcast
                to the value, or `out` arrays that are read-only, of another
                shape than their gradient, or overlapping each other.

        Example:
            >>> loss = cosloss.keras.losses.CosineSimilarity()
            >>> value, (d_true, d_pred) = loss.value_and_grad([[1., 0.]], [[1., 1.]])
            >>> value, d_pred
            (np.float32(-0.70710677), array([[-0.35355338,  0.35355338]], dtype=float32))
        """
        out = check_out(out, 2)
        # Each input is converted and checked once.
        y_true, y_pred, (t_shape, p_shape) = self._convert(y_true, y_pred)
        y_true, y_pred, axis, shape = cosine_for(self._flavour).check(y_true, y_pred, self.axis)
        # So are the weights: they scale the gradient here and reduce the
        # value after the core has written the gradients, possibly into out,
        # so cosine_grad must know not to write there if out overlaps them.
        losses_shape = reduced_shape(shape, axis)
        Reduction.validate(self.reduction)  # as in __call__
        weights = keras_weights(losses_shape, y_pred.dtype, sample_weight, self._flavour)
        per_loss = keras_reduce_grad(losses_shape, y_pred.dtype, weights, self.reduction, upstream)
        norm = self._flavour.norm
        losses, d_true, d_pred = ops.cosine_grad(
            y_true, y_pred, axis, self._flavour.form, shape, per_loss, norm.rule, norm.eps,
            out=out, reads=(weights.weights,))
        value = keras_reduce(losses, weights, self.reduction)
        # Reshaped only where the inputs were squeezed, so that gradients the
        # core wrote into out are those very arrays (deliver then skips them).
        grads = tuple(g if g.shape == s else g.reshape(s)
                      for g, s in ((d_true, t_shape), (d_pred, p_shape)))
        return value, deliver(grads, out)

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, as Keras's `Loss.get_config`.

        Returns:
            A dict with keys "reduction", "name" and "axis", in that order.

        Example:
            >>> cosloss.keras.losses.CosineSimilarity(axis=1).get_config()
            {'reduction': 'auto', 'name': 'cosine_similarity', 'axis': 1}
        """
        return {"reduction": self.reduction, "name": self.name, "axis": self.axis}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Self:
        """A loss object from `get_config()`'s dict: `cls(**config)`.

        Args:
            config: Keyword arguments of the constructor.

        Returns:
            A new loss object of this class.

        Raises:
            TypeError: `config` has a key the constructor does not take, an
                "axis" that is not an int or a "name" that is not a str or
                None.
            ValueError: An invalid "reduction".

        Example:
            >>> cls = cosloss.keras.losses.CosineSimilarity
            >>> cls.from_config({'reduction': 'sum', 'name': 'cos', 'axis': 0})
            cosloss.keras.losses.CosineSimilarity(axis=0, reduction='sum', name='cos')
        """
        return cls(**config)

    def __repr__(self) -> str:
        return (f"{type(self).__module__}.{type(self).__name__}(axis={self.axis!r}, "
                f"reduction={self.reduction!r}, name={self.name!r})")
