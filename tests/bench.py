"""`make bench`: cosloss against numpy's floor and reference, side by side.

    python tests/bench.py [--json bench.json] [--quick]

Every case times cosloss and its reference in the same process, alternating
them, and reports the ratio of medians against the issue's target. TensorFlow
and PyTorch are timed when installed. This is a measurement script: pytest
does not collect it, and nothing here asserts a speed.
"""

import argparse
import json
import os
import platform
import statistics
import time
import tracemalloc

import numpy as np

import cosloss
from cosloss import _core


def numpy_reference(y_true, y_pred, axis=-1, eps=1e-12):
    """TF's formula in numpy: normalize each input, multiply, sum, negate."""
    def l2n(v):
        s = np.sum(np.square(v), axis=axis, keepdims=True)
        return v / np.sqrt(np.maximum(s, v.dtype.type(eps)))
    return -np.sum(l2n(y_true) * l2n(y_pred), axis=axis)


def medians(fns, repeat):
    """Median seconds of each function, run alternately after one warm-up."""
    for fn in fns:
        fn()
    times = [[] for _ in fns]
    for _ in range(repeat):
        for t, fn in zip(times, fns):
            start = time.perf_counter()
            fn()
            t.append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


def fill_fresh(*like):
    """What returning fresh gradients costs before any arithmetic."""
    out = [np.empty_like(a) for a in like]
    for o in out:
        o.fill(1)
    return out


def with_workers(n, fn):
    def run():
        previous = cosloss.workers()
        cosloss.set_workers(n)
        try:
            return fn()
        finally:
            cosloss.set_workers(previous)
    return run


def peak_extra_bytes(fn):
    """Peak bytes Python and numpy allocate during fn, beyond what it returns."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    result = fn()
    peak = tracemalloc.get_traced_memory()[1] - before
    tracemalloc.stop()
    return peak, np.asarray(result).nbytes


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", default="bench.json")
    parser.add_argument("--quick", action="store_true", help="smaller arrays, fewer repeats")
    args = parser.parse_args()
    rows, dim = (20_000, 256) if args.quick else (100_000, 256)
    repeat = 5 if args.quick else 21
    rng = np.random.default_rng(0)
    a32 = rng.standard_normal((rows, dim), dtype=np.float32)
    b32 = rng.standard_normal((rows, dim), dtype=np.float32)
    a64, b64 = a32.astype(np.float64), b32.astype(np.float64)
    at, bt = np.ascontiguousarray(a32.T), np.ascontiguousarray(b32.T)
    small_a, small_b = a32[:32, :128].copy(), b32[:32, :128].copy()
    weights = rng.random(rows).astype(np.float32)
    cos = cosloss.keras.losses.cosine_similarity
    one = lambda fn: with_workers(1, fn)
    einsum32 = lambda: np.einsum("ij,ij->i", a32, b32)
    results = []

    def case(name, ours, theirs, reference, target, kind, limit):
        t_ours, t_ref = medians([ours, theirs], repeat)
        ratio = t_ours / t_ref
        met = ratio <= limit if kind == "at most" else 1 / ratio >= limit
        met = None if limit == float("inf") else met
        shown = ratio if kind == "at most" else 1 / ratio
        results.append(dict(case=name, cosloss_ms=t_ours * 1e3, reference=reference,
                            reference_ms=t_ref * 1e3, ratio=shown, target=target, met=met))

    case(f"cosine_similarity {rows}x{dim} f32 axis=-1, 1 worker", one(lambda: cos(a32, b32)), einsum32,
         "np.einsum", "<= 1.2x einsum", "at most", 1.2)
    case(f"cosine_similarity {rows}x{dim} f64 axis=-1, 1 worker", one(lambda: cos(a64, b64)),
         lambda: np.einsum("ij,ij->i", a64, b64), "np.einsum", "<= 1.2x einsum", "at most", 1.2)
    case(f"cosine_similarity {rows}x{dim} f32, {os.cpu_count()} workers vs 1", lambda: cos(a32, b32),
         one(lambda: cos(a32, b32)), "cosloss, 1 worker", ">= 1.6x faster", "at least", 1.6)
    case(f"cosine_similarity {rows}x{dim} f32 vs numpy reference", lambda: cos(a32, b32),
         lambda: numpy_reference(a32, b32), "numpy reference", ">= 15x faster", "at least", 15)
    case(f"cosine_similarity {dim}x{rows} f32 axis=0 vs axis=-1", lambda: cos(at, bt, axis=0),
         lambda: cos(a32, b32), "cosloss axis=-1", "<= 1.5x axis=-1", "at most", 1.5)
    # Timed 100 calls at a time, so the timer's own cost (about 0.1 us a
    # reading) does not count as the call's.
    def hundred(fn, *args):
        def run():
            for _ in range(100):
                fn(*args)
        return run
    small_ours, small_ref = medians([hundred(cos, small_a, small_b),
                                     hundred(numpy_reference, small_a, small_b)], repeat * 20)
    small_ours, small_ref = small_ours / 100, small_ref / 100
    results.append(dict(case="cosine_similarity 32x128 f32, whole call", cosloss_ms=small_ours * 1e3,
                        reference="<= 4 us", reference_ms=None, ratio=small_ours * 1e6,
                        target="<= 4 us", met=small_ours <= 4e-6))
    results.append(dict(case="cosine_similarity 32x128 f32 vs numpy reference", cosloss_ms=small_ours * 1e3,
                        reference="numpy reference", reference_ms=small_ref * 1e3,
                        ratio=small_ref / small_ours, target=">= 3x faster",
                        met=small_ref / small_ours >= 3))
    case(f"value_and_grad(cosine_similarity) {rows}x{dim} f32",
         lambda: cosloss.value_and_grad(cos, a32, b32), einsum32, "np.einsum", "<= 3x einsum",
         "at most", 3)
    # The same with the gradients written into arrays reused across calls, as
    # a training loop would: fresh 100 MB arrays cost page faults and zeroing.
    grad_out = (np.empty_like(a32), np.empty_like(b32))
    case(f"value_and_grad(..., out=reused arrays) {rows}x{dim} f32",
         lambda: cosloss.value_and_grad(cos, a32, b32, out=grad_out), einsum32, "np.einsum",
         "<= 3x einsum", "at most", 3)
    case(f"numpy: allocate and fill two {rows}x{dim} f32 arrays",
         lambda: fill_fresh(a32, b32), einsum32, "np.einsum", "(no target)", "at most", float("inf"))
    unit_a = cosloss.nn.l2_normalize(a32, axis=1)
    unit_b = cosloss.nn.l2_normalize(b32, axis=1)
    case(f"losses.cosine_distance {rows}x{dim} f32", lambda: cosloss.losses.cosine_distance(unit_a, unit_b, axis=1),
         lambda: cos(a32, b32), "cosine_similarity", "<= 1.3x the function", "at most", 1.3)
    loss_obj = cosloss.keras.losses.CosineSimilarity()
    case(f"CosineSimilarity()(..., sample_weight) {rows}x{dim} f32",
         lambda: loss_obj(a32, b32, sample_weight=weights), lambda: cos(a32, b32),
         "cosine_similarity", "<= 1.3x the function", "at most", 1.3)
    peak, out_bytes = peak_extra_bytes(lambda: cos(a32, b32))
    results.append(dict(case=f"extra peak memory, cosine_similarity {rows}x{dim} f32",
                        cosloss_ms=None, reference="output + 1 MiB", reference_ms=None,
                        ratio=peak / 2**20, target=f"<= {out_bytes / 2**20 + 1:.2f} MiB",
                        met=peak <= out_bytes + 2**20))
    results.extend(framework_cases(a32, b32, repeat, cos))

    print(f"cosloss {cosloss.__version__}, kernel set {_core.kernel()}, {cosloss.workers()} workers; "
          f"numpy {np.__version__}; Python {platform.python_version()}; {cpu_name()}")
    print(f"{'case':60s} {'cosloss':>10s} {'reference':>22s} {'ref':>10s} {'ratio':>8s}  target")
    for r in results:
        ours = "" if r["cosloss_ms"] is None else f"{r['cosloss_ms']:.3f} ms"
        ref = "" if r["reference_ms"] is None else f"{r['reference_ms']:.3f} ms"
        print(f"{r['case']:60s} {ours:>10s} {r['reference']:>22s} {ref:>10s} {r['ratio']:8.2f}  "
              f"{r['target']} {'' if r['met'] is None else 'met' if r['met'] else 'MISSED'}")
    with open(args.json, "w") as f:
        json.dump(dict(cpu=cpu_name(), kernel=_core.kernel(), workers=cosloss.workers(),
                       numpy=np.__version__, results=results), f, indent=1)
    print(f"wrote {args.json}")


def framework_cases(a, b, repeat, cos):
    """TensorFlow and PyTorch on the CPU, when installed (cosloss should win)."""
    out = []
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        import tensorflow as tf
    except ImportError:
        tf = None
    if tf is not None:
        ta, tb = tf.constant(a), tf.constant(b)
        graph_fn = tf.function(lambda x, y: tf.keras.losses.cosine_similarity(x, y))
        for name, fn in [("TensorFlow eager", lambda: tf.keras.losses.cosine_similarity(ta, tb).numpy()),
                         ("TensorFlow tf.function", lambda: graph_fn(ta, tb).numpy())]:
            t_ours, t_tf = medians([lambda: cos(a, b), fn], repeat)
            out.append(dict(case=f"cosine_similarity f32 vs {name} {tf.__version__}",
                            cosloss_ms=t_ours * 1e3, reference=name, reference_ms=t_tf * 1e3,
                            ratio=t_tf / t_ours, target="> 1x faster", met=t_tf > t_ours))
        def tape():
            with tf.GradientTape() as t:
                t.watch([ta, tb])
                value = tf.keras.losses.cosine_similarity(ta, tb)
            return value.numpy(), [g.numpy() for g in t.gradient(value, [ta, tb])]
        t_ours, t_tf = medians([lambda: cosloss.value_and_grad(cos, a, b), tape], repeat)
        out.append(dict(case=f"value_and_grad f32 vs TensorFlow eager GradientTape {tf.__version__}",
                        cosloss_ms=t_ours * 1e3, reference="TF GradientTape", reference_ms=t_tf * 1e3,
                        ratio=t_tf / t_ours, target="> 1x faster", met=t_tf > t_ours))
    try:
        import torch
    except Exception as err:  # PyPI's torch build fails to import without CUDA's libraries
        print(f"PyTorch not timed: {type(err).__name__}: {err}")
        torch = None
    if torch is not None:
        pa, pb = torch.from_numpy(a), torch.from_numpy(b)
        t_ours, t_torch = medians([lambda: cos(a, b),
                                   lambda: torch.nn.functional.cosine_similarity(pa, pb).numpy()], repeat)
        out.append(dict(case=f"cosine_similarity f32 vs PyTorch {torch.__version__}", cosloss_ms=t_ours * 1e3,
                        reference="PyTorch", reference_ms=t_torch * 1e3, ratio=t_torch / t_ours,
                        target="> 1x faster", met=t_torch > t_ours))
    return out


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return f"{line.split(':', 1)[1].strip()}, {os.cpu_count()} cores"
    except OSError:
        pass
    return platform.processor() or platform.machine()


if __name__ == "__main__":
    main()
