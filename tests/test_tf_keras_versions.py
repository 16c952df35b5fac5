"""cosloss.tf under both Kerases, and `import cosloss` without TensorFlow.

Each case runs in a fresh interpreter: which Keras tf.keras is
(TF_USE_LEGACY_KERAS) is fixed when TensorFlow is first imported, and the
other TensorFlow suites import it with whichever Keras TF_USE_LEGACY_KERAS
selects (tests/tf_support.py).
"""

import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest

if importlib.util.find_spec("tensorflow") is None and os.environ.get("CI") != "true":
    pytest.skip("needs TensorFlow", allow_module_level=True)

PKG_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(
    importlib.util.find_spec("cosloss").origin)))


def run(code, legacy):
    env = dict(os.environ, TF_USE_LEGACY_KERAS=legacy, TF_CPP_MIN_LOG_LEVEL="3",
               PYTHONPATH=PKG_PARENT)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_import_cosloss_leaves_tensorflow_alone_and_cosloss_tf_is_lazy():
    got = run("""
import json, sys
import cosloss
before = "tensorflow" in sys.modules
loss = cosloss.tf.losses.cosine_distance([[0., 1.]], [[0., 1.]], axis=1)
print(json.dumps([before, "tensorflow" in sys.modules, float(loss)]))
""", legacy="1")
    assert got == [False, True, 0.0]


KERAS_CASE = """
import json
import numpy as np
import tensorflow as tf
import cosloss.tf
loss = cosloss.tf.keras.losses.CosineSimilarity(axis=-1)
value = loss(tf.constant([[1., 0.], [0., 1.]]), tf.constant([[1., 1.], [0., 1.]])).numpy()
model = tf.keras.Sequential([tf.keras.layers.Dense(4)])
model.compile(optimizer="sgd", loss=loss)
rng = np.random.default_rng(0)
history = model.fit(rng.random((64, 8)), rng.random((64, 4)), epochs=2, verbose=0)
print(json.dumps([cosloss.tf.keras.losses._keras3(), loss.reduction, float(value),
                  history.history["loss"]]))
"""


@pytest.mark.parametrize("legacy,keras3,reduction", [("0", True, "sum_over_batch_size"),
                                                     ("1", False, "auto")],
                         ids=["keras3", "tf-keras"])
def test_keras_loss_defaults_work_under_both_kerases(legacy, keras3, reduction):
    is_keras3, got_reduction, value, losses = run(KERAS_CASE, legacy)
    assert (is_keras3, got_reduction) == (keras3, reduction)
    # mean of -cos over the rows: -(1/sqrt(2) + 1) / 2
    np.testing.assert_allclose(value, -(1 / np.sqrt(2) + 1) / 2, rtol=1e-6)
    assert len(losses) == 2 and all(np.isfinite(losses)) and all(-1 <= v <= 1 for v in losses)


METRIC_AND_SAVE = """
import json, sys
import numpy as np
import tensorflow as tf
import cosloss.tf
batches = [([[0., 1.], [1., 1.]], [[1., 0.], [1., 1.]], None),
           ([[3., 4.], [1., 0.]], [[4., 3.], [-1., 0.]], [2., 0.5])]
ours, theirs = cosloss.tf.keras.metrics.CosineSimilarity(axis=1), tf.keras.metrics.CosineSimilarity(axis=1)
for t, p, w in batches:
    for m in (ours, theirs):
        m.update_state(tf.constant(t), tf.constant(p), None if w is None else tf.constant(w))
model = tf.keras.Sequential([tf.keras.Input((8,)), tf.keras.layers.Dense(4)])
model.compile(optimizer="sgd", loss=cosloss.tf.keras.losses.CosineSimilarity(axis=-1),
              metrics=[cosloss.tf.keras.metrics.CosineSimilarity()])
rng = np.random.default_rng(1)
x, y = rng.random((16, 8)), rng.random((16, 4))
model.fit(x, y, epochs=1, verbose=0)
model.save(sys.argv[1])
np.save(sys.argv[1] + ".x.npy", x); np.save(sys.argv[1] + ".y.npy", y)
before = model.evaluate(x, y, verbose=0, return_dict=True)
print(json.dumps([float(ours.result()), float(theirs.result()), ours.get_config(), before]))
"""

RELOAD = """
import json, sys, zipfile
import numpy as np
import tensorflow as tf
import cosloss.tf
model = tf.keras.models.load_model(sys.argv[1])  # no custom_objects
x, y = np.load(sys.argv[1] + ".x.npy"), np.load(sys.argv[1] + ".y.npy")
after = model.evaluate(x, y, verbose=0, return_dict=True)
if sys.argv[1].endswith(".keras"):
    config = zipfile.ZipFile(sys.argv[1]).read("config.json").decode()
    registered = ["cosloss.losses>CosineSimilarity" in config,
                  "cosloss.metrics>CosineSimilarity" in config]
else:
    registered = [True, True]  # .h5 and SavedModel store the class by its registered name too
print(json.dumps([type(model.loss).__module__, after] + registered))
"""


def run_args(code, legacy, *args):
    env = dict(os.environ, TF_USE_LEGACY_KERAS=legacy, TF_CPP_MIN_LOG_LEVEL="3",
               PYTHONPATH=PKG_PARENT)
    done = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("legacy,name", [("0", "model.keras"), ("0", "model.h5"),
                                         ("1", "model.keras"), ("1", "model.h5"),
                                         ("1", "saved_model")],
                         ids=["keras3-keras", "keras3-h5", "tf-keras-keras", "tf-keras-h5",
                              "tf-keras-savedmodel"])
def test_keras_metric_matches_keras_and_models_reload_without_custom_objects(legacy, name,
                                                                            tmp_path):
    # Keras 3's load_model reads only .keras and .h5 (a SavedModel is an
    # inference-only TFSMLayer there); tf-keras reads SavedModel directories too.
    path = str(tmp_path / name)
    ours, theirs, config, before = run_args(METRIC_AND_SAVE, legacy, path)
    # Keras's own metric is the reference: (0 + 1 + 2 * 0.96 + 0.5 * -1) / 4.5
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    np.testing.assert_allclose(ours, (1 + 2 * 0.96 - 0.5) / 4.5, rtol=1e-6)
    assert config == {"name": "cosine_similarity", "dtype": "float32", "axis": 1}
    module, after, loss_registered, metric_registered = run_args(RELOAD, legacy, path)
    assert module == "cosloss.tf.keras.losses"
    assert loss_registered and metric_registered
    assert after.keys() == before.keys()
    for key in before:
        np.testing.assert_allclose(after[key], before[key], rtol=1e-6)
