//go:build goexperiment.simd && amd64

package cosloss

// The AVX-512 micro-kernels of the matrix products (gemm.go), in assembly
// (gemm_avx512_amd64.s, written by gen_gemm_asm.go): tiles of 6×64
// float32 or 6×32 float64, each element's chain in one lane of one of 24
// accumulators (Z8–Z31), continued by one VFMADD231 (one rounding, so the
// bits are fma's) per step. Each step loads the four vectors of B's panel
// (Z0–Z3) and broadcasts each of A's six values from memory into Z4–Z7 in
// turn (VBROADCASTSS/SD from memory is a load alone, no shuffle), then
// does 24 FMAs: 10 loads for 24 FMAs, and no register copies.
//
// Why assembly: Go 1.26's register allocator gives archsimd vectors only
// X0–X14, even at 512 bits, and archsimd's MulAdd is the 213 form, which
// overwrites a multiplicand, so each FMA whose multiplicand is used again
// costs a copy; its broadcasts are VMOVSS + VBROADCASTSS (a shuffle, port
// 5). The best archsimd tile was 4×32 at ~36 µops per 8 FMAs: 31–33
// GFLOP/s float32 on NT 4096×4096×256 on one Sapphire Rapids core, where
// this kernel does 90–130 (gemm_bench_test.go) and OpenBLAS's sgemm,
// timed alternately on the same shared machine, 90–125.
//
// Measured in cache (256 steps, GFLOP/s float32, one core): 6×64, 7×64,
// 8×48, 12×32 and 14×32, with registers or embedded broadcasts, unrolled
// 1–4 times, all reach 150–170 (noise ±20 on the shared machine); in the
// NT 4096 product they are within noise of each other too. 6×64 loads
// the fewest values a step, and six rows of A fit its addressing in three
// registers, which lets one kernel read A's panel column by column (rs =
// 1, ps = 6, as the Trans packing writes it) or row by row (rs = kc, ps =
// 1, as copying A's rows writes it; see gemmKernel's tileRows). Embedded
// broadcasts with that indexed addressing were slower (90 against 120 in
// cache): the FMA and its load no longer fuse. Prefetching C's tile at the
// start hides the stores' misses in the 4096×4096 products.
//
// The kernels are leaf functions that end with VZEROUPPER, as the
// sections of kernel_avx2.go do (TestSIMDSectionsClearUpperBits).

func avx512Tile32(c []float32, ldc int, a, b []float32, kc int, load bool) {
	_, _, _ = a[6*kc-1], b[64*kc-1], c[5*ldc+63]
	avx512Gemm32Kernel(&c[0], ldc, &a[0], 1, 6, &b[0], kc, load)
}

func avx512Tile32Rows(c []float32, ldc int, a, b []float32, kc int, load bool) {
	_, _, _ = a[6*kc-1], b[64*kc-1], c[5*ldc+63]
	avx512Gemm32Kernel(&c[0], ldc, &a[0], kc, 1, &b[0], kc, load)
}

func avx512Tile64(c []float64, ldc int, a, b []float64, kc int, load bool) {
	_, _, _ = a[6*kc-1], b[32*kc-1], c[5*ldc+31]
	avx512Gemm64Kernel(&c[0], ldc, &a[0], 1, 6, &b[0], kc, load)
}

func avx512Tile64Rows(c []float64, ldc int, a, b []float64, kc int, load bool) {
	_, _, _ = a[6*kc-1], b[32*kc-1], c[5*ldc+31]
	avx512Gemm64Kernel(&c[0], ldc, &a[0], kc, 1, &b[0], kc, load)
}
