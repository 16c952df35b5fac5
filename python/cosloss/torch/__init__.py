"""PyTorch's cosine API for numpy arrays (PyTorch >= 2.0 semantics), computed in Go.

    cosloss.torch.nn.functional.cosine_similarity, cosine_embedding_loss
    cosloss.torch.nn.CosineSimilarity, CosineEmbeddingLoss

Names, arguments and defaults are PyTorch's; arrays are numpy's (PyTorch
itself is not needed). Gradients come from `cosloss.value_and_grad` or each
object's `value_and_grad`.

Example:
    >>> cosloss.torch.nn.functional.cosine_similarity([[1., 2.]], [[2., 1.]])
    array([0.8], dtype=float32)
"""

from cosloss.torch import nn

__all__ = ["nn"]
