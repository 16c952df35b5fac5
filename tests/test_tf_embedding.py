"""cosloss.tf.pairwise and cosloss.tf.contrastive: issue #13's embedding ops in TensorFlow.

Expectations come from numpy float64 references written here from the
peers' documented formulas (scikit-learn's cosine_similarity with
TensorFlow's l2_normalize floor, sentence-transformers'
MultipleNegativesRankingLoss and its symmetric form, optax's ntxent,
PyTorch's TripletMarginWithDistanceLoss), with their analytic gradients
(checked against central finite differences), and from TensorFlow's own
composition of the same formulas; never from cosloss. The ops run with
the backend of the configuration (COSLOSS_TF_BACKEND), eagerly, in
tf.function with unknown shapes, in tf.compat.v1 graphs and in a Keras
model.fit step.
"""

import importlib.util

import numpy as np
import pytest

from tf_support import assert_pair_close, ctf, run_pair, tf, tol

from cosloss.tf import _embedding

F32, F64 = np.dtype(np.float32), np.dtype(np.float64)
DTYPES = [F32, F64]
MODES = ["eager", "function"]
EPS = 1e-12

_FACES = all(importlib.util.find_spec(m) is not None
             for m in ("cosloss.pairwise", "cosloss.contrastive"))
# The go backend calls the numpy faces, which other branches add (issue #13).
pytestmark = pytest.mark.skipif(ctf.get_backend() == "go" and not _FACES,
                                reason="the go backend needs cosloss.pairwise and "
                                       "cosloss.contrastive, not merged into this branch yet")

# Against the float64 references: float64 ops agree to rounding; float32 ops
# round each cosine to float32, then compute the loss from it.
REF_TOL = {F32: dict(rtol=2e-5, atol=2e-6), F64: dict(rtol=1e-10, atol=1e-12)}


# ---------------------------------------------------------------- numpy references


def inverse_norms(x, eps=EPS):
    """1/√max(Σx², ε) per row, and where the floor is not active (where it has a slope)."""
    s = (x * x).sum(axis=1)
    return 1 / np.sqrt(np.maximum(s, eps)), s > eps


def ref_cos(x, y, eps=EPS):
    rx, _ = inverse_norms(x, eps)
    ry, _ = inverse_norms(y, eps)
    return (x @ y.T) * rx[:, None] * ry[None, :]


def ref_cos_grad(x, y, g, eps=EPS):
    """d Σ g·cos(x, y) / dx, dy for the cosine matrix."""
    rx, ax = inverse_norms(x, eps)
    ry, ay = inverse_norms(y, eps)
    dot = x @ y.T
    gs = g * rx[:, None] * ry[None, :]
    dx = gs @ y - (ax * rx ** 2 * (gs * dot).sum(axis=1))[:, None] * x
    dy = gs.T @ x - (ay * ry ** 2 * (gs * dot).sum(axis=0))[:, None] * y
    return dx, dy


def ref_row_cos(x, y):
    rx, _ = inverse_norms(x)
    ry, _ = inverse_norms(y)
    return (x * y).sum(axis=1) * rx * ry


def ref_row_cos_grad(x, y, g):
    rx, ax = inverse_norms(x)
    ry, ay = inverse_norms(y)
    cos = (x * y).sum(axis=1) * rx * ry
    dx = (g * rx * ry)[:, None] * y - (g * ax * rx ** 2 * cos)[:, None] * x
    dy = (g * rx * ry)[:, None] * x - (g * ay * ry ** 2 * cos)[:, None] * y
    return dx, dy


def ref_top_k(values, k, largest):
    """Indices of torch.topk / the design's rule: sorted, ties to the lower index,
    NaN above every number."""
    n, m = values.shape
    order = np.empty((n, min(k, m)), np.int64)
    for i in range(n):
        v = values[i]
        key = np.where(np.isnan(v), -np.inf, -v) if largest else np.where(np.isnan(v), np.inf, v)
        order[i] = np.lexsort((np.arange(m), key))[:min(k, m)]
    return order


def _lse(s, axis):
    top = s.max(axis=axis, keepdims=True)
    return (top + np.log(np.exp(s - top).sum(axis=axis, keepdims=True))).squeeze(axis)


def _softmax(s, axis):
    e = np.exp(s - s.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _coefficients(batch, sample_weight, reduction, upstream):
    """d reduced / d per-sample loss, times the upstream gradient."""
    w = np.ones(batch) if sample_weight is None else np.broadcast_to(sample_weight, (batch,))
    if reduction == "none":
        return upstream * w
    if reduction == "sum":
        return upstream * w
    return upstream * w / batch if batch else w * 0


def _reduced(per, sample_weight, reduction):
    w = 1.0 if sample_weight is None else sample_weight
    weighted = per * w
    if reduction == "none":
        return weighted
    if reduction == "sum":
        return weighted.sum()
    return weighted.sum() / len(per) if len(per) else 0.0


def ref_mnrl(a, p, neg, scale, symmetric, reduction="sum_over_batch_size", sample_weight=None,
             upstream=1.0):
    """sentence-transformers' MultipleNegativesRankingLoss: (value, (da, dp[, dn]))."""
    batch = len(a)
    columns = [p]
    if neg is not None:
        columns += [neg] if neg.ndim == 2 else [neg[:, j] for j in range(neg.shape[1])]
    cands = np.concatenate(columns)
    s = scale * ref_cos(a, cands)
    own = s[np.arange(batch), np.arange(batch)]
    forward = _lse(s, 1) - own
    coef = _coefficients(batch, sample_weight, reduction, upstream)
    eye = np.zeros_like(s)
    eye[np.arange(batch), np.arange(batch)] = 1
    g = (_softmax(s, 1) - eye) * coef[:, None]
    per = forward
    if symmetric:
        backward = _lse(s[:, :batch], 0) - own
        per = (forward + backward) / 2
        g = g / 2
        g[:, :batch] += (_softmax(s[:, :batch], 0) - eye[:, :batch]) * coef[None, :] / 2
    da, dc = ref_cos_grad(a, cands, scale * g)
    grads = [da, dc[:batch]]
    if neg is not None:
        rest = dc[batch:]
        grads.append(rest if neg.ndim == 2 else
                     rest.reshape(neg.shape[1], batch, -1).transpose(1, 0, 2))
    return _reduced(per, sample_weight, reduction), tuple(grads)


def ref_ntxent(e, labels, temperature, eps):
    """optax's ntxent, its formula as written (float64): (value, (de,)).

    eps floors Σx², as optax's finfo(dtype).eps of the inputs' dtype does."""
    s = ref_cos(e, e, eps) / temperature
    same = labels[:, None] == labels[None, :]
    negative = ~same
    positive = same & ~np.eye(len(e), dtype=bool)
    exp = np.exp(s)
    denominator = exp + (exp * negative).sum(axis=1, keepdims=True)  # D_ij
    pair = np.log(denominator) - s
    count = positive.sum()
    value = (pair * positive).sum() / count
    gs = positive * (exp / denominator - 1)
    gs = gs + negative * exp * (positive / denominator).sum(axis=1, keepdims=True)
    dx, dy = ref_cos_grad(e, e, gs / count / temperature, eps)
    return value, (dx + dy,)


def ref_triplet(a, p, n, margin, swap, reduction="sum_over_batch_size", sample_weight=None,
                upstream=1.0):
    """PyTorch's TripletMarginWithDistanceLoss, d = 1 − cos: (value, (da, dp, dn))."""
    d_ap = 1 - ref_row_cos(a, p)
    d_an = 1 - ref_row_cos(a, n)
    share_an, share_pn = np.ones(len(a)), np.zeros(len(a))
    if swap:
        d_pn = 1 - ref_row_cos(p, n)
        # torch.minimum's gradient: to the smaller, half each on a tie.
        share_an = np.where(d_an < d_pn, 1.0, np.where(d_an > d_pn, 0.0, 0.5))
        share_pn = 1 - share_an
        d_an = np.minimum(d_an, d_pn)
    x = d_ap - d_an + margin
    per = np.maximum(x, 0)
    g = _coefficients(len(a), sample_weight, reduction, upstream) * (x >= 0)
    da1, dp1 = ref_row_cos_grad(a, p, -g)
    da2, dn2 = ref_row_cos_grad(a, n, g * share_an)
    dp3, dn3 = ref_row_cos_grad(p, n, g * share_pn)
    return _reduced(per, sample_weight, reduction), (da1 + da2, dp1 + dp3, dn2 + dn3)


# ---------------------------------------------------------------- running the ops


def run(fn, inputs, constants=(), mode="eager", upstream=None):
    """fn(*inputs, *constants)'s value and the gradients to inputs, eagerly or in a
    tf.function whose inputs have unknown shapes."""
    def compute(*args):
        xs, cs = args[:len(inputs)], args[len(inputs):]
        with tf.GradientTape() as tape:
            for x in xs:
                tape.watch(x)
            y = fn(*xs, *cs)
        up = None if upstream is None else tf.constant(upstream, y.dtype)
        return y, tape.gradient(y, list(xs), output_gradients=up)

    args = [tf.constant(a) for a in list(inputs) + list(constants)]
    if mode == "function":
        signature = [tf.TensorSpec([None] * a.ndim, a.dtype) for a in
                     list(inputs) + list(constants)]
        compute = tf.function(compute, input_signature=signature)
    y, grads = compute(*args)
    return y.numpy(), [None if g is None else tf.convert_to_tensor(g).numpy() for g in grads]


def rows(rng, shape, dtype, zero=()):
    x = rng.standard_normal(shape)
    for i in zero:
        x[i] = 0
    return x.astype(dtype)


def as64(*arrays):
    return [None if a is None else np.asarray(a, np.float64) for a in arrays]


def check(value, grads, want_value, want_grads, dtype):
    assert value.dtype == dtype
    np.testing.assert_allclose(value, want_value, **REF_TOL[dtype])
    assert len(grads) == len(want_grads)
    for g, w in zip(grads, want_grads):
        assert g.dtype == dtype
        np.testing.assert_allclose(g, w, **REF_TOL[dtype])


# ---------------------------------------------------------------- the references themselves


def _numeric_grad(f, x, h=1e-6):
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[idx] += h
        down[idx] -= h
        g[idx] = (f(up) - f(down)) / (2 * h)
    return g


def test_the_references_analytic_gradients_are_their_finite_differences():
    rng = np.random.default_rng(0)
    a, p, n = (rng.standard_normal((4, 3)) for _ in range(3))
    neg = rng.standard_normal((4, 2, 3))
    u = rng.standard_normal((4, 5))
    y = rng.standard_normal((5, 3))
    dx, dy = ref_cos_grad(a, y, u)
    np.testing.assert_allclose(dx, _numeric_grad(lambda v: (u * ref_cos(v, y)).sum(), a),
                               rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dy, _numeric_grad(lambda v: (u * ref_cos(a, v)).sum(), y),
                               rtol=1e-6, atol=1e-8)
    w = np.array([1.0, 0.5, 0.0, 2.0])
    _, grads = ref_mnrl(a, p, neg, 3.0, True, "sum", w)
    for i, x in enumerate([a, p, neg]):
        def f(v, i=i):
            args = [a, p, neg]
            args[i] = v
            return ref_mnrl(*args, 3.0, True, "sum", w)[0]
        np.testing.assert_allclose(grads[i], _numeric_grad(f, x), rtol=1e-6, atol=1e-8)
    labels = np.array([0, 0, 1, 1])
    _, (de,) = ref_ntxent(a, labels, 0.5, EPS)
    np.testing.assert_allclose(de, _numeric_grad(lambda v: ref_ntxent(v, labels, 0.5, EPS)[0], a),
                               rtol=1e-6, atol=1e-8)
    _, grads = ref_triplet(a, p, n, 1.5, True, "sum_over_batch_size", w)
    for i, x in enumerate([a, p, n]):
        def f(v, i=i):
            args = [a, p, n]
            args[i] = v
            return ref_triplet(*args, 1.5, True, "sum_over_batch_size", w)[0]
        np.testing.assert_allclose(grads[i], _numeric_grad(f, x), rtol=1e-6, atol=1e-8)


# ---------------------------------------------------------------- pairwise


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_cosine_similarity(mode, dtype):
    rng = np.random.default_rng(1)
    x = rows(rng, (5, 4), dtype, zero=[1])
    y = rows(rng, (3, 4), dtype, zero=[2])
    u = rng.standard_normal((5, 3)).astype(dtype)
    value, grads = run(lambda a, b: ctf.pairwise.cosine_similarity(a, b), [x, y], mode=mode,
                       upstream=u)
    x64, y64 = as64(x, y)
    check(value, grads, ref_cos(x64, y64), ref_cos_grad(x64, y64, u), dtype)
    assert value[1].tolist() == [0, 0, 0] and value[:, 2].tolist() == [0] * 5  # zero rows


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_cosine_similarity_of_x_with_itself(mode, dtype):
    rng = np.random.default_rng(2)
    x = rows(rng, (4, 3), dtype, zero=[3])
    u = rng.standard_normal((4, 4)).astype(dtype)
    value, (dx,) = run(ctf.pairwise.cosine_similarity, [x], mode=mode, upstream=u)
    (x64,) = as64(x)
    check(value, [dx], ref_cos(x64, x64), [sum(ref_cos_grad(x64, x64, u))], dtype)


def test_cosine_similarity_shapes_and_dtypes():
    out = ctf.pairwise.cosine_similarity(tf.zeros([0, 3]), tf.ones([2, 3]))
    assert out.shape == (0, 2) and out.dtype == tf.float32
    out = ctf.pairwise.cosine_similarity(tf.ones([2, 3], tf.float32), tf.ones([1, 3], tf.float64))
    assert out.dtype == tf.float64
    out = ctf.pairwise.cosine_similarity(np.array([[1, 2], [3, 4]]))  # ints: float64
    assert out.dtype == tf.float64
    np.testing.assert_allclose(out.numpy(), ref_cos(*as64([[1, 2], [3, 4]], [[1, 2], [3, 4]])))
    np.testing.assert_array_equal(ctf.pairwise.cosine_similarity(tf.zeros([2, 0])).numpy(),
                                  np.zeros((2, 2), np.float32))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("largest", [True, False])
def test_top_k(mode, dtype, largest):
    rng = np.random.default_rng(3)
    q = rows(rng, (4, 5), dtype, zero=[3])
    c = rows(rng, (9, 5), dtype)
    c[6] = c[2]          # a tie: the lower index first
    c[4] = 2 * c[1]      # the same direction: equal cosines up to rounding
    u = rng.standard_normal((4, 3)).astype(dtype)
    out = {}

    def values(a, b):
        v, i = ctf.pairwise.top_k(a, b, 3, largest=largest)
        out["indices"] = i
        return v

    value, grads = run(values, [q, c], mode=mode, upstream=u)
    q64, c64 = as64(q, c)
    full = ref_cos(q64, c64)
    # The op ranks its own (dtype) cosines: rank them as it must.
    want = ref_top_k(full.astype(dtype), 3, largest)
    indices = out["indices"]
    if mode == "eager":
        assert indices.dtype == tf.int64
        np.testing.assert_array_equal(indices.numpy(), want)
    g = np.zeros_like(full)
    for i in range(4):
        g[i, want[i]] += u[i]
    check(value, grads, np.take_along_axis(full, want, 1), ref_cos_grad(q64, c64, g), dtype)
    assert (np.diff(value, axis=1) <= 0).all() if largest else (np.diff(value, axis=1) >= 0).all()


def _top_k_eager(q, c, k, largest=True, backend=None):
    v, i = ctf.pairwise.top_k(q, c, k, largest=largest, backend=backend)
    return v.numpy(), i.numpy()


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_top_k_ties_nan_and_k_beyond_the_corpus(dtype):
    c = np.array([[1, 0], [0, 1], [1, 0], [np.nan, 0], [-1, 0], [2, 0]], dtype)
    q = np.array([[1, 0], [0, 0]], dtype)  # the zero query: every cosine 0 (NaN row aside)
    v, i = _top_k_eager(q, c, 10)
    assert v.shape == i.shape == (2, 6)
    np.testing.assert_array_equal(i, [[3, 0, 2, 5, 1, 4], [3, 0, 1, 2, 4, 5]])
    assert np.isnan(v[:, 0]).all()
    np.testing.assert_array_equal(v[0, 1:], [1, 1, 1, 0, -1])
    v, i = _top_k_eager(q, c, 4, largest=False)
    np.testing.assert_array_equal(i, [[4, 1, 0, 2], [0, 1, 2, 4]])
    v, i = _top_k_eager(q, c, 0)
    assert v.shape == i.shape == (2, 0)
    v, i = _top_k_eager(q, np.zeros((0, 2), dtype), 3)
    assert v.shape == i.shape == (2, 0)


def test_tf_math_top_k_is_stable_as_the_tf_backend_assumes():
    _, positions = tf.math.top_k(tf.constant([[1, 3, 3, 2, 3]], tf.int32), 4)
    assert positions.numpy().tolist() == [[1, 2, 4, 3]]
    _, positions = tf.math.top_k(tf.constant([[5] * 7 + [6]], tf.int64), 8)
    assert positions.numpy().tolist() == [[7, 0, 1, 2, 3, 4, 5, 6]]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("k", [1, 4, 7, 40])
def test_top_k_corpus_chunks_merge_exactly(monkeypatch, dtype, k):
    """The tf backend's chunked ranking gives the one-block ranking, bit for bit,
    with chunks smaller and larger than k, static and unknown shapes."""
    rng = np.random.default_rng(4)
    q = rows(rng, (6, 3), dtype)
    c = np.concatenate([rows(rng, (20, 3), dtype)] * 2)  # every row twice: ties across chunks
    c[5, 0] = np.nan
    want = _top_k_eager(q, c, k, backend="tf")
    monkeypatch.setattr(_embedding, "CORPUS_CHUNK", 3)
    got = _top_k_eager(q, c, k, backend="tf")
    np.testing.assert_array_equal(got[1], want[1])
    np.testing.assert_array_equal(got[0], want[0])
    fn = tf.function(lambda a, b: ctf.pairwise.top_k(a, b, k, backend="tf"),
                     input_signature=[tf.TensorSpec([None, None], dtype)] * 2)
    v, i = fn(q, c)
    np.testing.assert_array_equal(i.numpy(), want[1])
    np.testing.assert_array_equal(v.numpy(), want[0])
    c[5, 0] = 1.0  # gradients: a NaN cosine's partials are NaN whatever its upstream
    grads = []
    for chunk in (3, 10 ** 6):
        monkeypatch.setattr(_embedding, "CORPUS_CHUNK", chunk)
        qt, ct = tf.constant(q), tf.constant(c)
        with tf.GradientTape() as tape:
            tape.watch([qt, ct])
            v, _ = ctf.pairwise.top_k(qt, ct, k, backend="tf")
        grads.append([g.numpy() for g in tape.gradient(v, [qt, ct])])
    for got, want in zip(*grads):
        np.testing.assert_array_equal(got, want)


def test_top_k_static_shapes():
    with tf.Graph().as_default():
        q = tf.compat.v1.placeholder(tf.float32, [None, 3])
        v, i = ctf.pairwise.top_k(q, tf.ones([5, 3]), 8)
        assert v.shape.as_list() == i.shape.as_list() == [None, 5]
        v, i = ctf.pairwise.top_k(q, tf.compat.v1.placeholder(tf.float32, [None, 3]), 2)
        assert v.shape.as_list() == [None, None] and i.dtype == tf.int64
        s = ctf.pairwise.cosine_similarity(q, tf.ones([5, 3]))
        assert s.shape.as_list() == [None, 5]


# ---------------------------------------------------------------- contrastive losses


REDUCTIONS = ["sum_over_batch_size", "sum", "none"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("negatives,symmetric", [(None, False), ("2d", True), ("3d", False),
                                                 ("3d", True)])
def test_multiple_negatives_ranking_loss(mode, dtype, negatives, symmetric):
    rng = np.random.default_rng(5)
    a = rows(rng, (5, 4), dtype, zero=[2])
    p = rows(rng, (5, 4), dtype)
    inputs = [a, p]
    if negatives:
        inputs.append(rows(rng, (5, 4) if negatives == "2d" else (5, 2, 4), dtype))

    def loss(*xs):
        return ctf.contrastive.multiple_negatives_ranking_loss(*xs, scale=7.0,
                                                               symmetric=symmetric)

    value, grads = run(loss, inputs, mode=mode)
    args = as64(*inputs) + ([None] if not negatives else [])
    want, want_grads = ref_mnrl(*args, 7.0, symmetric)
    check(value, grads, want, want_grads, dtype)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weights", [None, "scalar", "[B]"])
def test_multiple_negatives_ranking_loss_reductions(reduction, weights):
    rng = np.random.default_rng(6)
    a, p = rows(rng, (4, 3), F64), rows(rng, (4, 3), F64)
    w = {None: None, "scalar": 0.5, "[B]": np.array([1.0, 0.0, 2.0, 0.5])}[weights]
    u = rng.standard_normal(4) if reduction == "none" else 1.3
    value, grads = run(lambda x, y: ctf.contrastive.multiple_negatives_ranking_loss(
        x, y, reduction=reduction, sample_weight=w, symmetric=True), [a, p], upstream=u)
    want, want_grads = ref_mnrl(a, p, None, 20.0, True, reduction, w, u)
    check(value, grads, want, want_grads, F64)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_ntxent(mode, dtype):
    temperature = 0.07 if mode == "eager" else 0.5  # optax's default, and another
    rng = np.random.default_rng(7)
    e = rows(rng, (6, 3), dtype, zero=[4])
    labels = np.array([0, 1, 0, 2, 1, 0], np.int32)  # label 2 has no positive pair
    value, grads = run(lambda x, l: ctf.contrastive.ntxent(x, l, temperature=temperature),
                       [e], [labels], mode=mode)
    want, want_grads = ref_ntxent(*as64(e), labels, temperature, np.finfo(dtype).eps)
    check(value, grads, want, want_grads, dtype)


def test_ntxent_edge_cases():
    # optax's 0/0 without a positive pair; rows without a negative; a tiny temperature
    # whose per-pair shift keeps every log finite.
    assert np.isnan(ctf.contrastive.ntxent(tf.eye(3), [0, 1, 2]).numpy())
    e = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]])
    np.testing.assert_allclose(ctf.contrastive.ntxent(e, [1, 1, 1]).numpy(), 0.0, atol=1e-15)
    labels = np.array([0, 0, 1])
    value, (grad,) = run(lambda x: ctf.contrastive.ntxent(x, labels, temperature=1e-3), [e])
    # s = cos/T: the first pair's loss is log(1 + exp((0 - 0.8)/T)) ≈ 0: finite.
    assert np.isfinite(value) and np.isfinite(grad).all()
    want, (want_grad,) = ref_ntxent(e, labels, 0.05, np.finfo(np.float64).eps)
    value, (grad,) = run(lambda x: ctf.contrastive.ntxent(x, labels, temperature=0.05), [e])
    np.testing.assert_allclose(value, want, rtol=1e-10)
    np.testing.assert_allclose(grad, want_grad, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("swap", [False, True])
def test_triplet_margin_loss(mode, dtype, swap):
    rng = np.random.default_rng(8)
    a = rows(rng, (6, 4), dtype, zero=[1])
    p = rows(rng, (6, 4), dtype)
    n = rows(rng, (6, 4), dtype, zero=[3])
    p[4] = a[4]  # d(a, n) == d(p, n): torch.minimum shares the gradient

    def loss(*xs):
        return ctf.contrastive.triplet_margin_loss(*xs, margin=0.8, swap=swap)

    value, grads = run(loss, [a, p, n], mode=mode)
    want, want_grads = ref_triplet(*as64(a, p, n), 0.8, swap)
    check(value, grads, want, want_grads, dtype)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_triplet_margin_loss_reductions(reduction):
    rng = np.random.default_rng(9)
    a, p, n = (rows(rng, (5, 3), F64) for _ in range(3))
    w = np.array([1.0, 0.0, 2.0, 0.5, 1.5])
    u = rng.standard_normal(5) if reduction == "none" else 0.7
    value, grads = run(lambda *xs: ctf.contrastive.triplet_margin_loss(
        *xs, margin=0.3, reduction=reduction, sample_weight=w), [a, p, n], upstream=u)
    want, want_grads = ref_triplet(a, p, n, 0.3, False, reduction, w, u)
    check(value, grads, want, want_grads, F64)


# ---------------------------------------------------------------- against TensorFlow itself


def tf_cos(x, y):
    return tf.matmul(tf.math.l2_normalize(x, 1), tf.math.l2_normalize(y, 1), transpose_b=True)


def tf_mnrl(a, p, *neg, scale=20.0, symmetric=False):
    cands = tf.concat([p] + list(neg), axis=0)
    scores = scale * tf_cos(a, cands)
    labels = tf.range(tf.shape(a)[0])
    forward = tf.nn.sparse_softmax_cross_entropy_with_logits(labels, scores)
    if not symmetric:
        return tf.reduce_mean(forward)
    backward = tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels, tf.transpose(scores[:, :tf.shape(a)[0]]))
    return tf.reduce_mean((forward + backward) / 2)


def tf_ntxent(e, labels, temperature=0.07):
    """optax's ntxent, line by line, in TensorFlow."""
    xcs = tf_cos(e, e) / temperature
    matches = tf.equal(labels[:, None], labels[None, :])
    diffs = tf.logical_not(matches)
    matches = tf.logical_and(matches, tf.logical_not(tf.eye(tf.shape(e)[0], dtype=tf.bool)))
    minus_inf = tf.fill(tf.shape(xcs), tf.constant(-np.inf, xcs.dtype))
    xcs_diffs = tf.where(diffs, xcs, minus_inf)
    xcs_matches = tf.where(matches, xcs, minus_inf)
    top = tf.stop_gradient(tf.reduce_max(tf.concat([xcs_diffs, xcs_matches], 1), 1,
                                         keepdims=True))
    numer = xcs_matches - top
    denom = tf.reduce_sum(tf.exp(xcs_diffs - top), 1, keepdims=True) + tf.exp(numer)
    log_softm = numer - tf.math.log(denom)
    log_softm = tf.where(matches, log_softm, tf.zeros_like(log_softm))
    return -tf.reduce_sum(log_softm) / tf.reduce_sum(tf.cast(matches, xcs.dtype))


def tf_triplet(a, p, n, margin=1.0):
    def d(x, y):
        return 1.0 - tf.reduce_sum(tf.math.l2_normalize(x, 1) * tf.math.l2_normalize(y, 1), 1)
    return tf.reduce_mean(tf.maximum(d(a, p) - d(a, n) + margin, 0.0))


# TensorFlow's float32 composition rounds at every step (softmax, l2_normalize,
# the product); cosloss's finishes in float64, so float32 losses are held to
# the float32 tolerance times the scale of their logits.
PARITY_TOL = {F32: dict(rtol=1e-5, atol=1e-5), F64: tol(F64)}


PARITY = {
    "cosine_similarity": (2, tf_cos, lambda x, y: ctf.pairwise.cosine_similarity(x, y)),
    "top_k": (2, lambda q, c: tf.math.top_k(tf_cos(q, c), 3).values,
              lambda q, c: ctf.pairwise.top_k(q, c, 3)[0]),
    "mnrl": (2, lambda a, p: tf_mnrl(a, p, scale=5.0),
             lambda a, p: ctf.contrastive.multiple_negatives_ranking_loss(a, p, scale=5.0)),
    "mnrl_negatives_symmetric": (
        3, lambda a, p, n: tf_mnrl(a, p, n, scale=5.0, symmetric=True),
        lambda a, p, n: ctf.contrastive.multiple_negatives_ranking_loss(a, p, n, scale=5.0,
                                                                         symmetric=True)),
    "ntxent": (1, lambda e, l: tf_ntxent(e, l, 0.5),
               lambda e, l: ctf.contrastive.ntxent(e, l, 0.5)),
    "triplet": (3, tf_triplet, ctf.contrastive.triplet_margin_loss),
}


@pytest.mark.parametrize("mode", ["graph", "eager"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("op", sorted(PARITY))
def test_parity_with_tensorflows_composition(mode, dtype, op):
    count, tf_fn, cl_fn = PARITY[op]
    rng = np.random.default_rng(10)
    inputs = [rows(rng, (6, 4), dtype) for _ in range(count)]
    extras = [np.array([0, 1, 0, 1, 2, 2], np.int64)] if op == "ntxent" else []
    expected, actual = run_pair(mode, tf_fn, cl_fn, inputs, extras, seed=11)
    assert_pair_close(expected, actual, PARITY_TOL[dtype], what=op)


# ---------------------------------------------------------------- Keras and graphs


def test_keras_model_fit_step_with_a_contrastive_loss():
    """One SGD step of model.fit with cosloss's MNRL gives the weights of the same step
    taken by hand with TensorFlow's composition of sentence-transformers' formula."""
    rng = np.random.default_rng(12)
    x = rng.standard_normal((8, 2, 6)).astype(np.float32)
    inputs = tf.keras.Input((2, 6))
    dense = tf.keras.layers.Dense(4, use_bias=False)
    model = tf.keras.Model(inputs, dense(inputs))
    w0 = dense.kernel.numpy().copy()

    def loss(y_true, y_pred):
        return ctf.contrastive.multiple_negatives_ranking_loss(y_pred[:, 0], y_pred[:, 1],
                                                               scale=5.0, symmetric=True)

    model.compile(optimizer=tf.keras.optimizers.SGD(0.5), loss=loss, jit_compile=False)
    history = model.fit(x, np.zeros((8, 1), np.float32), batch_size=8, epochs=1,
                        shuffle=False, verbose=0)
    w = tf.Variable(w0)
    with tf.GradientTape() as tape:
        e = tf.einsum("bkd,de->bke", x, w)
        want = tf_mnrl(e[:, 0], e[:, 1], scale=5.0, symmetric=True)
    step = tape.gradient(want, w).numpy()
    assert np.abs(step).max() > 1e-3  # the loss does move the weights
    np.testing.assert_allclose(history.history["loss"][0], want.numpy(), rtol=1e-5)
    np.testing.assert_allclose(dense.kernel.numpy(), w0 - 0.5 * step, rtol=1e-5, atol=1e-6)


def test_graph_mode_with_unknown_batch():
    rng = np.random.default_rng(13)
    a, p, n = (rows(rng, (5, 3), F32) for _ in range(3))
    with tf.Graph().as_default():
        ph = [tf.compat.v1.placeholder(tf.float32, [None, 3]) for _ in range(3)]
        loss = ctf.contrastive.triplet_margin_loss(*ph, reduction="none")
        assert loss.shape.as_list() == [None]
        grads = tf.gradients(loss, ph)
        with tf.compat.v1.Session() as sess:
            value, grad_values = sess.run([loss, grads], dict(zip(ph, [a, p, n])))
    want, want_grads = ref_triplet(*as64(a, p, n), 1.0, False, "none", upstream=np.ones(5))
    check(value, grad_values, want, want_grads, F32)


# ---------------------------------------------------------------- errors


def test_errors_name_the_argument():
    x = tf.ones([2, 3])
    with pytest.raises(ValueError, match=r"x as a 2-D .* got x of shape \(3,\)"):
        ctf.pairwise.cosine_similarity(tf.ones([3]))
    with pytest.raises(ValueError, match="y of shape"):
        ctf.pairwise.cosine_similarity(x, tf.ones([2, 4]))
    with pytest.raises(TypeError, match="x of dtype float16"):
        ctf.pairwise.cosine_similarity(tf.ones([2, 3], tf.float16))
    with pytest.raises(TypeError, match="real dtype"):
        ctf.pairwise.cosine_similarity(tf.ones([2, 3], tf.complex64))
    with pytest.raises(TypeError, match="k as an int"):
        ctf.pairwise.top_k(x, x, 2.0)
    with pytest.raises(TypeError, match="k as an int"):
        ctf.pairwise.top_k(x, x, True)
    with pytest.raises(ValueError, match="k >= 0"):
        ctf.pairwise.top_k(x, x, -1)
    with pytest.raises(ValueError, match="corpus as a 2-D"):
        ctf.pairwise.top_k(x, tf.ones([2, 2, 3]), 1)
    mnrl = ctf.contrastive.multiple_negatives_ranking_loss
    with pytest.raises(ValueError, match="batch size"):
        mnrl(x, tf.ones([3, 3]))
    with pytest.raises(ValueError, match="negatives as a"):
        mnrl(x, x, tf.ones([2]))
    with pytest.raises(ValueError, match="number of features"):
        mnrl(x, x, tf.ones([2, 2, 4]))
    with pytest.raises(ValueError, match="Invalid Reduction Key mean"):
        mnrl(x, x, reduction="mean")
    with pytest.raises(TypeError, match="scale as a real number"):
        mnrl(x, x, scale="20")
    with pytest.raises(ValueError, match="sample_weight"):
        mnrl(x, x, sample_weight=tf.ones([3]))
    with pytest.raises(TypeError, match="labels of an integer dtype"):
        ctf.contrastive.ntxent(x, [0.0, 1.0])
    with pytest.raises(ValueError, match="labels"):
        ctf.contrastive.ntxent(x, [0, 1, 1])
    with pytest.raises(ValueError, match="temperature > 0"):
        ctf.contrastive.ntxent(x, [0, 1], temperature=0.0)
    with pytest.raises(ValueError, match="negatives of shape"):
        ctf.contrastive.triplet_margin_loss(x, x, tf.ones([2, 4]))
    with pytest.raises(TypeError, match="margin as a real number"):
        ctf.contrastive.triplet_margin_loss(x, x, x, margin=None)
