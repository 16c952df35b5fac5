package cosloss

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// ulps is how many float64 steps lie between a and b (both finite or equal).
func ulps(a, b float64) uint64 {
	if a == b || math.IsNaN(a) && math.IsNaN(b) {
		return 0
	}
	if math.IsNaN(a) || math.IsNaN(b) || math.IsInf(a, 0) || math.IsInf(b, 0) {
		return math.MaxUint64
	}
	ordered := func(x float64) int64 { // monotone in x, also across zero
		b := int64(math.Float64bits(x))
		if b < 0 {
			return math.MinInt64 - b
		}
		return b
	}
	d := ordered(a) - ordered(b)
	if d < 0 {
		d = -d
	}
	return uint64(d)
}

// Go's own math.Exp and math.Log are not the yardstick on their own: on
// amd64 (exp_amd64.s, log_amd64.s) math.Exp(-34.959546358483784) is
// 1.26 ulps from e^x, and math.Log misreads subnormal inputs
// (math.Log(1.444522010163312e-308) = -708.589 where ln x = -708.828)
// and math.Exp(709.678) is +Inf where e^x = 1.62e308. So
// a sample is held to the exact value (math/big, 256 bits) within 1 ulp,
// and a larger one to math.Exp and math.Log within 2 ulps (1 each).

const bigPrec = 256

// bigExp is bigExpOf for a float64.
func bigExp(x float64) *big.Float { return bigExpOf(new(big.Float).SetPrec(bigPrec).SetFloat64(x)) }

// bigLog is ln x to about bigPrec bits, by Newton's steps on e^y = x.
func bigLog(x float64) *big.Float {
	bx := new(big.Float).SetPrec(bigPrec).SetFloat64(x)
	y := math.Log(x)
	if x < 0x1p-1022 {
		y = math.Log(x*0x1p54) - 54*math.Ln2
	}
	by := new(big.Float).SetPrec(bigPrec).SetFloat64(y)
	two := new(big.Float).SetPrec(bigPrec).SetInt64(2)
	for range 4 {
		// y += 2(x − e^y)/(x + e^y)
		e := bigExpOf(by)
		num := new(big.Float).SetPrec(bigPrec).Sub(bx, e)
		den := new(big.Float).SetPrec(bigPrec).Add(bx, e)
		num.Quo(num, den)
		num.Mul(num, two)
		by.Add(by, num)
	}
	return by
}

// bigExpOf is e^x to bigPrec bits: the Taylor series of x/2^12, squared 12 times.
func bigExpOf(x *big.Float) *big.Float {
	y := new(big.Float).SetPrec(bigPrec).Set(x)
	y.SetMantExp(y, -12)
	sum := new(big.Float).SetPrec(bigPrec).SetInt64(1)
	term := new(big.Float).SetPrec(bigPrec).SetInt64(1)
	for n := int64(1); n < 60; n++ {
		term.Mul(term, y)
		term.Quo(term, new(big.Float).SetPrec(bigPrec).SetInt64(n))
		sum.Add(sum, term)
	}
	for range 12 {
		sum.Mul(sum, sum)
	}
	return sum
}

// ulpError is |got − exact| in units of got's last place.
func ulpError(got float64, exact *big.Float) float64 {
	if math.IsInf(got, 0) || got == 0 {
		f, _ := exact.Float64()
		if f == got {
			return 0
		}
		return math.Inf(1)
	}
	ulp := math.Nextafter(math.Abs(got), math.Inf(1)) - math.Abs(got)
	d := new(big.Float).SetPrec(bigPrec).SetFloat64(got)
	d.Sub(d, exact)
	e, _ := d.Float64()
	return math.Abs(e) / ulp
}

func TestExpCanonicalWithinOneUlp(t *testing.T) {
	onceForAllKernels(t)
	r := rand.New(rand.NewPCG(3, 4))
	inputs := func() []float64 {
		return []float64{
			r.Float64()*1460 - 750,  // the whole range, subnormal results and overflow included
			-r.ExpFloat64() * 20,    // the softmax's arguments, x − max ≤ 0
			r.NormFloat64() * 1e-6,  // near 0
			r.NormFloat64() * 1e-10, // at the 1 + x shortcut's edge
		}
	}
	for range 2000 {
		for _, x := range inputs() {
			if x > expOverflow || x < expUnderflow {
				continue
			}
			if e := ulpError(expCanonical(x), bigExp(x)); e >= 1 {
				t.Fatalf("expCanonical(%v) = %v is %.3f ulps from e^x", x, expCanonical(x), e)
			}
		}
	}
	for range 100000 {
		for _, x := range inputs() {
			if x > 709 {
				continue // math.Exp's amd64 assembly overflows early (+Inf at 709.68)
			}
			if got, want := expCanonical(x), math.Exp(x); ulps(got, want) > 2 {
				t.Fatalf("expCanonical(%v) = %v, math.Exp gives %v (%d ulps)", x, got, want, ulps(got, want))
			}
		}
	}
	for _, x := range []float64{0, math.Copysign(0, -1), 1, -1, 709.78, -745.13, -708.4, -708.3,
		expNearZero, -expNearZero, math.Ln2 / 2, -math.Ln2 / 2, -34.959546358483784} {
		if e := ulpError(expCanonical(x), bigExp(x)); e >= 1 {
			t.Errorf("expCanonical(%v) = %v is %.3f ulps from e^x", x, expCanonical(x), e)
		}
	}
	for _, x := range []float64{709.79, 710, -745.14, -746, math.Inf(-1)} {
		if got, want := expCanonical(x), math.Exp(x); got != want {
			t.Errorf("expCanonical(%v) = %v, want %v", x, got, want)
		}
	}
	if !math.IsInf(expCanonical(math.Inf(1)), 1) || !math.IsNaN(expCanonical(math.NaN())) {
		t.Error("expCanonical's special values differ from math.Exp's")
	}
}

func TestLogCanonicalWithinOneUlp(t *testing.T) {
	onceForAllKernels(t)
	r := rand.New(rand.NewPCG(5, 6))
	inputs := func() []float64 {
		return []float64{
			math.Float64frombits(r.Uint64() >> 1), // every positive float, subnormals included
			1 + r.Float64()*1e5,                   // sums of exponentials: 1 to N
			1 + r.NormFloat64()*1e-8,              // near 1
			r.Float64() * 2,
		}
	}
	for range 1000 {
		for _, x := range inputs() {
			if x == 1 || math.IsInf(x, 0) || math.IsNaN(x) || x == 0 {
				continue
			}
			if e := ulpError(logCanonical(x), bigLog(x)); e >= 1 {
				t.Fatalf("logCanonical(%v) = %v is %.3f ulps from ln x", x, logCanonical(x), e)
			}
		}
	}
	for range 100000 {
		for _, x := range inputs() {
			if x < 0x1p-1022 || math.IsNaN(x) {
				continue // math.Log misreads subnormals on amd64
			}
			if got, want := logCanonical(x), math.Log(x); ulps(got, want) > 2 {
				t.Fatalf("logCanonical(%v) = %v, math.Log gives %v (%d ulps)", x, got, want, ulps(got, want))
			}
		}
	}
	for _, x := range []float64{2, 0.5, math.Sqrt2, math.Sqrt2 / 2, math.Nextafter(math.Sqrt2, 0), math.E,
		math.MaxFloat64, math.SmallestNonzeroFloat64, 0x1p-1022, 1.444522010163312e-308} {
		if e := ulpError(logCanonical(x), bigLog(x)); e >= 1 {
			t.Errorf("logCanonical(%v) = %v is %.3f ulps from ln x", x, logCanonical(x), e)
		}
	}
	if logCanonical(1) != 0 || !math.IsInf(logCanonical(0), -1) || !math.IsNaN(logCanonical(-1)) ||
		!math.IsInf(logCanonical(math.Inf(1)), 1) || !math.IsNaN(logCanonical(math.NaN())) {
		t.Error("logCanonical's special values differ from math.Log's")
	}
}

// onceForAllKernels skips a test that does not depend on the kernel set
// after its run under the first one (TestMain runs every test per set).
func onceForAllKernels(t *testing.T) {
	t.Helper()
	if Kernel() != Kernels()[0] {
		t.Skip("independent of the kernel set: ran under", Kernels()[0])
	}
}
