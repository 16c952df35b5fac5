"""`make bench`: cosloss against numpy's floor and its peers, side by side.

    python tests/bench.py [--json bench.json] [--quick] [--only SUBSTRING]

First the row-wise cases of issue 12 (float32 unless named, axis=-1): in each,
cosloss `keras.losses.cosine_similarity` (which returns -cos) under every
kernel set `cosloss._core.kernels()` lists, the floor `np.einsum("ij,ij->i")`
and each peer that imports are timed alternately in one process (medians of
interleaved runs, after one warm-up call each). The peers:

- numpy: the formula with three einsums, -a.b / sqrt(max(|a|^2 |b|^2, eps));
- JAX: TensorFlow's formula (l2-normalize, multiply, sum, negate) under
  jax.jit; each call runs `.block_until_ready()` and `np.asarray` of the
  result, so it ends as cosloss's does, with the values in a numpy array;
- PyTorch on the CPU: `torch.nn.functional.cosine_similarity` with
  `torch.set_num_threads(1)` (+cos: its sign is not flipped);
- TensorFlow: `tf.keras.losses.cosine_similarity` in a tf.function (and
  eager at 32x128), ending with `.numpy()`.

The inputs are converted for each peer (`jnp.asarray`, `torch.from_numpy`,
`tf.constant`) before timing. JAX and TensorFlow run with their default
threads (they may use every core); cosloss runs with 1 worker where the case
says so, as in the issue. Each case prints cosloss's ratio to the floor and
to the fastest peer, with the issue's targets marked met or MISSED, then each
kernel set's ratio to the portable one (target: never slower; MISSED above
1.05, the noise allowance). The kernel set chosen at start-up is restored.

Then the older cases (2 workers against 1, axis=0, value_and_grad,
cosine_distance, CosineSimilarity with sample_weight, peak memory, and
TensorFlow's GradientTape), each against its reference.

This is a measurement script: pytest does not collect it, and nothing here
asserts a speed. On a shared machine read the load average in the header.
"""

import argparse
import gc
import json
import os
import platform
import statistics
import time
import tracemalloc

import numpy as np

import cosloss
from cosloss import _core

EPS = 1e-12
MISS_NOISE = 1.05   # a kernel set slower than portable by more than this: MISSED


def numpy_reference(y_true, y_pred, axis=-1, eps=EPS):
    """TF's formula in numpy: normalize each input, multiply, sum, negate."""
    def l2n(v):
        s = np.sum(np.square(v), axis=axis, keepdims=True)
        return v / np.sqrt(np.maximum(s, v.dtype.type(eps)))
    return -np.sum(l2n(y_true) * l2n(y_pred), axis=axis)


def numpy_three_einsums(a, b):
    """-cos with three einsums: numpy's fastest formula for rows."""
    dot = np.einsum("ij,ij->i", a, b)
    aa = np.einsum("ij,ij->i", a, a)
    bb = np.einsum("ij,ij->i", b, b)
    return -dot / np.sqrt(np.maximum(aa * bb, a.dtype.type(EPS)))


def medians(fns, repeat):
    """Median seconds of each function, run alternately after one warm-up.

    The order rotates from round to round, so that each function follows
    every other equally often: TensorFlow's and JAX's thread pools keep
    spinning on the cores for a while after a call, and whatever runs next
    pays for it (always first after them, cosloss's 32x128 call measured
    12 us against 4.3 us alone).
    """
    fns = [fn if isinstance(fn, Prepared) else Prepared(None, fn) for fn in fns]
    for fn in fns:
        fn.run()
    times = [[] for _ in fns]
    for r in range(repeat):
        for i in range(len(fns)):
            k = (i + r) % len(fns)
            fns[k].prepare()
            start = time.perf_counter()
            fns[k].fn()
            times[k].append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


class Prepared:
    """A function to time and an untimed step to run before each timing
    (selecting its kernel set, say)."""

    def __init__(self, setup, fn):
        self.setup, self.fn = setup, fn

    def prepare(self):
        if self.setup is not None:
            self.setup()

    def run(self):
        self.prepare()
        return self.fn()


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


def with_kernel(name, fn):
    """fn under kernel set `name`, selected before each timing (untimed:
    it costs about 2 us, half a small call)."""
    return Prepared(lambda: _core.set_kernel(name), fn)


def hundred(fn):
    """100 calls at a time, so the timer's own cost (about 0.1 us a reading)
    does not count as the call's; medians of it are divided by 100."""
    def run():
        for _ in range(100):
            fn()
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


def show_time(seconds):
    if seconds is None:
        return "-"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def mark(met):
    return "" if met is None else "met" if met else "MISSED"


# ---------------------------------------------------------------- peers

def load_peers():
    """The peers' modules that import, and why each other one is not timed."""
    mods, missing = {}, []
    # Before the first of them loads absl's logging: no C++ info lines.
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("JAX_PLATFORMS", "cpu")   # the comparison is on the CPU
    try:
        import jax
        jax.config.update("jax_enable_x64", True)   # else jnp.asarray makes float64 float32
        import jax.numpy as jnp
        mods["jax"] = (jax, jnp)
    except Exception as err:
        missing.append(f"JAX not timed: {type(err).__name__}: {err}")
    try:
        import torch
        torch.set_num_threads(1)
        mods["torch"] = torch
    except Exception as err:  # PyPI's torch fails to import without its nvidia-* wheels
        missing.append(f"PyTorch not timed: {type(err).__name__}: {err}")
    try:
        import tensorflow as tf
        tf.get_logger().setLevel("ERROR")   # tf.function retraces once per shape and dtype
        mods["tf"] = tf
    except Exception as err:
        missing.append(f"TensorFlow not timed: {type(err).__name__}: {err}")
    return mods, missing


def peer_functions(mods, a, b, small):
    """name -> (call, sign of its value relative to cosloss's -cos), inputs converted here."""
    out = {"numpy 3 einsums": (lambda: numpy_three_einsums(a, b), 1)}
    if "jax" in mods:
        jax, jnp = mods["jax"]
        ja, jb = jnp.asarray(a), jnp.asarray(b)
        jax.block_until_ready((ja, jb))
        fn = jax_cosine(mods)
        out["JAX jit"] = (lambda: np.asarray(fn(ja, jb).block_until_ready()), 1)
    if "torch" in mods:
        torch = mods["torch"]
        pa, pb = torch.from_numpy(a), torch.from_numpy(b)
        cos = torch.nn.functional.cosine_similarity
        out["torch 1 thread"] = (lambda: cos(pa, pb, dim=-1).numpy(), -1)
    if "tf" in mods:
        tf = mods["tf"]
        ta, tb = tf.constant(a), tf.constant(b)
        graph = tf_function(mods)
        out["TF tf.function"] = (lambda: graph(ta, tb).numpy(), 1)
        if small:
            out["TF eager"] = (lambda: tf.keras.losses.cosine_similarity(ta, tb).numpy(), 1)
    return out


_jitted = {}


def jax_cosine(mods):
    if "jax" not in _jitted:
        jax, jnp = mods["jax"]

        def cos(x, y):
            def l2n(v):
                return v / jnp.sqrt(jnp.maximum(jnp.sum(v * v, axis=-1, keepdims=True), EPS))
            return -jnp.sum(l2n(x) * l2n(y), axis=-1)
        _jitted["jax"] = jax.jit(cos)
    return _jitted["jax"]


def tf_function(mods):
    if "tf" not in _jitted:
        tf = mods["tf"]
        _jitted["tf"] = tf.function(lambda x, y: tf.keras.losses.cosine_similarity(x, y))
    return _jitted["tf"]


def peer_cases(quick):
    """(name, rows, dim, dtype, cosloss workers or None, whole call, floor target, repeat)."""
    s = 5 if quick else 1   # --quick divides the big cases' rows by this
    big, mid, small = (5, 60, 40) if quick else (11, 200, 300)
    f32, f64 = np.float32, np.float64
    return [
        ("32x128 f32, whole call", 32, 128, f32, None, True, None, small),
        ("1024x256 f32, 1 worker", 1024, 256, f32, 1, False, None, mid),
        (f"{100_000 // s}x256 f32, 1 worker", 100_000 // s, 256, f32, 1, False, 1.1, big),
        (f"{100_000 // s}x256 f64, 1 worker", 100_000 // s, 256, f64, 1, False, 1.1, big),
        (f"{1_000_000 // s}x64 f32, 1 worker", 1_000_000 // s, 64, f32, 1, False, 1.5, big),
        (f"{312_500 // s}x8 f32, 1 worker", 312_500 // s, 8, f32, 1, False, 1.5, big),
        (f"{100_000 // s}x257 f32, 1 worker", 100_000 // s, 257, f32, 1, False, None, big),
        (f"{10_000 // s}x4096 f32, 1 worker", 10_000 // s, 4096, f32, 1, False, 1.1, big),
        (f"{10_000 // s}x4096 f64, 1 worker", 10_000 // s, 4096, f64, 1, False, 1.1, big),
    ]


def check_values(name, got, want, dtype):
    """Print a note when a peer's values disagree with cosloss's (a wrong
    comparison would be worse than none)."""
    got = np.asarray(got, dtype=np.float64)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    if got.shape != want.shape or not np.allclose(got, want, rtol=tol, atol=tol):
        diff = np.max(np.abs(got - want)) if got.shape == want.shape else f"shape {got.shape}"
        print(f"  note: {name}'s values differ from cosloss's (max |diff| {diff})")


def run_peer_case(case, mods, start_kernel, sets, rng):
    name, rows, dim, dtype, workers, whole_call, floor_limit, repeat = case
    a = rng.standard_normal((rows, dim), dtype=np.float32).astype(dtype, copy=False)
    b = rng.standard_normal((rows, dim), dtype=np.float32).astype(dtype, copy=False)
    cos = cosloss.keras.losses.cosine_similarity
    call = lambda: cos(a, b)
    if workers is not None:
        call = with_workers(workers, call)
    peers = peer_functions(mods, a, b, whole_call)
    floor = lambda: np.einsum("ij,ij->i", a, b)

    _core.set_kernel(start_kernel)
    want = np.asarray(call(), dtype=np.float64)
    for peer, (fn, sign) in peers.items():
        check_values(peer, sign * np.asarray(fn(), dtype=np.float64), want, dtype)

    # One interleaved run: cosloss under the start-up set first, the other
    # sets, the floor, the peers.
    order = [start_kernel] + [k for k in sets if k != start_kernel]
    fns = [with_kernel(k, call) for k in order] + [floor] + [fn for fn, _ in peers.values()]
    if whole_call:
        fns = [Prepared(fn.setup, hundred(fn.fn)) if isinstance(fn, Prepared) else hundred(fn)
               for fn in fns]
    try:
        times = medians(fns, repeat)
    finally:
        _core.set_kernel(start_kernel)
    if whole_call:
        times = [t / 100 for t in times]
    by_set = dict(zip(order, times[:len(order)]))
    t_ours, t_floor = by_set[start_kernel], times[len(order)]
    t_peers = dict(zip(peers, times[len(order) + 1:]))
    fastest = min(t_peers, key=t_peers.get)

    targets = []
    if floor_limit is not None:
        targets.append((f"<= {floor_limit}x floor", t_ours / t_floor <= floor_limit))
    targets.append(("< fastest peer", t_ours < t_peers[fastest]))
    if whole_call:
        if "torch 1 thread" in t_peers:
            targets.append(("<= torch 1 thread", t_ours <= t_peers["torch 1 thread"]))
        targets.append(("<= 4 us", t_ours <= 4e-6))
    row = dict(section="peers", case=name, rows=rows, dim=dim, dtype=np.dtype(dtype).name,
               workers=workers or cosloss.workers(), whole_call=whole_call, kernel=start_kernel,
               cosloss_ms=t_ours * 1e3, floor="np.einsum", floor_ms=t_floor * 1e3,
               peers_ms={k: v * 1e3 for k, v in t_peers.items()}, fastest_peer=fastest,
               ratio_floor=t_ours / t_floor, ratio_peer=t_ours / t_peers[fastest],
               targets=[dict(target=t, met=m) for t, m in targets],
               met=all(m for _, m in targets))
    set_rows = []
    if "portable" in by_set:
        for k in order:
            if k == "portable":
                continue
            ratio = by_set[k] / by_set["portable"]
            set_rows.append(dict(section="kernel_sets", case=name, kernel=k,
                                 cosloss_ms=by_set[k] * 1e3, reference="portable",
                                 reference_ms=by_set["portable"] * 1e3, ratio=ratio,
                                 target=f"never slower (<= {MISS_NOISE})", met=ratio <= MISS_NOISE))
    return row, set_rows


def print_peer_tables(rows, set_rows, peer_names):
    if not rows:
        return
    width = max(len(r["case"]) for r in rows) + 2
    print()
    print("Row-wise cases: medians, all timed alternately in this process "
          f"(cosloss under the start-up kernel set {rows[0]['kernel']})")
    cols = ["cosloss", "np.einsum"] + peer_names
    print(f"{'case':{width}s}" + "".join(f"{c:>17s}" for c in cols))
    for r in rows:
        cells = [r["cosloss_ms"], r["floor_ms"]] + [r["peers_ms"].get(p) for p in peer_names]
        print(f"{r['case']:{width}s}" + "".join(
            f"{show_time(None if c is None else c / 1e3):>17s}" for c in cells))
    print()
    print(f"{'case':{width}s}{'/floor':>8s}  {'fastest peer':17s}{'/peer':>7s}  targets")
    for r in rows:
        targets = "; ".join(f"{t['target']} {mark(t['met'])}" for t in r["targets"])
        print(f"{r['case']:{width}s}{r['ratio_floor']:8.2f}  {r['fastest_peer']:17s}"
              f"{r['ratio_peer']:7.2f}  {targets}")
    if set_rows:
        print()
        print("Kernel sets against portable, same runs")
        print(f"{'case':{width}s}{'set':>8s}{'set':>12s}{'portable':>12s}{'ratio':>8s}  target")
        for r in set_rows:
            print(f"{r['case']:{width}s}{r['kernel']:>8s}{show_time(r['cosloss_ms'] / 1e3):>12s}"
                  f"{show_time(r['reference_ms'] / 1e3):>12s}{r['ratio']:8.2f}  "
                  f"{r['target']} {mark(r['met'])}")


# ---------------------------------------------------------------- the older cases

def other_cases(quick, only, mods, rng):
    """2 workers vs 1, axis=0, value_and_grad, cosine_distance, sample_weight,
    peak memory, GradientTape: each against its reference, at rows x 256."""
    rows, dim = (20_000, 256) if quick else (100_000, 256)
    repeat = 5 if quick else 21
    workers = cosloss.workers()
    cos = cosloss.keras.losses.cosine_similarity
    one = lambda fn: with_workers(1, fn)
    specs = []   # (name, builder returning (ours, theirs, reference, target, kind, limit))

    def timed(name, build):
        specs.append((name, build))

    timed(f"cosine_similarity {rows}x{dim} f32, {workers} workers vs 1",
          lambda d: (lambda: cos(d.a, d.b), one(lambda: cos(d.a, d.b)),
                     "cosloss, 1 worker", ">= 1.6x faster", "at least", 1.6))
    timed(f"cosine_similarity {dim}x{rows} f32 axis=0 vs axis=-1",
          lambda d: (lambda: cos(d.at, d.bt, axis=0), lambda: cos(d.a, d.b),
                     "cosloss axis=-1", "<= 1.5x axis=-1", "at most", 1.5))
    timed(f"value_and_grad(cosine_similarity) {rows}x{dim} f32",
          lambda d: (lambda: cosloss.value_and_grad(cos, d.a, d.b), d.einsum,
                     "np.einsum", "<= 3x einsum", "at most", 3))
    # The gradients written into arrays reused across calls, as a training
    # loop would: fresh 100 MB arrays cost page faults and zeroing.
    timed(f"value_and_grad(..., out=reused arrays) {rows}x{dim} f32",
          lambda d: (lambda: cosloss.value_and_grad(cos, d.a, d.b, out=d.grad_out), d.einsum,
                     "np.einsum", "<= 2x einsum", "at most", 2))
    timed(f"numpy: allocate and fill two {rows}x{dim} f32 arrays",
          lambda d: (lambda: fill_fresh(d.a, d.b), d.einsum, "np.einsum", "(no target)",
                     "at most", None))
    timed(f"losses.cosine_distance {rows}x{dim} f32",
          lambda d: (lambda: cosloss.losses.cosine_distance(d.unit_a, d.unit_b, axis=1),
                     lambda: cos(d.a, d.b), "cosine_similarity", "<= 1.3x the function",
                     "at most", 1.3))
    loss_obj = cosloss.keras.losses.CosineSimilarity()
    timed(f"CosineSimilarity()(..., sample_weight) {rows}x{dim} f32",
          lambda d: (lambda: loss_obj(d.a, d.b, sample_weight=d.weights), lambda: cos(d.a, d.b),
                     "cosine_similarity", "<= 1.3x the function", "at most", 1.3))
    if "tf" in mods:
        tf = mods["tf"]

        def tape_case(d):
            ta, tb = tf.constant(d.a), tf.constant(d.b)

            def tape():
                with tf.GradientTape() as t:
                    t.watch([ta, tb])
                    value = tf.keras.losses.cosine_similarity(ta, tb)
                return value.numpy(), [g.numpy() for g in t.gradient(value, [ta, tb])]
            return (lambda: cosloss.value_and_grad(cos, d.a, d.b), tape, "TF GradientTape",
                    "faster", "at least", 1.0)
        timed(f"value_and_grad {rows}x{dim} f32 vs TensorFlow eager GradientTape", tape_case)
    memory_name = f"extra peak memory, cosine_similarity {rows}x{dim} f32"

    specs = [(n, b) for n, b in specs if only in n]
    want_memory = only in memory_name
    if not specs and not want_memory:
        return []

    class Data:
        pass
    d = Data()
    d.a = rng.standard_normal((rows, dim), dtype=np.float32)
    d.b = rng.standard_normal((rows, dim), dtype=np.float32)
    d.at, d.bt = np.ascontiguousarray(d.a.T), np.ascontiguousarray(d.b.T)
    d.weights = rng.random(rows).astype(np.float32)
    d.grad_out = (np.empty_like(d.a), np.empty_like(d.b))
    d.unit_a = cosloss.nn.l2_normalize(d.a, axis=1)
    d.unit_b = cosloss.nn.l2_normalize(d.b, axis=1)
    d.einsum = lambda: np.einsum("ij,ij->i", d.a, d.b)

    results = []
    for name, build in specs:
        ours, theirs, reference, target, kind, limit = build(d)
        t_ours, t_ref = medians([ours, theirs], repeat)
        ratio = t_ours / t_ref
        shown = ratio if kind == "at most" else 1 / ratio
        met = None if limit is None else ratio <= limit if kind == "at most" else shown >= limit
        results.append(dict(section="cases", case=name, cosloss_ms=t_ours * 1e3,
                            reference=reference, reference_ms=t_ref * 1e3, ratio=shown,
                            target=target, met=met))
    if want_memory:
        peak, out_bytes = peak_extra_bytes(lambda: cos(d.a, d.b))
        results.append(dict(section="cases", case=memory_name, cosloss_ms=None,
                            reference="output + 1 MiB", reference_ms=None, ratio=peak / 2**20,
                            target=f"<= {out_bytes / 2**20 + 1:.2f} MiB (ratio: MiB)",
                            met=peak <= out_bytes + 2**20))
    return results


def print_other_table(results):
    if not results:
        return
    print()
    print("Other cases (ratio: cosloss/reference for 'at most' targets, reference/cosloss "
          "for 'faster' ones)")
    print(f"{'case':66s} {'cosloss':>10s} {'reference':>18s} {'ref':>10s} {'ratio':>7s}  target")
    for r in results:
        ours = "" if r["cosloss_ms"] is None else show_time(r["cosloss_ms"] / 1e3)
        ref = "" if r["reference_ms"] is None else show_time(r["reference_ms"] / 1e3)
        print(f"{r['case']:66s} {ours:>10s} {r['reference']:>18s} {ref:>10s} {r['ratio']:7.2f}  "
              f"{r['target']} {mark(r['met'])}")


# ---------------------------------------------------------------- main

def versions(mods):
    out = {"cosloss": cosloss.__version__, "numpy": np.__version__,
           "python": platform.python_version()}
    out["torch"] = mods["torch"].__version__ if "torch" in mods else None
    out["jax"] = mods["jax"][0].__version__ if "jax" in mods else None
    out["tensorflow"] = mods["tf"].__version__ if "tf" in mods else None
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", default="bench.json")
    parser.add_argument("--quick", action="store_true", help="smaller arrays, fewer repeats")
    parser.add_argument("--only", default="", help="run only cases whose name contains this")
    args = parser.parse_args()
    started = time.perf_counter()
    start_kernel = _core.kernel()   # before any set_kernel: what start-up chose
    sets = list(_core.kernels())
    mods, missing = load_peers()
    info = versions(mods)
    load_start = os.getloadavg()
    print(f"{cpu_name()}; kernel set at start-up {start_kernel}, available {', '.join(sets)}; "
          f"{cosloss.workers()} workers")
    print(f"cosloss {info['cosloss']}, numpy {info['numpy']}, torch {info['torch']}, "
          f"jax {info['jax']}, tensorflow {info['tensorflow']}, Python {info['python']}; "
          f"load average {load_start[0]:.2f} {load_start[1]:.2f} {load_start[2]:.2f}"
          f"{'; --quick: fewer rows, the targets are those of the full sizes' if args.quick else ''}")
    for line in missing:
        print(line)

    rng = np.random.default_rng(0)
    peer_rows, set_rows = [], []
    try:
        for case in peer_cases(args.quick):
            if args.only not in case[0]:
                continue
            row, sets_of_case = run_peer_case(case, mods, start_kernel, sets, rng)
            peer_rows.append(row)
            set_rows.extend(sets_of_case)
            gc.collect()   # the big inputs and their peers' copies go before the next case
    finally:
        _core.set_kernel(start_kernel)
    peer_names = []
    for r in peer_rows:
        peer_names += [p for p in r["peers_ms"] if p not in peer_names]
    print_peer_tables(peer_rows, set_rows, peer_names)

    others = other_cases(args.quick, args.only, mods, rng)
    print_other_table(others)

    elapsed = time.perf_counter() - started
    load_end = os.getloadavg()
    print(f"\n{elapsed:.0f} s; load average at the end {load_end[0]:.2f} {load_end[1]:.2f} "
          f"{load_end[2]:.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(cpu=cpu_name(), kernel=start_kernel, kernels=sets,
                           workers=cosloss.workers(), versions=info, numpy=np.__version__,
                           loadavg_start=load_start, loadavg_end=load_end, quick=args.quick,
                           seconds=elapsed, not_timed=missing,
                           results=peer_rows + set_rows + others), f, indent=1)
        print(f"wrote {args.json}")


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
