"""Forked children, threads and long loops: no hang, no leak.

fork() copies Go's runtime without its threads, so a child that starts a
goroutine or a garbage collection waits for ever (see
cosloss/binding/fork.go). Each case here runs in its own interpreter with
a timeout, so that a hang or a crash fails that test instead of the run.
"""

import os
import subprocess
import sys
import textwrap

import pytest

import cosloss

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="fork start method")

PRELUDE = textwrap.dedent("""
    import gc, os, sys, threading, time
    import numpy as np
    import cosloss

    def reference_cosine(a, b):
        # TensorFlow's formula in float64: Σ a·b / sqrt(max(Σa², ε)·max(Σb², ε)).
        a, b = a.astype(np.float64), b.astype(np.float64)
        na = np.maximum(np.sum(a * a, axis=-1), 1e-12)
        nb = np.maximum(np.sum(b * b, axis=-1), 1e-12)
        return np.sum(a * b, axis=-1) / np.sqrt(na * nb)

    def check(got, a, b, sign=-1):
        want = sign * reference_cosine(a, b)
        assert np.allclose(got, want, rtol=1e-5, atol=1e-6), (got[:4], want[:4])

    rng = np.random.default_rng(3)
    small_a = rng.standard_normal((64, 128)).astype(np.float32)
    small_b = rng.standard_normal((64, 128)).astype(np.float32)
    # Large enough that the parent splits it across goroutines.
    large_a = rng.standard_normal((4096, 256)).astype(np.float32)
    large_b = rng.standard_normal((4096, 256)).astype(np.float32)

    def many_calls(count):
        # The public functions in turn; each result checked now and then.
        f = cosloss.keras.losses.cosine_similarity
        loss = cosloss.keras.losses.CosineSimilarity()
        for i in range(count):
            out = f(small_a, small_b)
            if i % 1000 == 0:
                check(out, small_a, small_b)
                cosloss.nn.l2_normalize(small_a, axis=1)
                cosloss.losses.cosine_distance(small_a, small_b, axis=1)
                loss.value_and_grad(small_a, small_b, sample_weight=np.ones(64, np.float32))
                check(f(large_a, large_b), large_a, large_b)
                gc.collect()
        return count
""")


def run_script(body, timeout, helpers=""):
    """Runs PRELUDE, helpers and body in a fresh interpreter; returns its stdout."""
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(cosloss.__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [pkg_parent] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    code = PRELUDE + textwrap.dedent(helpers) + textwrap.dedent(body)
    try:
        proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired as err:
        pytest.fail(f"hung for {timeout} s; output so far: {err.stdout!r} {err.stderr!r}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


# For scripts: reap pids, killing any still alive after timeout (a hang).
WAIT_CHILDREN = """
    def wait_children(pids, timeout):
        deadline, hung, failed = time.time() + timeout, [], []
        for pid in pids:
            while True:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    if status != 0:
                        failed.append(pid)
                    break
                if time.time() > deadline:
                    os.kill(pid, 9)
                    os.waitpid(pid, 0)
                    hung.append(pid)
                    break
                time.sleep(0.01)
        assert not hung and not failed, f"{len(hung)} children hung, {len(failed)} failed of {len(pids)}"
"""


def test_forked_child_makes_100000_calls():
    # The collector used to start after about 16,000 calls and hang the
    # child; so did a call split across goroutines. The parent has used Go
    # (threads, goroutines) first, and a grandchild is forked too.
    out = run_script(helpers=WAIT_CHILDREN, body="""
        check(cosloss.keras.losses.cosine_similarity(large_a, large_b), large_a, large_b)
        pid = os.fork()
        if pid == 0:
            assert cosloss.workers() == 1
            cosloss.set_workers(2)  # stays 1: goroutines would never run here
            assert cosloss.workers() == 1
            many_calls(100_000)
            grandchild = os.fork()
            if grandchild == 0:
                many_calls(20_000)
                os._exit(0)
            wait_children([grandchild], 60)
            os._exit(0)
        wait_children([pid], 150)
        # The parent is unaffected: goroutines and collections still work.
        assert cosloss.workers() > 1 or os.cpu_count() == 1
        many_calls(2_000)
        print("ok")
    """, timeout=240)
    assert out.strip() == "ok"


def test_multiprocessing_fork_pool_and_process_pool():
    # Python 3.11's default start method on Linux is 'fork' (also how
    # PyTorch's DataLoader starts workers); 2 workers x 30,000 calls each (the collector used to hang a child after about 16,000).
    out = run_script("""
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        check(cosloss.keras.losses.cosine_similarity(large_a, large_b), large_a, large_b)
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(2) as pool:
            done = pool.map_async(many_calls, [30_000, 30_000]).get(timeout=120)
        assert done == [30_000, 30_000], done
        with ProcessPoolExecutor(2) as executor:
            assert multiprocessing.get_start_method() == "fork"
            done = list(executor.map(many_calls, [30_000, 30_000], timeout=120))
        assert done == [30_000, 30_000], done
        print("ok")
    """, timeout=300)
    assert out.strip() == "ok"


def test_fork_while_threads_are_inside_calls():
    # 4 threads run long calls (with the GIL released) while the main
    # thread forks 24 times; every child must compute. The fork waits for
    # the calls inside Go to finish and holds new ones back meanwhile.
    out = run_script(helpers=WAIT_CHILDREN, body="""
        big_a = rng.standard_normal((200_000, 64)).astype(np.float32)
        big_b = rng.standard_normal((200_000, 64)).astype(np.float32)
        want = -reference_cosine(big_a, big_b)
        stop, errors, calls = threading.Event(), [], [0]

        def busy():
            try:
                while not stop.is_set():
                    got = cosloss.keras.losses.cosine_similarity(big_a, big_b)
                    assert np.allclose(got, want, rtol=1e-5, atol=1e-6)
                    calls[0] += 1
            except Exception as err:
                errors.append(err)

        threads = [threading.Thread(target=busy) for _ in range(4)]
        for t in threads:
            t.start()
        time.sleep(0.2)
        pids = []
        for _ in range(24):
            pid = os.fork()
            if pid == 0:
                many_calls(2_000)
                os._exit(0)
            pids.append(pid)
            time.sleep(0.01)
        stop.set()
        for t in threads:
            t.join()
        wait_children(pids, 120)
        assert not errors, errors
        assert calls[0] > 4, calls
        print("ok", calls[0])
    """, timeout=300)
    assert out.startswith("ok")


def test_rss_does_not_grow_over_a_million_calls():
    # gopy returned each Go error, nil included, as a C string it never
    # freed: 30-55 bytes per call. numpy itself grows by 0 here.
    out = run_script("""
        def rss():
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

        x = small_a[:32]
        f = cosloss.keras.losses.cosine_similarity
        for _ in range(100_000):  # warm up numpy's and Python's caches
            f(x, x)
        before = rss()
        for _ in range(1_000_000):
            f(x, x)
        print(rss() - before)
    """, timeout=300)
    growth = int(out.strip())
    assert growth < 1 << 20, f"RSS grew by {growth} bytes over 1,000,000 calls"


def test_rss_does_not_grow_on_other_paths():
    # The other exports (strided views, gradients, reductions, errors).
    out = run_script("""
        def rss():
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

        x, y = small_a[:16], small_b[:16]
        w = np.ones(16, np.float32)
        loss = cosloss.keras.losses.CosineSimilarity()

        def round_():
            cosloss.keras.losses.cosine_similarity(x, y, axis=0)
            cosloss.nn.l2_normalize(x, axis=0)
            cosloss.losses.cosine_distance(x, y, axis=1, weights=2.0)
            cosloss.losses.compute_weighted_loss(x, reduction="weighted_mean")
            loss.value_and_grad(x, y, sample_weight=w)
            cosloss.value_and_grad(cosloss.nn.l2_normalize, x, axis=1)

        for _ in range(5_000):
            round_()
        before = rss()
        for _ in range(25_000):  # 30 bytes leaked per call would be 4.5 MB
            round_()
        print(rss() - before)
    """, timeout=300)
    growth = int(out.strip())
    assert growth < 1 << 20, f"RSS grew by {growth} bytes over 25,000 rounds of calls"
