package cosloss

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

var epsRules = []EpsRule{FloorSquared, FloorNorm, AddSquared}

func ruleName(r EpsRule) string {
	return [...]string{"FloorSquared", "FloorNorm", "AddSquared"}[r]
}

// ruleEps is the ε each rule's library uses by default: TensorFlow's 1e-12
// on Σx², F.cosine_similarity's 1e-8 on ‖x‖, CosineEmbeddingLoss's 1e-12.
func ruleEps(r EpsRule) float64 {
	if r == FloorNorm {
		return 1e-8
	}
	return 1e-12
}

// refSlice is one slice as the formula references see it: the Len values
// of x and y along the axis, and whether each is one element broadcast
// along it (LenStride 0), whose gradient is then that element's: the sum
// over its copies.
type refSlice struct {
	x, y   []float64
	xb, yb bool
}

// refResult is a slice's value and gradients by the formulas, with the
// size of the terms each sums (the value's and each gradient element's),
// which bounds the rounding error of the code under test.
type refResult struct {
	value, valueScale float64
	dx, dy            []float64
	dxScale, dyScale  []float64
}

func refForm(f Form, c float64) float64 {
	switch f {
	case NegCos:
		return -c
	case OneMinusCos:
		return 1 - c
	case SquaredOneMinusCos:
		return (1 - c) * (1 - c)
	}
	return c
}

func refFormDerivative(f Form, c float64) float64 {
	switch f {
	case NegCos, OneMinusCos:
		return -1
	case SquaredOneMinusCos:
		return 2 * (c - 1)
	}
	return 1
}

// refFloor is the floored norm N(s) that rule divides by, for a sum of
// squares s, and dN/ds as that rule's library differentiates it.
func refFloor(rule EpsRule, s, eps float64) (n, dn float64) {
	switch rule {
	case FloorSquared:
		// TensorFlow: 1/N = rsqrt(max(s, ε)); Maximum's gradient reaches s
		// only where s ≥ ε.
		n = math.Sqrt(math.Max(s, eps))
		if s >= eps {
			dn = 0.5 / math.Sqrt(s)
		}
	case FloorNorm:
		// torch: N = max(√s, ε) clamped under no_grad, so the gradient
		// reaches √s as if unclamped; √s's own gradient is masked to 0 at 0.
		n = math.Max(math.Sqrt(s), eps)
		if s > 0 {
			dn = 0.5 / math.Sqrt(s)
		}
	case AddSquared:
		n = math.Sqrt(s + eps)
		dn = 0.5 / n
	}
	return n, dn
}

// refRule computes c = Σx·y / (N(Σx²)·N(Σy²)), form(c) and, for upstream
// g, the gradients g·form'(c)·dc/dx and ·dc/dy in plain float64 loops,
// with dc/dx_k = y_k/(Nx·Ny) − Σx·y/(Nx²·Ny)·dNx/ds·ds/dx_k. A broadcast
// input's Σ² counts its one element once where the rule norms it before
// broadcasting (TensorFlow, CosineEmbeddingLoss) and Len times where it
// expands it first (F.cosine_similarity).
func refRule(sl refSlice, rule EpsRule, eps float64, form Form, g float64) refResult {
	var d, absD float64
	for k := range sl.x {
		d += sl.x[k] * sl.y[k]
		absD += math.Abs(sl.x[k] * sl.y[k])
	}
	// sumSq is Σv² and, for a broadcast v, how many times its element counts.
	sumSq := func(v []float64, b bool) (s, count float64) {
		if b && rule != FloorNorm {
			return v[0] * v[0], 1
		}
		for _, e := range v {
			s += e * e
		}
		return s, float64(len(v))
	}
	sx, cx := sumSq(sl.x, sl.xb)
	sy, cy := sumSq(sl.y, sl.yb)
	nx, dnx := refFloor(rule, sx, eps)
	ny, dny := refFloor(rule, sy, eps)
	c := d / (nx * ny)
	gf := g * refFormDerivative(form, c)
	r := refResult{value: refForm(form, c), valueScale: absD / (nx * ny)}
	grad := func(v, w []float64, b bool, count, nv, nw, dnv float64) (gr, sc []float64) {
		norm := d / (nv * nv * nw) * dnv
		normAbs := absD / (nv * nv * nw) * dnv
		if b {
			var direct, directAbs float64
			for k := range w {
				direct += w[k] / (nv * nw)
				directAbs += math.Abs(w[k]) / (nv * nw)
			}
			return []float64{gf * (direct - norm*2*v[0]*count)},
				[]float64{math.Abs(gf) * (directAbs + normAbs*2*math.Abs(v[0])*count)}
		}
		gr, sc = make([]float64, len(v)), make([]float64, len(v))
		for k := range v {
			gr[k] = gf * (w[k]/(nv*nw) - norm*2*v[k])
			sc[k] = math.Abs(gf) * (math.Abs(w[k])/(nv*nw) + normAbs*2*math.Abs(v[k]))
		}
		return gr, sc
	}
	r.dx, r.dxScale = grad(sl.x, sl.y, sl.xb, cx, nx, ny, dnx)
	r.dy, r.dyScale = grad(sl.y, sl.x, sl.yb, cy, ny, nx, dny)
	return r
}

// A ruleLayout is a layout with the strides (outer, len, inner) of x and y.
type ruleLayout struct {
	name   string
	l      Layout
	xs, ys [3]int
}

var ruleLayouts = []ruleLayout{
	// More rows than rowBlock: the kernel set's finisher, over two blocks.
	{"rows", Layout{70, 9, 1}, [3]int{9, 1, 0}, [3]int{9, 1, 0}},
	{"axis 1 of 3×6×7", Layout{3, 6, 7}, [3]int{42, 7, 1}, [3]int{42, 7, 1}},
	{"strided x", Layout{5, 8, 1}, [3]int{17, 2, 0}, [3]int{8, 1, 0}},
	{"one y row for all", Layout{6, 9, 1}, [3]int{9, 1, 0}, [3]int{0, 1, 0}},
	{"x broadcast along the axis", Layout{7, 5, 1}, [3]int{1, 0, 0}, [3]int{5, 1, 0}},
	{"y broadcast along axis 1 of 2×5×3", Layout{2, 5, 3}, [3]int{15, 3, 1}, [3]int{3, 0, 1}},
}

func span(l Layout, s [3]int) int {
	return (l.Outer-1)*s[0] + (l.Len-1)*s[1] + (l.Inner-1)*s[2] + 1
}

// ruleData fills x and y for rl with normal values, then gives slices
// zero and tiny vectors (norm about 3e-10, below every rule's ε) by
// turns: j%6 is 0 ordinary, 1 x zero, 2 x tiny, 3 y zero, 4 y tiny, 5 both
// tiny. An input shared by all slices (outer stride 0) stays ordinary.
func ruleData[T Float](rl ruleLayout, seed uint64) (View[T], View[T]) {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b9))
	mk := func(s [3]int) View[T] {
		d := make([]T, span(rl.l, s))
		for k := range d {
			d[k] = T(rng.NormFloat64())
		}
		return View[T]{Data: d, Layout: rl.l, OuterStride: s[0], LenStride: s[1], InnerStride: s[2]}
	}
	x, y := mk(rl.xs), mk(rl.ys)
	scaleSlice := func(v View[T], o, i int, f T) {
		if v.OuterStride == 0 && v.Outer > 1 {
			return
		}
		for k := 0; k < v.Len; k++ {
			v.Data[o*v.OuterStride+k*v.LenStride+i*v.InnerStride] *= f
		}
	}
	for o := 0; o < rl.l.Outer; o++ {
		for i := 0; i < rl.l.Inner; i++ {
			switch (o*rl.l.Inner + i) % 6 {
			case 1:
				scaleSlice(x, o, i, 0)
			case 2:
				scaleSlice(x, o, i, 1e-10)
			case 3:
				scaleSlice(y, o, i, 0)
			case 4:
				scaleSlice(y, o, i, 1e-10)
			case 5:
				scaleSlice(x, o, i, 1e-10)
				scaleSlice(y, o, i, 1e-10)
			}
		}
	}
	return x, y
}

// refGather reads slice (o, ·, i) of v by its strides.
func refGather[T Float](v View[T], o, i int) []float64 {
	s := make([]float64, v.Len)
	for k := range s {
		s[k] = float64(v.Data[o*v.OuterStride+k*v.LenStride+i*v.InnerStride])
	}
	return s
}

// TestEpsRulesAgainstFormulas holds Cosine and CosineGrad, under every
// rule and form, to refRule on every layout of ruleLayouts, and checks
// that the block finishing (Cosine) and the slice finishing (CosineGrad's
// value) give the same bits.
func TestEpsRulesAgainstFormulas(t *testing.T) {
	for _, rl := range ruleLayouts {
		for _, rule := range epsRules {
			t.Run(fmt.Sprintf("%s/%s/float32", rl.name, ruleName(rule)), func(t *testing.T) {
				testRuleFormulas[float32](t, rl, rule, 1e-5)
			})
			t.Run(fmt.Sprintf("%s/%s/float64", rl.name, ruleName(rule)), func(t *testing.T) {
				testRuleFormulas[float64](t, rl, rule, 1e-12)
			})
		}
	}
}

func testRuleFormulas[T Float](t *testing.T, rl ruleLayout, rule EpsRule, tol float64) {
	x, y := ruleData[T](rl, 41)
	l := rl.l
	eps := T(ruleEps(rule))
	upstream := randomSlice[T](l.Slices(), 42)
	for form := Cos; form <= SquaredOneMinusCos; form++ {
		out := make([]T, l.Slices())
		if err := Cosine(x, y, form, out, rule, eps); err != nil {
			t.Fatal(err)
		}
		value, dx, dy := make([]T, l.Slices()), make([]T, l.Size()), make([]T, l.Size())
		if err := CosineGrad(x, y, form, upstream, value, dx, dy, rule, eps); err != nil {
			t.Fatal(err)
		}
		for o := 0; o < l.Outer; o++ {
			for i := 0; i < l.Inner; i++ {
				j := o*l.Inner + i
				sl := refSlice{refGather(x, o, i), refGather(y, o, i), x.LenStride == 0, y.LenStride == 0}
				want := refRule(sl, rule, float64(eps), form, float64(upstream[j]))
				where := fmt.Sprintf("form %d slice (%d,%d)", form, o, i)
				vtol := tol * (math.Abs(refFormDerivative(form, want.value))*want.valueScale + math.Abs(want.value) + want.valueScale)
				if got := float64(out[j]); !(math.Abs(got-want.value) <= vtol) {
					t.Fatalf("%s: Cosine %v, formula %v", where, got, want.value)
				}
				if value[j] != out[j] {
					t.Fatalf("%s: CosineGrad's value %v differs from Cosine's %v", where, value[j], out[j])
				}
				checkRuleGrad(t, where+" dx", dx, l, o, i, sl.xb, want.dx, want.dxScale, tol)
				checkRuleGrad(t, where+" dy", dy, l, o, i, sl.yb, want.dy, want.dyScale, tol)
			}
		}
	}
}

// checkRuleGrad compares the C-ordered gradient of slice (o, ·, i) with
// the formula's; for a broadcast input, the sum over its copies.
func checkRuleGrad[T Float](t *testing.T, what string, grad []T, l Layout, o, i int, broadcast bool, want, scale []float64, tol float64) {
	t.Helper()
	got := make([]float64, l.Len)
	for k := range got {
		got[k] = float64(grad[o*l.Len*l.Inner+k*l.Inner+i])
	}
	if broadcast {
		var s float64
		for _, g := range got {
			s += g
		}
		got = []float64{s}
	}
	for k := range want {
		if !(math.Abs(got[k]-want[k]) <= tol*(scale[k]+math.Abs(want[k]))) {
			t.Fatalf("%s[%d]: got %v, formula %v (scale %v)", what, k, got[k], want[k], scale[k])
		}
	}
}

// Away from each rule's kink, FloorNorm's and AddSquared's gradients are
// the derivatives of their values. FloorNorm's ε here is large enough
// that one y is below it: dx is then still the derivative (y's clamp is a
// constant factor), while dy is torch's as-if-unclamped gradient, which is
// not, and is held to the formula by TestEpsRulesAgainstFormulas instead.
// AddSquared's is large enough to matter everywhere, a zero x included.
func TestEpsRuleGradsMatchFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(43, 44))
	l := Layout{Outer: 2, Len: 5, Inner: 3}
	for _, tc := range []struct {
		rule EpsRule
		eps  float64
	}{{FloorNorm, 0.3}, {AddSquared, 0.5}} {
		x, y := make([]float64, l.Size()), make([]float64, l.Size())
		for k := range x {
			x[k], y[k] = rng.NormFloat64(), rng.NormFloat64()
		}
		// Slice (0, 0) gets a short y: norm 0.1.
		short := []int{0, 3, 6, 9, 12}
		var n float64
		for _, k := range short {
			n += y[k] * y[k]
		}
		for _, k := range short {
			y[k] *= 0.1 / math.Sqrt(n)
		}
		if tc.rule == AddSquared {
			for _, k := range []int{1, 4, 7, 10, 13} { // slice (0, 1): x = 0
				x[k] = 0
			}
		}
		upstream := make([]float64, l.Slices())
		for k := range upstream {
			upstream[k] = rng.NormFloat64()
		}
		for form := Cos; form <= SquaredOneMinusCos; form++ {
			value := make([]float64, l.Slices())
			dx, dy := make([]float64, l.Size()), make([]float64, l.Size())
			if err := CosineGrad(Contiguous(x, l), Contiguous(y, l), form, upstream, value, dx, dy, tc.rule, tc.eps); err != nil {
				t.Fatal(err)
			}
			weighted := func() float64 {
				out := make([]float64, l.Slices())
				if err := Cosine(Contiguous(x, l), Contiguous(y, l), form, out, tc.rule, tc.eps); err != nil {
					t.Fatal(err)
				}
				var s float64
				for j := range out {
					s += out[j] * upstream[j]
				}
				return s
			}
			name := fmt.Sprintf("%s form %d", ruleName(tc.rule), form)
			assertClose(t, name+" dx", dx, numericGrad(x, weighted), 1e-6)
			fd := numericGrad(y, weighted)
			if tc.rule == FloorNorm {
				for _, k := range short {
					fd[k] = dy[k] // below ε: not a derivative, see above
				}
			}
			assertClose(t, name+" dy", dy, fd, 1e-6)
		}
	}
	// x of length 1 broadcast along the axis: the copies' gradients must
	// sum to d/dx, whichever way the rule counts the copies in ‖x‖.
	xb := []float64{0.7}
	yb := []float64{0.5, -1, 2, 0.25}
	lb := Layout{1, 4, 1}
	for _, rule := range []EpsRule{FloorNorm, AddSquared} {
		xv := View[float64]{Data: xb, Layout: lb}
		value, dx := make([]float64, 1), make([]float64, 4)
		if err := CosineGrad(xv, Contiguous(yb, lb), SquaredOneMinusCos, []float64{1}, value, dx, nil, rule, 0.5); err != nil {
			t.Fatal(err)
		}
		f := func() float64 {
			out := make([]float64, 1)
			if err := Cosine(xv, Contiguous(yb, lb), SquaredOneMinusCos, out, rule, 0.5); err != nil {
				t.Fatal(err)
			}
			return out[0]
		}
		assertClose(t, ruleName(rule)+" broadcast d/dx", []float64{dx[0] + dx[1] + dx[2] + dx[3]}, numericGrad(xb, f), 1e-6)
	}
}

// Under every rule, an inf or NaN element gives a NaN cosine and a NaN in
// the gradient of the input that holds it, on rows, columns and broadcast
// inputs alike; finite elements whose Σ² overflows T give 0, as under
// TensorFlow's rule.
func TestNonFiniteInputsEveryRule(t *testing.T) {
	inf, nan := math.Inf(1), math.NaN()
	rows := []struct {
		x, y []float64
		want float64 // NaN, or 0 for an overflowing sum
	}{
		{[]float64{inf, 1}, []float64{2, 1}, nan},
		{[]float64{-inf, 1}, []float64{0, 0}, nan},
		{[]float64{nan, 1}, []float64{1e-9, 0}, nan},
		{[]float64{1e200, 1e200}, []float64{1, 1}, 0},
		{[]float64{1, 2}, []float64{3, 4}, 11 / (math.Sqrt(5) * 5)},
	}
	var x, y []float64
	for _, r := range rows {
		x, y = append(x, r.x...), append(y, r.y...)
	}
	l := Layout{Outer: len(rows), Len: 2, Inner: 1}
	lt := Layout{Outer: 1, Len: 2, Inner: len(rows)}
	xt, yt := make([]float64, len(x)), make([]float64, len(y))
	for r := range rows {
		for k := range 2 {
			xt[k*len(rows)+r], yt[k*len(rows)+r] = x[2*r+k], y[2*r+k]
		}
	}
	check := func(what string, got, want float64) {
		t.Helper()
		if math.IsNaN(want) != math.IsNaN(got) || (!math.IsNaN(want) && math.Abs(got-want) > 1e-6) {
			t.Errorf("%s: got %v, want %v", what, got, want)
		}
	}
	ones := slices.Repeat([]float64{1}, len(rows))
	for _, rule := range epsRules {
		eps := ruleEps(rule)
		out, outT, value := make([]float64, len(rows)), make([]float64, len(rows)), make([]float64, len(rows))
		dx := make([]float64, len(x))
		if err := Cosine(Contiguous(x, l), Contiguous(y, l), Cos, out, rule, eps); err != nil {
			t.Fatal(err)
		}
		if err := Cosine(Contiguous(xt, lt), Contiguous(yt, lt), Cos, outT, rule, eps); err != nil {
			t.Fatal(err)
		}
		if err := CosineGrad(Contiguous(x, l), Contiguous(y, l), SquaredOneMinusCos, ones, value, dx, nil, rule, eps); err != nil {
			t.Fatal(err)
		}
		for r, row := range rows {
			name := fmt.Sprintf("%s row %d", ruleName(rule), r)
			check(name+" rows", out[r], row.want)
			check(name+" columns", outT[r], row.want)
			check(name+" CosineGrad value", value[r], refForm(SquaredOneMinusCos, row.want))
			if math.IsNaN(row.want) != math.IsNaN(dx[2*r]) {
				t.Errorf("%s: dx %v for value %v", name, dx[2*r:2*r+2], row.want)
			}
		}
		// float32 elements whose Σ² overflows float32.
		out32 := make([]float32, 1)
		l1 := Layout{1, 2, 1}
		if err := Cosine(Contiguous([]float32{1e20, 1e20}, l1), Contiguous([]float32{1, 1}, l1), Cos, out32, rule, float32(eps)); err != nil {
			t.Fatal(err)
		}
		check(ruleName(rule)+" float32 overflow", float64(out32[0]), 0)
		// [inf] broadcast along the axis.
		b := View[float64]{Data: []float64{inf}, Layout: Layout{1, 3, 1}}
		if err := Cosine(b, Contiguous([]float64{1, 2, 3}, b.Layout), Cos, out[:1], rule, eps); err != nil {
			t.Fatal(err)
		}
		check(ruleName(rule)+" broadcast inf", out[0], nan)
	}
}

// The rules tell apart a vector above and below ε, and the same data give
// different cosines under each: x = (1e-7, 0), y = (1, 0), ε = 1e-12.
func TestEpsRulesDiffer(t *testing.T) {
	l := Layout{1, 2, 1}
	want := map[EpsRule]float64{
		FloorSquared: 0.1,                                       // 1e-7 / √1e-12
		FloorNorm:    1,                                         // ‖x‖ = 1e-7 > ε
		AddSquared:   1e-7 / math.Sqrt((1e-14+1e-12)*(1+1e-12)), // ≈ 0.0995
	}
	for rule, w := range want {
		out := make([]float64, 1)
		if err := Cosine(Contiguous([]float64{1e-7, 0}, l), Contiguous([]float64{1, 0}, l), Cos, out, rule, 1e-12); err != nil {
			t.Fatal(err)
		}
		if math.Abs(out[0]-w) > 1e-15 {
			t.Errorf("%s: got %v, want %v", ruleName(rule), out[0], w)
		}
	}
}

func TestUnknownEpsRule(t *testing.T) {
	l := Layout{1, 2, 1}
	x := Contiguous([]float64{1, 2}, l)
	out := make([]float64, 1)
	for _, rule := range []EpsRule{-1, 3} {
		if err := Cosine(x, x, Cos, out, rule, 1e-12); err == nil || !strings.HasPrefix(err.Error(), "rule:") {
			t.Errorf("Cosine with rule %d: error %v", rule, err)
		}
		if err := CosineGrad(x, x, Cos, []float64{1}, out, nil, nil, rule, 1e-12); err == nil || !strings.HasPrefix(err.Error(), "rule:") {
			t.Errorf("CosineGrad with rule %d: error %v", rule, err)
		}
	}
}
