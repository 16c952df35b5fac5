package cosloss

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// fma32Big is a·b + c rounded once to float32, through exact rationals.
func fma32Big(a, b, c float32) float32 {
	x := new(big.Rat).Mul(new(big.Rat).SetFloat64(float64(a)), new(big.Rat).SetFloat64(float64(b)))
	x.Add(x, new(big.Rat).SetFloat64(float64(c)))
	f, _ := x.Float32()
	return f
}

func TestFma32RoundsOnce(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		a := float32(r.NormFloat64())
		b := float32(r.NormFloat64())
		// c near -a·b makes the sum cancel; c near a float32 tie of the
		// product makes double rounding show.
		var c float32
		switch r.IntN(3) {
		case 0:
			c = float32(r.NormFloat64())
		case 1:
			c = -a * b * (1 + float32(r.NormFloat64())*1e-6)
		case 2:
			c = float32(r.NormFloat64()) * 1e-9
		}
		got, want := fma32(a, b, c), fma32Big(a, b, c)
		if math.Float32bits(got) != math.Float32bits(want) {
			t.Fatalf("fma32(%v, %v, %v) = %v, want %v", a, b, c, got, want)
		}
	}
}

func TestFma32Specials(t *testing.T) {
	inf := float32(math.Inf(1))
	max := float32(math.MaxFloat32)
	for _, tc := range []struct{ a, b, c, want float32 }{
		{inf, 1, 1, inf},
		{max, 2, 0, inf},
		{max, 2, -inf, float32(math.Inf(-1))},
		{1, 1, -1, 0},
		{1e-30, 1e-30, 0, 0},
		{1e-20, 1e-20, 0, 1e-40},
	} {
		got := fma32(tc.a, tc.b, tc.c)
		if math.Float32bits(got) != math.Float32bits(tc.want) {
			t.Errorf("fma32(%v, %v, %v) = %v, want %v", tc.a, tc.b, tc.c, got, tc.want)
		}
	}
	if got := fma32(inf, 0, 1); !math.IsNaN(float64(got)) {
		t.Errorf("fma32(inf, 0, 1) = %v, want NaN", got)
	}
}

// bigFMA is a·b + c rounded once to float64, via exact rationals.
func bigFMA(a, b, c float64) float64 {
	x := new(big.Rat).Mul(new(big.Rat).SetFloat64(a), new(big.Rat).SetFloat64(b))
	x.Add(x, new(big.Rat).SetFloat64(c))
	f, _ := x.Float64()
	return f
}
