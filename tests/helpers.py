"""Shared assertions and tolerances for the cosloss test suite."""

import numpy as np

# Spec §12: parity tolerance for the literal test vectors.
VECTOR_TOL = {
    np.dtype(np.float32): dict(rtol=1e-6, atol=1e-7),
    np.dtype(np.float64): dict(rtol=1e-12, atol=1e-12),
}

# Property tests compare against tests/reference.py; cosloss may use a fused
# kernel, a different summation order or wider accumulators, so allow a few
# ulps of the *computation* dtype.  float16 is loose: TF computes it op by op
# in half precision, each op rounding at ~5e-4.
PROPERTY_TOL = {
    np.dtype(np.float16): dict(rtol=1e-2, atol=1e-2),
    np.dtype(np.float32): dict(rtol=1e-5, atol=1e-6),
    np.dtype(np.float64): dict(rtol=1e-12, atol=1e-12),
}


def assert_numpy_result(actual, shape, dtype):
    """cosloss returns numpy arrays (or numpy scalars) of exactly TF's shape/dtype."""
    assert isinstance(actual, (np.ndarray, np.generic)), (
        f"expected a numpy array or numpy scalar, got {type(actual)!r}")
    actual = np.asarray(actual)
    assert actual.shape == tuple(shape), f"shape {actual.shape} != {tuple(shape)}"
    assert actual.dtype == np.dtype(dtype), f"dtype {actual.dtype} != {np.dtype(dtype)}"
    return actual


def assert_vector(actual, expected, dtype, shape=None, tol_dtype=None):
    """Compare with a spec literal (list/number) at the spec's tolerance."""
    expected = np.asarray(expected, dtype=np.float64)
    shape = expected.shape if shape is None else shape
    actual = assert_numpy_result(actual, shape, dtype)
    tol = VECTOR_TOL[np.dtype(tol_dtype or dtype)]
    np.testing.assert_allclose(actual.astype(np.float64), expected, **tol)
    return actual


def assert_matches_reference(actual, expected, compute_dtype=None, scale=1.0):
    """Compare with a tests/reference.py result: same shape and dtype, values close.

    compute_dtype picks the tolerance (e.g. float32 for float64 outputs that
    went through a float32 round trip); scale multiplies atol for quantities
    whose magnitude is not O(1) (unnormalized dot products, sums of weights).
    """
    expected = np.asarray(expected)
    actual = assert_numpy_result(actual, expected.shape, expected.dtype)
    tol = dict(PROPERTY_TOL[np.dtype(compute_dtype or expected.dtype)])
    tol["atol"] = tol["atol"] * max(1.0, float(scale))
    np.testing.assert_allclose(actual.astype(np.float64),
                               expected.astype(np.float64),
                               equal_nan=True, **tol)
    return actual
