"""cosloss.tf against TensorFlow itself: values and gradients, graph mode and eager.

Every expected value and gradient is computed by TensorFlow (2.x with
tf_keras) on the same inputs in the same mode; nothing is hard-coded from
cosloss's output. Graph mode uses tf.compat.v1 placeholders with an unknown
batch size, a Session and tf.gradients; eager mode uses tf.GradientTape.
Upstream gradients are random, so every output element's gradient counts.
"""

import numpy as np
import pytest

from tf_support import assert_pair_close, ctf, run_pair, tf, tol

MODES = ["graph", "eager"]
F32 = np.dtype(np.float32)
F64 = np.dtype(np.float64)
V1R = tf.compat.v1.losses.Reduction


def rand(shape, dtype, seed):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def with_degenerate_rows(x):
    """x (rank >= 2) with row 1 all zeros and row 2 tiny (norm 1e-7 < sqrt(ε))."""
    x = x.copy()
    x[1] = 0
    x[2] = 0
    x[(2,) + (0,) * (x.ndim - 1)] = 1e-7
    return x


def grad_tol(dtype, huge=False):
    """Gradient tolerance: the same as for values. huge marks inputs with a zero
    or tiny vector, where TF's gradient is g·1/sqrt(ε) = g·1e6 (spec §8); rtol
    still bounds those entries (1e-6 of 1e6 is 1) and cosloss matches them at
    the default atol too, so nothing is loosened there."""
    return tol(dtype)


# ---------------------------------------------------------------- l2_normalize

L2_AXES = [-1, 0, None, [0, 1]]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", [F32, F64], ids=["f32", "f64"])
@pytest.mark.parametrize("axis", L2_AXES, ids=lambda a: f"axis={a}")
def test_l2_normalize_2d(mode, dtype, axis):
    x = with_degenerate_rows(rand((5, 7), dtype, 1))
    # A third column of zeros makes axis=0 see a zero vector as well.
    x[:, 3] = 0
    expected, actual = run_pair(
        mode,
        lambda t: tf.nn.l2_normalize(t, axis=axis),
        lambda t: ctf.nn.l2_normalize(t, axis=axis),
        [x], seed=11)
    assert_pair_close(expected, actual, tol(dtype), grad_tol(dtype, huge=True),
                      what=f"l2_normalize(axis={axis})")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", [F32, F64], ids=["f32", "f64"])
@pytest.mark.parametrize("axis", [-1, 1, 0, None, [1, 2]], ids=lambda a: f"axis={a}")
def test_l2_normalize_3d(mode, dtype, axis):
    x = rand((3, 4, 6), dtype, 2)
    expected, actual = run_pair(
        mode,
        lambda t: tf.nn.l2_normalize(t, axis=axis),
        lambda t: ctf.nn.l2_normalize(t, axis=axis),
        [x], seed=12)
    assert_pair_close(expected, actual, tol(dtype), what=f"l2_normalize(axis={axis})")


@pytest.mark.parametrize("mode", MODES)
def test_l2_normalize_tiny_and_zero_rows_f32(mode):
    """Spec TV1/TV11 rows: [1e-7, 0] -> [0.1, 0]; zeros stay zeros; grad g·1e6."""
    x = np.array([[3, 4], [0, 0], [1e-7, 0], [-2, 0]], np.float32)
    expected, actual = run_pair(
        mode, lambda t: tf.nn.l2_normalize(t, axis=-1),
        lambda t: ctf.nn.l2_normalize(t, axis=-1), [x], seed=13)
    assert_pair_close(expected, actual, tol(F32), grad_tol(F32, huge=True),
                      what="l2_normalize(tiny rows)")
    assert np.all(np.abs(expected["grads"][0][1:3]) > 1e5)  # the ε regime was exercised


@pytest.mark.parametrize("mode", MODES)
def test_l2_normalize_epsilon(mode):
    x = rand((5, 7), F32, 3) * 1e-2
    expected, actual = run_pair(
        mode, lambda t: tf.nn.l2_normalize(t, axis=1, epsilon=1e-2),
        lambda t: ctf.nn.l2_normalize(t, axis=1, epsilon=1e-2), [x], seed=14)
    assert_pair_close(expected, actual, tol(F32), what="l2_normalize(epsilon=1e-2)")


# -------------------------------------------------------------- cosine_distance

# Reduction.all() lists SUM_BY_NONZERO_WEIGHTS and its alias; test each string once.
V1_REDUCTIONS = sorted(set(V1R.all()))


def unit_rows(x, axis):
    return x / np.linalg.norm(x, axis=axis, keepdims=True)


def distance_inputs(normalized, seed, shape=(5, 7), axis=1):
    labels = rand(shape, F32, seed)
    predictions = rand(shape, F32, seed + 1)
    if normalized:
        labels, predictions = unit_rows(labels, axis), unit_rows(predictions, axis)
    return labels.astype(np.float32), predictions.astype(np.float32)


WEIGHTS = {
    "scalar1": np.float32(1.0),
    "scalar2.5": np.float32(2.5),
    "Nx1_zeros": np.array([[1.0], [0.0], [2.0], [0.0], [0.5]], np.float32),
    "1x1": np.array([[3.0]], np.float32),
    "all_zero": np.zeros((5, 1), np.float32),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("reduction", V1_REDUCTIONS)
@pytest.mark.parametrize("weights", list(WEIGHTS), ids=str)
@pytest.mark.parametrize("normalized", [True, False], ids=["unit", "raw"])
def test_cosine_distance(mode, reduction, weights, normalized):
    labels, predictions = distance_inputs(normalized, seed=20)
    w = WEIGHTS[weights]

    def tf_fn(l, p, wt):
        return tf.compat.v1.losses.cosine_distance(l, p, axis=1, weights=wt, reduction=reduction)

    def cl_fn(l, p, wt):
        return ctf.losses.cosine_distance(l, p, axis=1, weights=wt, reduction=reduction)

    extras = [w] if np.ndim(w) else []
    if not extras:  # scalar weights: pass as a Python float, as users do
        tf_fn_, cl_fn_ = (lambda l, p: tf_fn(l, p, float(w))), (lambda l, p: cl_fn(l, p, float(w)))
    else:
        tf_fn_, cl_fn_ = tf_fn, cl_fn
    expected, actual = run_pair(mode, tf_fn_, cl_fn_, [labels, predictions], extras, seed=21)
    assert_pair_close(expected, actual, tol(F32),
                      what=f"cosine_distance({reduction}, weights={weights})")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("axis", [2, -1, 1, 0])
@pytest.mark.parametrize("reduction", [V1R.NONE, V1R.SUM_BY_NONZERO_WEIGHTS, V1R.MEAN])
def test_cosine_distance_3d(mode, axis, reduction):
    labels, predictions = distance_inputs(True, seed=22, shape=(3, 4, 6), axis=axis)
    wshape = [3, 4, 6]
    wshape[axis] = 1
    w = np.random.default_rng(23).integers(0, 3, wshape).astype(np.float32)
    expected, actual = run_pair(
        mode,
        lambda l, p, wt: tf.compat.v1.losses.cosine_distance(l, p, axis=axis, weights=wt,
                                                             reduction=reduction),
        lambda l, p, wt: ctf.losses.cosine_distance(l, p, axis=axis, weights=wt,
                                                    reduction=reduction),
        [labels, predictions], [w], seed=24)
    assert_pair_close(expected, actual, tol(F32),
                      what=f"cosine_distance(axis={axis}, {reduction})")


@pytest.mark.parametrize("mode", MODES)
def test_cosine_distance_float64_inputs(mode):
    """float64 inputs: cast to float32, float32 loss; gradients come back float64."""
    labels, predictions = (a.astype(np.float64) for a in distance_inputs(False, seed=25))
    expected, actual = run_pair(
        mode,
        lambda l, p: tf.compat.v1.losses.cosine_distance(l, p, axis=-1),
        lambda l, p: ctf.losses.cosine_distance(l, p, axis=-1),
        [labels, predictions], seed=26)
    assert expected["dtype"] == tf.float32
    assert_pair_close(expected, actual, tol(F32), what="cosine_distance(float64 inputs)")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("reduction", [V1R.SUM, V1R.MEAN, V1R.SUM_BY_NONZERO_WEIGHTS,
                                       V1R.SUM_OVER_BATCH_SIZE])
def test_cosine_distance_gradient_to_weights(mode, reduction):
    """TF differentiates cosine_distance with respect to its weights too
    (through Σ w·l, and for MEAN through Σw); a drop-in must as well."""
    labels, predictions = distance_inputs(True, seed=27)
    w = WEIGHTS["Nx1_zeros"]

    def tf_fn(l, p, wt):
        return tf.compat.v1.losses.cosine_distance(l, p, axis=1, weights=wt, reduction=reduction)

    def cl_fn(l, p, wt):
        return ctf.losses.cosine_distance(l, p, axis=1, weights=wt, reduction=reduction)

    expected, actual = run_pair(mode, tf_fn, cl_fn, [labels, predictions, w], seed=28)
    assert_pair_close(expected, actual, tol(F32),
                      what=f"cosine_distance({reduction}) d/dweights")


def test_cosine_distance_total_loss_graph():
    """cosloss's loss lands in tf.GraphKeys.LOSSES as TF's does, so
    get_total_loss() (and its gradient) equals TF's built in a separate graph."""
    labels, predictions = distance_inputs(True, seed=29)
    w = WEIGHTS["Nx1_zeros"]
    results = {}
    for name, module in [("tf", tf.compat.v1.losses), ("cosloss", ctf.losses)]:
        with tf.Graph().as_default() as graph:
            l_ph = tf.compat.v1.placeholder(tf.float32, [None, 7])
            p_ph = tf.compat.v1.placeholder(tf.float32, [None, 7])
            w_ph = tf.compat.v1.placeholder(tf.float32, [None, 1])
            first = module.cosine_distance(l_ph, p_ph, axis=1, weights=w_ph)
            second = module.cosine_distance(p_ph, l_ph, axis=1, reduction=V1R.SUM)
            # Not collected: loss_collection=None.
            module.cosine_distance(l_ph, p_ph, axis=1, loss_collection=None)
            collected = tf.compat.v1.losses.get_losses()
            total = tf.compat.v1.losses.get_total_loss()
            grads = tf.gradients(total, [l_ph, p_ph])
            with tf.compat.v1.Session(graph=graph) as sess:
                feed = {l_ph: labels, p_ph: predictions, w_ph: w}
                results[name] = dict(n=len(collected), ids=[id(t) for t in collected],
                                     mine=[id(first), id(second)],
                                     values=sess.run([total, first, second] + grads, feed))
    assert results["cosloss"]["n"] == results["tf"]["n"] == 2
    assert results["cosloss"]["ids"] == results["cosloss"]["mine"]
    for got, want in zip(results["cosloss"]["values"], results["tf"]["values"]):
        np.testing.assert_allclose(got, want, **tol(F32))


# ------------------------------------------------- keras.losses.cosine_similarity

def keras_inputs(shape, dtype, seed, zeros=True):
    y_true, y_pred = rand(shape, dtype, seed), rand(shape, dtype, seed + 1)
    if zeros:
        y_true[1] = 0          # zero y_true: gradient to y_pred is 0
        y_pred[2] = 0          # zero y_pred: gradient to y_pred is -t̂·1e6
        y_pred[3] = y_true[3]  # identical vectors: gradient ~ 0 (cancellation)
    return y_true, y_pred


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", [F32, F64], ids=["f32", "f64"])
@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_keras_cosine_similarity_2d(mode, dtype, axis):
    y_true, y_pred = keras_inputs((5, 7), dtype, seed=40)
    expected, actual = run_pair(
        mode,
        lambda t, p: tf.keras.losses.cosine_similarity(t, p, axis=axis),
        lambda t, p: ctf.keras.losses.cosine_similarity(t, p, axis=axis),
        [y_true, y_pred], seed=41)
    assert_pair_close(expected, actual, tol(dtype), grad_tol(dtype, huge=True),
                      what=f"cosine_similarity(axis={axis})")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", [F32, F64], ids=["f32", "f64"])
@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_keras_cosine_similarity_3d(mode, dtype, axis):
    y_true, y_pred = keras_inputs((3, 4, 6), dtype, seed=42, zeros=False)
    y_pred[0, 1] = 0
    expected, actual = run_pair(
        mode,
        lambda t, p: tf.keras.losses.cosine_similarity(t, p, axis=axis),
        lambda t, p: ctf.keras.losses.cosine_similarity(t, p, axis=axis),
        [y_true, y_pred], seed=43)
    assert_pair_close(expected, actual, tol(dtype), grad_tol(dtype, huge=True),
                      what=f"cosine_similarity(3-D, axis={axis})")


@pytest.mark.parametrize("mode", MODES)
def test_keras_cosine_similarity_aliases_and_broadcast(mode):
    """y_true [D] against y_pred [N, D] broadcasts; its gradient is summed over N."""
    y_true = rand((7,), F32, 44)
    y_pred = rand((5, 7), F32, 45)
    for name in ["cosine_similarity", "cosine_proximity", "cosine"]:
        cl_fn = getattr(ctf.keras.losses, name)
        expected, actual = run_pair(mode, tf.keras.losses.cosine_similarity, cl_fn,
                                    [y_true, y_pred], seed=46)
        assert_pair_close(expected, actual, tol(F32), what=f"{name} (broadcast)")


# ------------------------------------------------- keras.losses.CosineSimilarity

# Each Keras's own reduction keys: Keras 3 has no "auto" and adds "mean" and
# "mean_with_sample_weight".
KERAS3 = ctf.keras.losses._keras3()
KERAS_REDUCTIONS = (["sum_over_batch_size", "sum", "none", "mean", "mean_with_sample_weight"]
                    if KERAS3 else ["auto", "sum_over_batch_size", "sum", "none"])
DEFAULT_REDUCTION = "sum_over_batch_size" if KERAS3 else "auto"


def sample_weights(kind, batch):
    if kind is None:
        return None
    rng = np.random.default_rng(47)
    w = rng.uniform(0.1, 2.0, batch).astype(np.float32)
    w[1] = 0.0
    return w if kind == "[N]" else w[:, None]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", [F32, F64], ids=["f32", "f64"])
@pytest.mark.parametrize("reduction", KERAS_REDUCTIONS)
@pytest.mark.parametrize("weights", [None, "[N]", "[N,1]"], ids=str)
def test_keras_class(mode, dtype, reduction, weights):
    y_true, y_pred = keras_inputs((5, 7), dtype, seed=48)
    sw = sample_weights(weights, 5)
    if sw is not None and dtype == F64:
        sw = sw.astype(np.float64)
    tf_loss = tf.keras.losses.CosineSimilarity(axis=-1, reduction=reduction)
    cl_loss = ctf.keras.losses.CosineSimilarity(axis=-1, reduction=reduction)
    extras = [] if sw is None else [sw]
    expected, actual = run_pair(
        mode,
        lambda t, p, *w: tf_loss(t, p, sample_weight=w[0] if w else None),
        lambda t, p, *w: cl_loss(t, p, sample_weight=w[0] if w else None),
        [y_true, y_pred], extras, seed=49)
    # Keras 3's Loss.__call__ casts the inputs to the loss's dtype (float32).
    computed = F32 if KERAS3 else dtype
    assert_pair_close(expected, actual, tol(computed), grad_tol(computed, huge=True),
                      what=f"CosineSimilarity({reduction}, sample_weight={weights})")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("axis", [-1, 1])
@pytest.mark.parametrize("reduction", [DEFAULT_REDUCTION, "sum", "none"])
def test_keras_class_3d_and_weight_gradient(mode, axis, reduction):
    """3-D inputs, sample_weight [B] (expanded to [B, 1]) that also gets a gradient."""
    y_true, y_pred = keras_inputs((3, 4, 6), F32, seed=50, zeros=False)
    sw = np.array([1.5, 0.0, 0.5], np.float32)
    if KERAS3:
        # Keras 3 does not expand [B] weights against [B, 4] losses (its own
        # loss raises, as cosloss's does: test_keras3_weights_rank_rule).
        sw = sw[:, None]
    tf_loss = tf.keras.losses.CosineSimilarity(axis=axis, reduction=reduction)
    cl_loss = ctf.keras.losses.CosineSimilarity(axis=axis, reduction=reduction)
    expected, actual = run_pair(
        mode,
        lambda t, p, w: tf_loss(t, p, sample_weight=w),
        lambda t, p, w: cl_loss(t, p, sample_weight=w),
        [y_true, y_pred, sw], seed=51)
    assert_pair_close(expected, actual, tol(F32),
                      what=f"CosineSimilarity(axis={axis}, {reduction}) 3-D")


def test_keras3_weights_rank_rule():
    """[B] weights against [B, 4] losses: tf-keras expands them to [B, 1], Keras 3 raises."""
    y_true, y_pred = keras_inputs((3, 4, 6), F32, seed=50, zeros=False)
    sw = tf.constant([1.5, 0.0, 0.5])
    losses = (tf.keras.losses.CosineSimilarity(), ctf.keras.losses.CosineSimilarity())
    if KERAS3:
        for loss in losses:
            with pytest.raises(tf.errors.InvalidArgumentError, match="Incompatible shapes"):
                loss(y_true, y_pred, sample_weight=sw)
    else:
        want, got = (float(loss(y_true, y_pred, sample_weight=sw)) for loss in losses)
        np.testing.assert_allclose(got, want, **tol(F32))


def test_keras_class_is_a_keras_loss():
    loss = ctf.keras.losses.CosineSimilarity(axis=1, reduction="sum")
    assert isinstance(loss, tf.keras.losses.Loss)
    want = tf.keras.losses.CosineSimilarity(axis=1, reduction="sum").get_config()
    got = loss.get_config()
    # Keras's own keys and values,
    # plus "axis", which Keras 3's own config drops (a reloaded Keras 3 loss
    # forgets its axis; cosloss's keeps it).
    # tf-keras's "fn" names the wrapped function, which this class is.
    want.pop("fn", None)
    for key in want:
        assert got[key] == want[key], key
    assert got["axis"] == 1 and set(got) - set(want) <= {"axis"}
    clone = ctf.keras.losses.CosineSimilarity.from_config(got)
    assert (clone.axis, clone.reduction) == (1, "sum")
    with pytest.raises(ValueError):
        ctf.keras.losses.CosineSimilarity(reduction="weighted_sum")


def tiny_model(seed, d_in=6, d_out=4):
    tf.keras.utils.set_random_seed(seed)
    model = tf.keras.Sequential([tf.keras.layers.Dense(d_out, input_shape=(d_in,))])
    return model


def test_keras_compile_fit_evaluate():
    """CosineSimilarity works in model.compile/fit; evaluate equals TF's loss class
    on the same weights, and fitting from the same start gives TF's weights."""
    rng = np.random.default_rng(52)
    x = rng.standard_normal((32, 6)).astype(np.float32)
    y = rng.standard_normal((32, 4)).astype(np.float32)
    w = rng.uniform(0.0, 2.0, 32).astype(np.float32)

    models = {}
    for name, loss in [("cosloss", ctf.keras.losses.CosineSimilarity()),
                       ("tf", tf.keras.losses.CosineSimilarity())]:
        model = tiny_model(53)
        model.compile(optimizer=tf.keras.optimizers.SGD(0.5), loss=loss)
        history = model.fit(x, y, sample_weight=w, batch_size=8, epochs=3, shuffle=False,
                            verbose=0)
        losses = history.history["loss"]
        assert np.all(np.isfinite(losses)), losses
        models[name] = (model, losses)

    cl_model, cl_losses = models["cosloss"]
    tf_model, tf_losses = models["tf"]
    assert cl_losses[-1] < cl_losses[0]
    np.testing.assert_allclose(cl_losses, tf_losses, rtol=1e-5, atol=1e-5)
    for a, b in zip(cl_model.get_weights(), tf_model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)

    # Same (cosloss-trained) weights, evaluated with each loss class.
    cl_eval = cl_model.evaluate(x, y, sample_weight=w, batch_size=8, verbose=0)
    cl_model.compile(optimizer="sgd", loss=tf.keras.losses.CosineSimilarity())
    tf_eval = cl_model.evaluate(x, y, sample_weight=w, batch_size=8, verbose=0)
    np.testing.assert_allclose(cl_eval, tf_eval, rtol=1e-5, atol=1e-5)
    assert np.isfinite(cl_eval)


# ------------------------------------------------------------------ seed forms

def tf_cos(a, b, axis):
    return tf.reduce_sum(tf.nn.l2_normalize(a, axis=axis) * tf.nn.l2_normalize(b, axis=axis),
                         axis=axis)


SEED_FORMS = {
    "cosine_similarity_loss": lambda a, b, axis: -tf_cos(a, b, axis),
    "cosine_similarity_loss_v2": lambda a, b, axis: 1 - tf_cos(a, b, axis),
    "cosine_similarity_loss_v3": lambda a, b, axis: tf.square(1 - tf_cos(a, b, axis)),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", [F32, F64], ids=["f32", "f64"])
@pytest.mark.parametrize("form", list(SEED_FORMS))
@pytest.mark.parametrize("shape,axis", [((5, 7), -1), ((5, 7), 0), ((3, 4, 6), 1),
                                        ((3, 4, 6), -1)], ids=str)
def test_seed_forms(mode, dtype, form, shape, axis):
    a, b = keras_inputs(shape, dtype, seed=60, zeros=len(shape) == 2)
    tf_form = SEED_FORMS[form]
    cl_form = getattr(ctf, form)
    expected, actual = run_pair(
        mode, lambda x, y: tf_form(x, y, axis), lambda x, y: cl_form(x, y, axis=axis),
        [a, b], seed=61)
    assert_pair_close(expected, actual, tol(dtype), grad_tol(dtype, huge=True),
                      what=f"{form}(axis={axis})")


@pytest.mark.parametrize("shapes", [((4, 3, 1), (4, 3)), ((4, 3), (4, 3, 1)), ((4, 1), (4,)),
                                    ((4,), (4, 1))], ids=str)
def test_keras_function_ranks_and_dtypes_follow_the_active_keras(shapes):
    """Keras 3 casts y_true to y_pred's dtype and matches ranks that differ by a trailing
    1 (squeeze_or_expand_to_same_rank); tf-keras does neither in the function."""
    rng = np.random.default_rng(60)
    t = rng.standard_normal(shapes[0]).astype(np.float64)
    p = tf.constant(rng.standard_normal(shapes[1]).astype(np.float32))
    outcomes = []
    for fn in (tf.keras.losses.cosine_similarity, ctf.keras.losses.cosine_similarity):
        try:
            outcomes.append(fn(tf.constant(t if KERAS3 else t.astype(np.float32)), p).numpy())
        except (ValueError, tf.errors.InvalidArgumentError) as err:
            outcomes.append(type(err))
    want, got = outcomes
    if isinstance(want, type):
        assert isinstance(got, type), f"TensorFlow raised {want.__name__}, cosloss returned {got}"
    else:
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_allclose(got, want, **tol(F32))


@pytest.mark.parametrize("dtype", ["int32", "float64"])
def test_keras_metric_dtype_is_accepted_as_keras_accepts_it(dtype):
    """Whatever the active Keras does with the metric's dtype (tf-keras casts the inputs
    and then fails on ε in int32; Keras 3 truncates each cosine), cosloss's metric does."""
    t = tf.constant([[0.6, 0.8], [1., 0.], [0., 1.]])
    p = tf.constant([[0.8, 0.6], [-1., 0.], [0., 1.]])
    outcomes = []
    for cls in (tf.keras.metrics.CosineSimilarity, ctf.keras.metrics.CosineSimilarity):
        metric = cls(dtype=dtype)
        try:
            metric.update_state(t, p)
            outcomes.append(("value", float(metric.result()), metric.result().dtype))
        except (TypeError, ValueError, tf.errors.InvalidArgumentError) as err:
            outcomes.append(("error", type(err), float(metric.result())))
    want, got = outcomes
    assert got[0] == want[0] and got[2] == want[2], (got, want)
    if want[0] == "value":
        np.testing.assert_allclose(got[1], want[1], rtol=1e-6)
    else:
        assert issubclass(got[1], (TypeError, ValueError)) == issubclass(want[1], (TypeError, ValueError))
