package cosloss

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
)

func randomSlice[T Float](n int, seed uint64) []T {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	v := make([]T, n)
	for i := range v {
		v[i] = T(rng.NormFloat64())
	}
	return v
}

func benchCosine[T Float](b *testing.B, l Layout, rule EpsRule) {
	x, y := randomSlice[T](l.Size(), 1), randomSlice[T](l.Size(), 2)
	out := make([]T, l.Slices())
	var zero T
	b.SetBytes(int64(2 * l.Size() * int(sizeof(zero))))
	for b.Loop() {
		if err := Cosine(Contiguous(x, l), Contiguous(y, l), NegCos, out, rule, T(ruleEps(rule))); err != nil {
			b.Fatal(err)
		}
	}
}

func sizeof[T Float](v T) uintptr {
	switch any(v).(type) {
	case float32:
		return 4
	}
	return 8
}

// BenchmarkCosine covers the reference case (rows of 256) along the
// last axis, the same data along the first axis, and a small batch.
func BenchmarkCosine(b *testing.B) {
	for _, c := range []struct {
		name string
		l    Layout
	}{
		{"rows=10000,dim=256,axis=-1", Layout{10000, 256, 1}},
		{"dim=256,cols=10000,axis=0", Layout{1, 256, 10000}},
		{"rows=32,dim=128,axis=-1", Layout{32, 128, 1}},
	} {
		b.Run(fmt.Sprintf("float32/%s", c.name), func(b *testing.B) { benchCosine[float32](b, c.l, FloorSquared) })
		b.Run(fmt.Sprintf("float64/%s", c.name), func(b *testing.B) { benchCosine[float64](b, c.l, FloorSquared) })
	}
}

// BenchmarkCosineRules runs BenchmarkCosine's float32 rows under each ε
// rule: FloorNorm and AddSquared finish their blocks a slice at a time.
func BenchmarkCosineRules(b *testing.B) {
	for _, rule := range epsRules {
		for _, l := range []Layout{{10000, 256, 1}, {32, 128, 1}} {
			b.Run(fmt.Sprintf("%s/rows=%d,dim=%d", ruleName(rule), l.Outer, l.Len), func(b *testing.B) {
				benchCosine[float32](b, l, rule)
			})
		}
	}
}

func BenchmarkL2Normalize(b *testing.B) {
	l := Layout{10000, 256, 1}
	x := randomSlice[float32](l.Size(), 3)
	out := make([]float32, l.Size())
	b.SetBytes(int64(4 * l.Size()))
	for b.Loop() {
		if err := L2Normalize(Contiguous(x, l), out, float32(DefaultEpsilon)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReduce(b *testing.B) {
	losses, weights := randomSlice[float32](100000, 4), randomSlice[float32](100000, 5)
	b.SetBytes(8 * 100000)
	for b.Loop() {
		if _, err := Reduce(losses, weights, SumByNonzeroWeights); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMemoryCeiling reads two 100 MB arrays once, with the kernel
// set's row sums split over 1 and 2 goroutines and nothing else: what this
// machine's memory gives, against which BenchmarkCosine's scaling over
// workers is to be read.
func BenchmarkMemoryCeiling(b *testing.B) {
	const n = 100000 * 256
	x, y := randomSlice[float32](n, 6), randomSlice[float32](n, 7)
	for _, w := range []int{1, 2} {
		b.Run(fmt.Sprintf("goroutines=%d", w), func(b *testing.B) {
			b.SetBytes(8 * n)
			for b.Loop() {
				var wg sync.WaitGroup
				for k := range w {
					lo, hi := n*k/w, n*(k+1)/w
					wg.Go(func() {
						for o := lo; o < hi; o += 1 << 16 {
							unitSums(x[o:min(o+1<<16, hi)], y[o:min(o+1<<16, hi)])
						}
					})
				}
				wg.Wait()
			}
		})
	}
}

// BenchmarkCosineGrad is value_and_grad's core: the value and both
// gradients, written into arrays reused across calls.
func BenchmarkCosineGrad(b *testing.B) {
	l := Layout{10000, 256, 1}
	x, y := randomSlice[float32](l.Size(), 1), randomSlice[float32](l.Size(), 2)
	upstream, value := make([]float32, l.Slices()), make([]float32, l.Slices())
	for i := range upstream {
		upstream[i] = 1
	}
	dx, dy := make([]float32, l.Size()), make([]float32, l.Size())
	b.SetBytes(int64(16 * l.Size()))
	for b.Loop() {
		if err := CosineGrad(Contiguous(x, l), Contiguous(y, l), NegCos, upstream, value, dx, dy, FloorSquared, float32(DefaultEpsilon)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRowShapes runs the row-wise shapes of the speed table on one
// worker, float32, for profiling the fixed cost of a row (go test -bench
// RowShapes -cpuprofile).
func BenchmarkRowShapes(b *testing.B) {
	previous := Workers()
	SetWorkers(1)
	defer SetWorkers(previous)
	for _, l := range []Layout{{32, 128, 1}, {1024, 256, 1}, {100000, 256, 1}, {1000000, 64, 1}, {312500, 8, 1}, {10000, 4096, 1}} {
		b.Run(fmt.Sprintf("rows=%d,dim=%d", l.Outer, l.Len), func(b *testing.B) { benchCosine[float32](b, l, FloorSquared) })
	}
}
