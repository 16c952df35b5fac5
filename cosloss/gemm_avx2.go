//go:build goexperiment.simd && amd64

package cosloss

import (
	"simd/archsimd"
	"unsafe"
)

// The AVX2 micro-kernels of the matrix products (gemm.go): tiles of 4×16
// float32 or 4×8 float64 in eight vectors, one VFMADD (one rounding) per
// element and step, as gemm_avx512.go explains for its wider tiles. Go's
// allocator has 15 ymm registers here as well; eight accumulators, two B
// vectors and a broadcast leave room for the copies the 213-form FMA
// needs. The sections follow kernel_avx2.go's rule.

func load32x8(p unsafe.Pointer, k int) archsimd.Float32x8 {
	return archsimd.LoadFloat32x8(at32x8(p, k))
}

func avx2Tile32(c []float32, ldc int, a, b []float32, kc int, load bool) {
	_, _, _ = a[4*kc-1], b[16*kc-1], c[3*ldc+15]
	avx2Gemm32Section(base(c), ldc, base(a), base(b), kc, load)
}

func avx2Tile64(c []float64, ldc int, a, b []float64, kc int, load bool) {
	_, _, _ = a[4*kc-1], b[8*kc-1], c[3*ldc+7]
	avx2Gemm64Section(base(c), ldc, base(a), base(b), kc, load)
}

// avx2Gemm32Section is avx2Tile32's arithmetic: the eight chains of a
// 4×16 tile in eight Float32x8.
//
//go:noinline
func avx2Gemm32Section(c unsafe.Pointer, ldc int, a, b unsafe.Pointer, kc int, load bool) {
	var c00, c01, c10, c11, c20, c21, c30, c31 archsimd.Float32x8
	if load {
		c0 := c
		c00, c01 = load32x8(c0, 0), load32x8(c0, 8)
		c1 := unsafe.Add(c, 4*ldc)
		c10, c11 = load32x8(c1, 0), load32x8(c1, 8)
		c2 := unsafe.Add(c, 8*ldc)
		c20, c21 = load32x8(c2, 0), load32x8(c2, 8)
		c3 := unsafe.Add(c, 12*ldc)
		c30, c31 = load32x8(c3, 0), load32x8(c3, 8)
	}
	for p := range kc {
		// Indexed from the panels' starts: a pointer stepped past the
		// last step would point outside the buffer, which checkptr rejects.
		ap, bp := unsafe.Add(a, 16*p), unsafe.Add(b, 64*p)
		b0, b1 := load32x8(bp, 0), load32x8(bp, 8)
		a0 := archsimd.BroadcastFloat32x8(*(*float32)(unsafe.Add(ap, 0)))
		c00, c01 = a0.MulAdd(b0, c00), a0.MulAdd(b1, c01)
		a1 := archsimd.BroadcastFloat32x8(*(*float32)(unsafe.Add(ap, 4)))
		c10, c11 = a1.MulAdd(b0, c10), a1.MulAdd(b1, c11)
		a2 := archsimd.BroadcastFloat32x8(*(*float32)(unsafe.Add(ap, 8)))
		c20, c21 = a2.MulAdd(b0, c20), a2.MulAdd(b1, c21)
		a3 := archsimd.BroadcastFloat32x8(*(*float32)(unsafe.Add(ap, 12)))
		c30, c31 = a3.MulAdd(b0, c30), a3.MulAdd(b1, c31)
	}
	c0 := c
	c00.Store((*[8]float32)(unsafe.Add(c0, 0)))
	c01.Store((*[8]float32)(unsafe.Add(c0, 32)))
	c1 := unsafe.Add(c, 4*ldc)
	c10.Store((*[8]float32)(unsafe.Add(c1, 0)))
	c11.Store((*[8]float32)(unsafe.Add(c1, 32)))
	c2 := unsafe.Add(c, 8*ldc)
	c20.Store((*[8]float32)(unsafe.Add(c2, 0)))
	c21.Store((*[8]float32)(unsafe.Add(c2, 32)))
	c3 := unsafe.Add(c, 12*ldc)
	c30.Store((*[8]float32)(unsafe.Add(c3, 0)))
	c31.Store((*[8]float32)(unsafe.Add(c3, 32)))
	archsimd.ClearAVXUpperBits()
}

// avx2Gemm64Section is avx2Gemm32Section for float64: a 4×8 tile.
//
//go:noinline
func avx2Gemm64Section(c unsafe.Pointer, ldc int, a, b unsafe.Pointer, kc int, load bool) {
	var c00, c01, c10, c11, c20, c21, c30, c31 archsimd.Float64x4
	if load {
		c0 := c
		c00, c01 = load64(c0, 0), load64(c0, 4)
		c1 := unsafe.Add(c, 8*ldc)
		c10, c11 = load64(c1, 0), load64(c1, 4)
		c2 := unsafe.Add(c, 16*ldc)
		c20, c21 = load64(c2, 0), load64(c2, 4)
		c3 := unsafe.Add(c, 24*ldc)
		c30, c31 = load64(c3, 0), load64(c3, 4)
	}
	for p := range kc {
		// Indexed from the panels' starts: a pointer stepped past the
		// last step would point outside the buffer, which checkptr rejects.
		ap, bp := unsafe.Add(a, 32*p), unsafe.Add(b, 64*p)
		b0, b1 := load64(bp, 0), load64(bp, 4)
		a0 := archsimd.BroadcastFloat64x4(*(*float64)(unsafe.Add(ap, 0)))
		c00, c01 = a0.MulAdd(b0, c00), a0.MulAdd(b1, c01)
		a1 := archsimd.BroadcastFloat64x4(*(*float64)(unsafe.Add(ap, 8)))
		c10, c11 = a1.MulAdd(b0, c10), a1.MulAdd(b1, c11)
		a2 := archsimd.BroadcastFloat64x4(*(*float64)(unsafe.Add(ap, 16)))
		c20, c21 = a2.MulAdd(b0, c20), a2.MulAdd(b1, c21)
		a3 := archsimd.BroadcastFloat64x4(*(*float64)(unsafe.Add(ap, 24)))
		c30, c31 = a3.MulAdd(b0, c30), a3.MulAdd(b1, c31)
	}
	c0 := c
	c00.Store((*[4]float64)(unsafe.Add(c0, 0)))
	c01.Store((*[4]float64)(unsafe.Add(c0, 32)))
	c1 := unsafe.Add(c, 8*ldc)
	c10.Store((*[4]float64)(unsafe.Add(c1, 0)))
	c11.Store((*[4]float64)(unsafe.Add(c1, 32)))
	c2 := unsafe.Add(c, 16*ldc)
	c20.Store((*[4]float64)(unsafe.Add(c2, 0)))
	c21.Store((*[4]float64)(unsafe.Add(c2, 32)))
	c3 := unsafe.Add(c, 24*ldc)
	c30.Store((*[4]float64)(unsafe.Add(c3, 0)))
	c31.Store((*[4]float64)(unsafe.Add(c3, 32)))
	archsimd.ClearAVXUpperBits()
}
