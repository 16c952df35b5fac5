"""cosloss.contrastive against numpy float64 references written from the peers' formulas.

The references (this file's first section) never call cosloss:
  * ref_mnrl: sentence-transformers' MultipleNegativesRankingLoss and
    MultipleNegativesSymmetricRankingLoss (losses/MultipleNegatives*.py):
    scores = cos_sim(anchors, cat([positives, *negative columns])) * scale,
    CrossEntropyLoss(scores, arange(B)); the symmetric one averages it with
    CrossEntropyLoss(scores[:, :B].T, arange(B)).
  * ref_ntxent: optax.losses.ntxent (optax/losses/_self_supervised.py), line
    for line with its -inf masks, stop-gradient max and 0/0.
  * ref_triplet: torch.nn.TripletMarginWithDistanceLoss's documented
    formula with d = 1 - cos and its swap.
Cosines floor the squared norm as cosloss documents: 1e-12 (TensorFlow's
l2_normalize) for the first and last, finfo(dtype).eps for ntxent (optax's
cosine_similarity(epsilon=...)). Analytic reference gradients are checked
against central differences of the references themselves; cosloss's
gradients against both.
"""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cosloss
from cosloss import contrastive as C
from cosloss._core import contrastive_go

# ---- references ---------------------------------------------------------------


def _unit(x, eps):
    """x / sqrt(max(Σx², eps)) per row, float64, and whether Σx² reached eps."""
    x = np.asarray(x, np.float64)
    ss = np.sum(x * x, axis=-1, keepdims=True)
    return x / np.sqrt(np.maximum(ss, eps)), ss >= eps


def _unit_backward(x, d_unit, eps):
    """The gradient through _unit: (d_unit - (d_unit·u) u) / n above the floor, d_unit / n under it."""
    x = np.asarray(x, np.float64)
    u, keep = _unit(x, eps)
    n = np.sqrt(np.maximum(np.sum(x * x, axis=-1, keepdims=True), eps))
    radial = np.sum(d_unit * u, axis=-1, keepdims=True) * u
    return (d_unit - np.where(keep, radial, 0.0)) / n


def _logsumexp(s):
    m = np.max(s, axis=1, keepdims=True)
    return (m + np.log(np.sum(np.exp(s - m), axis=1, keepdims=True)))[:, 0]


def _softmax(s):
    e = np.exp(s - np.max(s, axis=1, keepdims=True))
    return e / np.sum(e, axis=1, keepdims=True)


def _candidates(p, n):
    """sentence-transformers' torch.cat(embeddings[1:]): positives, then each negative column."""
    cols = [np.asarray(p, np.float64)]
    if n is not None:
        n = np.asarray(n, np.float64)
        cols += [n] if n.ndim == 2 else [n[:, t] for t in range(n.shape[1])]
    return np.concatenate(cols, axis=0)


def _ce(a, c, scale, eps=1e-12):
    """Per-anchor cross-entropy of scale·cos(a_i, c_j), target j = i, and dloss/dscores."""
    ua, _ = _unit(a, eps)
    uc, _ = _unit(c, eps)
    s = scale * ua @ uc.T
    b = len(a)
    losses = _logsumexp(s) - s[np.arange(b), np.arange(b)] if b else np.zeros(0)
    dscores = _softmax(s) if b else s
    dscores[np.arange(b), np.arange(b)] -= 1
    return losses, dscores, ua, uc


def ref_mnrl(a, p, n=None, scale=20.0, symmetric=False):
    """Per-sample losses, float64."""
    losses = _ce(a, _candidates(p, n), scale)[0]
    if symmetric:
        losses = (losses + _ce(p, a, scale)[0]) / 2
    return losses


def ref_mnrl_grad(a, p, n, scale, symmetric, coef, eps=1e-12):
    """The gradients of Σ coef_i·loss_i (analytic, full matrix): (da, dp[, dn])."""
    a, p = np.asarray(a, np.float64), np.asarray(p, np.float64)
    c = _candidates(p, n)
    w = 0.5 if symmetric else 1.0
    _, ds, ua, uc = _ce(a, c, scale, eps)
    g = w * coef[:, None] * ds * scale          # dL/dcos
    da = _unit_backward(a, g @ uc, eps)
    dc = _unit_backward(c, g.T @ ua, eps)
    b = len(a)
    dp = dc[:b]
    if symmetric:
        _, ds2, up, ua2 = _ce(p, a, scale, eps)
        g2 = w * coef[:, None] * ds2 * scale
        dp = dp + _unit_backward(p, g2 @ ua2, eps)
        da = da + _unit_backward(a, g2.T @ up, eps)
    if n is None:
        return da, dp
    n = np.asarray(n)
    if n.ndim == 2:
        return da, dp, dc[b:].reshape(n.shape)
    k = n.shape[1]
    return da, dp, dc[b:].reshape(k, b, -1).transpose(1, 0, 2)


def ref_ntxent(x, labels, temperature=0.07, eps=None):
    """optax.losses.ntxent in float64, written as optax writes it."""
    x = np.asarray(x, np.float64)
    if eps is None:
        eps = float(np.finfo(np.float32).eps)
    u, _ = _unit(x, eps)
    xcs = (u @ u.T) / temperature
    labels = np.asarray(labels)
    same = labels[:, None] == labels[None, :]
    diffs = ~same
    matches = same & ~np.eye(len(x), dtype=bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        xcs_diffs = np.where(diffs, xcs, -np.inf)
        xcs_matches = np.where(matches, xcs, -np.inf)
        xcs_max = np.max(np.concatenate([xcs_diffs, xcs_matches], axis=1), axis=1, keepdims=True)
        numer = xcs_matches - xcs_max
        denom = np.sum(np.exp(xcs_diffs - xcs_max), axis=1, keepdims=True) + np.exp(numer)
        log_softm = numer - np.log(denom)
        return -np.where(matches, log_softm, 0.0).sum() / matches.sum()


def ref_ntxent_grad(x, labels, temperature=0.07, eps=None, upstream=1.0):
    """d ntxent / dx, analytic (both sides of cos(x, x)); 0 without positive pairs."""
    x = np.asarray(x, np.float64)
    if eps is None:
        eps = float(np.finfo(np.float32).eps)
    u, _ = _unit(x, eps)
    s = (u @ u.T) / temperature
    labels = np.asarray(labels)
    same = labels[:, None] == labels[None, :]
    pos = same & ~np.eye(len(x), dtype=bool)
    neg = ~same
    pairs = pos.sum()
    if pairs == 0:
        return np.zeros_like(x)
    g = np.zeros_like(s)
    for i in range(len(x)):
        m = np.max(np.where(pos[i] | neg[i], s[i], -np.inf))
        e = np.exp(s[i] - m)
        d = np.sum(np.where(neg[i], e, 0.0))
        for j in np.nonzero(pos[i])[0]:
            g[i, j] += e[j] / (d + e[j]) - 1
            g[i] += np.where(neg[i], e / (d + e[j]), 0.0)
    g *= upstream / pairs / temperature
    return _unit_backward(x, g @ u + g.T @ u, eps)


def ref_triplet(a, p, n, margin=1.0, swap=False):
    """Per-sample losses: max(margin + d(a, p) - d(a, n), 0), d = 1 - cos, float64."""
    def d(x, y):
        return 1 - np.sum(_unit(x, 1e-12)[0] * _unit(y, 1e-12)[0], axis=1)
    d_an = d(a, n)
    if swap:
        d_an = np.minimum(d_an, d(p, n))
    return np.maximum(margin + d(a, p) - d_an, 0.0)


def keras_reduce(losses, sample_weight, reduction):
    """Keras's reduction of per-sample losses (weights broadcast to them)."""
    w = np.broadcast_to(1.0 if sample_weight is None else np.asarray(sample_weight, np.float64),
                        losses.shape)
    weighted = losses * w
    if reduction == "none":
        return weighted
    if reduction == "sum":
        return weighted.sum()
    return weighted.sum() / losses.size if losses.size else 0.0


def central_differences(f, arrays, h=1e-6):
    """d f / d arrays[k] for every k, by central differences, in float64."""
    arrays = [np.array(x, np.float64) for x in arrays]
    grads = []
    for x in arrays:
        g = np.zeros_like(x)
        for idx in np.ndindex(x.shape):
            v = x[idx]
            x[idx] = v + h
            up = f(*arrays)
            x[idx] = v - h
            down = f(*arrays)
            x[idx] = v
            g[idx] = (up - down) / (2 * h)
        grads.append(g)
    return grads


def rng_rows(seed, *shape, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# ---- the references against each other ------------------------------------------


def test_reference_gradients_match_finite_differences():
    a, p, n = rng_rows(1, 3, 4), rng_rows(2, 3, 4), rng_rows(3, 3, 2, 4)
    coef = np.array([0.3, 1.0, 0.7])
    for sym in (False, True):
        def f(a, p, n):
            return float(coef @ ref_mnrl(a, p, n, 3.0, sym))
        fd = central_differences(f, [a, p, n])
        for got, want in zip(ref_mnrl_grad(a, p, n, 3.0, sym, coef), fd):
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)
    x, labels = rng_rows(4, 6, 3), [0, 1, 0, 1, 2, 0]
    fd = central_differences(lambda x: ref_ntxent(x, labels, 0.5), [x])[0]
    np.testing.assert_allclose(ref_ntxent_grad(x, labels, 0.5), fd, rtol=1e-6, atol=1e-8)


# ---- multiple_negatives_ranking_loss --------------------------------------------


def _mnrl_grads(*args, **kw):
    return cosloss.value_and_grad(C.multiple_negatives_ranking_loss, *args, **kw)


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-10), (np.float32, 2e-5)])
@pytest.mark.parametrize("neg_shape", [None, (5, 3), (5, 2, 3)])
@pytest.mark.parametrize("symmetric", [False, True])
def test_mnrl_value_and_gradients(dtype, tol, neg_shape, symmetric):
    a, p = rng_rows(10, 5, 3, dtype=dtype), rng_rows(11, 5, 3, dtype=dtype)
    n = None if neg_shape is None else rng_rows(12, *neg_shape, dtype=dtype)
    a[1] = 0            # a zero anchor: finite, cosine 0
    p[3] = a[0]         # a duplicate
    value, grads = _mnrl_grads(a, p, n, scale=7.0, symmetric=symmetric)
    assert value.dtype == dtype and all(g.dtype == dtype for g in grads)
    want = ref_mnrl(a, p, n, 7.0, symmetric).mean()
    np.testing.assert_allclose(value, want, rtol=tol)
    assert np.isclose(C.multiple_negatives_ranking_loss(a, p, n, 7.0, symmetric), value, rtol=tol,
                      atol=0)
    coef = np.full(5, 1 / 5)
    ref_grads = ref_mnrl_grad(a, p, n, 7.0, symmetric, coef)
    assert len(grads) == len(ref_grads)
    for got, ref in zip(grads, ref_grads):
        assert got.shape == ref.shape and np.all(np.isfinite(got))
        np.testing.assert_allclose(got, ref, rtol=tol, atol=tol * np.abs(ref).max())
    if dtype == np.float64:
        fd = central_differences(lambda *xs: ref_mnrl(*xs[:2], xs[2] if n is not None else None,
                                                      7.0, symmetric).mean(),
                                 [a, p] + ([n] if n is not None else [np.zeros(1)]))
        # Not at the zero anchor: a step of 1e-6 crosses the norm floor (1e-12 = (1e-6)²).
        fd[0][1] = grads[0][1]
        for got, want in zip(grads, fd):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)


def test_mnrl_default_scale_and_one_anchor():
    a, p = rng_rows(20, 1, 4), rng_rows(21, 1, 4)
    # One anchor, one candidate: the softmax is 1, the loss and its gradient 0.
    value, (da, dp) = _mnrl_grads(a, p)
    assert value == 0 and not da.any() and not dp.any()
    a, p = rng_rows(22, 4, 8), rng_rows(23, 4, 8)
    np.testing.assert_allclose(C.multiple_negatives_ranking_loss(a, p), ref_mnrl(a, p).mean(),
                               rtol=1e-12)


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "auto", "sum", "none"])
@pytest.mark.parametrize("sample_weight", [None, 0.5, [1.0, 0.0, 2.0, 0.5], [[1.0], [2.0], [0.0], [3.0]]])
def test_mnrl_reductions_and_weights(reduction, sample_weight):
    a, p, n = rng_rows(30, 4, 3), rng_rows(31, 4, 3), rng_rows(32, 4, 3)
    sw = None if sample_weight is None else np.asarray(sample_weight, np.float64)
    sw_flat = None if sw is None else sw.reshape(-1) if sw.ndim else sw
    want = keras_reduce(ref_mnrl(a, p, n, 20.0, True), sw_flat, reduction)
    value = C.multiple_negatives_ranking_loss(a, p, n, symmetric=True, reduction=reduction,
                                              sample_weight=sample_weight)
    np.testing.assert_allclose(value, want, rtol=1e-11, atol=1e-14)
    # The gradient of sum(upstream · value): coef = upstream · w / (B for the mean).
    upstream = np.arange(1.0, 5.0) if reduction == "none" else 1.5
    value, grads = _mnrl_grads(a, p, n, symmetric=True, reduction=reduction,
                               sample_weight=sample_weight, upstream=upstream)
    w = np.ones(4) if sw is None else np.broadcast_to(sw_flat, (4,))
    coef = np.broadcast_to(upstream, (4,)) * w / (4 if reduction in ("auto", "sum_over_batch_size") else 1)
    for got, ref in zip(grads, ref_mnrl_grad(a, p, n, 20.0, True, coef)):
        np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-12)


@settings(max_examples=25)
@given(b=st.integers(1, 9), d=st.integers(1, 6), k=st.integers(0, 3), seed=st.integers(0, 2**32 - 1),
       symmetric=st.booleans(), dtype=st.sampled_from([np.float32, np.float64]))
def test_mnrl_hypothesis_shapes(b, d, k, seed, symmetric, dtype):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((b, d)).astype(dtype)
    p = (a + 0.5 * rng.standard_normal((b, d))).astype(dtype)
    n = rng.standard_normal((b, k, d)).astype(dtype) if k else None
    value, grads = _mnrl_grads(a, p, n, scale=10.0, symmetric=symmetric)
    tol = 1e-10 if dtype == np.float64 else 5e-5
    np.testing.assert_allclose(value, ref_mnrl(a, p, n, 10.0, symmetric).mean(), rtol=tol, atol=tol)
    # A gradient's terms are about scale·coef/‖x‖ each; where they cancel
    # (d = 1: every cosine is ±1) that is the yardstick.
    rows = np.concatenate([a, p] + ([n.reshape(-1, d)] if k else [])).astype(np.float64)
    terms = 10.0 / b / np.sqrt(np.maximum(np.sum(rows * rows, axis=1), 1e-12)).min()
    for got, ref in zip(grads, ref_mnrl_grad(a, p, n, 10.0, symmetric, np.full(b, 1 / b))):
        np.testing.assert_allclose(got, ref, rtol=tol, atol=tol * max(np.abs(ref).max(), terms))


def test_mnrl_zero_and_duplicate_rows_are_finite():
    a = np.zeros((3, 4), np.float32)
    p = np.zeros((3, 4), np.float32)
    value, grads = _mnrl_grads(a, p)
    np.testing.assert_allclose(value, np.log(3), rtol=1e-6)  # all scores 0: log B
    assert all(np.all(np.isfinite(g)) for g in grads)
    a = np.ones((4, 2))
    value, grads = _mnrl_grads(a, a.copy())
    np.testing.assert_allclose(value, np.log(4), rtol=1e-12)  # every candidate ties
    assert all(np.all(np.isfinite(g)) for g in grads)


def test_mnrl_float32_against_float64():
    a, p, n = rng_rows(40, 16, 8), rng_rows(41, 16, 8), rng_rows(42, 16, 2, 8)
    v64, g64 = _mnrl_grads(a, p, n, symmetric=True)
    v32, g32 = _mnrl_grads(a.astype(np.float32), p.astype(np.float32), n.astype(np.float32),
                           symmetric=True)
    np.testing.assert_allclose(v32, v64, rtol=1e-5)
    for x32, x64 in zip(g32, g64):
        np.testing.assert_allclose(x32, x64, rtol=1e-4, atol=1e-6 * np.abs(x64).max())


def test_mnrl_strided_inputs_and_out():
    base = rng_rows(50, 6, 10)
    a = base[:, ::2]            # inner stride 2: copied
    p = base[::-1, 1::2]        # negative row stride: copied
    n = rng_rows(51, 12, 5)[::2]  # row stride 10 elements: read in place
    value, grads = _mnrl_grads(a, p, n)
    want = ref_mnrl(a, p, n).mean()
    np.testing.assert_allclose(value, want, rtol=1e-12)
    out = tuple(np.empty_like(g) for g in grads)
    value2, got = _mnrl_grads(a, p, n, out=out)
    assert got is out and value2 == value
    for g, o in zip(grads, out):
        np.testing.assert_array_equal(g, o)


def test_inputs_are_not_modified():
    a, p, n = rng_rows(60, 4, 3), rng_rows(61, 4, 3), rng_rows(62, 4, 2, 3)
    labels = np.array([0, 1, 0, 1])
    copies = [x.copy() for x in (a, p, n, labels)]
    _mnrl_grads(a, p, n, symmetric=True)
    cosloss.value_and_grad(C.ntxent, a, labels)
    cosloss.value_and_grad(C.triplet_margin_loss, a, p, n[:, 0], swap=True)
    for x, c in zip((a, p, n, labels), copies):
        np.testing.assert_array_equal(x, c)


def test_mnrl_errors_name_the_argument():
    a = np.ones((3, 2), np.float32)
    with pytest.raises(ValueError, match=r"anchors of shape \(batch, dim\), got shape \(2,\)"):
        C.multiple_negatives_ranking_loss(a[0], a[0])
    with pytest.raises(ValueError, match=r"positives of the shape of anchors \(3, 2\), got \(2, 2\)"):
        C.multiple_negatives_ranking_loss(a, a[:2])
    with pytest.raises(ValueError, match=r"negatives of shape \(3, 2\) or \(3, k, 2\).*got \(3, 1, 3\)"):
        C.multiple_negatives_ranking_loss(a, a, np.ones((3, 1, 3), np.float32))
    with pytest.raises(TypeError, match="anchors has dtype float32 but positives has dtype float64"):
        C.multiple_negatives_ranking_loss(a, a.astype(np.float64))
    with pytest.raises(TypeError, match="needs anchors of a floating dtype.*got int64"):
        C.multiple_negatives_ranking_loss(np.ones((3, 2), np.int64), a)
    with pytest.raises(ValueError, match="scale > 0"):
        C.multiple_negatives_ranking_loss(a, a, scale=0.0)
    with pytest.raises(TypeError, match="symmetric must be a bool"):
        C.multiple_negatives_ranking_loss(a, a, symmetric=1)
    with pytest.raises(ValueError, match="Invalid Reduction Key"):
        C.multiple_negatives_ranking_loss(a, a, reduction="mean")
    with pytest.raises(ValueError, match="sample_weight"):
        C.multiple_negatives_ranking_loss(a, a, sample_weight=[1.0, 2.0])


def test_empty_batch():
    a = np.zeros((0, 3))
    value, (da, dp) = _mnrl_grads(a, a)
    assert value == 0 and da.shape == (0, 3) and dp.shape == (0, 3)
    assert C.multiple_negatives_ranking_loss(a, a, reduction="none").shape == (0,)


def test_float16_and_python_lists():
    a = [[1.0, 0.0], [0.0, 1.0]]
    assert C.multiple_negatives_ranking_loss(a, a).dtype == np.float32   # lists: float32
    h = np.array(a, np.float16)
    value, (da, dp) = _mnrl_grads(h, h, scale=2.0)
    assert value.dtype == np.float16 and da.dtype == np.float16
    np.testing.assert_allclose(value, ref_mnrl(h, h, None, 2.0).mean(), rtol=1e-3)


# ---- ntxent ---------------------------------------------------------------------


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-10), (np.float32, 5e-5)])
@pytest.mark.parametrize("labels", [[0, 0, 1, 1], [0, 1, 0, 2, 1, 0, 3], [5, 5, 5],
                                    [0, 1, 0, 1, 0, 1, 0, 1]])
def test_ntxent_value_and_gradient(dtype, tol, labels):
    x = rng_rows(70, len(labels), 3, dtype=dtype)
    if len(labels) > 4:
        x[2] = 0    # a zero row: cosine 0, finite
        x[4] = x[1]  # a duplicate
    eps = float(np.finfo(dtype).eps)
    value, (dx,) = cosloss.value_and_grad(C.ntxent, x, labels, temperature=0.2)
    assert value.dtype == dtype and dx.dtype == dtype
    np.testing.assert_allclose(value, ref_ntxent(x, labels, 0.2, eps), rtol=tol)
    want = ref_ntxent_grad(x, labels, 0.2, eps)
    np.testing.assert_allclose(dx, want, rtol=tol, atol=tol * np.abs(want).max())
    if dtype == np.float64:
        fd = central_differences(lambda x: ref_ntxent(x, labels, 0.2, eps), [x])[0]
        if len(labels) > 4:
            fd[2] = dx[2]  # the zero row: a step crosses the norm floor
        np.testing.assert_allclose(dx, fd, rtol=1e-5, atol=1e-6)


def test_ntxent_optax_example_and_default_temperature():
    # optax's docstring example: four 1-d embeddings (after its linear model),
    # labels [0, 0, 1, 1]; its printed loss is 1.0986123 = log 3.
    out = np.array([[0.08969027], [1.6291292], [0.8622629], [0.13612625]], np.float32)
    np.testing.assert_allclose(C.ntxent(out, np.array([0, 0, 1, 1])), 1.0986123, rtol=1e-6)
    x = rng_rows(71, 6, 5)
    np.testing.assert_allclose(C.ntxent(x, [0, 1, 2, 0, 1, 2]),
                               ref_ntxent(x, [0, 1, 2, 0, 1, 2], 0.07, np.finfo(np.float64).eps),
                               rtol=1e-10)


def test_ntxent_without_positive_pairs():
    # optax divides 0 by 0: NaN; nothing reaches the gradient.
    x = rng_rows(72, 3, 2)
    value, (dx,) = cosloss.value_and_grad(C.ntxent, x, [0, 1, 2])
    assert np.isnan(value) and not dx.any()
    assert np.isnan(C.ntxent(x[:1], [4]))


def test_ntxent_upstream_and_errors():
    x, labels = rng_rows(73, 4, 3), [1, 1, 0, 0]
    _, (d1,) = cosloss.value_and_grad(C.ntxent, x, labels)
    _, (d3,) = cosloss.value_and_grad(C.ntxent, x, labels, upstream=3.0)
    np.testing.assert_allclose(d3, 3 * d1, rtol=1e-12)
    with pytest.raises(ValueError, match=r"labels of shape \(4,\).*got \(3,\)"):
        C.ntxent(x, [0, 1, 2])
    with pytest.raises(TypeError, match="labels of an integer"):
        C.ntxent(x, [0.5, 1.0, 0.0, 1.0])
    with pytest.raises(ValueError, match="temperature > 0"):
        C.ntxent(x, labels, temperature=-1.0)
    with pytest.raises(ValueError, match=r"embeddings of shape \(batch, dim\)"):
        C.ntxent(x[None], labels)


# ---- triplet_margin_loss --------------------------------------------------------


def _triplet_grads_ref(a, p, n, margin, swap, coef):
    """Analytic reference gradient through the hinge, the min and the cosines."""
    def d_and_grads(x, y):
        ux, kx = _unit(x, 1e-12)
        uy, ky = _unit(y, 1e-12)
        return 1 - np.sum(ux * uy, axis=1), ux, uy
    d_ap, ua, up = d_and_grads(a, p)
    d_an, ua2, un = d_and_grads(a, n)
    active = (margin + d_ap - (np.minimum(d_an, d_and_grads(p, n)[0]) if swap else d_an)) >= 0
    g = np.where(active, coef, 0.0)[:, None]
    da = _unit_backward(a, -g * up, 1e-12)
    dp = _unit_backward(p, -g * ua, 1e-12)
    dn = np.zeros_like(np.asarray(n, np.float64))
    g_an = g
    if swap:
        d_pn, up2, un2 = d_and_grads(p, n)
        to_an = np.where(d_an < d_pn, 1.0, np.where(d_an == d_pn, 0.5, 0.0))[:, None]
        g_an, g_pn = g * to_an, g * (1 - to_an)
        dp = dp + _unit_backward(p, g_pn * un2, 1e-12)
        dn = dn + _unit_backward(n, g_pn * up2, 1e-12)
    da = da + _unit_backward(a, g_an * un, 1e-12)
    dn = dn + _unit_backward(n, g_an * ua2, 1e-12)
    return da, dp, dn


@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none"])
def test_triplet_value_and_gradients(swap, reduction):
    a, p, n = rng_rows(80, 6, 4), rng_rows(81, 6, 4), rng_rows(82, 6, 4)
    n[0] = 0  # a zero negative: d = 1
    sw = np.array([1.0, 2.0, 0.0, 1.0, 0.5, 1.0])
    want = keras_reduce(ref_triplet(a, p, n, 0.3, swap), sw, reduction)
    got = C.triplet_margin_loss(a, p, n, margin=0.3, swap=swap, reduction=reduction,
                                sample_weight=sw)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    value, grads = cosloss.value_and_grad(C.triplet_margin_loss, a, p, n, 0.3, swap, reduction, sw)
    coef = sw / (6 if reduction == "sum_over_batch_size" else 1)
    for g, r in zip(grads, _triplet_grads_ref(a, p, n, 0.3, swap, coef)):
        np.testing.assert_allclose(g, r, rtol=1e-10, atol=1e-13)
    fd = central_differences(lambda a, p, n: float(np.sum(keras_reduce(
        ref_triplet(a, p, n, 0.3, swap), sw, reduction))), [a, p, n])
    fd[2][0] = grads[2][0]  # the zero negative: a step crosses the norm floor
    for g, f in zip(grads, fd):
        np.testing.assert_allclose(g, f, rtol=1e-5, atol=1e-6)


def test_triplet_float32_pytorch_order_and_swap_tie():
    a = np.array([[1., 0.], [0., 1.]], np.float32)
    p = np.array([[1., 1.], [0., 1.]], np.float32)
    value, (da, dp, dn) = cosloss.value_and_grad(C.triplet_margin_loss, a, p, a.copy(), swap=True)
    # n = a: d(a, n) = 0 <= d(p, n); each loss is margin + d(a, p), in float32.
    np.testing.assert_allclose(value, ((1 + (1 - np.sqrt(0.5))) + 1) / 2, rtol=1e-6)
    assert value.dtype == np.float32
    tie_p = np.array([[1., 0.]], np.float32)
    _, (da, dp, dn) = cosloss.value_and_grad(C.triplet_margin_loss, tie_p, tie_p, tie_p, swap=True)
    assert all(np.all(np.isfinite(g)) for g in (da, dp, dn))
    with pytest.raises(ValueError, match=r"negatives of the shape of anchors \(2, 2\), got \(1, 2\)"):
        C.triplet_margin_loss(a, p, a[:1])
    with pytest.raises(TypeError, match="swap must be a bool"):
        C.triplet_margin_loss(a, p, a, swap="yes")


# ---- bits, blocks, memory -------------------------------------------------------


def _all_outputs(fn, *args, **kw):
    value, grads = cosloss.value_and_grad(fn, *args, **kw)
    return (np.asarray(value),) + tuple(grads)


def _same_bits(results):
    (first_key, first), *rest = results.items()
    for key, got in rest:
        for x, y in zip(got, first):
            np.testing.assert_array_equal(np.atleast_1d(x).view(np.uint8), np.atleast_1d(y).view(np.uint8),
                                          err_msg=f"{key} against {first_key}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bits_across_kernel_sets_and_workers(restore_settings, dtype):
    # Products of 2**20 multiply-adds: large enough that the Go core splits them.
    a, p, n = (rng_rows(90 + i, 128, 32, dtype=dtype) for i in range(3))
    x = rng_rows(93, 200, 40, dtype=dtype)
    labels = np.random.default_rng(94).integers(0, 40, 200)
    cases = {
        "mnrl": lambda: _all_outputs(C.multiple_negatives_ranking_loss, a, p, n, symmetric=True),
        "ntxent": lambda: _all_outputs(C.ntxent, x, labels),
    }
    for name, case in cases.items():
        results = {}
        for kernel, workers in itertools.product(cosloss.kernels(), [1, 2, 3]):
            cosloss.set_kernel(kernel)
            cosloss.set_workers(workers)
            results[name, kernel, workers] = case()
        _same_bits(results)


@pytest.fixture
def small_blocks():
    """Anchor blocks of 8 rows (the least the core takes), whatever the batch."""
    previous = contrastive_go.set_working_set(1)
    yield
    contrastive_go.set_working_set(previous)


def test_block_boundaries(small_blocks):
    # B = 21: blocks of 8, 8 and 5 rows.
    a, p, n = rng_rows(100, 21, 5), rng_rows(101, 21, 5), rng_rows(102, 21, 2, 5)
    value, grads = _mnrl_grads(a, p, n, symmetric=True)
    np.testing.assert_allclose(value, ref_mnrl(a, p, n, 20.0, True).mean(), rtol=1e-6)
    for got, ref in zip(grads, ref_mnrl_grad(a, p, n, 20.0, True, np.full(21, 1 / 21))):
        np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-6 * np.abs(ref).max())
    contrastive_go.set_working_set(0)
    whole = _mnrl_grads(a, p, n, symmetric=True)
    # MultipleNegativesRanking's sums run in one order whatever the blocks.
    assert whole[0] == value and all(np.array_equal(g, w) for g, w in zip(grads, whole[1]))
    contrastive_go.set_working_set(1)
    labels = np.arange(21) % 4
    x = rng_rows(103, 21, 5)
    value, (dx,) = cosloss.value_and_grad(C.ntxent, x, labels, temperature=0.3)
    eps = float(np.finfo(np.float64).eps)
    np.testing.assert_allclose(value, ref_ntxent(x, labels, 0.3, eps), rtol=1e-6)
    want = ref_ntxent_grad(x, labels, 0.3, eps)
    np.testing.assert_allclose(dx, want, rtol=1e-6, atol=1e-6 * np.abs(want).max())


def test_signatures():
    import inspect

    def params(fn):
        return [(p.name, p.default) for p in inspect.signature(fn).parameters.values()]
    E = inspect.Parameter.empty
    assert params(C.multiple_negatives_ranking_loss) == [
        ("anchors", E), ("positives", E), ("negatives", None), ("scale", 20.0), ("symmetric", False),
        ("reduction", "sum_over_batch_size"), ("sample_weight", None)]
    assert params(C.ntxent) == [("embeddings", E), ("labels", E), ("temperature", 0.07)]
    assert params(C.triplet_margin_loss) == [
        ("anchors", E), ("positives", E), ("negatives", E), ("margin", 1.0), ("swap", False),
        ("reduction", "sum_over_batch_size"), ("sample_weight", None)]
    assert C.__all__ == ["multiple_negatives_ranking_loss", "ntxent", "triplet_margin_loss"]
    assert cosloss.contrastive is C and "contrastive" in cosloss.__all__


# out=: the gradients land in the caller's arrays, written there directly
# when they can take them, and equal to those of the same call without out.
def test_out_arrays_receive_the_gradients():
    rng = np.random.default_rng(11)
    a, p, n = (rng.standard_normal((64, 8)).astype(np.float32) for _ in range(3))
    fn = cosloss.contrastive.multiple_negatives_ranking_loss
    _, want = cosloss.value_and_grad(fn, a, p, n, symmetric=True)
    out = tuple(np.full_like(x, 7.0) for x in (a, p, n))
    _, got = cosloss.value_and_grad(fn, a, p, n, symmetric=True, out=out)
    assert got is out
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
    # An out array that is an input: written only once everything is read.
    a2 = a.copy()
    _, got = cosloss.value_and_grad(fn, a2, p, n, symmetric=True,
                                    out=(a2, np.empty_like(p), np.empty_like(n)))
    np.testing.assert_array_equal(got[0], want[0])
    x, labels = rng.standard_normal((32, 8)), rng.integers(0, 4, 32)
    _, (want_dx,) = cosloss.value_and_grad(cosloss.contrastive.ntxent, x, labels)
    out = (np.empty_like(x),)
    _, got = cosloss.value_and_grad(cosloss.contrastive.ntxent, x, labels, out=out)
    assert got is out
    np.testing.assert_array_equal(out[0], want_dx)


def test_out_of_the_wrong_shape_is_refused_untouched():
    rng = np.random.default_rng(12)
    a, p = (rng.standard_normal((16, 4)).astype(np.float32) for _ in range(2))
    bad = (np.zeros((4, 16), np.float32), np.zeros_like(p))
    with pytest.raises(ValueError, match=r"out\[0\] must have the gradient's shape \(16, 4\)"):
        cosloss.value_and_grad(cosloss.contrastive.multiple_negatives_ranking_loss, a, p, out=bad)
    assert not bad[0].any() and not bad[1].any()
