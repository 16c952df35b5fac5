package cosloss

import (
	"fmt"
	"math/bits"
	"slices"
)

// A kernel set implements the inner loops over contiguous runs, where
// nearly all time goes. The portable set (kernel_portable.go, plain Go) is
// always there; builds with GOEXPERIMENT=simd on amd64 add an AVX2 set
// (kernel_avx2.go, when the CPU has AVX2 and FMA) and an AVX-512 set
// (kernel_avx512.go, when it has AVX-512 F and DQ), the last one
// registered being chosen at start-up.
//
// Every set computes in one canonical order, so that results are the same
// bits whatever the CPU (kernel_test.go checks it bit for bit):
//
//   - Row sums (Σx·y, Σx², Σy² of a contiguous run of n elements): element
//     k's product goes into lane k mod sumLanes of sumLanes float64 lanes
//     that start at +0, in order of k. The product is rounded to float64
//     before it is added: for float32 inputs it is exact, so an FMA gives
//     the same bits; float64 products are never fused with the addition.
//     The lanes then combine in a fixed tree (laneTotal). A vector set pads
//     a row's tail with zeros, which leaves every lane unchanged.
//   - Column sums: each column's running float64 sum adds its rows'
//     products (rounded as above) in row order.
//   - comb: s·a and p·b are each rounded to T, then subtracted.
//   - cosines: IEEE division and square root, which every set has.
//   - matrix products: see gemm.go.
//   - the softmax rows' exponentials and their sum: see expsum.go.
type kernelSet struct {
	name   string
	sums32 func(x, y []float32) pairSums
	sums64 func(x, y []float64) pairSums
	// rows writes the sums of len(dot) rows of n elements, row k starting
	// at x[k*xStride] and y[k*yStride], into dot[k], xx[k], yy[k].
	rows32 func(dot, xx, yy []float64, x, y []float32, n, xStride, yStride int)
	rows64 func(dot, xx, yy []float64, x, y []float64, n, xStride, yStride int)
	// comb writes dst[k] = s·a[k] − p·b[k].
	comb32 func(dst, a, b []float32, s, p float32)
	comb64 func(dst, a, b []float64, s, p float64)
	// cols adds x·y, x², y² down n rows (stride apart) into the sums of
	// the len(dot) neighbouring columns starting at x[0] and y[0].
	cols32 func(dot, xx, yy []float64, x, y []float32, n, xStride, yStride int)
	cols64 func(dot, xx, yy []float64, x, y []float64, n, xStride, yStride int)
	// cosines overwrites dot[j] with dot[j] / √(max(xx[j], ε)·max(yy[j], ε)),
	// for sums that are finite and at most cosineSumLimit.
	cosines func(dot, xx, yy []float64, eps float64)
	// scale is the all-pairs epilogue on a run of products: row[k] =
	// T(float64(row[k])·a·r[k]), or T(float64(row[k])·r[k]·a) when rFirst,
	// the two products in float64 left to right, then one rounding to T.
	scale32 func(row []float32, a float64, r []float64, rFirst bool)
	scale64 func(row []float64, a float64, r []float64, rFirst bool)
	// above writes into idx (len(row) at least), in order, every k where
	// row[k] may beat thr[k]: !(row[k] ≤ thr[k]) when largest, else
	// !(row[k] ≥ thr[k]), so a NaN on either side counts; it returns how
	// many.
	above32 func(row, thr []float32, idx []int32, largest bool) int
	above64 func(row, thr []float64, idx []int32, largest bool) int
	// gemm is the micro-kernel of the matrix products (gemm.go), in the
	// canonical order there: each element one chain of FMAs in T.
	gemm32 gemmKernel[float32]
	gemm64 gemmKernel[float64]
	// expSum overwrites s[j] with expCanonical(s[j] − m) and returns their
	// sum in the canonical lane order (expsum.go).
	expSum func(s []float64, m float64) float64
}

var (
	kernelSets = []kernelSet{portableKernels}
	active     = kernelSets[0]
)

// registerKernel adds a kernel set and makes it the active one.
func registerKernel(k kernelSet) {
	kernelSets = append(kernelSets, k)
	active = k
}

// Kernels lists the kernel sets this build and CPU can run, best last.
func Kernels() []string {
	names := make([]string, len(kernelSets))
	for i, k := range kernelSets {
		names[i] = k.name
	}
	return names
}

// Kernel names the active kernel set.
func Kernel() string { return active.name }

// SetKernel selects a kernel set by name (see Kernels); tests use it to run
// every path. It is not safe to call while other calls are running.
func SetKernel(name string) error {
	i := slices.IndexFunc(kernelSets, func(k kernelSet) bool { return k.name == name })
	if i < 0 {
		return fmt.Errorf("kernel: %q is not one of %v", name, Kernels())
	}
	active = kernelSets[i]
	return nil
}

// unitSums computes the pair sums of two contiguous runs of equal length
// with the active kernel set.
func unitSums[T Float](x, y []T) pairSums {
	switch xv := any(x).(type) {
	case []float32:
		return active.sums32(xv, any(y).([]float32))
	case []float64:
		return active.sums64(xv, any(y).([]float64))
	}
	return canonicalSums(x, y)
}

// rowSums writes the sums of len(dot) contiguous rows of n elements with
// the active kernel set (see kernelSet.rows).
func rowSums[T Float](dot, xx, yy []float64, x, y []T, n, xStride, yStride int) {
	switch xv := any(x).(type) {
	case []float32:
		active.rows32(dot, xx, yy, xv, any(y).([]float32), n, xStride, yStride)
	case []float64:
		active.rows64(dot, xx, yy, xv, any(y).([]float64), n, xStride, yStride)
	default:
		rowsBy(dot, xx, yy, x, y, n, xStride, yStride, canonicalSums[T])
	}
}

// rowsBy is kernelSet.rows for a set whose row kernel takes one row.
func rowsBy[T Float](dot, xx, yy []float64, x, y []T, n, xStride, yStride int, sums func(x, y []T) pairSums) {
	for k := range dot {
		s := sums(x[k*xStride:k*xStride+n], y[k*yStride:k*yStride+n])
		dot[k], xx[k], yy[k] = s.dot, s.xx, s.yy
	}
}

// comb writes dst[k] = T(s·a[k] − p·b[k]) for contiguous runs.
func comb[T Float](dst, a, b []T, s, p float64) {
	switch dv := any(dst).(type) {
	case []float32:
		active.comb32(dv, any(a).([]float32), any(b).([]float32), float32(s), float32(p))
	case []float64:
		active.comb64(dv, any(a).([]float64), any(b).([]float64), s, p)
	default:
		combPortable(dst, a, b, T(s), T(p))
	}
}

// columnSums adds x·y, x², y² down n rows into the sums of len(dot)
// neighbouring columns.
func columnSums[T Float](dot, xx, yy []float64, x, y []T, n, xStride, yStride int) {
	if n == 0 {
		return // no rows to add, and x, y may be empty
	}
	switch xv := any(x).(type) {
	case []float32:
		active.cols32(dot, xx, yy, xv, any(y).([]float32), n, xStride, yStride)
	case []float64:
		active.cols64(dot, xx, yy, xv, any(y).([]float64), n, xStride, yStride)
	default:
		colsPortable(dot, xx, yy, x, y, n, xStride, yStride)
	}
}

// scaleRow is the all-pairs epilogue on a contiguous run (see
// kernelSet.scale) with the active kernel set.
func scaleRow[T Float](row []T, a float64, r []float64, rFirst bool) {
	switch rv := any(row).(type) {
	case []float32:
		active.scale32(rv, a, r, rFirst)
	case []float64:
		active.scale64(rv, a, r, rFirst)
	default:
		scalePortable(row, a, r, rFirst)
	}
}

// aboveThreshold lists the k where row[k] may beat thr[k] (see
// kernelSet.above) with the active kernel set.
func aboveThreshold[T Float](row, thr []T, idx []int32, largest bool) int {
	switch rv := any(row).(type) {
	case []float32:
		return active.above32(rv, any(thr).([]float32), idx, largest)
	case []float64:
		return active.above64(rv, any(thr).([]float64), idx, largest)
	}
	return abovePortable(row, thr, idx, largest)
}

// aboveMaskChunks is how many chunk masks a vector above section writes
// per call: its caller goes through a row in blocks of that many chunks.
const aboveMaskChunks = 64

// maskIndices appends to idx[n:] the positions base + c·width + b of the
// set bits b of masks[c], in order, and returns the new count.
func maskIndices(masks []uint16, width, base int, idx []int32, n int) int {
	for c, m := range masks {
		for m != 0 {
			idx[n] = int32(base + c*width + bits.TrailingZeros16(m))
			n++
			m &= m - 1
		}
	}
	return n
}

// offsetIndices adds off to the first n of idx (a tail's indices, found
// from its own start) and returns n.
func offsetIndices(idx []int32, off, n int) int {
	for i := range idx[:n] {
		idx[i] += int32(off)
	}
	return n
}
