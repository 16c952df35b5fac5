"""All-pairs cosine similarity and exact top-k search, in bounded memory.

    cosloss.pairwise.cosine_similarity(x, y=None)          scikit-learn's n×m matrix
    cosloss.pairwise.top_k(queries, corpus, k, largest=True)   exact nearest rows

Both compute products in tiles in the Go core (no n×m×d broadcast, no
scratch beyond a bounded working set), give the same bits on every kernel
set and worker count, and have analytic gradients through
`cosloss.value_and_grad`. top_k never forms the n×m matrix at all, so the
corpus may be far larger than that matrix could be.

Example:
    >>> x = np.array([[1., 0.], [1., 1.], [0., 0.]])
    >>> cosloss.pairwise.cosine_similarity(x).round(4)
    array([[1.    , 0.7071, 0.    ],
           [0.7071, 1.    , 0.    ],
           [0.    , 0.    , 0.    ]])
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from cosloss._losses.base import face
from cosloss._losses.pairwise import PairwiseCosine, TopK

__all__ = ["cosine_similarity", "top_k"]

_COSINE = PairwiseCosine()
_TOP_K = TopK()


@face(_COSINE)
def cosine_similarity(x: ArrayLike, y: ArrayLike | None = None, *,
                      out: np.ndarray | None = None) -> np.ndarray:
    """The cosine similarity of every row of x with every row of y.

        out[i, j] = x[i]·y[j] / (‖x[i]‖ ‖y[j]‖)

    as scikit-learn's `sklearn.metrics.pairwise.cosine_similarity(x, y)`:
    a zero row has similarity 0 with every row (each norm is floored,
    sqrt(max(Σx², 1e-12)), as TensorFlow's l2_normalize and the rest of
    cosloss floor it). The products run in the inputs' dtype (one fused
    multiply-add chain per element, the same bits on every CPU, kernel set
    and worker count), the scaling by the norms in float64, rounded once;
    like scikit-learn's, values may exceed 1 by an ulp. Memory: the result
    plus a bounded working set (no n×m×d broadcast).

    Gradient: `cosloss.value_and_grad(cosine_similarity, x, y,
    upstream=U)` returns `(value, (dx, dy))`, the gradients of
    `sum(U * value)` (TensorFlow's autodiff gradient of
    `l2_normalize(x) @ l2_normalize(y).T`, finite at zero rows); with y
    None it returns `(value, (dx,))`, x's gradient through both sides.
    U defaults to ones and broadcasts to the value's shape.

    Args:
        x: A 2-D array (n, d) of floats, ints or bools.
        y: A 2-D array (m, d), or None (the default) for x against itself.
        out: Optional (n, m) array of the result's dtype to write into
            (any layout; the result is copied in when Go cannot write it
            directly or it shares memory with x or y).

    Returns:
        An (n, m) array: float32 when x (and y) are float32, float64
        otherwise (ints and bools included, as in scikit-learn); `out`
        when given.

    Raises:
        ValueError: x or y is not 2-D, their numbers of columns differ, x
            or y cannot be converted to an array, or out has the wrong
            shape or is read-only.
        TypeError: x or y has a float16, complex or non-numeric dtype, is
            a numpy masked array, or out is not an ndarray of the result's
            dtype.

    Example:
        >>> x = np.array([[1., 0.], [0., 2.]], np.float32)
        >>> y = np.array([[3., 4.], [0., 0.], [-1., 0.]], np.float32)
        >>> cosloss.pairwise.cosine_similarity(x, y)
        array([[ 0.6,  0. , -1. ],
               [ 0.8,  0. ,  0. ]], dtype=float32)
        >>> value, (dx, dy) = cosloss.value_and_grad(
        ...     cosloss.pairwise.cosine_similarity, [[1., 0.]], [[1., 1.]])
        >>> dx.round(4), dy.round(4)
        (array([[0.    , 0.7071]]), array([[ 0.3536, -0.3536]]))
    """
    return _COSINE.value(x, y, out=out)


@face(_TOP_K)
def top_k(queries: ArrayLike, corpus: ArrayLike, k: int,
          largest: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The k corpus rows most (or least) cosine-similar to each query, exactly.

        values[i, r], indices[i, r] = the r-th best cos(queries[i], corpus[j]) over j

    Exact search as sentence-transformers' `util.semantic_search` or faiss's
    `IndexFlatIP` on normalized vectors, in memory that does not grow with
    the number of pairs: the Go core keeps each query's k best in a bounded
    heap fed inside each tile of corpus rows, so only the outputs, the row
    norms and a bounded working set are allocated; a 100000 × 256 corpus
    (or a far larger one) is fine. The values are bit for bit those of
    `cosine_similarity(queries, corpus)`; each row is sorted best first
    (descending for largest, ascending otherwise), equal values go by the
    lower corpus index, and NaN ranks above every number (as numpy's sort
    and torch.topk order it: first when largest, last otherwise). k larger
    than the corpus gives every corpus row (semantic_search clamps the same
    way).

    Gradient: `cosloss.value_and_grad(top_k, queries, corpus, k,
    upstream=U)` returns `((values, indices), (d_queries, d_corpus))`,
    the gradients of `sum(U * values)` for the selected pairs (U of
    values' shape, default ones).

    Args:
        queries: A 2-D array (n, d) of floats, ints or bools.
        corpus: A 2-D array (m, d).
        k: How many rows to return per query: an int >= 0.
        largest: True (the default) for the largest cosines, False for the
            smallest.

    Returns:
        (values, indices), both of shape (n, min(k, m)): values in float32
        when both inputs are float32, else float64; indices int64 row
        numbers of corpus.

    Raises:
        ValueError: queries or corpus is not 2-D, their numbers of columns
            differ, or k is negative.
        TypeError: k is not an int (bools included), largest is not a
            bool, or an input has a float16, complex or non-numeric dtype
            or is a numpy masked array.

    Example:
        >>> corpus = np.array([[1., 0.], [0., 1.], [1., 1.], [2., 0.]])
        >>> values, indices = cosloss.pairwise.top_k([[1., 0.1]], corpus, 2)
        >>> indices, values.round(4)
        (array([[0, 3]]), array([[0.995, 0.995]]))
        >>> cosloss.pairwise.top_k([[1., 0.1]], corpus, 1, largest=False)[1]
        array([[1]])
    """
    return _TOP_K.value(queries, corpus, k, largest)
