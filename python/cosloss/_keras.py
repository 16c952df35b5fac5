"""The Keras cosine loss, shared by cosloss.keras (TF ≥ 2.0) and cosloss.tf115.

The two versions differ only in the sign of the loss and in how a loss
object reduces; each public module binds those choices to its own names.
"""

import numpy as np

from cosloss import _core, _ops
from cosloss._arrays import (broadcast_shape, convert, normalize_axis, require_float,
                             require_same_dtype)
from cosloss._weights import keras_reduce, keras_reduce_grad, squeeze_or_expand_inputs


class Reduction:
    """Keras's loss reductions (tf.keras.losses.Reduction, ReductionV2).

    AUTO means SUM_OVER_BATCH_SIZE: the weighted sum divided by the number
    of per-sample losses (zero weights still count).

    Example:
        >>> loss = cosloss.keras.losses.CosineSimilarity(reduction=cosloss.keras.losses.Reduction.SUM)
        >>> loss([[1., 0.], [1., 1.]], [[1., 0.], [-1., -1.]])
        np.float32(0.0)
    """

    AUTO = "auto"
    NONE = "none"
    SUM = "sum"
    SUM_OVER_BATCH_SIZE = "sum_over_batch_size"

    @classmethod
    def all(cls):
        return (cls.AUTO, cls.NONE, cls.SUM, cls.SUM_OVER_BATCH_SIZE)

    @classmethod
    def validate(cls, key):
        if key not in cls.all():
            raise ValueError(f"Invalid Reduction Key {key}. Expected keys are {cls.all()} "
                             f"(argument 'reduction').")


def prepare(y_true, y_pred, axis):
    """(y_true, y_pred, axis, broadcast shape) after TensorFlow's checks."""
    y_true = convert(y_true, "y_true")
    y_pred = convert(y_pred, "y_pred")
    require_float(y_true, "y_true", "cosine_similarity")
    require_float(y_pred, "y_pred", "cosine_similarity")
    require_same_dtype(y_true, "y_true", y_pred, "y_pred")
    shape = broadcast_shape(y_true, "y_true", y_pred, "y_pred")
    return y_true, y_pred, normalize_axis(axis, len(shape)), shape


def cosine(y_true, y_pred, axis, form: int) -> np.ndarray:
    """form(cos) of y_true and y_pred along axis, with TensorFlow's checks."""
    out = _core.cosine_fast(y_true, y_pred, axis, form)
    if out is not None:
        return out
    y_true, y_pred, axis, shape = prepare(y_true, y_pred, axis)
    return _ops.cosine(y_true, y_pred, axis, form, shape)


class LossBase:
    """A Keras cosine loss object; subclasses fix the form and the reduction rules."""

    _form: int
    _legacy_reduction: bool
    _squeeze_inputs: bool

    def __init__(self, axis=-1, reduction=Reduction.AUTO, name="cosine_similarity"):
        Reduction.validate(reduction)
        self.axis = axis
        self.reduction = reduction
        self.name = name

    def __call__(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = self._inputs(y_true, y_pred)
        losses = cosine(y_true, y_pred, self.axis, self._form)
        return keras_reduce(losses, sample_weight, self.reduction, legacy=self._legacy_reduction)

    def _inputs(self, y_true, y_pred):
        """The inputs as the loss function sees them (squeezed in tf-keras)."""
        y_true = convert(y_true, "y_true")
        y_pred = convert(y_pred, "y_pred")
        if self._squeeze_inputs:
            y_pred, y_true = squeeze_or_expand_inputs(y_pred, y_true, strict=False)
        return y_true, y_pred

    def value_and_grad(self, y_true, y_pred, sample_weight=None, upstream=None):
        """(loss, (d/dy_true, d/dy_pred)); see cosloss.value_and_grad."""
        t_shape, p_shape = np.shape(y_true), np.shape(y_pred)
        y_true, y_pred, axis, shape = prepare(*self._inputs(y_true, y_pred), self.axis)
        losses_shape = shape[:axis] + shape[axis + 1:]
        per_loss = keras_reduce_grad(losses_shape, y_pred.dtype, sample_weight, self.reduction,
                                     self._legacy_reduction, upstream)
        losses, d_true, d_pred = _ops.cosine_grad(y_true, y_pred, axis, self._form, shape, per_loss)
        value = keras_reduce(losses, sample_weight, self.reduction, legacy=self._legacy_reduction)
        return value, (d_true.reshape(t_shape), d_pred.reshape(p_shape))

    def get_config(self):
        return {"reduction": self.reduction, "name": self.name, "axis": self.axis}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return (f"{type(self).__module__}.{type(self).__name__}(axis={self.axis!r}, "
                f"reduction={self.reduction!r}, name={self.name!r})")
