package cosloss

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"
)

// The references here are the peers' formulas over the full B×N matrix in
// float64, with math.Exp and math.Log: sentence-transformers'
// cross-entropy of scale·cos_sim (MultipleNegativesRankingLoss) and
// optax's ntxent, both with TensorFlow's max(Σx², ε) norm floor.

type refContrastive struct {
	losses []float64
	dA, dC [][]float64
}

func refInvNorm(x []float64, eps float64) (r float64, keep bool) {
	var ss float64
	for _, v := range x {
		ss += v * v
	}
	return 1 / math.Sqrt(math.Max(ss, eps)), ss >= eps
}

func refDot(x, y []float64) float64 {
	var s float64
	for k := range x {
		s += x[k] * y[k]
	}
	return s
}

// refCosines is cos(a_i, c_j) with the norm floor, and the inverse norms.
func refCosines(a, c [][]float64, eps float64) (cos [][]float64, ra, rc []float64, ka, kc []bool) {
	ra, ka = make([]float64, len(a)), make([]bool, len(a))
	rc, kc = make([]float64, len(c)), make([]bool, len(c))
	for i := range a {
		ra[i], ka[i] = refInvNorm(a[i], eps)
	}
	for j := range c {
		rc[j], kc[j] = refInvNorm(c[j], eps)
	}
	cos = make([][]float64, len(a))
	for i := range a {
		cos[i] = make([]float64, len(c))
		for j := range c {
			cos[i][j] = refDot(a[i], c[j]) * ra[i] * rc[j]
		}
	}
	return cos, ra, rc, ka, kc
}

// refBackward turns G = dL/dcos into the gradients of a and c.
func refBackward(a, c [][]float64, g, cos [][]float64, ra, rc []float64, ka, kc []bool) (dA, dC [][]float64) {
	d := 0
	if len(a) > 0 {
		d = len(a[0])
	}
	dA, dC = zeros(len(a), d), zeros(len(c), d)
	for i := range a {
		for j := range c {
			for k := 0; k < d; k++ {
				dA[i][k] += g[i][j] * ra[i] * rc[j] * c[j][k]
				dC[j][k] += g[i][j] * ra[i] * rc[j] * a[i][k]
				if ka[i] {
					dA[i][k] -= g[i][j] * cos[i][j] * ra[i] * ra[i] * a[i][k]
				}
				if kc[j] {
					dC[j][k] -= g[i][j] * cos[i][j] * rc[j] * rc[j] * c[j][k]
				}
			}
		}
	}
	return dA, dC
}

func zeros(n, d int) [][]float64 {
	m := make([][]float64, n)
	for i := range m {
		m[i] = make([]float64, d)
	}
	return m
}

func refMNRL(a, c [][]float64, scale, eps float64, coef []float64) refContrastive {
	cos, ra, rc, ka, kc := refCosines(a, c, eps)
	losses := make([]float64, len(a))
	g := zeros(len(a), len(c))
	for i := range a {
		m := math.Inf(-1)
		for j := range c {
			m = math.Max(m, scale*cos[i][j])
		}
		var sum float64
		for j := range c {
			sum += math.Exp(scale*cos[i][j] - m)
		}
		losses[i] = m + math.Log(sum) - scale*cos[i][i]
		for j := range c {
			p := math.Exp(scale*cos[i][j]-m) / sum
			if i == j {
				p--
			}
			g[i][j] = coefAt(coef, i) * p * scale
		}
	}
	dA, dC := refBackward(a, c, g, cos, ra, rc, ka, kc)
	return refContrastive{losses, dA, dC}
}

func coefAt(coef []float64, i int) float64 {
	if len(coef) == 1 {
		return coef[0]
	}
	return coef[i]
}

// refNTXent is optax's ntxent per anchor (the sum over its positive pairs)
// and the gradient of Σ coef·loss_i with respect to x.
func refNTXent(x [][]float64, labels []int64, tau, eps float64, coef []float64) refContrastive {
	cos, r, _, keep, _ := refCosines(x, x, eps)
	b := len(x)
	losses := make([]float64, b)
	g := zeros(b, b)
	for i := range b {
		m := math.Inf(-1)
		for j := range b {
			if j != i {
				m = math.Max(m, cos[i][j]/tau)
			}
		}
		var denom float64
		for k := range b {
			if labels[k] != labels[i] {
				denom += math.Exp(cos[i][k]/tau - m)
			}
		}
		for j := range b {
			if j == i || labels[j] != labels[i] {
				continue
			}
			e := math.Exp(cos[i][j]/tau - m)
			losses[i] += math.Log(denom+e) - (cos[i][j]/tau - m)
			g[i][j] += coefAt(coef, i) * (e/(denom+e) - 1) / tau
			for k := range b {
				if labels[k] != labels[i] {
					g[i][k] += coefAt(coef, i) * math.Exp(cos[i][k]/tau-m) / (denom + e) / tau
				}
			}
		}
	}
	dA, dC := refBackward(x, x, g, cos, r, r, keep, keep)
	for i := range dA {
		for k := range dA[i] {
			dA[i][k] += dC[i][k]
		}
	}
	return refContrastive{losses, dA, nil}
}

func gaussianRows(r *rand.Rand, n, d int) [][]float64 {
	m := zeros(n, d)
	for i := range m {
		for k := range m[i] {
			m[i][k] = r.NormFloat64()
		}
	}
	return m
}

// dense packs rows into a T matrix with the given row stride (≥ d).
func dense[T Float](rows [][]float64, d, stride int) Matrix[T] {
	data := make([]T, max(len(rows)*stride, 0))
	for i, row := range rows {
		for k, v := range row {
			data[i*stride+k] = T(v)
		}
	}
	return Matrix[T]{Data: data, Rows: len(rows), Cols: d, Stride: stride}
}

func widenRows[T Float](m Matrix[T]) [][]float64 {
	out := zeros(m.Rows, m.Cols)
	for i := range out {
		for k := range out[i] {
			out[i][k] = float64(m.At(i, k))
		}
	}
	return out
}

func nearly(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if !(math.Abs(got-want) <= tol*(1+math.Abs(want))) {
		t.Fatalf("%s = %v, want %v (tolerance %g)", what, got, want, tol)
	}
}

func nearlyRows(t *testing.T, what string, got, want [][]float64, tol float64) {
	t.Helper()
	nearlyRowsAbove(t, what, got, want, tol, 0)
}

// nearlyRowsAbove is nearlyRows with at least floor as the rows' scale:
// where terms cancel (a gradient of 0), their size is the yardstick.
func nearlyRowsAbove(t *testing.T, what string, got, want [][]float64, tol, floor float64) {
	t.Helper()
	scale := floor
	for i := range want {
		for _, v := range want[i] {
			scale = math.Max(scale, math.Abs(v))
		}
	}
	for i := range want {
		for k := range want[i] {
			if !(math.Abs(got[i][k]-want[i][k]) <= tol*(scale+1e-300)+tol*1e-6) {
				t.Fatalf("%s[%d][%d] = %v, want %v (tolerance %g of %g)", what, i, k, got[i][k], want[i][k], tol, scale)
			}
		}
	}
}

// mnrlCase is MultipleNegativesRanking's inputs: anchors, positives and k
// columns of hard negatives (an anchor's negatives in one row of k·d).
type mnrlCase struct {
	a, p [][]float64
	neg  [][][]float64 // neg[t][i]: anchor i's t-th hard negative
	d    int
}

func newMNRLCase(r *rand.Rand, b, k, d int) mnrlCase {
	c := mnrlCase{a: gaussianRows(r, b, d), p: gaussianRows(r, b, d), d: d}
	for range k {
		c.neg = append(c.neg, gaussianRows(r, b, d))
	}
	return c
}

// candidates is sentence-transformers' torch.cat([positives, neg_1, …]).
func (c mnrlCase) candidates() [][]float64 {
	all := append([][]float64{}, c.p...)
	for _, n := range c.neg {
		all = append(all, n...)
	}
	return all
}

// matrices lays the case out as the binding does: anchors and positives
// with padded strides, negatives as one B×(k·d) array whose column t is
// segment t+1 (row stride k·d).
func mnrlMatrices[T Float](c mnrlCase) (a Matrix[T], segs []Matrix[T]) {
	b, k := len(c.a), len(c.neg)
	a = dense[T](c.a, c.d, c.d+3)
	segs = []Matrix[T]{dense[T](c.p, c.d, c.d+1)}
	if k > 0 {
		rows := zeros(b, k*c.d)
		for t, n := range c.neg {
			for i := range n {
				copy(rows[i][t*c.d:], n[i])
			}
		}
		all := dense[T](rows, k*c.d, k*c.d)
		for t := range k {
			segs = append(segs, Matrix[T]{Data: all.Data[t*c.d:], Rows: b, Cols: c.d, Stride: k * c.d})
		}
	}
	return a, segs
}

// grads is a call's gradients: the anchors' and each candidate segment's.
type grads[T Float] struct {
	*Gradients[T]
	Candidates []Matrix[T]
}

func gradMatrices[T Float](a Matrix[T], segs []Matrix[T], coef []float64) grads[T] {
	g := grads[T]{Gradients: &Gradients[T]{Coef: coef,
		Anchors: Matrix[T]{Data: make([]T, len(a.Data)), Rows: a.Rows, Cols: a.Cols, Stride: a.Stride}}}
	for _, s := range segs {
		g.Candidates = append(g.Candidates, Matrix[T]{Data: make([]T, len(s.Data)), Rows: s.Rows, Cols: s.Cols, Stride: s.Stride})
	}
	return g
}

func segRows[T Float](segs []Matrix[T]) [][]float64 {
	var all [][]float64
	for _, s := range segs {
		all = append(all, widenRows(s)...)
	}
	return all
}

func randomCoef(r *rand.Rand, b int) []float64 {
	coef := make([]float64, b)
	for i := range coef {
		coef[i] = r.Float64() + 0.1
	}
	return coef
}

func testMNRLAgainstReference[T Float](t *testing.T, tol float64) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, shape := range []struct{ b, k, d int }{{1, 0, 3}, {5, 0, 4}, {7, 1, 5}, {6, 3, 2}, {12, 2, 9}, {3, 0, 0}} {
		c := newMNRLCase(r, shape.b, shape.k, shape.d)
		if shape.b > 2 {
			c.a[1] = make([]float64, c.d)           // a zero anchor
			c.p[2] = append([]float64{}, c.a[0]...) // a duplicate
		}
		a, segs := mnrlMatrices[T](c)
		coef := randomCoef(r, shape.b)
		g := gradMatrices(a, segs, coef)
		losses := make([]float64, shape.b)
		if err := MultipleNegativesRanking(a, segs, 20, T(1e-12), losses, g.Gradients, g.Candidates); err != nil {
			t.Fatal(err)
		}
		want := refMNRL(widenRows(a), segRows(segs), 20, 1e-12, coef)
		for i := range losses {
			nearly(t, "loss", losses[i], want.losses[i], tol)
		}
		nearlyRows(t, "dA", widenRows(g.Anchors), want.dA, tol)
		nearlyRows(t, "dC", segRows(g.Candidates), want.dC, tol)
		// Values alone give the same losses.
		again := make([]float64, shape.b)
		if err := MultipleNegativesRanking(a, segs, 20, T(1e-12), again, nil, nil); err != nil {
			t.Fatal(err)
		}
		for i := range again {
			if again[i] != losses[i] {
				t.Fatalf("loss %d: %v without gradients, %v with", i, again[i], losses[i])
			}
		}
	}
}

func TestMultipleNegativesRankingAgainstReference(t *testing.T) {
	t.Run("float64", func(t *testing.T) { testMNRLAgainstReference[float64](t, 1e-12) })
	t.Run("float32", func(t *testing.T) { testMNRLAgainstReference[float32](t, 2e-5) })
}

func testNTXentAgainstReference[T Float](t *testing.T, tol float64) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, tc := range []struct {
		labels []int64
		d      int
	}{
		{[]int64{0, 0, 1, 1}, 3},
		{[]int64{0, 1, 0, 2, 1, 0, 3}, 5}, // label 2 and 3 are singletons: anchors without positives
		{[]int64{4, 4, 4}, 2},             // no negatives
		{[]int64{0}, 4},                   // one row: no pairs at all
		{[]int64{1, 2, 3}, 4},             // singletons only
	} {
		b := len(tc.labels)
		x := dense[T](gaussianRows(r, b, tc.d), tc.d, tc.d+2)
		if b > 2 {
			copy(x.Data[2*x.Stride:2*x.Stride+tc.d], make([]T, tc.d)) // a zero row
		}
		coef := randomCoef(r, b)
		g := gradMatrices(x, nil, coef)
		losses := make([]float64, b)
		eps := T(math.Nextafter32(1, 2) - 1)
		if err := NTXent(x, tc.labels, 0.07, eps, losses, g.Gradients); err != nil {
			t.Fatal(err)
		}
		want := refNTXent(widenRows(x), tc.labels, 0.07, float64(eps), coef)
		for i := range losses {
			nearly(t, "loss", losses[i], want.losses[i], tol)
		}
		nearlyRows(t, "dx", widenRows(g.Anchors), want.dA, tol)
	}
}

func TestNTXentAgainstReference(t *testing.T) {
	t.Run("float64", func(t *testing.T) { testNTXentAgainstReference[float64](t, 1e-11) })
	t.Run("float32", func(t *testing.T) { testNTXentAgainstReference[float32](t, 5e-5) })
}

// The analytic gradients against central differences of the float64 losses.
func TestContrastiveFiniteDifferences(t *testing.T) {
	onceForAllKernels(t)
	r := rand.New(rand.NewPCG(11, 12))
	c := newMNRLCase(r, 4, 1, 3)
	a, segs := mnrlMatrices[float64](c)
	coef := randomCoef(r, 4)
	total := func() float64 {
		losses := make([]float64, 4)
		if err := MultipleNegativesRanking(a, segs, 5, 1e-12, losses, nil, nil); err != nil {
			t.Fatal(err)
		}
		var s float64
		for i, l := range losses {
			s += coef[i] * l
		}
		return s
	}
	g := gradMatrices(a, segs, coef)
	if err := MultipleNegativesRanking(a, segs, 5, 1e-12, make([]float64, 4), g.Gradients, g.Candidates); err != nil {
		t.Fatal(err)
	}
	check := func(name string, x, dx Matrix[float64], f func() float64) {
		for i := range x.Rows {
			for k := range x.Cols {
				at := &x.Data[i*x.Stride+k]
				v, h := *at, 1e-6
				*at = v + h
				up := f()
				*at = v - h
				down := f()
				*at = v
				nearly(t, name, dx.At(i, k), (up-down)/(2*h), 1e-6)
			}
		}
	}
	check("dA", a, g.Anchors, total)
	for s := range segs {
		check("dC", segs[s], g.Candidates[s], total)
	}

	labels := []int64{0, 1, 0, 1, 2}
	x := dense[float64](gaussianRows(r, 5, 3), 3, 3)
	nt := func() float64 {
		losses := make([]float64, 5)
		if err := NTXent(x, labels, 0.5, 1e-12, losses, nil); err != nil {
			t.Fatal(err)
		}
		var s float64
		for _, l := range losses {
			s += 0.3 * l
		}
		return s
	}
	gx := gradMatrices(x, nil, []float64{0.3})
	if err := NTXent(x, labels, 0.5, 1e-12, make([]float64, 5), gx.Gradients); err != nil {
		t.Fatal(err)
	}
	check("dx", x, gx.Anchors, nt)
}

// results runs MultipleNegativesRanking with gradients and returns every output.
func mnrlOutputs[T Float](t *testing.T, a Matrix[T], segs []Matrix[T], coef []float64) ([]float64, []T) {
	t.Helper()
	g := gradMatrices(a, segs, coef)
	losses := make([]float64, a.Rows)
	if err := MultipleNegativesRanking(a, segs, 20, T(1e-12), losses, g.Gradients, g.Candidates); err != nil {
		t.Fatal(err)
	}
	out := append([]T{}, g.Anchors.Data...)
	for _, s := range g.Candidates {
		out = append(out, s.Data...)
	}
	return losses, out
}

func sameContrastiveBits[T Float](t *testing.T, what string, l1, l2 []float64, o1, o2 []T) {
	t.Helper()
	for i := range l1 {
		if math.Float64bits(l1[i]) != math.Float64bits(l2[i]) {
			t.Fatalf("%s: loss %d is %v, then %v", what, i, l1[i], l2[i])
		}
	}
	for i := range o1 {
		if math.Float64bits(float64(o1[i])) != math.Float64bits(float64(o2[i])) {
			t.Fatalf("%s: gradient element %d is %v, then %v", what, i, o1[i], o2[i])
		}
	}
}

// The block size and the worker count change no bit: every sum runs in one
// order whatever the split (the column sums and dC across blocks too).
func testContrastiveBits[T Float](t *testing.T) {
	defer SetWorkers(Workers())
	defer SetContrastiveWorkingSet(SetContrastiveWorkingSet(0))
	r := rand.New(rand.NewPCG(13, 14))
	// Products of 2^20 multiply-adds: large enough to split over workers.
	c := newMNRLCase(r, 128, 1, 32)
	a, segs := mnrlMatrices[T](c)
	coef := randomCoef(r, 128)
	SetWorkers(1)
	l0, o0 := mnrlOutputs(t, a, segs, coef)
	for _, ws := range []int{1, 0} { // 8-row blocks, one block
		SetContrastiveWorkingSet(ws)
		for _, w := range []int{1, 2, 3} {
			SetWorkers(w)
			l, o := mnrlOutputs(t, a, segs, coef)
			sameContrastiveBits(t, "MultipleNegativesRanking", l0, l, o0, o)
		}
	}
	labels := make([]int64, 200)
	for i := range labels {
		labels[i] = int64(r.IntN(40))
	}
	x := dense[T](gaussianRows(r, 200, 40), 40, 40)
	run := func() ([]float64, []T) {
		g := gradMatrices(x, nil, []float64{0.01})
		losses := make([]float64, 200)
		if err := NTXent(x, labels, 0.07, T(1e-7), losses, g.Gradients); err != nil {
			t.Fatal(err)
		}
		return losses, g.Anchors.Data
	}
	// NTXent's gradient meets its two sides (x as anchor, x as candidate)
	// in an order that depends on the block size, so only the worker count
	// keeps every bit; across block sizes the results agree closely.
	var whole []T
	for _, ws := range []int{0, 1} {
		SetContrastiveWorkingSet(ws)
		SetWorkers(1)
		n0, x0 := run()
		for _, w := range []int{2, 3} {
			SetWorkers(w)
			n, xo := run()
			sameContrastiveBits(t, "NTXent", n0, n, x0, xo)
		}
		if whole == nil {
			whole = x0
			continue
		}
		for i := range x0 {
			nearly(t, "NTXent gradient in 8-row blocks", float64(x0[i]), float64(whole[i]), 1e-5)
		}
	}
}

func TestContrastiveBitsAcrossBlocksAndWorkers(t *testing.T) {
	onceForAllKernels(t) // slow with the reference MatMul; the Python suite crosses kernel sets
	t.Run("float32", testContrastiveBits[float32])
	t.Run("float64", testContrastiveBits[float64])
}

// A symmetric loss is two calls into one set of gradients (Add).
func TestContrastiveGradientsAdd(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	c := newMNRLCase(r, 6, 0, 4)
	a, segs := mnrlMatrices[float64](c)
	coef := randomCoef(r, 6)
	g := gradMatrices(a, segs, coef)
	losses := make([]float64, 6)
	if err := MultipleNegativesRanking(a, segs, 20, 1e-12, losses, g.Gradients, g.Candidates); err != nil {
		t.Fatal(err)
	}
	back := &Gradients[float64]{Coef: coef, Anchors: g.Candidates[0], Add: true}
	if err := MultipleNegativesRanking(segs[0], []Matrix[float64]{a}, 20, 1e-12, losses, back, []Matrix[float64]{g.Anchors}); err != nil {
		t.Fatal(err)
	}
	fwd := refMNRL(c.a, c.p, 20, 1e-12, coef)
	bwd := refMNRL(c.p, c.a, 20, 1e-12, coef)
	for i := range fwd.dA {
		for k := range fwd.dA[i] {
			fwd.dA[i][k] += bwd.dC[i][k]
			fwd.dC[i][k] += bwd.dA[i][k]
		}
	}
	nearlyRows(t, "dA", widenRows(g.Anchors), fwd.dA, 1e-12)
	nearlyRows(t, "dP", widenRows(g.Candidates[0]), fwd.dC, 1e-12)
}

func TestContrastiveRejects(t *testing.T) {
	a := Dense(make([]float64, 12), 4, 3)
	short := Dense(make([]float64, 9), 3, 3)
	for name, err := range map[string]error{
		"fewer candidates": MultipleNegativesRanking(a, []Matrix[float64]{short}, 20, 1e-12, make([]float64, 4), nil, nil),
		"columns":          MultipleNegativesRanking(a, []Matrix[float64]{Dense(make([]float64, 8), 4, 2)}, 20, 1e-12, make([]float64, 4), nil, nil),
		"losses":           MultipleNegativesRanking(a, []Matrix[float64]{a}, 20, 1e-12, make([]float64, 3), nil, nil),
		"coef": MultipleNegativesRanking(a, []Matrix[float64]{a}, 20, 1e-12, make([]float64, 4),
			&Gradients[float64]{Coef: make([]float64, 2), Anchors: a}, []Matrix[float64]{a}),
		"grad shape": MultipleNegativesRanking(a, []Matrix[float64]{a}, 20, 1e-12, make([]float64, 4),
			&Gradients[float64]{Coef: make([]float64, 1), Anchors: short}, []Matrix[float64]{a}),
		"candidate grads": MultipleNegativesRanking(a, []Matrix[float64]{a}, 20, 1e-12, make([]float64, 4),
			&Gradients[float64]{Coef: make([]float64, 1), Anchors: a}, nil),
		"labels":     NTXent(a, []int64{1, 2}, 0.07, 1e-12, make([]float64, 4), nil),
		"short data": NTXent(Matrix[float64]{Data: make([]float64, 5), Rows: 4, Cols: 3, Stride: 3}, make([]int64, 4), 0.07, 1e-12, make([]float64, 4), nil),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// No anchors: nothing to do, and cleared gradients.
	empty := Matrix[float64]{Cols: 3, Stride: 3}
	g := grads[float64]{&Gradients[float64]{Coef: []float64{1}, Anchors: empty}, []Matrix[float64]{Dense([]float64{1, 2, 3}, 1, 3)}}
	if err := MultipleNegativesRanking(empty, []Matrix[float64]{Dense([]float64{4, 5, 6}, 1, 3)}, 20, 1e-12, nil, g.Gradients, g.Candidates); err != nil {
		t.Fatal(err)
	}
	if g.Candidates[0].Data[0] != 0 {
		t.Error("an empty batch left the candidate gradients as they were")
	}
}

// B = 4096, d = 64 with gradients stays within the working set and O(B·d)
// of allocation: no B×B matrix (128 MiB) is ever made. The working set is
// set to 2 MiB (32-row blocks), which makes the bound tighter and keeps
// each block's products in cache. While MatMul is the reference loop
// (6–30 ns a multiply-add on a shared machine: 20–90 s for this case), d
// drops to 8 so that the suite stays short; the memory bound depends on B.
func TestContrastiveMemory(t *testing.T) {
	// Memory does not depend on the kernel set; time does, a lot (the
	// portable set emulates the FMA): run under the fastest set only.
	if sets := Kernels(); Kernel() != sets[len(sets)-1] {
		t.Skip("independent of the kernel set: runs under", sets[len(sets)-1])
	}
	if raceEnabled {
		t.Skip("slow with the reference MatMul under the race detector")
	}
	const b, workingSet = 4096, 2 << 20
	defer SetContrastiveWorkingSet(SetContrastiveWorkingSet(workingSet))
	d := 64
	if perFMA := timeMatMul(); perFMA*3*b*b*64 > 3e9 { // more than 3 s
		t.Logf("MatMul takes %.1f ns a multiply-add: d=8 instead of 64", perFMA)
		d = 8
	}
	r := rand.New(rand.NewPCG(17, 18))
	// float64: the reference MatMul's float32 FMA is emulated, 4× slower.
	data := func() Matrix[float64] {
		m := Dense(make([]float64, b*d), b, d)
		for i := range m.Data {
			m.Data[i] = r.NormFloat64()
		}
		return m
	}
	a, p := data(), data()
	g := grads[float64]{&Gradients[float64]{Coef: []float64{1.0 / b}, Anchors: Dense(make([]float64, b*d), b, d)},
		[]Matrix[float64]{Dense(make([]float64, b*d), b, d)}}
	losses := make([]float64, b)
	segs := []Matrix[float64]{p}
	// A first call sets up MatMul's packing buffers, which every product
	// of the process shares; then the call's own scratch is dropped, so
	// that the call measured allocates what a first call of its own does.
	if err := MultipleNegativesRanking(a, segs, 20, 1e-12, losses, g.Gradients, g.Candidates); err != nil {
		t.Fatal(err)
	}
	workCache[float64]().Store(nil)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	if err := MultipleNegativesRanking(a, segs, 20, 1e-12, losses, g.Gradients, g.Candidates); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	allocated := after.TotalAlloc - before.TotalAlloc
	// The candidates' packed copies (contrastivePrepackBytes) are O(B·d) too.
	packed := 8 * (prepackedLen[float64](d, b) + prepackedLen[float64](b, d))
	limit := uint64(workingSet + 64*(b+b) + 8*b*d + packed)
	if allocated > limit {
		t.Errorf("B=%d, d=%d allocated %d bytes, more than the working set and O(B·d) (%d)", b, d, allocated, limit)
	}
	t.Logf("B=%d, d=%d: allocated %.1f MiB (a B×B float64 matrix is %d MiB)", b, d,
		float64(allocated)/(1<<20), b*b*8>>20)
	if math.IsNaN(losses[0]) || math.IsNaN(g.Anchors.Data[0]) {
		t.Error("NaN loss or gradient")
	}
}

// timeMatMul is the nanoseconds one float64 multiply-add of MatMul takes.
func timeMatMul() float64 {
	const m, n, k = 64, 256, 64
	a, b, c := Dense(make([]float64, m*k), m, k), Dense(make([]float64, n*k), n, k), Dense(make([]float64, m*n), m, n)
	start := time.Now()
	if err := MatMul(c, a, NoTrans, b, Trans, false); err != nil {
		panic(err)
	}
	return float64(time.Since(start).Nanoseconds()) / (m * n * k)
}

// FuzzContrastive checks both losses and their gradients against the
// float64 references on arbitrary rows and shapes, and that nothing panics.
func FuzzContrastive(f *testing.F) {
	f.Add([]byte{0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 0, 0, 0, 0, 128, 63}, uint8(2), uint8(1), uint8(3))
	f.Add(make([]byte, 96), uint8(3), uint8(0), uint8(1))
	f.Fuzz(func(t *testing.T, raw []byte, dimSeed, negSeed, labelSeed uint8) {
		data := floatsFrom(raw)
		d := 1 + int(dimSeed)%4
		k := int(negSeed) % 3
		b := len(data) / (d * (2 + k))
		if b == 0 || b > 24 {
			return
		}
		rows := func(off int) [][]float64 {
			m := zeros(b, d)
			for i := range m {
				for c := range m[i] {
					// Moderate values: the float64 reference must stay exact enough.
					m[i][c] = math.Max(-1e3, math.Min(1e3, float64(data[off+i*d+c])))
				}
			}
			return m
		}
		cs := mnrlCase{a: rows(0), p: rows(b * d), d: d}
		for t := range k {
			cs.neg = append(cs.neg, rows((2+t)*b*d))
		}
		a, segs := mnrlMatrices[float64](cs)
		coef := []float64{1.0 / float64(b)}
		g := gradMatrices(a, segs, coef)
		losses := make([]float64, b)
		if err := MultipleNegativesRanking(a, segs, 20, 1e-12, losses, g.Gradients, g.Candidates); err != nil {
			t.Fatal(err)
		}
		want := refMNRL(cs.a, cs.candidates(), 20, 1e-12, coef)
		for i := range losses {
			nearly(t, "loss", losses[i], want.losses[i], 1e-9)
		}
		// A gradient's terms are about scale·coef·r·(r|c| = 1) each.
		var rmax float64
		for _, row := range append(cs.a, cs.candidates()...) {
			r, _ := refInvNorm(row, 1e-12)
			rmax = math.Max(rmax, r)
		}
		floor := 2 * 20 * coef[0] * rmax
		nearlyRowsAbove(t, "dA", widenRows(g.Anchors), want.dA, 1e-9, floor)
		nearlyRowsAbove(t, "dC", segRows(g.Candidates), want.dC, 1e-9, floor)

		labels := make([]int64, b)
		for i := range labels {
			labels[i] = int64((i * int(labelSeed+1)) % 3)
		}
		x := dense[float64](cs.a, d, d)
		gx := gradMatrices(x, nil, coef)
		if err := NTXent(x, labels, 0.5, 1e-12, losses, gx.Gradients); err != nil {
			t.Fatal(err)
		}
		wantX := refNTXent(cs.a, labels, 0.5, 1e-12, coef)
		for i := range losses {
			nearly(t, "ntxent loss", losses[i], wantX.losses[i], 1e-9)
		}
		nearlyRowsAbove(t, "dx", widenRows(gx.Anchors), wantX.dA, 1e-9, 2*2*floor*float64(b)/20) // 1/τ = 2, b positives
	})
}
