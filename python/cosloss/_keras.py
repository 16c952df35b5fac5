"""The Keras cosine loss, shared by cosloss.keras (TF ≥ 2.0) and cosloss.tf115.

The two versions differ only in the sign of the loss and in how a loss
object reduces; each public module binds those choices to its own names.
"""

import numpy as np

from cosloss import _ops
from cosloss._arrays import (broadcast_shape, convert, normalize_axis, require_float,
                             require_same_dtype)
from cosloss._weights import keras_reduce, squeeze_or_expand_inputs


class Reduction:
    """Keras's loss reductions (tf.keras.losses.Reduction, ReductionV2).

    AUTO means SUM_OVER_BATCH_SIZE: the weighted sum divided by the number
    of per-sample losses (zero weights still count).
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


def cosine(y_true, y_pred, axis, form: int) -> np.ndarray:
    """form(cos) of y_true and y_pred along axis, with TensorFlow's checks."""
    y_true = convert(y_true, "y_true")
    y_pred = convert(y_pred, "y_pred")
    require_float(y_true, "y_true", "cosine_similarity")
    require_float(y_pred, "y_pred", "cosine_similarity")
    require_same_dtype(y_true, "y_true", y_pred, "y_pred")
    shape = broadcast_shape(y_true, "y_true", y_pred, "y_pred")
    axis = normalize_axis(axis, len(shape))
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
        y_true = convert(y_true, "y_true")
        y_pred = convert(y_pred, "y_pred")
        if self._squeeze_inputs:
            y_pred, y_true = squeeze_or_expand_inputs(y_pred, y_true, strict=False)
        losses = cosine(y_true, y_pred, self.axis, self._form)
        return keras_reduce(losses, sample_weight, self.reduction, legacy=self._legacy_reduction)

    def get_config(self):
        return {"reduction": self.reduction, "name": self.name, "axis": self.axis}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return (f"{type(self).__module__}.{type(self).__name__}(axis={self.axis!r}, "
                f"reduction={self.reduction!r}, name={self.name!r})")
