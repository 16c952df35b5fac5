"""tf.keras.metrics.CosineSimilarity as a Keras Metric whose cosines come from cosloss.

Example:
    >>> m = cosloss.tf.keras.metrics.CosineSimilarity()
    >>> _ = m.update_state(tf.constant([[1., 2.]]), tf.constant([[2., 1.]]))
    >>> float(m.result())
    0.800000011920929
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf

from cosloss._losses.flavours import TF115
from cosloss._losses.keras import KERAS3_METRIC_COSINE, cosine_for
from cosloss.tf._backend import resolve
from cosloss.tf._op import TensorLike
from cosloss.tf.keras.losses import _keras3, keras3_inputs
from cosloss.tf.seed import cosine_op

__all__ = ["CosineSimilarity"]


def _cosine(y_true: TensorLike, y_pred: TensorLike, axis: int = -1,
            backend: str | None = None) -> tf.Tensor:
    # +cos with TensorFlow's norms (TF 1.15's loss function, every tf-keras
    # version's metric), or with Keras 3's.
    if _keras3():
        y_true, y_pred = keras3_inputs(y_true, y_pred)
        return cosine_op(KERAS3_METRIC_COSINE, y_true, y_pred, axis, "cosine_similarity", backend)
    return cosine_op(cosine_for(TF115), y_true, y_pred, axis, "cosine_similarity", backend)


@tf.keras.utils.register_keras_serializable(package="cosloss.metrics")
class CosineSimilarity(tf.keras.metrics.MeanMetricWrapper):
    """A Keras `Metric`: the running mean of +cos, each batch's cosines cosloss's.

        values = sum(l2_normalize(y_true, axis) * l2_normalize(y_pred, axis), axis)
        result = sum(sample_weight * values) / sum(sample_weight)   # over every batch

    Keras casts y_true and y_pred to the metric's dtype and keeps the
    running total and count, so the numbers are
    `tf.keras.metrics.CosineSimilarity`'s and `cosloss.keras.metrics`';
    use it in `model.compile(metrics=[...])`. Registered as
    "cosloss.metrics>CosineSimilarity" for saving and loading.

    Args:
        name: The metric's name.
        dtype: The dtype of the state and of the cast inputs (None:
            float32).
        axis: The int dimension along which the cosine is computed.
        backend: "tf" or "go" for every update (see
            `cosloss.tf.set_backend`); None: the default at each update.

    Raises:
        TypeError: `dtype` is not a dtype Keras accepts (raised by Keras).

    Example:
        >>> m = cosloss.tf.keras.metrics.CosineSimilarity(axis=1)
        >>> _ = m.update_state(tf.constant([[0., 1.], [1., 1.]]), tf.constant([[1., 0.], [1., 1.]]))
        >>> float(m.result())  # mean of [0, 1]
        0.5
    """

    def __init__(self, name: str = "cosine_similarity", dtype: Any = None, axis: int = -1,
                 backend: str | None = None) -> None:
        backend = None if backend is None else resolve(backend)
        super().__init__(_cosine, name, dtype=dtype, axis=axis, backend=backend)
        self.backend = backend

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, for Keras serialization.

        Returns:
            A dict with "name", "dtype" and "axis" (and "backend" when the
            constructor was given one).

        Example:
            >>> cosloss.tf.keras.metrics.CosineSimilarity(axis=1).get_config()["axis"]
            1
        """
        config = super().get_config()
        # Keras's own config holds the wrapped function; this class makes it.
        config.pop("fn", None)
        config = {"name": config["name"], "dtype": config["dtype"], "axis": config["axis"]}
        if self.backend is not None:
            config["backend"] = self.backend
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> CosineSimilarity:
        """A metric from `get_config()`'s dict: `cls(**config)`.

        Args:
            config: Keyword arguments of the constructor.

        Returns:
            A new metric with no updates.

        Raises:
            TypeError: `config` has a key the constructor does not take.

        Example:
            >>> cls = cosloss.tf.keras.metrics.CosineSimilarity
            >>> cls.from_config({"name": "cos", "dtype": "float32", "axis": 0}).name
            'cos'
        """
        return cls(**config)
