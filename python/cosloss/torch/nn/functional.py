"""torch.nn.functional's cosine functions (PyTorch >= 2.0), for numpy arrays.

Example:
    >>> cosloss.torch.nn.functional.cosine_similarity([[3., 4.]], [[4., 3.]])
    array([0.96], dtype=float32)
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from cosloss._losses.base import face
from cosloss._losses.torch import COSINE_EMBEDDING, TORCH_COSINE

__all__ = ["cosine_similarity", "cosine_embedding_loss"]


@face(TORCH_COSINE)
def cosine_similarity(x1: ArrayLike, x2: ArrayLike, dim: int = 1, eps: float = 1e-8,
                      ) -> np.ndarray:
    """The cosine similarity of x1 and x2 along dim, as `torch.nn.functional.cosine_similarity`.

        similarity = sum(x1 * x2, dim) / (max(‖x1‖, eps) · max(‖x2‖, eps))

    PyTorch >= 2.0 floors each norm at eps separately (before 1.12 it
    floored their product), so a zero vector gives 0. x1 and x2 broadcast to
    a common shape and `dim` indexes it; they are promoted to a common float
    dtype as PyTorch promotes (an integer input takes the other's float
    dtype). The sums run in float64 and each result is rounded once, so
    values may differ from PyTorch's float32 arithmetic in the last bit.
    The gradient (`cosloss.value_and_grad`) is PyTorch's autograd gradient.

    Args:
        x1: A float16, float32 or float64 array, or anything `np.asarray`
            takes (Python float lists become float32, PyTorch's default).
        x2: An array whose shape broadcasts with x1's.
        dim: The int dimension of the broadcast shape along which the
            cosine is computed (default 1).
        eps: The floor on each norm: a real scalar.

    Returns:
        An array of the broadcast shape without `dim`, in the common dtype.

    Raises:
        TypeError: Neither input is floating (PyTorch: "expected common
            dtype to be floating point"), a complex or non-numeric input,
            a numpy masked array, a non-int dim, or an eps that is a string
            or complex.
        ValueError: None inputs, shapes that do not broadcast, a dim out of
            range, or an eps that is None or not a scalar.

    Example:
        >>> F = cosloss.torch.nn.functional
        >>> F.cosine_similarity([[1., 0.], [1., 1.], [0., 0.]], [[0., 1.], [2., 2.], [1., 0.]])
        array([0., 1., 0.], dtype=float32)
        >>> F.cosine_similarity(np.array([[1., 0.], [0., 2.]]), np.array([1., 1.]))  # broadcast
        array([0.70710678, 0.70710678])
    """
    return TORCH_COSINE.value(x1, x2, dim, eps)


@face(COSINE_EMBEDDING)
def cosine_embedding_loss(input1: ArrayLike, input2: ArrayLike, target: ArrayLike,
                          margin: float = 0.0, reduction: str = "mean",
                          ) -> np.ndarray | np.floating:
    """PyTorch's cosine embedding loss, as `torch.nn.functional.cosine_embedding_loss`.

        cos    = sum(x1 * x2) / sqrt((sum(x1 ** 2) + 1e-12) · (sum(x2 ** 2) + 1e-12))
        loss_i = 1 - cos_i                   where target_i == 1
                 max(0, cos_i - margin)      where target_i == -1

    along the last axis, then reduced: "mean" (NaN for an empty batch, as
    in PyTorch), "sum" or "none". Unlike PyTorch, a target that is not one
    value per pair (PyTorch issue #53030) or that holds values other than
    1 and -1 (PyTorch scores them 0) raises ValueError.

    Args:
        input1: An (N, D) array with a target of shape (N,), or a (D,)
            array with a 0-d target.
        input2: An array of input1's rank whose shape broadcasts with it.
        target: 1 (similar) or -1 (dissimilar) per pair, of any real dtype.
        margin: A real scalar, best in [-1, 1]; PyTorch suggests [0, 0.5].
        reduction: "mean", "sum" or "none".

    Returns:
        A numpy scalar of the inputs' common float dtype, or for "none" an
        array of shape (N,) (a 0-d array for a 0-d target).

    Raises:
        TypeError: Neither input is floating, a complex or non-numeric
            input or target, or a numpy masked array.
        ValueError: An invalid reduction, a target that is not 0-d or 1-d
            or does not have one value per pair, or holds values other than
            1 and -1, inputs of the wrong rank or shapes that do not
            broadcast, or a margin that is not a real scalar.

    Example:
        >>> F = cosloss.torch.nn.functional
        >>> a, b = [[1., 0.], [1., 0.]], [[1., 1.], [1., 1.]]
        >>> F.cosine_embedding_loss(a, b, [1, -1], reduction="none")  # 1 - cos, cos - 0
        array([0.29289323, 0.70710677], dtype=float32)
        >>> F.cosine_embedding_loss(a, b, [1, -1], margin=0.8)  # (0.2928... + 0) / 2
        np.float32(0.14644662)
    """
    return COSINE_EMBEDDING.value(input1, input2, target, margin, reduction)
