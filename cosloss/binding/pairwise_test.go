package binding

import (
	"math"
	"runtime"
	"slices"
	"testing"
	"unsafe"
)

func addr64(p *runtime.Pinner, s []int64) uintptr {
	p.Pin(&s[0])
	return uintptr(unsafe.Pointer(&s[0]))
}

// x = [(1, 0), (0, 0) (a zero row), (3, 4)] against y = [(1, 1), (0, 2)],
// through a row stride of 3 for x.
func TestCosineMatrixThroughAddresses(t *testing.T) {
	var p runtime.Pinner
	defer p.Unpin()
	x := []float64{1, 0, math.NaN(), 0, 0, math.NaN(), 3, 4}
	y := []float64{1, 1, 0, 2}
	out := make([]float64, 6)
	ok(t, CosineMatrix(Float64, addr(&p, out), 6, 2, addr(&p, x), 8, 3, 2, 3, addr(&p, y), 4, 2, 2, 1e-12))
	s := 1 / math.Sqrt2
	want := []float64{s, 0, 0, 0, 7 * s / 5, 0.8}
	for i := range want {
		if math.Abs(out[i]-want[i]) > 1e-15 {
			t.Fatalf("got %v, want %v", out, want)
		}
	}
	// x against itself, through the same address.
	self := make([]float32, 4)
	x32 := []float32{1, 0, 1, 1}
	ok(t, CosineMatrix(Float32, addr(&p, self), 4, 2, addr(&p, x32), 4, 2, 2, 2, addr(&p, x32), 4, 2, 2, 1e-12))
	if self[0] != 1 || self[3] != 1 || self[1] != self[2] || math.Abs(float64(self[1])-s) > 1e-7 {
		t.Fatalf("self: %v", self)
	}
}

func TestCosineMatrixGradThroughAddresses(t *testing.T) {
	var p runtime.Pinner
	defer p.Unpin()
	x := []float64{1, 0}
	y := []float64{1, 1}
	u := []float64{2}
	dx, dy := make([]float64, 2), make([]float64, 2)
	ok(t, CosineMatrixGrad(Float64, addr(&p, x), 2, 1, 2, 2, addr(&p, y), 2, 1, 2, addr(&p, u), 1, 1,
		addr(&p, dx), 2, addr(&p, dy), 2, 1e-12))
	// d cos/dx = (y/|y| − cos·x)/|x| = (0, 1/√2); d cos/dy = (x/|x| − cos·y/|y|)/|y| = (1/2, −1/2)/√2.
	s := 1 / math.Sqrt2
	if math.Abs(dx[0]) > 1e-15 || math.Abs(dx[1]-2*s) > 1e-15 || math.Abs(dy[0]-s) > 1e-15 || math.Abs(dy[1]+s) > 1e-15 {
		t.Fatalf("dx %v, dy %v", dx, dy)
	}
	// dy skipped by address 0.
	clear(dx)
	ok(t, CosineMatrixGrad(Float64, addr(&p, x), 2, 1, 2, 2, addr(&p, y), 2, 1, 2, addr(&p, u), 1, 1,
		addr(&p, dx), 2, 0, 0, 1e-12))
	if math.Abs(dx[1]-2*s) > 1e-15 {
		t.Fatalf("dx alone: %v", dx)
	}
	// x against itself: cos(x, x) = 1 has gradient 0.
	ds := []float32{5, 5}
	ok(t, CosineMatrixSelfGrad(Float32, addr(&p, []float32{3, 4}), 2, 1, 2, 2, addr(&p, []float32{1}), 1, 1,
		addr(&p, ds), 2, 1e-12))
	if math.Abs(float64(ds[0])) > 1e-7 || math.Abs(float64(ds[1])) > 1e-7 {
		t.Fatalf("self: %v", ds)
	}
}

func TestTopKThroughAddresses(t *testing.T) {
	var p runtime.Pinner
	defer p.Unpin()
	q := []float32{1, 0}
	c := []float32{0, 1, 1, 0, 1, 1, 2, 0, -1, 0}
	vals := make([]float32, 3)
	idx := make([]int64, 3)
	ok(t, TopK(Float32, addr(&p, vals), 3, addr64(&p, idx), 3, addr(&p, q), 2, 1, 2, 2, addr(&p, c), 10, 5, 2, 3, 1, 1e-12))
	if !slices.Equal(idx, []int64{1, 3, 2}) || vals[0] != 1 || vals[1] != 1 {
		t.Fatalf("largest: %v %v", vals, idx)
	}
	// k beyond m: all m, smallest first.
	vals, idx = make([]float32, 5), make([]int64, 5)
	ok(t, TopK(Float32, addr(&p, vals), 5, addr64(&p, idx), 5, addr(&p, q), 2, 1, 2, 2, addr(&p, c), 10, 5, 2, 9, 0, 1e-12))
	if !slices.Equal(idx, []int64{4, 0, 2, 1, 3}) {
		t.Fatalf("smallest: %v %v", vals, idx)
	}
}

func TestPairwiseErrorsBecomeStatuses(t *testing.T) {
	var p runtime.Pinner
	defer p.Unpin()
	x := []float64{1, 2, 3, 4}
	out := make([]float64, 4)
	idx := make([]int64, 4)
	failsWith(t, "dtype", CosineMatrix(16, addr(&p, out), 4, 2, addr(&p, x), 4, 2, 2, 2, addr(&p, x), 4, 2, 2, 0), "dtype")
	failsWith(t, "short x", CosineMatrix(Float64, addr(&p, out), 4, 2, addr(&p, x), 3, 2, 2, 2, addr(&p, x), 4, 2, 2, 0), "holds 3 elements")
	failsWith(t, "short out", CosineMatrix(Float64, addr(&p, out), 3, 2, addr(&p, x), 4, 2, 2, 2, addr(&p, x), 4, 2, 2, 0), "out is 2×2")
	failsWith(t, "no address", CosineMatrix(Float64, addr(&p, out), 4, 2, 0, 4, 2, 2, 2, addr(&p, x), 4, 2, 2, 0), "holds 0 elements")
	failsWith(t, "short dx", CosineMatrixGrad(Float64, addr(&p, x), 4, 2, 2, 2, addr(&p, x), 4, 2, 2, addr(&p, out), 4, 2,
		addr(&p, out), 3, 0, 0, 0), "dx is 2×2")
	failsWith(t, "negative k", TopK(Float64, addr(&p, out), 4, addr64(&p, idx), 4, addr(&p, x), 4, 2, 2, 2, addr(&p, x), 4, 2, 2, -1, 1, 0), "k must be")
	failsWith(t, "short indices", TopK(Float64, addr(&p, out), 4, addr64(&p, idx), 3, addr(&p, x), 4, 2, 2, 2, addr(&p, x), 4, 2, 2, 2, 1, 0), "indices holds 3")
	failsWith(t, "overflowing stride", TopK(Float64, addr(&p, out), 4, addr64(&p, idx), 4, addr(&p, x), 4, 2, 2, math.MaxInt/2, addr(&p, x), 4, 2, 2, 2, 1, 0), "queries")
	failsWith(t, "overflowing reach", CosineMatrix(Float64, addr(&p, out), 4, 2, addr(&p, x), 4, 3, 2, math.MaxInt/2+1, addr(&p, x), 4, 2, 2, 0), "reaches past")
}
