"""All-pairs cosine similarity and exact top-k retrieval as TensorFlow ops.

The values and gradients of `cosloss.pairwise` (scikit-learn's
cosine_similarity semantics: a zero row has cosine 0), eagerly, in
tf.function and in graphs.

Example:
    >>> cosloss.tf.pairwise.cosine_similarity([[1., 0.], [3., 4.]]).numpy()
    array([[1. , 0.6],
           [0.6, 1. ]], dtype=float32)
"""

from __future__ import annotations

import importlib
import numbers

import tensorflow as tf

from cosloss.tf import _checks, _embedding
from cosloss.tf._backend import resolve
from cosloss.tf._op import TensorLike, face_op, face_pair_op

__all__ = ["cosine_similarity", "top_k"]


def _numpy_face(name: str):
    """cosloss.pairwise's function name (the go backend calls it)."""
    return getattr(importlib.import_module("cosloss.pairwise"), name)


def cosine_similarity(x: TensorLike, y: TensorLike | None = None,
                      backend: str | None = None) -> tf.Tensor:
    """The matrix of cosines between the rows of `x` and the rows of `y`, as a TensorFlow op.

        similarity[i, j] = x_i · y_j / (max(‖x_i‖², 1e-12) · max(‖y_j‖², 1e-12)) ** 0.5

    A TensorFlow op (graph or eager) with the values and gradients of
    `cosloss.pairwise.cosine_similarity`: scikit-learn's cosine_similarity,
    with TensorFlow's l2_normalize floor, so a zero row has cosine 0 and a
    finite gradient. The "tf" backend computes x·yᵀ with tf.linalg.matmul in
    the inputs' dtype and finishes each cosine in float64 with the rows'
    inverse norms (their Σx² in float64), rounded once.

    Args:
        x: A 2-D (n, d) tensor, or anything `tf.convert_to_tensor` takes.
            float32 and float64 are computed in their dtype, integers and
            bools in float64.
        y: A 2-D (m, d) tensor, or None (the default) for `x` against itself.
        backend: "tf" or "go" (see `cosloss.tf.set_backend`); None: the
            default.

    Returns:
        An (n, m) tensor: float32 when every input is float32, else float64.

    Raises:
        TypeError: An input of float16, bfloat16, complex or string dtype.
        ValueError: An input that is not 2-D, or rows of different lengths
            (static shapes). In graph mode errors that depend on the fed
            values are raised by `Session.run` as
            `tf.errors.InvalidArgumentError`.

    Example:
        >>> x = tf.constant([[3., 4.], [0., 0.]])
        >>> y = tf.Variable([[4., 3.]])
        >>> with tf.GradientTape() as tape:
        ...     s = cosloss.tf.pairwise.cosine_similarity(x, y)
        >>> s.numpy()
        array([[0.96],
               [0.  ]], dtype=float32)
        >>> np.round(tape.gradient(s, y).numpy(), 4)
        array([[-0.0336,  0.0448]], dtype=float32)
    """
    fn = "cosine_similarity"
    x = _checks.tensor(x, "x", fn)
    _checks.rank(x, "x", fn)
    tensors = [x]
    if y is not None:
        y = _checks.tensor(y, "y", fn)
        _checks.rank(y, "y", fn)
        _checks.same_dim(x, "x", y, "y", fn, 1, 1, "number of columns (features)")
        tensors.append(y)
    dtype = _checks.compute_dtype(tensors)
    tensors = _checks.as_dtype(tensors, dtype)
    other = tensors[-1]
    shape = tf.TensorShape([tensors[0].shape[0], other.shape[0]])
    if resolve(backend) == "go":
        inputs = dict(zip(["x", "y"], tensors))
        return face_op(_numpy_face(fn), inputs, dtype, shape, fn)
    with tf.name_scope(fn):
        return _embedding.pairwise_cosine(tensors[0], tensors[1] if y is not None else None)


def top_k(queries: TensorLike, corpus: TensorLike, k: int, largest: bool = True,
          backend: str | None = None) -> tuple[tf.Tensor, tf.Tensor]:
    """The `k` most (or least) similar corpus rows of each query, exactly, as a TensorFlow op.

        values[i], indices[i] = the k largest of cosine_similarity(queries, corpus)[i]

    A TensorFlow op (graph or eager) with the values and gradients of
    `cosloss.pairwise.top_k`: sorted (descending for `largest`, ascending
    otherwise), ties broken by the lower corpus index, NaN ranked above
    every number, and `k` larger than the corpus giving all of its rows
    (as sentence-transformers' semantic_search clamps it). The values are
    the cosines of `cosine_similarity`; the gradient flows through them
    (the indices have none). The "tf" backend ranks the corpus in chunks
    (tf.math.top_k over integer keys of the cosines, merged exactly), so it
    never holds the n×m matrix.

    Args:
        queries: A 2-D (n, d) tensor (float32 or float64; integers and
            bools are computed in float64).
        corpus: A 2-D (m, d) tensor.
        k: The number of rows to return per query, an int ≥ 0.
        largest: True (the default) for the most similar rows, False for
            the least similar.
        backend: "tf" or "go" (see `cosloss.tf.set_backend`); None: the
            default.

    Returns:
        (values, indices): the (n, min(k, m)) cosines, float32 when both
        inputs are float32 (else float64), and their int64 corpus indices.

    Raises:
        TypeError: `k` is not an int, `largest` is not a bool, or an input
            of float16, bfloat16, complex or string dtype.
        ValueError: `k` < 0, an input that is not 2-D, or rows of different
            lengths (static shapes). In graph mode errors that depend on the
            fed values are raised by `Session.run` as
            `tf.errors.InvalidArgumentError`.

    Example:
        >>> corpus = tf.constant([[1., 0.], [0., 1.], [1., 1.]])
        >>> values, indices = cosloss.tf.pairwise.top_k([[2., 1.]], corpus, k=2)
        >>> np.round(values.numpy(), 4), indices.numpy()
        (array([[0.9487, 0.8944]], dtype=float32), array([[2, 0]]))
    """
    fn = "top_k"
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        raise TypeError(f"{fn} needs k as an int, got {k!r}")
    k = int(k)
    if k < 0:
        raise ValueError(f"{fn} needs k >= 0, got k={k}")
    largest = _checks.flag(largest, "largest", fn)
    queries = _checks.tensor(queries, "queries", fn)
    corpus = _checks.tensor(corpus, "corpus", fn)
    _checks.rank(queries, "queries", fn)
    _checks.rank(corpus, "corpus", fn)
    _checks.same_dim(queries, "queries", corpus, "corpus", fn, 1, 1,
                     "number of columns (features)")
    dtype = _checks.compute_dtype([queries, corpus])
    queries, corpus = _checks.as_dtype([queries, corpus], dtype)
    if resolve(backend) == "go":
        m = corpus.shape[0]
        shape = tf.TensorShape([queries.shape[0], None if m is None else min(k, m)])
        return face_pair_op(_numpy_face(fn), {"queries": queries, "corpus": corpus},
                            (dtype, tf.int64), shape, fn, k=k, largest=largest)
    with tf.name_scope(fn):
        return _embedding.top_k(queries, corpus, k, largest)
