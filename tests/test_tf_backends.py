"""cosloss.tf's two backends: how one is chosen, and that both give cosloss's numbers.

The "tf" backend (TensorFlow primitives) and the "go" backend (the Go core
through tf.numpy_function) compute the same float64 sums in different
orders, so their float32 results agree to the last bit except where such a
sum rounds the other way: the tests hold them to at most 1 ulp, and to
bitwise equality on nearly every element. References are TensorFlow's own
ops, computed in the same test.
"""

import os
import subprocess
import sys

import numpy as np
import pytest

from cosloss import _core as cosloss_core

from tf_support import ctf, tf, tol

BACKENDS = ["tf", "go"]


def test_set_backend_returns_the_previous_and_validates():
    previous = ctf.set_backend("go")
    try:
        assert ctf.get_backend() == "go"
        assert ctf.set_backend("tf") == "go"
        assert ctf.get_backend() == "tf"
        with pytest.raises(ValueError, match=r"backend must be one of \('tf', 'go'\), got 'xla'"):
            ctf.set_backend("xla")
        assert ctf.get_backend() == "tf"
    finally:
        ctf.set_backend(previous)


def test_a_call_names_its_backend_and_a_bad_one_is_refused():
    x = tf.constant([[3., 4.]])
    with pytest.raises(ValueError, match="backend must be one of"):
        ctf.nn.l2_normalize(x, axis=1, backend="numpy")
    with pytest.raises(ValueError, match="backend must be one of"):
        ctf.keras.losses.CosineSimilarity(backend=1)
    graph = tf.Graph()
    with graph.as_default():
        p = tf.compat.v1.placeholder(tf.float32, [None, 2])
        ctf.nn.l2_normalize(p, axis=1, backend="tf")
        ctf.nn.l2_normalize(p, axis=1, backend="go")
    kinds = {op.type for op in graph.get_operations()}
    assert "PyFuncStateless" in kinds  # the go op
    assert "Sqrt" in kinds  # the tf op


def test_the_environment_variable_sets_the_starting_default():
    code = "import cosloss.tf as c; print(c.get_backend())"
    env = dict(os.environ, COSLOSS_TF_BACKEND="go", TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-1] == "go"
    env["COSLOSS_TF_BACKEND"] = "gpu"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode != 0 and "COSLOSS_TF_BACKEND must be one of" in done.stderr


def _ulps(a, b):
    """Distance in float32 units in the last place."""
    ia = np.asarray(a, np.float32).view(np.int32).astype(np.int64)
    ib = np.asarray(b, np.float32).view(np.int32).astype(np.int64)
    ia = np.where(ia < 0, -(ia & 0x7FFFFFFF), ia)
    ib = np.where(ib < 0, -(ib & 0x7FFFFFFF), ib)
    return np.abs(ia - ib)


OPS = {
    "l2_normalize": lambda a, b, be: ctf.nn.l2_normalize(a, axis=1, backend=be),
    "keras": lambda a, b, be: ctf.keras.losses.cosine_similarity(a, b, backend=be),
    "seed_v3": lambda a, b, be: ctf.cosine_similarity_loss_v3(a, b, backend=be),
    "torch": lambda a, b, be: ctf.torch.cosine_similarity(a, b, backend=be),
    "cosine_distance": lambda a, b, be: ctf.losses.cosine_distance(
        a, b, axis=1, reduction=ctf.losses.Reduction.NONE, backend=be),
}


@pytest.mark.parametrize("op", sorted(OPS))
def test_the_backends_agree_to_the_bit_on_nearly_every_element(op):
    # The go backend's kernel set decides how exactly it sums (issue #12:
    # the AVX2 float32 kernels sum in float32 lanes), so the comparison is
    # with the portable kernels, which sum in float64 as the tf backend does.
    rng = np.random.default_rng(3)
    a = tf.constant(rng.standard_normal((4000, 64)).astype(np.float32))
    b = tf.constant(rng.standard_normal((4000, 64)).astype(np.float32))
    kernel = cosloss_core.kernel()
    cosloss_core.set_kernel("portable")
    try:
        got = {be: OPS[op](a, b, be).numpy() for be in BACKENDS}
    finally:
        cosloss_core.set_kernel(kernel)
    ulps = _ulps(got["tf"], got["go"])
    assert ulps.max() <= 1, f"{op}: backends differ by {ulps.max()} ulp"
    assert (ulps == 0).mean() >= 0.999, f"{op}: only {(ulps == 0).mean():.4%} bitwise equal"


@pytest.mark.parametrize("backend", BACKENDS)
def test_lists_of_axes_as_tensorflows_eager_ops_take_them(backend):
    rng = np.random.default_rng(4)
    y_true = rng.standard_normal((3, 4, 5)).astype(np.float32)
    y_pred = rng.standard_normal((3, 4, 5)).astype(np.float32)
    t, p = tf.constant(y_true), tf.constant(y_pred)
    for axis in ([1, 2], (0, 2)):
        want = tf.compat.v1.losses.cosine_distance(t, p, axis=list(axis),
                                                   reduction=tf.compat.v1.losses.Reduction.NONE)
        got = ctf.losses.cosine_distance(t, p, axis=axis, backend=backend,
                                         reduction=ctf.losses.Reduction.NONE)
        assert got.shape == want.shape
        np.testing.assert_allclose(got.numpy(), want.numpy(), **tol(np.float32))
        # TensorFlow's op chain for the Keras function (tf-keras's formula).
        ref = -tf.reduce_sum(tf.nn.l2_normalize(t, list(axis)) * tf.nn.l2_normalize(p, list(axis)),
                             list(axis))
        with tf.GradientTape() as tape:
            tape.watch(p)
            value = ctf.keras.losses.cosine_similarity(t, p, axis=axis, backend=backend)
        grad = tape.gradient(value, p)
        with tf.GradientTape() as tape:
            tape.watch(p)
            ref = -tf.reduce_sum(tf.nn.l2_normalize(t, list(axis)) *
                                 tf.nn.l2_normalize(p, list(axis)), list(axis))
        np.testing.assert_allclose(value.numpy(), ref.numpy(), **tol(np.float32))
        np.testing.assert_allclose(grad.numpy(), tape.gradient(ref, p).numpy(), **tol(np.float32))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_complex_l2_normalize_is_tensorflows(backend, dtype):
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((4, 3)) + 1j * rng.standard_normal((4, 3))).astype(dtype)
    x[2] = 0
    up = (rng.standard_normal((4, 3)) + 1j * rng.standard_normal((4, 3))).astype(dtype)
    results = []
    for fn in (tf.nn.l2_normalize, lambda v, axis: ctf.nn.l2_normalize(v, axis, backend=backend)):
        xt = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(xt)
            y = fn(xt, axis=1)
        results.append((y.numpy(), tape.gradient(y, xt, output_gradients=tf.constant(up)).numpy()))
    (want, want_grad), (got, got_grad) = results
    assert got.dtype == want.dtype and got_grad.dtype == want_grad.dtype
    rtol = 1e-6 if dtype == np.complex64 else 1e-12
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(got_grad, want_grad, rtol=rtol, atol=rtol * 1e6)


def test_go_backend_reuses_a_result_buffer_only_after_tensorflow_lets_go():
    """The go backend's result buffers are pooled: one TensorFlow still holds is never
    written again, one it has released is reused."""
    from cosloss.tf import _op
    rng = np.random.default_rng(6)
    x = tf.constant(rng.standard_normal((600, 64)).astype(np.float32))  # 150 KB results
    first = ctf.nn.l2_normalize(x, axis=1, backend="go")
    kept = first.numpy().copy()
    other = tf.constant(rng.standard_normal((600, 64)).astype(np.float32))
    second = ctf.nn.l2_normalize(other, axis=1, backend="go")  # while first is alive
    np.testing.assert_array_equal(first.numpy(), kept)
    np.testing.assert_allclose(second.numpy(), tf.nn.l2_normalize(other, 1).numpy(),
                               **tol(np.float32))
    buffers = len(_op._POOL._buffers)
    del first, second
    third = ctf.nn.l2_normalize(-x, axis=1, backend="go")
    np.testing.assert_allclose(third.numpy(), -kept, **tol(np.float32))
    assert len(_op._POOL._buffers) == buffers  # a released buffer was taken again


def test_a_bad_target_is_an_error_in_a_graph_and_nan_under_xla():
    x1 = tf.constant([[1., 0.], [0., 1.]])
    x2 = tf.constant([[1., 1.], [1., 0.]])
    target = tf.constant([1, 2])

    @tf.function
    def graph(t):
        return ctf.torch.cosine_embedding_loss(x1, x2, t, backend="tf")

    with pytest.raises(tf.errors.InvalidArgumentError, match="only 1 and -1"):
        graph(target)
    jitted = tf.function(graph.python_function, jit_compile=True)
    assert np.isnan(jitted(target).numpy())
    np.testing.assert_allclose(jitted(tf.constant([1, -1])).numpy(),
                               ((1 - np.sqrt(0.5)) + 0.0) / 2, rtol=1e-6)
