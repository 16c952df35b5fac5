"""Semantics a caller chooses for a cosine: whose epsilon rule, what a zero vector gives, clamping.

Every framework keeps norms away from zero its own way (see flavours.Norm);
a face defaults to its own framework's rule and `eps_mode` picks another:

    "tf"      max(Σx², 1e-12)      TensorFlow's l2_normalize, tf-keras
    "keras3"  max(Σx², 1e-14)      Keras 3's normalize: min(rsqrt(Σx²), 1/1e-7)
    "torch"   max(‖x‖, 1e-8)       PyTorch ≥ 2.0's F.cosine_similarity
    "optax"   Σx², no floor        optax's cosine_similarity (epsilon=0)

`zero` says what a slice with a zero vector gives: "finite" (the default)
the rule's own value where it is finite, else the form of cos = 0 with
zero gradients (optax's rule has no floor, so 0/0); "nan" a NaN value and
NaN gradients for that slice, as optax gives; "raise" a ValueError naming
the input and the first index of a zero vector. `clamp=True` clips the
cosine to [-1, 1] (the form's range after it), with the gradient passing
through unchanged.

Zero vectors are found only when the policy needs them (never for the
default "finite" with a floored rule), so the default costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cosloss._core import go
from cosloss._core.arrays import describe
from cosloss._losses.flavours import KERAS3_NORM, TF_NORM, TORCH_NORM, Norm

# optax.losses.cosine_similarity(predictions, targets, epsilon=0.0): the dot
# over sqrt(max(Σa²·Σb², ε²)); with ε = 0 that is each Σx² unfloored.
OPTAX_NORM = Norm(go.FLOOR_SQUARED, 0.0)

EPS_MODES: dict[str, Norm] = {"tf": TF_NORM, "keras3": KERAS3_NORM, "torch": TORCH_NORM,
                              "optax": OPTAX_NORM}
ZERO_POLICIES = ("finite", "nan", "raise")

# The range of each form over cos in [-1, 1].
_RANGES = {go.COS: (-1.0, 1.0), go.NEG_COS: (-1.0, 1.0), go.ONE_MINUS_COS: (0.0, 2.0),
           go.SQUARED_ONE_MINUS_COS: (0.0, 4.0)}
# Each form at cos = 0.
_AT_ZERO = {go.COS: 0.0, go.NEG_COS: -0.0, go.ONE_MINUS_COS: 1.0, go.SQUARED_ONE_MINUS_COS: 1.0}


@dataclass(frozen=True)
class Semantics:
    """One call's choices: the norm rule, the zero-vector policy, clamping."""

    norm: Norm
    zero: str = "finite"
    clamp: bool = False

    @property
    def plain(self) -> bool:
        """Whether the rule's own results are the answer (no post-processing)."""
        return not self.clamp and not self.needs_zero_mask

    @property
    def needs_zero_mask(self) -> bool:
        return self.zero != "finite" or self.norm.eps == 0


def choose(default: Norm, eps_mode: Any = None, zero: Any = "finite",
           clamp: Any = False) -> Semantics:
    """The Semantics of a call, its arguments checked."""
    if eps_mode is None:
        norm = default
    elif not isinstance(eps_mode, str) or eps_mode not in EPS_MODES:
        raise ValueError(f"eps_mode must be None or one of {sorted(EPS_MODES)}, "
                         f"got {describe(eps_mode)}")
    else:
        norm = EPS_MODES[eps_mode]
    if not isinstance(zero, str) or zero not in ZERO_POLICIES:
        raise ValueError(f"zero must be one of {list(ZERO_POLICIES)}, got {describe(zero)}")
    if not isinstance(clamp, (bool, np.bool_)):
        raise TypeError(f"clamp must be a bool, got {describe(clamp)}")
    return Semantics(norm, zero, bool(clamp))


def _own_axes(arr: np.ndarray, axis: int | tuple[int, ...], ndim: int) -> tuple[int, ...]:
    """axis (of the broadcast shape, non-negative) as arr's own axes, where it has them."""
    axes = axis if isinstance(axis, tuple) else (axis,)
    pad = ndim - arr.ndim
    return tuple(a - pad for a in axes if a - pad >= 0)


def zero_slices(x: np.ndarray, y: np.ndarray, names: tuple[str, str], axis: Any,
                shape: tuple[int, ...], zero: str) -> np.ndarray:
    """A bool mask of the value's shape: where either input's vector along axis is zero.

    With zero == "raise", a zero vector raises instead, naming the input
    and the index of its first zero vector (over the input's other axes).
    """
    ndim = len(shape)
    axes = axis if isinstance(axis, tuple) else (axis,)
    kept = tuple(1 if i in axes else d for i, d in enumerate(shape))  # keepdims over axis
    mask = np.zeros(kept, dtype=bool)
    for arr, name in ((x, names[0]), (y, names[1])):
        own = _own_axes(arr, axis, ndim)
        is_zero = ~np.any(arr, axis=own, keepdims=True) if own else (arr == 0)
        if zero == "raise" and is_zero.any():
            where = np.squeeze(is_zero, axis=own) if own else is_zero
            first = tuple(int(i) for i in np.argwhere(where)[0])
            listed = list(axes) if len(axes) > 1 else axes[0]
            raise ValueError(f"{name} has a zero vector along axis {listed} at index {first} "
                             f"(zero='raise'; its cosine is undefined)")
        pad = (1,) * (ndim - arr.ndim)
        mask = mask | is_zero.reshape(pad + is_zero.shape)
    return np.squeeze(np.broadcast_to(mask, kept), axis=axes)


def finish_value(value: np.ndarray, form: int, sem: Semantics, mask: np.ndarray | None,
                 ) -> np.ndarray:
    """value with the zero policy and clamping applied (a new array when changed),
    of value's type: a 0-d array stays one (np.clip makes it a scalar)."""
    is_array = isinstance(value, np.ndarray)
    if mask is not None and mask.any():
        value = np.array(value, copy=True)
        value[mask] = np.nan if sem.zero == "nan" else _AT_ZERO[form]
    if sem.clamp:
        lo, hi = _RANGES[form]
        value = np.clip(value, lo, hi)
    return np.asarray(value) if is_array else value


def finish_grads(grads: tuple[np.ndarray, ...], inputs: tuple[np.ndarray, np.ndarray],
                 axis: Any, shape: tuple[int, ...], sem: Semantics, mask: np.ndarray | None,
                 ) -> tuple[np.ndarray, ...]:
    """grads with the zero policy applied: a slice with a zero vector gets NaN
    ("nan") or 0 ("finite" under an unfloored rule) in both inputs' gradients.
    An input broadcast over several slices gets it where any of them has it."""
    if mask is None or not mask.any():
        return grads
    ndim = len(shape)
    axes = axis if isinstance(axis, tuple) else (axis,)
    full = np.expand_dims(mask, axes)  # the value's mask, with each axis kept as 1
    fill = np.nan if sem.zero == "nan" else 0.0
    fixed = []
    for g, arr in zip(grads, inputs):
        own = (1,) * (ndim - arr.ndim) + arr.shape
        # Reduce over the axes this input is broadcast along, then drop the padding.
        over = tuple(i for i in range(ndim) if own[i] == 1 and full.shape[i] != 1)
        m = np.any(full, axis=over, keepdims=True) if over else full
        m = m.reshape(m.shape[ndim - arr.ndim:])
        g = np.array(g, copy=True) if not g.flags.writeable else g
        g[np.broadcast_to(m, g.shape)] = fill
        fixed.append(g)
    return tuple(fixed)
