"""Flavours: what one framework's version of a cosine loss does differently, as data.

A loss definition (cosloss._losses.cosine, .keras, ...) is written once;
each public face picks the flavour of the framework it copies. Adding a
framework's semantics means adding a value here, not copying a loss.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cosloss._core import go


@dataclass(frozen=True)
class Norm:
    """How a norm is kept away from zero before the cosine divides by it.

    rule is one of the Go core's epsilon rules:
        FLOOR_SQUARED  max(Σx², ε)            TensorFlow's l2_normalize; Σx²
                                              gets no gradient where ε wins
        FLOOR_NORM     max(‖x‖, ε)            PyTorch ≥ 2.0 F.cosine_similarity;
                                              clamped without gradient
        ADD_SQUARED    Σx² + ε                PyTorch's CosineEmbeddingLoss
    eps is ε as the framework writes it; each dtype holds it rounded.
    """

    rule: int
    eps: float
    # ε in each dtype the fast path takes, computed once.
    eps_by_dtype: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "eps_by_dtype", {np.dtype(t): float(t(self.eps))
                                                  for t in (np.float32, np.float64)})


TF_NORM = Norm(go.FLOOR_SQUARED, 1e-12)
TORCH_NORM = Norm(go.FLOOR_NORM, 1e-8)
TORCH_EMBEDDING_NORM = Norm(go.ADD_SQUARED, 1e-12)
# Keras 3's normalize: x · min(rsqrt(Σx²), 1/1e-7), whose gradient through the
# floor is 0 as through TensorFlow's maximum: TensorFlow's rule with the
# squared norm floored at (1e-7)² instead of 1e-12.
KERAS3_NORM = Norm(go.FLOOR_SQUARED, 1e-14)


@dataclass(frozen=True)
class KerasFlavour:
    """A Keras version's cosine loss function and loss object.

    Attributes:
        name: Which version ("tf2": TF >= 2.0 and tf-keras; "tf115": TF 1.15).
        form: The loss's form of the cosine: NEG_COS (-cos) since TF 2.0,
            COS (+cos) in TF 1.14 and 1.15.
        float32_reduction: Losses and weights are reduced in float32 and
            the result cast back (TF 1.15 and tf.keras before 2.8); else
            in the losses' dtype.
        strict_weights: sample_weight must be a scalar or have the losses'
            rank with each dimension 1 or equal (TF 1.15's
            assert_broadcastable); else numpy broadcasting.
        squeeze_inputs: When y_true's and y_pred's ranks differ by one, the
            larger one's trailing axis of 1 is dropped (tf-keras's
            LossFunctionWrapper); TF 1.15's loss objects do not.
        norm: How the norms are floored.
    """

    name: str
    form: int
    float32_reduction: bool
    strict_weights: bool
    squeeze_inputs: bool
    norm: Norm = TF_NORM


TF2 = KerasFlavour("tf2", go.NEG_COS, float32_reduction=False, strict_weights=False,
                   squeeze_inputs=True)
TF115 = KerasFlavour("tf115", go.COS, float32_reduction=True, strict_weights=True,
                     squeeze_inputs=False)
