//go:build goexperiment.simd && amd64

package cosloss

import (
	"simd/archsimd"
	"unsafe"
)

// Go 1.26's experimental simd/archsimd gives the fused one-pass kernel:
// Σx·y, Σx² and Σy² from one load of each vector, with FMA.
//
// The loops load through unsafe pointers rather than archsimd's slice
// loads: those re-slice and bounds-check every vector, which in cache costs
// as much as the arithmetic (BenchmarkCosine rows=32: 1.8× slower). Each
// kernel checks the lengths it will touch once, before its loop.

func init() {
	if archsimd.X86.AVX2() && archsimd.X86.FMA() {
		registerKernel(kernelSet{"avx2", avx2Sums32, avx2Sums64, avx2Comb32, avx2Comb64, avx2Cols32, avx2Cols64, avx2Cosines})
	}
}

func load32(p unsafe.Pointer, k int) archsimd.Float32x8 {
	return archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(p, 4*k)))
}

func store32(p unsafe.Pointer, k int, v archsimd.Float32x8) {
	v.Store((*[8]float32)(unsafe.Add(p, 4*k)))
}

func load64(p unsafe.Pointer, k int) archsimd.Float64x4 {
	return archsimd.LoadFloat64x4((*[4]float64)(unsafe.Add(p, 8*k)))
}

func store64(p unsafe.Pointer, k int, v archsimd.Float64x4) {
	v.Store((*[4]float64)(unsafe.Add(p, 8*k)))
}

// base is the address of s[0]; callers index it only below a length they
// have checked against s.
func base[T Float](s []T) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(s)) }

// f32Block is how many elements float32 lanes accumulate before their sums
// move to float64: 16 lanes then see 32 additions each, which keeps a
// million-element row within 1e-6 of the exact sum.
const f32Block = 512

func avx2Sums32(x, y []float32) pairSums {
	n := len(x)
	y = y[:n]
	full := n &^ 15
	px, py := base(x), base(y)
	var s pairSums
	for start := 0; start < full; start += f32Block {
		end := min(start+f32Block, full)
		var d0, d1, a0, a1, b0, b1 archsimd.Float32x8
		for k := start; k < end; k += 16 {
			x0, x1 := load32(px, k), load32(px, k+8)
			y0, y1 := load32(py, k), load32(py, k+8)
			d0, d1 = x0.MulAdd(y0, d0), x1.MulAdd(y1, d1)
			a0, a1 = x0.MulAdd(x0, a0), x1.MulAdd(x1, a1)
			b0, b1 = y0.MulAdd(y0, b0), y1.MulAdd(y1, b1)
		}
		s.dot += lanes32(d0.Add(d1))
		s.xx += lanes32(a0.Add(a1))
		s.yy += lanes32(b0.Add(b1))
	}
	s.add(scalarSums(x, y, full, full, 1, 1, n-full))
	return s
}

// lanes32 adds the eight lanes in float64.
func lanes32(v archsimd.Float32x8) float64 {
	return lanes64(v.GetLo().ConvertToFloat64().Add(v.GetHi().ConvertToFloat64()))
}

func avx2Sums64(x, y []float64) pairSums {
	n := len(x)
	y = y[:n]
	full := n &^ 7
	px, py := base(x), base(y)
	var d0, d1, a0, a1, b0, b1 archsimd.Float64x4
	for k := 0; k < full; k += 8 {
		x0, x1 := load64(px, k), load64(px, k+4)
		y0, y1 := load64(py, k), load64(py, k+4)
		d0, d1 = x0.MulAdd(y0, d0), x1.MulAdd(y1, d1)
		a0, a1 = x0.MulAdd(x0, a0), x1.MulAdd(x1, a1)
		b0, b1 = y0.MulAdd(y0, b0), y1.MulAdd(y1, b1)
	}
	s := pairSums{dot: lanes64(d0.Add(d1)), xx: lanes64(a0.Add(a1)), yy: lanes64(b0.Add(b1))}
	s.add(scalarSums(x, y, full, full, 1, 1, n-full))
	return s
}

// lanes64 adds the four lanes in registers: storing the vector and
// reloading its lanes stalls on store forwarding.
func lanes64(v archsimd.Float64x4) float64 {
	h := v.GetLo().Add(v.GetHi())
	return h.GetElem(0) + h.GetElem(1)
}

func avx2Comb32(dst, a, b []float32, s, p float32) {
	n := len(a)
	b, dst = b[:n], dst[:n]
	full := n &^ 7
	pa, pb, pd := base(a), base(b), base(dst)
	vs, vp := archsimd.BroadcastFloat32x8(s), archsimd.BroadcastFloat32x8(p)
	for k := 0; k < full; k += 8 {
		store32(pd, k, load32(pa, k).Mul(vs).Sub(load32(pb, k).Mul(vp)))
	}
	combPortable(dst[full:], a[full:], b[full:], s, p)
}

func avx2Comb64(dst, a, b []float64, s, p float64) {
	n := len(a)
	b, dst = b[:n], dst[:n]
	full := n &^ 3
	pa, pb, pd := base(a), base(b), base(dst)
	vs, vp := archsimd.BroadcastFloat64x4(s), archsimd.BroadcastFloat64x4(p)
	for k := 0; k < full; k += 4 {
		store64(pd, k, load64(pa, k).Mul(vs).Sub(load64(pb, k).Mul(vp)))
	}
	combPortable(dst[full:], a[full:], b[full:], s, p)
}

// checkCols panics unless x and y hold n rows (stride apart) of m columns:
// the column kernels below read nothing outside that.
func checkCols[T Float](dot, xx, yy []float64, x, y []T, n, xStride, yStride int) {
	m := len(dot)
	_, _ = xx[:m], yy[:m]
	if n > 0 && m > 0 {
		_, _ = x[(n-1)*xStride+m-1], y[(n-1)*yStride+m-1]
	}
}

// avx2Cols32 adds n rows into the sums of m = len(dot) columns. The rows
// accumulate in float32 lanes held in registers (the caller passes groups
// of a few rows, so rounding stays at float32's level for those few
// additions), then widen into the float64 sums. Columns go 32 at a time:
// twelve independent accumulators keep both FMA units busy, where one
// column vector's three chains would wait on FMA latency at every row.
func avx2Cols32(dot, xx, yy []float64, x, y []float32, n, xStride, yStride int) {
	checkCols(dot, xx, yy, x, y, n, xStride, yStride)
	m := len(dot)
	px, py := base(x), base(y)
	j := 0
	for ; j+32 <= m; j += 32 {
		var d0, d1, d2, d3, a0, a1, a2, a3, b0, b1, b2, b3 archsimd.Float32x8
		xo, yo := j, j
		for k := 0; k < n; k++ {
			xv, yv := load32(px, xo), load32(py, yo)
			d0, a0, b0 = xv.MulAdd(yv, d0), xv.MulAdd(xv, a0), yv.MulAdd(yv, b0)
			xv, yv = load32(px, xo+8), load32(py, yo+8)
			d1, a1, b1 = xv.MulAdd(yv, d1), xv.MulAdd(xv, a1), yv.MulAdd(yv, b1)
			xv, yv = load32(px, xo+16), load32(py, yo+16)
			d2, a2, b2 = xv.MulAdd(yv, d2), xv.MulAdd(xv, a2), yv.MulAdd(yv, b2)
			xv, yv = load32(px, xo+24), load32(py, yo+24)
			d3, a3, b3 = xv.MulAdd(yv, d3), xv.MulAdd(xv, a3), yv.MulAdd(yv, b3)
			xo += xStride
			yo += yStride
		}
		widen4(dot[j:j+32], d0, d1, d2, d3)
		widen4(xx[j:j+32], a0, a1, a2, a3)
		widen4(yy[j:j+32], b0, b1, b2, b3)
	}
	for ; j+8 <= m; j += 8 {
		var d, a, b archsimd.Float32x8
		xo, yo := j, j
		for k := 0; k < n; k++ {
			xv, yv := load32(px, xo), load32(py, yo)
			d, a, b = xv.MulAdd(yv, d), xv.MulAdd(xv, a), yv.MulAdd(yv, b)
			xo += xStride
			yo += yStride
		}
		addWidened(dot[j:j+8], d)
		addWidened(xx[j:j+8], a)
		addWidened(yy[j:j+8], b)
	}
	if j < m {
		colsPortable(dot[j:], xx[j:], yy[j:], x[j:], y[j:], n, xStride, yStride)
	}
}

// widen4 adds four vectors' lanes, as float64, into sums[0:32].
func widen4(sums []float64, v0, v1, v2, v3 archsimd.Float32x8) {
	addWidened(sums[0:8], v0)
	addWidened(sums[8:16], v1)
	addWidened(sums[16:24], v2)
	addWidened(sums[24:32], v3)
}

// addWidened adds the eight lanes of v, as float64, into sums[0:8].
func addWidened(sums []float64, v archsimd.Float32x8) {
	p := base(sums[:8])
	store64(p, 0, load64(p, 0).Add(v.GetLo().ConvertToFloat64()))
	store64(p, 4, load64(p, 4).Add(v.GetHi().ConvertToFloat64()))
}

// avx2Cols64 is avx2Cols32 for float64, which accumulates straight into the
// sums: 16 columns (twelve accumulators) at a time.
func avx2Cols64(dot, xx, yy []float64, x, y []float64, n, xStride, yStride int) {
	checkCols(dot, xx, yy, x, y, n, xStride, yStride)
	m := len(dot)
	px, py := base(x), base(y)
	pd, pa, pb := base(dot), base(xx), base(yy)
	j := 0
	for ; j+16 <= m; j += 16 {
		d0, d1, d2, d3 := load64(pd, j), load64(pd, j+4), load64(pd, j+8), load64(pd, j+12)
		a0, a1, a2, a3 := load64(pa, j), load64(pa, j+4), load64(pa, j+8), load64(pa, j+12)
		b0, b1, b2, b3 := load64(pb, j), load64(pb, j+4), load64(pb, j+8), load64(pb, j+12)
		xo, yo := j, j
		for k := 0; k < n; k++ {
			xv, yv := load64(px, xo), load64(py, yo)
			d0, a0, b0 = xv.MulAdd(yv, d0), xv.MulAdd(xv, a0), yv.MulAdd(yv, b0)
			xv, yv = load64(px, xo+4), load64(py, yo+4)
			d1, a1, b1 = xv.MulAdd(yv, d1), xv.MulAdd(xv, a1), yv.MulAdd(yv, b1)
			xv, yv = load64(px, xo+8), load64(py, yo+8)
			d2, a2, b2 = xv.MulAdd(yv, d2), xv.MulAdd(xv, a2), yv.MulAdd(yv, b2)
			xv, yv = load64(px, xo+12), load64(py, yo+12)
			d3, a3, b3 = xv.MulAdd(yv, d3), xv.MulAdd(xv, a3), yv.MulAdd(yv, b3)
			xo += xStride
			yo += yStride
		}
		store64(pd, j, d0)
		store64(pd, j+4, d1)
		store64(pd, j+8, d2)
		store64(pd, j+12, d3)
		store64(pa, j, a0)
		store64(pa, j+4, a1)
		store64(pa, j+8, a2)
		store64(pa, j+12, a3)
		store64(pb, j, b0)
		store64(pb, j+4, b1)
		store64(pb, j+8, b2)
		store64(pb, j+12, b3)
	}
	if j < m {
		colsPortable(dot[j:], xx[j:], yy[j:], x[j:], y[j:], n, xStride, yStride)
	}
}

// avx2Cosines finishes four slices at a time: their square roots and
// divisions overlap, where one slice at a time waits on each in turn. The
// operations are IEEE's, so results equal cosinesPortable's bit for bit.
func avx2Cosines(dot, xx, yy []float64, eps float64) {
	n := len(dot)
	xx, yy = xx[:n], yy[:n]
	full := n &^ 3
	pd, pa, pb := base(dot), base(xx), base(yy)
	e := archsimd.BroadcastFloat64x4(eps)
	for j := 0; j < full; j += 4 {
		p := load64(pa, j).Max(e).Mul(load64(pb, j).Max(e))
		store64(pd, j, load64(pd, j).Div(p.Sqrt()))
	}
	cosinesPortable(dot[full:], xx[full:], yy[full:], eps)
}
