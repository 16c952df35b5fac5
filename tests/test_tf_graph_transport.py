"""A go-backend cosloss.tf graph imported into another process never computes the wrong function.

tf.numpy_function keeps its Python functions in a per-process table under
tokens ("pyfunc_N"): a graph exported with export_meta_graph and imported
in a process that had built other cosloss.tf ops found their functions
under its tokens, and returned a wrong loss with no error. Each case runs
in fresh interpreters.
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

EXPORT = """
import json, sys
import numpy as np
import tensorflow as tf
import cosloss.tf as ctf
tf.compat.v1.disable_eager_execution()
x = tf.compat.v1.placeholder(tf.float32, [None, 3], name="x")
y = tf.constant([[1., 2., 2.], [0., 3., 4.]])
loss = ctf.losses.cosine_distance(ctf.nn.l2_normalize(x, axis=1), ctf.nn.l2_normalize(y, axis=1),
                                  axis=1)
tf.compat.v1.add_to_collection("the_loss", loss)
feed = np.array([[1., 0., 0.], [0., 1., 1.]], np.float32)
with tf.compat.v1.Session() as s:
    value = float(s.run(loss, {x: feed}))
tf.compat.v1.train.export_meta_graph(sys.argv[1])
print(json.dumps(value))
"""

IMPORT = """
import json, sys
import numpy as np
import tensorflow as tf
import cosloss.tf as ctf
tf.compat.v1.disable_eager_execution()
if sys.argv[2] == "other ops first":
    # Ops of the same kinds with other arguments take the tokens the
    # imported graph names: their functions accept its inputs and compute
    # something else (before the keys, a wrong loss and no error).
    with tf.Graph().as_default():
        a = tf.compat.v1.placeholder(tf.float32, [None, 3])
        b = tf.constant([[3., 0., 4.], [1., 1., 1.]])
        ctf.losses.cosine_distance(ctf.nn.l2_normalize(a, axis=0), ctf.nn.l2_normalize(b, axis=0),
                                   axis=1, reduction=ctf.losses.Reduction.SUM)
with tf.Graph().as_default():
    tf.compat.v1.train.import_meta_graph(sys.argv[1])
    loss = tf.compat.v1.get_collection("the_loss")[0]
    x = tf.compat.v1.get_default_graph().get_tensor_by_name("x:0")
    feed = np.array([[1., 0., 0.], [0., 1., 1.]], np.float32)
    with tf.compat.v1.Session() as s:
        try:
            print(json.dumps(["value", float(s.run(loss, {x: feed}))]))
        except tf.errors.OpError as err:
            print(json.dumps(["error", err.message]))
"""


def run(code, *args):
    # These graphs are the go backend's: the tf backend's travel (tests/test_tf_workflows.py).
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=PKG_PARENT,
               COSLOSS_TF_BACKEND="go")
    done = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("first", ["other ops first", "nothing first"])
def test_imported_graph_fails_loudly_instead_of_computing_another_function(first, tmp_path):
    path = str(tmp_path / "graph.meta")
    value = run(EXPORT, path)
    # The numbers themselves: rows (1,0,0)·(1,2,2)/3 and (0,1,1)/√2·(0,3,4)/5.
    expected = (1 - 1 / 3) + (1 - 7 / (5 * np.sqrt(2)))
    np.testing.assert_allclose(value, expected / 2, rtol=1e-6)
    kind, what = run(IMPORT, path, first)
    assert kind == "error", f"the imported graph computed {what} without an error"
    if first == "other ops first":
        assert "cosloss.tf" in what and "another process" in what and 'backend="tf"' in what
    else:
        # TensorFlow's own error (no function under that token), with cosloss's hint.
        assert "Could not find callback" in what
        assert "cosloss.tf" in what and 'backend="tf"' in what
