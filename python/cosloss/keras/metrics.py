"""tf.keras.metrics.CosineSimilarity: the running mean of +cos (every TF version)."""

import numpy as np

from cosloss import _core, _ops
from cosloss._arrays import FLOAT_DTYPES, broadcast_shape, convert, normalize_axis
from cosloss._weights import (assert_broadcastable, squeeze_or_expand_inputs,
                              squeeze_or_expand_weights)

__all__ = ["CosineSimilarity"]


class CosineSimilarity:
    """Streaming weighted mean of cos(y_true, y_pred) along axis.

    Each update adds Σ w·cos to total and Σ w (or the number of values when
    there are no weights) to count; result() is total / count, 0 when count
    is 0. Unlike the loss it is +cos in every TensorFlow version, and it casts
    its inputs to its dtype, so integer and mixed-dtype inputs work.

    Args:
        name: kept for get_config(). dtype: the state and cast dtype
            (default float32). axis: the axis of the similarity.

    Example:
        >>> m = cosloss.keras.metrics.CosineSimilarity(axis=1)
        >>> m.update_state([[0., 1.], [1., 1.]], [[1., 0.], [1., 1.]])
        >>> m.result()
        np.float32(0.5)
    """

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        self.name = name
        self.dtype = np.dtype("float32" if dtype is None else dtype)
        if self.dtype not in FLOAT_DTYPES:
            raise TypeError(f"dtype must be a float dtype (float16, float32, float64), got {self.dtype}")
        self.axis = axis
        self.reset_states()

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add a batch: y_true and y_pred are cast to the metric's dtype."""
        y_true = convert(y_true, "y_true").astype(self.dtype, copy=False)
        y_pred = convert(y_pred, "y_pred").astype(self.dtype, copy=False)
        y_pred, y_true = squeeze_or_expand_inputs(y_pred, y_true, strict=True)
        shape = broadcast_shape(y_true, "y_true", y_pred, "y_pred")
        axis = normalize_axis(self.axis, len(shape))
        values = _ops.cosine(y_true, y_pred, axis, _core.COS, shape)
        if sample_weight is None:
            weights = np.ones((), self.dtype)
            count = values.size
        else:
            weights = convert(sample_weight, "sample_weight").astype(self.dtype, copy=False)
            weights = squeeze_or_expand_weights(values, weights, "sample_weight")
            try:
                assert_broadcastable(weights, values, "sample_weight")
                weights = np.broadcast_to(weights, values.shape)
                count = np.sum(weights, dtype=np.float64)
            except ValueError:
                # Keras falls back to averaging the values over the axes the
                # weights lack, then weighting those means; count is Σ weights.
                values = values.mean(axis=tuple(range(weights.ndim, values.ndim)), dtype=self.dtype)
                count = np.sum(weights, dtype=np.float64)
                shape = broadcast_shape(values, "the averaged values", weights, "sample_weight")
                values, weights = np.broadcast_to(values, shape), np.broadcast_to(weights, shape)
        self.total = self.dtype.type(self.total + _ops.reduce(values, weights, _core.SUM))
        self.count = self.dtype.type(self.count + self.dtype.type(count))

    def result(self):
        """total / count, or 0 when count is 0 (div_no_nan)."""
        if self.count == 0:
            return self.dtype.type(0)
        return self.dtype.type(self.total / self.count)

    def reset_states(self):
        """Forget every update."""
        self.total = self.dtype.type(0)
        self.count = self.dtype.type(0)

    reset_state = reset_states

    def __call__(self, y_true, y_pred, sample_weight=None):
        """update_state, then result()."""
        self.update_state(y_true, y_pred, sample_weight)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype.name, "axis": self.axis}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return (f"{type(self).__module__}.{type(self).__name__}(name={self.name!r}, "
                f"dtype={self.dtype.name!r}, axis={self.axis!r})")
