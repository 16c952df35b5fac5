"""cosloss.torch: PyTorch's F.cosine_similarity and CosineEmbeddingLoss, values and gradients.

The references are numpy in float64, written from PyTorch's documented
formulas and its source's autograd rules (ATen's cosine_similarity clamps
each norm at eps under no_grad; cosine_embedding_loss adds 1e-12 to each
squared norm and clamp_min's gradient passes where cos - margin >= 0). When
PyTorch itself is importable the same cases are also checked against it.
"""

import numpy as np
import pytest

import cosloss

F = cosloss.torch.nn.functional

TOL = {np.dtype(np.float32): dict(rtol=2e-6, atol=2e-7),
       np.dtype(np.float64): dict(rtol=1e-12, atol=1e-14)}


# ---- references ------------------------------------------------------------

def ref_cosine(x1, x2, dim=1, eps=1e-8):
    """(value, d/dx1, d/dx2 for upstream ones) of PyTorch >= 2.0's cosine_similarity."""
    a, b = (np.asarray(v, np.float64) for v in np.broadcast_arrays(x1, x2))
    na = np.sqrt(np.sum(a * a, axis=dim, keepdims=True))
    nb = np.sqrt(np.sum(b * b, axis=dim, keepdims=True))
    ca, cb = np.maximum(na, eps), np.maximum(nb, eps)
    value = np.sum((a / ca) * (b / cb), axis=dim, keepdims=True)
    # The clamp has no gradient, so the norm's own gradient a/‖a‖ flows
    # through c; a zero norm's gradient is 0 (linalg_vector_norm's backward).
    with np.errstate(divide="ignore", invalid="ignore"):
        pull_a = np.where(na > 0, value / (ca * na), 0.0)
        pull_b = np.where(nb > 0, value / (cb * nb), 0.0)
    da = b / (ca * cb) - pull_a * a
    db = a / (ca * cb) - pull_b * b
    return np.squeeze(value, axis=dim), da, db


def ref_embedding(x1, x2, target, margin=0.0, reduction="mean"):
    """(value, d/dx1, d/dx2) of PyTorch's cosine_embedding_loss for upstream 1."""
    a, b = (np.asarray(v, np.float64) for v in np.broadcast_arrays(x1, x2))
    t = np.asarray(target)
    sa = np.sum(a * a, axis=-1, keepdims=True) + 1e-12
    sb = np.sum(b * b, axis=-1, keepdims=True) + 1e-12
    dot = np.sum(a * b, axis=-1, keepdims=True)
    cos = dot / np.sqrt(sa * sb)
    c = np.squeeze(cos, -1)
    loss = np.where(t == 1, 1 - c, np.maximum(0, c - margin))
    slope = np.where(t == 1, -1.0, np.where(c - margin >= 0, 1.0, 0.0))
    if reduction == "mean":
        value, scale = loss.mean(), 1 / max(loss.size, 1)
    elif reduction == "sum":
        value, scale = loss.sum(), 1.0
    else:
        value, scale = loss, 1.0
    g = (slope * scale)[..., None]
    da = g * (b / np.sqrt(sa * sb) - cos * a / sa)
    db = g * (a / np.sqrt(sa * sb) - cos * b / sb)
    return value, da, db


def unbroadcast(grad, shape):
    """Sum grad over the axes an input of shape was broadcast along."""
    lead = grad.ndim - len(shape)
    grad = grad.sum(axis=tuple(range(lead))) if lead else grad
    axes = tuple(i for i, d in enumerate(shape) if d == 1 and grad.shape[i] != 1)
    return grad.sum(axis=axes, keepdims=True) if axes else grad


def rows(rng, shape, dtype, zero=(), tiny=()):
    """Random rows along the last axis, some set to zero or below the eps floor."""
    x = rng.standard_normal(shape)
    for i in zero:
        x[i] = 0
    for i in tiny:
        x[i] *= 1e-10
    return x.astype(dtype)


# ---- F.cosine_similarity -----------------------------------------------------

CASES = [  # (x1 shape, x2 shape, dim)
    ((7, 5), (7, 5), 1),
    ((7, 5), (7, 5), 0),
    ((7, 5), (7, 5), -1),
    ((4, 3, 6), (4, 3, 6), 1),
    ((4, 3, 6), (3, 6), 2),      # broadcast over the leading axis
    ((4, 1, 6), (3, 6), -1),     # both broadcast
    ((5,), (5,), 0),
    ((6, 1), (6, 4), 1),         # x1 broadcast along dim itself
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("s1,s2,dim", CASES)
def test_cosine_similarity_values_and_grads(s1, s2, dim, dtype):
    rng = np.random.default_rng(hash((s1, s2, dim)) % 2**32)
    x1, x2 = rows(rng, s1, dtype), rows(rng, s2, dtype)
    value, d1, d2 = ref_cosine(x1, x2, dim)
    got = F.cosine_similarity(x1, x2, dim=dim)
    assert got.dtype == dtype and got.shape == value.shape
    np.testing.assert_allclose(got, value, **TOL[np.dtype(dtype)])
    v, (g1, g2) = cosloss.value_and_grad(F.cosine_similarity, x1, x2, dim=dim)
    np.testing.assert_array_equal(v, got)
    assert g1.shape == x1.shape and g2.shape == x2.shape and g1.dtype == dtype
    np.testing.assert_allclose(g1, unbroadcast(d1, x1.shape), **TOL[np.dtype(dtype)])
    np.testing.assert_allclose(g2, unbroadcast(d2, x2.shape), **TOL[np.dtype(dtype)])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_zero_and_tiny_vectors_follow_each_norms_floor(dtype):
    rng = np.random.default_rng(3)
    x1 = rows(rng, (6, 8), dtype, zero=[0, 2], tiny=[1])
    x2 = rows(rng, (6, 8), dtype, zero=[2, 3], tiny=[4])
    value, d1, d2 = ref_cosine(x1, x2)
    got = F.cosine_similarity(x1, x2)
    np.testing.assert_allclose(got, value, **TOL[np.dtype(dtype)])
    assert got[0] == 0 and got[2] == 0 and got[3] == 0  # a zero vector gives 0
    _, (g1, g2) = cosloss.value_and_grad(F.cosine_similarity, x1, x2)
    # Rows under the floor: the gradient is large (about 1/eps) but finite.
    assert np.all(np.isfinite(g1)) and np.all(np.isfinite(g2))
    assert np.abs(g1[0]).max() > 1e6
    np.testing.assert_allclose(g1, d1, **TOL[np.dtype(dtype)])
    np.testing.assert_allclose(g2, d2, **TOL[np.dtype(dtype)])


def test_eps_is_a_floor_on_each_norm_not_on_their_product():
    # ‖x1‖ = 1e-5 and ‖x2‖ = 1e5: their product 1 is above eps, but PyTorch
    # >= 2.0 floors each norm, so x1's norm becomes eps = 1e-4 here.
    x1, x2 = np.array([[1e-5, 0.]]), np.array([[1e5, 0.]])
    np.testing.assert_allclose(F.cosine_similarity(x1, x2, eps=1e-4), [0.1], rtol=1e-12)
    np.testing.assert_allclose(F.cosine_similarity(x1, x2, eps=1e-8), [1.0], rtol=1e-12)
    value, d1, d2 = ref_cosine(x1, x2, eps=1e-4)
    _, (g1, g2) = cosloss.value_and_grad(F.cosine_similarity, x1, x2, eps=1e-4)
    np.testing.assert_allclose(g1, d1, rtol=1e-12)
    np.testing.assert_allclose(g2, d2, rtol=1e-12, atol=1e-20)


def test_gradient_matches_finite_differences_away_from_the_floor():
    rng = np.random.default_rng(11)
    x1, x2 = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    up = rng.standard_normal(3)
    _, (g1, _) = cosloss.value_and_grad(F.cosine_similarity, x1, x2, upstream=up)
    h = 1e-6
    numeric = np.zeros_like(x1)
    for i in np.ndindex(x1.shape):
        plus, minus = x1.copy(), x1.copy()
        plus[i] += h
        minus[i] -= h
        numeric[i] = up @ (F.cosine_similarity(plus, x2) - F.cosine_similarity(minus, x2)) / (2 * h)
    np.testing.assert_allclose(g1, numeric, rtol=1e-6, atol=1e-8)


def test_promotion_follows_pytorch():
    f32, f64 = np.ones((2, 3), np.float32), np.ones((2, 3), np.float64)
    ints = np.ones((2, 3), np.int64)
    assert F.cosine_similarity(f32, f64).dtype == np.float64
    assert F.cosine_similarity(ints, f32).dtype == np.float32   # numpy would say float64
    assert F.cosine_similarity(np.float16(f32), ints).dtype == np.float16
    with pytest.raises(TypeError, match="x1 or x2.*floating"):
        F.cosine_similarity(ints, ints)
    _, (g_int, g_f) = cosloss.value_and_grad(F.cosine_similarity, ints, f32 * 2)
    assert g_int.dtype == np.float32 and g_f.dtype == np.float32


def test_module_form_and_its_gradient_equal_the_function():
    rng = np.random.default_rng(5)
    x1, x2 = rng.standard_normal((4, 3, 2)), rng.standard_normal((4, 3, 2))
    cos = cosloss.torch.nn.CosineSimilarity(dim=2, eps=1e-6)
    np.testing.assert_array_equal(cos(x1, x2), F.cosine_similarity(x1, x2, 2, 1e-6))
    np.testing.assert_array_equal(cos.forward(x1, x2), cos(x1, x2))
    v, grads = cos.value_and_grad(x1, x2)
    v2, grads2 = cosloss.value_and_grad(F.cosine_similarity, x1, x2, dim=2, eps=1e-6)
    np.testing.assert_array_equal(v, v2)
    for a, b in zip(grads, grads2):
        np.testing.assert_array_equal(a, b)
    assert cosloss.value_and_grad(cos, x1, x2)[0].shape == (4, 3)


@pytest.mark.parametrize("call,error,match", [
    (lambda: F.cosine_similarity(np.ones((2, 3)), np.ones((2, 4))), ValueError, "x1.*x2"),
    (lambda: F.cosine_similarity(np.ones((2, 3)), np.ones((2, 3)), dim=2), ValueError, "dim"),
    (lambda: F.cosine_similarity(np.ones((2, 3)), np.ones((2, 3)), dim=1.0), TypeError, "dim"),
    (lambda: F.cosine_similarity(np.ones((2, 3)), np.ones((2, 3)), eps="a"), TypeError, "eps"),
    (lambda: F.cosine_similarity(None, np.ones((2, 3))), ValueError, "x1"),
    (lambda: F.cosine_similarity(np.ones(3, complex), np.ones(3)), TypeError, "x1"),
    (lambda: cosloss.torch.nn.CosineSimilarity(dim="1"), TypeError, "dim"),
])
def test_cosine_similarity_errors_name_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_inputs_are_not_modified():
    rng = np.random.default_rng(2)
    x1, x2 = rng.standard_normal((5, 4)), rng.standard_normal((5, 4))
    c1, c2 = x1.copy(), x2.copy()
    cosloss.value_and_grad(F.cosine_similarity, x1, x2)
    cosloss.value_and_grad(F.cosine_embedding_loss, x1, x2, [1, -1, 1, 1, -1])
    np.testing.assert_array_equal(x1, c1)
    np.testing.assert_array_equal(x2, c2)


# ---- CosineEmbeddingLoss ------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("margin", [0.0, 0.3, -0.5])
def test_embedding_loss_values_and_grads(dtype, reduction, margin):
    rng = np.random.default_rng(17)
    x1 = rows(rng, (9, 6), dtype, zero=[4])
    x2 = rows(rng, (9, 6), dtype, zero=[5])
    target = np.array([1, -1, -1, 1, -1, 1, -1, -1, 1])
    value, d1, d2 = ref_embedding(x1, x2, target, margin, reduction)
    loss = cosloss.torch.nn.CosineEmbeddingLoss(margin=margin, reduction=reduction)
    got = loss(x1, x2, target)
    assert np.asarray(got).dtype == dtype and np.shape(got) == np.shape(value)
    np.testing.assert_allclose(got, value, **TOL[np.dtype(dtype)])
    np.testing.assert_array_equal(
        F.cosine_embedding_loss(x1, x2, target, margin=margin, reduction=reduction), got)
    v, (g1, g2) = loss.value_and_grad(x1, x2, target)
    np.testing.assert_array_equal(v, got)
    np.testing.assert_allclose(g1, d1, **TOL[np.dtype(dtype)])
    np.testing.assert_allclose(g2, d2, **TOL[np.dtype(dtype)])
    v3, grads3 = cosloss.value_and_grad(F.cosine_embedding_loss, x1, x2, target, margin=margin,
                                        reduction=reduction)
    np.testing.assert_array_equal(v3, got)
    np.testing.assert_array_equal(grads3[0], g1)


def test_embedding_loss_single_pair_and_broadcast_inputs():
    a, b = np.array([1., 2., 2.]), np.array([2., 1., 2.])
    value, d1, _ = ref_embedding(a, b, np.array(-1), 0.1, "none")
    got = F.cosine_embedding_loss(a, b, -1, margin=0.1, reduction="none")
    assert np.shape(got) == ()
    np.testing.assert_allclose(got, value, rtol=1e-12)
    _, (g1, _) = cosloss.value_and_grad(F.cosine_embedding_loss, a, b, -1, margin=0.1,
                                        reduction="none")
    np.testing.assert_allclose(g1, d1, rtol=1e-12)
    x1, x2 = np.ones((3, 2)), np.array([[1., 0.]])      # input2 broadcasts over the batch
    value, d1, d2 = ref_embedding(x1, x2, np.array([1, 1, -1]))
    v, (g1, g2) = cosloss.value_and_grad(F.cosine_embedding_loss, x1, x2, [1, 1, -1])
    np.testing.assert_allclose(v, value, rtol=1e-12)
    assert g2.shape == (1, 2)
    np.testing.assert_allclose(g2, unbroadcast(d2, (1, 2)), rtol=1e-12, atol=1e-15)


def test_embedding_loss_gradient_mask_at_the_margin():
    # cos - margin == 0 exactly: clamp_min's gradient passes (self >= min).
    x1, x2 = np.array([[1., 0.]]), np.array([[1., 0.]])
    _, (g1, _) = cosloss.value_and_grad(F.cosine_embedding_loss, x1, x2, [-1], margin=1.0)
    _, d1, _ = ref_embedding(x1, x2, np.array([-1]), 1.0)
    np.testing.assert_allclose(g1, d1, atol=1e-12)
    # Below the margin the dissimilar pair costs nothing and gets no gradient.
    x2 = np.array([[0., 1.]])
    v, (g1, g2) = cosloss.value_and_grad(F.cosine_embedding_loss, x1, x2, [-1], margin=0.5)
    assert v == 0 and not g1.any() and not g2.any()


def test_embedding_loss_empty_batch_mean_is_nan_as_in_pytorch():
    x = np.zeros((0, 3), np.float32)
    assert np.isnan(F.cosine_embedding_loss(x, x, np.zeros(0)))
    assert F.cosine_embedding_loss(x, x, np.zeros(0), reduction="sum") == 0


@pytest.mark.parametrize("target,match", [
    (np.ones((4, 1)), "0-d or 1-d target"),          # PyTorch #53030 broadcast it
    (np.ones(1), "one value per pair"),
    (np.array([1, -1, 0, 1]), r"only 1 and -1, got 0 at index \(2,\)"),
    (np.array([1., -1., 1., 2.]), r"at index \(3,\)"),
])
def test_embedding_loss_refuses_targets_pytorch_accepts_silently(target, match):
    x = np.ones((4, 3))
    with pytest.raises(ValueError, match=match):
        F.cosine_embedding_loss(x, x, target)


@pytest.mark.parametrize("call,error,match", [
    (lambda: F.cosine_embedding_loss(np.ones((2, 3)), np.ones((2, 3)), [1, 1], reduction="avg"),
     ValueError, "reduction"),
    (lambda: cosloss.torch.nn.CosineEmbeddingLoss(reduction=None), ValueError, "reduction"),
    (lambda: cosloss.torch.nn.CosineEmbeddingLoss(margin="0"), TypeError, "margin"),
    (lambda: F.cosine_embedding_loss(np.ones(3), np.ones(3), [1]), ValueError, "2-d input1"),
    (lambda: F.cosine_embedding_loss(np.ones((2, 3)), np.ones((2, 4)), [1, 1]), ValueError,
     "input1.*input2"),
    (lambda: F.cosine_embedding_loss(np.ones((2, 3), int), np.ones((2, 3), int), [1, 1]),
     TypeError, "floating"),
    (lambda: F.cosine_embedding_loss(np.ones((2, 3)), np.ones((2, 3)), ["a", "b"]), TypeError,
     "target"),
])
def test_embedding_loss_errors_name_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_embedding_loss_repr_shows_its_configuration():
    assert repr(cosloss.torch.nn.CosineEmbeddingLoss(0.2, "sum")) == \
        "cosloss.torch.nn.CosineEmbeddingLoss(margin=0.2, reduction='sum')"


# ---- against PyTorch itself, where it is installed ----------------------------

def test_against_pytorch_itself():
    # PyTorch is no test dependency (it brings about 5 GB of CUDA wheels), so
    # CI skips this; the numpy references above hold the same formulas.
    torch = pytest.importorskip("torch", reason="PyTorch is not installed (not a test extra)")
    rng = np.random.default_rng(23)
    for dtype, tdtype in ((np.float32, torch.float32), (np.float64, torch.float64)):
        x1 = rows(rng, (6, 5), dtype, zero=[1], tiny=[2])
        x2 = rows(rng, (6, 5), dtype, zero=[3])
        t1 = torch.tensor(x1, dtype=tdtype, requires_grad=True)
        t2 = torch.tensor(x2, dtype=tdtype, requires_grad=True)
        up = rng.standard_normal(6).astype(dtype)
        out = torch.nn.functional.cosine_similarity(t1, t2)
        out.backward(torch.tensor(up))
        v, (g1, g2) = cosloss.value_and_grad(F.cosine_similarity, x1, x2, upstream=up)
        # PyTorch sums in its own order; next to a zero vector (Σx² + 1e-12)
        # the gradients are ~1e5 and keep fewer digits.
        tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-8, atol=1e-12)
        np.testing.assert_allclose(v, out.detach().numpy(), **tol)
        np.testing.assert_allclose(g1, t1.grad.numpy(), rtol=tol["rtol"], atol=tol["atol"] * 1e8)
        np.testing.assert_allclose(g2, t2.grad.numpy(), rtol=tol["rtol"], atol=tol["atol"] * 1e8)
        target = np.array([1, -1, -1, 1, -1, 1])
        for reduction in ("mean", "sum", "none"):
            t1.grad = t2.grad = None
            loss = torch.nn.CosineEmbeddingLoss(margin=0.2, reduction=reduction)(
                t1, t2, torch.tensor(target))
            loss.backward(torch.ones_like(loss))
            ours = cosloss.torch.nn.CosineEmbeddingLoss(margin=0.2, reduction=reduction)
            v, (g1, g2) = ours.value_and_grad(x1, x2, target)
            np.testing.assert_allclose(v, loss.detach().numpy(), **tol)
            np.testing.assert_allclose(g1, t1.grad.numpy(), **tol)
            np.testing.assert_allclose(g2, t2.grad.numpy(), **tol)
