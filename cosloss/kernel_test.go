package cosloss

import (
	"fmt"
	"math"
	"slices"
	"testing"
)

// The kernel sets step 4, 8 and 16 elements at a time and mask or loop
// over the tails; these sizes land on, just before and just after those
// boundaries, and on a whole block of columns.
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

// boundarySizes are row lengths on, just before and just after every lane
// group (4, 8, 16), tail chunk and vector width the sets use, and past the
// rows blocks: every set must give the portable set's bits at each.
func boundarySizes() []int {
	var sizes []int
	for n := 0; n <= 70; n++ {
		sizes = append(sizes, n)
	}
	for _, c := range []int{127, 128, 256, 512, 1024, 2048, 4096} {
		sizes = append(sizes, c-1, c, c+1)
	}
	return sizes
}

// sameBits reports whether a and b hold the same float64 bits.
func sameBits(a, b []float64) bool {
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return len(a) == len(b)
}

// Every kernel set computes the row sums, column sums, comb and cosines in
// the canonical order: the portable set's bits, exactly, for float32 and
// float64, on rows that start at every alignment.
func TestKernelSetsAgreeBitwise(t *testing.T) {
	for _, k := range kernelSets {
		for _, n := range boundarySizes() {
			kernelAgrees[float32](t, k, n, k.rows32, k.comb32, k.cols32)
			kernelAgrees[float64](t, k, n, k.rows64, k.comb64, k.cols64)
		}
	}
}

func kernelAgrees[T Float](t *testing.T, k kernelSet,
	n int,
	rows func(dot, xx, yy []float64, x, y []T, n, xStride, yStride int),
	combK func(dst, a, b []T, s, p T),
	cols func(dot, xx, yy []float64, x, y []T, n, xStride, yStride int)) {
	t.Helper()
	const nrows = 5
	stride := n + 3 // rows start at every alignment
	x, y := randomSlice[T](nrows*stride, uint64(n)+1), randomSlice[T](nrows*stride, uint64(n)+7)
	var zero T
	name := fmt.Sprintf("%s %T n=%d", k.name, zero, n)

	got, want := make([]float64, 3*nrows), make([]float64, 3*nrows)
	rows(got[:nrows], got[nrows:2*nrows], got[2*nrows:], x, y, n, stride, stride)
	for r := range nrows {
		s := canonicalSums(x[r*stride:r*stride+n], y[r*stride:r*stride+n])
		want[r], want[nrows+r], want[2*nrows+r] = s.dot, s.xx, s.yy
	}
	if !sameBits(got, want) {
		t.Errorf("%s rows: got %v, portable %v", name, got, want)
	}
	one := k.sums32
	if _, ok := any(zero).(float64); ok {
		s := k.sums64(any(x[:n]).([]float64), any(y[:n]).([]float64))
		w := canonicalSums(x[:n], y[:n])
		if !sameBits([]float64{s.dot, s.xx, s.yy}, []float64{w.dot, w.xx, w.yy}) {
			t.Errorf("%s sums64: got %+v, portable %+v", name, s, w)
		}
	} else {
		s := one(any(x[:n]).([]float32), any(y[:n]).([]float32))
		w := canonicalSums(x[:n], y[:n])
		if !sameBits([]float64{s.dot, s.xx, s.yy}, []float64{w.dot, w.xx, w.yy}) {
			t.Errorf("%s sums32: got %+v, portable %+v", name, s, w)
		}
	}

	dst, ref := make([]T, n), make([]T, n)
	combK(dst, x[1:n+1], y[2:n+2], T(0.37), T(-1.9))
	combPortable(ref, x[1:n+1], y[2:n+2], T(0.37), T(-1.9))
	for i := range dst {
		if math.Float64bits(float64(dst[i])) != math.Float64bits(float64(ref[i])) {
			t.Fatalf("%s comb[%d]: got %v, portable %v", name, i, dst[i], ref[i])
		}
	}

	// The columns: nrows rows of n columns, into sums that hold something.
	start := randomSlice[float64](3*n, uint64(n)+13)
	gc, wc := append([]float64(nil), start...), append([]float64(nil), start...)
	cols(gc[:n], gc[n:2*n], gc[2*n:], x[1:], y[2:], nrows-1, stride, stride)
	colsPortable(wc[:n], wc[n:2*n], wc[2*n:], x[1:], y[2:], nrows-1, stride, stride)
	if !sameBits(gc, wc) {
		t.Errorf("%s cols: got %v, portable %v", name, gc, wc)
	}

	// The finisher, on the row sums above (positive sums of squares).
	dot := append([]float64(nil), want[:nrows]...)
	ref64 := append([]float64(nil), want[:nrows]...)
	k.cosines(dot, want[nrows:2*nrows], want[2*nrows:], 1e-12)
	cosinesPortable(ref64, want[nrows:2*nrows], want[2*nrows:], 1e-12)
	if !sameBits(dot, ref64) {
		t.Errorf("%s cosines: got %v, portable %v", name, dot, ref64)
	}
}

// The canonical sums are float64 sums, rounded once: the float32 cosine of
// every row is within 1 ulp of the cosine computed in float64 and rounded
// to float32 (the README's promise), on every kernel set.
func TestFloat32CosinesWithinOneUlp(t *testing.T) {
	for _, n := range []int{3, 8, 64, 256, 257, 4096} {
		l := Layout{Outer: 400, Len: n, Inner: 1}
		x, y := randomSlice[float32](l.Size(), 41), randomSlice[float32](l.Size(), 42)
		out := make([]float32, l.Slices())
		if err := Cosine(Contiguous(x, l), Contiguous(y, l), Cos, out, FloorSquared, float32(DefaultEpsilon)); err != nil {
			t.Fatal(err)
		}
		x64, y64 := widen(x), widen(y)
		exact := 0
		for o := range l.Outer {
			want := float32(refCosine(x64[o*n:(o+1)*n], y64[o*n:(o+1)*n], DefaultEpsilon))
			ulps := int64(math.Float32bits(out[o])) - int64(math.Float32bits(want))
			if ulps < -1 || ulps > 1 {
				t.Fatalf("n=%d row %d: %v is %d ulps from %v", n, o, out[o], ulps, want)
			}
			if ulps == 0 {
				exact++
			}
		}
		if exact < l.Outer*95/100 {
			t.Errorf("n=%d: only %d of %d rows equal the rounded float64 cosine", n, exact, l.Outer)
		}
	}
}

// The all-pairs epilogue and the top-k threshold pass: every set gives the
// portable set's bits and indices, on every length around the vector
// widths and mask blocks, on runs at every alignment, with NaNs, ±Inf,
// zeros and ties between row and threshold.
func TestEpilogueKernelsAgreeBitwise(t *testing.T) {
	sizes := append(boundarySizes(), 16*aboveMaskChunks-1, 16*aboveMaskChunks+17, 40*aboveMaskChunks+3)
	for _, k := range kernelSets {
		for _, n := range sizes {
			for _, off := range []int{0, 1, 3} {
				epilogueAgrees[float32](t, k, n, off, k.scale32, k.above32)
				epilogueAgrees[float64](t, k, n, off, k.scale64, k.above64)
			}
		}
	}
}

func epilogueAgrees[T Float](t *testing.T, k kernelSet, n, off int,
	scale func(row []T, a float64, r []float64, rFirst bool),
	above func(row, thr []T, idx []int32, largest bool) int) {
	t.Helper()
	var zero T
	name := fmt.Sprintf("%s %T n=%d off=%d", k.name, zero, n, off)
	seed := uint64(n*7 + off)
	dots := randomSlice[T](n+off, seed)[off:]
	r := randomSlice[float64](n+off, seed+1)[off:]
	for i := range r {
		r[i] = math.Abs(r[i]) * 3e-2 // norms: positive, some products subnormal in float32 when tiny
	}
	special := []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, math.Copysign(0, -1), 1e-30, 3e38}
	for i := 0; i < n; i += 13 {
		dots[i] = T(special[(i/13)%len(special)])
	}
	for _, a := range []float64{0.731, 1e-20, math.Inf(1)} {
		for _, rFirst := range []bool{false, true} {
			got, want := append([]T(nil), dots...), append([]T(nil), dots...)
			scale(got, a, r, rFirst)
			scalePortable(want, a, r, rFirst)
			for i := range got {
				if math.Float64bits(float64(got[i])) != math.Float64bits(float64(want[i])) {
					t.Fatalf("%s scale a=%v rFirst=%v [%d]: got %v, portable %v", name, a, rFirst, i, got[i], want[i])
				}
			}
		}
	}
	// Thresholds: the row's own values at some places (ties), NaN at
	// others, and values that keep few candidates.
	thr := randomSlice[T](n+off, seed+2)[off:]
	for i := range thr {
		switch i % 11 {
		case 0:
			thr[i] = dots[i]
		case 5:
			thr[i] = T(math.NaN())
		default:
			thr[i] += 1.5
		}
	}
	for _, largest := range []bool{true, false} {
		got, want := make([]int32, n), make([]int32, n)
		gn, wn := above(dots, thr, got, largest), abovePortable(dots, thr, want, largest)
		if gn != wn || !slices.Equal(got[:gn], want[:wn]) {
			t.Fatalf("%s above largest=%v: got %v, portable %v", name, largest, got[:gn], want[:wn])
		}
	}
}
