package cosloss

import "math"

// The portable micro-kernels: 4×4 tiles whose 16 chains live in local
// variables, so each step loads four values of each panel and does 16
// fused multiply-adds. float64 uses math.FMA (one instruction where the
// CPU has FMA); float32 uses fma32, the exact emulation, which costs a
// few float64 operations and a rare branch per step (a float32 product
// rounded into a float64 sum and then to float32 would round twice).
var (
	gemmPortable32 = gemmKernel[float32]{mr: 4, nr: 4, kc: 256, mc: 128, nc: 1024, tile: tilePortable32}
	gemmPortable64 = gemmKernel[float64]{mr: 4, nr: 4, kc: 256, mc: 64, nc: 1024, tile: tilePortable64}
)

func tilePortable32(c []float32, ldc int, a, b []float32, kc int, load bool) {
	var c0, c1, c2, c3 [4]float32
	c = c[:3*ldc+4]
	if load {
		c0, c1, c2, c3 = [4]float32(c[0:4]), [4]float32(c[ldc:ldc+4]), [4]float32(c[2*ldc:2*ldc+4]), [4]float32(c[3*ldc:3*ldc+4])
	}
	a, b = a[:4*kc], b[:4*kc]
	for p := 0; p < len(a); p += 4 {
		av, bv := [4]float32(a[p:p+4]), [4]float32(b[p:p+4])
		for j := range 4 {
			c0[j] = fma32(av[0], bv[j], c0[j])
			c1[j] = fma32(av[1], bv[j], c1[j])
			c2[j] = fma32(av[2], bv[j], c2[j])
			c3[j] = fma32(av[3], bv[j], c3[j])
		}
	}
	copy(c[0:4], c0[:])
	copy(c[ldc:ldc+4], c1[:])
	copy(c[2*ldc:2*ldc+4], c2[:])
	copy(c[3*ldc:3*ldc+4], c3[:])
}

func tilePortable64(c []float64, ldc int, a, b []float64, kc int, load bool) {
	var c0, c1, c2, c3 [4]float64
	c = c[:3*ldc+4]
	if load {
		c0, c1, c2, c3 = [4]float64(c[0:4]), [4]float64(c[ldc:ldc+4]), [4]float64(c[2*ldc:2*ldc+4]), [4]float64(c[3*ldc:3*ldc+4])
	}
	a, b = a[:4*kc], b[:4*kc]
	for p := 0; p < len(a); p += 4 {
		av, bv := [4]float64(a[p:p+4]), [4]float64(b[p:p+4])
		for j := range 4 {
			c0[j] = math.FMA(av[0], bv[j], c0[j])
			c1[j] = math.FMA(av[1], bv[j], c1[j])
			c2[j] = math.FMA(av[2], bv[j], c2[j])
			c3[j] = math.FMA(av[3], bv[j], c3[j])
		}
	}
	copy(c[0:4], c0[:])
	copy(c[ldc:ldc+4], c1[:])
	copy(c[2*ldc:2*ldc+4], c2[:])
	copy(c[3*ldc:3*ldc+4], c3[:])
}
