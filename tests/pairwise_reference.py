"""Numpy float64 references for cosloss.pairwise, from the peers' documented formulas.

Never imports cosloss. scikit-learn documents cosine_similarity(X, Y) as
"the L2-normalized dot product of vectors": normalize(X) @ normalize(Y).T,
where normalize leaves a zero row at zero. cosloss floors each squared norm
at 1e-12 (TensorFlow's l2_normalize, the rest of cosloss), which gives the
same zero for a zero row and differs from scikit-learn only for rows of
norm below 1e-6, so the reference floors the same way. top_k is
sentence-transformers' semantic_search / torch.topk on that matrix: each
row's k best, best first, equal values by the lower index, NaN above every
number. Gradients are the analytic derivatives of those formulas.
"""

import numpy as np

EPS = 1e-12


def inv_norms(a):
    """1 / sqrt(max(Σa², 1e-12)) per row, and whether Σa² ≥ 1e-12 (where the
    norm's gradient exists: TensorFlow's Maximum gives none to a floored sum)."""
    a = np.asarray(a, np.float64)
    s = np.einsum("ij,ij->i", a, a)
    return 1 / np.sqrt(np.maximum(s, EPS)), s >= EPS


def normalize(a):
    r, _ = inv_norms(a)
    return np.asarray(a, np.float64) * r[:, None]


def cosine_similarity(x, y=None):
    """scikit-learn's cosine_similarity(X, Y) in float64 (Y None: X against itself)."""
    y = x if y is None else y
    return normalize(x) @ normalize(y).T


def cosine_similarity_grad(x, y, u):
    """(d/dx, d/dy) of Σ u∘cosine_similarity(x, y), analytically:

        d cos_ij / d x_i = r_i r_j y_j − cos_ij r_i² x_i   (second term only where Σx_i² ≥ ε)
    """
    x, y, u = (np.asarray(a, np.float64) for a in (x, y, u))
    rx, kx = inv_norms(x)
    ry, ky = inv_norms(y)
    c = cosine_similarity(x, y)
    dx = rx[:, None] * ((u * ry[None, :]) @ y) - (kx * rx**2 * (u * c).sum(1))[:, None] * x
    dy = ry[:, None] * ((u.T * rx[None, :]) @ x) - (ky * ry**2 * (u * c).sum(0))[:, None] * y
    return dx, dy


def order_key(values, largest):
    """A key whose stable ascending argsort is top_k's order: best first,
    NaN above every number, ties by the lower index."""
    v = np.asarray(values, np.float64)
    nan = np.isnan(v)
    if largest:
        return np.where(nan, -np.inf, -v)
    return np.where(nan, np.inf, v)


def top_k_of_matrix(matrix, k, largest=True):
    """(values, indices) of each row's min(k, m) best entries of a matrix."""
    matrix = np.asarray(matrix)
    kk = min(k, matrix.shape[1])
    order = np.argsort(order_key(matrix, largest), axis=1, kind="stable")[:, :kk]
    return np.take_along_axis(matrix, order, axis=1), order.astype(np.int64)


def top_k(queries, corpus, k, largest=True, block=256):
    """Blocked float64 top-k: normalize, multiply a block of queries, select."""
    queries = np.asarray(queries, np.float64)
    corpus_unit = normalize(corpus)
    values, indices = [], []
    for a in range(0, len(queries), block):
        v, i = top_k_of_matrix(normalize(queries[a:a + block]) @ corpus_unit.T, k, largest)
        values.append(v)
        indices.append(i)
    kk = min(k, len(corpus_unit))
    if not values:
        return np.zeros((0, kk)), np.zeros((0, kk), np.int64)
    return np.concatenate(values), np.concatenate(indices)


def pair_cosine_grad(q, c):
    """Row-wise d cos(q_r, c_r) / d q_r and / d c_r for paired rows."""
    rq, kq = inv_norms(q)
    rc, kc = inv_norms(c)
    cos = np.einsum("ij,ij->i", q, c) * rq * rc
    dq = (rq * rc)[:, None] * c - (kq * cos * rq**2)[:, None] * q
    dc = (rq * rc)[:, None] * q - (kc * cos * rc**2)[:, None] * c
    return dq, dc


def top_k_grad(queries, corpus, indices, u):
    """(d/dqueries, d/dcorpus) of Σ u·values for the selected pairs."""
    q, c, u = (np.asarray(a, np.float64) for a in (queries, corpus, u))
    n, kk = indices.shape
    rows = np.repeat(np.arange(n), kk)
    cols = indices.ravel()
    dq_pairs, dc_pairs = pair_cosine_grad(q[rows], c[cols])
    dq, dc = np.zeros_like(q), np.zeros_like(c)
    np.add.at(dq, rows, u.ravel()[:, None] * dq_pairs)
    np.add.at(dc, cols, u.ravel()[:, None] * dc_pairs)
    return dq, dc


def central_differences(f, a, h=1e-6):
    """The gradient of the scalar f at the float64 array a, coordinate by coordinate."""
    a = np.array(a, np.float64)
    g = np.zeros_like(a)
    for idx in np.ndindex(a.shape):
        orig = a[idx]
        a[idx] = orig + h
        up = f(a)
        a[idx] = orig - h
        down = f(a)
        a[idx] = orig
        g[idx] = (up - down) / (2 * h)
    return g
