//go:build goexperiment.simd && amd64

package cosloss

import "simd/archsimd"

// Go 1.26's experimental simd/archsimd gives the fused one-pass kernel:
// Σx·y, Σx² and Σy² from one load of each vector, with FMA.

func init() {
	if archsimd.X86.AVX2() && archsimd.X86.FMA() {
		registerKernel(kernelSet{"avx2", avx2Sums32, avx2Sums64, avx2Comb32, avx2Comb64, avx2Acc32, avx2Acc64})
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

// avx2Acc32 widens float32 to float64 before accumulating: a slice's sums
// run along the reduced axis, and float64 keeps long axes exact enough.
func avx2Acc32(dot, xx, yy []float64, x, y []float32) {
	n := len(x)
	y, dot, xx, yy = y[:n], dot[:n], xx[:n], yy[:n]
	full := n &^ 3
	for j := 0; j < full; j += 4 {
		a := archsimd.LoadFloat32x4Slice(x[j:]).ConvertToFloat64()
		b := archsimd.LoadFloat32x4Slice(y[j:]).ConvertToFloat64()
		a.MulAdd(b, archsimd.LoadFloat64x4Slice(dot[j:])).StoreSlice(dot[j:])
		a.MulAdd(a, archsimd.LoadFloat64x4Slice(xx[j:])).StoreSlice(xx[j:])
		b.MulAdd(b, archsimd.LoadFloat64x4Slice(yy[j:])).StoreSlice(yy[j:])
	}
	accPortable(dot[full:], xx[full:], yy[full:], x[full:], y[full:])
}

func avx2Acc64(dot, xx, yy []float64, x, y []float64) {
	n := len(x)
	y, dot, xx, yy = y[:n], dot[:n], xx[:n], yy[:n]
	full := n &^ 3
	for j := 0; j < full; j += 4 {
		a, b := archsimd.LoadFloat64x4Slice(x[j:]), archsimd.LoadFloat64x4Slice(y[j:])
		a.MulAdd(b, archsimd.LoadFloat64x4Slice(dot[j:])).StoreSlice(dot[j:])
		a.MulAdd(a, archsimd.LoadFloat64x4Slice(xx[j:])).StoreSlice(xx[j:])
		b.MulAdd(b, archsimd.LoadFloat64x4Slice(yy[j:])).StoreSlice(yy[j:])
	}
	accPortable(dot[full:], xx[full:], yy[full:], x[full:], y[full:])
}
