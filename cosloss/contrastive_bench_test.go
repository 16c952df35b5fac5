package cosloss

import (
	"math/rand/v2"
	"testing"
)

// Small sizes: with the reference MatMul the products dominate; these
// track the row pass (exp, log, the epilogues) and the per-call overhead.
func BenchmarkMultipleNegativesRanking(b *testing.B) {
	const n, d = 256, 64
	r := rand.New(rand.NewPCG(1, 1))
	c := newMNRLCase(r, n, 1, d)
	a, segs := mnrlMatrices[float32](c)
	g := gradMatrices(a, segs, []float64{1.0 / n})
	losses := make([]float64, n)
	b.Run("value", func(b *testing.B) {
		for b.Loop() {
			if err := MultipleNegativesRanking(a, segs, 20, 1e-12, losses, nil, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("value_and_grad", func(b *testing.B) {
		for b.Loop() {
			if err := MultipleNegativesRanking(a, segs, 20, 1e-12, losses, g.Gradients, g.Candidates); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkNTXent(b *testing.B) {
	const n, d = 256, 64
	r := rand.New(rand.NewPCG(2, 2))
	x := dense[float32](gaussianRows(r, n, d), d, d)
	labels := make([]int64, n)
	for i := range labels {
		labels[i] = int64(i / 2)
	}
	g := gradMatrices(x, nil, []float64{1.0 / n})
	losses := make([]float64, n)
	for b.Loop() {
		if err := NTXent(x, labels, 0.07, 1.1920929e-07, losses, g.Gradients); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkExpCanonical(b *testing.B) {
	x, s := -3.7, 0.0
	for b.Loop() {
		s += expCanonical(x)
		x -= 1e-9
	}
	_ = s
}
