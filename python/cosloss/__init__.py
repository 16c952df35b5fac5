"""cosloss: TensorFlow's cosine-similarity losses for numpy, computed in Go.

    cosloss.nn.l2_normalize
    cosloss.losses.cosine_distance, compute_weighted_loss, Reduction   (TF1)
    cosloss.keras.losses.cosine_similarity, CosineSimilarity, Reduction (TF ≥ 2.0: −cos)
    cosloss.keras.metrics.CosineSimilarity                             (+cos)
    cosloss.cosine_similarity_loss, _v2, _v3                           (−cos, 1−cos, (1−cos)²)
    cosloss.tf115                                                      (TF 1.15 as released: +cos loss)
    cosloss.torch.nn.functional.cosine_similarity, CosineEmbeddingLoss (PyTorch >= 2.0)
    cosloss.pairwise.cosine_similarity, top_k                          (all pairs, exact search)
    cosloss.contrastive.multiple_negatives_ranking_loss, ntxent, triplet_margin_loss
                                                                       (in-batch contrastive losses)
    cosloss.set_workers, workers, kernel, kernels, set_kernel          (threads, SIMD kernel set)
"""

from cosloss import contrastive, keras, losses, nn, pairwise, tf115, torch
from cosloss._core import kernel, kernels, set_kernel, set_workers, workers
from cosloss._grad import value_and_grad
from cosloss.seed import (cosine_similarity_loss, cosine_similarity_loss_v2,
                          cosine_similarity_loss_v3, negative_cosine_loss, one_minus_cosine_loss,
                          squared_one_minus_cosine_loss)

__version__ = "0.1.0"  # the only copy: pyproject.toml reads it at build time

__all__ = ["nn", "losses", "keras", "tf115", "torch", "pairwise", "contrastive", "value_and_grad", "set_workers", "workers", "kernel", "kernels", "set_kernel", "cosine_similarity_loss", "cosine_similarity_loss_v2",
           "cosine_similarity_loss_v3", "negative_cosine_loss", "one_minus_cosine_loss",
           "squared_one_minus_cosine_loss", "__version__"]


def __getattr__(name: str) -> object:
    # cosloss.tf imports TensorFlow, so `import cosloss` does not import it;
    # `cosloss.tf` after a plain `import cosloss` imports it then (PEP 562).
    if name == "tf":
        import importlib

        return importlib.import_module("cosloss.tf")
    raise AttributeError(f"module 'cosloss' has no attribute {name!r}")
