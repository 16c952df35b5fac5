"""PyTorch's cosine losses: F.cosine_similarity and CosineEmbeddingLoss (PyTorch >= 2.0).

Both are CosineLoss with PyTorch's data: its epsilon rules (TORCH_NORM:
max(‖x‖, ε) clamped without gradient; TORCH_EMBEDDING_NORM: Σx² + 1e-12),
its type promotion, and its own argument checks.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from cosloss._core import go, ops
from cosloss._core.arrays import (FLOAT_DTYPES, broadcast_shape, check_out, convert, deliver,
                                  describe, normalize_axis, real_scalar)
from cosloss._losses.base import Loss, Result
from cosloss._losses.cosine import CosineLoss
from cosloss._losses.flavours import TORCH_EMBEDDING_NORM, TORCH_NORM, Norm
from cosloss._losses.reductions import upstream_for


def promote(x: np.ndarray, x_name: str, y: np.ndarray, y_name: str, op: str) -> np.dtype:
    """PyTorch's result type of two tensors, which must be floating.

    The wider float of two floats; the float of a float and an integer or
    bool; an error for two non-floats (PyTorch: "expected common dtype to
    be floating point").
    """
    for a, name in ((x, x_name), (y, y_name)):
        if a.dtype.kind not in "biuf":
            raise TypeError(f"{op} needs {name} of a real dtype, got {a.dtype}")
    floats = [a.dtype for a in (x, y) if a.dtype.kind == "f"]
    if not floats:
        raise TypeError(f"{op} needs a floating {x_name} or {y_name} (their common dtype must be "
                        f"floating point, as in PyTorch), got {x.dtype} and {y.dtype}")
    dtype = max(floats, key=lambda d: d.itemsize)
    if dtype not in FLOAT_DTYPES:
        raise TypeError(f"{op} computes in float16, float32 or float64, got {dtype}")
    return dtype


class TorchCosine(CosineLoss):
    """PyTorch's F.cosine_similarity(x1, x2, dim=1, eps=1e-8), PyTorch >= 2.0.

        cos = Σ x1·x2 / (max(‖x1‖, ε) · max(‖x2‖, ε))

    The inputs broadcast; dim indexes the broadcast shape; they are promoted
    to a common float dtype as PyTorch promotes (an integer input takes the
    other's float dtype). The gradient is PyTorch's autograd gradient: the
    clamp runs without gradient, so the norm's own gradient flows as if
    unclamped (x·d/(‖x‖·max(‖x‖, ε)) in the pull term, 0 at a zero vector).
    """

    def __init__(self) -> None:
        super().__init__(go.COS, TORCH_NORM, ("x1", "x2"), "cosine_similarity")

    def __repr__(self) -> str:
        return "TorchCosine()"

    def prepare_torch(self, x1: ArrayLike, x2: ArrayLike, dim: Any, eps: Any,
                      ) -> tuple[np.ndarray, np.ndarray, int, tuple[int, ...], Norm,
                                 tuple[np.dtype, np.dtype]]:
        """(x1, x2 in their common dtype, dim, broadcast shape, norm rule, their own
        dtypes), converted and checked once."""
        x1 = convert(x1, "x1")
        x2 = convert(x2, "x2")
        dtype = promote(x1, "x1", x2, "x2", self.op)
        shape = broadcast_shape(x1, "x1", x2, "x2")
        dim = normalize_axis(dim, len(shape), "dim")
        eps = real_scalar(eps, "eps")
        norm = self.norm if eps == self.norm.eps else Norm(self.norm.rule, eps)
        return (x1.astype(dtype, copy=False), x2.astype(dtype, copy=False), dim, shape, norm,
                (x1.dtype, x2.dtype))

    def value(self, x1: ArrayLike, x2: ArrayLike, dim: Any = 1, eps: Any = 1e-8) -> np.ndarray:
        if type(eps) is float and eps == self.norm.eps:
            # The usual call: contiguous arrays of one shape and dtype go
            # straight to Go.
            out = go.cosine_fast(x1, x2, dim, self.form, self.norm.rule, self.norm.eps_by_dtype)
            if out is not None:
                return out
        x1, x2, dim, shape, norm, _ = self.prepare_torch(x1, x2, dim, eps)
        return self.cosine(x1, x2, dim, shape, norm)

    def value_and_grad(self, x1: ArrayLike, x2: ArrayLike, dim: Any = 1, eps: Any = 1e-8, *,
                       upstream: ArrayLike | None = None, out: Any = None) -> Result:
        out = check_out(out, 2)
        x1, x2, dim, shape, norm, dtypes = self.prepare_torch(x1, x2, dim, eps)
        value, grads = self.cosine_grad(x1, x2, dim, shape, norm, upstream, None)
        return value, deliver(_in_dtypes(grads, dtypes), out)


TORCH_COSINE = TorchCosine()

REDUCTIONS = ("none", "mean", "sum")


def check_reduction(reduction: Any) -> str:
    """PyTorch's reduction keys for losses, or ValueError naming the argument."""
    if not isinstance(reduction, str) or reduction not in REDUCTIONS:
        raise ValueError(f"{describe(reduction)} is not a valid value for reduction "
                         f"(argument 'reduction' must be one of {REDUCTIONS})")
    return reduction


class CosineEmbedding(Loss):
    """PyTorch's CosineEmbeddingLoss / F.cosine_embedding_loss.

        cos    = Σ x1·x2 / sqrt((Σx1² + 1e-12) · (Σx2² + 1e-12))     along the last axis
        loss_i = 1 − cos_i                  where target_i = 1
                 max(0, cos_i − margin)     where target_i = −1
        reduce: "none" (loss), "mean" (Σ loss / N; NaN for N = 0), "sum"

    input1 and input2 are (N, D) with a target of shape (N,), or (D,) with
    a 0-d target; they broadcast with each other and are promoted as
    PyTorch promotes. Unlike PyTorch, a target of another shape (PyTorch
    issue #53030: (N, 1) broadcasts to N×N) or with values other than ±1
    (which PyTorch silently scores 0) raises ValueError. The gradient is
    PyTorch's autograd gradient (clamp_min passes it where cos − margin ≥ 0).
    The value takes one Go pass; value_and_grad two (the cosines decide the
    gradient's mask before the gradient pass).
    """

    def __init__(self) -> None:
        self.cos = CosineLoss(go.COS, TORCH_EMBEDDING_NORM, ("input1", "input2"),
                                 "cosine_embedding_loss")

    def __repr__(self) -> str:
        return "CosineEmbedding()"

    def prepare(self, input1: ArrayLike, input2: ArrayLike, target: ArrayLike, margin: Any,
                reduction: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, int,
                                         tuple[int, ...], float, str, tuple[np.dtype, np.dtype]]:
        """(input1, input2 in their common dtype, target, axis, shape, margin, reduction,
        the inputs' own dtypes), converted and checked once."""
        reduction = check_reduction(reduction)
        margin = real_scalar(margin, "margin")
        input1, input2 = convert(input1, "input1"), convert(input2, "input2")
        target = convert(target, "target")
        check_target_kind(target)
        want = target.ndim + 1
        for a, name in ((input1, "input1"), (input2, "input2")):
            if a.ndim != want:
                raise ValueError(f"a {target.ndim}-d target needs {want}-d input1 and input2, "
                                 f"got {name} of shape {a.shape}")
        dtype = promote(input1, "input1", input2, "input2", "cosine_embedding_loss")
        shape = broadcast_shape(input1, "input1", input2, "input2")
        check_target_values(target, shape[:-1])
        return (input1.astype(dtype, copy=False), input2.astype(dtype, copy=False), target,
                len(shape) - 1, shape, margin, reduction, (input1.dtype, input2.dtype))

    def value(self, input1: ArrayLike, input2: ArrayLike, target: ArrayLike, margin: Any = 0.0,
              reduction: Any = "mean") -> np.ndarray | np.floating:
        x, y, target, axis, shape, margin, reduction, _ = self.prepare(input1, input2, target,
                                                                       margin, reduction)
        cos = self.cos.cosine(x, y, axis, shape, self.cos.norm)
        return _reduce(_per_sample(cos, target, _clamped(cos, margin)), reduction)

    def value_and_grad(self, input1: ArrayLike, input2: ArrayLike, target: ArrayLike,
                       margin: Any = 0.0, reduction: Any = "mean", *,
                       upstream: ArrayLike | None = None, out: Any = None) -> Result:
        out = check_out(out, 2)
        x, y, target, axis, shape, margin, reduction, dtypes = self.prepare(
            input1, input2, target, margin, reduction)
        cos = self.cos.cosine(x, y, axis, shape, self.cos.norm)
        clamped = _clamped(cos, margin)
        losses = _per_sample(cos, target, clamped)
        value = _reduce(losses, reduction)
        g = upstream_for(upstream, np.shape(value), cos.dtype)
        if reduction == "mean":
            g = g / cos.dtype.type(losses.size) if losses.size else np.zeros((), cos.dtype)
        # d loss_i / d cos_i: −1 for target 1; 1 for target −1 where
        # cos − margin ≥ 0 (clamp_min's gradient mask), else 0.
        slope = np.where(target == 1, -1, np.where(clamped >= 0, 1, 0))
        per_cos = np.broadcast_to(g, cos.shape) * slope.astype(cos.dtype)
        _, dx, dy = ops.cosine_grad(x, y, axis, go.COS, shape, per_cos.astype(cos.dtype),
                                    self.cos.norm.rule, self.cos.norm.eps)
        return value, deliver(_in_dtypes((dx, dy), dtypes), out)


def check_target_kind(target: np.ndarray) -> None:
    """CosineEmbeddingLoss's target: of a real dtype, 0-d or 1-d."""
    if target.dtype.kind not in "biuf":
        raise TypeError(f"cosine_embedding_loss needs target of a real dtype, got "
                        f"{target.dtype}")
    if target.ndim not in (0, 1):
        raise ValueError(f"cosine_embedding_loss needs a 0-d or 1-d target (one +1 or -1 "
                         f"per pair), got target of shape {target.shape}")


def check_target_values(target: np.ndarray, pairs: tuple[int, ...]) -> None:
    """One target per pair (pairs: the inputs' broadcast shape without its last
    axis), each 1 or -1."""
    if target.shape != pairs:
        raise ValueError(f"target must have one value per pair, shape {pairs}, got "
                         f"{target.shape}; cosloss does not broadcast it")
    bad = np.flatnonzero((target != 1) & (target != -1))
    if bad.size:
        index = np.unravel_index(bad[0], target.shape) if target.ndim else ()
        raise ValueError(f"target must hold only 1 and -1, got {target[index].item()!r} "
                         f"at index {tuple(int(i) for i in index)}")


def _in_dtypes(grads: tuple[np.ndarray, ...], dtypes: tuple[np.dtype, ...],
               ) -> tuple[np.ndarray, ...]:
    """Each gradient in its input's dtype, as autograd gives it (integer
    inputs, which PyTorch cannot differentiate, keep the common dtype)."""
    return tuple(g.astype(d, copy=False) if d.kind == "f" else g for g, d in zip(grads, dtypes))


def _clamped(cos: np.ndarray, margin: float) -> np.ndarray:
    """cos − margin in cos's dtype, as PyTorch subtracts a Python scalar."""
    return (cos.astype(np.float64) - float(cos.dtype.type(margin))).astype(cos.dtype)


def _per_sample(cos: np.ndarray, target: np.ndarray, clamped: np.ndarray) -> np.ndarray:
    """loss_i from the cosines and cos − margin (_clamped)."""
    positive = (1 - cos.astype(np.float64)).astype(cos.dtype)
    negative = np.maximum(clamped, cos.dtype.type(0))
    return np.where(target == 1, positive, negative).astype(cos.dtype)


def _reduce(losses: np.ndarray, reduction: str) -> np.ndarray | np.floating:
    """PyTorch's apply_loss_reduction; sums accumulate in float64 and round once."""
    if reduction == "none":
        return losses
    total = np.sum(losses, dtype=np.float64)
    if reduction == "sum":
        return losses.dtype.type(total)
    return losses.dtype.type(total / losses.size if losses.size else np.nan)


COSINE_EMBEDDING = CosineEmbedding()
