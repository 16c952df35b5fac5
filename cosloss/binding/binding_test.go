package binding

import (
	"math"
	"runtime"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

// addr pins s and returns its address, standing in for a numpy buffer.
func addr[T float32 | float64](p *runtime.Pinner, s []T) uintptr {
	p.Pin(&s[0])
	return uintptr(unsafe.Pointer(&s[0]))
}

func TestCosineThroughAddresses(t *testing.T) {
	var p runtime.Pinner
	defer p.Unpin()
	x := []float32{1, 2, 0, 1}
	y := []float32{2, 1, 0, 3}
	out := make([]float32, 2)
	err := Cosine(Float32, 1, addr(&p, x), addr(&p, y), addr(&p, out), 2, 2, 1, 2, 1, 0, 2, 1, 0, 1e-12)
	if err != nil {
		t.Fatal(err)
	}
	if out[0] != -0.8 || out[1] != -1 {
		t.Errorf("got %v, want [-0.8 -1]", out)
	}
}

// Along the middle axis of a 2×3×2 array, the short form must agree with
// the strided one.
func TestCosineContiguousMatchesStrided(t *testing.T) {
	var p runtime.Pinner
	defer p.Unpin()
	x := []float64{1, 2, 0, 1, 3, -1, 2, 2, -1, 0, 1, 4}
	y := []float64{2, 1, 0, 3, 1, 1, -2, 5, 0.5, 1, 1, 1}
	short, long := make([]float64, 4), make([]float64, 4)
	if err := CosineContiguous(Float64, 2, addr(&p, x), addr(&p, y), addr(&p, short), 2, 3, 2, 1e-12); err != nil {
		t.Fatal(err)
	}
	if err := Cosine(Float64, 2, addr(&p, x), addr(&p, y), addr(&p, long), 2, 3, 2, 6, 2, 1, 6, 2, 1, 1e-12); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(short, long) {
		t.Errorf("CosineContiguous %v, Cosine %v", short, long)
	}
	// 1 − cos of the first slice, (1, 0, 3)·(2, 0, 1) / (√10·√5).
	if want := 1 - 5/(math.Sqrt(10)*math.Sqrt(5)); math.Abs(short[0]-want) > 1e-15 {
		t.Errorf("slice (0, 0): got %v, want %v", short[0], want)
	}
}

func TestErrorsInsteadOfPanics(t *testing.T) {
	var p runtime.Pinner
	defer p.Unpin()
	x := []float64{1, 2}
	out := make([]float64, 1)
	if err := Cosine(16, 0, addr(&p, x), addr(&p, x), addr(&p, out), 1, 2, 1, 2, 1, 0, 2, 1, 0, 0); err == nil || !strings.Contains(err.Error(), "dtype") {
		t.Errorf("float16 accepted: %v", err)
	}
	if _, err := Reduce(Float64, addr(&p, x), addr(&p, x), 2, 2, 7); err == nil {
		t.Error("unknown reduction accepted")
	}
	var err error
	func() {
		defer recoverInto(&err)
		var s []float64
		_ = s[3]
	}()
	if err == nil || !strings.Contains(err.Error(), "internal error") {
		t.Errorf("panic not turned into an error: %v", err)
	}
}
