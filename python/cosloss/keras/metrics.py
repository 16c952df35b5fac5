"""tf.keras.metrics.CosineSimilarity: the running mean of +cos (every TF version).

Example:
    >>> cosloss.keras.metrics.CosineSimilarity()([[1., 2.]], [[2., 1.]])
    np.float32(0.8)
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from cosloss._core import go
from cosloss._core import ops
from cosloss._core.arrays import (FLOAT_DTYPES, axes_arg, broadcast_shape, convert, describe,
                                  str_or_none)
from cosloss._losses.cosine import CosineLoss
from cosloss._losses.flavours import TF_NORM
from cosloss._losses.reductions import (assert_broadcastable, squeeze_or_expand_inputs,
                                        squeeze_or_expand_weights)

__all__ = ["CosineSimilarity"]

# +cos with TensorFlow's norms, for the inputs the metric has cast and squeezed.
_VALUES = CosineLoss(go.COS, TF_NORM)


class CosineSimilarity:
    """Computes the cosine similarity between labels and predictions, as a streaming mean.

        values = sum(l2_normalize(y_true, axis) * l2_normalize(y_pred, axis), axis)
        total += sum(sample_weight * values)
        count += sum(sample_weight)         # size(values) without weights
        result = total / count              # 0 while count is 0

    Unlike the loss it is +cos in every TensorFlow version (1 when the
    vectors point the same way), and it casts its inputs to its dtype, so
    integer and mixed-dtype inputs work. Its state is `total` and `count`,
    numpy scalars of its dtype. `update_state` adds a batch, `result` reads
    the mean, `reset_states` (alias `reset_state`) starts over, and calling
    the object does `update_state` then `result`.

    Args:
        name: The metric's name, kept for `get_config()`; None means
            "cosine_similarity".
        dtype: The dtype of the state and of the cast inputs; None means
            float32. An integer dtype is accepted, as tf-keras accepts it,
            but gives a metric that cannot update: tf-keras casts the
            inputs to it, and l2_normalize takes no integers, so
            `update_state` raises TypeError and `result()` stays 0 (float32
            for 8- and 16-bit ints, float64 for wider ones, the dtypes of
            TensorFlow's divide_no_nan).
        axis: The dimension along which the cosine similarity is
            computed: an int, or a list or tuple of ints (TensorFlow's
            reduce_sum takes one; both inputs must then span each listed
            axis, cosloss does not broadcast along them).

    Raises:
        TypeError: `dtype` is not a float or integer dtype (bool and complex
            are refused), `name` is not a str or None, or `axis` is not an
            int or a list or tuple of ints.

    Example:
        >>> m = cosloss.keras.metrics.CosineSimilarity(axis=1)
        >>> m
        cosloss.keras.metrics.CosineSimilarity(name='cosine_similarity', dtype='float32', axis=1)
        >>> m.update_state([[0., 1.], [1., 1.]], [[1., 0.], [1., 1.]])  # cos [0, 1]
        >>> m.result()
        np.float32(0.5)
        >>> m.update_state([[0., 1.], [1., 1.]], [[1., 0.], [1., 1.]], sample_weight=[0.3, 0.7])
        >>> m.result()  # (0 + 1 + 0.3 * 0 + 0.7 * 1) / (2 + 1)
        np.float32(0.56666666)
    """

    total: np.floating
    count: np.floating

    def __init__(self, name: str = "cosine_similarity", dtype: DTypeLike | None = None,
                 axis: int | list[int] | tuple[int, ...] = -1) -> None:
        str_or_none(name, "name")
        # Keras names an unnamed metric after its class.
        self.name = "cosine_similarity" if name is None else name
        self.dtype: np.dtype[Any] = _metric_dtype(dtype)
        # Checked here rather than at the first update, where TensorFlow
        # checks it, so that a bad axis is reported where it was passed.
        self.axis = axes_arg(axis)  # an int, or a list or tuple of ints kept as given
        self.reset_states()

    def update_state(self, y_true: ArrayLike, y_pred: ArrayLike,
                     sample_weight: ArrayLike | None = None) -> None:
        """Adds a batch to the running mean.

            values = sum(l2_normalize(y_true, axis) * l2_normalize(y_pred, axis), axis)
            total += sum(sample_weight * values); count += sum(sample_weight)

        y_true and y_pred are cast to the metric's dtype. When their ranks
        differ by one, the larger one's last axis is dropped if it is 1; a
        larger y_true whose last axis is not 1 raises ValueError, as in
        TF 1.15.

        Args:
            y_true: An array of any real dtype.
            y_pred: An array whose shape broadcasts with y_true's.
            sample_weight: None (each value counts once), a scalar, or an
                array that broadcasts to the values after gaining or losing
                a trailing axis of 1. Weights of lower rank that do not
                broadcast weight the values' mean over the axes they lack,
                as Keras does.

        Raises:
            TypeError: Non-numeric or complex inputs, or a numpy masked array
                (pass `.filled(...)` and give masked samples weight 0 through
                sample_weight).
            ValueError: None inputs, Python lists TensorFlow cannot convert
                (ragged, mixed types, ints beyond int64), shapes that do not
                broadcast, a squeezed axis that is not 1, or an axis out of
                range.

        Example:
            >>> m = cosloss.keras.metrics.CosineSimilarity()
            >>> m.update_state([[0, 1], [1, 1]], [[1, 0], [1, 1]])  # ints are cast
            >>> m.total, m.count
            (np.float32(1.0), np.float32(2.0))
        """
        y_true = convert(y_true, "y_true")
        y_pred = convert(y_pred, "y_pred")
        if self.dtype.kind in "iu":
            # tf-keras (TF 2.21) casts both inputs to the metric's dtype, then
            # fails in l2_normalize, leaving the state as it was. Keras 3
            # differs: it does not cast the inputs (float inputs work, int
            # ones fail at Rsqrt), casts each cosine and sample weight to the
            # int dtype (truncating toward 0: cos 0.99999994 counts 0) and
            # returns a float32 result. cosloss follows tf-keras.
            raise TypeError(
                f"Cannot convert 1e-12 to EagerTensor of dtype {self.dtype} (tf-keras's "
                f"error): CosineSimilarity(dtype={self.dtype.name!r}) casts y_true and y_pred "
                f"to {self.dtype}, and l2_normalize takes no integer input. Give the "
                f"metric a float dtype.")
        y_true = y_true.astype(self.dtype, copy=False)
        y_pred = y_pred.astype(self.dtype, copy=False)
        y_pred, y_true = squeeze_or_expand_inputs(y_pred, y_true, strict=True)
        shape = broadcast_shape(y_true, "y_true", y_pred, "y_pred")
        axis = _VALUES.axes(y_true, y_pred, self.axis, shape)
        values = _VALUES.cosine(y_true, y_pred, axis, shape, _VALUES.norm)
        count: float
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
        self.total = self.dtype.type(self.total + ops.reduce(values, weights, go.SUM))
        self.count = self.dtype.type(self.count + self.dtype.type(count))

    def result(self) -> np.floating:
        """The weighted mean of the cosines so far.

        Returns:
            total / count as a numpy scalar of the metric's dtype, or 0 when
            count is 0 (`div_no_nan`). An integer metric gives 0 as
            TensorFlow's divide_no_nan types it: float32 for 8- and 16-bit
            ints, float64 for 32- and 64-bit ones.

        Example:
            >>> m = cosloss.keras.metrics.CosineSimilarity()
            >>> m.result()
            np.float32(0.0)
            >>> m.update_state([[3., 4.]], [[4., 3.]])
            >>> m.result()  # (12 + 12) / 25
            np.float32(0.96)
        """
        result_type = self.dtype.type
        if self.dtype.kind in "iu":  # TF's _TRUEDIV_TABLE, which divide_no_nan casts by
            result_type = np.float32 if self.dtype.itemsize <= 2 else np.float64
        if self.count == 0:
            return result_type(0)
        return result_type(self.total / self.count)

    def reset_states(self) -> None:
        """Forgets every update: total and count return to 0.

        `reset_state` is an alias.

        Example:
            >>> m = cosloss.keras.metrics.CosineSimilarity()
            >>> m.update_state([[1., 0.]], [[1., 0.]])
            >>> m.reset_states()
            >>> m.total, m.count
            (np.float32(0.0), np.float32(0.0))
        """
        self.total = self.dtype.type(0)
        self.count = self.dtype.type(0)

    reset_state = reset_states

    def __call__(self, y_true: ArrayLike, y_pred: ArrayLike,
                 sample_weight: ArrayLike | None = None) -> np.floating:
        """Adds a batch (`update_state`) and returns the running mean (`result`).

        Args:
            y_true: As in `update_state`.
            y_pred: As in `update_state`.
            sample_weight: As in `update_state`.

        Returns:
            The weighted mean of every batch so far, a numpy scalar of the
            metric's dtype.

        Raises:
            TypeError: As `update_state`.
            ValueError: As `update_state`.

        Example:
            >>> m = cosloss.keras.metrics.CosineSimilarity()
            >>> m([[1., 2.]], [[2., 1.]])
            np.float32(0.8)
            >>> m([[1., 0.]], [[1., 0.]])  # (0.8 + 1) / 2
            np.float32(0.9)
        """
        self.update_state(y_true, y_pred, sample_weight)
        return self.result()

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, as Keras's `Metric.get_config`.

        Returns:
            A dict with keys "name", "dtype" (a dtype name) and "axis".

        Example:
            >>> cosloss.keras.metrics.CosineSimilarity(axis=0).get_config()
            {'name': 'cosine_similarity', 'dtype': 'float32', 'axis': 0}
        """
        return {"name": self.name, "dtype": self.dtype.name, "axis": self.axis}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Self:
        """A new metric from `get_config()`'s dict: `cls(**config)`.

        Args:
            config: Keyword arguments of the constructor.

        Returns:
            A new metric of this class, with no updates.

        Raises:
            TypeError: `config` has a key the constructor does not take, or
                a "dtype", "name" or "axis" the constructor refuses.

        Example:
            >>> cosloss.keras.metrics.CosineSimilarity.from_config(
            ...     {'name': 'cos', 'dtype': 'float64', 'axis': 1})
            cosloss.keras.metrics.CosineSimilarity(name='cos', dtype='float64', axis=1)
        """
        return cls(**config)

    def __repr__(self) -> str:
        return (f"{type(self).__module__}.{type(self).__name__}(name={self.name!r}, "
                f"dtype={self.dtype.name!r}, axis={self.axis!r})")


def _metric_dtype(dtype: DTypeLike | None) -> np.dtype[Any]:
    """The metric's dtype: float32 for None, a float or integer dtype, or TypeError naming it."""
    if dtype is None:
        return np.dtype(np.float32)
    expected = ("None, a float dtype (float16, float32 or float64) or an integer dtype "
                "(which cannot update, as in tf-keras)")
    try:
        result = np.dtype(dtype)
    except (TypeError, ValueError):
        raise TypeError(f"dtype must be {expected}, got {describe(dtype)}") from None
    if result not in FLOAT_DTYPES and result.kind not in "iu":
        raise TypeError(f"dtype must be {expected}, got {describe(dtype)} (dtype {result})")
    return result
