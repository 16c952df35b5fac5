"""cosloss inside TensorFlow graphs: tf.Tensor in, tf.Tensor out, Go underneath.

Each function here is a TensorFlow op (tf.numpy_function with a custom
gradient) whose forward and backward passes both run in cosloss's Go core,
in graph mode (tf.compat.v1 placeholders and Sessions, unknown batch sizes)
and eagerly. Only this module imports TensorFlow; install it with
`pip install "cosloss[tf]"`. Signs follow TensorFlow >= 2.0.

    cosloss.tf.nn.l2_normalize
    cosloss.tf.losses.cosine_distance            (adds to loss_collection)
    cosloss.tf.keras.losses.cosine_similarity, CosineSimilarity (a Keras Loss)
    cosloss.tf.cosine_similarity_loss, _v2, _v3
    cosloss.tf.torch.cosine_similarity, cosine_embedding_loss   (PyTorch >= 2.0 semantics)

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

from cosloss.tf import keras, losses, nn, torch
from cosloss.tf.seed import (cosine_similarity_loss, cosine_similarity_loss_v2,
                             cosine_similarity_loss_v3)

__all__ = ["nn", "losses", "keras", "torch", "cosine_similarity_loss", "cosine_similarity_loss_v2",
           "cosine_similarity_loss_v3"]
