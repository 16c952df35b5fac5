package cosloss

import (
	"math"
	"math/rand/v2"
	"testing"
)

// numericGrad is the central difference of f at v, one coordinate at a time.
func numericGrad(v []float64, f func() float64) []float64 {
	const h = 1e-6
	g := make([]float64, len(v))
	for k := range v {
		orig := v[k]
		v[k] = orig + h
		up := f()
		v[k] = orig - h
		down := f()
		v[k] = orig
		g[k] = (up - down) / (2 * h)
	}
	return g
}

func TestCosineGradMatchesFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	l := Layout{Outer: 2, Len: 5, Inner: 3}
	x, y := make([]float64, l.Size()), make([]float64, l.Size())
	for k := range x {
		x[k], y[k] = rng.NormFloat64(), rng.NormFloat64()
	}
	upstream := make([]float64, l.Slices())
	for k := range upstream {
		upstream[k] = rng.NormFloat64()
	}
	for form := Cos; form <= SquaredOneMinusCos; form++ {
		value := make([]float64, l.Slices())
		dx, dy := make([]float64, l.Size()), make([]float64, l.Size())
		if err := CosineGrad(Contiguous(x, l), Contiguous(y, l), form, upstream, value, dx, dy, FloorSquared, DefaultEpsilon); err != nil {
			t.Fatal(err)
		}
		weighted := func() float64 {
			out := make([]float64, l.Slices())
			if err := Cosine(Contiguous(x, l), Contiguous(y, l), form, out, FloorSquared, DefaultEpsilon); err != nil {
				t.Fatal(err)
			}
			var s float64
			for j := range out {
				s += out[j] * upstream[j]
			}
			return s
		}
		assertClose(t, "dx", dx, numericGrad(x, weighted), 1e-6)
		assertClose(t, "dy", dy, numericGrad(y, weighted), 1e-6)
	}
}

func TestCosineGradBroadcastAlongAxis(t *testing.T) {
	// x has length 1 along the axis, broadcast against y's 4: the gradient
	// the kernel writes for its copies must sum to the true d/dx.
	x := []float64{0.7}
	y := []float64{0.5, -1, 2, 0.25}
	l := Layout{1, 4, 1}
	xv := View[float64]{Data: x, Layout: l}
	value, dx := make([]float64, 1), make([]float64, 4)
	for _, form := range []Form{Cos, SquaredOneMinusCos} {
		if err := CosineGrad(xv, Contiguous(y, l), form, []float64{1}, value, dx, nil, FloorSquared, DefaultEpsilon); err != nil {
			t.Fatal(err)
		}
		f := func() float64 {
			out := make([]float64, 1)
			if err := Cosine(xv, Contiguous(y, l), form, out, FloorSquared, DefaultEpsilon); err != nil {
				t.Fatal(err)
			}
			return out[0]
		}
		assertClose(t, "d/dx", []float64{dx[0] + dx[1] + dx[2] + dx[3]}, numericGrad(x, f), 1e-6)
	}
	// Below the ε floor x is scaled, not normalized: c = x·1e6·Σŷ, linear in x.
	tiny := View[float64]{Data: []float64{3e-7}, Layout: l}
	if err := CosineGrad(tiny, Contiguous(y, l), Cos, []float64{1}, value, dx, nil, FloorSquared, DefaultEpsilon); err != nil {
		t.Fatal(err)
	}
	sumUnitY := (0.5 - 1 + 2 + 0.25) / math.Sqrt(0.25+1+4+0.0625)
	assertClose(t, "value", value, []float64{0.3 * sumUnitY}, 1e-9)
	assertClose(t, "d/dx", []float64{dx[0] + dx[1] + dx[2] + dx[3]}, []float64{1e6 * sumUnitY}, 1e-9)
}

// The spec's TV11 (TF 1.15 sign, so the Cos form).
func TestCosineGradSpecVectors(t *testing.T) {
	tests := []struct {
		name          string
		yTrue, yPred  []float64
		value         float64
		wantPredGrads []float64
	}{
		{"45 degrees", []float64{1, 0}, []float64{1, 1}, 0.70710677, []float64{0.35355339, -0.35355339}},
		{"zero prediction", []float64{1, 0}, []float64{0, 0}, 0, []float64{1e6, 0}},
		{"zero label", []float64{0, 0}, []float64{1, 1}, 0, []float64{0, 0}},
		{"equal", []float64{0.3, -2}, []float64{0.3, -2}, 1, []float64{0, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := Layout{1, 2, 1}
			value, dy := make([]float64, 1), make([]float64, 2)
			err := CosineGrad(Contiguous(tc.yTrue, l), Contiguous(tc.yPred, l), Cos, []float64{1}, value, nil, dy, FloorSquared, DefaultEpsilon)
			if err != nil {
				t.Fatal(err)
			}
			assertClose(t, "value", value, []float64{tc.value}, 1e-7)
			assertClose(t, "d/dy_pred", dy, tc.wantPredGrads, 1e-7)
		})
	}
}

func TestL2NormalizeGrad(t *testing.T) {
	tests := []struct {
		x, g, want []float64
	}{
		{[]float64{3, 4}, []float64{1, 0}, []float64{0.128, -0.096}},
		{[]float64{1e-7, 0}, []float64{1, 1}, []float64{1e6, 1e6}},
		{[]float64{0, 0}, []float64{2, -1}, []float64{2e6, -1e6}},
	}
	for _, tc := range tests {
		out, dx := make([]float64, 2), make([]float64, 2)
		if err := L2NormalizeGrad(Contiguous(tc.x, Layout{1, 2, 1}), tc.g, out, dx, DefaultEpsilon); err != nil {
			t.Fatal(err)
		}
		assertClose(t, "dx", dx, tc.want, 1e-9)
	}
	// Random data along a middle axis against finite differences.
	rng := rand.New(rand.NewPCG(9, 10))
	l := Layout{2, 4, 3}
	x, g := make([]float64, l.Size()), make([]float64, l.Size())
	for k := range x {
		x[k], g[k] = rng.NormFloat64(), rng.NormFloat64()
	}
	out, dx := make([]float64, l.Size()), make([]float64, l.Size())
	if err := L2NormalizeGrad(Contiguous(x, l), g, out, dx, DefaultEpsilon); err != nil {
		t.Fatal(err)
	}
	weighted := func() float64 {
		o := make([]float64, l.Size())
		if err := L2Normalize(Contiguous(x, l), o, DefaultEpsilon); err != nil {
			t.Fatal(err)
		}
		var s float64
		for k := range o {
			s += o[k] * g[k]
		}
		return s
	}
	assertClose(t, "dx", dx, numericGrad(x, weighted), 1e-6)
}

func TestCosineDistanceGrad(t *testing.T) {
	l := Layout{1, 2, 1}
	value, dx, dy := make([]float32, 1), make([]float32, 2), make([]float32, 2)
	x, y := []float32{0.6, 0.8}, []float32{0.8, 0.6}
	if err := CosineDistanceGrad(Contiguous(x, l), Contiguous(y, l), []float32{1}, value, dx, dy); err != nil {
		t.Fatal(err)
	}
	if dy[0] != -0.6 || dy[1] != -0.8 || dx[0] != -0.8 || dx[1] != -0.6 {
		t.Errorf("dx %v dy %v", dx, dy)
	}
}

func assertClose(t *testing.T, what string, got, want []float64, rel float64) {
	t.Helper()
	for k := range want {
		if math.Abs(got[k]-want[k]) > rel*(1+math.Abs(want[k])) {
			t.Errorf("%s[%d]: got %v want %v", what, k, got[k], want[k])
		}
	}
}

func TestCosineGradEmptyAxis(t *testing.T) {
	// Shape (2, 0): Data is empty and nothing is written but the values.
	v := View[float64]{Layout: Layout{2, 0, 1}, OuterStride: 3, LenStride: 1}
	value := make([]float64, 2)
	if err := CosineGrad(v, v, OneMinusCos, []float64{1, 1}, value, []float64{}, []float64{}, FloorSquared, DefaultEpsilon); err != nil {
		t.Fatal(err)
	}
	if value[0] != 1 || value[1] != 1 {
		t.Errorf("values %v, want [1 1]", value)
	}
}
