"""Shared TensorFlow setup and helpers for the TensorFlow parity suites.

Import this module before anything that imports TensorFlow: it silences
TF's C++ logging, then imports TensorFlow and cosloss.tf. Which Keras
tf.keras is follows TF_USE_LEGACY_KERAS as TensorFlow reads it (unset:
Keras 3, TensorFlow's default; "1": tf-keras, which the spec describes);
`make test` runs these suites under both, and under both cosloss.tf
backends (COSLOSS_TF_BACKEND).

Skip rule: without TensorFlow (or tf_keras) the importing test module is
skipped, except when the environment variable CI is "true", where the import
error is raised so that a missing TensorFlow fails the run instead.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

__all__ = ["IN_CI", "tf", "ctf", "TOL", "tol", "upstream_for", "run_pair", "assert_pair_close"]

IN_CI = os.environ.get("CI") == "true"

if IN_CI:
    import tensorflow as tf  # noqa: F401  (an ImportError here fails the module in CI)
    import tf_keras  # noqa: F401
else:
    # Like pytest.importorskip, but any ImportError (a broken install too) skips.
    try:
        import tensorflow as tf
        import tf_keras  # noqa: F401
    except ImportError as err:
        pytest.skip(f"TensorFlow tests need tensorflow and tf_keras: {err}",
                    allow_module_level=True)

tf.get_logger().setLevel("ERROR")

import cosloss.tf as ctf  # noqa: E402

# Parity tolerances (the issue: 1e-6 for float32; spec §12: 1e-12 for float64).
TOL = {
    np.dtype(np.float32): dict(rtol=1e-6, atol=1e-6),
    np.dtype(np.float64): dict(rtol=1e-12, atol=1e-12),
}


def tol(dtype):
    return TOL[np.dtype(dtype)]


def upstream_for(shape, dtype, seed):
    """A random upstream gradient, so every output element's gradient matters."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) + 0.5).astype(dtype)


def _graph_placeholder(array):
    """A placeholder for array with an unknown leading (batch) dimension."""
    shape = list(array.shape)
    if shape:
        shape[0] = None
    return tf.compat.v1.placeholder(array.dtype, shape=shape)


def _as_graph_inputs(arrays):
    return [_graph_placeholder(a) for a in arrays]


def run_pair(mode, tf_fn, cl_fn, inputs, extras=(), seed=0):
    """Value and gradients of tf_fn and cl_fn on the same inputs, in one mode.

    inputs are numpy arrays that get gradients; extras are numpy arrays passed
    after them as tensors that are not differentiated (weights). Both
    functions see the same tensors. Returns two dicts with keys value,
    grads (list of numpy arrays, one per input), dtype, static_shape.
    The upstream gradient is random (seeded) and the same for both.
    """
    if mode == "eager":
        return _run_pair_eager(tf_fn, cl_fn, inputs, extras, seed)
    if mode == "graph":
        return _run_pair_graph(tf_fn, cl_fn, inputs, extras, seed)
    raise ValueError(mode)


def _run_pair_eager(tf_fn, cl_fn, inputs, extras, seed):
    results = []
    for fn in (tf_fn, cl_fn):
        xs = [tf.constant(a) for a in inputs]
        ws = [tf.constant(w) for w in extras]
        with tf.GradientTape() as tape:
            for x in xs:
                tape.watch(x)
            y = fn(*xs, *ws)
        up = upstream_for(y.shape, y.dtype.as_numpy_dtype, seed)
        grads = tape.gradient(y, xs, output_gradients=tf.constant(up))
        results.append(dict(value=np.asarray(y.numpy()), grads=[_np(g) for g in grads],
                            dtype=y.dtype, static_shape=y.shape))
    return results


def _run_pair_graph(tf_fn, cl_fn, inputs, extras, seed):
    with tf.Graph().as_default() as graph:
        xs = _as_graph_inputs(inputs)
        ws = _as_graph_inputs(extras)
        ys = [tf_fn(*xs, *ws), cl_fn(*xs, *ws)]
        ups = [tf.compat.v1.placeholder(y.dtype, shape=None) for y in ys]
        grads = [tf.gradients(y, xs, grad_ys=up) for y, up in zip(ys, ups)]
        feed = dict(zip(xs + ws, list(inputs) + list(extras)))
        with tf.compat.v1.Session(graph=graph) as sess:
            values = sess.run(ys, feed)
            for up, v, y in zip(ups, values, ys):
                feed[up] = upstream_for(np.shape(v), y.dtype.as_numpy_dtype, seed)
            grad_values = sess.run([[g for g in gs if g is not None] for gs in grads], feed)
    results = []
    for y, v, gs, gv in zip(ys, values, grads, grad_values):
        gv = iter(gv)
        results.append(dict(value=np.asarray(v), grads=[None if g is None else next(gv)
                                                        for g in gs],
                            dtype=y.dtype, static_shape=y.shape))
    return results


def _np(t):
    if t is None:
        return None
    if isinstance(t, tf.IndexedSlices):
        t = tf.convert_to_tensor(t)
    return np.asarray(t.numpy())


def assert_pair_close(expected, actual, value_tol, grad_tol=None, what=""):
    """cosloss's results (actual) equal TensorFlow's (expected)."""
    grad_tol = grad_tol or value_tol
    assert actual["dtype"] == expected["dtype"], (
        f"{what}: dtype {actual['dtype'].name} != TF's {expected['dtype'].name}")
    assert actual["value"].shape == expected["value"].shape, (
        f"{what}: shape {actual['value'].shape} != TF's {expected['value'].shape}")
    _assert_static_shape(expected["static_shape"], actual["static_shape"], what)
    np.testing.assert_allclose(actual["value"], expected["value"], **value_tol,
                               err_msg=f"{what}: value")
    assert len(actual["grads"]) == len(expected["grads"])
    for i, (g_cl, g_tf) in enumerate(zip(actual["grads"], expected["grads"])):
        assert g_tf is not None, f"{what}: TF gives no gradient for input {i}"
        assert g_cl is not None, f"{what}: cosloss gives no gradient for input {i}"
        assert g_cl.shape == g_tf.shape, f"{what}: grad {i} shape {g_cl.shape} != {g_tf.shape}"
        assert g_cl.dtype == g_tf.dtype, f"{what}: grad {i} dtype {g_cl.dtype} != {g_tf.dtype}"
        np.testing.assert_allclose(g_cl, g_tf, **grad_tol, err_msg=f"{what}: gradient {i}")


def _assert_static_shape(expected, actual, what):
    """Graph-mode static shapes agree with TF's (same rank, compatible dims)."""
    if expected.rank is None:
        return
    assert actual.rank is not None, f"{what}: static rank unknown, TF's is {expected}"
    assert actual.rank == expected.rank, f"{what}: static shape {actual} vs TF's {expected}"
    # Compatible, not equal: cosloss may know more (e.g. a reduced axis of 1
    # that TF leaves unknown after broadcasting against unknown-size weights).
    assert actual.is_compatible_with(expected), f"{what}: static shape {actual} vs TF's {expected}"
