"""The "tf" backend of cosloss.tf.pairwise and cosloss.tf.contrastive.

The formulas of the numpy faces (design of issue #13) in TensorFlow ops,
with TensorFlow's autodiff for the gradients:

* row norms: r = 1/√max(Σx², 1e-12), Σx² in float64 (TensorFlow's
  l2_normalize floor: a zero row has cosine 0 and a finite gradient);
* the cosine matrix: the product x·yᵀ in the inputs' dtype T (the Go core's
  FMA chain), finished as T(float64(dot) · r_i · r_j), one rounding to T;
* top_k ranks the cosines over corpus chunks and merges the chunks
  exactly; its values are the ranked cosines themselves;
* the losses' softmax and margin arithmetic in float64 from the T-rounded
  cosines, the result rounded once to T.

Nothing here calls Python at run time: these ops serialize and run on any
device as TensorFlow's own ops do.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

_F64 = tf.float64

# TensorFlow's l2_normalize floor on Σx², the design's for all pairwise work.
EPS = 1e-12

# Corpus rows per chunk in top_k: each step holds a (queries × chunk) block
# of cosines. A module constant so that tests can make chunks small.
CORPUS_CHUNK = 4096


def inverse_norms(x: tf.Tensor, eps: float = EPS) -> tf.Tensor:
    """1/√max(Σx², eps) of each row of a 2-D x, in float64 (shape (n,))."""
    sum_squares = tf.reduce_sum(tf.square(tf.cast(x, _F64)), axis=1)
    return 1.0 / tf.sqrt(tf.maximum(sum_squares, eps))


def cosine_matrix(x: tf.Tensor, y: tf.Tensor, rx: tf.Tensor, ry: tf.Tensor) -> tf.Tensor:
    """cos_ij = T(float64(x_i·y_j) · rx_i · ry_j) for 2-D x (n, d) and y (m, d) of dtype T."""
    dot = tf.linalg.matmul(x, y, transpose_b=True)
    cos = tf.cast(dot, _F64) * rx[:, None] * ry[None, :]
    return tf.cast(cos, x.dtype)


def pairwise_cosine(x: tf.Tensor, y: tf.Tensor | None) -> tf.Tensor:
    """The (n, m) cosine matrix of x's rows against y's (x's own when y is None)."""
    rx = inverse_norms(x)
    if y is None:
        return cosine_matrix(x, x, rx, rx)
    return cosine_matrix(x, y, rx, inverse_norms(y))


def row_cosine(x: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
    """cos(x_i, y_i) of each row pair of (B, d) tensors, in float64 after one rounding to T."""
    dot = tf.reduce_sum(tf.cast(x, _F64) * tf.cast(y, _F64), axis=1)
    cos = tf.cast(dot * inverse_norms(x) * inverse_norms(y), x.dtype)
    return tf.cast(cos, _F64)


# ---- top_k ----------------------------------------------------------------------


def _sort_keys(values: tf.Tensor, largest: bool) -> tf.Tensor:
    """Integer keys that order values as the numpy face ranks them.

    Keys are the float's bits made monotonic (−0 and +0 tie, as they compare
    equal), NaN (any sign or payload) above +inf, negated for largest=False.
    tf.math.top_k is stable on equal keys (the lower index first), so ties
    go to the lower corpus index, and integer keys make NaN rank as the
    contract says instead of as TopK's comparisons happen to place it.
    """
    itype = tf.int32 if values.dtype == tf.float32 else tf.int64
    top = itype.max
    bits = tf.bitcast(values, itype)
    magnitude = tf.bitwise.bitwise_and(bits, tf.constant(top, itype))
    keys = tf.where(bits < 0, -magnitude, magnitude)
    keys = tf.where(tf.math.is_nan(values), tf.fill(tf.shape(keys), tf.constant(top, itype)),
                    keys)
    return keys if largest else -keys


def _ranked(queries: tf.Tensor, corpus: tf.Tensor, k: int, largest: bool,
            ) -> tuple[tf.Tensor, tf.Tensor]:
    """(values, indices), each (n, min(k, m)), ranked over corpus chunks; no gradient.

    k is already at most m when m is static.
    """
    rq = inverse_norms(queries)
    rc = inverse_norms(corpus)
    static_m = corpus.shape[0]
    if static_m is not None and static_m <= CORPUS_CHUNK:
        # One block: the whole (n, m) matrix fits in a chunk's memory.
        cos = cosine_matrix(queries, corpus, rq, rc)
        _, positions = tf.math.top_k(_sort_keys(cos, largest), k)
        return tf.gather(cos, positions, batch_dims=1), tf.cast(positions, tf.int64)
    chunk = max(CORPUS_CHUNK, k)
    itype = tf.int32 if queries.dtype == tf.float32 else tf.int64
    sentinel = tf.constant(itype.min, itype)  # below every real key: never beats one
    n = tf.shape(queries)[0]
    m = tf.shape(corpus)[0]
    # Fixed-size chunks (static shapes, so the loop compiles under XLA), the
    # last one padded; with a corpus of unknown size, at least k rows, so
    # that top_k always has k candidates. Padding rows have the sentinel key.
    chunks = (tf.maximum(m, k) + chunk - 1) // chunk
    pad = chunks * chunk - m
    padded = tf.pad(corpus, [[0, pad], [0, 0]])
    padded_r = tf.pad(rc, [[0, pad]], constant_values=1.0)
    m64 = tf.cast(m, tf.int64)

    def step(i, keys, values, indices):
        start = i * chunk
        block = tf.slice(padded, [start, 0], [chunk, -1])
        cos = cosine_matrix(queries, block, rq, tf.slice(padded_r, [start], [chunk]))
        columns = tf.cast(start, tf.int64) + tf.range(chunk, dtype=tf.int64)
        block_keys = tf.where(columns[None, :] < m64, _sort_keys(cos, largest), sentinel)
        # The kept entries come first and hold only lower indices, and
        # top_k is stable, so equal keys keep the lower index; the merge is
        # exact, as every candidate of the chunk competes with every kept one.
        best, positions = tf.math.top_k(tf.concat([keys, block_keys], axis=1), k)
        values = tf.gather(tf.concat([values, cos], axis=1), positions, batch_dims=1)
        every = tf.broadcast_to(columns[None, :], tf.shape(block_keys, out_type=tf.int64))
        indices = tf.gather(tf.concat([indices, every], axis=1), positions, batch_dims=1)
        return i + 1, best, values, indices

    start = (tf.constant(0), tf.fill([n, k], sentinel), tf.zeros([n, k], queries.dtype),
             tf.zeros([n, k], tf.int64))
    _, _, values, indices = tf.while_loop(lambda i, *_: i < chunks, step, start)
    if static_m is None:
        kept = tf.minimum(k, m)
        values, indices = values[:, :kept], indices[:, :kept]
    return values, indices


def _gathered_cosine(queries: tf.Tensor, corpus: tf.Tensor, indices: tf.Tensor) -> tf.Tensor:
    """cos(q_i, c_{indices_ij}) by the cosine matrix's formula, for its gradient."""
    rows = tf.gather(corpus, indices)  # (n, k, d)
    dot = tf.reduce_sum(queries[:, None, :] * rows, axis=2)
    r = tf.gather(inverse_norms(corpus), indices)
    cos = tf.cast(dot, _F64) * inverse_norms(queries)[:, None] * r
    return tf.cast(cos, queries.dtype)


def top_k(queries: tf.Tensor, corpus: tf.Tensor, k: int, largest: bool,
          ) -> tuple[tf.Tensor, tf.Tensor]:
    """(values, indices int64), each (n, min(k, m)), sorted, ties to the lower index.

    The values are the ranked cosines themselves, so they are sorted exactly;
    their gradient is TensorFlow's autodiff of the same cosines recomputed
    for the chosen pairs (O(n·k·d) memory, never the n×m matrix).
    """
    m = corpus.shape[0]
    if m is not None:
        k = min(k, m)
    with tf.name_scope("rank"):
        values, indices = _ranked(tf.stop_gradient(queries), tf.stop_gradient(corpus), k,
                                  largest)

    @tf.custom_gradient
    def attach(q, c, v, i):
        def grad(upstream):
            with tf.GradientTape() as tape:
                tape.watch([q, c])
                cos = _gathered_cosine(q, c, i)
            dq, dc = tape.gradient(cos, [q, c], output_gradients=upstream)
            dq = tf.zeros_like(q) if dq is None else tf.convert_to_tensor(dq)
            dc = tf.zeros_like(c) if dc is None else tf.convert_to_tensor(dc)
            return dq, dc, None, None
        return tf.identity(v), grad

    values = attach(queries, corpus, values, indices)
    columns = k if m is not None else None
    values.set_shape([queries.shape[0], columns])
    indices.set_shape([queries.shape[0], columns])
    return values, indices


# ---- the contrastive losses -------------------------------------------------------


def reduce(per_sample: tf.Tensor, sample_weight: tf.Tensor | None, reduction: str,
           dtype: tf.DType) -> tf.Tensor:
    """Keras's reduction of float64 per-sample losses (B,), rounded once to dtype.

    sum_over_batch_size (and "auto") divides the weighted sum by B; an empty
    batch gives 0, as Keras's divide_no_nan does.
    """
    if sample_weight is not None:
        per_sample = per_sample * tf.cast(sample_weight, _F64)
    if reduction == "none":
        return tf.cast(per_sample, dtype)
    total = tf.reduce_sum(per_sample)
    if reduction in ("sum_over_batch_size", "auto"):
        total = tf.math.divide_no_nan(total, tf.cast(tf.size(per_sample), _F64))
    return tf.cast(total, dtype)


def ranking_losses(anchors: tf.Tensor, positives: tf.Tensor, negatives: tf.Tensor | None,
                   scale: float, symmetric: bool) -> tf.Tensor:
    """sentence-transformers' MultipleNegativesRankingLoss per anchor, float64 (B,).

    The candidates are all positives, then (as sentence-transformers
    concatenates them) each column of hard negatives over the batch; the
    loss of anchor i is the cross-entropy of scale·cos(a_i, c) with target
    p_i. symmetric adds positive i's cross-entropy over the anchors and
    halves the sum (MultipleNegativesSymmetricRankingLoss).
    """
    batch = tf.shape(anchors)[0]
    candidates = positives
    if negatives is not None:
        if negatives.shape.rank == 3:
            # (B, k, d) -> k blocks of B rows: the column j of every anchor together.
            negatives = tf.reshape(tf.transpose(negatives, [1, 0, 2]),
                                   [-1, tf.shape(negatives)[2]])
        candidates = tf.concat([positives, negatives], axis=0)
    scores = scale * tf.cast(pairwise_cosine(anchors, candidates), _F64)
    own = tf.linalg.diag_part(scores[:, :batch])
    forward = tf.reduce_logsumexp(scores, axis=1) - own
    if not symmetric:
        return forward
    backward = tf.reduce_logsumexp(scores[:, :batch], axis=0) - own
    return (forward + backward) / 2


def ntxent(embeddings: tf.Tensor, labels: tf.Tensor, temperature: float) -> tf.Tensor:
    """optax's NT-Xent as a float64 scalar.

    s = cos/temperature over every pair of rows; for each positive pair
    (i, j), i ≠ j with equal labels, the loss is −log of
    exp(s_ij) / (exp(s_ij) + Σ_{k: label_k ≠ label_i} exp(s_ik)) (the other
    positives are not in the denominator, nor is the self pair); the result
    is the mean over the positive pairs (NaN when there are none, optax's
    0/0). Each pair's log-sum-exp is shifted by its own maximum, so no term
    underflows to a log of 0.
    """
    # optax's cosine floors Σx² at the machine epsilon of the inputs' dtype.
    r = inverse_norms(embeddings, float(np.finfo(embeddings.dtype.as_numpy_dtype).eps))
    cos = tf.cast(cosine_matrix(embeddings, embeddings, r, r), _F64)
    s = cos / temperature
    same = tf.equal(labels[:, None], labels[None, :])
    negative = tf.logical_not(same)
    positive = tf.logical_and(same, tf.logical_not(tf.eye(tf.shape(s)[0], dtype=tf.bool)))
    has_negative = tf.reduce_any(negative, axis=1, keepdims=True)
    # Shifts are constants of the formula (optax stops their gradient too).
    top_negative = tf.reduce_max(tf.where(negative, s, -np.inf), axis=1, keepdims=True)
    top_negative = tf.stop_gradient(tf.where(has_negative, top_negative, 0.0))
    # where() before exp: an unchosen exp(s − shift) must not overflow, or
    # its zero gradient would be 0·inf.
    terms = tf.exp(tf.where(negative, s - top_negative, 0.0))
    negatives_sum = tf.reduce_sum(tf.where(negative, terms, 0.0), axis=1, keepdims=True)
    shift = tf.stop_gradient(tf.maximum(s, top_negative))
    log_denominator = shift + tf.math.log(tf.exp(s - shift) +
                                          tf.exp(top_negative - shift) * negatives_sum)
    pair_losses = log_denominator - s
    total = tf.reduce_sum(tf.where(positive, pair_losses, 0.0))
    return total / tf.reduce_sum(tf.cast(positive, _F64))


def _minimum_sharing_ties(x: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
    """min(x, y) whose gradient at x == y goes half to each, as torch.minimum's."""
    return tf.where(x < y, x, tf.where(y < x, y, (x + y) / 2))


def triplet_losses(anchors: tf.Tensor, positives: tf.Tensor, negatives: tf.Tensor,
                   margin: float, swap: bool) -> tf.Tensor:
    """PyTorch's TripletMarginWithDistanceLoss with d = 1 − cos, per triplet, float64 (B,).

    max(d(a, p) − d(a, n) + margin, 0); swap replaces d(a, n) by
    min(d(a, n), d(p, n)) (torch.minimum: a tie's gradient is shared).
    """
    d_ap = 1.0 - row_cosine(anchors, positives)
    d_an = 1.0 - row_cosine(anchors, negatives)
    if swap:
        d_an = _minimum_sharing_ties(d_an, 1.0 - row_cosine(positives, negatives))
    return tf.maximum(d_ap - d_an + margin, 0.0)
