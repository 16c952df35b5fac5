package cosloss

import "math"

// How a norm is kept away from zero: the ε rules, and what becomes of a
// sum of squares that overflows T.

// EpsRule says how a norm is kept away from zero. Cosine and CosineGrad
// take one; L2Normalize and L2NormalizeGrad are TensorFlow's, FloorSquared.
type EpsRule int

const (
	// FloorSquared is TensorFlow's l2_normalize: rsqrt(max(Σx², ε)). Its
	// gradient goes through Maximum, which selects: Σx² gets none where ε
	// wins.
	FloorSquared EpsRule = iota
	// FloorNorm is PyTorch ≥ 2.0's F.cosine_similarity: x / max(‖x‖, ε),
	// clamped without gradient, so the gradient reaches ‖x‖ as if it were
	// not clamped (and none reaches a zero norm, which torch masks).
	FloorNorm
	// AddSquared is PyTorch's CosineEmbeddingLoss: Σx² + ε (ε = 1e-12
	// there), differentiated as written.
	AddSquared
)

func (r EpsRule) valid() bool { return r >= FloorSquared && r <= AddSquared }

// normsOwnElements reports whether an input broadcast along the axis
// (LenStride 0: one element, repeated) has its norm taken over that one
// element, with only the product broadcast: TensorFlow's l2_normalize and
// CosineEmbeddingLoss's per-input Σx² do that. F.cosine_similarity expands
// both inputs to a common shape first, so FloorNorm's norm counts all Len
// copies.
func (r EpsRule) normsOwnElements() bool { return r != FloorNorm }

// invNormBy is 1 / (rule's floored norm) for a sum of squares s in
// float64: FloorSquared's is invNorm, FloorNorm's 1 / max(√s, ε) and
// AddSquared's 1 / √(s + ε). Where s overflows T every rule gives 0, as
// TensorFlow's sum in T does (see invNorm).
func invNormBy[T Float](rule EpsRule, s float64, eps T) float64 {
	switch rule {
	case FloorNorm:
		if sumOverflows[T](s) {
			return 0
		}
		return 1 / max(math.Sqrt(s), float64(eps))
	case AddSquared:
		if sumOverflows[T](s) {
			return 0
		}
		return 1 / math.Sqrt(s+float64(eps))
	}
	return invNorm(s, eps)
}

// pullBy is the weight p of the norm's term in a cosine's gradient,
// d c / d x = ix·iy·(y − p·x), for inv = invNormBy(rule, sumSquares, eps):
// FloorSquared's is pull; FloorNorm's inv·dot / ‖x‖, since torch's clamp
// passes the gradient to the unclamped norm, and 0 for a zero norm, which
// torch's norm gradient masks; AddSquared's inv²·dot, with no selection.
func pullBy[T Float](rule EpsRule, sumSquares, inv float64, eps T, dot float64) float64 {
	switch rule {
	case FloorNorm:
		n := math.Sqrt(sumSquares)
		if n == 0 {
			return 0
		}
		return inv * dot / n
	case AddSquared:
		return inv * inv * dot
	}
	return pull(sumSquares, inv, eps, dot)
}

// DefaultEpsilon is TensorFlow's floor on the squared norm in l2_normalize.
const DefaultEpsilon = 1e-12

// invNorm is TensorFlow's rsqrt(max(s, eps)) for a sum of squares s
// accumulated in float64. TensorFlow sums in T, so where that sum overflows
// T it is inf and the inverse norm 0; otherwise the float64 value is kept,
// so that results are rounded once, at the end.
func invNorm[T Float](s float64, eps T) float64 {
	if sumOverflows[T](s) {
		return 0
	}
	return 1 / math.Sqrt(max(s, float64(eps)))
}

// sumOverflows reports whether a sum of squares is +inf once rounded to T, as
// TensorFlow's sum in T would be.
func sumOverflows[T Float](s float64) bool {
	return math.IsInf(float64(T(s)), 1)
}

// pull is inv²·dot where TensorFlow's max(Σx², ε) passes the gradient to
// Σx² (0 where the sum overflowed T, as inv is 0 then, unless dot is inf or
// NaN), and exactly 0 where ε wins: TensorFlow's Maximum gradient selects
// rather than multiplies, so a NaN dot does not reach a vector below ε.
// A NaN Σx² fails TensorFlow's Σx² ≥ ε test too.
func pull[T Float](sumSquares, inv float64, eps T, dot float64) float64 {
	if !(float64(T(sumSquares)) >= float64(eps)) {
		return 0
	}
	return inv * inv * dot
}
