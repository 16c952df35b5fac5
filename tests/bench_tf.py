"""`make bench`, TensorFlow part: cosloss.tf's ops against TensorFlow's own op chains.

    python tests/bench_tf.py [--json bench.json] [--quick] [--only SUBSTRING]

For each op chain, each size (32x128 and 100000x256 float32), forward and
forward+gradient (with respect to both inputs), in a tf.compat.v1.Session
graph and in a tf.function, three implementations are timed alternately in
one process: TensorFlow's own chain, cosloss.tf with backend="tf" and
cosloss.tf with backend="go". Each row is a ratio of medians against the
issue's targets (tf backend <= 1.1x TensorFlow; go backend <= 1.0x TensorFlow
at 100000x256, its 32x128 ratio only reported).

What a timing includes: the inputs are tf.Variables (Session) or eager
tensors passed to the tf.function, so no feed copies them. The Session
fetches the loss and a 1x1 corner of each gradient (the gradients are
computed in full, as a training step's optimizer would consume them), and
the tf.function returns the loss and both gradients as tensors. Gradients
are not run as targets only (tf.group): grappler prunes stateless ops whose
outputs only control edges consume, so nothing would be computed. Fetching
whole gradients adds a copy to numpy for a tensor TensorFlow does not own
(the go backend's aligned gradients), none for TensorFlow's own. Small cases are timed many calls at a time.

The rows are added to bench.json (those of an earlier run of this script are
replaced). This is a measurement script: pytest does not collect it.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import cosloss  # noqa: E402
import cosloss.tf as ctf  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import cpu_name  # noqa: E402

IMPLS = ("ref", "tf", "go")
SECTION = "tf_ops"
TORCH_EPS = 1e-8


# The op chains: impl "ref" is TensorFlow's own, "tf"/"go" cosloss.tf's backends.
def chain_l2n_cosine_distance(x, y, impl):
    if impl == "ref":
        return tf.compat.v1.losses.cosine_distance(tf.nn.l2_normalize(x, 1),
                                                   tf.nn.l2_normalize(y, 1), axis=1)
    return ctf.losses.cosine_distance(ctf.nn.l2_normalize(x, 1, backend=impl),
                                      ctf.nn.l2_normalize(y, 1, backend=impl), axis=1,
                                      backend=impl)


def chain_keras_cosine_mean(x, y, impl):
    if impl == "ref":
        return tf.reduce_mean(tf.keras.losses.cosine_similarity(x, y, axis=-1))
    return tf.reduce_mean(ctf.keras.losses.cosine_similarity(x, y, axis=-1, backend=impl))


def chain_torch_cosine_mean(x, y, impl):
    if impl == "ref":
        # PyTorch's definition, x·y / (max(‖x‖, eps) · max(‖y‖, eps)), in TF ops.
        dot = tf.reduce_sum(x * y, 1)
        nx = tf.maximum(tf.sqrt(tf.reduce_sum(tf.square(x), 1)), TORCH_EPS)
        ny = tf.maximum(tf.sqrt(tf.reduce_sum(tf.square(y), 1)), TORCH_EPS)
        return tf.reduce_mean(dot / (nx * ny))
    return tf.reduce_mean(ctf.torch.cosine_similarity(x, y, dim=1, backend=impl))


CHAINS = [
    ("l2_normalize->cosine_distance", chain_l2n_cosine_distance),
    ("keras cosine_similarity->mean", chain_keras_cosine_mean),
    ("torch cosine_similarity->mean", chain_torch_cosine_mean),
]


def session_runners(chain, a, b, grad):
    """One callable per implementation, each running its chain in its own Session."""
    runners, sessions = [], []
    for impl in IMPLS:
        graph = tf.Graph()
        with graph.as_default():
            pa = tf.compat.v1.placeholder(tf.float32, a.shape)
            pb = tf.compat.v1.placeholder(tf.float32, b.shape)
            va, vb = tf.Variable(pa), tf.Variable(pb)
            x, y = va.read_value(), vb.read_value()
            loss = chain(x, y, impl)
            # A 1x1 corner of each gradient: fetching whole gradients would add
            # a copy for arrays TensorFlow does not own (a go-backend gradient
            # that wraps numpy memory), which a training step, consuming them
            # in the graph, never makes.
            fetches = [loss] + [g[:1, :1] for g in tf.gradients(loss, [x, y])] if grad else loss
        sess = tf.compat.v1.Session(graph=graph)
        sess.run([va.initializer, vb.initializer], {pa: a, pb: b})
        sessions.append(sess)
        runners.append(lambda s=sess, f=fetches: s.run(f))
    return runners, sessions


def traced(chain, impl, grad, jit=False):
    """The chain (and with grad its gradients) of one implementation as a tf.function."""
    if grad:
        @tf.function(jit_compile=jit)
        def fn(x, y):
            with tf.GradientTape() as tape:
                tape.watch([x, y])
                loss = chain(x, y, impl)
            gx, gy = tape.gradient(loss, [x, y])
            return loss, gx, gy
    else:
        @tf.function(jit_compile=jit)
        def fn(x, y):
            return chain(x, y, impl)
    return fn


def function_runners(chain, a, b, grad):
    """One callable per implementation, each a tf.function called on eager tensors."""
    ta, tb = tf.constant(a), tf.constant(b)
    runners = [lambda fn=traced(chain, impl, grad): fn(ta, tb) for impl in IMPLS]
    return runners, []


def xla_runners(chain, a, b, grad):
    """TensorFlow's chain without and with XLA, and the tf backend with XLA.

    The go backend cannot be compiled (tf.numpy_function has no XLA kernel).
    """
    ta, tb = tf.constant(a), tf.constant(b)
    return [lambda fn=traced(chain, impl, grad, jit): fn(ta, tb)
            for impl, jit in (("ref", False), ("ref", True), ("tf", True))]


def medians(fns, repeat, inner):
    """Median seconds per call of each function, run alternately (inner calls a sample)."""
    for fn in fns:
        for _ in range(min(inner, 3)):
            fn()
    times = [[] for _ in fns]
    for _ in range(repeat):
        for t, fn in zip(times, fns):
            start = time.perf_counter()
            for _ in range(inner):
                fn()
            t.append((time.perf_counter() - start) / inner)
    return [statistics.median(t) for t in times]


def inner_calls(fns, sample_seconds):
    """Calls per sample so that the slowest function's sample takes about sample_seconds."""
    slowest = 0.0
    for fn in fns:
        start = time.perf_counter()
        fn()
        slowest = max(slowest, time.perf_counter() - start)
    return max(1, int(sample_seconds / max(slowest, 1e-7)))


def versions():
    out = {"tensorflow": tf.__version__}
    try:
        import keras
        out["keras"] = keras.__version__
    except ImportError:
        out["keras"] = None
    try:
        import tf_keras
        out["tf_keras"] = tf_keras.__version__
    except ImportError:
        out["tf_keras"] = None
    out["tf.keras is"] = ("Keras 3" if getattr(tf.keras, "__version__", "2").startswith("3")
                          else "tf-keras")
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", default="bench.json")
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--only", default="", help="run only cases whose name contains this")
    args = parser.parse_args()
    repeat_big, repeat_small = (5, 7) if args.quick else (9, 15)
    sample_small = 0.002 if args.quick else 0.004
    rng = np.random.default_rng(0)
    sizes = [(32, 128), (100_000, 256)]
    data = {}
    for rows, dim in sizes:
        data[rows, dim] = (rng.standard_normal((rows, dim), dtype=np.float32),
                           rng.standard_normal((rows, dim), dtype=np.float32))
    started = time.perf_counter()
    results = []
    for chain_name, chain in CHAINS:
        for mode, make in (("Session", session_runners), ("tf.function", function_runners)):
            for rows, dim in sizes:
                for grad in (False, True):
                    big = rows * dim >= 1 << 20
                    what = "fwd+grad" if grad else "fwd"
                    base = f"{chain_name} {mode} {rows}x{dim} {what}"
                    if args.only and args.only not in base:
                        continue
                    a, b = data[rows, dim]
                    runners, sessions = make(chain, a, b, grad)
                    inner = 1 if big else inner_calls(runners, sample_small)
                    t_ref, t_tf, t_go = medians(runners, repeat_big if big else repeat_small, inner)
                    for sess in sessions:
                        sess.close()
                    for impl, t in (("tf", t_tf), ("go", t_go)):
                        if impl == "tf":
                            target, limit = "<= 1.1x TF", 1.1
                        elif big:
                            target, limit = "<= 1.0x TF", 1.0
                        else:
                            target, limit = "(reported)", None
                        ratio = t / t_ref
                        results.append(dict(
                            section=SECTION, case=f"{base} backend={impl}", cosloss_ms=t * 1e3,
                            reference=f"TF {mode}", reference_ms=t_ref * 1e3, ratio=ratio,
                            target=target, met=None if limit is None else ratio <= limit))
    # Under XLA (tf.function(jit_compile=True)), at the large size only.
    rows, dim = sizes[-1]
    for chain_name, chain in CHAINS:
        for grad in (False, True):
            base = f"{chain_name} jit_compile {rows}x{dim} {'fwd+grad' if grad else 'fwd'}"
            if args.only and args.only not in base:
                continue
            t_ref, t_ref_jit, t_tf_jit = medians(xla_runners(chain, *data[rows, dim], grad),
                                                 repeat_big, 1)
            for reference, t_r in (("TF tf.function", t_ref), ("TF jit_compile", t_ref_jit)):
                results.append(dict(
                    section=SECTION, case=f"{base} backend=tf", cosloss_ms=t_tf_jit * 1e3,
                    reference=reference, reference_ms=t_r * 1e3, ratio=t_tf_jit / t_r,
                    target="(reported)", met=None))
    elapsed = time.perf_counter() - started

    info = versions()
    print(f"cosloss {cosloss.__version__}, kernel set {cosloss._core.kernel()}, "
          f"{cosloss.workers()} workers; TensorFlow {info['tensorflow']}, Keras {info['keras']}, "
          f"tf-keras {info['tf_keras']} (tf.keras is {info['tf.keras is']}); numpy {np.__version__}; "
          f"Python {platform.python_version()}; {cpu_name()}; {elapsed:.0f} s")
    print(f"{'case':76s} {'cosloss':>10s} {'reference':>15s} {'ref':>10s} {'ratio':>6s}  target")
    for r in results:
        print(f"{r['case']:76s} {r['cosloss_ms']:7.3f} ms {r['reference']:>15s} "
              f"{r['reference_ms']:7.3f} ms {r['ratio']:6.2f}  {r['target']} "
              f"{'' if r['met'] is None else 'met' if r['met'] else 'MISSED'}")
    if args.json:
        try:
            with open(args.json) as f:
                doc = json.load(f)
        except (OSError, ValueError):
            doc = {"cpu": cpu_name(), "results": []}
        doc["results"] = [r for r in doc.get("results", []) if r.get("section") != SECTION]
        doc["results"].extend(results)
        doc["tf_ops"] = dict(info, cpu=cpu_name(), kernel=cosloss._core.kernel(),
                             workers=cosloss.workers(), seconds=elapsed)
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=1)
        print(f"added {len(results)} rows to {args.json}")


if __name__ == "__main__":
    main()
