"""cosloss.pairwise.top_k: exact search in bounded memory, and its gradient (issue #13).

Expectations come from tests/pairwise_reference.py (numpy float64: the
scikit-learn matrix, blocked, then torch.topk's order). cosloss is compared
with itself where the promise is the same bits: top_k against sorting
cosine_similarity's own matrix, and across kernel sets and worker counts.

The full-size cases (2000 queries against 30000 and 100000 corpus rows)
take a few seconds on the packed MatMul.
"""

import itertools
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, strategies as st

import cosloss
import pairwise_reference as ref
from strategies import arrays

top_k = cosloss.pairwise.top_k
cos_sim = cosloss.pairwise.cosine_similarity

TOL = {np.dtype(np.float32): dict(rtol=1e-5, atol=2e-6),
       np.dtype(np.float64): dict(rtol=1e-12, atol=1e-13)}


def assert_same_bits(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(np.ascontiguousarray(a).view(np.uint8),
                                  np.ascontiguousarray(b).view(np.uint8))


def assert_matches_reference(q, c, k, largest, values, indices, tol_dtype=None):
    """values and indices against the float64 reference, robustly: the sorted
    values agree within tolerance, and each index names a row of that cosine
    (near-ties may order differently after rounding)."""
    tol = TOL[np.dtype(tol_dtype or values.dtype)]
    want_values, _ = ref.top_k(q, c, k, largest)
    assert values.shape == want_values.shape == indices.shape
    assert indices.dtype == np.int64
    np.testing.assert_allclose(values, want_values, **tol)
    if values.size:
        full = ref.cosine_similarity(q, c)
        np.testing.assert_allclose(np.take_along_axis(full, indices, axis=1), values, **tol)
        assert all(len(set(row)) == len(row) for row in indices.tolist())


def assert_is_sorted_matrix(q, c, k, largest):
    """top_k is cosine_similarity's matrix, stably sorted: the same bits and indices."""
    values, indices = top_k(q, c, k, largest)
    want_values, want_indices = ref.top_k_of_matrix(cos_sim(q, c), k, largest)
    assert_same_bits(values, want_values)
    np.testing.assert_array_equal(indices, want_indices)
    return values, indices


@st.composite
def searches(draw):
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    n, m, d = draw(st.integers(0, 5)), draw(st.integers(0, 12)), draw(st.integers(0, 4))
    q = draw(arrays(dtype, (n, d)))
    c = draw(arrays(dtype, (m, d)))
    k = draw(st.integers(0, m + 2))
    return q, c, k, draw(st.booleans())


@given(searches())
def test_top_k_matches_the_reference(search):
    q, c, k, largest = search
    values, indices = assert_is_sorted_matrix(q, c, k, largest)
    assert values.dtype == q.dtype
    assert_matches_reference(q, c, k, largest, values, indices)


def test_a_worked_example():
    corpus = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [1.0, 1.0], [2.0, 0.0]])
    values, indices = top_k([[1.0, 0.0], [0.0, -1.0]], corpus, 3)
    np.testing.assert_array_equal(indices, [[0, 4, 3], [0, 2, 4]])
    np.testing.assert_allclose(values, [[1, 1, 0.5**0.5], [0, 0, 0]], atol=1e-16)
    values, indices = top_k([[1.0, 0.0]], corpus, 2, largest=False)
    np.testing.assert_array_equal(indices, [[2, 1]])


@pytest.mark.parametrize("largest", [True, False])
def test_duplicate_rows_and_ties_take_the_lower_index(largest, restore_settings):
    rng = np.random.default_rng(1)
    base = rng.standard_normal((4, 3))
    corpus = np.repeat(base, 700, axis=0)[rng.permutation(2800)]  # ties across tiles
    queries = rng.standard_normal((3, 3))
    for workers in (1, 3):
        cosloss.set_workers(workers)
        values, indices = assert_is_sorted_matrix(queries, corpus, 9, largest)
        for row, vals in zip(indices, values):
            # Equal values come in increasing index order.
            for a, b, va, vb in zip(row, row[1:], vals, vals[1:]):
                assert va != vb or a < b
    zeros = np.zeros((6, 3))
    np.testing.assert_array_equal(top_k(queries, zeros, 4)[1], np.tile(np.arange(4), (3, 1)))


def test_nan_ranks_above_every_number():
    corpus = np.array([[1.0, 0.0], [np.nan, 0.0], [0.0, 1.0], [-1.0, 0.0], [np.nan, 1.0]])
    values, indices = top_k([[1.0, 0.0]], corpus, 3)
    np.testing.assert_array_equal(indices, [[1, 4, 0]])
    assert np.isnan(values[0, :2]).all() and values[0, 2] == 1
    values, indices = top_k([[1.0, 0.0]], corpus, 5, largest=False)
    np.testing.assert_array_equal(indices, [[3, 2, 0, 1, 4]])
    assert_is_sorted_matrix(np.array([[1.0, 0.0], [np.nan, 1.0]]), corpus, 4, True)
    assert_is_sorted_matrix(np.array([[1.0, 0.0], [np.nan, 1.0]]), corpus, 4, False)


@pytest.mark.parametrize("n, m, d, k, want", [
    (3, 4, 2, 10, (3, 4)), (3, 4, 2, 0, (3, 0)), (3, 0, 2, 5, (3, 0)), (0, 4, 2, 2, (0, 2)),
    (3, 4, 0, 2, (3, 2)), (0, 0, 0, 0, (0, 0)),
])
def test_shapes_of_k_and_empty_inputs(n, m, d, k, want):
    rng = np.random.default_rng(2)
    q, c = rng.standard_normal((n, d)), rng.standard_normal((m, d))
    values, indices = top_k(q, c, k)
    assert values.shape == indices.shape == want
    assert values.dtype == np.float64 and indices.dtype == np.int64
    if d == 0 and values.size:
        assert np.all(values == 0)
        np.testing.assert_array_equal(indices, np.tile(np.arange(want[1]), (n, 1)))
    (v2, i2), (dq, dc) = cosloss.value_and_grad(top_k, q, c, k)
    assert dq.shape == q.shape and dc.shape == c.shape
    assert_same_bits(v2, values)


@pytest.mark.parametrize("qd, cd, want", [
    (np.float32, np.float32, np.float32), (np.float32, np.float64, np.float64),
    (np.int64, np.int8, np.float64), (np.bool_, np.bool_, np.float64),
])
def test_dtypes(qd, cd, want):
    q = np.array([[1, 0], [1, 1]], qd)
    c = np.array([[1, 1], [0, 1], [1, 0]], cd)
    values, indices = top_k(q, c, 2)
    assert values.dtype == want
    assert_matches_reference(q.astype(float), c.astype(float), 2, True,
                             values.astype(np.float64), indices, want)


@pytest.mark.parametrize("args, err, words", [
    ((np.ones((2, 3)), np.ones((4, 3)), True), TypeError, ["k", "bool"]),
    ((np.ones((2, 3)), np.ones((4, 3)), 2.0), TypeError, ["k", "int"]),
    ((np.ones((2, 3)), np.ones((4, 3)), -1), ValueError, ["k", "-1"]),
    ((np.ones((2, 3)), np.ones((4, 3)), 2, 1), TypeError, ["largest", "bool"]),
    ((np.ones(3), np.ones((4, 3)), 2), ValueError, ["queries", "2-D", "(3,)"]),
    ((np.ones((2, 3)), np.ones((2, 2, 3)), 2), ValueError, ["corpus", "(2, 2, 3)"]),
    ((np.ones((2, 3)), np.ones((4, 2)), 2), ValueError, ["corpus", "columns", "(4, 2)"]),
    ((np.ones((2, 3), np.float16), np.ones((4, 3)), 2), TypeError, ["queries", "float16"]),
])
def test_errors_name_the_argument(args, err, words):
    with pytest.raises(err) as info:
        top_k(*args)
    for w in words:
        assert w in str(info.value)


def test_numpy_ints_for_k():
    q, c = np.eye(2), np.eye(3)[:, :2]
    assert top_k(q, c, np.int64(2))[1].shape == (2, 2)


def test_non_contiguous_inputs_and_inputs_not_modified():
    rng = np.random.default_rng(3)
    big = rng.standard_normal((40, 12)).astype(np.float32)
    q, c = big[:10:2, ::3], big[::-1][:, 1::3]
    qc, cc = q.copy(), c.copy()
    got = top_k(q, c, 5)
    want = top_k(np.ascontiguousarray(q), np.ascontiguousarray(c), 5)
    assert_same_bits(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    u = rng.standard_normal((5, 5)).astype(np.float32)
    uc = u.copy()
    cosloss.value_and_grad(top_k, q, c, 5, upstream=u)
    assert_same_bits(q, qc)
    assert_same_bits(c, cc)
    assert_same_bits(u, uc)


# ---- gradients ------------------------------------------------------------------------------

@given(st.integers(1, 4), st.integers(1, 10), st.integers(1, 4), st.integers(0, 12),
       st.booleans(), st.integers(0, 2**32 - 1))
def test_gradient_matches_the_analytic_gradient(n, m, d, k, largest, seed):
    rng = np.random.default_rng(seed)
    q, c = rng.standard_normal((n, d)), rng.standard_normal((m, d))
    c[rng.integers(m)] = 0  # a zero corpus row: finite gradient
    (values, indices), (dq, dc) = cosloss.value_and_grad(top_k, q, c, k, largest,
                                                         upstream=None)
    u = np.ones(values.shape)
    wq, wc = ref.top_k_grad(q, c, indices, u)
    np.testing.assert_allclose(dq, wq, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(dc, wc, rtol=1e-9, atol=1e-9)
    u = rng.standard_normal(values.shape)
    (_, i2), (dq, dc) = cosloss.value_and_grad(top_k, q, c, k, largest, upstream=u)
    wq, wc = ref.top_k_grad(q, c, i2, u)
    np.testing.assert_allclose(dq, wq, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(dc, wc, rtol=1e-9, atol=1e-9)


def test_gradient_matches_central_differences():
    rng = np.random.default_rng(4)
    q, c = rng.standard_normal((3, 4)), rng.standard_normal((8, 4))
    u = rng.standard_normal((3, 3))
    (values, indices), (dq, dc) = cosloss.value_and_grad(top_k, q, c, 3, upstream=u)
    # Random values have no near-ties, so a small step keeps the selection.
    def loss_q(a):
        return np.sum(u * np.take_along_axis(ref.cosine_similarity(a, c), indices, axis=1))

    def loss_c(b):
        return np.sum(u * np.take_along_axis(ref.cosine_similarity(q, b), indices, axis=1))
    np.testing.assert_allclose(dq, ref.central_differences(loss_q, q), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dc, ref.central_differences(loss_c, c), rtol=1e-6, atol=1e-8)


def test_gradient_float32_upstream_broadcast_and_out():
    rng = np.random.default_rng(5)
    q = rng.standard_normal((4, 3)).astype(np.float32)
    c = rng.standard_normal((9, 3)).astype(np.float32)
    (values, indices), (dq, dc) = cosloss.value_and_grad(top_k, q, c, 3, upstream=2.0)
    assert dq.dtype == dc.dtype == np.float32
    wq, wc = ref.top_k_grad(q, c, indices, np.full(values.shape, 2.0))
    np.testing.assert_allclose(dq, wq, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(dc, wc, rtol=1e-5, atol=1e-5)
    out = (np.empty_like(dq), np.empty_like(dc))
    _, got = cosloss.value_and_grad(top_k, q, c, 3, upstream=2.0, out=out)
    assert got is out
    assert_same_bits(out[0], dq)
    assert_same_bits(out[1], dc)
    with pytest.raises(ValueError, match="upstream has shape"):
        cosloss.value_and_grad(top_k, q, c, 3, upstream=np.ones(4))


# ---- the same bits everywhere, sizes, memory -------------------------------------------------

def test_bits_across_kernel_sets_and_workers(restore_settings):
    # One query block against a corpus that splits between workers, and
    # many blocks against a small one; quantized values make ties common.
    rng = np.random.default_rng(6)
    cases = [(rng.standard_normal((3, 8)), np.round(rng.standard_normal((45000, 8)) * 2)),
             (rng.standard_normal((300, 8)), np.round(rng.standard_normal((500, 8))))]
    for q, c in cases:
        q, c = q.astype(np.float32), c.astype(np.float32)
        first = None
        for kernel, workers in itertools.product(cosloss.kernels(), [1, 2, 3]):
            cosloss.set_kernel(kernel)
            cosloss.set_workers(workers)
            got = top_k(q, c, 7)
            if first is None:
                first = got
                values, indices = assert_is_sorted_matrix(q, c, 7, True)
                continue
            assert_same_bits(got[0], first[0])
            np.testing.assert_array_equal(got[1], first[1])


def _large_case(n, m, d, k, seed):
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((n, d)).astype(np.float32)
    c = rng.standard_normal((m, d)).astype(np.float32)
    values, indices = top_k(q, c, k)
    assert_matches_reference(q, c, k, True, values, indices)


def test_a_longer_corpus_against_the_blocked_reference():
    _large_case(40, 30000, 8, 10, 7)


def test_2000_queries_against_30000_rows():
    _large_case(2000, 30000, 64, 10, 8)


def _python_peak_of_search(n, m, d, k):
    rng = np.random.default_rng(9)
    q = rng.standard_normal((n, d)).astype(np.float32)
    c = rng.standard_normal((m, d)).astype(np.float32)
    tracemalloc.start()
    try:
        values, indices = top_k(q, c, k)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert values.shape == (n, k)
    return peak


def test_memory_does_not_grow_with_the_pairs():
    # 20 × 100000 float32 cosines would be 8 MB; Python allocates the
    # outputs (20·10 values and indices) and nothing of the matrix. Go's
    # side is cosloss/topk_test.go's TestTopKMemoryIsBounded.
    peak = _python_peak_of_search(20, 100000, 8, 10)
    assert peak < 256 << 10, peak


def test_memory_of_the_full_size_search():
    # 2000 × 100000 float32 cosines would be 800 MB.
    peak = _python_peak_of_search(2000, 100000, 256, 10)
    assert peak < 1 << 20, peak
