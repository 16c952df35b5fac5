package cosloss

import (
	"math"
	"testing"
)

// The kernel sets unroll by 8, 16 and 32 elements and leave tails to
// scalar loops; these sizes land on, just before and just after each of
// those boundaries, and past the float32 block and the row group.
var kernelSizes = []int{0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 64, 100, 511, 512, 513, 1025, innerBlock}

func closeTo(got, want, scale float64) bool {
	return math.Abs(got-want) <= 1e-6*scale+1e-12
}

func TestUnitSumsMatchScalarLoop(t *testing.T) {
	for _, n := range kernelSizes {
		x32, y32 := randomSlice[float32](n, 11), randomSlice[float32](n, 12)
		x64, y64 := randomSlice[float64](n, 13), randomSlice[float64](n, 14)
		for _, c := range []struct {
			name      string
			got, want pairSums
		}{
			{"float32", unitSums(x32, y32), scalarSums(x32, y32, 0, 0, 1, 1, n)},
			{"float64", unitSums(x64, y64), scalarSums(x64, y64, 0, 0, 1, 1, n)},
		} {
			scale := c.want.xx + c.want.yy
			if !closeTo(c.got.dot, c.want.dot, scale) || !closeTo(c.got.xx, c.want.xx, scale) || !closeTo(c.got.yy, c.want.yy, scale) {
				t.Errorf("%s n=%d: got %+v want %+v", c.name, n, c.got, c.want)
			}
		}
	}
}

// The column kernels read n rows of m columns out of wider rows (stride
// > m) and add into sums that already hold something.
func TestColumnSumsMatchPortable(t *testing.T) {
	for _, m := range kernelSizes {
		for _, n := range []int{0, 1, 3, 16} {
			stride := m + 5
			testColumnSums[float32](t, m, n, stride)
			testColumnSums[float64](t, m, n, stride)
		}
	}
}

func testColumnSums[T Float](t *testing.T, m, n, stride int) {
	t.Helper()
	size := max((n-1)*stride+m, 0)
	x, y := randomSlice[T](size, 21), randomSlice[T](size, 22)
	start := randomSlice[float64](3*m, 23)
	got, want := append([]float64(nil), start...), append([]float64(nil), start...)
	columnSums(got[:m], got[m:2*m], got[2*m:], x, y, n, stride, stride)
	colsPortable(want[:m], want[m:2*m], want[2*m:], x, y, n, stride, stride)
	for j := range got {
		if !closeTo(got[j], want[j], math.Abs(want[j])+float64(n)) {
			t.Fatalf("%T m=%d n=%d: sum %d got %v want %v", x[0], m, n, j, got[j], want[j])
		}
	}
}

// Across the first axis of wide arrays (the tiled column path), against
// the float64 formula.
func TestCosineAlongFirstAxisWide(t *testing.T) {
	for _, inner := range []int{33, 100, 1025, innerBlock + 5} {
		l := Layout{Outer: 2, Len: 37, Inner: inner}
		x, y := randomSlice[float32](l.Size(), 31), randomSlice[float32](l.Size(), 32)
		out := make([]float32, l.Slices())
		if err := Cosine(Contiguous(x, l), Contiguous(y, l), Cos, out, FloorSquared, float32(DefaultEpsilon)); err != nil {
			t.Fatal(err)
		}
		x64, y64 := widen(x), widen(y)
		for o := 0; o < l.Outer; o++ {
			for i := 0; i < l.Inner; i++ {
				xs, ys := gather(x64, l, o, i), gather(y64, l, o, i)
				if want, got := refCosine(xs, ys, DefaultEpsilon), float64(out[o*l.Inner+i]); math.Abs(got-want) > 1e-6 {
					t.Fatalf("inner %d slice (%d,%d): got %v want %v", inner, o, i, got, want)
				}
			}
		}
	}
}
