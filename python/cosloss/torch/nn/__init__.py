"""torch.nn's cosine modules (PyTorch >= 2.0), for numpy arrays.

Each object computes what its `torch.nn.functional` function computes with
the configuration it was built with; calling it (or `forward`) gives the
value, `value_and_grad` the value and PyTorch's gradients.

Example:
    >>> loss = cosloss.torch.nn.CosineEmbeddingLoss()
    >>> loss([[1., 0.]], [[1., 0.]], [1])
    np.float32(0.0)
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from cosloss._core.arrays import axis_index, real_scalar
from cosloss._losses.base import Loss, Result
from cosloss._losses.torch import COSINE_EMBEDDING, TORCH_COSINE, check_reduction
from cosloss.torch.nn import functional

__all__ = ["functional", "CosineSimilarity", "CosineEmbeddingLoss"]


class CosineSimilarity(Loss):
    """The cosine similarity along dim, as `torch.nn.CosineSimilarity(dim=1, eps=1e-8)`.

        similarity = sum(x1 * x2, dim) / (max(‖x1‖, eps) · max(‖x2‖, eps))

    Call it as `cos(x1, x2)`; see
    `cosloss.torch.nn.functional.cosine_similarity`.

    Args:
        dim: The int dimension along which the cosine is computed.
        eps: The floor on each norm: a real scalar.

    Raises:
        TypeError: `dim` is not an int, or `eps` is a string or complex.
        ValueError: `eps` is None or not a scalar.

    Example:
        >>> cos = cosloss.torch.nn.CosineSimilarity(dim=1)
        >>> cos
        cosloss.torch.nn.CosineSimilarity(dim=1, eps=1e-08)
        >>> cos([[3., 4.], [1., 0.]], [[4., 3.], [0., 1.]])
        array([0.96, 0.  ], dtype=float32)
    """

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        self.dim = axis_index(dim, "dim")
        real_scalar(eps, "eps")
        self.eps = eps

    def __call__(self, x1: ArrayLike, x2: ArrayLike) -> np.ndarray:
        """The cosine similarity of x1 and x2 along self.dim.

        Args:
            x1: A float array, or anything `np.asarray` takes.
            x2: An array whose shape broadcasts with x1's.

        Returns:
            An array of the broadcast shape without `dim`, in the common dtype.

        Raises:
            TypeError: As `functional.cosine_similarity`.
            ValueError: As `functional.cosine_similarity`.

        Example:
            >>> cosloss.torch.nn.CosineSimilarity()([[1., 2.]], [[2., 1.]])
            array([0.8], dtype=float32)
        """
        return TORCH_COSINE.value(x1, x2, self.dim, self.eps)

    forward = __call__

    def value_and_grad(self, x1: ArrayLike, x2: ArrayLike, upstream: ArrayLike | None = None,
                       out: tuple[np.ndarray, ...] | None = None) -> Result:
        """The similarity and its gradients with respect to x1 and x2 (PyTorch's autograd).

        Args:
            x1: As in `__call__`.
            x2: As in `__call__`.
            upstream: The gradient of the value, broadcastable to its shape;
                None (the default) means ones.
            out: Optional (d_x1, d_x2) arrays to write the gradients into;
                see `cosloss.value_and_grad`.

        Returns:
            (value, (d_x1, d_x2)), each gradient of its input's shape.

        Raises:
            TypeError: As `__call__`, or an `out` of the wrong kind or dtype.
            ValueError: As `__call__`, an upstream that does not broadcast,
                or unusable `out` arrays.

        Example:
            >>> value, (d1, d2) = cosloss.torch.nn.CosineSimilarity().value_and_grad(
            ...     [[1., 0.]], [[1., 1.]])
            >>> value, d1
            (array([0.70710677], dtype=float32), array([[0.        , 0.70710677]], dtype=float32))
        """
        return TORCH_COSINE.value_and_grad(x1, x2, self.dim, self.eps, upstream=upstream, out=out)

    def __repr__(self) -> str:
        return f"cosloss.torch.nn.CosineSimilarity(dim={self.dim!r}, eps={self.eps!r})"


class CosineEmbeddingLoss(Loss):
    """PyTorch's `torch.nn.CosineEmbeddingLoss(margin=0.0, reduction="mean")`.

        cos    = sum(x1 * x2) / sqrt((sum(x1 ** 2) + 1e-12) · (sum(x2 ** 2) + 1e-12))
        loss_i = 1 - cos_i  (target 1),   max(0, cos_i - margin)  (target -1)

    reduced by "mean", "sum" or "none". Call it as `loss(input1, input2,
    target)`; see `cosloss.torch.nn.functional.cosine_embedding_loss`,
    which also says where cosloss refuses what PyTorch silently accepts.

    Args:
        margin: A real scalar, best in [-1, 1].
        reduction: "mean", "sum" or "none".

    Raises:
        TypeError: `margin` is a string or complex.
        ValueError: An invalid `reduction`, or a `margin` that is None or
            not a scalar.

    Example:
        >>> loss = cosloss.torch.nn.CosineEmbeddingLoss(margin=0.5)
        >>> loss
        cosloss.torch.nn.CosineEmbeddingLoss(margin=0.5, reduction='mean')
        >>> loss([[1., 0.], [1., 0.]], [[1., 1.], [1., 1.]], [1, -1])  # (0.2928... + 0.2071...) / 2
        np.float32(0.25)
    """

    def __init__(self, margin: float = 0.0, reduction: str = "mean") -> None:
        real_scalar(margin, "margin")
        self.margin = margin
        self.reduction = check_reduction(reduction)

    def __call__(self, input1: ArrayLike, input2: ArrayLike, target: ArrayLike,
                 ) -> np.ndarray | np.floating:
        """The loss of a batch of pairs.

        Args:
            input1: An (N, D) array with a target of shape (N,), or a (D,)
                array with a 0-d target.
            input2: An array of input1's rank whose shape broadcasts with it.
            target: 1 or -1 per pair.

        Returns:
            A numpy scalar, or for reduction "none" the per-pair losses.

        Raises:
            TypeError: As `functional.cosine_embedding_loss`.
            ValueError: As `functional.cosine_embedding_loss`.

        Example:
            >>> cosloss.torch.nn.CosineEmbeddingLoss()([[1., 0.]], [[0., 1.]], [1])
            np.float32(1.0)
        """
        return COSINE_EMBEDDING.value(input1, input2, target, self.margin, self.reduction)

    forward = __call__

    def value_and_grad(self, input1: ArrayLike, input2: ArrayLike, target: ArrayLike,
                       upstream: ArrayLike | None = None,
                       out: tuple[np.ndarray, ...] | None = None) -> Result:
        """The loss and its gradients with respect to input1 and input2 (PyTorch's autograd).

        The target gets no gradient.

        Args:
            input1: As in `__call__`.
            input2: As in `__call__`.
            target: As in `__call__`.
            upstream: The gradient of the value, broadcastable to its shape;
                None (the default) means ones.
            out: Optional (d_input1, d_input2) arrays to write the gradients
                into; see `cosloss.value_and_grad`.

        Returns:
            (value, (d_input1, d_input2)), each gradient of its input's shape.

        Raises:
            TypeError: As `__call__`, or an `out` of the wrong kind or dtype.
            ValueError: As `__call__`, an upstream that does not broadcast,
                or unusable `out` arrays.

        Example:
            >>> loss = cosloss.torch.nn.CosineEmbeddingLoss()
            >>> value, (d1, d2) = loss.value_and_grad([[1., 0.]], [[1., 1.]], [1])
            >>> value, d1
            (np.float32(0.29289323), array([[ 0.        , -0.70710677]], dtype=float32))
        """
        return COSINE_EMBEDDING.value_and_grad(input1, input2, target, self.margin,
                                               self.reduction, upstream=upstream, out=out)

    def __repr__(self) -> str:
        return (f"cosloss.torch.nn.CosineEmbeddingLoss(margin={self.margin!r}, "
                f"reduction={self.reduction!r})")
