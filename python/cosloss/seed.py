"""The three cosine losses of "Why are cosine similarity losses positive in TensorFlow 1.15?".

−cos, 1 − cos and (1 − cos)², where cos uses TensorFlow's l2_normalize
(ε = 1e-12 floors the squared norms). The article divides by the norms, so
a zero vector gives NaN there; here it gives cos = 0 and finite losses.
"""

from cosloss import _core
from cosloss import _keras

__all__ = ["cosine_similarity_loss", "cosine_similarity_loss_v2", "cosine_similarity_loss_v3",
           "negative_cosine_loss", "one_minus_cosine_loss", "squared_one_minus_cosine_loss"]


def cosine_similarity_loss(a, b, axis=-1):
    """−cos(a, b) along axis, in [−1, 1]: negative when the vectors agree.

    Zero vectors give 0 (the article's code gives NaN). Inputs as
    cosloss.keras.losses.cosine_similarity, which computes the same values.

    Example:
        >>> cosloss.cosine_similarity_loss([[1., 2.], [3., 4.]], [[2., 1.], [4., 3.]])
        array([-0.8 , -0.96], dtype=float32)
    """
    return _keras.cosine(a, b, axis, _core.NEG_COS)


def cosine_similarity_loss_v2(a, b, axis=-1):
    """1 − cos(a, b) along axis, in [0, 2]: 0 when the vectors agree.

    Zero vectors give 1 (the article's code gives NaN).

    Example:
        >>> cosloss.cosine_similarity_loss_v2([[1., 2.], [3., 4.]], [[2., 1.], [4., 3.]])
        array([0.19999999, 0.04000002], dtype=float32)
    """
    return _keras.cosine(a, b, axis, _core.ONE_MINUS_COS)


def cosine_similarity_loss_v3(a, b, axis=-1):
    """(1 − cos(a, b))² along axis, in [0, 4]; its gradient vanishes as cos → 1.

    Zero vectors give 1 (the article's code gives NaN).

    Example:
        >>> cosloss.cosine_similarity_loss_v3([[1., 2.], [3., 4.]], [[2., 1.], [4., 3.]])
        array([0.04  , 0.0016], dtype=float32)
    """
    return _keras.cosine(a, b, axis, _core.SQUARED_ONE_MINUS_COS)


negative_cosine_loss = cosine_similarity_loss
one_minus_cosine_loss = cosine_similarity_loss_v2
squared_one_minus_cosine_loss = cosine_similarity_loss_v3
