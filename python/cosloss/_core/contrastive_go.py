"""The Go core's contrastive losses (cosloss/binding/contrastive.go), over numpy arrays.

As in cosloss._core.go, callers pass validated float32 or float64 arrays
and keep them referenced for the whole call (gopy releases the GIL while
Go runs). Inputs may be strided: Go takes each matrix's row stride, so a
copy is made only when a row's elements are not contiguous (or the layout
is one Go cannot address: misaligned, negative strides). Gradients and
losses are C-contiguous arrays the caller allocates.
"""

from __future__ import annotations

import numpy as np

from cosloss._core.go import _addr, _bits, _call, _extent, _go


def readable(a: np.ndarray) -> np.ndarray:
    """a itself when Go can read it as rows with a stride, else a C-ordered copy.

    The last axis must step one element at a time (or hold at most one),
    and every stride must be a non-negative multiple of the element size.
    """
    size = a.itemsize
    inner_ok = a.ndim == 0 or a.shape[-1] <= 1 or a.strides[-1] == size
    if (inner_ok and a.flags.aligned
            and all(s >= 0 and s % size == 0 for s in a.strides)):
        return a
    return np.ascontiguousarray(a)


def _stride(a: np.ndarray, axis: int) -> int:
    """a's stride along axis in elements; 0 along an axis of length 1 or less,
    which is never stepped over (Go's bounds check then sees no arbitrary value)."""
    return 0 if a.shape[axis] <= 1 else a.strides[axis] // a.itemsize


def multiple_negatives_ranking(anchors, positives, negatives, scale, eps, losses,
                               coef=None, d_anchors=None, d_positives=None, d_negatives=None,
                               add=False):
    """sentence-transformers' loss per anchor into losses (float64), and gradients.

    anchors (B, d) and positives (M, d), M >= B, are readable() 2-D arrays;
    negatives is None or a readable() (Bn, k, d) array whose column t holds
    candidate segment t + 1. With coef (float64, 1 or B elements: dL/dloss_i)
    the gradients are written into, or with add added to, the C-contiguous
    d_anchors, d_positives and d_negatives (the last None without negatives).
    """
    b, d = anchors.shape
    m = positives.shape[0]
    if negatives is None:
        neg, neg_len, nb, k, neg_row, neg_seg = 0, 0, 0, 0, 0, 0
    else:
        nb, k, _ = negatives.shape
        neg, neg_len = _addr(negatives), _extent(negatives)
        neg_row, neg_seg = _stride(negatives, 0), _stride(negatives, 1)
    grads = coef is not None
    dn = d_negatives if grads and d_negatives is not None else None
    _call(_go.MultipleNegativesRanking, _bits(anchors),
          _addr(anchors), _extent(anchors), b, d, _stride(anchors, 0),
          _addr(positives), _extent(positives), m, _stride(positives, 0),
          neg, neg_len, nb, k, neg_row, neg_seg,
          float(scale), float(eps), _addr(losses), losses.size,
          _addr(coef) if grads else 0, coef.size if grads else 0,
          _addr(d_anchors) if grads else 0, d_anchors.size if grads else 0,
          _addr(d_positives) if grads else 0, d_positives.size if grads else 0,
          _addr(dn) if dn is not None else 0, dn.size if dn is not None else 0,
          int(bool(add)))


def ntxent(x, labels, temperature, eps, losses, coef=None, dx=None, add=False):
    """optax's ntxent per anchor (the sum over its positive pairs) into losses, and dx.

    x is a readable() (B, d) array, labels a C-contiguous int64 (B,) array;
    with coef (float64, 1 or B elements) the gradient is written (or added)
    into the C-contiguous dx.
    """
    b, d = x.shape
    grads = coef is not None
    _call(_go.NTXent, _bits(x), _addr(x), _extent(x), b, d, _stride(x, 0),
          _addr(labels), labels.size, float(temperature), float(eps),
          _addr(losses), losses.size,
          _addr(coef) if grads else 0, coef.size if grads else 0,
          _addr(dx) if grads else 0, dx.size if grads else 0, int(bool(add)))


def set_working_set(nbytes: int) -> int:
    """Bytes the per-block work arrays may take (<= 0: the default, 32 MiB); returns
    the previous setting. For tests: small values make many anchor blocks."""
    return _go.SetContrastiveWorkingSet(int(nbytes))
