"""In-batch contrastive losses on embeddings, with analytic gradients in bounded memory.

    multiple_negatives_ranking_loss   sentence-transformers' MultipleNegativesRankingLoss
                                      (and, symmetric=True, its Symmetric variant)
    ntxent                            optax.losses.ntxent (NT-Xent, SimCLR)
    triplet_margin_loss               torch.nn.TripletMarginWithDistanceLoss, d = 1 - cos

`cosloss.value_and_grad(fn, ...)` gives each loss's gradients with respect
to every embedding array. The first two never hold the batch × batch score
matrix: anchors go through the Go core in blocks whose scores fit a fixed
32 MiB working set, and the value and the gradients come out of one pass.

Example:
    >>> a = np.array([[1., 0.], [0., 1.]], np.float32)
    >>> cosloss.contrastive.multiple_negatives_ranking_loss(a, a)
    np.float32(2.0611537e-09)
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from cosloss._losses.base import face
from cosloss._losses.contrastive import MULTIPLE_NEGATIVES_RANKING, NTXENT, TRIPLET_MARGIN

__all__ = ["multiple_negatives_ranking_loss", "ntxent", "triplet_margin_loss"]


@face(MULTIPLE_NEGATIVES_RANKING)
def multiple_negatives_ranking_loss(anchors: ArrayLike, positives: ArrayLike,
                                    negatives: ArrayLike | None = None, scale: float = 20.0,
                                    symmetric: bool = False,
                                    reduction: str = "sum_over_batch_size",
                                    sample_weight: ArrayLike | None = None,
                                    ) -> np.ndarray | np.floating:
    """InfoNCE with in-batch negatives: sentence-transformers' MultipleNegativesRankingLoss.

        c      = [positives; negatives[:, 0]; ...; negatives[:, k-1]]   # the candidates
        loss_i = logsumexp_j(scale * cos(anchors[i], c[j])) - scale * cos(anchors[i], positives[i])
        value  = reduce(loss * sample_weight)                          # Keras reduction

    Every anchor's target is its own positive; every other positive and
    every hard negative in the batch is a negative for it. The candidates
    are ordered as sentence-transformers' `torch.cat(embeddings[1:])`
    orders them: all positives, then the first negative of every anchor,
    then the second, ... (checked against
    sentence_transformers/losses/MultipleNegativesRankingLoss.py: scores
    `similarity_fct(anchors, candidates) * scale`, CrossEntropyLoss with
    labels `arange(B)`, whose mean is the default reduction here).
    `symmetric=True` is its MultipleNegativesSymmetricRankingLoss:
    `(loss_i + back_i) / 2`, where back_i is the cross-entropy of
    `scale * cos(positives[i], anchors[j])` over the anchors only, target
    i (sentence-transformers averages the forward and the backward mean;
    per sample, as here, that is the same value). cos floors each squared
    norm at 1e-12 as TensorFlow's l2_normalize (sentence-transformers'
    cos_sim floors the norm at 1e-12 instead; the two differ only for
    norms below 1e-6), so a zero row has cosine 0, a finite loss and
    finite gradients.

    The batch × candidates score matrix is never stored: scores, loss and
    gradients are computed in blocks of anchor rows sized to a 32 MiB
    working set, so besides its inputs and gradients a call needs that
    working set plus a few float64 values per row (at B = 65536 about
    4 MiB more), whatever the batch size.

    Args:
        anchors: A float32 or float64 array (B, d) (float16 is computed in
            float32; Python float lists become float32).
        positives: An array of anchors' shape and dtype: positives[i] is
            anchors[i]'s match.
        negatives: None, or hard negatives of anchors' dtype, (B, d) (one
            per anchor) or (B, k, d) (k per anchor).
        scale: The positive float multiplying the cosines (1/temperature;
            sentence-transformers' default 20).
        symmetric: Add the positives-to-anchors direction (a bool).
        reduction: A Keras reduction: "sum_over_batch_size" (the default:
            the mean over the batch), "auto" (the same), "sum" or "none".
        sample_weight: None, a scalar or per-sample weights that broadcast
            to (B,) (Keras's rules: a trailing axis of 1 is dropped). They
            get no gradient.

    Returns:
        A numpy scalar in the inputs' dtype, or for reduction "none" the
        weighted per-sample losses, shape (B,).

    Raises:
        TypeError: Integer, bool, complex or mixed dtypes, a masked array,
            or a symmetric that is not a bool.
        ValueError: anchors not 2-D, positives of another shape, negatives
            that are neither (B, d) nor (B, k, d), scale not a positive
            finite number, an invalid reduction, or sample weights that do
            not broadcast.

    Example:
        >>> a = np.array([[1., 0.], [0., 1.], [1., 1.]], np.float32)
        >>> p = np.array([[1., .1], [.1, 1.], [1., .9]], np.float32)
        >>> cosloss.contrastive.multiple_negatives_ranking_loss(a, p, scale=5.0)
        np.float32(0.31604815)
        >>> cosloss.contrastive.multiple_negatives_ranking_loss(a, p, scale=5.0, reduction="none")
        array([0.258803  , 0.18831894, 0.5010225 ], dtype=float32)
        >>> value, (da, dp) = cosloss.value_and_grad(
        ...     cosloss.contrastive.multiple_negatives_ranking_loss, a, p, symmetric=True)
        >>> da.shape, dp.shape
        ((3, 2), (3, 2))
    """
    return MULTIPLE_NEGATIVES_RANKING.value(anchors, positives, negatives, scale, symmetric,
                                            reduction, sample_weight)


@face(NTXENT)
def ntxent(embeddings: ArrayLike, labels: ArrayLike, temperature: float = 0.07) -> np.floating:
    """optax's NT-Xent loss: normalized temperature-scaled cross entropy over labeled rows.

        s_ij = cos(x_i, x_j) / temperature
        loss = mean over positive pairs (i, j) (j != i, labels equal) of
               -log(e^{s_ij} / (e^{s_ij} + sum over k with labels[k] != labels[i] of e^{s_ik}))

    As optax.losses.ntxent (checked against optax/losses/_self_supervised.py):
    each positive pair is a cross-entropy against its anchor's negatives
    only (the other positives stay out of its denominator), self pairs are
    neither positive nor negative, each row's maximum is subtracted first,
    and the mean is over the ordered positive pairs. Rows whose label
    occurs once (anchors without positives) count only as others'
    negatives; with no positive pair at all the value is NaN (optax's 0/0)
    and the gradient 0. The cosine floors each squared norm at
    `finfo(dtype).eps`, as optax's cosine_similarity(epsilon=eps) does,
    so a zero row gives cosine 0 and finite values. The batch × batch
    matrix is never stored (see multiple_negatives_ranking_loss).

    Args:
        embeddings: A float32 or float64 array (B, d) (float16 is computed
            in float32; Python float lists become float32).
        labels: Integer (or bool) labels, shape (B,): rows with equal labels
            are positive pairs.
        temperature: A positive float (optax's default 0.07; optax does not
            check its sign, cosloss refuses temperature <= 0).

    Returns:
        A numpy scalar in the embeddings' dtype.

    Raises:
        TypeError: Integer, bool, complex or mixed embeddings, labels that
            are not integers or bools, or a masked array.
        ValueError: embeddings not 2-D, labels not of shape (B,), or a
            temperature that is not a positive finite number.

    Example:
        >>> x = np.array([[1., 0.], [.9, .1], [0., 1.], [.1, .9]], np.float32)
        >>> cosloss.contrastive.ntxent(x, [0, 0, 1, 1])
        np.float32(1.1488938e-05)
        >>> value, (dx,) = cosloss.value_and_grad(cosloss.contrastive.ntxent, x, [0, 0, 1, 1],
        ...                                       temperature=1.0)
        >>> dx.shape, dx.dtype
        ((4, 2), dtype('float32'))
    """
    return NTXENT.value(embeddings, labels, temperature)


@face(TRIPLET_MARGIN)
def triplet_margin_loss(anchors: ArrayLike, positives: ArrayLike, negatives: ArrayLike,
                        margin: float = 1.0, swap: bool = False,
                        reduction: str = "sum_over_batch_size",
                        sample_weight: ArrayLike | None = None) -> np.ndarray | np.floating:
    """PyTorch's TripletMarginWithDistanceLoss with the cosine distance d = 1 - cos.

        loss_i = max(margin + d(anchors[i], positives[i]) - d(anchors[i], negatives[i]), 0)
        value  = reduce(loss * sample_weight)

    as torch.nn.TripletMarginWithDistanceLoss(distance_function=lambda x, y:
    1 - cos(x, y), margin, swap) defines it (checked against its
    documentation): with `swap=True`, d(anchors[i], negatives[i]) is
    replaced by min(d(anchors[i], negatives[i]), d(positives[i],
    negatives[i])) (Balntas et al.'s distance swap). PyTorch's "mean" is
    the default "sum_over_batch_size" here. cos is the row-wise cosine of
    the rest of cosloss (TensorFlow's norm floor: a zero row gives d = 1);
    the gradients follow PyTorch's autograd (clamp_min passes the gradient
    where margin + d_ap - d_an >= 0; at a tie of the swap the two distances
    get half each).

    Args:
        anchors: A float32 or float64 array (B, d) (float16 works too;
            Python float lists become float32).
        positives: An array of anchors' shape and dtype.
        negatives: An array of anchors' shape and dtype.
        margin: The margin, a real number (PyTorch's default 1.0).
        swap: Use the distance swap (a bool).
        reduction: A Keras reduction: "sum_over_batch_size" (the default:
            the mean), "auto" (the same), "sum" or "none".
        sample_weight: None, a scalar or per-sample weights that broadcast
            to (B,) (Keras's rules); they get no gradient.

    Returns:
        A numpy scalar in the inputs' dtype, or for reduction "none" the
        weighted per-sample losses, shape (B,).

    Raises:
        TypeError: Integer, bool, complex or mixed dtypes, a masked array,
            or a swap that is not a bool.
        ValueError: anchors not 2-D, positives or negatives of another
            shape, a margin that is not a real number, an invalid
            reduction, or sample weights that do not broadcast.

    Example:
        >>> a = np.array([[1., 0.], [0., 1.]], np.float32)
        >>> p = np.array([[1., 1.], [0., 1.]], np.float32)
        >>> n = np.array([[0., 1.], [1., 1.]], np.float32)
        >>> cosloss.contrastive.triplet_margin_loss(a, p, n, reduction="none")
        array([0.29289317, 0.70710677], dtype=float32)
        >>> cosloss.contrastive.triplet_margin_loss(a, p, n, margin=0.5, swap=True)
        np.float32(0.35355338)
    """
    return TRIPLET_MARGIN.value(anchors, positives, negatives, margin, swap, reduction,
                                sample_weight)
