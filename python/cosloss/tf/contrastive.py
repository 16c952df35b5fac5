"""In-batch contrastive losses on cosine similarity as TensorFlow ops.

The values and gradients of `cosloss.contrastive`: sentence-transformers'
MultipleNegativesRankingLoss, optax's NT-Xent and PyTorch's
TripletMarginWithDistanceLoss with the cosine distance, eagerly, in
tf.function, in graphs and in Keras's model.fit.

Example:
    >>> anchors = tf.constant([[1., 0.], [0., 1.]])
    >>> loss = cosloss.tf.contrastive.multiple_negatives_ranking_loss(anchors, anchors, scale=1.0)
    >>> np.round(loss.numpy(), 4)  # log(e + 1) - 1
    np.float32(0.3133)
"""

from __future__ import annotations

import importlib

import tensorflow as tf

from cosloss.tf import _checks, _embedding
from cosloss.tf._backend import resolve
from cosloss.tf._op import TensorLike, face_op

__all__ = ["multiple_negatives_ranking_loss", "ntxent", "triplet_margin_loss"]


def _numpy_face(name: str):
    """cosloss.contrastive's function name (the go backend calls it)."""
    return getattr(importlib.import_module("cosloss.contrastive"), name)


def _batch_shape(anchors: tf.Tensor, reduction: str) -> tf.TensorShape:
    return tf.TensorShape([anchors.shape[0]]) if reduction == "none" else tf.TensorShape([])


def multiple_negatives_ranking_loss(anchors: TensorLike, positives: TensorLike,
                                    negatives: TensorLike | None = None, scale: float = 20.0,
                                    symmetric: bool = False,
                                    reduction: str = "sum_over_batch_size",
                                    sample_weight: TensorLike | None = None,
                                    backend: str | None = None) -> tf.Tensor:
    """sentence-transformers' MultipleNegativesRankingLoss (InfoNCE with in-batch negatives).

        scores = scale * cosine_similarity(anchors, [positives; negatives])
        loss_i = logsumexp(scores[i]) - scores[i, i]

    A TensorFlow op (graph or eager) with the values and gradients of
    `cosloss.contrastive.multiple_negatives_ranking_loss`: the cross-entropy
    of anchor i over every positive (and hard negative) of the batch, its
    own positive the target. `symmetric=True` adds positive i's
    cross-entropy over the anchors and halves the sum, as
    MultipleNegativesSymmetricRankingLoss (sentence-transformers'
    directions query_to_doc and doc_to_query, per_direction). The "tf"
    backend computes the cosines as `cosloss.tf.pairwise` does and the
    softmax in float64.

    Args:
        anchors: A 2-D (B, d) tensor (float32 or float64; integers and
            bools are computed in float64).
        positives: A (B, d) tensor: positives[i] is anchors[i]'s match.
        negatives: None, or hard negatives of shape (B, d) or (B, k, d).
        scale: The factor on the cosines (1/temperature; 20.0 as in
            sentence-transformers).
        symmetric: Whether to add the positives-to-anchors direction.
        reduction: "sum_over_batch_size" (the mean over the batch; "auto"
            is the same), "sum" or "none" (the per-anchor losses).
        sample_weight: None, a scalar or a (B,) tensor weighting each
            anchor's loss before the reduction; it gets no gradient.
        backend: "tf" or "go" (see `cosloss.tf.set_backend`); None: the
            default.

    Returns:
        A scalar tensor, or for "none" a (B,) tensor; float32 when every
        input is float32, else float64.

    Raises:
        TypeError: An input of float16, bfloat16, complex or string dtype,
            or a scale that is not a real number.
        ValueError: Inputs of the wrong rank, batch size or number of
            features (static shapes), or an invalid reduction. In graph mode
            errors that depend on the fed values are raised by `Session.run`
            as `tf.errors.InvalidArgumentError`.

    Example:
        >>> a = tf.constant([[1., 0.], [0., 1.]])
        >>> p = tf.Variable([[1., 1.], [0., 1.]])
        >>> with tf.GradientTape() as tape:
        ...     loss = cosloss.tf.contrastive.multiple_negatives_ranking_loss(a, p, scale=1.0)
        >>> np.round(loss.numpy(), 4)
        np.float32(0.4791)
        >>> np.round(tape.gradient(loss, p).numpy(), 4) + 0.0  # + 0.0: -0 prints as 0
        array([[-0.1339,  0.1339],
               [ 0.1651,  0.    ]], dtype=float32)
    """
    fn = "multiple_negatives_ranking_loss"
    reduction = _checks.reduction(reduction)
    scale = _checks.real(scale, "scale", fn)
    symmetric = _checks.flag(symmetric, "symmetric", fn)
    anchors = _checks.tensor(anchors, "anchors", fn)
    positives = _checks.tensor(positives, "positives", fn)
    _checks.rank(anchors, "anchors", fn)
    _checks.rank(positives, "positives", fn)
    _checks.same_dim(anchors, "anchors", positives, "positives", fn, 0, 0, "batch size")
    _checks.same_dim(anchors, "anchors", positives, "positives", fn, 1, 1,
                     "number of columns (features)")
    tensors = {"anchors": anchors, "positives": positives}
    if negatives is not None:
        negatives = _checks.tensor(negatives, "negatives", fn)
        _checks.rank(negatives, "negatives", fn, (2, 3), "a (B, d) or (B, k, d) tensor")
        _checks.same_dim(anchors, "anchors", negatives, "negatives", fn, 0, 0, "batch size")
        _checks.same_dim(anchors, "anchors", negatives, "negatives", fn, 1, -1,
                         "number of features")
        tensors["negatives"] = negatives
    weights = _checks.sample_weight(sample_weight, anchors, fn)
    dtype = _checks.compute_dtype(list(tensors.values()))
    tensors = dict(zip(tensors, _checks.as_dtype(list(tensors.values()), dtype)))
    if resolve(backend) == "go":
        constants = {} if weights is None else {"sample_weight": weights}
        return face_op(_numpy_face(fn), tensors, dtype, _batch_shape(anchors, reduction), fn,
                       constants, scale=scale, symmetric=symmetric, reduction=reduction)
    with tf.name_scope(fn):
        per_anchor = _embedding.ranking_losses(tensors["anchors"], tensors["positives"],
                                               tensors.get("negatives"), scale, symmetric)
        return _embedding.reduce(per_anchor, weights, reduction, dtype)


def ntxent(embeddings: TensorLike, labels: TensorLike, temperature: float = 0.07,
           backend: str | None = None) -> tf.Tensor:
    """optax's NT-Xent: the normalized temperature-scaled cross-entropy of labelled embeddings.

        s = cosine_similarity(embeddings) / temperature
        loss = mean over i != j with labels[i] == labels[j] of
               -log(exp(s[i, j]) / (exp(s[i, j]) + sum over labels[k] != labels[i] of exp(s[i, k])))

    A TensorFlow op (graph or eager) with the values and gradients of
    `cosloss.contrastive.ntxent`, optax's `ntxent`: the self pair is in
    neither the numerator nor the denominator, each positive pair's
    denominator holds the anchor's negatives and that positive only, and
    the mean is over the positive pairs (NaN when there are none, as optax's
    0/0). As optax's, the cosines floor Σx² at the machine epsilon of the
    embeddings' dtype (a zero row has cosine 0). Each pair's log-sum-exp is
    shifted by its own maximum, so small temperatures do not underflow.

    Args:
        embeddings: A 2-D (B, d) tensor (float32 or float64; integers and
            bools are computed in float64).
        labels: A (B,) tensor of any integer dtype: equal labels mark
            positive pairs. It gets no gradient.
        temperature: The positive real the cosines are divided by.
        backend: "tf" or "go" (see `cosloss.tf.set_backend`); None: the
            default.

    Returns:
        A scalar tensor, float32 for float32 embeddings, else float64.

    Raises:
        TypeError: embeddings of float16, bfloat16, complex or string dtype,
            labels that are not integers, or a temperature that is not a
            real number.
        ValueError: embeddings not 2-D, labels not 1-D or of another batch
            size (static shapes), or a temperature ≤ 0. In graph mode errors
            that depend on the fed values are raised by `Session.run` as
            `tf.errors.InvalidArgumentError`.

    Example:
        >>> e = tf.constant([[1., 0.], [1., 0.1], [0., 1.], [0.1, 1.]])
        >>> np.round(cosloss.tf.contrastive.ntxent(e, [0, 0, 1, 1], temperature=0.5).numpy(), 4)
        np.float32(0.2899)
    """
    fn = "ntxent"
    temperature = _checks.real(temperature, "temperature", fn)
    if not temperature > 0:
        raise ValueError(f"{fn} needs temperature > 0, got temperature={temperature}")
    embeddings = _checks.tensor(embeddings, "embeddings", fn)
    _checks.rank(embeddings, "embeddings", fn)
    labels = labels if isinstance(labels, tf.Tensor) else tf.convert_to_tensor(labels)
    if not labels.dtype.is_integer:
        raise TypeError(f"{fn} needs labels of an integer dtype, got {labels.dtype.name}")
    _checks.rank(labels, "labels", fn, (1,), "a 1-D (batch,) tensor")
    _checks.same_dim(labels, "labels", embeddings, "embeddings", fn, 0, 0, "batch size")
    dtype = _checks.compute_dtype([embeddings])
    (embeddings,) = _checks.as_dtype([embeddings], dtype)
    if resolve(backend) == "go":
        return face_op(_numpy_face(fn), {"embeddings": embeddings}, dtype, tf.TensorShape([]),
                       fn, {"labels": labels}, temperature=temperature)
    with tf.name_scope(fn):
        return tf.cast(_embedding.ntxent(embeddings, labels, temperature), dtype)


def triplet_margin_loss(anchors: TensorLike, positives: TensorLike, negatives: TensorLike,
                        margin: float = 1.0, swap: bool = False,
                        reduction: str = "sum_over_batch_size",
                        sample_weight: TensorLike | None = None,
                        backend: str | None = None) -> tf.Tensor:
    """PyTorch's TripletMarginWithDistanceLoss with the cosine distance, as a TensorFlow op.

        d(x, y) = 1 - cos(x, y)
        loss_i = max(d(a_i, p_i) - d(a_i, n_i) + margin, 0)

    A TensorFlow op (graph or eager) with the values and gradients of
    `cosloss.contrastive.triplet_margin_loss`. `swap=True` uses
    min(d(a_i, n_i), d(p_i, n_i)) as the negative distance (the distance
    swap of Balntas et al.), with torch.minimum's gradient (a tie shares it).
    A zero vector has cosine 0 (distance 1) and a finite gradient.

    Args:
        anchors: A 2-D (B, d) tensor (float32 or float64; integers and
            bools are computed in float64).
        positives: A (B, d) tensor.
        negatives: A (B, d) tensor.
        margin: The real margin (1.0 as in PyTorch).
        swap: Whether to use the distance swap.
        reduction: "sum_over_batch_size" (the mean over the batch; "auto"
            is the same), "sum" or "none" (the per-triplet losses).
        sample_weight: None, a scalar or a (B,) tensor weighting each
            triplet's loss before the reduction; it gets no gradient.
        backend: "tf" or "go" (see `cosloss.tf.set_backend`); None: the
            default.

    Returns:
        A scalar tensor, or for "none" a (B,) tensor; float32 when every
        input is float32, else float64.

    Raises:
        TypeError: An input of float16, bfloat16, complex or string dtype,
            or a margin that is not a real number.
        ValueError: Inputs that are not 2-D or of different shapes (static
            shapes), or an invalid reduction. In graph mode errors that
            depend on the fed values are raised by `Session.run` as
            `tf.errors.InvalidArgumentError`.

    Example:
        >>> a = tf.constant([[1., 0.]])
        >>> p = tf.constant([[1., 1.]])
        >>> n = tf.constant([[0., 1.]])
        >>> loss = cosloss.tf.contrastive.triplet_margin_loss(a, p, n)  # (1 - cos 45°) - 1 + 1
        >>> np.round(loss.numpy(), 4)
        np.float32(0.2929)
    """
    fn = "triplet_margin_loss"
    reduction = _checks.reduction(reduction)
    margin = _checks.real(margin, "margin", fn)
    swap = _checks.flag(swap, "swap", fn)
    tensors = {}
    for name, value in (("anchors", anchors), ("positives", positives),
                        ("negatives", negatives)):
        t = _checks.tensor(value, name, fn)
        _checks.rank(t, name, fn)
        tensors[name] = t
    a = tensors["anchors"]
    for name in ("positives", "negatives"):
        _checks.same_dim(a, "anchors", tensors[name], name, fn, 0, 0, "batch size")
        _checks.same_dim(a, "anchors", tensors[name], name, fn, 1, 1,
                         "number of columns (features)")
    weights = _checks.sample_weight(sample_weight, a, fn)
    dtype = _checks.compute_dtype(list(tensors.values()))
    tensors = dict(zip(tensors, _checks.as_dtype(list(tensors.values()), dtype)))
    if resolve(backend) == "go":
        constants = {} if weights is None else {"sample_weight": weights}
        return face_op(_numpy_face(fn), tensors, dtype, _batch_shape(a, reduction), fn,
                       constants, margin=margin, swap=swap, reduction=reduction)
    with tf.name_scope(fn):
        per_triplet = _embedding.triplet_losses(tensors["anchors"], tensors["positives"],
                                                tensors["negatives"], margin, swap)
        return _embedding.reduce(per_triplet, weights, reduction, dtype)
