package cosloss

import "fmt"

// Reduction is how weighted losses become one value, as in TF1's
// tf.compat.v1.losses.Reduction (Keras's AUTO and SUM_OVER_BATCH_SIZE map to
// SumOverBatchSize).
type Reduction int

const (
	// None keeps the elementwise weighted losses.
	None Reduction = iota
	// Sum is Σ w·l.
	Sum
	// Mean is Σ w·l / Σ w (TF1's MEAN, weights broadcast to the losses).
	Mean
	// SumOverBatchSize is Σ w·l / number of losses.
	SumOverBatchSize
	// SumByNonzeroWeights is Σ w·l / count(w ≠ 0), TF1's default.
	SumByNonzeroWeights
)

// Weighted writes losses[j]·w into out, where w is weights[0] if weights has
// one element and weights[j] otherwise.
func Weighted[T Float](losses, weights, out []T) error {
	if err := checkWeights(len(losses), len(weights)); err != nil {
		return err
	}
	if len(out) != len(losses) {
		return fmt.Errorf("out: want %d elements, got %d", len(losses), len(out))
	}
	for j, l := range losses {
		out[j] = l * weightAt(weights, j)
	}
	return nil
}

// Reduce returns the reduction r of losses·weights (weights as in Weighted),
// computed as TensorFlow does in T: the weighted sum divided by r's
// denominator, with div_no_nan's rule that a zero denominator gives 0.
// The sum is accumulated in float64 and rounded once.
func Reduce[T Float](losses, weights []T, r Reduction) (T, error) {
	if err := checkWeights(len(losses), len(weights)); err != nil {
		return 0, err
	}
	var total, weightSum float64
	nonzero := 0
	for j, l := range losses {
		w := weightAt(weights, j)
		total += float64(l * w)
		weightSum += float64(w)
		if w != 0 {
			nonzero++
		}
	}
	var denom T
	switch r {
	case Sum:
		return T(total), nil
	case Mean:
		denom = T(weightSum)
	case SumOverBatchSize:
		denom = T(len(losses))
	case SumByNonzeroWeights:
		denom = T(nonzero)
	default:
		return 0, fmt.Errorf("reduction: %d does not reduce to a scalar", r)
	}
	return DivNoNaN(T(total), denom), nil
}

// DivNoNaN is TensorFlow's div_no_nan: 0 when y is 0, whatever x is.
func DivNoNaN[T Float](x, y T) T {
	if y == 0 {
		return 0
	}
	return x / y
}

func weightAt[T Float](weights []T, j int) T {
	if len(weights) == 1 {
		return weights[0]
	}
	return weights[j]
}

func checkWeights(nlosses, nweights int) error {
	if nweights != 1 && nweights != nlosses {
		return fmt.Errorf("weights: want 1 or %d elements, got %d", nlosses, nweights)
	}
	return nil
}
