"""The loss objects behind cosloss.pairwise: argument checks, Go calls, gradients.

    PairwiseCosine    cosine_similarity(x, y=None): scikit-learn's all-pairs matrix
    TopK              top_k(queries, corpus, k, largest=True): exact search

Arguments follow scikit-learn rather than TensorFlow: inputs go through
np.asarray (Python floats are float64), two float32 matrices compute in
float32 and anything else (float64, ints, bools, a float32 with a float64)
in float64; float16 is refused for now. Every norm is TensorFlow's and the
rest of cosloss's, 1/sqrt(max(Σx², 1e-12)), so a zero row has cosine 0 with
everything (scikit-learn's answer too) and a finite gradient.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from cosloss._core import go, ops, pairwise_go
from cosloss._core.arrays import (check_out, deliver, describe, empty, overlap,
                                  refuse_masked)
from cosloss._losses.base import Loss, Result

EPSILON = 1e-12  # the floor on Σx², TensorFlow's l2_normalize's

_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)

# How many gathered elements (pairs × features) top_k's gradient handles at
# once: its working memory is a few arrays of this many elements.
_GRAD_CHUNK = 1 << 20


def as_matrix(value: Any, name: str, op: str) -> np.ndarray:
    """value as a 2-D real array, or the error naming the argument."""
    if value is None:
        raise ValueError(f"{op} needs {name} as a 2-D array, got None")
    refuse_masked(value, name)
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as err:
        raise ValueError(f"{op} could not convert {name} to an array: {err}") from None
    if arr.dtype == np.float16:
        raise TypeError(f"{op} does not support float16 yet: {name} has dtype float16; "
                        f"cast it to float32")
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{op} needs {name} of a real dtype (float32, float64, an int or "
                        f"bool dtype), got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise ValueError(f"{op} needs {name} as a 2-D array of shape (rows, features), "
                         f"got shape {arr.shape}")
    return arr


def work_dtype(*arrays: np.ndarray) -> np.dtype:
    """float32 when every input is float32, else float64 (scikit-learn's rule)."""
    return _F32 if all(a.dtype == _F32 for a in arrays) else _F64


def check_features(x: np.ndarray, x_name: str, y: np.ndarray, y_name: str, op: str) -> None:
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"{op} needs {y_name} with as many columns as {x_name} "
                         f"({x.shape[1]}): {x_name} has shape {x.shape}, {y_name} has shape "
                         f"{y.shape}")


def as_upstream(upstream: ArrayLike | None, shape: tuple[int, ...], dtype: np.dtype,
                what: str) -> np.ndarray:
    """The upstream gradient as a Go-readable matrix of shape (default ones)."""
    if upstream is None:
        return np.ones(shape, dtype)
    refuse_masked(upstream, "upstream")
    try:
        u = np.asarray(upstream)
    except (ValueError, TypeError) as err:
        raise ValueError(f"could not convert upstream to an array: {err}") from None
    if u.dtype.kind not in "biuf":
        raise TypeError(f"upstream must hold real numbers, got dtype {u.dtype}")
    try:
        u = np.broadcast_to(u, shape)
    except ValueError:
        raise ValueError(f"upstream has shape {u.shape} but {what} has shape {shape}; it must "
                         f"broadcast to it") from None
    return pairwise_go.readable_matrix(u, dtype)


class PairwiseCosine(Loss):
    """cos(x_i, y_j) for every row i of x and j of y: scikit-learn's cosine_similarity.

        r_i = 1 / sqrt(max(Σ_p x_ip², 1e-12))        (float64, from cosloss's row sums)
        out[i, j] = (x_i · y_j) · r_i · r_j           (product in the dtype, one FMA
                                                      chain; scaled in float64,
                                                      rounded once)

    computed by the Go core in output tiles, so that memory is the output
    plus a bounded working set, and bit for bit the same on every kernel set
    and worker count. y None pairs x with itself (its norms computed once,
    the products on one side of the diagonal serving both). The gradient of
    Σ upstream∘out is TensorFlow's autodiff gradient of
    l2_normalize(x) @ l2_normalize(y).T, computed from tiles recomputed in
    the backward pass (no n×m scratch).
    """

    op = "cosine_similarity"

    def __repr__(self) -> str:
        return "PairwiseCosine()"

    def prepare(self, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray | None, np.dtype]:
        """(x, y or None, dtype), each as Go reads it."""
        x = as_matrix(x, "x", self.op)
        if y is None:
            dtype = work_dtype(x)
            return pairwise_go.readable_matrix(x, dtype), None, dtype
        y = as_matrix(y, "y", self.op)
        check_features(x, "x", y, "y", self.op)
        dtype = work_dtype(x, y)
        return pairwise_go.readable_matrix(x, dtype), pairwise_go.readable_matrix(y, dtype), dtype

    def value(self, x: ArrayLike, y: ArrayLike | None = None, out: Any = None) -> np.ndarray:
        x, y, dtype = self.prepare(x, y)
        shape = (x.shape[0], x.shape[0] if y is None else y.shape[0])
        if out is None:
            return self._matrix(x, y, empty(shape, dtype))
        self._check_out(out, shape, dtype)
        if pairwise_go.matrix_fits(out) and not overlap(out, x) and (y is None
                                                                       or not overlap(out, y)):
            return self._matrix(x, y, out)
        np.copyto(out, self._matrix(x, y, empty(shape, dtype)))
        return out

    def _check_out(self, out: Any, shape: tuple[int, int], dtype: np.dtype) -> None:
        if not isinstance(out, np.ndarray):
            raise TypeError(f"{self.op} needs out as a numpy array, got {describe(out)}")
        if out.shape != shape:
            raise ValueError(f"{self.op} needs out of shape {shape}, got shape {out.shape}")
        if out.dtype != dtype:
            raise TypeError(f"{self.op} needs out of dtype {dtype} (the result's), got dtype "
                            f"{out.dtype}")
        if not out.flags.writeable:
            raise ValueError(f"{self.op} needs a writeable out; this one is read-only")

    @staticmethod
    def _matrix(x: np.ndarray, y: np.ndarray | None, out: np.ndarray) -> np.ndarray:
        if out.size:
            pairwise_go.cosine_matrix(x, y, out, EPSILON)
        return out

    def value_and_grad(self, x: ArrayLike, y: ArrayLike | None = None, *,
                       upstream: ArrayLike | None = None, out: Any = None) -> Result:
        out = check_out(out, 1 if y is None else 2)
        x, y, dtype = self.prepare(x, y)
        n, d = x.shape
        m = n if y is None else y.shape[0]
        value = self._matrix(x, y, empty((n, m), dtype))
        u = as_upstream(upstream, (n, m), dtype, "the value")
        dx = np.zeros((n, d), dtype)
        if y is None:
            if dx.size:
                pairwise_go.cosine_matrix_self_grad(x, u, dx, EPSILON)
            return value, deliver((dx,), out)
        dy = np.zeros((m, d), dtype)
        if dx.size or dy.size:
            pairwise_go.cosine_matrix_grad(x, y, u, dx, dy, EPSILON)
        return value, deliver((dx, dy), out)


def k_arg(k: Any, op: str) -> int:
    """k as an int ≥ 0, or TypeError/ValueError naming it."""
    if isinstance(k, (bool, np.bool_)):
        raise TypeError(f"{op} needs k as an int, got {describe(k)}")
    try:
        k = operator.index(k)
    except TypeError:
        raise TypeError(f"{op} needs k as an int, got {describe(k)}") from None
    if k < 0:
        raise ValueError(f"{op} needs k >= 0, got {k}")
    return k


class TopK(Loss):
    """The k corpus rows of largest (or smallest) cosine for each query, exactly.

        values[i], indices[i] = the min(k, m) best of cos(queries[i], corpus[j]) over j

    with the values bit for bit those of cosine_similarity(queries,
    corpus), sorted best first, equal values by the lower corpus index, NaN
    above every number (first when largest, last otherwise). The Go core
    keeps each query's bounded heap in its output row and feeds it inside
    each corpus tile, so the n×m matrix never exists: memory beyond the
    outputs is the norms and a bounded tile per worker. The gradient of
    Σ upstream·values gathers the selected pairs, differentiates each with
    cosloss's row-wise cosine gradient (TensorFlow's, ε = 1e-12 on Σx²) and
    adds them into the queries' and corpus rows' gradients in a fixed order.
    """

    op = "top_k"

    def __repr__(self) -> str:
        return "TopK()"

    def prepare(self, queries: Any, corpus: Any, k: Any, largest: Any,
                ) -> tuple[np.ndarray, np.ndarray, int, bool, np.dtype]:
        q = as_matrix(queries, "queries", self.op)
        c = as_matrix(corpus, "corpus", self.op)
        check_features(q, "queries", c, "corpus", self.op)
        k = k_arg(k, self.op)
        if not isinstance(largest, (bool, np.bool_)):
            raise TypeError(f"{self.op} needs largest as a bool, got {describe(largest)}")
        dtype = work_dtype(q, c)
        return (pairwise_go.readable_matrix(q, dtype), pairwise_go.readable_matrix(c, dtype), k,
                bool(largest), dtype)

    def value(self, queries: ArrayLike, corpus: ArrayLike, k: int, largest: bool = True,
              ) -> tuple[np.ndarray, np.ndarray]:
        return self._search(*self.prepare(queries, corpus, k, largest))

    @staticmethod
    def _search(q: np.ndarray, c: np.ndarray, k: int, largest: bool, dtype: np.dtype,
                ) -> tuple[np.ndarray, np.ndarray]:
        kk = min(k, c.shape[0])
        values = empty((q.shape[0], kk), dtype)
        indices = np.empty((q.shape[0], kk), np.int64)
        if values.size:
            pairwise_go.top_k(values, indices, q, c, k, largest, EPSILON)
        return values, indices

    def value_and_grad(self, queries: ArrayLike, corpus: ArrayLike, k: int, largest: bool = True,
                       *, upstream: ArrayLike | None = None, out: Any = None,
                       ) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, ...]]:
        out = check_out(out, 2)
        q, c, k, largest, dtype = self.prepare(queries, corpus, k, largest)
        values, indices = self._search(q, c, k, largest, dtype)
        u = as_upstream(upstream, values.shape, dtype, "values")
        dq, dc = np.zeros(q.shape, dtype), np.zeros(c.shape, dtype)
        n, kk = values.shape
        d = q.shape[1]
        if n and kk and d:
            rows = max(1, _GRAD_CHUNK // (kk * d))
            for a in range(0, n, rows):
                b = min(a + rows, n)
                picked = indices[a:b].ravel()
                xq = np.repeat(q[a:b], kk, axis=0)
                yc = c[picked]
                _, gq, gc = ops.cosine_grad(xq, yc, 1, go.COS, xq.shape, u[a:b].ravel(),
                                            go.FLOOR_SQUARED, EPSILON)
                dq[a:b] = gq.reshape(b - a, kk, d).sum(axis=1)
                np.add.at(dc, picked, gc)  # in order: the same bits every time
        return (values, indices), deliver((dq, dc), out)
