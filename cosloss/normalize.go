package cosloss

import "fmt"

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
