"""tf.keras.losses.cosine_similarity and CosineSimilarity, computed by cosloss.

Example:
    >>> loss = cosloss.tf.keras.losses.CosineSimilarity()
    >>> loss(tf.constant([[1., 2.]]), tf.constant([[2., 1.]])).numpy()
    np.float32(-0.8)
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf

from cosloss._losses.flavours import TF2
from cosloss._losses.keras import KERAS3_COSINE, cosine_for
from cosloss.tf._backend import resolve
from cosloss.tf._op import TensorLike
from cosloss.tf.seed import cosine_op

__all__ = ["cosine_similarity", "cosine_proximity", "cosine", "CosineSimilarity"]


def cosine_similarity(y_true: TensorLike, y_pred: TensorLike, axis: int = -1,
                      backend: str | None = None) -> tf.Tensor:
    """Computes the negative cosine similarity as a TensorFlow op with cosloss's numbers.

        loss = -sum(l2_normalize(y_true, axis) * l2_normalize(y_pred, axis), axis)

    A TensorFlow op (graph or eager) with the numbers of
    `cosloss.keras.losses.cosine_similarity`: in [-1, 1], -1 when the
    vectors point the same way, 0 for a zero vector. `cosine_proximity` and
    `cosine` are aliases. When tf.keras is Keras 3, the norms are floored
    as Keras 3 floors them (‖x‖ ≥ 1e-7, where TensorFlow and tf-keras
    floor Σx² at 1e-12), y_true is cast to y_pred's dtype and ranks that
    differ by a trailing axis of 1 are matched, so the numbers are Keras 3's.

    Args:
        y_true: A float16, float32 or float64 tensor, or anything
            `tf.convert_to_tensor` takes.
        y_pred: A tensor of y_true's dtype whose shape broadcasts with
            y_true's.
        axis: The int dimension along which the cosine similarity is
            computed.
        backend: "tf" (TensorFlow primitives) or "go" (the Go core through
            tf.numpy_function); None: `cosloss.tf.get_backend()`.

    Returns:
        A tensor of the broadcast shape without `axis`, in the inputs' dtype.

    Raises:
        TypeError: The inputs' dtypes differ or are not floating.
        ValueError: Shapes that do not broadcast, or (eagerly) an axis out
            of range. In graph mode errors that depend on the fed values are
            raised by `Session.run` as `tf.errors.InvalidArgumentError`.

    Example:
        >>> y_true = tf.constant([[0., 1.], [1., 1.], [1., 1.]])
        >>> y_pred = tf.constant([[1., 0.], [1., 1.], [-1., -1.]])
        >>> cosloss.tf.keras.losses.cosine_similarity(y_true, y_pred, axis=1).numpy()
        array([-0., -1.,  1.], dtype=float32)
    """
    if _keras3():
        y_true, y_pred = keras3_inputs(y_true, y_pred)
        return cosine_op(KERAS3_COSINE, y_true, y_pred, axis, "cosine_similarity", backend)
    return cosine_op(cosine_for(TF2), y_true, y_pred, axis, "cosine_similarity", backend)


def keras3_inputs(y_true: TensorLike, y_pred: TensorLike) -> tuple[tf.Tensor, tf.Tensor]:
    """Keras 3's cosine_similarity inputs: y_true in y_pred's dtype, then
    squeeze_or_expand_to_same_rank (a trailing axis of 1 dropped, or a
    rank-1 input given one, where the ranks differ by one)."""
    y_pred = tf.convert_to_tensor(y_pred)
    y_true = tf.cast(tf.convert_to_tensor(y_true, dtype_hint=y_pred.dtype), y_pred.dtype)
    true_rank, pred_rank = y_true.shape.rank, y_pred.shape.rank
    if true_rank is None or pred_rank is None:
        return y_true, y_pred
    if true_rank == pred_rank + 1 and y_true.shape[-1] == 1:
        if pred_rank == 1:
            y_pred = tf.expand_dims(y_pred, -1)
        else:
            y_true = tf.squeeze(y_true, -1)
    elif pred_rank == true_rank + 1 and y_pred.shape[-1] == 1:
        if true_rank == 1:
            y_true = tf.expand_dims(y_true, -1)
        else:
            y_pred = tf.squeeze(y_pred, -1)
    return y_true, y_pred


cosine_proximity = cosine_similarity
cosine = cosine_similarity


def _keras3() -> bool:
    """Whether tf.keras is Keras 3 (TensorFlow >= 2.16's default) rather than tf-keras.

    Keras 3 has a tf.keras.losses.Reduction too, so the attribute says
    nothing; Keras 3's tf.keras carries a version, tf-keras's does not.
    """
    version = getattr(tf.keras, "__version__", None)
    return version is not None and int(str(version).split(".")[0]) >= 3


# Registered as "cosloss.losses>CosineSimilarity" with whichever Keras tf.keras
# is, so a saved model reloads after `import cosloss.tf` without
# custom_objects (the metric of the same class name is "cosloss.metrics>...").
@tf.keras.utils.register_keras_serializable(package="cosloss.losses")
class CosineSimilarity(tf.keras.losses.Loss):
    """A Keras `Loss` whose per-sample -cos (and its gradient) has cosloss's numbers.

        losses = -sum(l2_normalize(y_true, axis) * l2_normalize(y_pred, axis), axis)
        loss = reduce(losses * sample_weight)

    Keras applies `sample_weight` and the reduction itself, so the value is
    `tf.keras.losses.CosineSimilarity`'s; use it in
    `model.compile(loss=...)`. Call it as `loss(y_true, y_pred,
    sample_weight=None)` (Keras's `Loss.__call__`). Under Keras 3, which has
    no "auto", the default reduction becomes "sum_over_batch_size".

    Args:
        axis: The int dimension along which the cosine similarity is
            computed.
        reduction: A Keras reduction key: "auto", "sum_over_batch_size",
            "sum" or "none".
        name: The loss's name.
        backend: "tf" or "go" for every call (see `cosloss.tf.set_backend`);
            None: the default when the loss is called.
        dtype: Under Keras 3, the dtype its `Loss.__call__` casts both
            inputs to (None: float32); tf-keras takes none.

    Raises:
        ValueError: An invalid `reduction` (raised by Keras).
        TypeError: A `dtype` under tf-keras.

    Example:
        >>> loss = cosloss.tf.keras.losses.CosineSimilarity(axis=1, reduction="sum_over_batch_size")
        >>> loss
        cosloss.tf.keras.losses.CosineSimilarity(axis=1, reduction='sum_over_batch_size', name='cosine_similarity')
        >>> y_true = tf.constant([[0., 1.], [1., 1.]])
        >>> y_pred = tf.constant([[1., 0.], [1., 1.]])
        >>> loss(y_true, y_pred).numpy()  # mean of [-0., -1.]
        np.float32(-0.5)
        >>> loss(y_true, y_pred, sample_weight=tf.constant([0.8, 0.2])).numpy()
        np.float32(-0.1)
    """

    def __init__(self, axis: int = -1, reduction: str = "auto",
                 name: str = "cosine_similarity", backend: str | None = None,
                 dtype: Any = None) -> None:
        if not _keras3():
            if dtype is not None:
                raise TypeError("dtype is Keras 3's argument; tf-keras's CosineSimilarity "
                                f"takes none, got dtype={dtype!r}")
            super().__init__(reduction=reduction, name=name)
        else:
            if reduction == "auto":
                reduction = "sum_over_batch_size"  # Keras 3 has no "auto"
            super().__init__(reduction=reduction, name=name, dtype=dtype)
        self.axis = axis
        self.backend = None if backend is None else resolve(backend)

    def call(self, y_true: TensorLike, y_pred: TensorLike) -> tf.Tensor:
        """The per-sample losses, before Keras weights and reduces them.

        Args:
            y_true: As in `cosine_similarity`.
            y_pred: As in `cosine_similarity`.

        Returns:
            `cosine_similarity(y_true, y_pred, axis=self.axis)`.

        Raises:
            TypeError: As `cosine_similarity`.
            ValueError: As `cosine_similarity`.

        Example:
            >>> loss = cosloss.tf.keras.losses.CosineSimilarity(axis=1)
            >>> loss.call(tf.constant([[1., 2.]]), tf.constant([[2., 1.]])).numpy()
            array([-0.8], dtype=float32)
        """
        return cosine_similarity(y_true, y_pred, axis=self.axis, backend=self.backend)

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, for Keras serialization.

        Returns:
            Keras's `Loss.get_config()` dict with "axis" added (which
            Keras 3's own drops, so its reloaded loss forgets the axis), and
            "backend" when the constructor was given one.

        Example:
            >>> config = cosloss.tf.keras.losses.CosineSimilarity(axis=1, reduction="sum").get_config()
            >>> config["axis"], config["reduction"]
            (1, 'sum')
        """
        config = super().get_config()
        config["axis"] = self.axis
        if self.backend is not None:
            config["backend"] = self.backend
        return config

    def __repr__(self) -> str:
        return (f"{type(self).__module__}.{type(self).__name__}(axis={self.axis!r}, "
                f"reduction={self.reduction!r}, name={self.name!r})")
