"""cosloss inside TensorFlow graphs: tf.Tensor in, tf.Tensor out, cosloss's numbers.

Each function here is a TensorFlow op with the values and gradients of
cosloss's numpy API, in graph mode (tf.compat.v1 placeholders and
Sessions, unknown batch sizes), in tf.function and eagerly. Each is built
by one of two backends, chosen per call (`backend=`) or for the process
(`set_backend`, or the environment variable COSLOSS_TF_BACKEND):

    "tf"  (the default) TensorFlow primitives computing in float64 as the Go
          core does: the op serializes (export_meta_graph, SavedModel,
          frozen GraphDefs), loads in a process without cosloss, compiles
          under XLA and runs on any device, like TensorFlow's own ops.
    "go"  the Go core through tf.numpy_function: CPU only, and only in the
          process that built the graph; an op imported elsewhere fails with
          an error instead of computing. Faster for large in-process work.

Only this module imports TensorFlow; install it with
`pip install "cosloss[tf]"`. Signs follow TensorFlow >= 2.0.

    cosloss.tf.nn.l2_normalize
    cosloss.tf.losses.cosine_distance            (adds to loss_collection)
    cosloss.tf.keras.losses.cosine_similarity, CosineSimilarity (a Keras Loss)
    cosloss.tf.cosine_similarity_loss, _v2, _v3
    cosloss.tf.torch.cosine_similarity, cosine_embedding_loss   (PyTorch >= 2.0 semantics)
    cosloss.tf.pairwise.cosine_similarity, top_k                (all pairs, exact top-k)
    cosloss.tf.contrastive.multiple_negatives_ranking_loss, ntxent, triplet_margin_loss

Example:
    >>> x = tf.constant([[1., 0.]])
    >>> y = tf.Variable([[1., 1.]])
    >>> with tf.GradientTape() as tape:
    ...     loss = cosloss.tf.keras.losses.CosineSimilarity()(x, y)
    >>> loss.numpy(), tape.gradient(loss, y).numpy()
    (np.float32(-0.70710677), array([[-0.35355338,  0.35355338]], dtype=float32))
"""

try:
    import tensorflow  # noqa: F401
except ImportError as err:  # pragma: no cover - depends on the environment
    raise ImportError("cosloss.tf needs TensorFlow: pip install \"cosloss[tf]\"") from err

from cosloss.tf import contrastive, keras, losses, nn, pairwise, torch
from cosloss.tf._backend import get_backend, set_backend
from cosloss.tf.seed import (cosine_similarity_loss, cosine_similarity_loss_v2,
                             cosine_similarity_loss_v3)

__all__ = ["nn", "losses", "keras", "torch", "pairwise", "contrastive", "cosine_similarity_loss", "cosine_similarity_loss_v2",
           "cosine_similarity_loss_v3", "set_backend", "get_backend"]
