package cosloss

import (
	"math"
	"testing"
)

func TestL2NormalizeTable(t *testing.T) {
	tests := []struct {
		name string
		x    []float32
		want []float32
	}{
		{"3-4", []float32{3, 4}, []float32{0.6, 0.8}},
		{"zero stays zero", []float32{0, 0}, []float32{0, 0}},
		{"below the epsilon floor", []float32{1e-7, 0}, []float32{0.1, 0}},
		{"negative", []float32{-2, 0, 0}, []float32{-1, 0, 0}},
		{"float32 overflow", []float32{1e20, 1e20}, []float32{0, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := make([]float32, len(tc.x))
			if err := L2Normalize(Contiguous(tc.x, Layout{1, len(tc.x), 1}), out, float32(DefaultEpsilon)); err != nil {
				t.Fatal(err)
			}
			for k := range out {
				if out[k] != tc.want[k] {
					t.Errorf("element %d: got %v want %v", k, out[k], tc.want[k])
				}
			}
		})
	}
}

func TestL2NormalizeFloat64DoesNotOverflow(t *testing.T) {
	out := make([]float64, 2)
	if err := L2Normalize(Contiguous([]float64{1e20, 1e20}, Layout{1, 2, 1}), out, DefaultEpsilon); err != nil {
		t.Fatal(err)
	}
	if math.Abs(out[0]-math.Sqrt2/2) > 1e-15 {
		t.Errorf("got %v", out)
	}
}

func TestL2NormalizeAlongFirstAxis(t *testing.T) {
	// [[3, 1], [4, 0]] normalized along axis 0: columns (3,4) and (1,0).
	x := []float64{3, 1, 4, 0}
	out := make([]float64, 4)
	if err := L2Normalize(Contiguous(x, Layout{1, 2, 2}), out, DefaultEpsilon); err != nil {
		t.Fatal(err)
	}
	want := []float64{0.6, 1, 0.8, 0}
	for k := range out {
		if math.Abs(out[k]-want[k]) > 1e-15 {
			t.Errorf("element %d: got %v want %v", k, out[k], want[k])
		}
	}
}
