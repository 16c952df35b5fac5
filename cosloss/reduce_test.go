package cosloss

import (
	"math"
	"testing"
)

// The spec's TV7: losses [[0],[1],[0.04]] with weights [[1],[0],[2]].
func TestReduceTV7(t *testing.T) {
	losses := []float32{0, 1, 0.039999962}
	weights := []float32{1, 0, 2}
	tests := []struct {
		r    Reduction
		want float64
	}{
		{Sum, 0.07999992370605469},
		{Mean, 0.026666641235351562},
		{SumOverBatchSize, 0.026666641235351562},
		{SumByNonzeroWeights, 0.039999961853027344},
	}
	for _, tc := range tests {
		got, err := Reduce(losses, weights, tc.r)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(float64(got)-tc.want) > 1e-7*math.Abs(tc.want) {
			t.Errorf("reduction %d: got %v want %v", tc.r, got, tc.want)
		}
	}
}

func TestReduceZeroDenominatorGivesZero(t *testing.T) {
	for _, r := range []Reduction{Mean, SumByNonzeroWeights, SumOverBatchSize} {
		got, err := Reduce([]float64{}, []float64{1}, r)
		if err != nil || got != 0 {
			t.Errorf("empty, reduction %d: %v, %v", r, got, err)
		}
		got, err = Reduce([]float64{math.Inf(1), 2}, []float64{0}, r)
		if r != SumOverBatchSize && (err != nil || got != 0) {
			t.Errorf("zero weights, reduction %d: %v, %v", r, got, err)
		}
	}
}

func TestWeightedBroadcastsScalar(t *testing.T) {
	out := make([]float64, 3)
	if err := Weighted([]float64{1, 2, 3}, []float64{2}, out); err != nil {
		t.Fatal(err)
	}
	if out[0] != 2 || out[1] != 4 || out[2] != 6 {
		t.Errorf("got %v", out)
	}
	if err := Weighted([]float64{1, 2, 3}, []float64{1, 2}, out); err == nil {
		t.Error("two weights for three losses accepted")
	}
	if _, err := Reduce([]float64{1}, []float64{1}, None); err == nil {
		t.Error("None accepted as a scalar reduction")
	}
}
