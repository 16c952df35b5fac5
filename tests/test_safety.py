"""cosloss leaves callers' data and the interpreter as they were.

* inputs (including weights) are never modified, and read-only inputs work;
* outputs never alias inputs (writing to a result must not change an input);
* importing cosloss keeps subnormal floats (no flush-to-zero from the .so),
  the working directory and dlopen flags, and removes gopy's gc.callbacks hook
  (it runs a full Go GC on every Python collection);
* cosloss works in a multiprocessing child started with "fork" (gopy's gc
  hook or goroutines would hang it).
"""

import gc
import multiprocessing
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import cosloss
import reference as ref
from helpers import assert_matches_reference

f32, f64 = np.float32, np.float64

RNG = np.random.default_rng(1234)
A = RNG.standard_normal((4, 3)).astype(f32)
B = RNG.standard_normal((4, 3)).astype(f32)
A64 = A.astype(f64)
B64 = B.astype(f64)
W41 = np.array([[1.0], [0.0], [2.0], [0.5]], dtype=f32)
SW4 = np.array([1.0, 0.0, 2.0, 0.5], dtype=f32)


def _calls(mod, top):
    """(name, callable(*arrays), arrays) for every public computation."""
    k = mod.keras.losses
    m = mod.keras.metrics
    calls = [
        ("l2_normalize", lambda x: mod.nn.l2_normalize(x, axis=-1), [A]),
        ("l2_normalize_multi", lambda x: mod.nn.l2_normalize(x, axis=[0, 1]), [A64]),
        ("cosine_distance", lambda a, b, w: mod.losses.cosine_distance(
            a, b, axis=1, weights=w, reduction="none"), [A, B, W41]),
        ("compute_weighted_loss", lambda l, w: mod.losses.compute_weighted_loss(
            l, weights=w, reduction="none"), [W41.copy(), W41]),
        ("compute_weighted_loss_scalar_w", lambda l: mod.losses.compute_weighted_loss(
            l, weights=1.0, reduction="none"), [W41.copy()]),
        ("keras_fn", lambda a, b: k.cosine_similarity(a, b), [A, B]),
        ("keras_fn_f64", lambda a, b: k.cosine(a, b, axis=0), [A64, B64]),
        ("keras_class_none", lambda a, b, w: k.CosineSimilarity(reduction="none")(
            a, b, sample_weight=w), [A, B, SW4]),
        ("keras_class_auto", lambda a, b, w: k.CosineSimilarity()(
            a, b, sample_weight=w), [A64, B64, SW4]),
        ("metric", lambda a, b, w: m.CosineSimilarity()(a, b, sample_weight=w),
         [A, B64, SW4]),
    ]
    if top is not None:
        calls += [
            ("seed_v1", lambda a, b: top.cosine_similarity_loss(a, b), [A, B]),
            ("seed_v2", lambda a, b: top.cosine_similarity_loss_v2(a, b), [A, B]),
            ("seed_v3", lambda a, b: top.cosine_similarity_loss_v3(a, b), [A64, B64]),
        ]
    return calls


ALL_CALLS = ([("tf2", *c) for c in _calls(cosloss, cosloss)]
             + [("tf115", *c) for c in _calls(cosloss.tf115, None)])
CALL_IDS = [f"{flav}-{name}" for flav, name, _, _ in ALL_CALLS]


@pytest.mark.parametrize("i", range(len(ALL_CALLS)), ids=CALL_IDS)
def test_inputs_unchanged(i):
    _, name, fn, arrays = ALL_CALLS[i]
    arrays = [a.copy() for a in arrays]
    copies = [a.copy() for a in arrays]
    out = fn(*arrays)
    # Scribbling on the result must not reach the inputs either.
    if isinstance(out, np.ndarray) and out.flags.writeable:
        out[...] = 123
    for a, c in zip(arrays, copies):
        np.testing.assert_array_equal(a, c, err_msg=f"{name} modified an input")
        assert a.dtype == c.dtype and a.flags.writeable


@pytest.mark.parametrize("i", range(len(ALL_CALLS)), ids=CALL_IDS)
def test_readonly_inputs(i):
    _, name, fn, arrays = ALL_CALLS[i]
    writable = fn(*[a.copy() for a in arrays])
    ro = [a.copy() for a in arrays]
    for a in ro:
        a.setflags(write=False)
    out = fn(*ro)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(writable))
    for a, orig in zip(ro, arrays):
        np.testing.assert_array_equal(a, orig)


@pytest.mark.parametrize("i", range(len(ALL_CALLS)), ids=CALL_IDS)
def test_output_does_not_alias_inputs(i):
    # A result that shares memory with an input lets the caller corrupt the
    # input by writing to the result (TF always returns a new tensor).
    _, name, fn, arrays = ALL_CALLS[i]
    arrays = [a.copy() for a in arrays]
    out = fn(*arrays)
    if isinstance(out, np.ndarray):
        for a in arrays:
            assert not np.shares_memory(out, a), f"{name} returned a view of an input"


# ---------------------------------------------------------------------------
# Interpreter state after import
# ---------------------------------------------------------------------------

def _subnormals_work():
    tiny32 = np.finfo(np.float32).tiny           # smallest normal float32
    tiny64 = np.finfo(np.float64).tiny
    half32 = tiny32 * np.float32(0.5)
    half64 = tiny64 * np.float64(0.5)
    return bool(np.float32(1e-40) != 0 and 0 < half32 < tiny32
                and 0 < half64 < tiny64 and np.float64(5e-324) != 0)


def test_subnormals_survive_import_and_calls():
    assert _subnormals_work()
    cosloss.keras.losses.cosine_similarity(A, B)
    cosloss.tf115.losses.cosine_distance(A, B, axis=1)
    assert _subnormals_work(), "a cosloss call switched on flush-to-zero"


def test_subnormal_inputs_are_not_flushed():
    # §2: below the eps floor l2_normalize is x * 1e6; 1e-40 must not become 0.
    out = cosloss.nn.l2_normalize(np.array([1e-40, 0], dtype=f32), axis=-1)
    assert out[0] != 0
    np.testing.assert_allclose(out, ref.l2_normalize(np.array([1e-40, 0], f32), axis=-1),
                               rtol=1e-5)


def _gopy_callbacks():
    return [cb for cb in gc.callbacks
            if getattr(cb, "__name__", "") == "_gopy_gc_cb"
            or "cosloss" in (getattr(cb, "__module__", "") or "")
            or "gocore" in (getattr(cb, "__module__", "") or "")]


def test_no_gopy_gc_callback_after_import():
    assert _gopy_callbacks() == []


FRESH_IMPORT = textwrap.dedent("""
    import gc, os, sys
    import numpy as np
    before_cbs = list(gc.callbacks)
    before_cwd = os.getcwd()
    before_flags = sys.getdlopenflags()
    import cosloss
    cosloss.keras.losses.cosine_similarity([[1., 2.]], [[2., 1.]])
    gc.collect()
    problems = []
    if list(gc.callbacks) != before_cbs:
        problems.append("gc.callbacks changed: %r" % (gc.callbacks,))
    if os.getcwd() != before_cwd:
        problems.append("cwd changed to %s" % os.getcwd())
    if sys.getdlopenflags() != before_flags:
        problems.append("dlopen flags changed")
    tiny = np.finfo(np.float32).tiny
    if not (np.float32(1e-40) != 0 and 0 < tiny * np.float32(0.5) < tiny):
        problems.append("float32 subnormals flushed to zero")
    if not (0 < np.finfo(np.float64).tiny * 0.5):
        problems.append("float64 subnormals flushed to zero")
    print("PROBLEMS:", problems)
    sys.exit(1 if problems else 0)
""")


def test_fresh_interpreter_state_after_import(tmp_path):
    # A fresh process: earlier tests cannot have imported cosloss already.
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(cosloss.__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [pkg_parent] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    proc = subprocess.run([sys.executable, "-c", FRESH_IMPORT], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# ---------------------------------------------------------------------------
# fork
# ---------------------------------------------------------------------------

def _child_cosine(y_true, y_pred):
    gc.collect()        # with gopy's hook this alone hangs a forked child
    out = cosloss.keras.losses.cosine_similarity(y_true, y_pred)
    gc.collect()
    return np.asarray(out)


def _child_large(seed, rows, dim):
    gc.collect()
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((rows, dim)).astype(f32)
    b = rng.standard_normal((rows, dim)).astype(f32)
    return np.asarray(cosloss.keras.losses.cosine_similarity(a, b))


@pytest.mark.skipif(sys.platform != "linux", reason="fork start method")
def test_fork_child_computes():
    # Use Go in the parent first, so its runtime threads exist before fork.
    cosloss.keras.losses.cosine_similarity(A, B)
    gc.collect()
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(1) as pool:
        small = pool.apply_async(_child_cosine, (A, B)).get(timeout=60)
        # Large enough that a parallel kernel would split it across goroutines.
        large = pool.apply_async(_child_large, (7, 16384, 256)).get(timeout=60)
    assert_matches_reference(small, ref.keras_cosine(A, B, sign=-1))
    rng = np.random.default_rng(7)
    a = rng.standard_normal((16384, 256)).astype(f32)
    b = rng.standard_normal((16384, 256)).astype(f32)
    assert_matches_reference(large, ref.keras_cosine(a, b, sign=-1))
