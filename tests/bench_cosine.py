"""Times cosloss against numpy on the issue's reference case, side by side.

    python tests/bench_cosine.py [rows] [dim]

Prints medians of repeated runs in one process, and the ratios. This is a
measurement script, not a test: pytest does not collect it.
"""

import platform
import statistics
import sys
import time

import numpy as np

import cosloss


def numpy_reference(y_true, y_pred, axis=-1, eps=1e-12):
    """TF's formula in numpy: normalize each input, multiply, sum, negate."""
    def l2n(v):
        s = np.sum(np.square(v), axis=axis, keepdims=True)
        return v / np.sqrt(np.maximum(s, v.dtype.type(eps)))
    return -np.sum(l2n(y_true) * l2n(y_pred), axis=axis)


def median_seconds(fn, repeat=15):
    fn()  # warm up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    dim = int(sys.argv[2]) if len(sys.argv) > 2 else 256
    rng = np.random.default_rng(0)
    a = rng.standard_normal((rows, dim), dtype=np.float32)
    b = rng.standard_normal((rows, dim), dtype=np.float32)
    ours = cosloss.keras.losses.cosine_similarity(a, b)
    ref = numpy_reference(a, b)
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-6)
    cases = {
        "cosloss.keras.losses.cosine_similarity": lambda: cosloss.keras.losses.cosine_similarity(a, b),
        "numpy reference (normalize, multiply, sum)": lambda: numpy_reference(a, b),
        "np.einsum('ij,ij->i') (one pass, the floor)": lambda: np.einsum("ij,ij->i", a, b),
    }
    print(f"{rows}x{dim} float32, axis=-1; numpy {np.__version__}, Python {platform.python_version()}, "
          f"{platform.machine()}")
    times = {name: median_seconds(fn) for name, fn in cases.items()}
    base = times["cosloss.keras.losses.cosine_similarity"]
    for name, t in times.items():
        print(f"  {name:48s} {t * 1e3:9.2f} ms   {t / base:6.2f}x cosloss's time")
    grads = {"cosloss.value_and_grad(keras.losses.cosine_similarity)":
             lambda: cosloss.value_and_grad(cosloss.keras.losses.cosine_similarity, a, b)}
    tape = tensorflow_tape(a, b)
    if tape is not None:
        grads["TensorFlow eager GradientTape(tf.keras.losses.cosine_similarity)"] = tape
    times = {name: median_seconds(fn, repeat=7) for name, fn in grads.items()}
    base = times["cosloss.value_and_grad(keras.losses.cosine_similarity)"]
    for name, t in times.items():
        print(f"  {name:66s} {t * 1e3:9.2f} ms   {t / base:6.2f}x cosloss's time")


def tensorflow_tape(a, b):
    """TensorFlow's value and gradients of the same loss, or None without TF."""
    import os
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        import tensorflow as tf
    except ImportError:
        return None
    ta, tb = tf.constant(a), tf.constant(b)

    def run():
        with tf.GradientTape() as tape:
            tape.watch([ta, tb])
            value = tf.keras.losses.cosine_similarity(ta, tb)
        grads = tape.gradient(value, [ta, tb])
        return value.numpy(), [g.numpy() for g in grads]
    print(f"  TensorFlow {tf.__version__}")
    return run


if __name__ == "__main__":
    main()
