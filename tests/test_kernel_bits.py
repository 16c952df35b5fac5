"""Every kernel set and every worker count gives the same bits (issue #12).

The Go core's kernel sets (portable, AVX2, AVX-512: cosloss.kernels()) all
sum in one canonical order, and work is split across workers only between
slices, so values, gradients and l2_normalize must agree bit for bit across
every combination, on random shapes, axes and dtypes and on row lengths
around each vector width, unroll and tail. Each cosine is the float64 sum
rounded once: within 1 ulp of a numpy float64 reference in every row.
"""

import itertools

import numpy as np
import pytest

import cosloss

# Lengths on, just before and just after every lane group (4, 8, 16), both
# vector widths' tails and the 2048-element blocks of the strided path.
BOUNDARY_LENGTHS = [1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129,
                    255, 256, 257, 2047, 2048, 2049]
WORKERS = [1, 2, 3]




def each_setting():
    """Every (kernel set, worker count) this machine can run."""
    return list(itertools.product(cosloss.kernels(), WORKERS))


def results_for(fn, *args):
    """fn(*args) under every setting, as {setting: tuple of arrays}."""
    out = {}
    for kernel, workers in each_setting():
        cosloss.set_kernel(kernel)
        cosloss.set_workers(workers)
        got = fn(*args)
        out[kernel, workers] = tuple(np.asarray(g) for g in (got if isinstance(got, tuple) else (got,)))
    return out


def assert_all_same_bits(results):
    (first_setting, first), *rest = results.items()
    for setting, got in rest:
        for a, b in zip(got, first):
            assert a.dtype == b.dtype and a.shape == b.shape
            # Bit patterns, so that -0.0 against 0.0 and NaN payloads count.
            np.testing.assert_array_equal(np.atleast_1d(a).view(np.uint8), np.atleast_1d(b).view(np.uint8),
                                          err_msg=f"{setting} against {first_setting}")


def random_pair(rng, shape, dtype):
    return (rng.standard_normal(shape).astype(dtype), rng.standard_normal(shape).astype(dtype))


def keras_value_and_grads(a, b, axis):
    value, (ga, gb) = cosloss.value_and_grad(cosloss.keras.losses.cosine_similarity, a, b, axis=axis)
    return value, ga, gb


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("length", BOUNDARY_LENGTHS)
def test_rows_around_every_boundary(restore_settings, dtype, length):
    rng = np.random.default_rng(length)
    # Enough rows that the call splits across workers (2**20 elements).
    rows = (1 << 20) // length + 3
    a, b = random_pair(rng, (rows, length), dtype)
    assert_all_same_bits(results_for(keras_value_and_grads, a, b, -1))
    assert_all_same_bits(results_for(cosloss.nn.l2_normalize, a, 1))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", range(6))
def test_random_shapes_and_axes(restore_settings, dtype, seed):
    rng = np.random.default_rng(100 + seed)
    rank = int(rng.integers(1, 4))
    shape = tuple(int(n) for n in rng.integers(1, 90, size=rank))
    axis = int(rng.integers(-rank, rank))
    a, b = random_pair(rng, shape, dtype)
    assert_all_same_bits(results_for(keras_value_and_grads, a, b, axis))
    assert_all_same_bits(results_for(cosloss.nn.l2_normalize, a, axis))
    assert_all_same_bits(results_for(cosloss.cosine_similarity_loss_v3, a, b, axis))
    assert_all_same_bits(results_for(
        lambda x, y: cosloss.torch.nn.functional.cosine_similarity(x, y, dim=axis), a, b))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_columns_and_strided_views(restore_settings, dtype):
    rng = np.random.default_rng(7)
    a, b = random_pair(rng, (2100, 517), dtype)
    # Along the first axis (the column kernels), and on non-contiguous views.
    assert_all_same_bits(results_for(keras_value_and_grads, a, b, 0))
    assert_all_same_bits(results_for(keras_value_and_grads, a[:, ::3], b[:, ::3], -1))
    assert_all_same_bits(results_for(cosloss.nn.l2_normalize, a.T, 1))


def test_value_and_grad_with_out_and_the_tf1_loss(restore_settings):
    rng = np.random.default_rng(8)
    a, b = random_pair(rng, (12000, 96), np.float32)
    unit_a, unit_b = cosloss.nn.l2_normalize(a, axis=1), cosloss.nn.l2_normalize(b, axis=1)
    assert_all_same_bits(results_for(
        lambda: cosloss.losses.cosine_distance(unit_a, unit_b, axis=1)))
    assert_all_same_bits(results_for(
        lambda: cosloss.keras.losses.CosineSimilarity()(a, b, sample_weight=np.abs(a[:, 0]))))


@pytest.mark.parametrize("length", [8, 64, 256, 257, 4096])
def test_each_float32_cosine_is_the_float64_formula_rounded_once(restore_settings, length):
    # The README's promise, on every kernel set: Σx·y, Σx², Σy² in float64,
    # the cosine in float64, rounded to float32 once. numpy's float64 sums
    # run in another order, so a row may land on the other side of a
    # rounding boundary: within 1 ulp everywhere, equal nearly everywhere.
    rng = np.random.default_rng(length)
    rows = max(1000, 400000 // length)
    a, b = random_pair(rng, (rows, length), np.float32)
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    dot, aa, bb = (np.einsum("ij,ij->i", u, v) for u, v in [(a64, b64), (a64, a64), (b64, b64)])
    want = (dot / np.sqrt(np.maximum(aa, 1e-12) * np.maximum(bb, 1e-12))).astype(np.float32)
    for kernel in cosloss.kernels():
        cosloss.set_kernel(kernel)
        got = -cosloss.keras.losses.cosine_similarity(a, b)
        ulps = np.abs(got.view(np.int32).astype(np.int64) - want.view(np.int32).astype(np.int64))
        assert ulps.max() <= 1, (kernel, ulps.max())
        assert np.mean(ulps == 0) >= 0.999, (kernel, np.mean(ulps == 0))
