package cosloss

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// refCosine is the textbook formula in float64 with TensorFlow's ε floor,
// written independently of the kernels under test.
func refCosine(x, y []float64, eps float64) float64 {
	var d, xx, yy float64
	for k := range x {
		d += x[k] * y[k]
		xx += x[k] * x[k]
		yy += y[k] * y[k]
	}
	return d / math.Sqrt(math.Max(xx, eps)) / math.Sqrt(math.Max(yy, eps))
}

func TestCosineTable(t *testing.T) {
	eps := float32(DefaultEpsilon)
	tests := []struct {
		name string
		x, y []float32
		form Form
		want float64
	}{
		{"parallel", []float32{1, 1}, []float32{1, 1}, Cos, 1},
		{"opposite", []float32{1, 1}, []float32{-1, -1}, Cos, -1},
		{"orthogonal", []float32{0, 1}, []float32{1, 0}, Cos, 0},
		{"zero vector gives 0", []float32{0, 0}, []float32{1, 2}, Cos, 0},
		{"3-4-5", []float32{3, 4}, []float32{4, -3}, Cos, 0},
		{"seed example", []float32{1, 2}, []float32{2, 1}, Cos, 0.8},
		{"tf2 sign", []float32{1, 2}, []float32{2, 1}, NegCos, -0.8},
		{"one minus", []float32{1, 2}, []float32{2, 1}, OneMinusCos, 0.2},
		{"squared one minus", []float32{1, 2}, []float32{2, 1}, SquaredOneMinusCos, 0.04},
		{"float32 overflow scales to 0", []float32{1e20, 1e20}, []float32{1, 1}, Cos, 0},
		{"tiny vector is not unit length", []float32{1e-7, 0}, []float32{1, 0}, Cos, 0.1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := Layout{Outer: 1, Len: len(tc.x), Inner: 1}
			out := make([]float32, 1)
			if err := Cosine(Contiguous(tc.x, l), Contiguous(tc.y, l), tc.form, out, FloorSquared, eps); err != nil {
				t.Fatal(err)
			}
			if got := float64(out[0]); math.Abs(got-tc.want) > 1e-7 {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCosineAlongEveryAxis(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	shape := []int{3, 4, 5}
	data := func() []float64 {
		v := make([]float64, 60)
		for i := range v {
			v[i] = rng.NormFloat64()
		}
		return v
	}
	x, y := data(), data()
	for axis := range shape {
		l := Layout{Outer: prod(shape[:axis]), Len: shape[axis], Inner: prod(shape[axis+1:])}
		out := make([]float64, l.Slices())
		if err := Cosine(Contiguous(x, l), Contiguous(y, l), Cos, out, FloorSquared, DefaultEpsilon); err != nil {
			t.Fatal(err)
		}
		for o := 0; o < l.Outer; o++ {
			for i := 0; i < l.Inner; i++ {
				xs, ys := gather(x, l, o, i), gather(y, l, o, i)
				if want, got := refCosine(xs, ys, DefaultEpsilon), out[o*l.Inner+i]; math.Abs(got-want) > 1e-12 {
					t.Fatalf("axis %d slice (%d,%d): got %v want %v", axis, o, i, got, want)
				}
			}
		}
	}
}

func TestCosineBroadcastAndStrides(t *testing.T) {
	// y is one row broadcast over 4 rows (outer stride 0); x is every other
	// column of a 4×6 array (length stride 2).
	x := make([]float64, 24)
	for i := range x {
		x[i] = float64(i%7) - 3
	}
	y := []float64{1, -2, 0.5}
	xv := View[float64]{Data: x, Layout: Layout{4, 3, 1}, OuterStride: 6, LenStride: 2}
	yv := View[float64]{Data: y, Layout: Layout{4, 3, 1}, LenStride: 1}
	out := make([]float64, 4)
	if err := Cosine(xv, yv, Cos, out, FloorSquared, DefaultEpsilon); err != nil {
		t.Fatal(err)
	}
	for o := range 4 {
		xs := []float64{x[o*6], x[o*6+2], x[o*6+4]}
		if want := refCosine(xs, y, DefaultEpsilon); math.Abs(out[o]-want) > 1e-12 {
			t.Errorf("row %d: got %v want %v", o, out[o], want)
		}
	}
	// A zero stride along the reduced axis is an input of length 1 there:
	// TensorFlow normalizes [2] to [1] before broadcasting the product, so
	// the result is Σ x̂, not the cosine of x and [2, 2, 2].
	yv = View[float64]{Data: []float64{2}, Layout: Layout{4, 3, 1}}
	if err := Cosine(xv, yv, Cos, out, FloorSquared, DefaultEpsilon); err != nil {
		t.Fatal(err)
	}
	for o := range 4 {
		xs := []float64{x[o*6], x[o*6+2], x[o*6+4]}
		norm := math.Sqrt(xs[0]*xs[0] + xs[1]*xs[1] + xs[2]*xs[2])
		if want := (xs[0] + xs[1] + xs[2]) / norm; math.Abs(out[o]-want) > 1e-12 {
			t.Errorf("broadcast row %d: got %v want %v", o, out[o], want)
		}
	}
}

// A long float32 row must keep float64-level accuracy: a single float32
// accumulator loses about 1e-4 over a million elements.
func TestLongFloat32RowAccuracy(t *testing.T) {
	const n = 1 << 20
	rng := rand.New(rand.NewPCG(3, 4))
	x, y := make([]float32, n), make([]float32, n)
	x64, y64 := make([]float64, n), make([]float64, n)
	for i := range x {
		x[i] = float32(rng.Float64() + 0.5)
		y[i] = float32(rng.Float64() * 2)
		x64[i], y64[i] = float64(x[i]), float64(y[i])
	}
	l := Layout{1, n, 1}
	out := make([]float32, 1)
	if err := Cosine(Contiguous(x, l), Contiguous(y, l), Cos, out, FloorSquared, float32(DefaultEpsilon)); err != nil {
		t.Fatal(err)
	}
	want := refCosine(x64, y64, DefaultEpsilon)
	if rel := math.Abs(float64(out[0])-want) / want; rel > 1e-6 {
		t.Errorf("relative error %g > 1e-6 (got %v want %v)", rel, out[0], want)
	}
}

func TestCosineDistanceDoesNotNormalize(t *testing.T) {
	l := Layout{1, 2, 1}
	out := make([]float32, 1)
	if err := CosineDistance(Contiguous([]float32{2, 0}, l), Contiguous([]float32{3, 0}, l), out); err != nil {
		t.Fatal(err)
	}
	if out[0] != -5 {
		t.Errorf("got %v, want -5", out[0])
	}
}

func TestCheckRejectsBadViews(t *testing.T) {
	l := Layout{2, 3, 1}
	short := Contiguous(make([]float32, 5), l)
	good := Contiguous(make([]float32, 6), l)
	out := make([]float32, 2)
	if err := Cosine(short, good, Cos, out, FloorSquared, 0); err == nil {
		t.Error("short x accepted")
	}
	if err := Cosine(good, good, Cos, out[:1], FloorSquared, 0); err == nil {
		t.Error("short out accepted")
	}
	if err := Cosine(good, Contiguous(make([]float32, 6), Layout{3, 2, 1}), Cos, out, FloorSquared, 0); err == nil {
		t.Error("mismatched layouts accepted")
	}
	neg := good
	neg.LenStride = -1
	if err := Cosine(neg, good, Cos, out, FloorSquared, 0); err == nil {
		t.Error("negative stride accepted")
	}
	if err := Cosine(good, good, Form(9), out, FloorSquared, 0); err == nil {
		t.Error("unknown form accepted")
	}
}

func prod(dims []int) int {
	p := 1
	for _, d := range dims {
		p *= d
	}
	return p
}

// gather copies slice (o, ·, i) of a C-ordered array with layout l.
func gather(data []float64, l Layout, o, i int) []float64 {
	s := make([]float64, l.Len)
	for k := range s {
		s[k] = data[o*l.Len*l.Inner+k*l.Inner+i]
	}
	return s
}

func TestEmptyAxisGivesZeroSums(t *testing.T) {
	// Shape (3, 0, 2): Data is empty, yet the strides are not all zero.
	v := View[float32]{Layout: Layout{3, 0, 2}, OuterStride: 7, LenStride: 2, InnerStride: 1}
	out := make([]float32, 6)
	for form := Cos; form <= SquaredOneMinusCos; form++ {
		if err := Cosine(v, v, form, out, FloorSquared, 0); err != nil {
			t.Fatal(err)
		}
		for _, c := range out {
			if want := float32(form.apply(0)); c != want {
				t.Errorf("form %d: got %v, want %v", form, c, want)
			}
		}
	}
}

// TensorFlow normalizes a vector holding inf to NaN at that element
// (inf·rsqrt(inf) = inf·0), so the cosine is NaN; a NaN element gives NaN
// too. Finite elements whose Σ² overflows give 0. This holds on every
// path: contiguous rows, the finishing block, strided slices, float64
// elements above 1e154 (whose sum overflows without any inf) and broadcast.
func TestNonFiniteInputsGiveNaN(t *testing.T) {
	inf, nan := math.Inf(1), math.NaN()
	rows := []struct {
		x, y []float64
		want float64 // NaN, or the cosine
	}{
		{[]float64{inf, 1}, []float64{2, 1}, nan},
		{[]float64{-inf, 1}, []float64{0, 0}, nan},
		{[]float64{1, 1}, []float64{nan, 1}, nan},
		{[]float64{inf, 1}, []float64{-inf, 1}, nan},
		{[]float64{1e200, 1e200}, []float64{1, 1}, 0}, // float64 overflow, no inf
		{[]float64{1e200, inf}, []float64{1, 1}, nan},
		{[]float64{3, 4}, []float64{4, 3}, 0.96},
	}
	check := func(what string, got, want float64) {
		t.Helper()
		if math.IsNaN(want) != math.IsNaN(got) || (!math.IsNaN(want) && math.Abs(got-want) > 1e-6) {
			t.Errorf("%s: got %v, want %v", what, got, want)
		}
	}
	var x64, y64 []float64
	for _, r := range rows {
		x64, y64 = append(x64, r.x...), append(y64, r.y...)
	}
	l := Layout{Outer: len(rows), Len: 2, Inner: 1}
	out64 := make([]float64, len(rows))
	if err := Cosine(Contiguous(x64, l), Contiguous(y64, l), Cos, out64, FloorSquared, DefaultEpsilon); err != nil {
		t.Fatal(err)
	}
	x32, y32 := make([]float32, len(x64)), make([]float32, len(y64))
	for i := range x64 {
		x32[i], y32[i] = float32(x64[i]), float32(y64[i])
	}
	out32 := make([]float32, len(rows))
	if err := Cosine(Contiguous(x32, l), Contiguous(y32, l), Cos, out32, FloorSquared, float32(DefaultEpsilon)); err != nil {
		t.Fatal(err)
	}
	// The same rows as columns: the across-rows path, strided reads.
	lt := Layout{Outer: 1, Len: 2, Inner: len(rows)}
	xt, yt := make([]float64, len(x64)), make([]float64, len(y64))
	for r := range rows {
		for k := range 2 {
			xt[k*len(rows)+r], yt[k*len(rows)+r] = x64[2*r+k], y64[2*r+k]
		}
	}
	outT := make([]float64, len(rows))
	if err := Cosine(Contiguous(xt, lt), Contiguous(yt, lt), Cos, outT, FloorSquared, DefaultEpsilon); err != nil {
		t.Fatal(err)
	}
	grads := make([]float64, len(x64))
	value := make([]float64, len(rows))
	ones := slices.Repeat([]float64{1}, len(rows))
	if err := CosineGrad(Contiguous(x64, l), Contiguous(y64, l), Cos, ones, value, grads, nil, FloorSquared, DefaultEpsilon); err != nil {
		t.Fatal(err)
	}
	for r, row := range rows {
		check("float64 row", out64[r], row.want)
		check("columns", outT[r], row.want)
		check("CosineGrad value", value[r], row.want)
		if math.IsNaN(row.want) && !math.IsNaN(grads[2*r]) {
			t.Errorf("row %d: gradient %v for a NaN value", r, grads[2*r:2*r+2])
		}
		if math.Abs(row.x[0]) > 1e100 && !math.IsInf(row.x[1], 0) {
			continue // float32 has no such finite value
		}
		check("float32 row", float64(out32[r]), row.want)
	}
	// x = [inf] broadcast along the axis (LenStride 0).
	b := View[float64]{Data: []float64{inf}, Layout: Layout{1, 3, 1}}
	out := make([]float64, 1)
	if err := Cosine(b, Contiguous([]float64{1, 2, 3}, b.Layout), Cos, out, FloorSquared, DefaultEpsilon); err != nil {
		t.Fatal(err)
	}
	check("broadcast inf", out[0], nan)
}

// TensorFlow's Maximum gradient selects: a y below ε gets no gradient
// through its norm even when the dot product is NaN, so where x holds
// inf and y is zero, dy is NaN only where x is (TF 2.21: dx [nan, nan],
// dy [nan, 0]).
func TestGradientNaNsFollowTensorFlow(t *testing.T) {
	inf := math.Inf(1)
	l := Layout{1, 2, 1}
	value, dx, dy := make([]float64, 1), make([]float64, 2), make([]float64, 2)
	if err := CosineGrad(Contiguous([]float64{inf, 1}, l), Contiguous([]float64{0, 0}, l), NegCos,
		[]float64{1}, value, dx, dy, FloorSquared, DefaultEpsilon); err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(value[0]) || !math.IsNaN(dx[0]) || !math.IsNaN(dx[1]) || !math.IsNaN(dy[0]) || dy[1] != 0 {
		t.Errorf("value %v dx %v dy %v; want NaN, [NaN NaN], [NaN 0]", value, dx, dy)
	}
}
