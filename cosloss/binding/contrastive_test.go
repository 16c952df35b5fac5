package binding

import (
	"math"
	"runtime"
	"testing"

	"github.com/cosloss/cosloss/cosloss"
)

// Two anchors against their positives and a (B, 2, d) block of negatives:
// the same losses and gradients as the core's segments called directly.
func TestMultipleNegativesRankingThroughAddresses(t *testing.T) {
	var p runtime.Pinner
	defer p.Unpin()
	const b, k, d = 2, 2, 3
	a := []float64{1, 0, 2, 0, 1, 1}
	pos := []float64{1, 1, 2, -1, 1, 0}
	neg := []float64{0, 1, 0, 3, 1, 1, 1, 0, -1, 2, 2, 2} // (B, k, d)
	losses, coef := make([]float64, b), []float64{0.5}
	da, dp, dn := make([]float64, b*d), make([]float64, b*d), make([]float64, b*k*d)
	ok(t, MultipleNegativesRanking(Float64, addr(&p, a), len(a), b, d, d, addr(&p, pos), len(pos), b, d,
		addr(&p, neg), len(neg), b, k, k*d, d, 20, 1e-12, addr(&p, losses), b, addr(&p, coef), 1,
		addr(&p, da), len(da), addr(&p, dp), len(dp), addr(&p, dn), len(dn), 0))

	segs := []cosloss.Matrix[float64]{cosloss.Dense(pos, b, d)}
	wantN := [][]float64{make([]float64, b*d), make([]float64, b*d)}
	for col := range k {
		segs = append(segs, cosloss.Matrix[float64]{Data: neg[col*d:], Rows: b, Cols: d, Stride: k * d})
	}
	g := &cosloss.Gradients[float64]{Coef: coef, Anchors: cosloss.Dense(make([]float64, b*d), b, d)}
	dc := []cosloss.Matrix[float64]{cosloss.Dense(make([]float64, b*d), b, d),
		cosloss.Dense(wantN[0], b, d), cosloss.Dense(wantN[1], b, d)}
	want := make([]float64, b)
	if err := cosloss.MultipleNegativesRanking(cosloss.Dense(a, b, d), segs, 20, 1e-12, want, g, dc); err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if losses[i] != want[i] {
			t.Errorf("loss %d: %v, want %v", i, losses[i], want[i])
		}
	}
	for i := range da {
		if da[i] != g.Anchors.Data[i] || dp[i] != dc[0].Data[i] {
			t.Errorf("gradient %d differs", i)
		}
	}
	for i := range b {
		for col := range k {
			for c := range d {
				if dn[(i*k+col)*d+c] != wantN[col][i*d+c] {
					t.Errorf("negative gradient (%d, %d, %d) differs", i, col, c)
				}
			}
		}
	}
	// A short buffer is an error, not a crash.
	failsWith(t, "short negatives", MultipleNegativesRanking(Float64, addr(&p, a), len(a), b, d, d, addr(&p, pos),
		len(pos), b, d, addr(&p, neg), 5, b, k, k*d, d, 20, 1e-12, addr(&p, losses), b, 0, 0, 0, 0, 0, 0, 0, 0, 0),
		"holds")
	failsWith(t, "dtype", MultipleNegativesRanking(16, addr(&p, a), len(a), b, d, d, addr(&p, pos),
		len(pos), b, d, 0, 0, 0, 0, 0, 0, 20, 1e-12, addr(&p, losses), b, 0, 0, 0, 0, 0, 0, 0, 0, 0), "dtype")
}

func TestNTXentThroughAddresses(t *testing.T) {
	var p runtime.Pinner
	defer p.Unpin()
	x := []float32{1, 0, 0.9, 0.1, 0, 1, 0.2, 1}
	labels := []int64{0, 0, 1, 1}
	losses, coef := make([]float64, 4), []float64{0.25}
	dx := make([]float32, 8)
	ok(t, NTXent(Float32, addr(&p, x), 8, 4, 2, 2, addr64(&p, labels), 4, 0.07, 1.1920929e-07,
		addr(&p, losses), 4, addr(&p, coef), 1, addr(&p, dx), 8, 0))
	for i, l := range losses {
		if !(l > 0) || math.IsInf(l, 0) {
			t.Errorf("loss %d = %v", i, l)
		}
	}
	failsWith(t, "labels", NTXent(Float32, addr(&p, x), 8, 4, 2, 2, addr64(&p, labels), 3, 0.07, 1e-7,
		addr(&p, losses), 4, 0, 0, 0, 0, 0), "labels")
}

// Once its scratch is large enough, a call on one worker allocates nothing
// on the Go heap (a fork()ed child runs with the collector off).
func TestContrastiveCallsAllocateNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	defer cosloss.SetWorkers(cosloss.Workers())
	cosloss.SetWorkers(1)
	var p runtime.Pinner
	defer p.Unpin()
	const b, k, d = 6, 2, 5
	f32 := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(i%7) - 3
		}
		return s
	}
	a, pos, neg := f32(b*d), f32(b*d), f32(b*k*d)
	da, dp, dn := f32(b*d), f32(b*d), f32(b*k*d)
	losses, coef := make([]float64, b), []float64{1}
	labels := []int64{0, 1, 0, 1, 2, 2}
	calls := map[string]func() int{
		"MultipleNegativesRanking": func() int {
			return MultipleNegativesRanking(Float32, addr(&p, a), len(a), b, d, d, addr(&p, pos), len(pos), b, d,
				addr(&p, neg), len(neg), b, k, k*d, d, 20, 1e-12, addr(&p, losses), b, addr(&p, coef), 1,
				addr(&p, da), len(da), addr(&p, dp), len(dp), addr(&p, dn), len(dn), 1)
		},
		"MultipleNegativesRanking value": func() int {
			return MultipleNegativesRanking(Float32, addr(&p, a), len(a), b, d, d, addr(&p, pos), len(pos), b, d,
				0, 0, 0, 0, 0, 0, 20, 1e-12, addr(&p, losses), b, 0, 0, 0, 0, 0, 0, 0, 0, 0)
		},
		"NTXent": func() int {
			return NTXent(Float32, addr(&p, a), len(a), b, d, d, addr64(&p, labels), b, 0.07, 1e-7,
				addr(&p, losses), b, addr(&p, coef), 1, addr(&p, da), len(da), 0)
		},
	}
	for name, call := range calls {
		ok(t, call())
		if allocs := testing.AllocsPerRun(20, func() { call() }); allocs != 0 {
			t.Errorf("%s: %v allocations per call", name, allocs)
		}
	}
}
