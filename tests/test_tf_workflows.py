"""TF1-style workflows with cosloss.tf ops: what a training script does with them.

Every number is checked against TensorFlow's own ops (tf.nn.l2_normalize,
tf.compat.v1.losses.cosine_distance, tf.keras.losses.cosine_similarity, ...)
computed in the same test, at float32's rtol=atol=1e-6:

* training with tf.compat.v1.train's GradientDescentOptimizer and
  AdamOptimizer, step by step, for both backends (also in a process under
  tf.compat.v1.disable_v2_behavior());
* a tf.compat.v1.train.Saver checkpoint restored into a fresh graph;
* graphs that travel (export_meta_graph, SavedModel, frozen GraphDef) and
  run in a fresh interpreter that cannot import cosloss (tf backend), or
  fail there with an error naming cosloss (go backend);
* XLA (tf.function(jit_compile=True)) over every tf-backend op;
* tf.distribute.MirroredStrategy over two logical CPUs;
* a tf.data pipeline;
* Keras: mixed_float16 training and a saved .keras model reloaded without
  custom_objects, under both Kerases.

The suite runs under either Keras (TF_USE_LEGACY_KERAS, as tf_support sets
it) and either default backend (COSLOSS_TF_BACKEND); tests about one
backend name it with `backend=`. Cases that need a fresh interpreter (a
logical-device configuration, a global Keras policy, a process without
cosloss, another Keras) run scripts with `sys.executable`, several cases to
a script where they can share one.
"""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from tf_support import ctf, tf, tol

F32 = tol(np.float32)
# Keras under mixed_float16 computes the model in float16 (11-bit
# mantissa); the two losses see the same float16 predictions but round
# their own sums, and training lets the differences grow a little.
F16 = dict(rtol=2e-3, atol=2e-3)

BACKENDS = ["tf", "go"]
OWN = "tensorflow"  # the label of TensorFlow's own op chain in the trainings

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
# The folder that holds the cosloss package this process imported.
PKG_PARENT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(ctf.__file__))))
LEGACY = os.environ["TF_USE_LEGACY_KERAS"]  # tf_support sets it if it was not set

N, D_IN, D_OUT = 16, 6, 4
STEPS = 5


def data(seed=3):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, D_IN)).astype(np.float32)
    y = rng.standard_normal((N, D_OUT)).astype(np.float32)
    w0 = (rng.standard_normal((D_IN, D_OUT)) / np.sqrt(D_IN)).astype(np.float32)
    b0 = (0.1 * rng.standard_normal(D_OUT)).astype(np.float32)
    return x, y, w0, b0


# ---------------------------------------------------------------------------
# Losses: (labels, predictions, who) -> scalar; who is OWN or a cosloss backend.

def distance_loss(y, pred, who):
    """cosine_distance of l2-normalized rows, TF1's idiom."""
    if who == OWN:
        return tf.compat.v1.losses.cosine_distance(
            tf.nn.l2_normalize(y, axis=1), tf.nn.l2_normalize(pred, axis=1), axis=1)
    return ctf.losses.cosine_distance(
        ctf.nn.l2_normalize(y, axis=1, backend=who), ctf.nn.l2_normalize(pred, axis=1, backend=who),
        axis=1, backend=who)


def keras_loss(y, pred, who):
    """The mean of Keras's cosine_similarity function (whichever Keras tf.keras is)."""
    if who == OWN:
        return tf.reduce_mean(tf.keras.losses.cosine_similarity(y, pred, axis=1))
    return tf.reduce_mean(ctf.keras.losses.cosine_similarity(y, pred, axis=1, backend=who))


LOSSES = {"cosine_distance": distance_loss, "keras_cosine_similarity": keras_loss}
OPTIMIZERS = {
    "gradient_descent": lambda: tf.compat.v1.train.GradientDescentOptimizer(0.5),
    "adam": lambda: tf.compat.v1.train.AdamOptimizer(0.05),
}


def build_model(loss_fn, who, w_init, b_init):
    """Placeholders x, y; variables w, b; pred = x·w + b; the loss. In the default graph."""
    x = tf.compat.v1.placeholder(tf.float32, [None, D_IN], name="x")
    y = tf.compat.v1.placeholder(tf.float32, [None, D_OUT], name="y")
    w = tf.compat.v1.get_variable("w", initializer=tf.constant(w_init))
    b = tf.compat.v1.get_variable("b", initializer=tf.constant(b_init))
    loss = loss_fn(y, tf.matmul(x, w) + b, who)
    return x, y, w, b, loss


def train(loss_name, optimizer, who, steps=STEPS):
    """The loss before each step and (w, b) before the first and after each step."""
    x, y, w0, b0 = data()
    with tf.Graph().as_default() as graph:
        x_ph, y_ph, w, b, loss = build_model(LOSSES[loss_name], who, w0, b0)
        step = OPTIMIZERS[optimizer]().minimize(loss)
        feed = {x_ph: x, y_ph: y}
        with tf.compat.v1.Session(graph=graph) as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            losses, ws, bs = [], [], []
            w_now, b_now = sess.run([w, b])
            ws.append(w_now)
            bs.append(b_now)
            for _ in range(steps):
                value, _ = sess.run([loss, step], feed)
                losses.append(value)
                w_now, b_now = sess.run([w, b])
                ws.append(w_now)
                bs.append(b_now)
    return dict(loss=np.array(losses), w=np.array(ws), b=np.array(bs))


def assert_same_trajectory(got, expected, what):
    np.testing.assert_allclose(got["loss"], expected["loss"], **F32, err_msg=f"{what}: loss")
    for step in range(len(expected["w"])):
        for key in ("w", "b"):
            np.testing.assert_allclose(got[key][step], expected[key][step], **F32,
                                       err_msg=f"{what}: {key} after step {step}")
    # The trajectory moves: a vanishing gradient would match a vanishing one.
    assert np.abs(expected["w"][-1] - expected["w"][0]).max() > 1e-2


# ---------------------------------------------------------------------------
# Fresh interpreters.

NO_COSLOSS = """
import sys
class _NoCosloss:
    # This interpreter must run what it loads without cosloss.
    def find_spec(self, name, path=None, target=None):
        if name == "cosloss" or name.startswith("cosloss."):
            raise ImportError("this process must not import cosloss")
        return None
sys.meta_path.insert(0, _NoCosloss())
"""


def run_script(code, *args, legacy=None, with_cosloss=True):
    """Runs code in a fresh interpreter; returns the JSON its last line prints.

    legacy: TF_USE_LEGACY_KERAS there (default: this process's).
    with_cosloss: False puts cosloss neither on the path nor within reach.
    """
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", TF_USE_LEGACY_KERAS=legacy or LEGACY)
    if with_cosloss:
        env["PYTHONPATH"] = os.pathsep.join([PKG_PARENT, TESTS_DIR])
        prelude = ""
    else:
        env.pop("PYTHONPATH", None)
        prelude = NO_COSLOSS
    done = subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code), *args], env=env,
                          capture_output=True, text=True, timeout=600, cwd=TESTS_DIR)
    assert done.returncode == 0, done.stderr[-5000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def load_npz(path):
    with np.load(path) as f:
        return {k: f[k] for k in f.files}


# ---------------------------------------------------------------------------
# 1. Training, step by step.

@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
@pytest.mark.parametrize("loss_name", list(LOSSES))
@pytest.mark.parametrize("backend", BACKENDS)
def test_training_steps_match_tensorflow(backend, loss_name, optimizer):
    expected = train(loss_name, optimizer, OWN)
    got = train(loss_name, optimizer, backend)
    assert_same_trajectory(got, expected, f"{backend} {loss_name} {optimizer}")


V1_TRAINING = """
import json, sys
import numpy as np
import tensorflow as tf
tf.compat.v1.disable_v2_behavior()
import test_tf_workflows as w

out = {}
for loss_name in w.LOSSES:
    for optimizer in w.OPTIMIZERS:
        for who in [w.OWN] + w.BACKENDS:
            for key, value in w.train(loss_name, optimizer, who).items():
                out[f"{loss_name}/{optimizer}/{who}/{key}"] = value
np.savez(sys.argv[1], **out)
print(json.dumps([tf.executing_eagerly(), tf.compat.v1.resource_variables_enabled(),
                  tf.compat.v1.control_flow_v2_enabled()]))
"""


def test_training_steps_match_tensorflow_under_disable_v2_behavior(tmp_path):
    path = str(tmp_path / "v1.npz")
    flags = run_script(V1_TRAINING, path)
    assert flags == [False, False, False]  # TF1 behaviour: graphs, ref variables, v1 control flow
    got = load_npz(path)
    for loss_name in LOSSES:
        for optimizer in OPTIMIZERS:
            def of(who):
                return {k: got[f"{loss_name}/{optimizer}/{who}/{k}"] for k in ("loss", "w", "b")}
            for backend in BACKENDS:
                assert_same_trajectory(of(backend), of(OWN),
                                       f"v1 behaviour: {backend} {loss_name} {optimizer}")


# ---------------------------------------------------------------------------
# 2. Saver: checkpoint, then restore into a fresh graph and Session.

@pytest.mark.parametrize("backend", BACKENDS)
def test_saver_restores_the_loss_into_a_fresh_graph(backend, tmp_path):
    x, y, w0, b0 = data()
    prefix = str(tmp_path / "model.ckpt")
    with tf.Graph().as_default() as graph:
        x_ph, y_ph, w, b, loss = build_model(distance_loss, backend, w0, b0)
        step = tf.compat.v1.train.AdamOptimizer(0.05).minimize(loss)
        saver = tf.compat.v1.train.Saver()
        feed = {x_ph: x, y_ph: y}
        with tf.compat.v1.Session(graph=graph) as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            for _ in range(3):
                sess.run(step, feed)
            saved_loss, saved_w, saved_b = sess.run([loss, w, b], feed)
            saver.save(sess, prefix)
            # What the next step does, from the saved state (Adam's slots too).
            sess.run(step, feed)
            next_w = sess.run(w)

    # A fresh graph, its variables initialized elsewhere: only the restore
    # can bring the saved values.
    with tf.Graph().as_default() as graph:
        x_ph, y_ph, w, b, loss = build_model(distance_loss, backend, np.zeros_like(w0),
                                             np.zeros_like(b0))
        step = tf.compat.v1.train.AdamOptimizer(0.05).minimize(loss)
        own = distance_loss(y_ph, tf.matmul(x_ph, w) + b, OWN)
        saver = tf.compat.v1.train.Saver()
        feed = {x_ph: x, y_ph: y}
        with tf.compat.v1.Session(graph=graph) as sess:
            saver.restore(sess, prefix)
            restored_loss, own_loss, restored_w, restored_b = sess.run([loss, own, w, b], feed)
            sess.run(step, feed)
            restored_next_w = sess.run(w)

    np.testing.assert_array_equal(restored_w, saved_w)
    np.testing.assert_array_equal(restored_b, saved_b)
    np.testing.assert_allclose(restored_loss, saved_loss, **F32)
    np.testing.assert_allclose(restored_loss, own_loss, **F32)
    np.testing.assert_allclose(restored_next_w, next_w, **F32)


# ---------------------------------------------------------------------------
# 3 and 4. Graphs that travel: export_meta_graph, SavedModel, frozen GraphDef.

def export_training_graph(backend, path):
    """A training graph exported to path; the loss, and w, b after one step, here."""
    x, y, w0, b0 = data()
    with tf.Graph().as_default() as graph:
        x_ph, y_ph, w, b, loss = build_model(distance_loss, backend, w0, b0)
        own = distance_loss(y_ph, tf.matmul(x_ph, w) + b, OWN)
        train_op = OPTIMIZERS["gradient_descent"]().minimize(loss)
        tf.compat.v1.add_to_collection("the_loss", loss)
        tf.compat.v1.add_to_collection("the_train_op", train_op)
        tf.compat.v1.train.export_meta_graph(path)
        feed = {x_ph: x, y_ph: y}
        with tf.compat.v1.Session(graph=graph) as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            value, own_value = sess.run([loss, own], feed)
            sess.run(train_op, feed)
            w_after, b_after = sess.run([w, b])
    # Here the loss and the step are TensorFlow's own.
    own_step = train("cosine_distance", "gradient_descent", OWN, steps=1)
    np.testing.assert_allclose(value, own_value, **F32)
    np.testing.assert_allclose(value, own_step["loss"][0], **F32)
    np.testing.assert_allclose(w_after, own_step["w"][1], **F32)
    np.testing.assert_allclose(b_after, own_step["b"][1], **F32)
    return dict(loss=value, w=w_after, b=b_after)


def all_losses_tf(y, pred):
    """cosine_distance of normalized rows plus the mean Keras loss, tf backend."""
    return distance_loss(y, pred, "tf") + keras_loss(y, pred, "tf")


def all_losses_own(y, pred):
    return distance_loss(y, pred, OWN) + keras_loss(y, pred, OWN)


class LossModule(tf.Module):
    """Weights, and a signature computing the loss and its gradient."""

    def __init__(self, loss_fn, w0, b0):
        super().__init__()
        self.loss_fn = loss_fn
        self.w = tf.Variable(w0, name="w")
        self.b = tf.Variable(b0, name="b")

    @tf.function(input_signature=[tf.TensorSpec([None, D_IN], tf.float32),
                                  tf.TensorSpec([None, D_OUT], tf.float32)])
    def loss_and_gradient(self, x, y):
        with tf.GradientTape() as tape:
            loss = self.loss_fn(y, tf.matmul(x, self.w) + self.b)
        grad_w, grad_b = tape.gradient(loss, [self.w, self.b])
        return {"loss": loss, "grad_w": grad_w, "grad_b": grad_b}


def save_module(path):
    """A SavedModel of the tf-backend loss; its outputs here, and TF's own ops'."""
    x, y, w0, b0 = data()
    module = LossModule(all_losses_tf, w0, b0)
    got = {k: v.numpy() for k, v in module.loss_and_gradient(tf.constant(x), tf.constant(y)).items()}
    own = LossModule(all_losses_own, w0, b0)
    expected = {k: v.numpy() for k, v in own.loss_and_gradient(tf.constant(x), tf.constant(y)).items()}
    tf.saved_model.save(module, path)
    return got, expected


def freeze_graph(path):
    """A frozen GraphDef (variables as constants) of the loss and gradients, tf backend."""
    x, y, w0, b0 = data()
    with tf.Graph().as_default() as graph:
        x_ph, y_ph, w, b, _ = build_model(lambda *a: tf.constant(0.0), "tf", w0, b0)
        pred = tf.matmul(x_ph, w) + b
        outputs = {}
        for who, fn in (("cosloss", all_losses_tf), ("own", all_losses_own)):
            loss = fn(y_ph, pred)
            grad_w, grad_b = tf.gradients(loss, [w, b])
            outputs[who] = [tf.identity(loss, name=f"{who}_loss"),
                            tf.identity(grad_w, name=f"{who}_grad_w"),
                            tf.identity(grad_b, name=f"{who}_grad_b")]
        with tf.compat.v1.Session(graph=graph) as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            got, expected = sess.run([outputs["cosloss"], outputs["own"]], {x_ph: x, y_ph: y})
            frozen = tf.compat.v1.graph_util.convert_variables_to_constants(
                sess, graph.as_graph_def(), ["cosloss_loss", "cosloss_grad_w", "cosloss_grad_b"])
    assert not any(n.op in ("VarHandleOp", "VariableV2") for n in frozen.node)
    with open(path, "wb") as f:
        f.write(frozen.SerializeToString())
    return got, expected


# The tf backend's artifacts, loaded where cosloss cannot be imported.
LOAD_WITHOUT_COSLOSS = """
import json, sys
import numpy as np
import tensorflow as tf
meta, saved, frozen, data_path, out_path = sys.argv[1:]
d = np.load(data_path)
x, y = d["x"], d["y"]
out = {}

# export_meta_graph -> import_meta_graph, then one training step.
with tf.Graph().as_default() as graph:
    tf.compat.v1.train.import_meta_graph(meta)
    loss = tf.compat.v1.get_collection("the_loss")[0]
    train_op = tf.compat.v1.get_collection("the_train_op")[0]
    variables = {v.op.name: v for v in tf.compat.v1.global_variables()}
    w, b = variables["w"], variables["b"]
    feed = {graph.get_tensor_by_name("x:0"): x, graph.get_tensor_by_name("y:0"): y}
    with tf.compat.v1.Session(graph=graph) as sess:
        sess.run(tf.compat.v1.global_variables_initializer())
        out["meta/loss"] = sess.run(loss, feed)
        sess.run(train_op, feed)
        out["meta/w"], out["meta/b"] = sess.run([w, b])

# tf.saved_model.load, eagerly.
loaded = tf.saved_model.load(saved)
for k, v in loaded.loss_and_gradient(tf.constant(x), tf.constant(y)).items():
    out[f"saved/{k}"] = v.numpy()

# A frozen GraphDef through tf.graph_util.import_graph_def.
graph_def = tf.compat.v1.GraphDef()
with open(frozen, "rb") as f:
    graph_def.ParseFromString(f.read())
with tf.Graph().as_default() as graph:
    names = ["cosloss_loss:0", "cosloss_grad_w:0", "cosloss_grad_b:0"]
    xs, ys, *outputs = tf.graph_util.import_graph_def(
        graph_def, return_elements=["x:0", "y:0"] + names, name="")
    with tf.compat.v1.Session(graph=graph) as sess:
        values = sess.run(outputs, {xs: x, ys: y})
for name, v in zip(["loss", "grad_w", "grad_b"], values):
    out[f"frozen/{name}"] = v

np.savez(out_path, **out)
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] == "cosloss")))
"""


@pytest.fixture(scope="module")
def transported(tmp_path_factory):
    """The tf backend's three artifacts, what they computed here, and in a process without cosloss."""
    folder = tmp_path_factory.mktemp("transport")
    meta, saved, frozen = (str(folder / n) for n in ("graph.meta", "saved_model", "frozen.pb"))
    data_path, out_path = str(folder / "data.npz"), str(folder / "out.npz")
    x, y, _, _ = data()
    np.savez(data_path, x=x, y=y)
    here = {"meta": export_training_graph("tf", meta), "saved": save_module(saved),
            "frozen": freeze_graph(frozen)}
    modules = run_script(LOAD_WITHOUT_COSLOSS, meta, saved, frozen, data_path, out_path,
                         with_cosloss=False)
    assert modules == []  # "cosloss" not in sys.modules
    return here, load_npz(out_path)


def test_meta_graph_trains_in_a_process_without_cosloss(transported):
    here, there = transported
    exported = here["meta"]
    np.testing.assert_allclose(there["meta/loss"], exported["loss"], **F32)
    np.testing.assert_allclose(there["meta/w"], exported["w"], **F32)
    np.testing.assert_allclose(there["meta/b"], exported["b"], **F32)


def test_saved_model_loss_and_gradient_load_in_a_process_without_cosloss(transported):
    here, there = transported
    got, expected = here["saved"]
    for key in ("loss", "grad_w", "grad_b"):
        np.testing.assert_allclose(got[key], expected[key], **F32, err_msg=f"here: {key}")
        np.testing.assert_allclose(there[f"saved/{key}"], got[key], **F32, err_msg=f"there: {key}")


def test_frozen_graph_def_runs_in_a_process_without_cosloss(transported):
    here, there = transported
    got, expected = here["frozen"]
    for i, key in enumerate(("loss", "grad_w", "grad_b")):
        np.testing.assert_allclose(got[i], expected[i], **F32, err_msg=f"here: {key}")
        np.testing.assert_allclose(there[f"frozen/{key}"], got[i], **F32, err_msg=f"there: {key}")


IMPORT_GO_GRAPH = """
import json, sys
import numpy as np
import tensorflow as tf
from tensorflow.core.protobuf import meta_graph_pb2
from tensorflow.python.ops import script_ops
import cosloss.tf as ctf
meta, data_path = sys.argv[1:]
d = np.load(data_path)

graph_meta = meta_graph_pb2.MetaGraphDef()
with open(meta, "rb") as f:
    graph_meta.ParseFromString(f.read())
nodes = list(graph_meta.graph_def.node)
for function in graph_meta.graph_def.library.function:
    nodes.extend(function.node_def)
tokens = [n.attr["token"].s.decode() for n in nodes if "PyFunc" in n.op]
# Other cosloss.tf ops built here first, until every token the imported
# graph names belongs to a function of this process.
highest = max(int(t.rsplit("_", 1)[1]) for t in tokens)
others = tf.Graph()
with others.as_default():
    a = tf.compat.v1.placeholder(tf.float32, [None, 3])
    for _ in range(highest + 1):
        ctf.nn.l2_normalize(a, axis=0, backend="go")
found = all(script_ops._py_funcs.get(t) is not None for t in tokens)

with tf.Graph().as_default() as graph:
    tf.compat.v1.train.import_meta_graph(meta)
    loss = tf.compat.v1.get_collection("the_loss")[0]
    train_op = tf.compat.v1.get_collection("the_train_op")[0]
    feed = {graph.get_tensor_by_name("x:0"): d["x"], graph.get_tensor_by_name("y:0"): d["y"]}
    with tf.compat.v1.Session(graph=graph) as sess:
        sess.run(tf.compat.v1.global_variables_initializer())
        result = {}
        for name, fetch in (("loss", loss), ("train_op", train_op)):
            try:
                sess.run(fetch, feed)
                result[name] = ["computed"]
            except tf.errors.OpError as err:
                result[name] = [type(err).__name__, err.message]
print(json.dumps([len(tokens), highest, found, result]))
"""


def test_go_backend_meta_graph_fails_loudly_in_another_process(tmp_path):
    meta, data_path = str(tmp_path / "graph.meta"), str(tmp_path / "data.npz")
    x, y, _, _ = data()
    np.savez(data_path, x=x, y=y)
    exported = export_training_graph("go", meta)
    assert np.isfinite(exported["loss"])
    n_tokens, highest, found, result = run_script(IMPORT_GO_GRAPH, meta, data_path)
    assert n_tokens > 0 and found, "the check needs the imported graph's tokens taken here"
    print(f"{n_tokens} tokens, the highest pyfunc_{highest}")
    for name, outcome in result.items():
        assert outcome[0] != "computed", f"the imported go-backend graph ran its {name}"
        kind, message = outcome
        assert issubclass(getattr(tf.errors, kind), tf.errors.OpError)
        assert "cosloss" in message and 'backend="tf"' in message, f"{name}: {message}"


# ---------------------------------------------------------------------------
# 5. XLA: tf.function(jit_compile=True) over each tf-backend op.

def _l2n_ref(v, axis=-1):
    return tf.nn.l2_normalize(v, axis=axis)


def _torch_cos_ref(a, b, eps=1e-8):
    norm_a = tf.maximum(tf.norm(a, axis=1), eps)
    norm_b = tf.maximum(tf.norm(b, axis=1), eps)
    return tf.reduce_sum(a * b, axis=1) / (norm_a * norm_b)


TARGET = np.array([1, -1, 1, -1, -1, 1, 1, -1, 1, -1, 1, 1, -1, -1, 1, -1], np.int32)


def _embedding_ref(a, b, margin=0.1):
    # PyTorch's: cos from Σx² + 1e-12, 1 - cos for target 1, max(0, cos - margin) for -1.
    eps = 1e-12
    cos = tf.reduce_sum(a * b, 1) / tf.sqrt((tf.reduce_sum(a * a, 1) + eps)
                                            * (tf.reduce_sum(b * b, 1) + eps))
    losses = tf.where(TARGET == 1, 1.0 - cos, tf.maximum(cos - margin, 0.0))
    return tf.reduce_mean(losses)


# name -> (cosloss op of (a, b, backend), TensorFlow's own ops of (a, b)); a, b are [N, D].
JIT_OPS = {
    "l2_normalize": (lambda a, b, be: ctf.nn.l2_normalize(a, axis=1, backend=be),
                     lambda a, b: tf.nn.l2_normalize(a, axis=1)),
    "cosine_distance": (
        lambda a, b, be: ctf.losses.cosine_distance(
            ctf.nn.l2_normalize(a, axis=1, backend=be), ctf.nn.l2_normalize(b, axis=1, backend=be),
            axis=1, backend=be),
        lambda a, b: tf.compat.v1.losses.cosine_distance(_l2n_ref(a, 1), _l2n_ref(b, 1), axis=1)),
    "keras_cosine_similarity": (
        lambda a, b, be: ctf.keras.losses.cosine_similarity(a, b, axis=1, backend=be),
        lambda a, b: tf.keras.losses.cosine_similarity(a, b, axis=1)),
    "cosine_similarity_loss": (
        lambda a, b, be: ctf.cosine_similarity_loss(a, b, backend=be),
        lambda a, b: -tf.reduce_sum(_l2n_ref(a) * _l2n_ref(b), -1)),
    "cosine_similarity_loss_v2": (
        lambda a, b, be: ctf.cosine_similarity_loss_v2(a, b, backend=be),
        lambda a, b: 1.0 - tf.reduce_sum(_l2n_ref(a) * _l2n_ref(b), -1)),
    "cosine_similarity_loss_v3": (
        lambda a, b, be: ctf.cosine_similarity_loss_v3(a, b, backend=be),
        lambda a, b: tf.square(1.0 - tf.reduce_sum(_l2n_ref(a) * _l2n_ref(b), -1))),
    "torch_cosine_similarity": (
        lambda a, b, be: ctf.torch.cosine_similarity(a, b, backend=be),
        _torch_cos_ref),
    "torch_cosine_embedding_loss": (
        lambda a, b, be: ctf.torch.cosine_embedding_loss(a, b, tf.constant(TARGET), margin=0.1,
                                                         backend=be),
        _embedding_ref),
}


def value_and_grads(op):
    """A function (a, b, upstream) -> (value, d/da, d/db) of op."""
    def fn(a, b, upstream):
        with tf.GradientTape(persistent=True) as tape:
            tape.watch([a, b])
            value = op(a, b)
        grads = tape.gradient(value, [a, b], output_gradients=upstream)
        return [value] + [tf.zeros_like(x) if g is None else g for g, x in zip(grads, (a, b))]
    return fn


def jit_inputs(name):
    x, y, _, _ = data()
    a, b = tf.constant(x), tf.constant(y[:, :1].repeat(D_IN, 1) + x * 0.5)
    shape = JIT_OPS[name][1](a, b).shape
    up = np.random.default_rng(5).standard_normal(shape).astype(np.float32) + 0.5
    return a, b, tf.constant(up)


@pytest.mark.parametrize("name", list(JIT_OPS))
def test_xla_compiles_tf_backend_ops_with_the_same_value_and_gradient(name):
    ours, own = JIT_OPS[name]
    a, b, up = jit_inputs(name)
    fn = value_and_grads(lambda a, b: ours(a, b, "tf"))
    jit = tf.function(fn, jit_compile=True)
    plain = tf.function(fn)
    hlo = jit.experimental_get_compiler_ir(a, b, up)(stage="hlo")
    assert "HloModule" in hlo and "PyFunc" not in hlo
    got_jit = [t.numpy() for t in jit(a, b, up)]
    got = [t.numpy() for t in plain(a, b, up)]
    expected = [t.numpy() for t in value_and_grads(own)(a, b, up)]
    for i, what in enumerate(("value", "d/da", "d/db")):
        assert got_jit[i].shape == got[i].shape == expected[i].shape, what
        np.testing.assert_allclose(got_jit[i], got[i], **F32, err_msg=f"{name}: jit vs not, {what}")
        np.testing.assert_allclose(got[i], expected[i], **F32, err_msg=f"{name}: vs TF, {what}")
    # The gradients are not all zero (that would match TF's trivially).
    assert max(np.abs(g).max() for g in expected[1:]) > 1e-3


@pytest.mark.parametrize("name", list(JIT_OPS))
def test_xla_refuses_go_backend_ops(name):
    ours, _ = JIT_OPS[name]
    a, b, up = jit_inputs(name)
    jit = tf.function(value_and_grads(lambda a, b: ours(a, b, "go")), jit_compile=True)
    with pytest.raises(tf.errors.InvalidArgumentError, match="PyFunc"):
        jit(a, b, up)


# ---------------------------------------------------------------------------
# 6. tf.distribute.MirroredStrategy over two logical CPUs.

MIRRORED = """
import json, sys
import numpy as np
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()])
import test_tf_workflows as w

strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
x, y, w0, b0 = w.data()
half = len(x) // 2
shards = strategy.experimental_distribute_values_from_function(
    lambda ctx: (x[ctx.replica_id_in_sync_group * half:][:half],
                 y[ctx.replica_id_in_sync_group * half:][:half]))
out = {}
for who in (w.OWN, "tf"):
    with strategy.scope():
        # A MEAN-aggregated variable: each replica's update is averaged.
        wv = tf.Variable(w0, aggregation=tf.VariableAggregation.MEAN)
        bv = tf.Variable(b0, aggregation=tf.VariableAggregation.MEAN)

    def replica_step(xs, ys):
        with tf.GradientTape() as tape:
            loss = (w.distance_loss(ys, tf.matmul(xs, wv) + bv, who)
                    + w.keras_loss(ys, tf.matmul(xs, wv) + bv, who))
        grads = tape.gradient(loss, [wv, bv])
        for var, grad in zip((wv, bv), grads):
            var.assign_sub(0.5 * grad)
        return loss

    @tf.function
    def step(inputs):
        return strategy.run(replica_step, args=inputs)

    for i in range(2):
        losses = strategy.experimental_local_results(step(shards))
        out[f"{who}/loss{i}"] = np.array([l.numpy() for l in losses])
    out[f"{who}/w"] = np.array([v.numpy() for v in strategy.experimental_local_results(wv)])
    out[f"{who}/b"] = np.array([v.numpy() for v in strategy.experimental_local_results(bv)])
np.savez(sys.argv[1], **out)
print(json.dumps([strategy.num_replicas_in_sync,
                  [d.name for d in tf.config.list_logical_devices("CPU")]]))
"""


def test_mirrored_strategy_step_matches_tensorflow(tmp_path):
    path = str(tmp_path / "mirrored.npz")
    replicas, devices = run_script(MIRRORED, path)
    assert replicas == 2 and len(devices) == 2
    got = load_npz(path)
    _, _, w0, _ = data()
    for key in ("loss0", "loss1", "w", "b"):
        assert got[f"tf/{key}"].shape[0] == 2, key  # one per replica
        np.testing.assert_allclose(got[f"tf/{key}"], got[f"{OWN}/{key}"], **F32, err_msg=key)
    # The replicas saw different shards, and their averaged updates agree.
    assert not np.allclose(got["tf/loss0"][0], got["tf/loss0"][1])
    np.testing.assert_array_equal(got["tf/w"][0], got["tf/w"][1])
    assert np.abs(got["tf/w"][0] - w0).max() > 1e-2


# ---------------------------------------------------------------------------
# 7. A tf.data pipeline.

def batch_losses(a, b, who):
    """Per-batch values computed in the pipeline's map."""
    if who == OWN:
        torch_cos = _torch_cos_ref(a, b)
    else:
        torch_cos = ctf.torch.cosine_similarity(a, b, backend=who)
    return {"distance": distance_loss(a, b, who), "keras": keras_loss(a, b, who),
            "torch": torch_cos}


@pytest.mark.parametrize("mode", ["graph", "eager"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_data_pipeline_map_matches_tensorflow(backend, mode):
    x, y, _, _ = data()
    x, y = x[:, :D_OUT], y  # pairs of D_OUT-vectors; 16 rows in batches of 5: 5, 5, 5, 1

    def pipeline():
        return (tf.data.Dataset.from_tensor_slices((x, y)).batch(5)
                .map(lambda a, b: (batch_losses(a, b, backend), batch_losses(a, b, OWN))))

    batches = []
    if mode == "eager":
        for ours, own in pipeline():
            batches.append(({k: v.numpy() for k, v in ours.items()},
                            {k: v.numpy() for k, v in own.items()}))
    else:
        with tf.Graph().as_default() as graph:
            element = tf.compat.v1.data.make_one_shot_iterator(pipeline()).get_next()
            with tf.compat.v1.Session(graph=graph) as sess:
                while True:
                    try:
                        batches.append(sess.run(element))
                    except tf.errors.OutOfRangeError:
                        break
    assert [len(own["torch"]) for _, own in batches] == [5, 5, 5, 1]
    for i, (ours, own) in enumerate(batches):
        for key in own:
            np.testing.assert_allclose(ours[key], own[key], **F32, err_msg=f"batch {i}: {key}")


# ---------------------------------------------------------------------------
# 8 and 9. Keras: mixed_float16, and a .keras model reloaded without custom_objects.

KERAS_TRAIN = """
import json, sys
import numpy as np
import tensorflow as tf
import cosloss.tf

path = sys.argv[1]
rng = np.random.default_rng(0)
x = rng.standard_normal((64, 8)).astype(np.float32)
# Learnable targets, so the loss moves well away from 0 (where atol would rule).
y = (x @ rng.standard_normal((8, 4)) + 0.3 * rng.standard_normal((64, 4))).astype(np.float32)
np.savez(path + ".data.npz", x=x, y=y)


def twins(loss_ours, loss_theirs):
    # Two models with the same initial weights, one per loss.
    tf.keras.utils.set_random_seed(0)
    models = []
    for loss in (loss_ours, loss_theirs):
        model = tf.keras.Sequential([tf.keras.Input((8,)), tf.keras.layers.Dense(16, activation="tanh"),
                                     tf.keras.layers.Dense(4)])
        model.compile(optimizer=tf.keras.optimizers.SGD(0.1), loss=loss)
        models.append(model)
    models[1].set_weights(models[0].get_weights())
    return models


def fit_both(models, epochs):
    return [m.fit(x, y, batch_size=16, epochs=epochs, verbose=0, shuffle=False).history["loss"]
            for m in models]


# 9: float32 training, then the model saved.
ours, theirs = twins(cosloss.tf.keras.losses.CosineSimilarity(axis=-1),
                     tf.keras.losses.CosineSimilarity(axis=-1))
hist_ours, hist_theirs = fit_both((ours, theirs), 2)
evaluated = ours.evaluate(x, y, batch_size=64, verbose=0)
# TensorFlow's own loss of the trained model's predictions.
own = float(tf.keras.losses.CosineSimilarity(axis=-1)(y, ours.predict(x, verbose=0)))
ours.save(path)
saved = dict(hist_ours=hist_ours, hist_theirs=hist_theirs, evaluated=evaluated, own=own,
             loss_type=type(ours.loss).__module__ + "." + type(ours.loss).__name__)

# 8: mixed_float16 (after the save, so the saved model is float32's).
tf.keras.mixed_precision.set_global_policy("mixed_float16")
ours, theirs = twins(cosloss.tf.keras.losses.CosineSimilarity(axis=-1),
                     tf.keras.losses.CosineSimilarity(axis=-1))
hist_ours16, hist_theirs16 = fit_both((ours, theirs), 1)
pred = ours.predict(x, verbose=0)
mixed = dict(hist_ours=hist_ours16, hist_theirs=hist_theirs16,
             evaluated=[m.evaluate(x, y, batch_size=64, verbose=0) for m in (ours, theirs)],
             compute_dtype=ours.layers[-1].compute_dtype, pred_dtype=str(pred.dtype),
             optimizer=type(ours.optimizer).__name__)
print(json.dumps(dict(saved=saved, mixed=mixed,
                      keras3=cosloss.tf.keras.losses._keras3())))
"""

KERAS_RELOAD = """
import json, sys
import numpy as np
import tensorflow as tf
import cosloss.tf

path = sys.argv[1]
d = np.load(path + ".data.npz")
model = tf.keras.models.load_model(path)  # no custom_objects
evaluated = model.evaluate(d["x"], d["y"], batch_size=64, verbose=0)
own = float(tf.keras.losses.CosineSimilarity(axis=-1)(d["y"], model.predict(d["x"], verbose=0)))
print(json.dumps(dict(evaluated=evaluated, own=own,
                      is_ours=isinstance(model.loss, cosloss.tf.keras.losses.CosineSimilarity),
                      loss_type=type(model.loss).__module__ + "." + type(model.loss).__name__)))
"""


@pytest.fixture(scope="module", params=["1", "0"], ids=["tf-keras", "keras3"])
def keras_runs(request, tmp_path_factory):
    """Under one Keras: the training script's results, then the reload script's."""
    path = str(tmp_path_factory.mktemp("keras") / "model.keras")
    trained = run_script(KERAS_TRAIN, path, legacy=request.param)
    assert trained["keras3"] == (request.param == "0")
    reloaded = run_script(KERAS_RELOAD, path, legacy=request.param)
    return trained, reloaded


def test_keras_mixed_float16_training_matches_keras(keras_runs):
    mixed = keras_runs[0]["mixed"]
    assert mixed["compute_dtype"] == "float16" and mixed["pred_dtype"] == "float16"
    assert "LossScale" in mixed["optimizer"]
    ours, theirs = mixed["hist_ours"], mixed["hist_theirs"]
    assert len(ours) == 1 and np.all(np.isfinite(ours)) and np.all(np.isfinite(theirs))
    np.testing.assert_allclose(ours, theirs, **F16)
    evaluated_ours, evaluated_theirs = mixed["evaluated"]
    assert np.isfinite(evaluated_ours)
    np.testing.assert_allclose(evaluated_ours, evaluated_theirs, **F16)


def test_keras_model_trains_as_keras_and_reloads_without_custom_objects(keras_runs):
    trained, reloaded = keras_runs
    saved = trained["saved"]
    np.testing.assert_allclose(saved["hist_ours"], saved["hist_theirs"], **F32)
    np.testing.assert_allclose(saved["evaluated"], saved["own"], **F32)
    assert saved["loss_type"] == "cosloss.tf.keras.losses.CosineSimilarity"
    assert reloaded["is_ours"], reloaded["loss_type"]
    np.testing.assert_allclose(reloaded["evaluated"], saved["evaluated"], **F32)
    np.testing.assert_allclose(reloaded["evaluated"], reloaded["own"], **F32)
