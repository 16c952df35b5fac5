package cosloss

import (
	"math/rand/v2"
	"testing"
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
