"""cosloss.value_and_grad: a loss and its gradients in one call.

The loss object behind fn computes both (see cosloss._losses.base); the
gradients are its framework's autodiff gradients, computed analytically by
the Go core in the same pass as the value (see cosloss/grad.go).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from cosloss._losses import base as _losses_base

__all__ = ["value_and_grad"]


def value_and_grad(fn: Callable[..., Any], *args: Any, upstream: ArrayLike | None = None,
                   out: tuple[np.ndarray, ...] | None = None,
                   **kwargs: Any) -> tuple[np.ndarray | np.generic, tuple[np.ndarray, ...]]:
    """Computes `fn(*args, **kwargs)` and its gradients with respect to its array inputs.

        value = fn(*args, **kwargs)
        grads = tuple(d sum(upstream * value) / d x for x in the array inputs)

    The gradients are TensorFlow's autodiff gradients (PyTorch's for
    `cosloss.torch`), computed
    analytically by the Go core in the same pass as the value, corner cases
    included: a vector under the epsilon floor (a zero vector, say) gets the
    finite `g * 1e6` (1/sqrt(1e-12)) TensorFlow gives, not NaN, and a slice
    gets no gradient from a zero partner.

    Args:
        fn: A cosloss loss function or loss object:
            `keras.losses.cosine_similarity` (and its aliases, also from
            `tf115`), a `keras.losses.CosineSimilarity` object (either
            flavour), `losses.cosine_distance`,
            `losses.compute_weighted_loss`, `nn.l2_normalize`, a seed
            form (`cosine_similarity_loss`, `_v2`, `_v3`), or from
            `torch.nn`: `functional.cosine_similarity`,
            `functional.cosine_embedding_loss`, a `CosineSimilarity` or
            `CosineEmbeddingLoss` object (PyTorch's autograd gradients),
            `pairwise.cosine_similarity` and `pairwise.top_k` (whose
            value is the pair (values, indices); its gradients are those
            of sum(upstream * values)), or from `contrastive`:
            `multiple_negatives_ranking_loss`, `ntxent` and
            `triplet_margin_loss`.
        *args: fn's positional arguments.
        upstream: The gradient of the value, broadcastable to its shape;
            None (the default) means ones.
        out: Optional arrays to write the gradients into, as numpy's `out=`:
            a tuple with one writeable array per gradient, each of that
            gradient's shape and dtype, no two sharing memory. Reusing them
            across calls (a training loop, say) saves allocating fresh
            gradient memory each time, which for large inputs costs more
            than computing them. An out array may overlap any input (the
            arrays, sample weights, weights or upstream): it is then
            written only once the value and every gradient are done, so
            the results are those of the same call without `out`.
        **kwargs: fn's keyword arguments.

    Returns:
        (value, grads): value is what `fn(*args, **kwargs)` returns; grads
        holds one gradient per array input, in fn's argument order:
        (y_true, y_pred), (labels, predictions), (a, b), (x1, x2),
        (input1, input2), (losses,) or (x,), each of its input's shape and
        dtype (float32 for integer inputs; for PyTorch's functions the
        common dtype; for cosloss.pairwise, (x, y), (x,) for y=None, or
        (queries, corpus), in the result's dtype; for cosloss.contrastive,
        (anchors, positives[, negatives]) or (embeddings,), labels and
        sample weights getting none).
        With `out`, grads is `out`.

    Raises:
        TypeError: `fn` is not a cosloss loss function or loss object, the
            arguments do not fit its signature, `out` is not a tuple of one
            array per gradient, one is a numpy masked array or has another
            dtype than its gradient, `upstream` is a masked array, or fn
            itself raises it.
        ValueError: `upstream` does not broadcast to the value, an `out`
            array is read-only or has another shape than its gradient, two
            `out` arrays overlap, or fn itself raises it.

    Example:
        >>> value, (d_true, d_pred) = cosloss.value_and_grad(
        ...     cosloss.keras.losses.cosine_similarity, [[1., 0.]], [[1., 1.]])
        >>> value, d_pred
        (array([-0.70710677], dtype=float32), array([[-0.35355338,  0.35355338]], dtype=float32))
        >>> value, (dx,) = cosloss.value_and_grad(cosloss.nn.l2_normalize, [0., 0.])
        >>> dx  # a zero vector: 1e6 per unit of upstream, as in TensorFlow
        array([1.e+06, 1.e+06], dtype=float32)
    """
    return _losses_base.value_and_grad(fn, args, kwargs, upstream, out)
