//go:build goexperiment.simd && amd64

package cosloss

import (
	"simd/archsimd"
	"unsafe"
)

// The AVX-512 micro-kernels of the matrix products (gemm.go): tiles of
// 4×32 float32 or 4×16 float64, each element's chain in one lane of one
// of eight vectors, continued by one VFMADD (one rounding, so the bits are
// fma's) per step. Each step loads the two vectors of B's panel and
// broadcasts each of the four values of A's, then does eight FMAs.
//
// Why so small a tile with 32 zmm registers: Go 1.26's register allocator
// gives vectors only X0–X14, even at 512 bits, and archsimd's MulAdd is
// the 213 form, which overwrites a multiplicand, so each FMA whose
// multiplicand is used again costs a register copy. Measured in cache
// (256 steps, GFLOP/s float32, alternating runs): 4×32 88–104 and 3×48
// 65–102, without spills; 6×32, 4×48, 3×64 30–60, 6×64, 8×48, 12×32
// 18–48, all spilling accumulators to the stack on every step. Reloading
// B for every FMA (to give it a fresh multiplicand) does not help: the
// compiler merges the loads; loading it through distinct masks keeps them
// apart but spills the masks (25–40).
//
// The sections follow kernel_avx2.go's rule.

func load32x16(p unsafe.Pointer, k int) archsimd.Float32x16 {
	return archsimd.LoadFloat32x16(at32x16(p, k))
}

func avx512Tile32(c []float32, ldc int, a, b []float32, kc int, load bool) {
	_, _, _ = a[4*kc-1], b[32*kc-1], c[3*ldc+31]
	avx512Gemm32Section(base(c), ldc, base(a), base(b), kc, load)
}

func avx512Tile64(c []float64, ldc int, a, b []float64, kc int, load bool) {
	_, _, _ = a[4*kc-1], b[16*kc-1], c[3*ldc+15]
	avx512Gemm64Section(base(c), ldc, base(a), base(b), kc, load)
}

// avx512Gemm32Section is avx512Tile32's arithmetic: the eight chains of a
// 4×32 tile in eight Float32x16.
//
//go:noinline
func avx512Gemm32Section(c unsafe.Pointer, ldc int, a, b unsafe.Pointer, kc int, load bool) {
	var c00, c01, c10, c11, c20, c21, c30, c31 archsimd.Float32x16
	if load {
		c0 := c
		c00, c01 = load32x16(c0, 0), load32x16(c0, 16)
		c1 := unsafe.Add(c, 4*ldc)
		c10, c11 = load32x16(c1, 0), load32x16(c1, 16)
		c2 := unsafe.Add(c, 8*ldc)
		c20, c21 = load32x16(c2, 0), load32x16(c2, 16)
		c3 := unsafe.Add(c, 12*ldc)
		c30, c31 = load32x16(c3, 0), load32x16(c3, 16)
	}
	for p := range kc {
		// Indexed from the panels' starts: a pointer stepped past the
		// last step would point outside the buffer, which checkptr rejects.
		ap, bp := unsafe.Add(a, 16*p), unsafe.Add(b, 128*p)
		b0, b1 := load32x16(bp, 0), load32x16(bp, 16)
		a0 := archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Add(ap, 0)))
		c00, c01 = a0.MulAdd(b0, c00), a0.MulAdd(b1, c01)
		a1 := archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Add(ap, 4)))
		c10, c11 = a1.MulAdd(b0, c10), a1.MulAdd(b1, c11)
		a2 := archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Add(ap, 8)))
		c20, c21 = a2.MulAdd(b0, c20), a2.MulAdd(b1, c21)
		a3 := archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Add(ap, 12)))
		c30, c31 = a3.MulAdd(b0, c30), a3.MulAdd(b1, c31)
	}
	c0 := c
	c00.Store((*[16]float32)(unsafe.Add(c0, 0)))
	c01.Store((*[16]float32)(unsafe.Add(c0, 64)))
	c1 := unsafe.Add(c, 4*ldc)
	c10.Store((*[16]float32)(unsafe.Add(c1, 0)))
	c11.Store((*[16]float32)(unsafe.Add(c1, 64)))
	c2 := unsafe.Add(c, 8*ldc)
	c20.Store((*[16]float32)(unsafe.Add(c2, 0)))
	c21.Store((*[16]float32)(unsafe.Add(c2, 64)))
	c3 := unsafe.Add(c, 12*ldc)
	c30.Store((*[16]float32)(unsafe.Add(c3, 0)))
	c31.Store((*[16]float32)(unsafe.Add(c3, 64)))
	archsimd.ClearAVXUpperBits()
}

// avx512Gemm64Section is avx512Gemm32Section for float64: a 4×16 tile.
//
//go:noinline
func avx512Gemm64Section(c unsafe.Pointer, ldc int, a, b unsafe.Pointer, kc int, load bool) {
	var c00, c01, c10, c11, c20, c21, c30, c31 archsimd.Float64x8
	if load {
		c0 := c
		c00, c01 = load64x8(c0, 0), load64x8(c0, 8)
		c1 := unsafe.Add(c, 8*ldc)
		c10, c11 = load64x8(c1, 0), load64x8(c1, 8)
		c2 := unsafe.Add(c, 16*ldc)
		c20, c21 = load64x8(c2, 0), load64x8(c2, 8)
		c3 := unsafe.Add(c, 24*ldc)
		c30, c31 = load64x8(c3, 0), load64x8(c3, 8)
	}
	for p := range kc {
		// Indexed from the panels' starts: a pointer stepped past the
		// last step would point outside the buffer, which checkptr rejects.
		ap, bp := unsafe.Add(a, 32*p), unsafe.Add(b, 128*p)
		b0, b1 := load64x8(bp, 0), load64x8(bp, 8)
		a0 := archsimd.BroadcastFloat64x8(*(*float64)(unsafe.Add(ap, 0)))
		c00, c01 = a0.MulAdd(b0, c00), a0.MulAdd(b1, c01)
		a1 := archsimd.BroadcastFloat64x8(*(*float64)(unsafe.Add(ap, 8)))
		c10, c11 = a1.MulAdd(b0, c10), a1.MulAdd(b1, c11)
		a2 := archsimd.BroadcastFloat64x8(*(*float64)(unsafe.Add(ap, 16)))
		c20, c21 = a2.MulAdd(b0, c20), a2.MulAdd(b1, c21)
		a3 := archsimd.BroadcastFloat64x8(*(*float64)(unsafe.Add(ap, 24)))
		c30, c31 = a3.MulAdd(b0, c30), a3.MulAdd(b1, c31)
	}
	c0 := c
	c00.Store((*[8]float64)(unsafe.Add(c0, 0)))
	c01.Store((*[8]float64)(unsafe.Add(c0, 64)))
	c1 := unsafe.Add(c, 8*ldc)
	c10.Store((*[8]float64)(unsafe.Add(c1, 0)))
	c11.Store((*[8]float64)(unsafe.Add(c1, 64)))
	c2 := unsafe.Add(c, 16*ldc)
	c20.Store((*[8]float64)(unsafe.Add(c2, 0)))
	c21.Store((*[8]float64)(unsafe.Add(c2, 64)))
	c3 := unsafe.Add(c, 24*ldc)
	c30.Store((*[8]float64)(unsafe.Add(c3, 0)))
	c31.Store((*[8]float64)(unsafe.Add(c3, 64)))
	archsimd.ClearAVXUpperBits()
}
