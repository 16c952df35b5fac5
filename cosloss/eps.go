package cosloss

import "math"

// How a norm is kept away from zero: the ε floor, and what becomes of a sum
// of squares that overflows T.

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
