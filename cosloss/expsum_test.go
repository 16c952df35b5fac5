package cosloss

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestExpSumBits holds every kernel set's expSum to the portable loop, bit
// for bit, over lengths around the vector widths, special values in every
// lane position and the ranges where expCanonical changes path.
func TestExpSumBits(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 13))
	specials := []float64{0, math.Copysign(0, -1), math.NaN(), math.Inf(1), math.Inf(-1),
		expOverflow, math.Nextafter(expOverflow, 1), expUnderflow, math.Nextafter(expUnderflow, -1),
		-708.39, -708.4, -709, -720, -744.5, -745.1, 709.7, 709.78, 1e-9, -1e-9, expNearZero,
		-expNearZero, math.Nextafter(expNearZero, 0), 0.5 * math.Ln2, -0.5 * math.Ln2, 1, -1, 40, -40,
		math.SmallestNonzeroFloat64, math.MaxFloat64, -math.MaxFloat64}
	draw := func() float64 {
		switch r.IntN(4) {
		case 0:
			return specials[r.IntN(len(specials))]
		case 1:
			return (r.Float64() - 0.5) * 1500
		case 2:
			return -r.Float64() * 40
		}
		return (r.Float64() - 0.5) * 1e-7
	}
	saved := active
	defer func() { active = saved }()
	for _, n := range []int{0, 1, 2, 7, 8, 9, 15, 16, 17, 23, 24, 31, 32, 33, 47, 63, 64, 65, 100, 257} {
		for trial := range 20 {
			x := make([]float64, n)
			for j := range x {
				x[j] = draw()
			}
			ms := []float64{0, -1.5, 3, math.Inf(-1)}
			m := ms[trial%len(ms)]
			want := append([]float64(nil), x...)
			wantSum := expSumPortable(want, m)
			for j, v := range want {
				if e := expCanonical(x[j] - m); math.Float64bits(e) != math.Float64bits(v) && !(e != e && v != v) {
					t.Fatalf("portable: element %d of %v − %v is %v, expCanonical says %v", j, x[j], m, v, e)
				}
			}
			for _, k := range kernelSets {
				active = k
				got := append([]float64(nil), x...)
				sum := expSum(got, m)
				if !sameBits1(sum, wantSum) {
					t.Fatalf("%s n=%d: sum %v, portable %v", k.name, n, sum, wantSum)
				}
				for j := range got {
					if !sameBits1(got[j], want[j]) {
						t.Fatalf("%s n=%d: element %d (x=%v, m=%v) is %v (%#x), portable %v (%#x)",
							k.name, n, j, x[j], m, got[j], math.Float64bits(got[j]), want[j], math.Float64bits(want[j]))
					}
				}
			}
		}
	}
}

func sameBits1(a, b float64) bool {
	return math.Float64bits(a) == math.Float64bits(b) || a != a && b != b
}
