"""Worker settings and kernel sets give the same numbers as each other."""

import numpy as np
import pytest

import cosloss
from cosloss import _core




def large_inputs(dtype):
    rng = np.random.default_rng(5)
    # Above the Go core's threshold for splitting work across goroutines
    # (2**20 elements).
    return (rng.standard_normal((9000, 128)).astype(dtype), rng.standard_normal((9000, 128)).astype(dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_one_worker_and_many_agree_exactly(restore_settings, dtype):
    a, b = large_inputs(dtype)
    cosloss.set_workers(1)
    single = cosloss.keras.losses.cosine_similarity(a, b)
    single_axis0 = cosloss.keras.losses.cosine_similarity(a, b, axis=0)
    single_grads = cosloss.value_and_grad(cosloss.keras.losses.cosine_similarity, a, b)[1]
    cosloss.set_workers(4)
    assert cosloss.workers() == 4
    np.testing.assert_array_equal(cosloss.keras.losses.cosine_similarity(a, b), single)
    np.testing.assert_array_equal(cosloss.keras.losses.cosine_similarity(a, b, axis=0), single_axis0)
    for g, h in zip(cosloss.value_and_grad(cosloss.keras.losses.cosine_similarity, a, b)[1], single_grads):
        np.testing.assert_array_equal(g, h)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_kernel_set_agrees(restore_settings, dtype):
    a, b = large_inputs(dtype)
    results = {}
    for name in _core.kernels():
        _core.set_kernel(name)
        results[name] = (cosloss.keras.losses.cosine_similarity(a, b),
                         cosloss.keras.losses.cosine_similarity(a, b, axis=0),
                         cosloss.nn.l2_normalize(a, axis=1))
    first = results[_core.kernels()[0]]
    for name, got in results.items():
        for x, y in zip(got, first):
            np.testing.assert_array_equal(x, y, err_msg=name)


def test_settings_are_validated(restore_settings):
    with pytest.raises(ValueError, match="workers"):
        cosloss.set_workers(0)
    with pytest.raises(ValueError, match="kernel"):
        _core.set_kernel("no-such-kernel")
    assert "portable" in _core.kernels()


def test_set_workers_checks_and_caps(restore_settings):
    # Far more goroutines than CPUs only add start-up cost (1e9 made a 2e6-row
    # call 7x slower), so the setting is capped; ints too large for Go's int
    # are capped the same way instead of overflowing.
    for n, want in [(1, 1), (3, 3), (256, 256), (257, 256), (10**9, 256), (2**63, 256),
                    (2**200, 256), (np.int64(2), 2)]:
        cosloss.set_workers(n)
        assert cosloss.workers() == want, n
    for bad in ["2", 2.0, None, True, np.float64(2), np.array([2])]:
        with pytest.raises(TypeError, match="set_workers needs n as an int"):
            cosloss.set_workers(bad)
    for bad in [0, -1, -(2**70)]:
        with pytest.raises(ValueError, match=f"set_workers needs n >= 1, got {bad}"):
            cosloss.set_workers(bad)


def test_many_workers_give_the_same_bits(restore_settings):
    # The cap and the smallest piece keep a huge setting correct and cheap.
    a, b = large_inputs(np.float32)
    cosloss.set_workers(1)
    single = cosloss.keras.losses.cosine_similarity(a, b)
    cosloss.set_workers(10**9)
    np.testing.assert_array_equal(cosloss.keras.losses.cosine_similarity(a, b), single)
