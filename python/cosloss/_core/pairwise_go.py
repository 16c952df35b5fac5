"""Go calls for cosloss.pairwise: all-pairs cosines, their gradients and top-k.

As in go.py, every function takes arrays the caller has validated: 2-D,
native-endian float32 or float64 (one dtype per call), aligned, with
contiguous columns and a non-negative row stride of at least a row (see
readable_matrix), outputs C-contiguous and writeable. Each matrix goes to
Go as its address, its buffer's length in elements from its first element
(what its layout reaches), and its row stride in elements. The arrays stay
referenced by the caller for the whole call (gopy releases the GIL).
"""

from __future__ import annotations

import numpy as np

from cosloss._core.go import _addr, _bits, _call, _go


def matrix_fits(a: np.ndarray) -> bool:
    """Whether Go can read the 2-D array a in place: columns one element
    apart, rows a row or more apart, aligned."""
    rows, cols = a.shape
    size = a.itemsize
    row, col = a.strides
    return (a.flags.aligned and (cols <= 1 or col == size)
            and (rows <= 1 or (row >= cols * size and row % size == 0)))


def readable_matrix(a: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """a in dtype, as Go can read it: a itself when it can, else a C-ordered copy."""
    a = a.astype(dtype, copy=False)  # also makes the byte order native
    return a if matrix_fits(a) else np.ascontiguousarray(a)


def _matrix(a: np.ndarray) -> tuple[int, int, int]:
    """(address, length in elements, row stride in elements) of a readable matrix."""
    rows, cols = a.shape
    stride = a.strides[0] // a.itemsize if rows > 1 else cols
    length = (rows - 1) * stride + cols if rows and cols else 0
    return _addr(a), length, stride


def cosine_matrix(x: np.ndarray, y: np.ndarray | None, out: np.ndarray, eps: float) -> None:
    """out[i, j] = cos(x[i], y[j]); y None is x against itself (norms once)."""
    n, d = x.shape
    m = out.shape[1]
    xa, xl, xs = _matrix(x)
    ya, yl, ys = (xa, xl, xs) if y is None else _matrix(y)
    oa, ol, os_ = _matrix(out)
    _call(_go.CosineMatrix, _bits(x), oa, ol, os_, xa, xl, n, d, xs, ya, yl, m, ys, float(eps))


def cosine_matrix_grad(x: np.ndarray, y: np.ndarray, upstream: np.ndarray,
                       dx: np.ndarray | None, dy: np.ndarray | None, eps: float) -> None:
    """Gradients of Σ upstream∘cos(x, y) into dx and dy (None skips one)."""
    n, d = x.shape
    m = y.shape[0]
    xa, xl, xs = _matrix(x)
    ya, yl, ys = _matrix(y)
    ua, ul, us = _matrix(upstream)
    dxa, dxl = (0, 0) if dx is None else (_addr(dx), dx.size)
    dya, dyl = (0, 0) if dy is None else (_addr(dy), dy.size)
    _call(_go.CosineMatrixGrad, _bits(x), xa, xl, n, d, xs, ya, yl, m, ys, ua, ul, us,
          dxa, dxl, dya, dyl, float(eps))


def cosine_matrix_self_grad(x: np.ndarray, upstream: np.ndarray, dx: np.ndarray,
                            eps: float) -> None:
    """Gradient of Σ upstream∘cos(x, x) with respect to x, through both sides, into dx."""
    n, d = x.shape
    xa, xl, xs = _matrix(x)
    ua, ul, us = _matrix(upstream)
    _call(_go.CosineMatrixSelfGrad, _bits(x), xa, xl, n, d, xs, ua, ul, us, _addr(dx), dx.size,
          float(eps))


def top_k(values: np.ndarray, indices: np.ndarray, queries: np.ndarray, corpus: np.ndarray,
          k: int, largest: bool, eps: float) -> None:
    """The min(k, m) best corpus rows of each query into values and indices (int64)."""
    n, d = queries.shape
    m = corpus.shape[0]
    qa, ql, qs = _matrix(queries)
    ca, cl, cs = _matrix(corpus)
    _call(_go.TopK, _bits(queries), _addr(values), values.size, _addr(indices), indices.size,
          qa, ql, n, d, qs, ca, cl, m, cs, int(k), int(bool(largest)), float(eps))
