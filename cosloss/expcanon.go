package cosloss

import "math"

// exp and log for the contrastive losses' softmax work, the same bits on
// every CPU and in every build. math.Exp and math.Log are not: on amd64
// Go's math.Exp runs assembly that takes another path when the CPU has FMA,
// and the compiler may fuse a·b + c into one FMA instruction on some
// architectures (arm64, ppc64, s390x) or GOAMD64 levels. Here every step is
// +, −, ×, ÷ or a bit operation, and every product that is added to
// something is converted to float64 explicitly, which the Go specification
// says rounds it and so forbids the fusion.
//
// Both follow the classic reductions of fdlibm (Sun Microsystems' freely
// distributable libm, e_exp.c and e_log.c), whose stated error is below
// 1 ulp; expcanon_test.go checks them against math.Exp and math.Log.

const (
	ln2Hi = 6.93147180369123816490e-01 // ln 2's leading 32 bits: k·ln2Hi is exact for |k| < 2^20
	ln2Lo = 1.90821492927058770002e-10 // ln 2 − ln2Hi
	log2e = 1.44269504088896338700e+00

	// The minimax coefficients of fdlibm's exp remainder, R(r²) ≈ r·(e^r+1)/(e^r−1) − 2.
	expP1 = 1.66666666666666019037e-01
	expP2 = -2.77777777770155933842e-03
	expP3 = 6.61375632143793436117e-05
	expP4 = -1.65339022054652515390e-06
	expP5 = 4.13813679705723846039e-08

	expOverflow  = 7.09782712893383973096e+02  // above: +Inf
	expUnderflow = -7.45133219101941108420e+02 // below: 0
	expNearZero  = 1.0 / (1 << 28)             // |x| below: 1 + x is exact to the ulp

	// fdlibm's log series in s = f/(2+f): log(1+f) = f − f²/2 + s·(f²/2 + R).
	logL1 = 6.666666666666735130e-01
	logL2 = 3.999999999940941908e-01
	logL3 = 2.857142874366239149e-01
	logL4 = 2.222219843214978396e-01
	logL5 = 1.818357216161805012e-01
	logL6 = 1.531383769920937332e-01
	logL7 = 1.479819860511658591e-01
)

// expCanonical is e^x, within 1 ulp, the same bits on every CPU.
func expCanonical(x float64) float64 {
	switch {
	case x != x || x == math.Inf(1):
		return x
	case x > expOverflow:
		return math.Inf(1)
	case x < expUnderflow:
		return 0
	case -expNearZero < x && x < expNearZero:
		return 1 + x
	}
	// x = k·ln 2 + r with |r| ≤ ln 2 / 2, r carried as hi − lo.
	var k int
	if x < 0 {
		k = int(float64(log2e*x) - 0.5)
	} else {
		k = int(float64(log2e*x) + 0.5)
	}
	fk := float64(k)
	hi := x - float64(fk*ln2Hi) // exact: fk·ln2Hi is, and so is the difference (Sterbenz)
	lo := float64(fk * ln2Lo)
	r := hi - lo
	t := float64(r * r)
	p := float64(t * expP5)
	p = float64(t * (expP4 + p))
	p = float64(t * (expP3 + p))
	p = float64(t * (expP2 + p))
	p = float64(t * (expP1 + p))
	c := r - p
	y := 1 - ((lo - float64(r*c)/(2-c)) - hi)
	return timesPow2(y, k)
}

// timesPow2 is y·2^k rounded once, for y in [0.5, 2] and k in [−1100, 1100].
func timesPow2(y float64, k int) float64 {
	if k > 1023 {
		y *= 0x1p1023 // exact: y·2^1023 is still finite for the y that do not overflow
		k -= 1023
	}
	if k < -1021 {
		// A subnormal or tiny result: scale into the normal range exactly,
		// then let one multiplication by the smallest power round it once.
		y *= pow2(k + 1074)
		return y * 0x1p-1074
	}
	return y * pow2(k)
}

// pow2 is 2^k for k in [−1022, 1023], built from its bits.
func pow2(k int) float64 { return math.Float64frombits(uint64(k+1023) << 52) }

// logCanonical is the natural logarithm of x, within 1 ulp, the same bits
// on every CPU.
func logCanonical(x float64) float64 {
	switch {
	case x != x || x == math.Inf(1):
		return x
	case x < 0:
		return math.NaN()
	case x == 0:
		return math.Inf(-1)
	}
	// x = 2^k·m with m in [√2/2, √2), from the bits (subnormals scaled first).
	bits := math.Float64bits(x)
	k := 0
	if bits>>52 == 0 {
		x *= 0x1p54 // exact
		bits = math.Float64bits(x)
		k = -54
	}
	k += int(bits>>52) - 1023
	m := math.Float64frombits(bits&(1<<52-1) | 1023<<52) // in [1, 2)
	if m >= math.Sqrt2 {
		m /= 2 // exact
		k++
	}
	return logReduced(m, k)
}

// logReduced is k·ln 2 + log(m) for m in [√2/2, √2).
func logReduced(m float64, k int) float64 {
	f := m - 1 // exact (Sterbenz)
	fk := float64(k)
	s := f / (2 + f)
	s2 := float64(s * s)
	s4 := float64(s2 * s2)
	t1 := float64(s4 * logL7)
	t1 = float64(s4 * (logL5 + t1))
	t1 = float64(s4 * (logL3 + t1))
	t1 = float64(s2 * (logL1 + t1))
	t2 := float64(s4 * logL6)
	t2 = float64(s4 * (logL4 + t2))
	t2 = float64(s4 * (logL2 + t2))
	r := t1 + t2
	hfsq := float64(0.5 * float64(f*f))
	return float64(fk*ln2Hi) - ((hfsq - (float64(s*(hfsq+r)) + float64(fk*ln2Lo))) - f)
}
