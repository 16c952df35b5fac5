"""`make bench`, embeddings part: issue 13's all-pairs, top-k and contrastive cases.

    python tests/bench_embed.py [--json bench.json] [--quick] [--only SUBSTRING]

Every figure is a ratio of medians of runs timed alternately in this process,
the order rotating from round to round (bench.py's `medians`; here the number
of rounds is cut to fit a time budget after the warm-up call, as one top-k
call takes seconds). Every implementation runs on the same number of threads:
cosloss's workers (`cosloss.workers()`), OpenBLAS's (numpy's, and the one
faiss-cpu bundles, both set with threadpoolctl), PyTorch's
(`torch.set_num_threads`) and faiss's OpenMP pool (`faiss.omp_set_num_threads`).
The header names the CPU, each library's version and thread count, and each
OpenBLAS's kernel architecture.

The cases (float32, d=256), each against the issue's targets:

- `cosloss.pairwise.cosine_similarity`, 4096x256 against 4096x256, against
  numpy's `normalize(x) @ normalize(y).T` with normalize(x) = x /
  np.linalg.norm(x, axis=1, keepdims=True) (OpenBLAS's sgemm): at most 1.25x.
  Both are also given in GFLOP/s (2·n·m·d floating-point operations).
- `cosloss.pairwise.top_k`, 4096 queries against a 100000x256 corpus, k=10,
  against (a) numpy blocked: normalize both, then for each block of 256 queries
  one matmul against the whole corpus, np.argpartition for the k largest and
  an argsort of those k (what numpy users write; the corpus normalized in the
  timed call, as cosloss does it): faster; and (b) faiss `IndexFlatIP` on
  pre-normalized vectors (the index built and the queries normalized outside
  the timed call, so faiss times only its search): at most 1.5x.
- `cosloss.value_and_grad(cosloss.contrastive.multiple_negatives_ranking_loss,
  a, p)`, B=8192: value and both gradients, against one numpy `a @ p.T`
  (at most 4x) and against PyTorch's CPU autograd of sentence-transformers'
  formula, F.normalize, scores = 20·a_n @ p_n.T, F.cross_entropy(scores,
  arange(B)), then torch.autograd.grad for both inputs (faster).
- Extra memory of that call, beyond its inputs and gradients, in a fresh
  subprocess each (so that nothing earlier in this process counts): the inputs
  and cosloss's `out=` gradient arrays allocated and written, one small call to
  start each library's threads, then the peak resident set (VmHWM, reset to the
  current RSS through /proc/self/clear_refs just before the call) minus the RSS
  before it; ru_maxrss's growth across the call is shown beside it (it
  misses a peak below an earlier one, the imports' say), and the peak of the
  allocations numpy and Python make during the call (tracemalloc). PyTorch
  allocates its gradients during the call: their bytes are subtracted. Target
  for cosloss: at most 64 MiB.
- B=65536, cosloss only, in a subprocess: value and gradients run, time
  printed, extra memory at most 64 MiB (PyTorch's formula is not run: one
  65536x65536 float32 score matrix is 16 GiB, and it keeps several).

--quick runs smaller problems (2048 all-pairs rows, 1024 queries against 20000,
B=2048 for the timing and 16384 for the large-batch memory case) and fewer
rounds; the targets stay those of the full sizes. The rows are added to
bench.json under section "embeddings" (those of an earlier run replaced).
This is a measurement script: pytest does not collect it.
"""

import argparse
import gc
import json
import os
import platform
import subprocess
import sys
import textwrap
import time

import numpy as np

import cosloss
from cosloss import _core

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import cpu_name, mark, show_time  # noqa: E402

SECTION = "embeddings"
MIB = 2**20
MEMORY_LIMIT = 64 * MIB
SCALE = 20.0   # MultipleNegativesRankingLoss's default


# ---------------------------------------------------------------- timing

# Seconds each timed call waits for the previous one's threads to go idle.
SETTLE = 0.3


def timed(fn):
    """fn's result and its seconds (a checked call doubles as the warm-up)."""
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def medians_within(fns, repeat, budget, minimum=3, warm=None):
    """bench.medians with the rounds cut to fit a budget: one warm-up call each
    (timed, to size the budget; `warm` gives their seconds when the caller
    has made them, checking the results), then up to `repeat` rounds (at
    least `minimum`), every round calling each function once, the order
    rotating so that each follows every other equally often. Returns the
    medians and the number of rounds."""
    if warm is None:
        warm = [timed(fn)[1] for fn in fns]
    rounds = max(minimum, min(repeat, int(budget / max(sum(warm), 1e-9))))
    times = [[] for _ in fns]
    for r in range(rounds):
        for i in range(len(fns)):
            k = (i + r) % len(fns)
            # Each call starts on idle cores: OpenBLAS's and OpenMP's worker
            # threads spin after a call (OpenBLAS for about 0.1 s), and one
            # spinning on the other core made the next call of whatever ran
            # after numpy 1.4-1.9x slower (pairwise 4096x256: 91-116 ms after
            # numpy, 58-68 ms after a pause).
            time.sleep(SETTLE)
            start = time.perf_counter()
            fns[k]()
            times[k].append(time.perf_counter() - start)
    return [float(np.median(t)) for t in times], rounds


def row(case, ours, reference, t_ref, target, kind, limit, **extra):
    """A result row: ratio cosloss/reference for 'at most' targets,
    reference/cosloss for 'faster' ones (bench.py's convention)."""
    ratio = ours / t_ref
    shown = ratio if kind == "at most" else 1 / ratio
    met = ratio <= limit if kind == "at most" else shown >= limit
    return dict(section=SECTION, case=case, cosloss_ms=ours * 1e3, reference=reference,
                reference_ms=t_ref * 1e3, ratio=shown, target=target, met=met, **extra)


def note(msg):
    print(f"  note: {msg}", flush=True)


# ---------------------------------------------------------------- the numpy formulas

def normalize(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def numpy_cosine(x, y):
    return normalize(x) @ normalize(y).T


def numpy_top_k(queries, corpus, k, block=256):
    """Blocked exact top-k by cosine: what numpy users write."""
    q, c = normalize(queries), normalize(corpus)
    k = min(k, len(c))
    values = np.empty((len(q), k), np.result_type(q, c))
    indices = np.empty((len(q), k), np.int64)
    for s in range(0, len(q), block):
        scores = q[s:s + block] @ c.T
        part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        top = np.take_along_axis(scores, part, axis=1)
        order = np.argsort(-top, axis=1, kind="stable")
        indices[s:s + block] = np.take_along_axis(part, order, axis=1)
        values[s:s + block] = np.take_along_axis(top, order, axis=1)
    return values, indices


# ---------------------------------------------------------------- peers and threads

def load_peers(threads):
    """torch and faiss when they import (on `threads` threads), threadpoolctl's
    limits on every OpenBLAS loaded, and why anything is not timed."""
    mods, missing = {}, []
    try:
        import torch
        torch.set_num_threads(threads)
        mods["torch"] = torch
    except Exception as err:  # PyPI's torch fails to import without its nvidia-* wheels
        missing.append(f"PyTorch not timed: {type(err).__name__}: {err}")
    try:
        import faiss
        faiss.omp_set_num_threads(threads)
        mods["faiss"] = faiss
    except Exception as err:
        missing.append(f"faiss not timed (pip install faiss-cpu): {type(err).__name__}: {err}")
    try:
        import threadpoolctl
        # After faiss: its wheel bundles an OpenBLAS of its own, limited here too.
        mods["limits"] = threadpoolctl.threadpool_limits(threads, user_api="blas")
        mods["blas"] = [dict(library=os.path.basename(i["filepath"]), version=i.get("version"),
                             architecture=i.get("architecture"), threads=i.get("num_threads"))
                        for i in threadpoolctl.threadpool_info() if i.get("user_api") == "blas"]
    except Exception as err:
        missing.append(f"threadpoolctl missing ({type(err).__name__}): OpenBLAS's threads not "
                       "set or shown (OPENBLAS_NUM_THREADS sets them)")
    return mods, missing


def versions(mods):
    out = {"cosloss": cosloss.__version__, "numpy": np.__version__,
           "python": platform.python_version()}
    out["torch"] = mods["torch"].__version__ if "torch" in mods else None
    out["faiss"] = mods["faiss"].__version__ if "faiss" in mods else None
    return out


# ---------------------------------------------------------------- the timed cases

def case_cosine(n, d, repeat, budget, rng):
    name = f"pairwise.cosine_similarity {n}x{d} vs {n}x{d} f32"
    x = rng.standard_normal((n, d), dtype=np.float32)
    y = rng.standard_normal((n, d), dtype=np.float32)
    ours = lambda: cosloss.pairwise.cosine_similarity(x, y)
    theirs = lambda: numpy_cosine(x, y)
    (got, t0), (want, t1) = timed(ours), timed(theirs)
    if got.dtype != np.float32 or not np.allclose(got, want, rtol=1e-5, atol=1e-5):
        note(f"cosine_similarity differs from numpy's: dtype {got.dtype}, "
             f"max |diff| {np.max(np.abs(got.astype(np.float64) - want)):.3g}")
    (t_ours, t_np), rounds = medians_within([ours, theirs], repeat, budget, warm=[t0, t1])
    flop = 2.0 * n * n * d
    return [row(name, t_ours, "numpy normalize@", t_np, "<= 1.25x numpy", "at most", 1.25,
                rounds=rounds, cosloss_gflops=flop / t_ours / 1e9, numpy_gflops=flop / t_np / 1e9)]


def case_top_k(nq, m, d, k, repeat, budget, mods, rng):
    name = f"pairwise.top_k {nq} queries vs {m}x{d} f32, k={k}"
    queries = rng.standard_normal((nq, d), dtype=np.float32)
    corpus = rng.standard_normal((m, d), dtype=np.float32)
    ours = lambda: cosloss.pairwise.top_k(queries, corpus, k)
    fns = [ours, lambda: numpy_top_k(queries, corpus, k)]
    if "faiss" in mods:
        faiss = mods["faiss"]
        index = faiss.IndexFlatIP(d)
        index.add(normalize(corpus))
        qn = np.ascontiguousarray(normalize(queries))
        fns.append(lambda: index.search(qn, k))
    ((values, indices), t0), ((want_v, want_i), t1) = timed(fns[0]), timed(fns[1])
    warm = [t0, t1]
    if values.shape != (nq, k) or indices.dtype != np.int64:
        note(f"top_k returned {values.shape} {values.dtype} values, {indices.dtype} indices")
    elif not np.allclose(values, want_v, atol=1e-5):
        note(f"top_k's values differ from numpy's: max |diff| {np.max(np.abs(values - want_v)):.3g}")
    agree = np.mean(indices == want_i) if indices.shape == want_i.shape else 0.0
    if agree < 0.999:
        note(f"top_k's indices agree with numpy's in {agree:.4f} of places (near-ties)")
    if "faiss" in mods:
        (_, faiss_i), t2 = timed(fns[2])
        warm.append(t2)
        agree = np.mean(faiss_i == want_i)
        if agree < 0.999:
            note(f"faiss's indices agree with numpy's in {agree:.4f} of places")
    times, rounds = medians_within(fns, repeat, budget, warm=warm)
    flop = 2.0 * nq * m * d
    rows = [row(name, times[0], "numpy blocked", times[1], "faster than numpy", "at least", 1.0,
                rounds=rounds, cosloss_gflops=flop / times[0] / 1e9)]
    if "faiss" in mods:
        rows.append(row(name, times[0], "faiss IndexFlatIP", times[2], "<= 1.5x faiss", "at most",
                        1.5, rounds=rounds))
    return rows


def torch_mnrl(torch, scale=SCALE):
    """sentence-transformers' MultipleNegativesRankingLoss: cross-entropy of
    scale·cos_sim(a, p), target arange(B); value and both gradients by autograd."""
    F = torch.nn.functional

    def run(ta, tp):
        ta, tp = ta.detach().requires_grad_(), tp.detach().requires_grad_()
        scores = F.normalize(ta, p=2, dim=1) @ F.normalize(tp, p=2, dim=1).T * scale
        loss = F.cross_entropy(scores, torch.arange(len(scores)))
        ga, gp = torch.autograd.grad(loss, [ta, tp])
        return loss.detach(), ga, gp
    return run


def case_mnrl(b, d, repeat, budget, mods, rng):
    name = f"value_and_grad(multiple_negatives_ranking_loss) B={b}, d={d} f32"
    a = rng.standard_normal((b, d), dtype=np.float32)
    # Positives at cos ~0.45 from their anchors: a loss of order 1 at B=8192, not ~0.
    p = a + 2.0 * rng.standard_normal((b, d), dtype=np.float32)
    mnrl = cosloss.contrastive.multiple_negatives_ranking_loss
    ours = lambda: cosloss.value_and_grad(mnrl, a, p)
    fns = [ours, lambda: a @ p.T]
    (value, (da, dp)), t0 = timed(ours)
    warm = [t0, timed(fns[1])[1]]
    if "torch" in mods:
        torch = mods["torch"]
        ta, tp = torch.from_numpy(a), torch.from_numpy(p)
        run = torch_mnrl(torch)
        fns.append(lambda: run(ta, tp))
        (t_value, t_da, t_dp), t2 = timed(fns[2])
        warm.append(t2)
        if not np.isclose(float(value), float(t_value), rtol=1e-4):
            note(f"the loss differs from PyTorch's: {float(value)} vs {float(t_value)}")
        for what, g, t in (("anchors", da, t_da), ("positives", dp, t_dp)):
            t = t.numpy()
            if not np.allclose(g, t, rtol=1e-3, atol=1e-3 * np.max(np.abs(t))):
                note(f"d/d{what} differs from PyTorch's: max |diff| {np.max(np.abs(g - t)):.3g}")
    times, rounds = medians_within(fns, repeat, budget, warm=warm)
    rows = [row(name, times[0], "numpy a @ p.T", times[1], "<= 4x a @ p.T", "at most", 4.0,
                rounds=rounds)]
    if "torch" in mods:
        rows.append(row(name, times[0], "torch autograd", times[2], "faster than torch",
                        "at least", 1.0, rounds=rounds))
    return rows


# ---------------------------------------------------------------- memory, in subprocesses

CHILD = textwrap.dedent("""
    import json, resource, sys, time, tracemalloc
    import numpy as np
    impl, b, d, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])

    def status(key):
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
        return None

    def reset_peak():
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")      # VmHWM := VmRSS (Linux >= 4.0)
            return True
        except OSError:
            return False

    def maxrss():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    rng = np.random.default_rng(0)
    a = rng.standard_normal((b, d), dtype=np.float32)
    p = a + 2.0 * rng.standard_normal((b, d), dtype=np.float32)
    if impl == "cosloss":
        import cosloss
        cosloss.set_workers(threads)
        fn = cosloss.contrastive.multiple_negatives_ranking_loss
        out = (np.empty_like(a), np.empty_like(p))
        for o in out:
            o.fill(0)     # touched: their pages are resident before the call
        cosloss.value_and_grad(fn, a[:64], p[:64])     # starts the Go workers
        call = lambda: cosloss.value_and_grad(fn, a, p, out=out)
        allocated = 0
    else:
        import torch
        torch.set_num_threads(threads)
        F = torch.nn.functional
        ta, tp = torch.from_numpy(a), torch.from_numpy(p)

        def call():
            x, y = ta.detach().requires_grad_(), tp.detach().requires_grad_()
            s = F.normalize(x, p=2, dim=1) @ F.normalize(y, p=2, dim=1).T * 20.0
            loss = F.cross_entropy(s, torch.arange(len(s)))
            return loss, torch.autograd.grad(loss, [x, y])
        small_a, small_p = ta[:64], tp[:64]
        x, y = small_a.detach().requires_grad_(), small_p.detach().requires_grad_()
        torch.autograd.grad(F.cross_entropy(F.normalize(x, dim=1) @ F.normalize(y, dim=1).T,
                                            torch.arange(64)), [x, y])
        allocated = a.nbytes + p.nbytes     # its gradients, allocated during the call
    reset = reset_peak()
    rss, max_before = status("VmRSS"), maxrss()
    tracemalloc.start()   # numpy's and Python's allocations (not Go's, not PyTorch's)
    start = time.perf_counter()
    result = call()
    seconds = time.perf_counter() - start
    peak, max_after = status("VmHWM"), maxrss()
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(json.dumps(dict(seconds=seconds, rss_before=rss, peak=peak, reset=reset,
                          maxrss_growth=max_after - max_before, allocated=allocated,
                          numpy_peak=traced,
                          extra=peak - rss - allocated, value=float(result[0]))))
""")


def memory_child(impl, b, d, threads, timeout):
    """One call in a fresh interpreter: its time and extra peak memory (dict), or the failure."""
    try:
        done = subprocess.run([sys.executable, "-c", CHILD, impl, str(b), str(d), str(threads)],
                              capture_output=True, text=True, timeout=timeout,
                              env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    except subprocess.TimeoutExpired:
        return None, f"timed out after {timeout} s"
    if done.returncode != 0:
        return None, f"exit status {done.returncode}: {done.stderr.strip().splitlines()[-1:]}"
    return json.loads(done.stdout.strip().splitlines()[-1]), None


def memory_rows(b, d, threads, mods, timeout, with_torch):
    case = f"extra memory, value_and_grad(multiple_negatives_ranking_loss) B={b}, d={d} f32"
    out = []
    impls = ["cosloss"] + (["torch"] if with_torch and "torch" in mods else [])
    results = {}
    for impl in impls:
        res, err = memory_child(impl, b, d, threads, timeout)
        if err:
            note(f"{impl} at B={b}: {err}")
        results[impl] = res
    ours, theirs = results.get("cosloss"), results.get("torch")
    if ours is None:
        out.append(dict(section=SECTION, case=case, cosloss_ms=None, reference="-",
                        reference_ms=None, ratio=float("nan"), target="<= 64 MiB (ratio: MiB)",
                        met=False, failed=True))
        return out
    if not ours["reset"]:
        note("could not reset VmHWM (/proc/self/clear_refs): the peak may include earlier ones")
    ref = "torch: " + (f"{theirs['extra'] / MIB:.0f} MiB" if theirs else "not run")
    out.append(dict(section=SECTION, case=case, cosloss_ms=ours["seconds"] * 1e3, reference=ref,
                    reference_ms=theirs["seconds"] * 1e3 if theirs else None,
                    ratio=ours["extra"] / MIB, target="<= 64 MiB (ratio: MiB)",
                    met=ours["extra"] <= MEMORY_LIMIT, cosloss=ours, torch=theirs))
    return out


def print_table(rows):
    if not rows:
        return
    print()
    print("Embedding cases (ratio: cosloss/reference for 'at most' targets, reference/cosloss "
          "for 'faster' ones; memory rows: MiB)")
    print(f"{'case':78s} {'cosloss':>10s} {'reference':>18s} {'ref':>10s} {'ratio':>7s}  target")
    for r in rows:
        ours = "" if r["cosloss_ms"] is None else show_time(r["cosloss_ms"] / 1e3)
        ref = "" if r["reference_ms"] is None else show_time(r["reference_ms"] / 1e3)
        print(f"{r['case']:78s} {ours:>10s} {r['reference']:>18s} {ref:>10s} {r['ratio']:7.2f}  "
              f"{r['target']} {mark(r['met'])}")
    extras = [r for r in rows if "cosloss_gflops" in r]
    if extras:
        print()
        for r in extras:
            theirs = f", numpy {r['numpy_gflops']:.1f}" if "numpy_gflops" in r else ""
            print(f"{r['case']}: cosloss {r['cosloss_gflops']:.1f} GFLOP/s{theirs}")
    for r in rows:
        for impl in ("cosloss", "torch"):
            m = r.get(impl)
            if m:
                print(f"{r['case']}, {impl}: {m['seconds']:.2f} s, RSS {m['rss_before'] / MIB:.0f} "
                      f"MiB before, peak +{(m['peak'] - m['rss_before']) / MIB:.1f} MiB "
                      f"(ru_maxrss +{m['maxrss_growth'] / MIB:.1f} MiB), gradients allocated "
                      f"{m['allocated'] / MIB:.0f} MiB, extra {m['extra'] / MIB:.1f} MiB; "
                      f"numpy/Python allocations peaked at {m['numpy_peak'] / MIB:.1f} MiB")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", default="bench.json")
    parser.add_argument("--quick", action="store_true", help="smaller problems, fewer rounds")
    parser.add_argument("--only", default="", help="run only cases whose name contains this")
    args = parser.parse_args()
    started = time.perf_counter()
    threads = cosloss.workers()
    mods, missing = load_peers(threads)
    info = versions(mods)
    load_start = os.getloadavg()
    print(f"{cpu_name()}; cosloss {info['cosloss']}, kernel set {_core.kernel()}, "
          f"{threads} workers; numpy {info['numpy']}, torch {info['torch']} "
          f"({mods['torch'].get_num_threads() if 'torch' in mods else '-'} threads), faiss "
          f"{info['faiss']} ({mods['faiss'].omp_get_max_threads() if 'faiss' in mods else '-'} "
          f"OpenMP threads), Python {info['python']}; load average {load_start[0]:.2f} "
          f"{load_start[1]:.2f} {load_start[2]:.2f}"
          f"{'; --quick: smaller problems, the targets are those of the full sizes' if args.quick else ''}")
    for blas in mods.get("blas", []):
        print(f"OpenBLAS {blas['library']} {blas['version']}, kernels {blas['architecture']}, "
              f"{blas['threads']} threads")
    for line in missing:
        print(line)

    q = args.quick
    n_all, (nq, m), b = (2048, (1024, 20_000), 2048) if q else (4096, (4096, 100_000), 8192)
    b_big = 16_384 if q else 65_536
    rng = np.random.default_rng(0)
    cases = [
        (f"pairwise.cosine_similarity {n_all}x256",
         lambda: case_cosine(n_all, 256, 7 if q else 21, 10 if q else 30, rng)),
        (f"pairwise.top_k {nq} queries",
         lambda: case_top_k(nq, m, 256, 10, 3 if q else 7, 20 if q else 60, mods, rng)),
        (f"value_and_grad(multiple_negatives_ranking_loss) B={b},",
         lambda: case_mnrl(b, 256, 5 if q else 9, 20 if q else 45, mods, rng)),
        ("extra memory, value_and_grad(multiple_negatives_ranking_loss) B=8192,",
         lambda: memory_rows(8192, 256, threads, mods, 300, with_torch=True)),
        (f"extra memory, value_and_grad(multiple_negatives_ranking_loss) B={b_big},",
         lambda: memory_rows(b_big, 256, threads, mods, 600 if q else 1800, with_torch=False)),
    ]
    rows = []
    for name, run in cases:
        if args.only not in name:
            continue
        print(f"== {name} ...", flush=True)
        try:
            rows.extend(run())
        except Exception as err:   # one case failing (an API not there yet) leaves the others
            note(f"{name} failed: {type(err).__name__}: {err}")
        gc.collect()
    print_table(rows)

    elapsed = time.perf_counter() - started
    load_end = os.getloadavg()
    print(f"\n{elapsed:.0f} s; load average at the end {load_end[0]:.2f} {load_end[1]:.2f} "
          f"{load_end[2]:.2f}")
    if args.json:
        try:
            with open(args.json) as f:
                doc = json.load(f)
        except (OSError, ValueError):
            doc = {"cpu": cpu_name(), "results": []}
        doc["results"] = [r for r in doc.get("results", []) if r.get("section") != SECTION]
        doc["results"].extend(rows)
        doc[SECTION] = dict(info, cpu=cpu_name(), kernel=_core.kernel(), workers=threads,
                            blas=mods.get("blas"), quick=args.quick, seconds=elapsed,
                            not_timed=missing, loadavg_start=load_start, loadavg_end=load_end)
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=1)
        print(f"added {len(rows)} rows to {args.json}")


if __name__ == "__main__":
    main()
