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
		registerKernel(kernelSet{
			name:    "avx2",
			sums32:  avx2Sums32,
			sums64:  avx2Sums64,
			comb32:  avx2Comb32,
			comb64:  avx2Comb64,
			cols32:  avx2Cols32,
			cols64:  avx2Cols64,
			cosines: avx2Cosines,
		})
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
		s.add(lanes3(widen32(d0.Add(d1)), widen32(a0.Add(a1)), widen32(b0.Add(b1))))
	}
	if full < n {
		s.add(scalarSums(x, y, full, full, 1, 1, n-full))
	}
	return s
}

// widen32 adds the two halves of v in float64.
func widen32(v archsimd.Float32x8) archsimd.Float64x4 {
	return v.GetLo().ConvertToFloat64().Add(v.GetHi().ConvertToFloat64())
}

// lanes3 adds the lanes of d, a and b together, in registers: short rows
// pay for this reduction once each, so it is done for all three sums at
// once with horizontal adds, rather than one vector at a time.
func lanes3(d, a, b archsimd.Float64x4) pairSums {
	da := d.AddPairsGrouped(a) // d0+d1, a0+a1, d2+d3, a2+a3
	bb := b.AddPairsGrouped(b) // b0+b1, b0+b1, b2+b3, b2+b3
	h := da.GetLo().Add(da.GetHi())
	return pairSums{dot: h.GetElem(0), xx: h.GetElem(1), yy: bb.GetLo().Add(bb.GetHi()).GetElem(0)}
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
	s := lanes3(d0.Add(d1), a0.Add(a1), b0.Add(b1))
	if full < n {
		s.add(scalarSums(x, y, full, full, 1, 1, n-full))
	}
	return s
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

// The column kernels add n rows into the sums of m = len(dot) neighbouring
// columns. They take the rows four at a time, each four sweeping the whole
// block of columns: memory is then read as eight long runs (four rows of x
// and of y), which the hardware prefetcher follows, and the running sums
// stay in L1 cache. Walking a few columns down all n rows instead reads
// 2n short runs at once, which the prefetcher cannot track: at 256×100000
// float32 that took 11 ms against 7.5 ms this way.

// avx2Cols32 keeps its running sums in float32 (the caller passes groups
// of a few rows, so rounding stays at float32's level for those few
// additions) and widens them into the float64 sums once, at the end.
func avx2Cols32(dot, xx, yy []float64, x, y []float32, n, xStride, yStride int) {
	checkCols(dot, xx, yy, x, y, n, xStride, yStride)
	m := len(dot)
	var acc [3][innerBlock]float32
	_ = acc[0][:m] // m ≤ innerBlock
	full := m &^ 7
	pd, pa, pb := base(acc[0][:]), base(acc[1][:]), base(acc[2][:])
	px, py := base(x), base(y)
	k := 0
	for ; k+4 <= n; k += 4 {
		x0, x1, x2, x3 := k*xStride, (k+1)*xStride, (k+2)*xStride, (k+3)*xStride
		y0, y1, y2, y3 := k*yStride, (k+1)*yStride, (k+2)*yStride, (k+3)*yStride
		for j := 0; j < full; j += 8 {
			d, a, b := load32(pd, j), load32(pa, j), load32(pb, j)
			xv, yv := load32(px, x0+j), load32(py, y0+j)
			d, a, b = xv.MulAdd(yv, d), xv.MulAdd(xv, a), yv.MulAdd(yv, b)
			xv, yv = load32(px, x1+j), load32(py, y1+j)
			d, a, b = xv.MulAdd(yv, d), xv.MulAdd(xv, a), yv.MulAdd(yv, b)
			xv, yv = load32(px, x2+j), load32(py, y2+j)
			d, a, b = xv.MulAdd(yv, d), xv.MulAdd(xv, a), yv.MulAdd(yv, b)
			xv, yv = load32(px, x3+j), load32(py, y3+j)
			d, a, b = xv.MulAdd(yv, d), xv.MulAdd(xv, a), yv.MulAdd(yv, b)
			store32(pd, j, d)
			store32(pa, j, a)
			store32(pb, j, b)
		}
	}
	for ; k < n; k++ {
		x0, y0 := k*xStride, k*yStride
		for j := 0; j < full; j += 8 {
			xv, yv := load32(px, x0+j), load32(py, y0+j)
			store32(pd, j, xv.MulAdd(yv, load32(pd, j)))
			store32(pa, j, xv.MulAdd(xv, load32(pa, j)))
			store32(pb, j, yv.MulAdd(yv, load32(pb, j)))
		}
	}
	for j := 0; j < full; j += 8 {
		addWidened(dot[j:j+8], load32(pd, j))
		addWidened(xx[j:j+8], load32(pa, j))
		addWidened(yy[j:j+8], load32(pb, j))
	}
	if full < m {
		colsPortable(dot[full:], xx[full:], yy[full:], x[full:], y[full:], n, xStride, yStride)
	}
}

// addWidened adds the eight lanes of v, as float64, into sums[0:8].
func addWidened(sums []float64, v archsimd.Float32x8) {
	p := base(sums[:8])
	store64(p, 0, load64(p, 0).Add(v.GetLo().ConvertToFloat64()))
	store64(p, 4, load64(p, 4).Add(v.GetHi().ConvertToFloat64()))
}

// avx2Cols64 accumulates straight into the float64 sums.
func avx2Cols64(dot, xx, yy []float64, x, y []float64, n, xStride, yStride int) {
	checkCols(dot, xx, yy, x, y, n, xStride, yStride)
	m := len(dot)
	full := m &^ 3
	pd, pa, pb := base(dot), base(xx), base(yy)
	px, py := base(x), base(y)
	k := 0
	for ; k+4 <= n; k += 4 {
		x0, x1, x2, x3 := k*xStride, (k+1)*xStride, (k+2)*xStride, (k+3)*xStride
		y0, y1, y2, y3 := k*yStride, (k+1)*yStride, (k+2)*yStride, (k+3)*yStride
		for j := 0; j < full; j += 4 {
			d, a, b := load64(pd, j), load64(pa, j), load64(pb, j)
			xv, yv := load64(px, x0+j), load64(py, y0+j)
			d, a, b = xv.MulAdd(yv, d), xv.MulAdd(xv, a), yv.MulAdd(yv, b)
			xv, yv = load64(px, x1+j), load64(py, y1+j)
			d, a, b = xv.MulAdd(yv, d), xv.MulAdd(xv, a), yv.MulAdd(yv, b)
			xv, yv = load64(px, x2+j), load64(py, y2+j)
			d, a, b = xv.MulAdd(yv, d), xv.MulAdd(xv, a), yv.MulAdd(yv, b)
			xv, yv = load64(px, x3+j), load64(py, y3+j)
			d, a, b = xv.MulAdd(yv, d), xv.MulAdd(xv, a), yv.MulAdd(yv, b)
			store64(pd, j, d)
			store64(pa, j, a)
			store64(pb, j, b)
		}
	}
	for ; k < n; k++ {
		x0, y0 := k*xStride, k*yStride
		for j := 0; j < full; j += 4 {
			xv, yv := load64(px, x0+j), load64(py, y0+j)
			store64(pd, j, xv.MulAdd(yv, load64(pd, j)))
			store64(pa, j, xv.MulAdd(xv, load64(pa, j)))
			store64(pb, j, yv.MulAdd(yv, load64(pb, j)))
		}
	}
	if full < m {
		colsPortable(dot[full:], xx[full:], yy[full:], x[full:], y[full:], n, xStride, yStride)
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
