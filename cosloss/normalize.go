package cosloss

import (
	"fmt"
	"math"
)

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

// L2Normalize writes x · rsqrt(max(Σx², eps)) into out, the sum running along
// the Len axis of x, each element rounded once. out is C-ordered with x's layout. eps is given in T, so
// a float32 caller passes float32(1e-12).
func L2Normalize[T Float](x View[T], out []T, eps T) error {
	if err := x.Check("x"); err != nil {
		return err
	}
	if len(out) != x.Size() {
		return fmt.Errorf("out: want %d elements, got %d", x.Size(), len(out))
	}
	forEachSlice(x, x, normalizeBody[T]{x, out, eps})
	return nil
}

// normalizeBody writes L2Normalize's output for one slice.
type normalizeBody[T Float] struct {
	x   View[T]
	out []T
	eps T
}

func (b normalizeBody[T]) slice(o, i int, s pairSums) {
	x := b.x
	inv := invNorm(s.xx, b.eps)
	src := x.base(o, i)
	dst := o*x.Len*x.Inner + i
	if x.Inner == 1 && x.unitRows() {
		row := x.Data[src : src+x.Len]
		comb(b.out[dst:dst+x.Len], row, row, inv, 0)
		return
	}
	for k := 0; k < x.Len; k++ {
		b.out[dst+k*x.Inner] = T(float64(x.Data[src+k*x.LenStride]) * inv)
	}
}
