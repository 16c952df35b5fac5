"""value_and_grad(..., out=...): gradients written into the caller's arrays.

The gradients themselves are checked against the references in
test_gradients.py; here the same call with and without `out` must agree
exactly, return the out arrays, and keep inputs intact whatever the out
arrays alias.
"""

import numpy as np
import pytest

import cosloss

RNG = np.random.default_rng(7)
A = RNG.standard_normal((40, 16)).astype(np.float32)
B = RNG.standard_normal((40, 16)).astype(np.float32)

# (fn, args, kwargs) for every kind of loss value_and_grad takes.
CASES = {
    "keras function": (cosloss.keras.losses.cosine_similarity, (A, B), {}),
    "tf115 function": (cosloss.tf115.keras.losses.cosine_similarity, (A, B), {"axis": 0}),
    "seed v3": (cosloss.cosine_similarity_loss_v3, (A, B), {}),
    "keras object": (cosloss.keras.losses.CosineSimilarity(), (A, B), {"sample_weight": np.arange(40.0)}),
    "l2_normalize": (cosloss.nn.l2_normalize, (A,), {"axis": 1}),
    "cosine_distance": (cosloss.losses.cosine_distance, (A, B), {"axis": 1, "weights": 2.0}),
    "compute_weighted_loss": (cosloss.losses.compute_weighted_loss, (A,), {"weights": 0.5}),
}


def fresh_out(grads):
    return tuple(np.full_like(g, np.nan) for g in grads)


@pytest.mark.parametrize("case", CASES)
def test_out_holds_the_same_gradients(case):
    fn, args, kwargs = CASES[case]
    value, grads = cosloss.value_and_grad(fn, *args, **kwargs)
    out = fresh_out(grads)
    value_out, grads_out = cosloss.value_and_grad(fn, *args, out=out, **kwargs)
    assert grads_out is out
    np.testing.assert_array_equal(value_out, value)
    for g, o in zip(grads, out):
        np.testing.assert_array_equal(o, g)


@pytest.mark.parametrize("case", CASES)
def test_out_reused_across_calls(case):
    # The training-loop use: one set of buffers, new data each step.
    fn, args, kwargs = CASES[case]
    out = fresh_out(cosloss.value_and_grad(fn, *args, **kwargs)[1])
    for scale in (1.0, -3.0):
        scaled = tuple(a * np.float32(scale) + np.float32(0.5) for a in args)
        _, expected = cosloss.value_and_grad(fn, *scaled, **kwargs)
        _, grads = cosloss.value_and_grad(fn, *scaled, out=out, **kwargs)
        for g, e in zip(grads, expected):
            np.testing.assert_array_equal(g, e)


def test_out_aliasing_the_inputs_gets_the_gradients_of_the_original_inputs():
    fn = cosloss.keras.losses.cosine_similarity
    _, (d_true, d_pred) = cosloss.value_and_grad(fn, A, B)
    a, b = A.copy(), B.copy()
    _, grads = cosloss.value_and_grad(fn, a, b, out=(a, b))
    assert grads[0] is a and grads[1] is b
    np.testing.assert_array_equal(a, d_true)
    np.testing.assert_array_equal(b, d_pred)


def test_one_array_for_both_gradients_is_refused():
    # It used to end up holding d/dy_pred under the name grads[0] (issue #9).
    fn = cosloss.keras.losses.cosine_similarity
    buf = np.full_like(A, 7.0)
    with pytest.raises(ValueError, match=r"out\[0\] and out\[1\] overlap"):
        cosloss.value_and_grad(fn, A, B, out=(buf, buf))
    assert (buf == 7.0).all()  # refused before any work


def test_out_leaves_inputs_alone():
    a, b = A.copy(), B.copy()
    cosloss.value_and_grad(cosloss.keras.losses.cosine_similarity, a, b,
                           out=(np.empty_like(a), np.empty_like(b)))
    np.testing.assert_array_equal(a, A)
    np.testing.assert_array_equal(b, B)


def test_strided_and_broadcast_out_are_filled_by_copy():
    fn = cosloss.keras.losses.cosine_similarity
    row = B[:1]  # broadcast along the batch: its gradient sums over it
    _, (d_true, d_row) = cosloss.value_and_grad(fn, A, row)
    wide = np.zeros((40, 32), np.float32)
    out = (wide[:, ::2], np.empty((1, 16), np.float32))
    _, grads = cosloss.value_and_grad(fn, A, row, out=out)
    assert grads is out
    np.testing.assert_array_equal(wide[:, ::2], d_true)
    np.testing.assert_array_equal(out[1], d_row)
    assert not wide[:, 1::2].any()


@pytest.mark.parametrize("out, error, message", [
    ([np.empty_like(A), np.empty_like(B)], TypeError, "tuple of 2 numpy arrays"),
    ((np.empty_like(A),), TypeError, "tuple of 2 numpy arrays, one per gradient, got a tuple of 1"),
    ((np.empty_like(A), B.tolist()), TypeError, r"got a tuple of 2: \(ndarray, list\)"),
    ((np.empty_like(A), np.empty((16, 40), np.float32)), ValueError,
     r"out\[1\] must have the gradient's shape \(40, 16\), got \(16, 40\)"),
    ((np.empty_like(A, dtype=np.float64), np.empty_like(B)), TypeError,
     "out\\[0\\] must have the gradient's dtype float32, got float64"),
])
def test_bad_out_is_named(out, error, message):
    with pytest.raises(error, match=message):
        cosloss.value_and_grad(cosloss.keras.losses.cosine_similarity, A, B, out=out)


def test_read_only_out_is_refused_before_any_work():
    ro = np.zeros_like(A)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match=r"out\[0\] is read-only"):
        cosloss.keras.losses.CosineSimilarity().value_and_grad(A, B, out=(ro, np.empty_like(B)))
