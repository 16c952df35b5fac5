"""cosloss.pairwise.cosine_similarity: scikit-learn's all-pairs matrix and its gradients (issue #13).

Expectations come from tests/pairwise_reference.py (numpy float64, the
documented formulas); cosloss is only compared with itself for layouts,
kernel sets and worker counts, where the promise is the same bits.
"""

import itertools

import numpy as np
import pytest
from hypothesis import given, strategies as st

import cosloss
import pairwise_reference as ref
from strategies import arrays

cos_sim = cosloss.pairwise.cosine_similarity
TOL = {np.dtype(np.float32): dict(rtol=1e-5, atol=2e-6),
       np.dtype(np.float64): dict(rtol=1e-12, atol=1e-13)}


def bits(a):
    return np.ascontiguousarray(a).view(np.uint8)


def assert_same_bits(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(bits(a), bits(b))


@st.composite
def pairs(draw, same_dtype=True):
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    n, m, d = draw(st.integers(0, 6)), draw(st.integers(0, 6)), draw(st.integers(0, 5))
    x = draw(arrays(dtype, (n, d)))
    y = draw(arrays(dtype, (m, d)))
    return x, y


# ---- values -------------------------------------------------------------------------------

@given(pairs())
def test_values_match_scikit_learns_formula(xy):
    x, y = xy
    got = cos_sim(x, y)
    assert got.shape == (len(x), len(y)) and got.dtype == x.dtype
    np.testing.assert_allclose(got, ref.cosine_similarity(x, y), **TOL[x.dtype])
    alone = cos_sim(x)
    assert alone.shape == (len(x), len(x))
    np.testing.assert_allclose(alone, ref.cosine_similarity(x), **TOL[x.dtype])


def test_a_worked_example():
    x = np.array([[1.0, 0.0], [3.0, 4.0], [0.0, 0.0]])
    y = np.array([[0.0, 2.0], [-1.0, 0.0]])
    np.testing.assert_allclose(cos_sim(x, y), [[0, -1], [0.8, -0.6], [0, 0]], atol=1e-16)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_zero_and_nan_rows(dtype):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 3)).astype(dtype)
    y = rng.standard_normal((5, 3)).astype(dtype)
    x[1] = 0
    y[2] = 0
    y[4, 1] = np.nan
    got = cos_sim(x, y)
    assert np.all(got[1, :4] == 0) and np.all(got[:, 2] == 0)
    # A NaN reaches its own column only (the zero row's product is NaN too).
    assert np.all(np.isnan(got[:, 4])) and not np.any(np.isnan(got[:, :4]))
    want = ref.cosine_similarity(x, y)
    np.testing.assert_allclose(got[:, :4], want[:, :4], **TOL[np.dtype(dtype)])


@pytest.mark.parametrize("shapes", [((0, 3), (4, 3)), ((4, 3), (0, 3)), ((0, 0), (0, 0)),
                                    ((3, 0), (2, 0))])
def test_empty_inputs(shapes):
    x, y = np.ones(shapes[0]), np.ones(shapes[1])
    got = cos_sim(x, y)
    assert got.shape == (shapes[0][0], shapes[1][0]) and got.dtype == np.float64
    # d = 0: every row is a zero row, so every cosine is 0 (scikit-learn's answer).
    assert np.all(got == 0)
    value, (dx, dy) = cosloss.value_and_grad(cos_sim, x, y)
    assert dx.shape == x.shape and dy.shape == y.shape
    assert np.all(dx == 0) and np.all(dy == 0)


def test_duplicate_rows_have_cosine_one():
    x = np.tile(np.array([[0.3, -1.2, 2.5]], np.float32), (5, 1))
    np.testing.assert_allclose(cos_sim(x), np.ones((5, 5)), atol=1e-6)


# ---- dtypes and arguments -------------------------------------------------------------------

@pytest.mark.parametrize("xd, yd, want", [
    (np.float32, np.float32, np.float32), (np.float64, np.float64, np.float64),
    (np.float32, np.float64, np.float64), (np.int32, np.int64, np.float64),
    (np.bool_, np.float32, np.float64), (np.uint8, None, np.float64), (np.float32, None, np.float32),
])
def test_result_dtype(xd, yd, want):
    x = np.array([[1, 0], [1, 1]], xd)
    y = None if yd is None else np.array([[1, 1]], yd)
    got = cos_sim(x, y)
    assert got.dtype == want
    np.testing.assert_allclose(got, ref.cosine_similarity(x.astype(float), None if y is None else
                                                          y.astype(float)), rtol=1e-6)


def test_lists_are_float64_as_in_scikit_learn():
    assert cos_sim([[1.0, 2.0]], [[2.0, 1.0]]).dtype == np.float64
    assert cos_sim([[1, 2]]).dtype == np.float64


@pytest.mark.parametrize("x, y, err, words", [
    (np.ones(3), None, ValueError, ["x", "2-D", "(3,)"]),
    (np.ones((2, 3)), np.ones((1, 2, 3)), ValueError, ["y", "2-D", "(1, 2, 3)"]),
    (np.ones((2, 3)), np.ones((2, 4)), ValueError, ["y", "columns", "(2, 4)"]),
    (np.ones((2, 3), np.float16), None, TypeError, ["x", "float16"]),
    (np.ones((2, 3)), np.ones((2, 3), np.complex64), TypeError, ["y", "complex64"]),
    (np.array([["a", "b"]]), None, TypeError, ["x", "<U1"]),
    (None, None, ValueError, ["x", "None"]),
])
def test_errors_name_the_argument(x, y, err, words):
    with pytest.raises(err) as info:
        cos_sim(x, y)
    for w in words:
        assert w in str(info.value)


def test_masked_arrays_are_refused():
    with pytest.raises(TypeError, match="y is a numpy masked array"):
        cos_sim(np.ones((2, 2)), np.ma.masked_array(np.ones((2, 2))))


def test_out():
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((3, 4)), rng.standard_normal((5, 4))
    want = cos_sim(x, y)
    out = np.full((3, 5), 7.0)
    assert cos_sim(x, y, out=out) is out
    assert_same_bits(out, want)
    # Any layout: a Fortran-ordered out, and a row-strided one, get the same bits.
    f = np.asfortranarray(np.zeros((3, 5)))
    cos_sim(x, y, out=f)
    assert_same_bits(f, want)
    wide = np.zeros((3, 9))
    cos_sim(x, y, out=wide[:, :5])
    assert_same_bits(wide[:, :5], want)
    assert np.all(wide[:, 5:] == 0)
    # out sharing memory with x: the result is computed first.
    sq = rng.standard_normal((4, 4))
    expected = cos_sim(sq)
    assert_same_bits(cos_sim(sq, out=sq), expected)
    with pytest.raises(ValueError, match=r"out of shape \(3, 5\)"):
        cos_sim(x, y, out=np.zeros((5, 3)))
    with pytest.raises(TypeError, match="dtype float64"):
        cos_sim(x, y, out=np.zeros((3, 5), np.float32))
    ro = np.zeros((3, 5))
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        cos_sim(x, y, out=ro)
    with pytest.raises(TypeError, match="numpy array"):
        cos_sim(x, y, out=[[0.0] * 5] * 3)


# ---- layouts ---------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_non_contiguous_inputs_give_the_same_bits(dtype):
    rng = np.random.default_rng(3)
    big = rng.standard_normal((12, 10)).astype(dtype)
    other = rng.standard_normal((7, 5)).astype(dtype)
    views = [big[::2, ::2], big[:6, 1::2], np.asfortranarray(big[:6, :5]), big[::-2, :5],
             big[:6, :5], big.astype(big.dtype.newbyteorder(">"))[:6, :5]]
    for v in views:
        assert_same_bits(cos_sim(v, other), cos_sim(np.ascontiguousarray(v), other))
        assert_same_bits(cos_sim(other, v), cos_sim(other, np.ascontiguousarray(v)))
        assert_same_bits(cos_sim(v), cos_sim(np.ascontiguousarray(v)))


def test_inputs_are_not_modified():
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((5, 3)), rng.standard_normal((4, 3))
    u, us = rng.standard_normal((5, 4)), rng.standard_normal((5, 5))
    copies = [a.copy() for a in (x, y, u, us)]
    cos_sim(x, y)
    cos_sim(x)
    cosloss.value_and_grad(cos_sim, x, y, upstream=u)
    cosloss.value_and_grad(cos_sim, x, upstream=us)
    for a, c in zip((x, y, u, us), copies):
        assert_same_bits(a, c)


def test_x_against_itself_is_x_against_a_copy():
    # Several 256-row tiles: the symmetric path mirrors products across the
    # diagonal with each side's own epilogue, so the bits are unchanged.
    rng = np.random.default_rng(5)
    for dtype in (np.float32, np.float64):
        x = rng.standard_normal((300, 6)).astype(dtype)
        assert_same_bits(cos_sim(x), cos_sim(x, x.copy()))
        assert_same_bits(cos_sim(x, x), cos_sim(x, x.copy()))


# ---- gradients ------------------------------------------------------------------------------

@given(pairs(), st.integers(0, 2**32 - 1))
def test_gradients_match_the_analytic_gradient(xy, seed):
    x, y = xy
    u = np.random.default_rng(seed).standard_normal((len(x), len(y))).astype(x.dtype)
    value, (dx, dy) = cosloss.value_and_grad(cos_sim, x, y, upstream=u)
    assert dx.dtype == dy.dtype == x.dtype and dx.shape == x.shape and dy.shape == y.shape
    wx, wy = ref.cosine_similarity_grad(x, y, u)
    # The gradient of a row near the floor is ~1e6 per unit: tolerance relative to its scale.
    scale = 1 + np.abs(u).sum() * 1e6 * (x.dtype == np.float32)
    tol = dict(rtol=1e-4, atol=1e-5 * scale) if x.dtype == np.float32 else dict(rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(dx, wx, **tol)
    np.testing.assert_allclose(dy, wy, **tol)


@given(st.integers(0, 5), st.integers(0, 4), st.integers(0, 2**32 - 1))
def test_self_gradient_is_both_sides(n, d, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    u = rng.standard_normal((n, n))
    value, (dx,) = cosloss.value_and_grad(cos_sim, x, upstream=u)
    wx, wy = ref.cosine_similarity_grad(x, x, u)
    np.testing.assert_allclose(dx, wx + wy, rtol=1e-9, atol=1e-9)


def test_gradients_match_central_differences():
    rng = np.random.default_rng(6)
    x, y = rng.standard_normal((3, 4)), rng.standard_normal((5, 4))
    u = rng.standard_normal((3, 5))
    _, (dx, dy) = cosloss.value_and_grad(cos_sim, x, y, upstream=u)
    np.testing.assert_allclose(dx, ref.central_differences(
        lambda a: np.sum(u * ref.cosine_similarity(a, y)), x), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dy, ref.central_differences(
        lambda b: np.sum(u * ref.cosine_similarity(x, b)), y), rtol=1e-6, atol=1e-8)
    us = rng.standard_normal((3, 3))
    _, (ds,) = cosloss.value_and_grad(cos_sim, x, upstream=us)
    np.testing.assert_allclose(ds, ref.central_differences(
        lambda a: np.sum(us * ref.cosine_similarity(a)), x), rtol=1e-6, atol=1e-8)


def test_gradient_defaults_and_broadcasts():
    rng = np.random.default_rng(7)
    x, y = rng.standard_normal((3, 2)), rng.standard_normal((4, 2))
    value, (dx, dy) = cosloss.value_and_grad(cos_sim, x, y)
    wx, wy = ref.cosine_similarity_grad(x, y, np.ones((3, 4)))
    np.testing.assert_allclose(dx, wx, rtol=1e-10, atol=1e-12)
    assert_same_bits(value, cos_sim(x, y))
    row = rng.standard_normal(4)
    _, (bx, by) = cosloss.value_and_grad(cos_sim, x, y, upstream=row)
    wx, wy = ref.cosine_similarity_grad(x, y, np.broadcast_to(row, (3, 4)))
    np.testing.assert_allclose(by, wy, rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match=r"upstream has shape \(3,\)"):
        cosloss.value_and_grad(cos_sim, x, y, upstream=np.ones(3))


def test_zero_row_gradient_is_finite():
    x = np.array([[0.0, 0.0], [1.0, 2.0]], np.float32)
    y = np.array([[3.0, 1.0]], np.float32)
    _, (dx, dy) = cosloss.value_and_grad(cos_sim, x, y)
    assert np.all(np.isfinite(dx)) and np.all(np.isfinite(dy))
    # TensorFlow's floor: r = 1e6 and no norm term, so d/dx0 = 1e6·y/|y|.
    np.testing.assert_allclose(dx[0], 1e6 * y[0] / np.linalg.norm(y[0]), rtol=1e-6)


def test_gradient_out():
    rng = np.random.default_rng(8)
    x, y = rng.standard_normal((3, 2)), rng.standard_normal((4, 2))
    want = cosloss.value_and_grad(cos_sim, x, y)[1]
    out = (np.empty((3, 2)), np.empty((4, 2)))
    _, got = cosloss.value_and_grad(cos_sim, x, y, out=out)
    assert got is out
    for g, w in zip(got, want):
        assert_same_bits(g, w)
    with pytest.raises(TypeError, match="tuple of 1"):
        cosloss.value_and_grad(cos_sim, x, out=out)


# ---- the same bits everywhere ---------------------------------------------------------------

def test_bits_across_kernel_sets_and_workers(restore_settings):
    # n·m·d above 2**20, so the tiles and gradient blocks split over workers.
    rng = np.random.default_rng(9)
    x = rng.standard_normal((300, 16)).astype(np.float32)
    y = rng.standard_normal((270, 16)).astype(np.float32)
    u = rng.standard_normal((300, 270)).astype(np.float32)
    us = rng.standard_normal((300, 300)).astype(np.float32)
    first = None
    for kernel, workers in itertools.product(cosloss.kernels(), [1, 2, 3]):
        cosloss.set_kernel(kernel)
        cosloss.set_workers(workers)
        value, (dx, dy) = cosloss.value_and_grad(cos_sim, x, y, upstream=u)
        self_value, (ds,) = cosloss.value_and_grad(cos_sim, x, upstream=us)
        got = (value, dx, dy, self_value, ds)
        if first is None:
            first = got
            continue
        for a, b in zip(got, first):
            assert_same_bits(a, b)
