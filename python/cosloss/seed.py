"""The three cosine losses of "Why are cosine similarity losses positive in TensorFlow 1.15?".

-cos, 1 - cos and (1 - cos)², where cos uses TensorFlow's l2_normalize
(ε = 1e-12 floors the squared norms). The article divides by the norms, so
a zero vector gives NaN there; here it gives cos = 0 and finite losses.

Example:
    >>> cosloss.cosine_similarity_loss_v2([[1., 0.]], [[0., 0.]])  # zero vector: cos = 0
    array([1.], dtype=float32)
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from cosloss._losses.base import face
from cosloss._losses.cosine import SEED_NEGATIVE, SEED_ONE_MINUS, SEED_SQUARED_ONE_MINUS

__all__ = ["cosine_similarity_loss", "cosine_similarity_loss_v2", "cosine_similarity_loss_v3",
           "negative_cosine_loss", "one_minus_cosine_loss", "squared_one_minus_cosine_loss"]


@face(SEED_NEGATIVE)
def cosine_similarity_loss(a: ArrayLike, b: ArrayLike,
                              axis: int | list[int] | tuple[int, ...] = -1, *,
                              eps_mode: str | None = None, zero: str = "finite",
                              clamp: bool = False) -> np.ndarray:
    """Negative cosine similarity, in [-1, 1]: negative when the vectors agree.

        loss = -sum(l2_normalize(a, axis) * l2_normalize(b, axis), axis)

    The values are those of `cosloss.keras.losses.cosine_similarity`. Zero
    vectors give 0 (the article's code gives NaN). Alias:
    `negative_cosine_loss`.

    Args:
        a: A float16, float32 or float64 array (Python float lists become
            float32).
        b: An array of a's dtype whose shape broadcasts with a's.
        axis: The dimension along which the cosine is computed: an int,
            or a list or tuple of ints (as in
            `cosloss.keras.losses.cosine_similarity`).
        eps_mode: Whose epsilon rule keeps the norms away from zero: None
            (this function's own, TensorFlow's, "tf"), "tf" (Σx² ≥ 1e-12), "keras3"
            (‖x‖ ≥ 1e-7), "torch" (each ‖x‖ ≥ 1e-8, PyTorch ≥ 2.0) or
            "optax" (no floor: optax's default epsilon=0).
        zero: What a slice with a zero vector gives: "finite" (the rule's
            own value, or the form of cos = 0 with zero gradients where the
            rule gives 0/0), "nan" (NaN value and gradients) or "raise"
            (ValueError naming the input and the first zero vector's index).
        clamp: True clips the cosine to [-1, 1] (rounding can put it an ulp
            outside), the gradient passing through unchanged.

    Returns:
        An array of the broadcast shape without `axis`, in the inputs' dtype.

    Raises:
        TypeError: Integer, bool, complex or mixed dtypes (TensorFlow does
            not cast them), a numpy masked array, or an axis that is not an
            int or a list of ints.
        ValueError: None inputs, Python lists TensorFlow cannot convert
            (ragged, mixed types, ints beyond int64), shapes that do not
            broadcast, an axis out of range or repeated, or an input
            broadcast along one of several listed axes.

    Example:
        >>> cosloss.cosine_similarity_loss([[1., 2.], [3., 4.]], [[2., 1.], [4., 3.]])
        array([-0.8 , -0.96], dtype=float32)
    """
    return SEED_NEGATIVE.value(a, b, axis, eps_mode=eps_mode, zero=zero, clamp=clamp)


@face(SEED_ONE_MINUS)
def cosine_similarity_loss_v2(a: ArrayLike, b: ArrayLike,
                              axis: int | list[int] | tuple[int, ...] = -1, *,
                              eps_mode: str | None = None, zero: str = "finite",
                              clamp: bool = False) -> np.ndarray:
    """One minus the cosine similarity, in [0, 2]: 0 when the vectors agree.

        loss = 1 - sum(l2_normalize(a, axis) * l2_normalize(b, axis), axis)

    Zero vectors give 1 (the article's code gives NaN). Alias:
    `one_minus_cosine_loss`.

    Args:
        a: A float16, float32 or float64 array (Python float lists become
            float32).
        b: An array of a's dtype whose shape broadcasts with a's.
        axis: The dimension along which the cosine is computed: an int,
            or a list or tuple of ints (as in
            `cosloss.keras.losses.cosine_similarity`).
        eps_mode: Whose epsilon rule keeps the norms away from zero: None
            (this function's own, TensorFlow's, "tf"), "tf" (Σx² ≥ 1e-12), "keras3"
            (‖x‖ ≥ 1e-7), "torch" (each ‖x‖ ≥ 1e-8, PyTorch ≥ 2.0) or
            "optax" (no floor: optax's default epsilon=0).
        zero: What a slice with a zero vector gives: "finite" (the rule's
            own value, or the form of cos = 0 with zero gradients where the
            rule gives 0/0), "nan" (NaN value and gradients) or "raise"
            (ValueError naming the input and the first zero vector's index).
        clamp: True clips the cosine to [-1, 1] (rounding can put it an ulp
            outside), the gradient passing through unchanged.

    Returns:
        An array of the broadcast shape without `axis`, in the inputs' dtype.

    Raises:
        TypeError: Integer, bool, complex or mixed dtypes (TensorFlow does
            not cast them), a numpy masked array, or an axis that is not an
            int or a list of ints.
        ValueError: None inputs, Python lists TensorFlow cannot convert
            (ragged, mixed types, ints beyond int64), shapes that do not
            broadcast, an axis out of range or repeated, or an input
            broadcast along one of several listed axes.

    Example:
        >>> cosloss.cosine_similarity_loss_v2([[1., 2.], [3., 4.]], [[2., 1.], [4., 3.]])
        array([0.19999999, 0.04000002], dtype=float32)
    """
    return SEED_ONE_MINUS.value(a, b, axis, eps_mode=eps_mode, zero=zero, clamp=clamp)


@face(SEED_SQUARED_ONE_MINUS)
def cosine_similarity_loss_v3(a: ArrayLike, b: ArrayLike,
                              axis: int | list[int] | tuple[int, ...] = -1, *,
                              eps_mode: str | None = None, zero: str = "finite",
                              clamp: bool = False) -> np.ndarray:
    """One minus the cosine similarity, squared, in [0, 4].

        loss = (1 - sum(l2_normalize(a, axis) * l2_normalize(b, axis), axis)) ** 2

    Its gradient vanishes as cos approaches 1. Zero vectors give 1 (the
    article's code gives NaN). Alias: `squared_one_minus_cosine_loss`.

    Args:
        a: A float16, float32 or float64 array (Python float lists become
            float32).
        b: An array of a's dtype whose shape broadcasts with a's.
        axis: The dimension along which the cosine is computed: an int,
            or a list or tuple of ints (as in
            `cosloss.keras.losses.cosine_similarity`).
        eps_mode: Whose epsilon rule keeps the norms away from zero: None
            (this function's own, TensorFlow's, "tf"), "tf" (Σx² ≥ 1e-12), "keras3"
            (‖x‖ ≥ 1e-7), "torch" (each ‖x‖ ≥ 1e-8, PyTorch ≥ 2.0) or
            "optax" (no floor: optax's default epsilon=0).
        zero: What a slice with a zero vector gives: "finite" (the rule's
            own value, or the form of cos = 0 with zero gradients where the
            rule gives 0/0), "nan" (NaN value and gradients) or "raise"
            (ValueError naming the input and the first zero vector's index).
        clamp: True clips the cosine to [-1, 1] (rounding can put it an ulp
            outside), the gradient passing through unchanged.

    Returns:
        An array of the broadcast shape without `axis`, in the inputs' dtype.

    Raises:
        TypeError: Integer, bool, complex or mixed dtypes (TensorFlow does
            not cast them), a numpy masked array, or an axis that is not an
            int or a list of ints.
        ValueError: None inputs, Python lists TensorFlow cannot convert
            (ragged, mixed types, ints beyond int64), shapes that do not
            broadcast, an axis out of range or repeated, or an input
            broadcast along one of several listed axes.

    Example:
        >>> cosloss.cosine_similarity_loss_v3([[1., 2.], [3., 4.]], [[2., 1.], [4., 3.]])
        array([0.04  , 0.0016], dtype=float32)
    """
    return SEED_SQUARED_ONE_MINUS.value(a, b, axis, eps_mode=eps_mode, zero=zero, clamp=clamp)


negative_cosine_loss = cosine_similarity_loss
one_minus_cosine_loss = cosine_similarity_loss_v2
squared_one_minus_cosine_loss = cosine_similarity_loss_v3
