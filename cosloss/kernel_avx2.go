//go:build goexperiment.simd && amd64

package cosloss

import "simd/archsimd"

// Go 1.26's experimental simd/archsimd gives the fused one-pass kernel:
// Σx·y, Σx² and Σy² from one load of each vector, with FMA.

func init() {
	if archsimd.X86.AVX2() && archsimd.X86.FMA() {
		registerKernel(kernelSet{"avx2", avx2Sums32, avx2Sums64, avx2Comb32, avx2Comb64, avx2Cols32, avx2Cols64})
	}
}

// f32Block is how many elements float32 lanes accumulate before their sums
// move to float64: 16 lanes then see 32 additions each, which keeps a
// million-element row within 1e-6 of the exact sum.
const f32Block = 512

func avx2Sums32(x, y []float32) pairSums {
	n := len(x)
	y = y[:n]
	full := n &^ 15
	var s pairSums
	for start := 0; start < full; start += f32Block {
		end := min(start+f32Block, full)
		var d0, d1, a0, a1, b0, b1 archsimd.Float32x8
		for k := start; k < end; k += 16 {
			x0, x1 := archsimd.LoadFloat32x8Slice(x[k:]), archsimd.LoadFloat32x8Slice(x[k+8:])
			y0, y1 := archsimd.LoadFloat32x8Slice(y[k:]), archsimd.LoadFloat32x8Slice(y[k+8:])
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
	var d0, d1, a0, a1, b0, b1 archsimd.Float64x4
	for k := 0; k < full; k += 8 {
		x0, x1 := archsimd.LoadFloat64x4Slice(x[k:]), archsimd.LoadFloat64x4Slice(x[k+4:])
		y0, y1 := archsimd.LoadFloat64x4Slice(y[k:]), archsimd.LoadFloat64x4Slice(y[k+4:])
		d0, d1 = x0.MulAdd(y0, d0), x1.MulAdd(y1, d1)
		a0, a1 = x0.MulAdd(x0, a0), x1.MulAdd(x1, a1)
		b0, b1 = y0.MulAdd(y0, b0), y1.MulAdd(y1, b1)
	}
	s := pairSums{dot: lanes64(d0.Add(d1)), xx: lanes64(a0.Add(a1)), yy: lanes64(b0.Add(b1))}
	s.add(scalarSums(x, y, full, full, 1, 1, n-full))
	return s
}

func lanes64(v archsimd.Float64x4) float64 {
	var a [4]float64
	v.StoreSlice(a[:])
	return a[0] + a[1] + a[2] + a[3]
}

func avx2Comb32(dst, a, b []float32, s, p float32) {
	n := len(a)
	b, dst = b[:n], dst[:n]
	full := n &^ 7
	vs, vp := archsimd.BroadcastFloat32x8(s), archsimd.BroadcastFloat32x8(p)
	for k := 0; k < full; k += 8 {
		va, vb := archsimd.LoadFloat32x8Slice(a[k:]), archsimd.LoadFloat32x8Slice(b[k:])
		va.Mul(vs).Sub(vb.Mul(vp)).StoreSlice(dst[k:])
	}
	combPortable(dst[full:], a[full:], b[full:], s, p)
}

func avx2Comb64(dst, a, b []float64, s, p float64) {
	n := len(a)
	b, dst = b[:n], dst[:n]
	full := n &^ 3
	vs, vp := archsimd.BroadcastFloat64x4(s), archsimd.BroadcastFloat64x4(p)
	for k := 0; k < full; k += 4 {
		va, vb := archsimd.LoadFloat64x4Slice(a[k:]), archsimd.LoadFloat64x4Slice(b[k:])
		va.Mul(vs).Sub(vb.Mul(vp)).StoreSlice(dst[k:])
	}
	combPortable(dst[full:], a[full:], b[full:], s, p)
}

// avx2Cols32 adds n rows into eight columns' sums at a time: the rows
// accumulate in float32 lanes held in registers (the caller passes groups
// of a few rows, so rounding stays at float32's level for those few
// additions), then widen into the float64 sums.
func avx2Cols32(dot, xx, yy []float64, x, y []float32, n, xStride, yStride int) {
	m := len(dot)
	full := m &^ 7
	for j := 0; j < full; j += 8 {
		var d, a, b archsimd.Float32x8
		for k := 0; k < n; k++ {
			xv := archsimd.LoadFloat32x8Slice(x[k*xStride+j:])
			yv := archsimd.LoadFloat32x8Slice(y[k*yStride+j:])
			d, a, b = xv.MulAdd(yv, d), xv.MulAdd(xv, a), yv.MulAdd(yv, b)
		}
		addWidened(dot[j:], d)
		addWidened(xx[j:], a)
		addWidened(yy[j:], b)
	}
	if full < m {
		colsPortable(dot[full:], xx[full:], yy[full:], x[full:], y[full:], n, xStride, yStride)
	}
}

// addWidened adds the eight lanes of v, as float64, into sums[0:8].
func addWidened(sums []float64, v archsimd.Float32x8) {
	lo := archsimd.LoadFloat64x4Slice(sums).Add(v.GetLo().ConvertToFloat64())
	hi := archsimd.LoadFloat64x4Slice(sums[4:]).Add(v.GetHi().ConvertToFloat64())
	lo.StoreSlice(sums)
	hi.StoreSlice(sums[4:])
}

func avx2Cols64(dot, xx, yy []float64, x, y []float64, n, xStride, yStride int) {
	m := len(dot)
	full := m &^ 7
	for j := 0; j < full; j += 8 {
		d0, d1, a0, a1, b0, b1 := loadAcc(dot, xx, yy, j)
		for k := 0; k < n; k++ {
			x0, x1 := archsimd.LoadFloat64x4Slice(x[k*xStride+j:]), archsimd.LoadFloat64x4Slice(x[k*xStride+j+4:])
			y0, y1 := archsimd.LoadFloat64x4Slice(y[k*yStride+j:]), archsimd.LoadFloat64x4Slice(y[k*yStride+j+4:])
			d0, d1 = x0.MulAdd(y0, d0), x1.MulAdd(y1, d1)
			a0, a1 = x0.MulAdd(x0, a0), x1.MulAdd(x1, a1)
			b0, b1 = y0.MulAdd(y0, b0), y1.MulAdd(y1, b1)
		}
		d0.StoreSlice(dot[j:])
		d1.StoreSlice(dot[j+4:])
		a0.StoreSlice(xx[j:])
		a1.StoreSlice(xx[j+4:])
		b0.StoreSlice(yy[j:])
		b1.StoreSlice(yy[j+4:])
	}
	if full < m {
		colsPortable(dot[full:], xx[full:], yy[full:], x[full:], y[full:], n, xStride, yStride)
	}
}

// loadAcc loads eight columns' running sums from position j.
func loadAcc(dot, xx, yy []float64, j int) (d0, d1, a0, a1, b0, b1 archsimd.Float64x4) {
	return archsimd.LoadFloat64x4Slice(dot[j:]), archsimd.LoadFloat64x4Slice(dot[j+4:]),
		archsimd.LoadFloat64x4Slice(xx[j:]), archsimd.LoadFloat64x4Slice(xx[j+4:]),
		archsimd.LoadFloat64x4Slice(yy[j:]), archsimd.LoadFloat64x4Slice(yy[j+4:])
}
