package cosloss

import (
	"math/rand/v2"
	"testing"
	"time"
)

// Benchmarks of the all-pairs layer: their time is MatMul's plus the
// epilogue, heaps or gradient passes. Run one at a time, e.g.
// go test -run X -bench 'CosineMatrix/512' -count 5 ./cosloss/

func BenchmarkCosineMatrix(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, s := range []struct {
		name    string
		n, m, d int
	}{{"512x512x256", 512, 512, 256}, {"4096x4096x256", 4096, 4096, 256}} {
		x, y := randMatrix[float32](r, s.n, s.d, s.d), randMatrix[float32](r, s.m, s.d, s.d)
		out := Dense(make([]float32, s.n*s.m), s.n, s.m)
		b.Run(s.name, func(b *testing.B) {
			b.SetBytes(int64(2 * s.n * s.m * s.d)) // flops, as "bytes"/s
			for b.Loop() {
				if err := CosineMatrix(out, x, y, 1e-12); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(s.name+"/self", func(b *testing.B) {
			b.SetBytes(int64(2 * s.n * s.n * s.d))
			out := Dense(make([]float32, s.n*s.n), s.n, s.n)
			for b.Loop() {
				if err := CosineMatrix(out, x, x, 1e-12); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkCosineMatrixGrad(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 2))
	const n, m, d = 512, 512, 256
	x, y := randMatrix[float32](r, n, d, d), randMatrix[float32](r, m, d, d)
	u := randMatrix[float32](r, n, m, m)
	dx, dy := Dense(make([]float32, n*d), n, d), Dense(make([]float32, m*d), m, d)
	b.SetBytes(3 * 2 * n * m * d)
	for b.Loop() {
		if err := CosineMatrixGrad(x, y, u, dx, dy, 1e-12); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTopK(b *testing.B) {
	r := rand.New(rand.NewPCG(4, 2))
	for _, s := range []struct {
		name       string
		n, m, d, k int
	}{{"64x20000x256/k10", 64, 20000, 256, 10}, {"4096x100000x256/k10", 4096, 100000, 256, 10}} {
		q, c := randMatrix[float32](r, s.n, s.d, s.d), randMatrix[float32](r, s.m, s.d, s.d)
		vals := Dense(make([]float32, s.n*s.k), s.n, s.k)
		idx := make([]int64, s.n*s.k)
		b.Run(s.name, func(b *testing.B) {
			b.SetBytes(int64(2 * s.n * s.m * s.d))
			for b.Loop() {
				if err := TopK(vals, idx, q, c, s.k, true, 1e-12); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCosineOverhead alternates, in each iteration, MatMulParallel of
// X·Yᵀ and CosineMatrix of the same 4096×4096×256 float32 shape (and the
// self case), so the ratio cosine/matmul, the all-pairs layer's overhead,
// is measured under the same machine load.
func BenchmarkCosineOverhead(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	const n, d = 4096, 256
	x, y := randMatrix[float32](r, n, d, d), randMatrix[float32](r, n, d, d)
	out := Dense(make([]float32, n*n), n, n)
	for _, self := range []bool{false, true} {
		name := "xy"
		if self {
			name = "self"
		}
		b.Run(name, func(b *testing.B) {
			yy := y
			if self {
				yy = x
			}
			var tm, tc time.Duration
			for b.Loop() {
				t0 := time.Now()
				if err := MatMulParallel(out, x, NoTrans, yy, Trans, false); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if err := CosineMatrix(out, x, yy, 1e-12); err != nil {
					b.Fatal(err)
				}
				tm, tc = tm+t1.Sub(t0), tc+time.Since(t1)
			}
			b.ReportMetric(float64(tm.Milliseconds())/float64(b.N), "matmul-ms")
			b.ReportMetric(float64(tc.Milliseconds())/float64(b.N), "cosine-ms")
			b.ReportMetric(float64(tc)/float64(tm), "ratio")
		})
	}
}
