"""The in-batch contrastive losses: one loss object each, their faces in cosloss.contrastive.

    MultipleNegativesRanking   sentence-transformers' MultipleNegativesRankingLoss
                               (symmetric: MultipleNegativesSymmetricRankingLoss)
    NTXent                     optax.losses.ntxent
    TripletMargin              torch.nn.TripletMarginWithDistanceLoss, distance 1 - cos

The first two run in the Go core's row-block pass (cosloss/contrastive.go):
value and gradients in one pass, in memory that does not grow with the
batch squared. The triplet loss is three row-wise cosines, the one-home
CosineLoss objects. Reductions and sample weights are Keras's
(tf-keras 2.x rules, cosloss._losses.reductions); the gradients of a
reduction are linear, so they are known before the pass.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from cosloss._core import contrastive_go, go, ops
from cosloss._core.arrays import (check_out, check_out_fits, compute_dtype, convert, deliver,
                                  describe, real_scalar, require_float, require_same_dtype)
from cosloss._losses.base import Loss, Result
from cosloss._losses.cosine import CosineLoss
from cosloss._losses.flavours import TF2, TF_NORM
from cosloss._losses.keras import Reduction
from cosloss._losses.reductions import (_shape_str, keras_reduce, keras_reduce_grad, keras_weights,
                                        upstream_for)

# TensorFlow's l2_normalize floor, max(Σx², 1e-12), as in the rest of cosloss
# (a zero row has cosine 0 and finite gradients).
_EPS = 1e-12


def _matrix(value: Any, name: str, op: str) -> np.ndarray:
    """A float array of rank 2, (batch, dim), or the errors that name it."""
    arr = convert(value, name)
    require_float(arr, name, op)
    if arr.ndim != 2:
        raise ValueError(f"{op} needs {name} of shape (batch, dim), got shape "
                         f"{_shape_str(arr.shape)}")
    return arr


def _same_shape(arr: np.ndarray, name: str, like: np.ndarray, like_name: str, op: str) -> None:
    if arr.shape != like.shape:
        raise ValueError(f"{op} needs {name} of the shape of {like_name} {_shape_str(like.shape)}, "
                         f"got {_shape_str(arr.shape)}")


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {describe(value)}")
    return bool(value)


def _work(arr: np.ndarray) -> np.ndarray:
    """arr in the dtype Go computes in (float16 in float32), laid out for Go."""
    return contrastive_go.readable(arr.astype(compute_dtype(arr.dtype), copy=False))


def _gradient_buffer(o: np.ndarray | None, public: tuple, shape: tuple, dtype: np.dtype,
                     inputs: tuple[np.ndarray, ...], outs: tuple) -> np.ndarray:
    """Where the core writes a gradient: the caller's out array o when it can
    take it as it is (C-contiguous, writeable, the work dtype, the
    gradient's public shape, which the core sees as shape, and sharing no memory with an input, an array read
    later or another out array), else a fresh one. At B=65536, d=256 a
    fresh pair of float32 gradients is 128 MiB that out= saves."""
    if (o is not None and o.dtype == dtype and o.flags.c_contiguous and o.flags.writeable
            and o.shape == public
            and not any(np.may_share_memory(o, a) for a in inputs)
            and not any(q is not None and q is not o and np.may_share_memory(o, q) for q in outs)):
        return o.reshape(shape)
    return np.empty(shape, dtype)


def _eps_in(dtype: np.dtype, eps: float) -> float:
    """eps as the input's dtype holds it (TensorFlow converts it so)."""
    return float(np.asarray(eps, dtype=dtype))


class _Reduced:
    """A loss's per-sample reduction for one call: Keras's rules, checked once."""

    def __init__(self, batch: int, dtype: np.dtype, reduction: Any, sample_weight: Any) -> None:
        Reduction.validate(reduction)
        self.reduction, self.dtype = reduction, dtype
        self.shape = (batch,)
        self.weights = keras_weights(self.shape, dtype, sample_weight, TF2)

    def value(self, per_sample: np.ndarray) -> np.ndarray | np.floating:
        return keras_reduce(per_sample, self.weights, self.reduction)

    def coef(self, upstream: ArrayLike | None) -> np.ndarray:
        """dL/dloss_i for every sample, float64 (what the Go pass scales G by)."""
        grad = keras_reduce_grad(self.shape, self.dtype, self.weights, self.reduction, upstream)
        return np.ascontiguousarray(grad, dtype=np.float64)


class MultipleNegativesRanking(Loss):
    """sentence-transformers' MultipleNegativesRankingLoss on given embeddings.

    For anchors a (B, d), positives p (B, d) and optional hard negatives n,
    (B, d) or (B, k, d), the candidates are c = [p_0..p_{B-1}, n_{0,0}..n_{B-1,0},
    ..., n_{0,k-1}..n_{B-1,k-1}] (torch.cat of the positive column and each
    negative column, as sentence-transformers' compute_loss_from_embeddings
    orders them) and per anchor

        loss_i = logsumexp_j(scale * cos(a_i, c_j)) - scale * cos(a_i, p_i)

    (its CrossEntropyLoss with target i). symmetric=True is
    MultipleNegativesSymmetricRankingLoss: (loss_i + back_i) / 2 with
    back_i the same cross-entropy of p_i against the anchors only. Norms
    are floored as TensorFlow's l2_normalize, max(Σx², 1e-12).
    """

    op = "multiple_negatives_ranking_loss"

    def _prepare(self, anchors: Any, positives: Any, negatives: Any, scale: Any,
                 symmetric: Any, reduction: Any, sample_weight: Any,
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, float, bool, _Reduced]:
        a = _matrix(anchors, "anchors", self.op)
        p = _matrix(positives, "positives", self.op)
        require_same_dtype(a, "anchors", p, "positives")
        _same_shape(p, "positives", a, "anchors", self.op)
        n = None
        if negatives is not None:
            n = convert(negatives, "negatives")
            require_float(n, "negatives", self.op)
            require_same_dtype(a, "anchors", n, "negatives")
            b, d = a.shape
            if not (n.ndim == 2 and n.shape == a.shape or n.ndim == 3 and n.shape[0] == b
                    and n.shape[2] == d):
                raise ValueError(f"{self.op} needs negatives of shape ({b}, {d}) or ({b}, k, {d}) "
                                 f"(anchors have shape {_shape_str(a.shape)}), got "
                                 f"{_shape_str(n.shape)}")
        scale = real_scalar(scale, "scale")
        if not (np.isfinite(scale) and scale > 0):
            raise ValueError(f"{self.op} needs scale > 0 (sentence-transformers: 'Scale must be "
                             f"a positive value'), got {scale!r}")
        symmetric = _flag(symmetric, "symmetric")
        return a, p, n, scale, symmetric, _Reduced(a.shape[0], a.dtype, reduction, sample_weight)

    def _run(self, a: np.ndarray, p: np.ndarray, n: np.ndarray | None, scale: float,
             symmetric: bool, coef: np.ndarray | None, out: tuple[np.ndarray, ...] | None = None,
             reads: tuple[np.ndarray, ...] = (),
             ) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
        """(per-sample losses in float64, gradients in the work dtype).

        The gradients go straight into the out arrays that can take them
        (_gradient_buffer); reads are the caller's arrays read after the call.
        """
        b, d = a.shape
        wa, wp = _work(a), _work(p)
        wn = None if n is None else _work(n if n.ndim == 3 else n.reshape(b, 1, d))
        eps = _eps_in(a.dtype, _EPS)
        forward = np.empty(b, np.float64)
        grads: tuple[np.ndarray, ...] = ()
        da = dp = dn = None
        if coef is not None:
            if symmetric:
                coef = coef * 0.5
            inputs = (a, p, wa, wp) + (() if n is None else (n, wn)) + tuple(reads)
            outs = out if out is not None else (None,) * (2 if n is None else 3)
            da = _gradient_buffer(outs[0], a.shape, wa.shape, wa.dtype, inputs, outs)
            dp = _gradient_buffer(outs[1], p.shape, wp.shape, wp.dtype, inputs, outs)
            dn = None if wn is None else _gradient_buffer(outs[2], n.shape, wn.shape, wn.dtype,
                                                          inputs, outs)
            grads = (da, dp) if dn is None else (da, dp, dn)
        contrastive_go.multiple_negatives_ranking(wa, wp, wn, scale, eps, forward, coef, da, dp, dn)
        if not symmetric:
            return forward, grads
        # The positives→anchors direction: the positives as anchors, the
        # anchors as their only candidates, adding into the same gradients.
        backward = np.empty(b, np.float64)
        contrastive_go.multiple_negatives_ranking(wp, wa, None, scale, eps, backward, coef, dp, da,
                                                  add=True)
        return (forward + backward) / 2, grads

    def value(self, anchors: ArrayLike, positives: ArrayLike, negatives: ArrayLike | None = None,
              scale: float = 20.0, symmetric: bool = False, reduction: str = "sum_over_batch_size",
              sample_weight: ArrayLike | None = None) -> np.ndarray | np.floating:
        a, p, n, scale, symmetric, red = self._prepare(anchors, positives, negatives, scale,
                                                       symmetric, reduction, sample_weight)
        per_sample, _ = self._run(a, p, n, scale, symmetric, None)
        return red.value(per_sample.astype(a.dtype))

    def value_and_grad(self, anchors: ArrayLike, positives: ArrayLike,
                       negatives: ArrayLike | None = None, scale: float = 20.0,
                       symmetric: bool = False, reduction: str = "sum_over_batch_size",
                       sample_weight: ArrayLike | None = None, *,
                       upstream: ArrayLike | None = None, out: Any = None) -> Result:
        a, p, n, scale, symmetric, red = self._prepare(anchors, positives, negatives, scale,
                                                       symmetric, reduction, sample_weight)
        out = check_out(out, 2 if n is None else 3)
        check_out_fits(out, (a.shape, p.shape) + (() if n is None else (n.shape,)), a.dtype)
        coef = red.coef(upstream)
        weights = () if red.weights is None else (np.asarray(red.weights),)
        per_sample, grads = self._run(a, p, n, scale, symmetric, coef, out, weights)
        value = red.value(per_sample.astype(a.dtype))
        shapes = (a.shape, p.shape) + (() if n is None else (n.shape,))
        grads = tuple(g.reshape(s).astype(a.dtype, copy=False) for g, s in zip(grads, shapes))
        if out is not None:
            # A gradient the core wrote into out[i] (through a reshaped view
            # for 2-D negatives) is out[i] itself: deliver then skips its copy.
            grads = tuple(o if np.shares_memory(g, o) and g.shape == o.shape else g
                          for g, o in zip(grads, out))
        return value, deliver(grads, out)


class NTXent(Loss):
    """optax.losses.ntxent: normalized temperature-scaled cross entropy over one batch.

    With s_ij = cos(x_i, x_j) / temperature, positives P_i = {j != i: l_j = l_i}
    and negatives N_i = {k: l_k != l_i}, each positive pair is a cross-entropy
    against the anchor's negatives only:

        loss = sum_i sum_{j in P_i} [log(sum_{k in N_i} e^{s_ik} + e^{s_ij}) - s_ij]
               / sum_i |P_i|

    (optax subtracts each row's maximum first; so does the Go core). Self
    pairs are neither positive nor negative. optax's cosine floors the
    squared norms at finfo(dtype).eps (jnp.clip, whose gradient does not
    reach a clipped norm), and so does this.
    """

    op = "ntxent"

    def _prepare(self, embeddings: Any, labels: Any, temperature: Any,
                 ) -> tuple[np.ndarray, np.ndarray, float]:
        x = _matrix(embeddings, "embeddings", self.op)
        lab = convert(labels, "labels")
        if lab.dtype.kind not in "biu":
            raise TypeError(f"{self.op} needs labels of an integer (or bool) dtype, got {lab.dtype}")
        if lab.ndim != 1 or lab.shape[0] != x.shape[0]:
            raise ValueError(f"{self.op} needs labels of shape ({x.shape[0]},), one per row of "
                             f"embeddings, got {_shape_str(lab.shape)} (optax: 'Labels and "
                             f"embeddings must have the same leading dimension')")
        if lab.dtype == np.uint64 and lab.size and lab.max() > np.iinfo(np.int64).max:
            # Distinct as uint64, but not as int64: compare them as they are.
            lab = np.unique(lab, return_inverse=True)[1]
        temperature = real_scalar(temperature, "temperature")
        if not (np.isfinite(temperature) and temperature > 0):
            raise ValueError(f"{self.op} needs temperature > 0, got {temperature!r}")
        return x, np.ascontiguousarray(lab, dtype=np.int64), temperature

    @staticmethod
    def _pairs(labels: np.ndarray) -> int:
        """The number of positive pairs, sum_i |P_i| (optax's matches.sum())."""
        counts = np.unique(labels, return_counts=True)[1].astype(np.int64)
        return int(np.sum(counts * (counts - 1)))

    def _run(self, x: np.ndarray, labels: np.ndarray, temperature: float,
             upstream: ArrayLike | None, grads: bool, out: tuple[np.ndarray, ...] | None = None,
             ) -> tuple[np.floating, np.ndarray | None]:
        wx = _work(x)
        pairs = self._pairs(labels)
        losses = np.empty(x.shape[0], np.float64)
        eps = float(np.finfo(x.dtype).eps)
        coef = dx = None
        if grads:
            g = float(upstream_for(upstream, (), x.dtype))
            # No positive pair: optax's 0/0, whose gradient reaches nothing.
            coef = np.array([g / pairs if pairs else 0.0])
            dx = _gradient_buffer(None if out is None else out[0], x.shape, wx.shape, wx.dtype,
                                  (x, wx, labels), out or ())
        contrastive_go.ntxent(wx, labels, temperature, eps, losses, coef, dx)
        total = float(np.sum(losses)) / pairs if pairs else float("nan")
        return x.dtype.type(total), dx

    def value(self, embeddings: ArrayLike, labels: ArrayLike,
              temperature: float = 0.07) -> np.floating:
        x, labels, temperature = self._prepare(embeddings, labels, temperature)
        return self._run(x, labels, temperature, None, False)[0]

    def value_and_grad(self, embeddings: ArrayLike, labels: ArrayLike, temperature: float = 0.07,
                       *, upstream: ArrayLike | None = None, out: Any = None) -> Result:
        x, labels, temperature = self._prepare(embeddings, labels, temperature)
        out = check_out(out, 1)
        check_out_fits(out, (x.shape,), x.dtype)
        value, dx = self._run(x, labels, temperature, upstream, True, out)
        return value, deliver((dx.astype(x.dtype, copy=False),), out)


class TripletMargin(Loss):
    """torch.nn.TripletMarginWithDistanceLoss with distance d(x, y) = 1 - cos(x, y).

        loss_i = max(margin + d(a_i, p_i) - d(a_i, n_i), 0)

    with swap=True replacing d(a_i, n_i) by min(d(a_i, n_i), d(p_i, n_i))
    (Balntas et al.'s distance swap), in the inputs' dtype in PyTorch's
    order. Each distance is a row-wise cosine of the one-home CosineLoss
    (1 - cos, TensorFlow's norm floor); the gradients are PyTorch's
    autograd rules: clamp_min passes the gradient where its input is >= 0,
    minimum splits it in half at ties.
    """

    op = "triplet_margin_loss"

    def __init__(self) -> None:
        self._distance = CosineLoss(go.ONE_MINUS_COS, TF_NORM, ("x", "y"), self.op)

    def _prepare(self, anchors: Any, positives: Any, negatives: Any, margin: Any, swap: Any,
                 reduction: Any, sample_weight: Any,
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, bool, _Reduced]:
        a = _matrix(anchors, "anchors", self.op)
        p = _matrix(positives, "positives", self.op)
        n = _matrix(negatives, "negatives", self.op)
        require_same_dtype(a, "anchors", p, "positives")
        require_same_dtype(a, "anchors", n, "negatives")
        _same_shape(p, "positives", a, "anchors", self.op)
        _same_shape(n, "negatives", a, "anchors", self.op)
        margin = real_scalar(margin, "margin")
        swap = _flag(swap, "swap")
        return a, p, n, margin, swap, _Reduced(a.shape[0], a.dtype, reduction, sample_weight)

    def _d(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return self._distance.cosine(x, y, 1, x.shape, TF_NORM)

    def _losses(self, a: np.ndarray, p: np.ndarray, n: np.ndarray, margin: float, swap: bool,
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
        """(per-sample losses, d(a, p), d(a, n), d(p, n) or None), in the dtype."""
        d_ap, d_an = self._d(a, p), self._d(a, n)
        d_pn = self._d(p, n) if swap else None
        d_neg = np.minimum(d_an, d_pn) if swap else d_an
        m = a.dtype.type(margin)
        losses = np.maximum((m + d_ap) - d_neg, a.dtype.type(0))
        return losses, d_ap, d_an, d_pn

    def value(self, anchors: ArrayLike, positives: ArrayLike, negatives: ArrayLike,
              margin: float = 1.0, swap: bool = False, reduction: str = "sum_over_batch_size",
              sample_weight: ArrayLike | None = None) -> np.ndarray | np.floating:
        a, p, n, margin, swap, red = self._prepare(anchors, positives, negatives, margin, swap,
                                                   reduction, sample_weight)
        return red.value(self._losses(a, p, n, margin, swap)[0])

    def value_and_grad(self, anchors: ArrayLike, positives: ArrayLike, negatives: ArrayLike,
                       margin: float = 1.0, swap: bool = False,
                       reduction: str = "sum_over_batch_size",
                       sample_weight: ArrayLike | None = None, *,
                       upstream: ArrayLike | None = None, out: Any = None) -> Result:
        a, p, n, margin, swap, red = self._prepare(anchors, positives, negatives, margin, swap,
                                                   reduction, sample_weight)
        out = check_out(out, 3)
        losses, d_ap, d_an, d_pn = self._losses(a, p, n, margin, swap)
        dtype = a.dtype
        m = dtype.type(margin)
        # clamp_min(margin + d_ap - d_neg, 0): the gradient passes where its input is >= 0.
        d_neg = np.minimum(d_an, d_pn) if swap else d_an
        g = np.where((m + d_ap) - d_neg >= 0, red.coef(upstream).astype(dtype), dtype.type(0))
        if swap:
            # torch.minimum's gradient: to the smaller, half to each at a tie.
            half = g / dtype.type(2)
            g_an = np.where(d_an < d_pn, g, np.where(d_an == d_pn, half, dtype.type(0)))
            g_pn = np.where(d_pn < d_an, g, np.where(d_an == d_pn, half, dtype.type(0)))
        else:
            g_an = g
        grad = self._distance.cosine_grad
        _, (da_p, dp_a) = grad(a, p, 1, a.shape, TF_NORM, g, None)
        _, (da_n, dn_a) = grad(a, n, 1, a.shape, TF_NORM, -g_an, None)
        da, dp, dn = da_p + da_n, dp_a, dn_a
        if swap:
            _, (dp_n, dn_p) = grad(p, n, 1, a.shape, TF_NORM, -g_pn, None)
            dp, dn = dp + dp_n, dn + dn_p
        value = red.value(losses)
        return value, deliver(tuple(x.astype(dtype, copy=False) for x in (da, dp, dn)), out)


MULTIPLE_NEGATIVES_RANKING = MultipleNegativesRanking()
NTXENT = NTXent()
TRIPLET_MARGIN = TripletMargin()
